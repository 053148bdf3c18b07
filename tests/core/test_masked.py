"""Batches of series of several lengths padded to the longest, with a mask
of the valid time steps (:mod:`sklearn_xcnn._core._mask`): the network's
logits and loss against a hand-assembled forward that runs each series
alone (scipy.signal, loops) with batch norm's statistics pooled over the
concatenated valid steps of all the series; the gradient against central
finite differences; the padding's values never matter; an all-valid mask
is the unmasked network; the running statistics come from the valid
steps; a network that changes the length refuses a mask."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.signal import correlate

from sklearn_xcnn._core._mask import keeps_length, valid_cells
from sklearn_xcnn._core._network import (
    build_spec,
    forward,
    init_params,
    loss_and_grad,
    n_conv_params,
    n_weighted_params,
    pack,
    unpack,
)
from sklearn_xcnn._core._norm import BN_EPSILON
from sklearn_xcnn._core._pool import global_pool_backward, global_pool_forward

LENGTHS = (7, 4, 9, 2, 9, 1)  # 2 and 1: shorter than every kernel


# ------------------------------------------------ the independent forward
def _conv(x, w, b):
    """'same' correlation of one series ``x`` (T, C) with ``w`` (F, C, 1, k):
    ``(k - 1) // 2`` zeros before, the rest after."""
    F, C, _, k = w.shape
    before = (k - 1) // 2
    xp = np.pad(x, ((before, k - 1 - before), (0, 0)))
    out = np.empty((len(x), F))
    for f in range(F):
        out[:, f] = b[f] + sum(
            correlate(xp[:, c], w[f, c, 0], mode="valid") for c in range(C)
        )
    return out


def _bn(zs, scale, shift, sw):
    """Batch norm of the series' maps ``zs`` ((T_i, F) each) with the
    weighted statistics of all their steps, concatenated."""
    cells = np.concatenate(zs)
    weights = np.concatenate([np.full(len(z), w) for z, w in zip(zs, sw)])
    mean = weights @ cells / weights.sum()
    var = weights @ (cells - mean) ** 2 / weights.sum()
    return [scale * (z - mean) / np.sqrt(var + BN_EPSILON) + shift for z in zs]


def _max3(x):
    """Max over the 3 steps around each step of ``x`` (T, C), at the ends
    over those present."""
    return np.array([x[max(t - 1, 0) : t + 2].max(axis=0) for t in range(len(x))])


class _Params:
    """The network's parameters in their documented order: a pair per
    convolution, the dense layers, a batch-norm scale per norm."""

    def __init__(self, params, spec):
        n_conv, n_weighted = n_conv_params(spec), n_weighted_params(spec)
        self.pairs = iter(params[:n_conv])
        self.dense = params[n_conv:n_weighted]
        self.scales = iter(params[n_weighted:])

    def pair(self):
        return next(self.pairs), next(self.pairs)


def _conv_bn(xs, p, sw):
    """A convolution followed by batch norm (the intercept is the shift)."""
    w, b = p.pair()
    return _bn([_conv(x, w, 0 * b) for x in xs], next(p.scales), b, sw)


def _residual(xs, block, p, sw, act):
    hs = xs
    for i in range(len(block.convs)):
        hs = _conv_bn(hs, p, sw)
        if i < len(block.convs) - 1:
            hs = [act(h) for h in hs]
    if block.shortcut is None:  # batch norm alone, no shift
        ss = _bn(xs, next(p.scales), 0.0, sw)
    else:
        ss = _conv_bn(xs, p, sw)
    return [act(h + s) for h, s in zip(hs, ss)]


def _inception(xs, block, p, sw, act):
    hs = xs
    for module in block.modules:
        inner = hs
        if module.bottleneck is not None:
            w, b = p.pair()
            inner = [_conv(h, w, b) for h in hs]
        branches = [_conv_bn(inner, p, sw) for _ in module.branches]
        branches.append(_conv_bn([_max3(h) for h in hs], p, sw))
        hs = [act(np.concatenate(parts, axis=1)) for parts in zip(*branches)]
    ss = _conv_bn(xs, p, sw)
    return [act(h + s) for h, s in zip(hs, ss)]


