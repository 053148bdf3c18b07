"""float32 in, float32 all the way; float64 stays float64.

Parameters, optimizer state, every intermediate array of a training step,
gradients and all prediction outputs keep the input's floating dtype.
"""

import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sklearn_xcnn import CNNClassifier
from sklearn_xcnn._core._network import build_spec, forward, init_params, loss_and_grad

DTYPES = [np.float32, np.float64]


def _float_arrays(obj):
    """Every floating ndarray inside nested tuples/lists."""
    if isinstance(obj, np.ndarray):
        return [obj] if np.issubdtype(obj.dtype, np.floating) else []
    if isinstance(obj, list | tuple):
        return [a for item in obj for a in _float_arrays(item)]
    return []


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("engine", ["im2col", "scipy"])
@pytest.mark.parametrize("pooling", ["max", "mean", None])
def test_training_step_keeps_dtype(dtype, engine, pooling):
    rng = np.random.RandomState(0)
    spec = build_spec(
        (9, 9, 2), (3, 2), 3, 1, 2, pooling, (4,), "tanh", 3, "softmax", engine
    )
    params = init_params(spec, rng, dtype)
    X = rng.normal(size=(5, 9, 9, 2)).astype(dtype)
    Y = np.eye(3, dtype=dtype)[[0, 1, 2, 0, 1]]
    sw = rng.uniform(0.5, 2, size=5).astype(dtype)
    logits, caches = forward(params, X, spec, keep_cache=True)
    assert logits.dtype == dtype
    inner = _float_arrays(caches)
    assert inner and all(a.dtype == dtype for a in inner)
    loss, grads = loss_and_grad(params, X, Y, spec, 1e-3, sw)
    assert np.isfinite(loss)
    assert [g.dtype for g in grads] == [dtype] * len(params)
    # the same step in float64 (the reference) agrees to float32 rounding
    as64 = [p.astype(np.float64) for p in params]
    ref_loss, ref_grads = loss_and_grad(
        as64,
        X.astype(np.float64),
        Y.astype(np.float64),
        spec,
        1e-3,
        sw.astype(np.float64),
    )
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-5)
    scale = max(np.abs(g).max() for g in ref_grads)
    for g, ref in zip(grads, ref_grads):
        np.testing.assert_allclose(g, ref, rtol=1e-4, atol=1e-5 * scale)


@contextmanager
def _short_fit_warnings(solver):
    """What a 2- or 3-iteration fit at the defaults must warn: L-BFGS stops at
    max_iter unconverged (a ConvergenceWarning); adam and sgd at the default
    cosine schedule run its whole span in those epochs, which ends without a
    warning by design (issue 21)."""
    if solver == "lbfgs":
        with pytest.warns(ConvergenceWarning):
            yield
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            yield


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_fit_and_predict_keep_dtype(digits, dtype, solver):
    X, y = digits
    X = X.astype(dtype)
    clf = CNNClassifier(n_filters=(3, 2), hidden_units=8, solver=solver, max_iter=3)
    with _short_fit_warnings(solver):
        clf.fit(X, y)
    fitted = clf.filters_ + clf.filter_intercepts_ + clf.coefs_ + clf.intercepts_
    assert all(p.dtype == dtype for p in fitted)
    if solver == "adam":
        assert clf._optimizer.m.dtype == clf._optimizer.v.dtype == dtype
    elif solver == "sgd":
        assert clf._optimizer.velocity.dtype == dtype
    assert clf.predict_proba(X).dtype == dtype
    assert clf.predict_log_proba(X).dtype == dtype
    assert clf.decision_function(X).dtype == dtype


def test_partial_fit_keeps_float32(digits):
    X, y = digits
    X = X.astype(np.float32)
    clf = CNNClassifier(n_filters=2, hidden_units=4, random_state=0)
    for _ in range(2):
        clf.partial_fit(X, y, classes=np.unique(y))
    assert all(p.dtype == np.float32 for p in clf._params())
    assert clf._optimizer.m.dtype == np.float32


@pytest.mark.parametrize("n_classes", [2, 3])
def test_float32_probabilities(digits, n_classes):
    X, y = digits
    mask = y < n_classes
    X32 = X[mask].astype(np.float32)
    clf = CNNClassifier(n_filters=2, hidden_units=4, max_iter=2, random_state=0)
    with _short_fit_warnings("adam"):
        clf.fit(X32, y[mask])
    proba = clf.predict_proba(X32)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    # a model fitted on float64 predicts float32 input in float32
    clf64 = CNNClassifier(n_filters=2, hidden_units=4, max_iter=2, random_state=0)
    with _short_fit_warnings("adam"):
        clf64.fit(X[mask], y[mask])
    assert clf64.predict_proba(X32).dtype == np.float32
    np.testing.assert_allclose(
        clf64.predict_proba(X32), clf64.predict_proba(X[mask]), rtol=1e-4, atol=1e-6
    )
