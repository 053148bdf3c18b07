"""The log loss written with plain NumPy against scipy.special."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import log_expit, log_softmax, softmax

from sklearn_xcnn._core._loss import log_loss_and_delta


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
