"""Series correlation by pairs of taps (Winograd's F(2, 2)): the forward
pass, both gradients and prediction's padded form, against loops, finite
differences, the grid of one product per tap and the patch-matrix path."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_xcnn._core import _conv, _pairs, _taps
from sklearn_xcnn._core._activations import ACTIVATIONS
from sklearn_xcnn._core._pairs import (
    is_series,
    pairs_backward,
    pairs_forward,
    series_predict,
)
from sklearn_xcnn._core._taps import taps_backward, taps_forward

from .test_taps import _draw, _loops, check_finite_differences

# series (H = 1) of odd and even lengths, kernels of odd and even taps, one
# tap alone among them (kernel 3 on 32 channels), a kernel spanning the series
PAIR_SHAPES = [
    ((3, 1, 21, 32), (5, 1, 8)),
    ((4, 1, 20, 33), (6, 1, 5)),
    ((2, 1, 9, 40), (7, 1, 3)),
    ((3, 1, 10, 32), (4, 1, 2)),
    ((1, 1, 5, 32), (3, 1, 5)),
    ((2, 1, 6, 32), (3, 1, 6)),
]


def _loop_gradients(x, w, dout):
    """``dx`` and ``dw`` of ``sum(_loops(x, w) * dout)`` by loops over the
    output cells and taps of a series."""
    n, _, W, C = x.shape
    F, _, _, kc = w.shape
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for t in range(W - kc + 1):
        for q in range(kc):
            # out[:, 0, t] gets x[:, 0, t + q] @ w[:, :, 0, q].T
            dx[:, 0, t + q] += dout[:, 0, t] @ w[:, :, 0, q]
            dw[:, :, 0, q] += dout[:, 0, t].T @ x[:, 0, t + q]
    return dx, dw


def _group_sizes(x_shape, w_shape):
    """GRID_ENTRIES for groups of every series, one series and two."""
    n, _, W, C = x_shape
    per_series = W * max(C, w_shape[0])
    return [n * per_series, per_series, 2 * per_series]


@pytest.mark.parametrize(("x_shape", "w_shape"), PAIR_SHAPES)
def test_forward_by_pairs_matches_loops(x_shape, w_shape, monkeypatch):
    """Training and prediction correlate a series by pairs of taps (three
    products on half the cells per two taps): the maps of loops and of the
    grid's one product per tap, in groups of any size; float32 stays
    float32."""
    x, w = _draw(x_shape, w_shape)
    assert is_series(x.shape, w.shape)
    expected = _loops(x, w)
    assert_allclose(taps_forward(x, w)[0], expected, rtol=1e-12, atol=1e-12)
    for group in _group_sizes(x.shape, w.shape):
        monkeypatch.setattr(_pairs, "GRID_ENTRIES", group)
        for keep in (True, False):
            out, kept = pairs_forward(x, w, keep_cache=keep)
            assert (kept is x) if keep else (kept is None)
            assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    x32, w32 = x.astype(np.float32), w.astype(np.float32)
    out32, _ = pairs_forward(x32, w32, keep_cache=False)
    assert out32.dtype == np.float32
    scale = np.abs(expected).max()
    assert_allclose(out32, expected, rtol=0, atol=1e-5 * scale)


@pytest.mark.parametrize(("x_shape", "w_shape"), PAIR_SHAPES)
def test_gradients_by_pairs_match_loops(x_shape, w_shape, monkeypatch):
    """Both gradients by pairs of taps equal loops over the cells and taps,
    and the grid's (one product per tap), in groups of any size; the filter
    gradient is the same without the input gradient; float32 stays
    float32."""
    x, w = _draw(x_shape, w_shape, seed=1)
    dout = np.random.default_rng(2).normal(size=_loops(x, w).shape)
    ref_dx, ref_dw = _loop_gradients(x, w, dout)
    grid_dx, grid_dw = taps_backward(dout, x, w, need_dx=True)
    assert_allclose(grid_dx, ref_dx, rtol=1e-12, atol=1e-12)
    for group in _group_sizes(x.shape, w.shape):
        monkeypatch.setattr(_pairs, "GRID_ENTRIES", group)
        dx, dw = pairs_backward(dout, x, w, need_dx=True)
        assert_allclose(dx, ref_dx, rtol=1e-12, atol=1e-12)
        assert_allclose(dw, ref_dw, rtol=1e-12, atol=1e-12)
        assert_allclose(dw, grid_dw, rtol=1e-12, atol=1e-12)
        no_dx, dw_only = pairs_backward(dout, x, w, need_dx=False)
        assert no_dx is None
        np.testing.assert_array_equal(dw_only, dw)
    dx32, dw32 = pairs_backward(*(a.astype(np.float32) for a in (dout, x, w)), True)
    assert dx32.dtype == dw32.dtype == np.float32
    assert_allclose(dx32, ref_dx, rtol=0, atol=1e-5 * np.abs(ref_dx).max())
    assert_allclose(dw32, ref_dw, rtol=0, atol=1e-5 * np.abs(ref_dw).max())


@pytest.mark.parametrize(("x_shape", "w_shape"), PAIR_SHAPES[:4])
def test_gradients_by_pairs_match_finite_differences(x_shape, w_shape):
    """Central differences of ``sum(out * dout)`` (float64) against both
    gradients by pairs, through the im2col engine's dispatch."""
    x, w = _draw(x_shape, w_shape, seed=3)
    out, cache = _conv.correlate_forward(x, w, (1, 1), "im2col")
    assert cache[0] == "pairs"
    dout = np.random.default_rng(4).normal(size=out.shape)
    dx, dw = _conv.correlate_backward(dout, cache)

    def correlate(x_, w_):
        return _conv.correlate_forward(x_, w_, (1, 1), "im2col")[0]

    check_finite_differences(correlate, x, w, dout, dx, dw, seed=5)


