"""Test configuration shared by the test suite and the doctests."""

import importlib.util
import os

# scikit-learn's array-API estimator checks run only when SciPy's array-API
# support is switched on, which must happen before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

try:
    import matplotlib
except ImportError:  # plotting is an optional extra
    matplotlib = None
else:
    matplotlib.use("Agg")

# The ONNX export needs the optional "onnx" extra (skl2onnx, onnx,
# onnxruntime); without it, its module and docs page are not doctested (the
# tests in tests/onnx skip themselves).
if any(
    importlib.util.find_spec(name) is None
    for name in ("skl2onnx", "onnx", "onnxruntime")
):
    collect_ignore_glob = ["sklearn_xcnn/onnx/*", "docs/deploying.rst"]


def pytest_configure(config):
    # CI runs every test; deselect these locally with -m "not slow"
    config.addinivalue_line(
        "markers", "slow: runs the README's or a page's code as written (minutes)"
    )
