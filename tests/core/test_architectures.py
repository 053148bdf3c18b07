"""Every architecture option of the network core against an independent
computation: padded images correlated with ``scipy.signal.correlate2d``,
batch norm and pooling written with loops, dropout with a fixed mask; and
every parameter's gradient against central finite differences, for both
engines."""

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.signal import correlate2d

from sklearn_xcnn._core._network import (
    build_spec,
    forward,
    init_params,
    init_stats,
    loss_and_grad,
    pack,
    param_shapes,
    split_params,
    unpack,
)
from sklearn_xcnn._core._norm import BN_EPSILON

PLAIN_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "logistic": lambda z: 1 / (1 + np.exp(-z)),
    "identity": lambda z: z,
}


def _spec(**kw):
    args = dict(
        image_shape=(6, 7, 2),
        n_filters=(3, 2),
        kernel_size=3,
        stride=1,
        pool_size=2,
        pooling="max",
        hidden_units=(4,),
        activation="tanh",
        n_outputs=3,
        out_activation="softmax",
    )
    args.update(kw)
    positional = [
        args.pop(k)
        for k in (
            "image_shape",
            "n_filters",
            "kernel_size",
            "stride",
            "pool_size",
            "pooling",
            "hidden_units",
            "activation",
            "n_outputs",
            "out_activation",
        )
    ]
    return build_spec(*positional, **args)


