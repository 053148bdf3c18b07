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


def perturb_batch_norm(est, seed=0):
    """``est`` with every batch-norm scale (some negative), running mean and
    variance far from 1 and 0, so that a misplaced one shows."""
    rng = np.random.RandomState(seed)
    for scale, mean, var in zip(
        est.batch_norm_scales_, est.batch_norm_means_, est.batch_norm_vars_
    ):
        F = scale.shape[0]
        scale[...] = rng.uniform(0.5, 2, F) * np.where(np.arange(F) % 2, -1, 1)
        mean[...] = rng.normal(0, 0.5, F)
        var[...] = rng.uniform(0.05, 3, F)
    return est


def spread_logits(est, X):
    """``est`` with its output layer scaled so that its logits on ``X`` vary
    by about 2 across the samples: a barely fitted network's probabilities
    hardly differ from one sample to the next, and a parity test of them
    would hardly tell two graphs apart."""
    spread = est._logits(X).std(axis=0).max()
    est.coefs_[-1] *= 2.0 / max(spread, 1e-12)
    return est