def _reference_logits(params, series, spec, sw):
    """Logits of each series ((T_i, C) each) run alone, batch norm pooled."""
    act = np.tanh
    p = _Params(params, spec)
    xs = list(series)
    for block in spec.blocks:
        if block.kind == "conv":
            xs = [act(z) for z in _conv_bn(xs, p, sw)]
        elif block.kind == "residual":
            xs = _residual(xs, block, p, sw, act)
        else:
            xs = _inception(xs, block, p, sw, act)
    reduce = np.mean if spec.global_pooling == "mean" else np.max
    a = np.array([reduce(x, axis=0) for x in xs])
    return a @ p.dense[0] + p.dense[1]


def _reference_loss(logits, y, sw):
    logp = logits - logits.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    return -(sw * logp[np.arange(len(y)), y]).sum() / sw.sum()


# ---------------------------------------------------------- the networks
def _spec(n_timepoints, shape_name, n_channels=2, global_pooling="mean"):
    kinds = {
        "fcn": dict(n_filters=(3, 4, 3), kernel_size=[(1, 4), (1, 3), (1, 2)]),
        "resnet": dict(
            n_filters=(3, 3),
            kernel_size=[((1, 4), (1, 3)), ((1, 3), (1, 2))],
            block="residual",
            block_depth=2,
        ),
        "inception": dict(
            n_filters=(2,), kernel_size=(1, 4), block="inception", block_depth=2
        ),
        # kernels longer than every series (1 to 9 steps), kept whole
        "fcn-long": dict(
            n_filters=(3, 2, 2),
            kernel_size=[(1, 12), (1, 10), (1, 3)],
            whole_kernels=True,
        ),
        "resnet-long": dict(
            n_filters=(2, 3),
            kernel_size=[((1, 12), (1, 5)), ((1, 11), (1, 2))],
            block="residual",
            block_depth=2,
            whole_kernels=True,
        ),
        "inception-long": dict(
            n_filters=(2,),
            kernel_size=(1, 13),
            block="inception",
            block_depth=2,
            whole_kernels=True,
        ),
    }
    # the same on the FFT engine: one spectrum per module (._spectral)
    kinds["inception-long-fft"] = dict(kinds["inception-long"], algorithm="scipy")
    options = dict(kinds[shape_name])
    return build_spec(
        (1, n_timepoints, n_channels), options.pop("n_filters"),
        options.pop("kernel_size"), 1, 1, None, (), "tanh", 3, "softmax",
        padding="same", batch_norm=True, global_pooling=global_pooling, **options,
    )  # fmt: skip


def _problem(shape_name, n_channels=2, global_pooling="mean", seed=0):
    rng = np.random.RandomState(seed)
    series = [rng.standard_normal((t, n_channels)) for t in LENGTHS]
    longest = max(LENGTHS)
    X = np.zeros((len(series), 1, longest, n_channels))
    for i, x in enumerate(series):
        X[i, 0, : len(x)] = x
    valid = valid_cells(LENGTHS, (1, longest))
    spec = _spec(longest, shape_name, n_channels, global_pooling)
    params = init_params(spec, rng, np.float64)
    # intercepts, shifts and scales away from their starts
    params = [q + rng.uniform(-0.5, 0.5, size=q.shape) for q in params]
    y = rng.randint(3, size=len(series))
    sw = rng.uniform(0.5, 2, size=len(series))
    return series, X, valid, np.eye(3)[y], y, sw, spec, params


NETWORKS = [
    ("fcn", 2, "mean"),
    ("fcn", 1, "max"),
    ("resnet", 2, "mean"),
    ("resnet", 3, "max"),  # a shortcut of batch norm alone first
    ("inception", 2, "mean"),
    ("inception", 1, "mean"),  # the first module without a bottleneck
    ("fcn-long", 2, "mean"),
    ("resnet-long", 3, "max"),
    ("inception-long", 2, "mean"),
    ("inception-long-fft", 2, "mean"),
]


@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: "-".join(map(str, n)))
def test_masked_batch_is_each_series_alone_with_pooled_statistics(network):
    series, X, valid, Y, y, sw, spec, params = _problem(*network)
    assert keeps_length(spec)
    logits, _ = forward(params, X, spec, keep_cache=True, sample_weight=sw,
                        valid=valid)  # fmt: skip
    expected = _reference_logits(params, series, spec, sw)
    assert_allclose(logits, expected, rtol=1e-10, atol=1e-12)
    loss, _ = loss_and_grad(params, X, Y, spec, 0.0, sw, valid=valid)
    assert_allclose(loss, _reference_loss(expected, y, sw), rtol=1e-10)


