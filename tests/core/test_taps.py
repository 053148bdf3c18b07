"""The taps path of stride-1 series correlation against loops, finite
differences and the patch-matrix path."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_xcnn._core import _conv, _taps
from sklearn_xcnn._core._activations import ACTIVATIONS
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


@pytest.mark.parametrize(("x_shape", "w_shape"), SHAPES[:3])
def test_gradients_match_finite_differences(x_shape, w_shape):
    x, w = _draw(x_shape, w_shape, seed=1)
    out, kept = taps_forward(x, w)
    dout = np.random.default_rng(2).normal(size=out.shape)
    dx, dw = taps_backward(dout, kept, w, need_dx=True)
    _, dw_only = taps_backward(dout, kept, w, need_dx=False)
    assert np.array_equal(dw_only, dw)

    def loss(x_, w_):
        return float((taps_forward(x_, w_)[0] * dout).sum())

    eps, rng = 1e-6, np.random.default_rng(3)
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


@pytest.mark.parametrize(("x_shape", "w_shape"), SHAPES)
def test_engine_dispatch_matches_patch_matrix(x_shape, w_shape, monkeypatch):
    """correlate_forward/backward take the taps path for series on many
    channels, and give what the patch-matrix path gives (float64, 1e-12)."""
    x, w = _draw(x_shape, w_shape, seed=4)
    assert use_taps(x.shape, w.shape, (1, 1), (1, 1), None)
    out, cache = correlate_forward(x, w, (1, 1), "im2col")
    assert cache[0] == "taps"
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


def test_network_gradients_match_patch_matrix(monkeypatch):
    """A residual series network on 32 channels (the ResNet's kernels 8, 5
    and 3) has the same loss and gradients by taps as by patch matrices."""
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
    real = _conv.taps_forward
    monkeypatch.setattr(_conv, "taps_forward", lambda *a: calls.append(1) or real(*a))
    loss, grads = loss_and_grad(params, images, Y, spec, 1e-3)
    assert len(calls) == 2  # the second and third convolutions
    monkeypatch.setattr(_taps, "TAPS_MIN_CHANNELS", 10**9)
    ref_loss, ref_grads = loss_and_grad(params, images, Y, spec, 1e-3)
    assert abs(loss - ref_loss) <= 1e-12 * abs(ref_loss)
    for g, r in zip(grads, ref_grads):
        assert_allclose(g, r, rtol=1e-10, atol=1e-12)


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


@pytest.mark.parametrize(("x_shape", "w_shape"), PAIR_SHAPES)
def test_prediction_by_pairs_of_taps_matches_loops(x_shape, w_shape, monkeypatch):
    """Prediction correlates a series by pairs of taps (three products on half
    the cells per two taps): the same maps as loops, and as training's one
    product per tap, in float64 and float32; in groups of any size."""
    x, w = _draw(x_shape, w_shape)
    expected = _loops(x, w)
    trained, _ = taps_forward(x, w, keep_cache=True)
    for group in (x_shape[0], 1, 2):
        monkeypatch.setattr(_taps, "GRID_ENTRIES", group * x_shape[2] * w_shape[0])
        out, cache = taps_forward(x, w, keep_cache=False)
        assert cache is None
        assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
        assert_allclose(out, trained, rtol=1e-12, atol=1e-12)
    x32, w32 = x.astype(np.float32), w.astype(np.float32)
    out32, _ = taps_forward(x32, w32, keep_cache=False)
    assert out32.dtype == np.float32
    scale = np.abs(expected).max()
    assert_allclose(out32, expected, rtol=0, atol=1e-5 * scale)


def test_prediction_by_pairs_is_the_same_wherever_a_series_lies():
    """A series of odd length (its cells paired from its own first cell)
    gives exactly the same maps alone as at any place in a batch."""
    x, w = _draw((5, 1, 21, 32), (6, 1, 8))
    x = x.astype(np.float32)
    w = w.astype(np.float32)
    batch, _ = taps_forward(x, w, keep_cache=False)
    for i in range(5):
        alone, _ = taps_forward(x[i : i + 1], w, keep_cache=False)
        np.testing.assert_array_equal(alone[0], batch[i])


def test_prediction_by_pairs_serves_series_only():
    """A one-row kernel on images of several rows keeps the grid of one
    product per tap (the pairs are of a series' cells); same maps."""
    x, w = _draw((2, 3, 9, 32), (4, 1, 3))
    out, _ = taps_forward(x, w, keep_cache=False)
    assert_allclose(out, _loops(x, w), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("T", [16, 17, 5])
@pytest.mark.parametrize(
    ("left", "right", "kc"), [(3, 4, 8), (2, 2, 5), (1, 1, 3), (0, 0, 4), (4, 1, 6)]
)
def test_series_predict_pads_as_it_pairs(T, left, right, kc, monkeypatch):
    """:func:`series_predict` lays the padding as it forms the pairs, adds
    the intercepts and activates: the loops on the padded series, plus the
    intercepts, activated."""
    from sklearn_xcnn._core._taps import series_predict

    x, w = _draw((3, 1, T, 32), (5, 1, kc), seed=T)
    b = np.random.default_rng(1).normal(size=5)
    padded = np.pad(x, ((0, 0), (0, 0), (left, right), (0, 0)))
    expected = _loops(padded, w) + b
    out = series_predict(x, w, b, ((0, 0), (left, right)))
    assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    # activated group by group (groups of one series here)
    monkeypatch.setattr(_taps, "GRID_ENTRIES", 1)
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
