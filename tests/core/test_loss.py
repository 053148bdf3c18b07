"""The losses against plain definitions: the log loss against
scipy.special, the squared error against loops and finite differences."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import log_expit, log_softmax, softmax

from sklearn_xcnn._core._loss import (
    LOSSES,
    log_loss_and_delta,
    squared_error_and_delta,
)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("scale", [1.0, 1e4])  # 1e4: exp overflows unshifted
def test_softmax_loss_and_delta(weighted, scale):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(7, 4)) * scale
    Y = np.eye(4)[rng.integers(4, size=7)]
    sw = rng.uniform(0.5, 2, size=7) if weighted else None
    loss, delta = log_loss_and_delta(logits, Y, sw, "softmax")
    per_sample = -(Y * log_softmax(logits, axis=1)).sum(axis=1)
    w = np.ones(7) if sw is None else sw
    assert np.isfinite(loss)
    assert_allclose(loss, per_sample @ w / w.sum(), rtol=1e-12)
    expected = (softmax(logits, axis=1) - Y) * w[:, None] / w.sum()
    assert_allclose(delta, expected, rtol=1e-10, atol=1e-15)


def test_logistic_loss():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(6, 3)) * 50
    Y = (rng.random((6, 3)) > 0.5).astype(float)
    loss, _ = log_loss_and_delta(logits, Y, None, "logistic")
    expected = -(Y * log_expit(logits) + (1 - Y) * log_expit(-logits)).sum(1).mean()
    assert_allclose(loss, expected, rtol=1e-12)


@pytest.mark.parametrize("out_activation", ["softmax", "logistic"])
def test_float32_delta_stays_float32(out_activation):
    logits = np.zeros((3, 2), dtype=np.float32)
    Y = np.eye(2, dtype=np.float32)[[0, 1, 0]]
    _, delta = log_loss_and_delta(logits, Y, None, out_activation)
    assert delta.dtype == np.float32


# ------------------------------------------------------------ squared error
def _plain_half_mse(logits, Y, sample_weight=None):
    """0.5 * mean over samples (weighted) and outputs of (z - y)**2, by loops."""
    n, k = Y.shape
    w = np.ones(n) if sample_weight is None else sample_weight
    total = 0.0
    for i in range(n):
        for j in range(k):
            total += w[i] * (logits[i, j] - Y[i, j]) ** 2
    return 0.5 * total / (w.sum() * k)


@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_squared_error_against_plain_definition(n_outputs, weighted):
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(7, n_outputs)) * 3
    Y = rng.normal(size=(7, n_outputs))
    sw = rng.uniform(0.5, 2, size=7) if weighted else None
    loss, delta = squared_error_and_delta(logits.copy(), Y, sw, "identity")
    assert_allclose(loss, _plain_half_mse(logits, Y, sw), rtol=1e-12)
    # the gradient by central differences of the plain definition
    eps = 1e-6
    numeric = np.empty_like(logits)
    for index in np.ndindex(*logits.shape):
        step = np.zeros_like(logits)
        step[index] = eps
        up = _plain_half_mse(logits + step, Y, sw)
        down = _plain_half_mse(logits - step, Y, sw)
        numeric[index] = (up - down) / (2 * eps)
    assert_allclose(delta, numeric, rtol=1e-7, atol=1e-10)


def test_squared_error_matches_mlp_regressor_definition():
    """MLPRegressor's loss, 0.5 * mean((y - y_pred)**2) over all entries,
    computed with sklearn.metrics."""
    from sklearn.metrics import mean_squared_error

    rng = np.random.default_rng(3)
    logits, Y = rng.normal(size=(9, 2)), rng.normal(size=(9, 2))
    loss, _ = squared_error_and_delta(logits, Y, None)
    assert_allclose(loss, 0.5 * mean_squared_error(Y, logits), rtol=1e-12)


def test_squared_error_weights_act_as_repeated_rows():
    rng = np.random.default_rng(4)
    logits, Y = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    counts = np.array([0, 1, 3, 2, 1])
    weighted, delta = squared_error_and_delta(logits.copy(), Y, counts * 1.0)
    rows = np.repeat(np.arange(5), counts)
    repeated, delta_rep = squared_error_and_delta(logits[rows].copy(), Y[rows], None)
    assert_allclose(weighted, repeated, rtol=1e-12)
    # the gradient of a row is the sum of the gradients of its copies
    summed = np.zeros_like(delta)
    np.add.at(summed, rows, delta_rep)
    assert_allclose(delta, summed, rtol=1e-12, atol=1e-15)
    assert_array_equal(delta[0], 0.0)  # a zero weight contributes nothing


def test_squared_error_float32_stays_float32():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(6, 2)).astype(np.float32)
    Y = rng.normal(size=(6, 2)).astype(np.float32)
    sw = rng.uniform(0.5, 2, size=6).astype(np.float32)
    loss, delta = squared_error_and_delta(logits.copy(), Y, sw)
    assert delta.dtype == np.float32
    expected = _plain_half_mse(logits.astype(float), Y.astype(float), sw.astype(float))
    assert_allclose(loss, expected, rtol=1e-6)


def test_losses_registry_names_both_losses():
    assert LOSSES["squared_error"] is squared_error_and_delta
    assert LOSSES["log_loss"] is log_loss_and_delta
