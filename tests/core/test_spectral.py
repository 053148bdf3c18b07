"""Series correlated with several kernels through one spectrum of their
input (``_core._spectral``), against loops and central finite differences,
and when the path is taken."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import sklearn_xcnn._core._layers as layers
import sklearn_xcnn._core._spectral as spectral
from sklearn_xcnn._core._network import build_spec, forward, init_params, loss_and_grad
from sklearn_xcnn._core._spectral import (
    output_length,
    spectral_backward,
    spectral_forward,
    use_spectral,
)
from sklearn_xcnn._core._units import BlockSpec

from .test_blocks import _check_fd


def _unit(kc, left, right, dilation=1, engine="scipy", W=9, F=2, stride=1):
    """A one-row convolution of ``kc`` taps padded by ``left`` and ``right``
    zeros along time (the fields the correlation reads)."""
    return BlockSpec(in_shape=(1, W, 2), n_filters=F, kernel=(1, kc),
                     stride=(1, stride), conv_shape=None, pool=None,
                     out_shape=None, engine=engine,
                     padding=((0, 0), (left, right)),
                     dilation=(1, dilation))  # fmt: skip


def _same(kc, dilation=1, **kwargs):
    extent = dilation * (kc - 1) + 1
    left = (extent - 1) // 2
    return _unit(kc, left, extent - 1 - left, dilation, **kwargs)


def _loops(x, w, unit):
    """``out[n, 0, t, f] = sum_{q, c} x[n, 0, t + q * d - left, c] w[f, c, 0, q]``
    with zeros outside the series."""
    n, _, W, C = x.shape
    F, _, _, kc = w.shape
    (_, _), (left, _) = unit.padding
    d = unit.dilation[1]
    out = np.zeros((n, 1, output_length(W, unit), F))
    for t in range(out.shape[2]):
        for q in range(kc):
            s = t + q * d - left
            if 0 <= s < W:
                out[:, 0, t] += x[:, 0, s] @ w[:, :, 0, q].T
    return out


# kernels read together: the inception module's three (halved twice), one
# dilated, kernels longer than the series (kept whole), no padding on the
# left, and a single unit
GROUPS = {
    "inception": [_same(8), _same(4), _same(2)],
    "dilated": [_same(5, dilation=3), _same(3), _same(1)],
    "longer-than-series": [_same(15), _same(12, dilation=2)],
    "padded-right-only": [_unit(4, 0, 3), _unit(2, 0, 1), _unit(3, 0, 2)],
    "one": [_same(6)],
}


def _problem(group, W=9, C=2, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    units = GROUPS[group]
    x = rng.standard_normal((3, 1, W, C)).astype(dtype)
    ws = [rng.standard_normal((u.n_filters + i, C, 1, u.kernel[1])).astype(dtype)
          for i, u in enumerate(units)]  # fmt: skip
    return x, ws, units


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("W", [9, 1, 30])
def test_forward_matches_loops(group, W):
    x, ws, units = _problem(group, W=W)
    outs, cache = spectral_forward(x, ws, units)
    assert cache is not None
    for out, w, unit in zip(outs, ws, units, strict=True):
        assert out.flags.c_contiguous
        assert_allclose(out, _loops(x, w, unit), rtol=1e-11, atol=1e-12)
    assert spectral_forward(x, ws, units, keep_cache=False)[1] is None


@pytest.mark.parametrize("keep_spectra", [True, False])
@pytest.mark.parametrize("group", GROUPS)
def test_gradients_match_finite_differences(group, keep_spectra, monkeypatch):
    # the filters' spectra kept for the backward, or taken again from the taps
    monkeypatch.setattr(spectral, "KEEP_SPECTRA_BYTES", 2**30 if keep_spectra else 0)
    x, ws, units = _problem(group, W=7)
    rng = np.random.default_rng(1)
    outs, cache = spectral_forward(x, ws, units)
    gs = [rng.standard_normal(o.shape) for o in outs]

    def loss(x, ws):
        outs, _ = spectral_forward(x, ws, units, keep_cache=False)
        return sum(np.sum(o * g) for o, g in zip(outs, gs))

    assert np.iscomplexobj(cache[1]) == keep_spectra
    dx, dws = spectral_backward(gs, cache)
    assert dx.shape == x.shape
    _check_fd(lambda v: loss(v.reshape(x.shape), ws), x.ravel(), dx.ravel())
    for i, (w, dw) in enumerate(zip(ws, dws, strict=True)):
        assert dw.shape == w.shape

        def f(v, i=i, shape=w.shape):
            trial = list(ws)
            trial[i] = v.reshape(shape)
            return loss(x, trial)

        _check_fd(f, w.ravel(), dw.ravel())
    none, same_dws = spectral_backward(gs, cache, need_dx=False)
    assert none is None
    for a, b in zip(dws, same_dws, strict=True):
        assert_allclose(a, b)


def test_float32_stays_float32_and_close_to_float64():
    x, ws, units = _problem("inception", W=40, C=8)
    ref, cache = spectral_forward(x, ws, units)
    dx, dws = spectral_backward(ref, cache)
    x32, ws32 = x.astype(np.float32), [w.astype(np.float32) for w in ws]
    outs, cache32 = spectral_forward(x32, ws32, units)
    dx32, dws32 = spectral_backward(outs, cache32)
    for got, want in zip([*outs, dx32, *dws32], [*ref, dx, *dws], strict=True):
        assert got.dtype == np.float32
        assert np.abs(got - want).max() < 2e-6 * np.abs(want).max()


def test_use_spectral_takes_series_with_one_unit_on_the_fft_engine():
    shape = (4, 1, 9, 2)
    fft, im2col = _same(8), _same(8, engine="im2col")
    assert use_spectral(shape, [fft, _same(4, engine="im2col")])
    assert not use_spectral(shape, [im2col, _same(4, engine="im2col")])
    assert not use_spectral((4, 3, 9, 2), [fft])  # images of 3 rows
    assert not use_spectral(shape, [fft, _unit(3, 0, 0)])  # outputs of 9 and 7
    assert not use_spectral(shape, [_unit(8, 3, 4, stride=2)])
    two_rows = fft._replace(kernel=(2, 8), padding=((0, 1), (3, 4)))
    assert not use_spectral(shape, [two_rows])


def _inception_spec(algorithm, channels=2):
    return build_spec(
        (1, 30, channels), (3,), (1, 24), 1, 1, None, (), "relu", 3, "softmax",
        padding="same", batch_norm=True, global_pooling="mean", block="inception",
        block_depth=2, algorithm=algorithm,
    )  # fmt: skip


@pytest.mark.parametrize("channels", [1, 2])
def test_an_inception_block_on_the_fft_engine_is_the_im2col_network(
    channels, monkeypatch
):
    """The same parameters give the same logits, loss and gradients, in
    training and prediction, whichever path the branches take, and the FFT
    engine's modules take the spectral one."""
    rng = np.random.RandomState(0)
    fft, im2col = _inception_spec("auto", channels), _inception_spec("im2col", channels)
    assert any(u.engine == "scipy" for u in fft.blocks[0].modules[0].branches)
    params = [p + rng.uniform(-0.5, 0.5, p.shape)
              for p in init_params(fft, rng, np.float64)]  # fmt: skip
    X = rng.standard_normal((5, 1, 30, channels))
    Y = np.eye(3)[rng.randint(3, size=5)]
    calls = []
    real = layers.spectral_forward
    monkeypatch.setattr(
        layers, "spectral_forward", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    batch = []
    got, _ = forward(params, X, fft, keep_cache=True, batch_stats=batch)
    want, _ = forward(params, X, im2col, keep_cache=True)
    assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    # prediction (batch norm folded) with some running statistics
    stats = [(mean + 0.1, var + 0.2) for mean, var in batch]
    got, _ = forward(params, X, fft, stats=stats)
    want, _ = forward(params, X, im2col, stats=stats)
    assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert len(calls) == 4  # two modules, in training and prediction
    loss, grads = loss_and_grad(params, X, Y, fft, 0.1)
    loss_im2col, grads_im2col = loss_and_grad(params, X, Y, im2col, 0.1)
    assert_allclose(loss, loss_im2col, rtol=1e-12)
    for g, h in zip(grads, grads_im2col, strict=True):
        assert_allclose(g, h, rtol=1e-9, atol=1e-12)
