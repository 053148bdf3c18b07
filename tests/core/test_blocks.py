"""The block kinds: dilation, the residual unit and the inception block.

Forward passes against independent computations (loops and
``scipy.signal.correlate``), gradients against central finite differences
(float64), both correlation engines; batch norm inside the kinds with
running statistics, sample weights and split batches.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.signal import correlate

from sklearn_xcnn._core._conv import correlate_backward, correlate_forward
from sklearn_xcnn._core._network import (
    build_spec,
    forward,
    init_params,
    init_stats,
    loss_and_grad,
    param_shapes,
)
from sklearn_xcnn._core._norm import BN_EPSILON
from sklearn_xcnn._training import loss_and_grad_parts

from ..test_parallel import MODES, _Split

ENGINES = ["im2col", "scipy"]


# ----------------------------------------------------------- independent maths
def _correlate_loops(x, w, dilation=(1, 1), stride=(1, 1)):
    """Valid correlation by loops: out[n,i,j,f] = sum x[n, i*s + p*d, ...]."""
    n, H, W, C = x.shape
    F, _, kr, kc = w.shape
    (dr, dc), (sr, sc) = dilation, stride
    Ho = (H - dr * (kr - 1) - 1) // sr + 1
    Wo = (W - dc * (kc - 1) - 1) // sc + 1
    out = np.zeros((n, Ho, Wo, F))
    for i in range(Ho):
        for j in range(Wo):
            for p in range(kr):
                for q in range(kc):
                    patch = x[:, i * sr + p * dr, j * sc + q * dc, :]  # (n, C)
                    out[:, i, j, :] += patch @ w[:, :, p, q].T
    return out


def _same(x, w, dilation=(1, 1)):
    """'Same' correlation through scipy.signal.correlate, channel by channel
    (Keras's padding: the odd zero at the bottom or right)."""
    n, H, W, C = x.shape
    F, _, kr, kc = w.shape
    er, ec = dilation[0] * (kr - 1) + 1, dilation[1] * (kc - 1) + 1
    wd = np.zeros((F, C, er, ec))
    wd[:, :, :: dilation[0], :: dilation[1]] = w
    t, left = (er - 1) // 2, (ec - 1) // 2
    padded = np.zeros((n, H + er - 1, W + ec - 1, C))
    padded[:, t : t + H, left : left + W] = x
    out = np.zeros((n, H, W, F))
    for s in range(n):
        for f in range(F):
            for c in range(C):
                out[s, :, :, f] += correlate(padded[s, :, :, c], wd[f, c], "valid")
    return out


def _bn(z, scale, shift):
    """Batch norm with the batch's (biased) statistics, per channel."""
    mean = z.mean(axis=(0, 1, 2))
    var = z.var(axis=(0, 1, 2))
    return (z - mean) / np.sqrt(var + BN_EPSILON) * scale + shift


def _maxpool3(x):
    """3x3 max at stride 1 around each cell, off-edge cells ignored."""
    n, H, W, C = x.shape
    out = np.empty_like(x)
    for i in range(H):
        for j in range(W):
            window = x[:, max(i - 1, 0) : i + 2, max(j - 1, 0) : j + 2]
            out[:, i, j] = window.max(axis=(1, 2))
    return out


# ------------------------------------------------------------------- dilation
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "dilation, stride", [((2, 2), (1, 1)), ((1, 3), (1, 1)), ((2, 1), (2, 1))]
)
def test_dilated_correlation_matches_loops(engine, dilation, stride):
    rng = np.random.RandomState(0)
    x, w = rng.normal(size=(2, 9, 10, 3)), rng.normal(size=(4, 3, 3, 2))
    out, _ = correlate_forward(x, w, stride, engine, dilation=dilation)
    assert_allclose(out, _correlate_loops(x, w, dilation, stride), atol=1e-10)


