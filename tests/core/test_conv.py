"""Correlation engines against scipy.signal.correlate2d and finite differences."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from numpy.testing import assert_allclose
from scipy.signal import correlate2d

from sklearn_xcnn._core import _conv, _gemm, _taps
from sklearn_xcnn._core._conv import (
    ENGINES,
    choose_engine,
    conv_output_size,
    correlate_backward,
    correlate_forward,
)
from sklearn_xcnn._core._norm import Spread
from sklearn_xcnn._core._pool import from_pool_order


def _reference(x, w, stride):
    """Loop over images and filters with scipy.signal.correlate2d."""
    n, _, _, C = x.shape
    F = w.shape[0]
    maps = []
    for i in range(n):
        per_filter = []
        for f in range(F):
            full = sum(
                correlate2d(x[i, :, :, c], w[f, c], mode="valid") for c in range(C)
            )
            per_filter.append(full[:: stride[0], :: stride[1]])
        maps.append(np.stack(per_filter, axis=-1))
    return np.stack(maps)


SHAPES = [
    # (n, H, W, C), (F, kr, kc), stride
    ((2, 5, 5, 1), (1, 3, 3), (1, 1)),
    ((3, 9, 8, 2), (4, 3, 2), (2, 1)),
    ((2, 7, 10, 3), (2, 2, 4), (2, 3)),
    ((1, 4, 4, 1), (3, 4, 4), (1, 1)),
    ((2, 1, 12, 1), (2, 1, 3), (1, 2)),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("x_shape", "w_shape", "stride"), SHAPES)
def test_forward_matches_correlate2d(engine, x_shape, w_shape, stride):
    rng = np.random.default_rng(0)
    x = rng.normal(size=x_shape)
    w = rng.normal(size=(w_shape[0], x_shape[3], *w_shape[1:]))
    out, _ = correlate_forward(x, w, stride, engine)
    expected = _reference(x, w, stride)
    assert out.shape == (
        x_shape[0],
        conv_output_size(x_shape[1], w_shape[1], stride[0]),
        conv_output_size(x_shape[2], w_shape[2], stride[1]),
        w_shape[0],
    )
    assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("x_shape", "w_shape", "stride"), SHAPES)
def test_backward_matches_finite_differences(x_shape, w_shape, stride):
    """d/dx and d/dw of sum(dout * correlate(x, w)) for both engines."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=x_shape)
    w = rng.normal(size=(w_shape[0], x_shape[3], *w_shape[1:]))
    out, _ = correlate_forward(x, w, stride, "im2col")
    dout = rng.normal(size=out.shape)

    def objective(x_, w_):
        return float((correlate_forward(x_, w_, stride, "im2col")[0] * dout).sum())

    def numeric(array, func, h=1e-6):
        grad = np.empty_like(array)
        for idx in np.ndindex(array.shape):
            old = array[idx]
            array[idx] = old + h
            plus = func()
            array[idx] = old - h
            minus = func()
            array[idx] = old
            grad[idx] = (plus - minus) / (2 * h)
        return grad

    dx_num = numeric(x, lambda: objective(x, w))
    dw_num = numeric(w, lambda: objective(x, w))
    for engine in ENGINES:
        _, cache = correlate_forward(x, w, stride, engine)
        dx, dw = correlate_backward(dout, cache, need_dx=True)
        assert_allclose(dx, dx_num, rtol=1e-6, atol=1e-8)
        assert_allclose(dw, dw_num, rtol=1e-6, atol=1e-8)
        none, dw_only = correlate_backward(dout, cache, need_dx=False)
        assert none is None
        assert_allclose(dw_only, dw)


def test_filters_are_not_flipped():
    x = np.zeros((1, 3, 3, 1))
    x[0, 0, 0, 0] = 1.0  # top-left pixel
    w = np.arange(9.0).reshape(1, 1, 3, 3)
    for engine in ENGINES:
        out, _ = correlate_forward(x, w, (1, 1), engine)
        # correlation multiplies x[0, 0] with w[0, 0] (= 0); convolution would
        # have used w[2, 2] (= 8)
        assert out[0, 0, 0, 0] == 0.0


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 6, 2)).astype(np.float32)
    w = rng.normal(size=(3, 2, 3, 3)).astype(np.float32)
    for engine in ENGINES:
        out, cache = correlate_forward(x, w, (1, 1), engine)
        dx, dw = correlate_backward(np.ones_like(out), cache)
        assert out.dtype == dx.dtype == dw.dtype == np.float32


def test_unknown_engine():
    with pytest.raises(ValueError, match="unknown correlation engine 'fft'"):
        correlate_forward(np.zeros((1, 3, 3, 1)), np.zeros((1, 1, 2, 2)), (1, 1), "fft")


def test_choose_engine():
    assert choose_engine((28, 28, 1), (3, 3)) == "im2col"
    assert choose_engine((128, 128, 1), (15, 15)) == "scipy"


def _input_gradient_loops(dout, x_shape, w, stride):
    """dx[n, i*sr + p, j*sc + q, c] += dout[n, i, j, f] * w[f, c, p, q]."""
    dx = np.zeros(x_shape)
    n, Ho, Wo, F = dout.shape
    _, C, kr, kc = w.shape
    for s, i, j, p, q in np.ndindex(n, Ho, Wo, kr, kc):
        dx[s, i * stride[0] + p, j * stride[1] + q] += dout[s, i, j] @ w[:, :, p, q]
    return dx


