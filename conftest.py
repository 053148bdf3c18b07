"""Test configuration shared by the test suite and the doctests.

Doctests that need an optional extra which is not installed are skipped with
a reason naming the extra (``sklearn_xcnn.utils._optional``), as the tests
in ``tests/`` skip themselves through ``tests.conftest.needs``: the README's
test command passes on a machine with any subset of the extras.
"""

import os
import re

import pytest
from _pytest.doctest import DoctestItem, DoctestModule
from _pytest.reports import CollectReport

# scikit-learn's array-API estimator checks run only when SciPy's array-API
# support is switched on, which must happen before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

from sklearn_xcnn.utils._optional import (  # noqa: E402
    EXTRAS,
    is_installed,
    missing_reason,
)

try:
    import matplotlib
except ImportError:  # plotting is an optional extra
    matplotlib = None
else:
    matplotlib.use("Agg")

# modules of the package that import an optional package at import time
_MODULE_NEEDS = {"sklearn_xcnn/onnx/": ("skl2onnx", "onnx", "onnxruntime")}
_IMPORT = re.compile(r"^\s*(?:>>>\s*)?(?:import|from)\s+([A-Za-z_][\w.]*)", re.M)
# a doctest that draws needs matplotlib even if it imports nothing from it
_DRAWS = re.compile(r"Display\b|\.plot\(|pyplot")


def _doctest_needs(source):
    """Optional top-level modules the doctest ``source`` imports or uses."""
    needs = {name.split(".")[0] for name in _IMPORT.findall(source)}
    if "sklearn_xcnn.onnx" in source:
        needs.update(_MODULE_NEEDS["sklearn_xcnn/onnx/"])
    if _DRAWS.search(source):
        needs.add("matplotlib")
    return sorted(name for name in needs if name in EXTRAS)


def _first_missing(modules):
    return next((m for m in modules if not is_installed(m)), None)


@pytest.hookimpl(tryfirst=True)
def pytest_make_collect_report(collector):
    """Skip, with the extra named, the doctests of a module that cannot be
    imported without an optional extra."""
    if not isinstance(collector, DoctestModule):
        return None
    path = collector.path.as_posix()
    for part, modules in _MODULE_NEEDS.items():
        missing = _first_missing(modules) if part in path else None
        if missing:
            reason = f"Skipped: {missing_reason(missing)}"
            return CollectReport(
                collector.nodeid, "skipped", (str(collector.path), 0, reason), []
            )
    return None


def pytest_collection_modifyitems(config, items):
    """Skip the doctests (docstrings and ``.rst`` pages) that use an optional
    extra which is not installed."""
    for item in items:
        if not isinstance(item, DoctestItem):
            continue
        source = "\n".join(example.source for example in item.dtest.examples)
        missing = _first_missing(_doctest_needs(source))
        if missing:
            item.add_marker(pytest.mark.skip(reason=missing_reason(missing)))
