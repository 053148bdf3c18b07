"""The taps path of stride-1 correlation with one-row or one-column kernels
(one product per tap on the input's grid) against loops, finite differences
and the patch-matrix path."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_xcnn._core import _taps
from sklearn_xcnn._core._conv import correlate_backward, correlate_forward
from sklearn_xcnn._core._taps import taps_backward, taps_forward, use_taps

SHAPES = [
    # (n, H, W, C), (F, kr, kc)
    ((3, 1, 20, 32), (5, 1, 8)),
    ((2, 1, 9, 40), (7, 1, 3)),
    ((2, 3, 7, 33), (4, 3, 1)),  # a kernel one column wide, several rows
    ((1, 1, 5, 32), (3, 1, 5)),  # the kernel spans the whole series
]


def _loops(x, w):
    """``out[n, i, j, f] = sum_{p, q, c} x[n, i + p, j + q, c] * w[f, c, p, q]``."""
    n, H, W, C = x.shape
    F, _, kr, kc = w.shape
    out = np.zeros((n, H - kr + 1, W - kc + 1, F))
    for i in range(H - kr + 1):
        for j in range(W - kc + 1):
            window = x[:, i : i + kr, j : j + kc, :]  # (n, kr, kc, C)
            out[:, i, j] = np.einsum("npqc,fcpq->nf", window, w)
    return out


def _draw(x_shape, w_shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape)
    w = rng.normal(size=(w_shape[0], x_shape[3], *w_shape[1:]))
    return x, w


@pytest.mark.parametrize(("x_shape", "w_shape"), SHAPES)
def test_forward_matches_loops(x_shape, w_shape):
    x, w = _draw(x_shape, w_shape)
    expected = _loops(x, w)
    for keep in (True, False):
        out, _ = taps_forward(x, w, keep_cache=keep)
        assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_groups_match(monkeypatch):
    """The forward pass in groups of images (a grid that stays in cache)
    gives the same maps as in one group."""
    x, w = _draw((7, 1, 30, 32), (4, 1, 5))
    monkeypatch.setattr(_taps, "GRID_ENTRIES", 7 * 30 * 4)  # 7 images
    whole, _ = taps_forward(x, w)
    monkeypatch.setattr(_taps, "GRID_ENTRIES", 2 * 30 * 4)  # 2 images
    grouped, _ = taps_forward(x, w)
    assert_allclose(grouped, whole, rtol=1e-14, atol=1e-14)


def check_finite_differences(correlate, x, w, dout, dx, dw, seed=3):
    """Central differences of ``sum(correlate(x, w) * dout)`` (float64) at
    six random entries of ``x`` and of ``w`` against ``dx`` and ``dw``."""

    def loss(x_, w_):
        return float((correlate(x_, w_) * dout).sum())

    eps, rng = 1e-6, np.random.default_rng(seed)
    for grad, arr, is_x in ((dx, x, True), (dw, w, False)):
        for _ in range(6):
            idx = tuple(rng.integers(s) for s in arr.shape)
            plus, minus = arr.copy(), arr.copy()
            plus[idx] += eps
            minus[idx] -= eps
            if is_x:
                numeric = (loss(plus, w) - loss(minus, w)) / (2 * eps)
            else:
                numeric = (loss(x, plus) - loss(x, minus)) / (2 * eps)
            assert abs(numeric - grad[idx]) <= 1e-6 * max(1.0, abs(numeric))


@pytest.mark.parametrize(("x_shape", "w_shape"), SHAPES[:3])
def test_gradients_match_finite_differences(x_shape, w_shape):
    x, w = _draw(x_shape, w_shape, seed=1)
    out, kept = taps_forward(x, w)
    dout = np.random.default_rng(2).normal(size=out.shape)
    dx, dw = taps_backward(dout, kept, w, need_dx=True)
    _, dw_only = taps_backward(dout, kept, w, need_dx=False)
    assert np.array_equal(dw_only, dw)

    check_finite_differences(lambda x_, w_: taps_forward(x_, w_)[0], x, w, dout, dx, dw)


@pytest.mark.parametrize(("x_shape", "w_shape"), SHAPES)
def test_engine_dispatch_matches_patch_matrix(x_shape, w_shape, monkeypatch):
    """correlate_forward/backward take the taps path for one-row or
    one-column kernels on many channels (by pairs of taps for a series, see
    test_pairs.py), and give what the patch-matrix path gives (float64,
    1e-12)."""
    x, w = _draw(x_shape, w_shape, seed=4)
    assert use_taps(x.shape, w.shape, (1, 1), (1, 1), None)
    out, cache = correlate_forward(x, w, (1, 1), "im2col")
    assert cache[0] == ("pairs" if x_shape[1] == w_shape[1] == 1 else "taps")
    dout = np.random.default_rng(5).normal(size=out.shape)
    dx, dw = correlate_backward(dout, cache)
    monkeypatch.setattr(_taps, "TAPS_MIN_CHANNELS", 10**9)
    ref, ref_cache = correlate_forward(x, w, (1, 1), "im2col")
    assert ref_cache[0] == "im2col"
    ref_dx, ref_dw = correlate_backward(dout, ref_cache)
    for ours, theirs in ((out, ref), (dx, ref_dx), (dw, ref_dw)):
        assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_float32_stays_float32():
    x, w = _draw((2, 1, 12, 32), (4, 1, 3))
    x, w = x.astype(np.float32), w.astype(np.float32)
    out, cache = correlate_forward(x, w, (1, 1), "im2col")
    dx, dw = correlate_backward(out, cache)
    assert out.dtype == dx.dtype == dw.dtype == np.float32


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "stride", "dilation", "pool_order"),
    [
        ((2, 1, 12, 8), (4, 1, 3), (1, 1), (1, 1), None),  # few channels
        ((2, 1, 12, 32), (4, 1, 3), (1, 2), (1, 1), None),  # strided
        ((2, 1, 12, 32), (4, 1, 3), (1, 1), (1, 2), None),  # dilated
        ((2, 1, 12, 32), (4, 1, 3), (1, 1), (1, 1), (1, 2)),  # pool order
        ((2, 1, 12, 32), (4, 1, 1), (1, 1), (1, 1), None),  # one tap
        ((2, 6, 6, 32), (4, 3, 3), (1, 1), (1, 1), None),  # an image kernel
    ],
)
def test_other_convolutions_keep_the_patch_matrix(
    x_shape, w_shape, stride, dilation, pool_order
):
    w_full = (w_shape[0], x_shape[3], *w_shape[1:])
    assert not use_taps(x_shape, w_full, stride, dilation, pool_order)


def test_when_blas_returns_a_copy(monkeypatch):
    """A BLAS wrapper that cannot write in place hands back a new array: the
    taps' products are written into the grid and the gradient instead."""
    real = _taps.get_blas_funcs

    def copying(name, arrays):
        gemm = real(name, arrays)
        return lambda *args, **kwargs: gemm(*args, **{**kwargs, "overwrite_c": 0})

    x, w = _draw((2, 1, 10, 32), (3, 1, 4), seed=6)
    out, kept = taps_forward(x, w)
    dout = np.random.default_rng(7).normal(size=out.shape)
    dx, _ = taps_backward(dout, kept, w, need_dx=True)
    monkeypatch.setattr(_taps, "get_blas_funcs", copying)
    out_copy, _ = taps_forward(x, w)
    dx_copy, _ = taps_backward(dout, kept, w, need_dx=True)
    assert_allclose(out_copy, _loops(x, w), rtol=1e-12, atol=1e-12)
    assert_allclose(dx_copy, dx, rtol=1e-12, atol=1e-12)