@pytest.mark.parametrize("pool", [None, (2, 2), (3, 2)])
@pytest.mark.parametrize(
    ("x_shape", "w_shape", "stride"),
    [((2, 7, 6, 3), (4, 3, 2), (1, 1)), ((2, 8, 7, 2), (3, 2, 3), (2, 1))],
)
def test_input_gradient_matches_loops_in_either_order(x_shape, w_shape, stride, pool):
    """Stride 1 adds each offset's product in place on the input's grid,
    other strides add slabs; either from natural or pool-ordered ``dout``
    (partial windows included)."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=x_shape)
    w = rng.normal(size=(w_shape[0], x_shape[3], *w_shape[1:]))
    out, cache = correlate_forward(x, w, stride, "im2col", pool_order=pool)
    dout = rng.normal(size=out.shape)
    natural = dout if pool is None else from_pool_order(dout, cache[-1])
    dx, _ = correlate_backward(dout, cache)
    assert_allclose(dx, _input_gradient_loops(natural, x_shape, w, stride), atol=1e-12)


def test_input_gradient_when_blas_returns_a_copy(monkeypatch):
    """A BLAS wrapper that cannot add in place hands back a new array: its
    result is written into the gradient instead of being lost."""
    real = _taps.get_blas_funcs

    def copying(name, arrays):
        gemm = real(name, arrays)
        return lambda *args, **kwargs: gemm(*args, **{**kwargs, "overwrite_c": 0})

    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(2, 5, 6, 2)), rng.normal(size=(3, 2, 3, 3))
    out, cache = correlate_forward(x, w, (1, 1), "im2col")
    dout = rng.normal(size=out.shape)
    expected, _ = correlate_backward(dout, cache)
    monkeypatch.setattr(_taps, "get_blas_funcs", copying)
    dx, _ = correlate_backward(dout, cache)
    assert_allclose(dx, expected, atol=1e-12)
    assert_allclose(dx, _input_gradient_loops(dout, x.shape, w, (1, 1)), atol=1e-12)


class _Term:
    """A gradient term handed over unformed, as batch norm's spread is."""

    def __init__(self, matrix):
        self.matrix = matrix

    def dense(self):
        return self.matrix

    def left_product(self, cols):
        return cols.T @ self.matrix


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("need_dx", [False, True])
@pytest.mark.parametrize("pool", [None, (2, 2)])
def test_backward_with_an_unformed_term(engine, need_dx, pool):
    """A term passed as ``spread`` gives the gradients of ``dout`` plus the
    term, whether the engine takes its product or forms it."""
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(2, 6, 7, 2)), rng.normal(size=(3, 2, 3, 2))
    out, cache = correlate_forward(x, w, (1, 1), engine, pool_order=pool)
    dout = rng.normal(size=out.shape)
    term = rng.normal(size=(dout.size // 3, 3))
    dx, dw = correlate_backward(dout + term.reshape(dout.shape), cache, need_dx)
    dx_t, dw_t = correlate_backward(dout, cache, need_dx, spread=_Term(term))
    assert_allclose(dw_t, dw, rtol=1e-12, atol=1e-12)
    if need_dx:
        assert_allclose(dx_t, dx, rtol=1e-12, atol=1e-12)
    else:
        assert dx_t is None


@pytest.mark.parametrize("group_entries", [1, 100, 10**9])
def test_prediction_in_groups_of_images(monkeypatch, group_entries):
    # without a cache, im2col correlates groups of images (one image each,
    # a few, or all): the same output as the training pass
    monkeypatch.setattr(_conv, "PREDICT_PATCH_ENTRIES", group_entries)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 1, 12, 3))
    w = rng.normal(size=(4, 3, 1, 3))
    expected, _ = correlate_forward(x, w, (1, 2), "im2col", keep_cache=True)
    out, cache = correlate_forward(x, w, (1, 2), "im2col", keep_cache=False)
    assert cache is None
    assert_allclose(out, expected, rtol=1e-12)
    assert_allclose(out, _reference(x, w, (1, 2)), rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pool", [None, (2, 2)])
@pytest.mark.parametrize("share", [None, "weighted", "no spread"])
def test_filter_gradient_in_chunks_matches_the_windows(dtype, pool, share):
    """The filter gradient summed over chunks of rows of the patch matrix
    (a ragged last one included), with batch norm's deferred term (cells
    weighted or not) or without, equals the sum over the input's windows."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(8, 30, 30, 2)).astype(dtype)
    w = rng.normal(size=(16, 2, 3, 3)).astype(dtype)
    out, cache = correlate_forward(x, w, (1, 1), "im2col", pool_order=pool)
    rows, K, F = out.size // 16, 18, 16
    step = _gemm.chunk_rows(rows, K, F)
    assert step < rows and rows % step
    dout = rng.normal(size=out.shape).astype(dtype)
    spread, total = None, dout.reshape(rows, F)
    if share != "no spread":
        weights = None if share is None else rng.random(rows).astype(dtype)
        maps = rng.normal(size=(rows, F)).astype(dtype)
        spread = Spread(maps, rng.normal(size=F), rng.normal(size=F), weights)
        total = total + spread.dense()
    dx, dw = correlate_backward(dout, cache, need_dx=False, spread=spread)
    assert dx is None and dw.dtype == dtype
    natural = total.astype(np.float64).reshape(out.shape)
    if pool is not None:
        natural = from_pool_order(natural, cache[-1])
    windows = sliding_window_view(x.astype(np.float64), (3, 3), axis=(1, 2))
    expected = np.einsum("nijcpq,nijf->fcpq", windows, natural)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    assert_allclose(dw, expected, rtol=tol, atol=tol * np.abs(expected).max())
