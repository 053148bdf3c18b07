"""Which optional extra of ``pyproject.toml`` brings which importable module.

Used wherever a missing optional package must be named to the user: the test
suite skips what needs an absent extra with a reason naming it, and discovery
leaves out public modules whose extra is not installed.
"""

import importlib.util
import re

# top-level module -> the extra that installs it (``pip install -e ".[extra]"``)
EXTRAS = {
    "matplotlib": "plot",
    "tqdm": "progress",
    "skops": "persistence",
    "dask": "distributed",
    "distributed": "distributed",
    "dask_ml": "distributed",
    "skl2onnx": "onnx",
    "onnx": "onnx",
    "onnxruntime": "onnx",
    # needed by the test suite only
    "pandas": "test",
    "hypothesis": "test",
    "numpydoc": "test",
}

# package modules that import an optional package when they are imported
MODULE_NEEDS = {"sklearn_xcnn.onnx": ("skl2onnx", "onnx", "onnxruntime")}
_IMPORT = re.compile(r"^\s*(?:>>>\s*)?(?:import|from)\s+([A-Za-z_][\w.]*)", re.M)
# code that draws needs matplotlib even when it imports nothing from it
_DRAWS = re.compile(r"Display\b|\.plot\(|pyplot")


def is_installed(module):
    """Whether the top-level package of ``module`` (a dotted name) can be imported."""
    return importlib.util.find_spec(module.split(".")[0]) is not None


def missing_reason(module):
    """Why something needing ``module`` cannot run: the module and its extra.

    Examples
    --------
    >>> from sklearn_xcnn.utils._optional import missing_reason
    >>> print(missing_reason("onnxruntime.capi"))
    needs onnxruntime, from the 'onnx' extra: pip install -e ".[onnx]"
    """
    top = module.split(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return f"needs {top}, which is not installed"
    return f'needs {top}, from the {extra!r} extra: pip install -e ".[{extra}]"'


def source_needs(source):
    """The optional top-level modules that the Python ``source`` needs.

    Those it imports, those of the package modules it uses that import one
    (:data:`MODULE_NEEDS`), and matplotlib when it draws (a ``Display``,
    ``.plot(`` or pyplot). Used to skip doctests whose extra is missing.

    Examples
    --------
    >>> from sklearn_xcnn.utils._optional import source_needs
    >>> source_needs(">>> import skops.io as sio\\n>>> FilterDisplay.from_estimator(c)")
    ['matplotlib', 'skops']
    """
    needs = {name.split(".")[0] for name in _IMPORT.findall(source)}
    for module, modules in MODULE_NEEDS.items():
        if module in source:
            needs.update(modules)
    if _DRAWS.search(source):
        needs.add("matplotlib")
    return sorted(name for name in needs if name in EXTRAS)


def first_missing(modules):
    """The first of ``modules`` that is not installed, or None."""
    return next((m for m in modules if not is_installed(m)), None)