@pytest.mark.parametrize("engine", ENGINES)
def test_dilated_correlation_gradients(engine):
    rng = np.random.RandomState(1)
    x, w = rng.normal(size=(2, 8, 9, 2)), rng.normal(size=(3, 2, 2, 3))
    dilation = (3, 2)
    out, cache = correlate_forward(x, w, (1, 1), engine, dilation=dilation)
    dout = rng.normal(size=out.shape)
    dx, dw = correlate_backward(dout, cache)
    assert dw.shape == w.shape

    def f(x_, w_):
        return float((_correlate_loops(x_, w_, dilation) * dout).sum())

    _check_fd(lambda v: f(v.reshape(x.shape), w), x.ravel(), dx.ravel())
    _check_fd(lambda v: f(x, v.reshape(w.shape)), w.ravel(), dw.ravel())


@pytest.mark.parametrize("size, dilation, kernel", [(7, 2, (3, 3)), (5, 3, (2, 2))])
def test_same_padding_accounts_for_dilation(size, dilation, kernel):
    spec = _spec((size, size, 1), (2,), kernel_size=3, dilation=dilation,
                 padding="same")  # fmt: skip
    block = spec.blocks[0]
    assert block.conv_shape == (size, size)
    assert block.dilation == (dilation, dilation)
    assert block.kernel == kernel  # taps spanning more than the image are cut


def _check_fd(f, v, grad, h=1e-6, rtol=1e-6):
    """The gradient ``grad`` of ``f`` at ``v`` against central differences."""
    v = v.copy()
    fd = np.empty_like(v)
    for i in range(v.size):
        old = v[i]
        v[i] = old + h
        up = f(v)
        v[i] = old - h
        down = f(v)
        v[i] = old
        fd[i] = (up - down) / (2 * h)
    err = np.linalg.norm(fd - grad) / max(np.linalg.norm(fd), 1e-12)
    assert err < rtol, err


# ------------------------------------------------------------- whole networks
def _spec(image_shape, n_filters, n_outputs=3, **kwargs):
    options = dict(
        kernel_size=3,
        stride=1,
        pool_size=2,
        pooling="mean",
        hidden_units=(),
        activation="tanh",
        out_activation="softmax",
    )
    options.update(kwargs)
    return build_spec(
        image_shape,
        n_filters,
        options.pop("kernel_size"),
        options.pop("stride"),
        options.pop("pool_size"),
        options.pop("pooling"),
        options.pop("hidden_units"),
        options.pop("activation"),
        n_outputs,
        options.pop("out_activation"),
        **options,
    )


def _random_params(spec, rng):
    params = init_params(spec, rng, np.float64)
    assert [p.shape for p in params] == param_shapes(spec)
    # intercepts and batch-norm scales away from their starts
    return [p + rng.uniform(-0.5, 0.5, size=p.shape) for p in params]


def _network_gradient_check(spec, engine_shape, sample_weight=None, seed=0):
    rng = np.random.RandomState(seed)
    params = _random_params(spec, rng)
    n = engine_shape[0]
    X = rng.normal(size=engine_shape)
    Y = np.eye(spec.layer_units[-1])[rng.randint(spec.layer_units[-1], size=n)]
    _, grads = loss_and_grad(params, X, Y, spec, 0.1, sample_weight)
    for i, p in enumerate(params):

        def f(v, i=i, shape=p.shape):
            trial = list(params)
            trial[i] = v.reshape(shape)
            return loss_and_grad(trial, X, Y, spec, 0.1, sample_weight)[0]

        _check_fd(f, p.ravel(), grads[i].ravel())


