"""Test configuration shared by the test suite and the doctests.

Doctests that need an optional extra which is not installed are skipped with
a reason naming the extra (``sklearn_xcnn.utils._optional``), as the tests
in ``tests/`` skip themselves through ``tests.conftest.needs``: the README's
test command passes on a machine with any subset of the extras.
"""

import os

import pytest
from _pytest.doctest import DoctestItem, DoctestModule
from _pytest.reports import CollectReport

# scikit-learn's array-API estimator checks run only when SciPy's array-API
# support is switched on, which must happen before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

from sklearn_xcnn.utils._optional import (  # noqa: E402
    MODULE_NEEDS,
    first_missing,
    missing_reason,
    source_needs,
)

try:
    import matplotlib
except ImportError:  # plotting is an optional extra
    matplotlib = None
else:
    matplotlib.use("Agg")


@pytest.hookimpl(tryfirst=True)
def pytest_make_collect_report(collector):
    """Skip, with the extra named, the doctests of a module that cannot be
    imported without an optional extra."""
    if not isinstance(collector, DoctestModule):
        return None
    path = collector.path.as_posix()
    for module, modules in MODULE_NEEDS.items():
        part = module.replace(".", "/") + "/"
        missing = first_missing(modules) if part in path else None
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
        missing = first_missing(source_needs(source))
        if missing:
            item.add_marker(pytest.mark.skip(reason=missing_reason(missing)))


def pytest_configure(config):
    # CI runs every test; deselect these locally with -m "not slow"
    config.addinivalue_line(
        "markers", "slow: runs the README's or a page's code as written (minutes)"
    )