def test_pairs_when_blas_returns_a_copy(monkeypatch):
    """A BLAS wrapper that cannot write in place hands back a new array: the
    pairs' products are written into their sums instead."""
    real = _pairs.get_blas_funcs

    def copying(name, arrays):
        gemm = real(name, arrays)
        return lambda *args, **kwargs: gemm(*args, **{**kwargs, "overwrite_c": 0})

    x, w = _draw((2, 1, 11, 32), (3, 1, 5), seed=6)
    dout = np.random.default_rng(7).normal(size=(2, 1, 7, 3))
    monkeypatch.setattr(_pairs, "get_blas_funcs", copying)
    out, kept = pairs_forward(x, w)
    dx, dw = pairs_backward(dout, kept, w, need_dx=True)
    ref_dx, ref_dw = _loop_gradients(x, w, dout)
    assert_allclose(out, _loops(x, w), rtol=1e-12, atol=1e-12)
    assert_allclose(dx, ref_dx, rtol=1e-12, atol=1e-12)
    assert_allclose(dw, ref_dw, rtol=1e-12, atol=1e-12)


def test_network_gradients_match_patch_matrix(monkeypatch):
    """A residual series network on 32 channels (the ResNet's kernels 8, 5
    and 3) has the same loss and gradients by pairs of taps as by patch
    matrices."""
    from sklearn_xcnn._core._network import loss_and_grad
    from sklearn_xcnn.series import ResNetClassifier

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(6, 1, 24)), np.arange(6) % 2
    clf = ResNetClassifier(n_filters=(32,), kernel_size=((8, 5, 3),), max_iter=1,
                           batch_size=6, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    spec, params = clf._network_spec(), clf._params()
    images = X.reshape(6, 1, 24, 1)
    Y = np.eye(2)[y][:, :1] if spec.out_activation == "logistic" else np.eye(2)[y]
    calls = []
    real = _conv.pairs_forward
    monkeypatch.setattr(_conv, "pairs_forward", lambda *a: calls.append(1) or real(*a))
    loss, grads = loss_and_grad(params, images, Y, spec, 1e-3)
    assert len(calls) == 2  # the second and third convolutions
    monkeypatch.setattr(_taps, "TAPS_MIN_CHANNELS", 10**9)
    ref_loss, ref_grads = loss_and_grad(params, images, Y, spec, 1e-3)
    assert abs(loss - ref_loss) <= 1e-12 * abs(ref_loss)
    for g, r in zip(grads, ref_grads):
        assert_allclose(g, r, rtol=1e-10, atol=1e-12)


def test_prediction_by_pairs_is_the_same_wherever_a_series_lies():
    """A series of odd length (its cells paired from its own first cell)
    gives exactly the same maps alone as at any place in a batch."""
    x, w = _draw((5, 1, 21, 32), (6, 1, 8))
    x = x.astype(np.float32)
    w = w.astype(np.float32)
    batch, _ = pairs_forward(x, w, keep_cache=False)
    for i in range(5):
        alone, _ = pairs_forward(x[i : i + 1], w, keep_cache=False)
        np.testing.assert_array_equal(alone[0], batch[i])


def test_pairs_serve_series_only():
    """A one-row kernel on images of several rows, or a kernel of one tap,
    keeps the grid of one product per tap or the patch matrix (the pairs
    are of a series' cells); the same maps."""
    cases = [((2, 3, 9, 32), (4, 1, 3), "taps"), ((2, 1, 9, 32), (4, 1, 1), "im2col")]
    for x_shape, w_shape, path in cases:
        x, w = _draw(x_shape, w_shape)
        assert not is_series(x.shape, w.shape)
        out, cache = _conv.correlate_forward(x, w, (1, 1), "im2col")
        assert cache[0] == path
        assert_allclose(out, _loops(x, w), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("T", [16, 17, 5])
@pytest.mark.parametrize(
    ("left", "right", "kc"), [(3, 4, 8), (2, 2, 5), (1, 1, 3), (0, 0, 4), (4, 1, 6)]
)
def test_series_predict_pads_as_it_pairs(T, left, right, kc, monkeypatch):
    """:func:`series_predict` lays the padding as it forms the pairs, adds
    the intercepts and activates: the loops on the padded series, plus the
    intercepts, activated."""
    x, w = _draw((3, 1, T, 32), (5, 1, kc), seed=T)
    b = np.random.default_rng(1).normal(size=5)
    padded = np.pad(x, ((0, 0), (0, 0), (left, right), (0, 0)))
    expected = _loops(padded, w) + b
    out = series_predict(x, w, b, ((0, 0), (left, right)))
    assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    # activated group by group (groups of one series here)
    monkeypatch.setattr(_pairs, "GRID_ENTRIES", 1)
    out = series_predict(x, w, b, ((0, 0), (left, right)), ACTIVATIONS["relu"])
    assert_allclose(out, np.maximum(expected, 0), rtol=1e-12, atol=1e-12)


def _pairs_and_patch_matrix(clf, X, y, module, monkeypatch):
    """Fit ``clf`` on series ``X`` (n, 1, T) and return its logits by the
    network's forward, the same with the taps path (and so the pairs) off,
    and how many calls of ``module.series_predict`` the first made (the
    second makes none)."""
    from sklearn_xcnn._core._network import forward

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    spec, params = clf._network_spec(), clf._params()
    stats = clf._stats(spec)
    images = X.reshape(*X.shape, 1)
    calls = []
    real = module.series_predict
    monkeypatch.setattr(
        module, "series_predict", lambda *a: calls.append(1) or real(*a)
    )
    logits, _ = forward(params, images, spec, stats=stats)
    n_calls = len(calls)
    monkeypatch.setattr(_taps, "TAPS_MIN_CHANNELS", 10**9)
    ref, _ = forward(params, images, spec, stats=stats)
    assert len(calls) == n_calls
    return logits, ref, n_calls


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_network_prediction_by_pairs_matches_patch_matrix(dtype, monkeypatch):
    """A fitted residual series network (the ResNet's kernels 8, 5 and 3,
    batch norm folded) predicts, by pairs of taps, the logits of the patch
    matrix path, to rounding; the pairs serve the units on many channels."""
    from sklearn_xcnn._core import _layers
    from sklearn_xcnn.series import ResNetClassifier

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(7, 1, 25)).astype(dtype), np.arange(7) % 3
    clf = ResNetClassifier(n_filters=(32, 48), kernel_size=((8, 5, 3),) * 2,
                           max_iter=2, batch_size=4, random_state=0)  # fmt: skip
    logits, ref, calls = _pairs_and_patch_matrix(clf, X, y, _layers, monkeypatch)
    assert logits.dtype == dtype
    assert calls == 5  # all but the first unit's first convolution
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert_allclose(logits, ref, rtol=0, atol=tol * np.abs(ref).max())


@pytest.mark.parametrize("pooling", [None, "mean"])
def test_plain_series_prediction_by_pairs_matches_patch_matrix(pooling, monkeypatch):
    """A fitted plain series network (the FCN's blocks, batch norm folded)
    predicts, by pairs of taps, the logits of the patch-matrix path."""
    from sklearn_xcnn._core import _plain
    from sklearn_xcnn.series import FCNClassifier

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(7, 1, 26)), np.arange(7) % 3
    clf = FCNClassifier(n_filters=(32, 40, 32), kernel_size=(8, 5, 3), max_iter=2,
                        batch_size=4, random_state=0)  # fmt: skip
    if pooling is not None:
        clf.set_params(pooling=pooling, pool_size=2)
    logits, ref, calls = _pairs_and_patch_matrix(clf, X, y, _plain, monkeypatch)
    assert calls == 2  # the second and third blocks (32 channels in)
    assert_allclose(logits, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