RESIDUAL = [
    # (image shape, n_filters, block kinds, depth, dilation)
    ((5, 6, 2), (3, 3), ["conv", "residual"], 2, 1),  # shortcut: batch norm
    ((5, 6, 2), (3, 4), ["conv", "residual"], 2, 1),  # shortcut: 1x1 conv
    ((6, 5, 1), (2,), "residual", 3, [2]),  # first block, dilated
    ((1, 11, 2), (3, 2), "residual", [1, 2], [1, 2]),  # a series
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("shape, n_filters, kind, depth, dilation", RESIDUAL)
def test_residual_gradients(engine, shape, n_filters, kind, depth, dilation):
    spec = _spec(shape, n_filters, block=kind, block_depth=depth,
                 dilation=dilation, algorithm=engine)  # fmt: skip
    assert any(b.kind == "residual" for b in spec.blocks)
    _network_gradient_check(spec, (4, *shape))


INCEPTION = [
    ((5, 6, 1), (2,), "inception", 1, 1),  # one channel: no bottleneck
    ((5, 6, 2), (2, 2), ["conv", "inception"], 2, 1),  # bottlenecks
    ((1, 12, 1), (2,), "inception", 2, 2),  # a series, dilated
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("shape, n_filters, kind, depth, dilation", INCEPTION)
def test_inception_gradients(engine, shape, n_filters, kind, depth, dilation):
    spec = _spec(shape, n_filters, kernel_size=4, block=kind, block_depth=depth,
                 dilation=dilation, algorithm=engine)  # fmt: skip
    _network_gradient_check(spec, (4, *shape))


@pytest.mark.parametrize("kind", ["residual", "inception"])
def test_weighted_gradients(kind):
    spec = _spec((4, 5, 2), (2,), block=kind, block_depth=1, pool_size=1)
    weights = np.array([0.5, 2.0, 0.0, 1.0])
    _network_gradient_check(spec, (4, 4, 5, 2), sample_weight=weights, seed=3)


@pytest.mark.parametrize("engine", ENGINES)
def test_conv_gradients_with_dilation(engine):
    spec = _spec((7, 8, 2), (3, 2), dilation=[2, (1, 2)], padding="same",
                 batch_norm=True, algorithm=engine)  # fmt: skip
    _network_gradient_check(spec, (3, 7, 8, 2))


# ----------------------------------------------------------- forward passes
def _identity_spec(shape, n_filters, **kwargs):
    return _spec(shape, n_filters, pooling=None, activation="relu",
                 global_pooling="mean", **kwargs)  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("n_filters", [3, 4])
def test_residual_forward_matches_scipy(engine, n_filters):
    rng = np.random.RandomState(2)
    spec = _identity_spec((6, 7, 3), (n_filters,), block="residual",
                          block_depth=2, dilation=2, algorithm=engine)  # fmt: skip
    params = _random_params(spec, rng)
    x = rng.normal(size=(5, 6, 7, 3))
    stats = []
    logits, _ = forward(params, x, spec, keep_cache=True, batch_stats=stats)
    # by hand: params are [w0, b0, w1, b1, (ws, bs), coefs, intercepts,
    # scales of conv 0, conv 1, shortcut]
    relu = lambda z: np.maximum(z, 0)  # noqa: E731
    w0, b0, w1, b1 = params[:4]
    scales = params[-3:]
    h = relu(_bn(_same(x, w0, (2, 2)), scales[0], b0))
    main = _bn(_same(h, w1, (2, 2)), scales[1], b1)
    if n_filters == 3:  # batch norm alone, no shift
        short = _bn(x, scales[2], 0.0)
        coefs, intercepts = params[4:6]
    else:
        ws, bs = params[4:6]
        short = _bn(_same(x, ws), scales[2], bs)
        coefs, intercepts = params[6:8]
    out = relu(main + short).mean(axis=(1, 2))
    assert_allclose(logits, out @ coefs + intercepts, atol=1e-10)
    assert len(stats) == 3


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("channels", [1, 2])
def test_inception_forward_matches_scipy(engine, channels):
    rng = np.random.RandomState(4)
    spec = _identity_spec(
        (5, 9, channels), (2,), kernel_size=5, block="inception", block_depth=1,
        algorithm=engine,
    )  # fmt: skip
    params = _random_params(spec, rng)
    x = rng.normal(size=(4, 5, 9, channels))
    logits, _ = forward(params, x, spec, keep_cache=True)
    relu = lambda z: np.maximum(z, 0)  # noqa: E731
    pairs = params[: -2 - 5]
    scales = params[-5:]
    h = x
    if channels > 1:
        wb, bb = pairs[:2]
        h = _same(x, wb) + bb
        pairs = pairs[2:]
    kernels = [w.shape[2:] for w in pairs[0:6:2]]
    assert kernels == [(5, 5), (2, 2), (1, 1)]  # halved, halved again
    branches = [
        _bn(_same(h, pairs[2 * k]), scales[k], pairs[2 * k + 1]) for k in range(3)
    ]
    branches.append(_bn(_same(_maxpool3(x), pairs[6]), scales[3], pairs[7]))
    module = relu(np.concatenate(branches, axis=-1))
    short = _bn(_same(x, pairs[8]), scales[4], pairs[9])
    out = relu(module + short).mean(axis=(1, 2))
    coefs, intercepts = params[-7:-5]
    assert_allclose(logits, out @ coefs + intercepts, atol=1e-10)


@pytest.mark.parametrize("kind", ["conv", "residual", "inception"])
def test_prediction_uses_running_statistics(kind):
    # at prediction batch norm runs with the running statistics (folded into
    # the filters): given the batch's own, it reproduces the training pass
    rng = np.random.RandomState(5)
    spec = _spec((5, 6, 2), (3,), block=kind, block_depth=2, batch_norm=True,
                 padding="same", pooling="max")  # fmt: skip
    params = _random_params(spec, rng)
    x = rng.normal(size=(7, 5, 6, 2))
    batch = []
    train, _ = forward(params, x, spec, keep_cache=True, batch_stats=batch)
    assert len(batch) == len(init_stats(spec, np.float64))
    # the batch statistics hold the unbiased variance; the batch normalises
    # with the biased one
    cells = 7 * 5 * 6
    stats = [(mean, var * (cells - 1) / cells) for mean, var in batch]
    predicted, _ = forward(params, x, spec, stats=stats)
    assert_allclose(predicted, train, atol=1e-9)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["residual", "inception"])
def test_split_batch_is_one_batch(kind, mode, monkeypatch):
    # the parts of a split batch combine the statistics of every batch norm
    # of the compound kinds: loss, gradients and statistics equal one call
    rng = np.random.RandomState(6)
    spec = _spec((4, 5, 2), (2,), block=kind, block_depth=2)
    params = _random_params(spec, rng)
    X = rng.normal(size=(9, 4, 5, 2))
    Y = np.eye(3)[rng.randint(3, size=9)]
    sw = rng.uniform(0.5, 2, size=9)
    stats = []
    loss, grads = loss_and_grad(params, X, Y, spec, 0.2, sw, batch_stats=stats)
    parts = [slice(0, 4), slice(4, 9)]
    stats_p = []
    with _Split(mode, 2, monkeypatch) as runner:
        loss_p, grads_p = loss_and_grad_parts(
            params, X, Y, spec, 0.2, sw, parts, runner, batch_stats=stats_p
        )
    assert_allclose(loss_p, loss, rtol=1e-12)
    for g, gp in zip(grads, grads_p):
        assert_allclose(gp, g, rtol=1e-9, atol=1e-12)
    assert len(stats_p) == len(stats) == len(init_stats(spec, np.float64))
    for (mean, var), (mean_p, var_p) in zip(stats, stats_p):
        assert_allclose(mean_p, mean, rtol=1e-12)
        assert_allclose(var_p, var, rtol=1e-12)


def test_parameter_layout():
    spec = _spec((6, 6, 1), (4, 4), block=["residual", "inception"],
                 block_depth=[2, 1], kernel_size=[3, 4], pool_size=1)  # fmt: skip
    residual, inception = spec.blocks
    shapes = param_shapes(spec)
    # residual: 2 convs and a 1x1 shortcut (1 -> 4 channels)
    assert shapes[:6] == [(4, 1, 3, 3), (4,), (4, 4, 3, 3), (4,), (4, 1, 1, 1), (4,)]
    # inception on 4 channels: bottleneck, kernels 4/2/1, pool conv, shortcut
    assert shapes[6:18:2] == [(4, 4, 1, 1), (4, 4, 4, 4), (4, 4, 2, 2),
                              (4, 4, 1, 1), (4, 4, 1, 1), (16, 4, 1, 1)]  # fmt: skip
    assert inception.out_shape[2] == 16
    assert len(init_stats(spec, np.float64)) == 3 + 5
