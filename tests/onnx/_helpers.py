"""Shared helpers of the ONNX tests: export, check, run, compare.

Without the ``onnx`` extra this module, like the test modules that import
it, skips itself (pytest imports it to look for doctests too), so a missing
extra never fails collection.
"""

import numpy as np

from ..conftest import fit_quietly, needs  # noqa: F401  (for the tests here)

onnx = needs("onnx")
ort = needs("onnxruntime")
skl2onnx = needs("skl2onnx")

import sklearn_xcnn.onnx  # noqa: E402, F401  (registers the converters)

TOL = 1e-5


def export(model, X, options=None, **kwargs):
    """``skl2onnx.to_onnx`` (the issue's one-call path), checked in full."""
    onx = skl2onnx.to_onnx(model, X[:1], options=options, **kwargs)
    onnx.checker.check_model(onx, full_check=True)
    return onx


def run(onx, X, optimize=True):
    """Outputs of ``onx`` on ``X`` in onnxruntime's CPU provider, by name;
    ``optimize=False`` turns its graph optimizations (node fusions) off."""
    options = ort.SessionOptions()
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(
        onx.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {session.get_inputs()[0].name: X})))


def assert_classifier_matches(model, X, outputs):
    """ONNX ``label``/``probabilities`` (tensor) against predict/predict_proba."""
    np.testing.assert_array_equal(outputs["label"], model.predict(X))
    np.testing.assert_allclose(
        outputs["probabilities"], model.predict_proba(X), rtol=TOL, atol=TOL
    )


def assert_regressor_matches(model, X, outputs):
    """ONNX ``variable`` (n, n_outputs) against predict ((n,) for 1-D y)."""
    expected = model.predict(X)
    np.testing.assert_allclose(
        outputs["variable"], expected.reshape(len(X), -1), rtol=TOL, atol=TOL
    )


def no_zipmap(model):
    """skl2onnx options that turn the ZipMap of ``model`` off."""
    return {id(model): {"zipmap": False}}


def images(n, shape, seed=0, dtype=np.float32):
    """``n`` random images of ``shape`` (H, W, C) as flat rows in [0, 1]."""
    rng = np.random.RandomState(seed)
    return rng.uniform(size=(n, int(np.prod(shape)))).astype(dtype)