def _pool_loops(a, pool, kind):
    """Non-overlapping pooling with partial edge windows, by loops."""
    n, H, W, F = a.shape
    pr, pc = pool
    out = np.zeros((n, -(-H // pr), -(-W // pc), F))
    for i, j in np.ndindex(out.shape[1:3]):
        window = a[:, i * pr : (i + 1) * pr, j * pc : (j + 1) * pc]
        if kind == "max":
            out[:, i, j] = window.max(axis=(1, 2))
        elif kind == "sum":
            out[:, i, j] = window.sum(axis=(1, 2))
        else:
            out[:, i, j] = window.mean(axis=(1, 2))
    return out


def reference_forward(params, X, spec, training, stats=None, masks=None):
    """The network by its definition, independent of the core's code."""
    groups = split_params(params, spec)
    act = PLAIN_ACTIVATIONS[spec.activation]
    a = X
    for b, block in enumerate(spec.blocks):
        x = np.pad(a, ((0, 0), *block.padding, (0, 0)))
        w = groups["filters"][b]
        sr, sc = block.stride
        Ho, Wo = block.conv_shape
        z = np.zeros((x.shape[0], Ho, Wo, block.n_filters))
        for n, f in itertools.product(range(x.shape[0]), range(block.n_filters)):
            full = sum(
                correlate2d(x[n, :, :, c], w[f, c], mode="valid")
                for c in range(x.shape[3])
            )
            z[n, :, :, f] = full[::sr, ::sc][:Ho, :Wo]
        bias = groups["filter_intercepts"][b]
        if block.batch_norm:
            if training:
                mean, var = z.mean(axis=(0, 1, 2)), z.var(axis=(0, 1, 2))
            else:
                mean, var = stats[b]
            scale = groups["batch_norm_scales"][b]
            z = scale * (z - mean) / np.sqrt(var + BN_EPSILON) + bias
        else:
            z = z + bias
        a = act(z)
        if spec.pooling is not None:
            a = _pool_loops(a, block.pool, spec.pooling)
    if spec.global_pooling == "mean":
        a = a.mean(axis=(1, 2))
    elif spec.global_pooling == "max":
        a = a.max(axis=(1, 2))
    else:
        a = a.transpose(0, 3, 1, 2).reshape(len(a), -1)
    n_layers = len(groups["coefs"])
    for layer, (W, c) in enumerate(zip(groups["coefs"], groups["intercepts"])):
        if training and masks is not None:
            a = a * masks[layer]
        a = a @ W + c
        if layer < n_layers - 1:
            a = act(a)
    return a


OPTIONS = [
    {},
    {"padding": "same"},
    {"padding": 1, "pooling": "mean"},
    {"padding": [(0, 2), "same"], "pooling": "sum"},
    {"padding": "same", "stride": 2, "pooling": None},
    {"kernel_size": [3, (2, 1)], "stride": [2, 1], "pool_size": [(2, 1), 2]},
    {"batch_norm": True},
    {"batch_norm": True, "pooling": "mean", "padding": "same"},
    {"batch_norm": True, "pooling": None, "activation": "relu"},
    {"global_pooling": "mean"},
    {"global_pooling": "max", "pooling": None, "hidden_units": ()},
    {
        "padding": "same",
        "batch_norm": True,
        "global_pooling": "mean",
        "hidden_units": (),
    },
    {"dropout": 0.4},
    {"dropout": 0.5, "batch_norm": True, "out_activation": "identity"},
    # batch norm before max pooling with scales of both signs: the maximum
    # of a map with a negative gain is taken at its smallest cell
    {"batch_norm": True, "scales": "mixed"},
    {"batch_norm": True, "scales": "mixed", "padding": "same", "stride": 2},
]


def _setup(options, algorithm, seed):
    """Spec, parameters, images, targets and dropout masks of a case."""
    options = dict(options)
    mixed = options.pop("scales", None) == "mixed"
    spec = _spec(algorithm=algorithm, **options)
    params, X, Y, masks = _problem(spec, seed)
    if mixed:
        groups = split_params(params, spec)
        for scale in groups["batch_norm_scales"]:
            scale[::2] *= -1  # split_params gives views of params
    return spec, params, X, Y, masks


def _problem(spec, seed=0):
    rng = np.random.RandomState(seed)
    params = [
        p + rng.normal(scale=0.2, size=p.shape)
        for p in init_params(spec, rng, np.float64)
    ]
    X = rng.normal(size=(5, *spec.blocks[0].in_shape))
    if spec.loss == "log_loss":
        Y = np.eye(spec.layer_units[-1])[rng.randint(spec.layer_units[-1], size=5)]
    else:
        Y = rng.normal(size=(5, spec.layer_units[-1]))
    masks = None
    if spec.dropout:
        keep = 1 - spec.dropout
        masks = [(rng.rand(5, u) < keep) / keep for u in spec.layer_units[:-1]]
    return params, X, Y, masks


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("algorithm", ["im2col", "scipy"])
def test_forward_matches_the_definition(options, algorithm):
    spec, params, X, _, masks = _setup(options, algorithm, 0)
    # training: batch statistics and the dropout masks
    logits, _ = forward(params, X, spec, keep_cache=True, masks=masks)
    expected = reference_forward(params, X, spec, True, masks=masks)
    assert_allclose(logits, expected, rtol=1e-9, atol=1e-10)
    # prediction: running statistics, no dropout
    rng = np.random.RandomState(3)
    stats = [
        None
        if s is None
        else (rng.normal(size=s[0].shape), rng.uniform(0.5, 2, s[1].shape))
        for s in init_stats(spec, np.float64)
    ]
    logits = forward(params, X, spec, stats=stats, masks=masks)[0]
    expected = reference_forward(params, X, spec, False, stats=stats)
    assert_allclose(logits, expected, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("algorithm", ["im2col", "scipy"])
def test_gradients_match_finite_differences(options, algorithm):
    spec, params, X, Y, masks = _setup(options, algorithm, 1)
    shapes = param_shapes(spec)
    flat = pack(params)
    sw = np.linspace(0.5, 2, 5)

    def loss(theta):
        return loss_and_grad(unpack(theta, shapes), X, Y, spec, 0.3, sw, masks=masks)[0]

    _, grads = loss_and_grad(
        unpack(flat.copy(), shapes), X, Y, spec, 0.3, sw, masks=masks
    )
    analytic = pack(grads)
    numeric = np.empty_like(flat)
    for i in range(flat.size):
        step = np.zeros_like(flat)
        step[i] = 1e-6
        numeric[i] = (loss(flat + step) - loss(flat - step)) / 2e-6
    scale = np.abs(numeric).max()
    assert np.abs(analytic - numeric).max() / scale < 1e-6


def test_dropout_rate_zero_is_no_dropout():
    spec = _spec(dropout=0.0)
    params, X, Y, _ = _problem(spec)
    ones = [np.ones((5, u)) for u in spec.layer_units[:-1]]
    with_masks = loss_and_grad(params, X, Y, spec, 0.1, masks=ones)
    without = loss_and_grad(params, X, Y, spec, 0.1)
    assert with_masks[0] == without[0]
    for a, b in zip(with_masks[1], without[1]):
        np.testing.assert_array_equal(a, b)


def test_dropout_fixed_mask_by_hand():
    """No blocks, 2 inputs -> 2 identity hidden units -> 1 output, so the
    dropped network can be written out: the mask zeroes input 0 and doubles
    input 1 (rate 0.5)."""
    spec = build_spec(
        (1, 2, 1), (), 1, 1, 1, None, (2,), "identity", 1, "identity", dropout=0.5
    )
    W0, c0 = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -0.5])
    W1, c1 = np.array([[1.0], [-1.0]]), np.array([0.25])
    x = np.array([[[[2.0], [5.0]]]])  # inputs (2, 5)
    masks = [np.array([[0.0, 2.0]]), np.array([[2.0, 0.0]])]
    logits, _ = forward([W0, c0, W1, c1], x, spec, keep_cache=True, masks=masks)
    hidden = np.array([0 * 2 * 1 + 2 * 5 * 3, 0 * 2 * 2 + 2 * 5 * 4]) + c0  # 30.5, 39.5
    assert logits[0, 0] == pytest.approx(2 * hidden[0] * 1 + 0 * hidden[1] * -1 + 0.25)
    # at prediction the masks are ignored
    plain = forward([W0, c0, W1, c1], x, spec, masks=masks)[0]
    assert plain[0, 0] == pytest.approx(
        (np.array([2.0, 5.0]) @ W0 + c0) @ W1[:, 0] + 0.25
    )


def test_seed_network_shapes():
    """5x5 X, 4 filters 3x3, max pooling, 3 hidden units: 5x5x1 -> 3x3x4 ->
    2x2x4 -> 16 -> 3 -> 1, and with 'same' padding the maps stay 5x5."""
    spec = _spec(
        image_shape=(5, 5, 1),
        n_filters=(4,),
        hidden_units=(3,),
        n_outputs=1,
        out_activation="logistic",
    )
    assert spec.blocks[0].conv_shape == (3, 3) and spec.blocks[0].out_shape == (2, 2, 4)
    assert spec.layer_units == (16, 3, 1)
    same = _spec(
        image_shape=(5, 5, 1),
        n_filters=(4,),
        padding="same",
        hidden_units=(3,),
        n_outputs=1,
        out_activation="logistic",
    )
    assert same.blocks[0].conv_shape == (5, 5) and same.blocks[0].out_shape == (3, 3, 4)