@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: "-".join(map(str, n)))
def test_masked_gradient_against_finite_differences(network):
    _, X, valid, Y, _, sw, spec, params = _problem(*network, seed=1)
    shapes = [q.shape for q in params]
    flat = pack(params)

    def loss_at(theta):
        return loss_and_grad(unpack(theta, shapes), X, Y, spec, 0.1, sw,
                             valid=valid)[0]  # fmt: skip

    grad = pack(loss_and_grad(params, X, Y, spec, 0.1, sw, valid=valid)[1])
    h = 1e-6
    numeric = np.empty_like(flat)
    for k in range(flat.size):
        step = np.zeros_like(flat)
        step[k] = h
        numeric[k] = (loss_at(flat + step) - loss_at(flat - step)) / (2 * h)
    assert np.linalg.norm(grad - numeric) < 1e-6 * np.linalg.norm(numeric)


@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: "-".join(map(str, n)))
def test_padding_values_do_not_matter(network):
    _, X, valid, Y, _, sw, spec, params = _problem(*network)
    garbage = X.copy()
    pad = ~valid[..., None].repeat(X.shape[-1], axis=-1)
    garbage[pad] = 1e3 * np.random.RandomState(5).standard_normal(pad.sum())
    loss, grads = loss_and_grad(params, X, Y, spec, 0.1, sw, valid=valid)
    loss_g, grads_g = loss_and_grad(params, garbage, Y, spec, 0.1, sw, valid=valid)
    assert loss_g == loss
    for g, gg in zip(grads, grads_g, strict=True):
        assert_allclose(gg, g, rtol=1e-13, atol=1e-15)
    # the gradient with respect to the input is zero on the padding
    from sklearn_xcnn._core._network import backward

    _, caches = forward(params, garbage, spec, keep_cache=True, valid=valid)
    _, dX = backward(np.ones((len(X), 3)), params, caches, spec, input_grad=True)
    assert np.all(dX[pad] == 0) and np.any(dX[~pad] != 0)


@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: "-".join(map(str, n)))
def test_an_all_valid_mask_is_the_unmasked_network(network):
    *_, spec, params = _problem(*network)
    rng = np.random.RandomState(3)
    X = rng.standard_normal((4, *spec.blocks[0].in_shape))
    Y = np.eye(3)[rng.randint(3, size=4)]
    sw = rng.uniform(0.5, 2, size=4)
    everything = np.ones((4, 1, X.shape[2]), dtype=bool)
    loss, grads = loss_and_grad(params, X, Y, spec, 0.1, sw)
    loss_m, grads_m = loss_and_grad(params, X, Y, spec, 0.1, sw, valid=everything)
    assert_allclose(loss_m, loss, rtol=1e-12)
    for g, gm in zip(grads, grads_m, strict=True):
        assert_allclose(gm, g, rtol=1e-9, atol=1e-12)


def test_running_statistics_come_from_the_valid_steps():
    series, X, valid, *_, spec, params = _problem("fcn")
    batch = []
    forward(params, X, spec, keep_cache=True, batch_stats=batch, valid=valid)
    # the first block's correlation at the valid steps, series by series
    w = params[0]
    z = np.concatenate([_conv(x, w, np.zeros(w.shape[0])) for x in series])
    mean, var = batch[0]
    assert_allclose(mean, z.mean(axis=0), rtol=1e-10)
    assert_allclose(var, z.var(axis=0, ddof=1), rtol=1e-10)  # unbiased
    assert len(batch) == 3


@pytest.mark.parametrize("kind", ["mean", "max"])
def test_masked_global_pooling_against_loops_and_finite_differences(kind):
    rng = np.random.RandomState(0)
    a, dout = rng.normal(size=(3, 1, 6, 2)), rng.normal(size=(3, 2))
    valid = valid_cells([6, 2, 4], (1, 6))
    out, cache = global_pool_forward(a, kind, valid)
    reduce = np.mean if kind == "mean" else np.max
    expected = [reduce(a[i, 0, :t], axis=0) for i, t in enumerate([6, 2, 4])]
    assert_allclose(out, expected, rtol=1e-12)
    da = global_pool_backward(dout, cache)
    numeric = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        plus, minus = a.copy(), a.copy()
        plus[i] += 1e-6
        minus[i] -= 1e-6
        numeric[i] = (
            (global_pool_forward(plus, kind, valid)[0] * dout).sum()
            - (global_pool_forward(minus, kind, valid)[0] * dout).sum()
        ) / 2e-6
    assert_allclose(da, numeric, rtol=1e-6, atol=1e-8)
    assert np.all(da[~valid] == 0)


