"""Numerical stability: huge, zero and constant inputs, diverging learning rates,
extremely confident outputs. Nothing may come out as NaN or inf."""

import warnings

import numpy as np
import pytest
from scipy.special import expit, log_softmax
from sklearn.exceptions import ConvergenceWarning

from sklearn_xcnn import CNNClassifier, DivergenceError
from sklearn_xcnn._core._loss import log_loss_and_delta

N = 40


def _data(n_classes=2, scale=1.0, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(size=(N, 16))
    y = np.arange(N) % n_classes
    X[np.arange(N), y] += 1.0  # a learnable signal
    return X * scale, y


def _fit(X, y, **params):
    defaults = {"n_filters": 2, "hidden_units": 4, "max_iter": 20, "random_state": 0}
    clf = CNNClassifier(**{**defaults, **params})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


def _assert_all_finite(clf, X):
    assert np.isfinite(clf.loss_)
    assert all(np.all(np.isfinite(p)) for p in clf._params())
    proba = clf.predict_proba(X)
    assert np.all(np.isfinite(proba)) and np.all(proba > 0)
    assert np.all(np.isfinite(clf.predict_log_proba(X)))
    assert np.all(np.isfinite(clf.decision_function(X)))
    return proba


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("scale", [1e8, 1e-8])
def test_extreme_input_magnitudes(solver, scale):
    X, y = _data(scale=scale)
    if solver == "sgd" and scale > 1:
        # plain SGD on inputs of 1e8 takes steps of that size: it stops with
        # the clear error (and nothing non-finite left behind), or fits
        try:
            clf = _fit(X, y, solver=solver)
        except DivergenceError as exc:
            assert "scaling X" in str(exc)
            return
    else:
        clf = _fit(X, y, solver=solver)
    proba = _assert_all_finite(clf, X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("value", [0.0, 1.0, -3.5])
@pytest.mark.parametrize("pooling", ["max", "mean", None])
def test_constant_images(value, pooling):
    X, y = np.full((N, 16), value), np.arange(N) % 3
    clf = _fit(X, y, pooling=pooling)
    proba = _assert_all_finite(clf, X)
    # identical images get identical probabilities
    np.testing.assert_array_equal(proba, np.broadcast_to(proba[0], proba.shape))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_learning_rate_too_large_raises_divergence_error(solver):
    X, y = _data()
    lr = {"sgd": 1e6, "adam": 1e150}[solver]
    clf = CNNClassifier(
        n_filters=2, hidden_units=4, solver=solver, learning_rate_init=lr,
        max_iter=50, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow on the way
        with pytest.raises(DivergenceError, match="smaller learning_rate_init") as info:
            clf.fit(X, y)
    assert isinstance(info.value, ValueError)
    assert f"it is {lr}" in str(info.value)
    assert not hasattr(clf, "coefs_")  # no NaN weights are left behind


def _confident(clf, factor):
    """``clf`` with the output layer scaled: logits of order ``factor``."""
    clf.coefs_[-1] = clf.coefs_[-1] * factor
    clf.intercepts_[-1] = clf.intercepts_[-1] * factor
    return clf


@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extremely_confident_outputs(target, dtype):
    X, y = _data(n_classes=3)
    if target == "binary":
        y = y % 2
    params = {}
    if target == "multilabel":
        y = np.c_[y == 0, y == 1, y == 2].astype(int)
        # every row needs a label the model is sure of: a fit that learned
        # all labels (Adam's 20 epochs do not, for three sigmoids)
        params = {"solver": "lbfgs", "max_iter": 200}
    clf = _confident(_fit(X, y, **params), 1e6)
    X = X.astype(dtype)
    scores = clf.decision_function(X)
    assert np.abs(scores).max() > 1e4  # the outputs really are extreme
    proba = _assert_all_finite(clf, X)
    assert proba.dtype == dtype
    if target != "multilabel":
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    # the most confident class gets probability 1 (to rounding), not NaN
    assert np.all(proba.max(axis=1) > 0.99)
    log_proba = clf.predict_log_proba(X)
    assert log_proba.min() >= np.log(np.finfo(dtype).tiny)


@pytest.mark.parametrize("magnitude", [1e4, 1e150, 1e300])
def test_log_loss_of_huge_logits_is_finite_and_exact(magnitude):
    z = np.array([[magnitude], [-magnitude], [magnitude], [-magnitude]])
    Y = np.array([[1.0], [1.0], [0.0], [0.0]])
    loss, delta = log_loss_and_delta(z, Y, None, "logistic")
    # right: ~0 loss; wrong: loss equal to the magnitude of the logit
    assert loss == pytest.approx(2 * magnitude / 4, rel=1e-12)
    np.testing.assert_allclose(delta[:, 0], (expit(z[:, 0]) - Y[:, 0]) / 4)

    z = np.array([[magnitude, -magnitude, 0.0], [0.0, magnitude, -magnitude]])
    Y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    loss, delta = log_loss_and_delta(z, Y, np.array([1.0, 3.0]), "softmax")
    expected = -(Y * log_softmax(z, axis=1)).sum(axis=1) @ [1.0, 3.0] / 4
    assert np.isfinite(loss) and loss == pytest.approx(expected, rel=1e-12)
    assert np.all(np.isfinite(delta)) and np.abs(delta).max() <= 1.0
