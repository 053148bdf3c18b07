"""Which optional extra of ``pyproject.toml`` brings which importable module.

Used wherever a missing optional package must be named to the user: the test
suite skips what needs an absent extra with a reason naming it, and discovery
leaves out public modules whose extra is not installed.
"""

import importlib.util

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