@pytest.mark.parametrize(
    "network", [n for n in NETWORKS if n[0].endswith("-long")], ids=lambda n: n[0]
)
def test_each_length_alone_through_its_own_spec(network):
    """Kept whole, the kernels give every length the same parameters: each
    series (1 to 9 steps) runs alone, unmasked, through the spec built for
    its own length (as prediction by length does), and matches the
    reference (the inception's max-pool window of 3 included, on 2 steps)."""
    series, *_, params = _problem(*network)
    longest = _spec(max(LENGTHS), *network)
    shapes = [[u.kernel for u in b.conv_units] for b in longest.blocks]
    for x in series:
        own = _spec(len(x), *network)
        assert [[u.kernel for u in b.conv_units] for b in own.blocks] == shapes
        logits, _ = forward(params, x[None, None], own, keep_cache=True)
        expected = _reference_logits(params, [x], own, np.ones(1))
        assert_allclose(logits, expected, rtol=1e-10, atol=1e-12)


def test_long_kernels_are_kept_whole_only_when_asked():
    whole = [u.kernel for b in _spec(9, "fcn-long").blocks for u in b.conv_units]
    assert whole == [(1, 12), (1, 10), (1, 3)]
    options = dict(padding="same", global_pooling="mean")
    spec = build_spec((1, 9, 2), (3,), (1, 12), 1, 1, None, (), "tanh", 3,
                      "softmax", **options)  # fmt: skip
    assert spec.blocks[0].kernel == (1, 9)  # clipped to the input
    assert spec.blocks[0].padding == ((0, 0), (4, 4))
    spec = build_spec((1, 9, 2), (3,), (1, 12), 1, 1, None, (), "tanh", 3,
                      "softmax", whole_kernels=True, **options)  # fmt: skip
    assert spec.blocks[0].kernel == (1, 12)
    assert spec.blocks[0].padding == ((0, 0), (5, 6))
    assert spec.blocks[0].conv_shape == (1, 9)
    # 'valid' padding: a kernel is still clipped to the (padded) input
    spec = build_spec((1, 9, 2), (3,), (1, 12), 1, 1, None, (), "tanh", 3,
                      "softmax", padding="valid", whole_kernels=True)  # fmt: skip
    assert spec.blocks[0].kernel == (1, 9)


def test_a_network_that_changes_the_length_refuses_a_mask():
    spec = build_spec((1, 9, 1), (2,), (1, 3), 1, (1, 2), "max", (), "relu", 2,
                      "softmax", padding="same", global_pooling="mean")  # fmt: skip
    assert not keeps_length(spec)
    assert not keeps_length(_spec(9, "fcn")._replace(global_pooling=None))
    params = init_params(spec, np.random.RandomState(0), np.float64)
    with pytest.raises(ValueError, match="keep the size of their maps"):
        forward(params, np.zeros((2, 1, 9, 1)), spec, valid=valid_cells([9, 4], (1, 9)))


@pytest.mark.parametrize("mode", ["threads", "processes"])
def test_masked_parts_over_the_cores_are_one_batch(mode, monkeypatch):
    # a masked batch split over the cores: its parts hold different numbers
    # of valid steps per series, yet loss, gradients and batch statistics
    # are those of one call on all the rows
    from sklearn_xcnn import _processes
    from sklearn_xcnn._training import loss_and_grad_parts

    from ..test_parallel import _Split

    if mode == "processes" and not _processes.AVAILABLE:
        pytest.skip("worker processes are POSIX-only")
    _, X, valid, Y, _, sw, spec, params = _problem("resnet", seed=2)
    stats = []
    loss, grads = loss_and_grad_parts(params, X, Y, spec, 0.3, sw, [slice(0, 5)],
                                      None, batch_stats=stats, valid=valid)  # fmt: skip
    parts = [slice(0, 2), slice(2, 5)]  # lengths 7, 4 | 9, 5, 9
    stats_p = []
    with _Split(mode, 2, monkeypatch) as runner:
        loss_p, grads_p = loss_and_grad_parts(
            params, X, Y, spec, 0.3, sw, parts, runner, batch_stats=stats_p,
            valid=valid,
        )  # fmt: skip
    assert_allclose(loss_p, loss, rtol=1e-12)
    for g, gp in zip(grads, grads_p, strict=True):
        assert_allclose(gp, g, rtol=1e-9, atol=1e-12)
    for (mean, var), (mean_p, var_p) in zip(stats, stats_p, strict=True):
        assert_allclose(mean_p, mean, rtol=1e-12)
        assert_allclose(var_p, var, rtol=1e-12)
