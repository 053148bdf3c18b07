"""Whole-network forward and backward: the seed case, the plain definition,
and every parameter's gradient against central finite differences."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.signal import correlate2d
from scipy.special import expit

from sklearn_xcnn._core._activations import ACTIVATIONS
from sklearn_xcnn._core._conv import correlate_forward
from sklearn_xcnn._core._network import (
    add_scaled,
    build_spec,
    forward,
    init_params,
    loss_and_grad,
    pack,
    param_shapes,
    unpack,
)
from sklearn_xcnn._core._pool import pool_forward

CENTRED_X = np.array(
    [
        [1, 0, 0, 0, 1],
        [0, 1, 0, 1, 0],
        [0, 0, 1, 0, 0],
        [0, 1, 0, 1, 0],
        [1, 0, 0, 0, 1],
    ],
    dtype=float,
)


def _spec(image_shape, n_filters, **kw):
    args = dict(
        kernel_size=3,
        stride=1,
        pool_size=2,
        pooling="max",
        hidden_units=(3,),
        activation="relu",
        n_outputs=1,
        out_activation="logistic",
        algorithm="im2col",
    )
    args.update(kw)
    return build_spec(
        image_shape,
        n_filters,
        args["kernel_size"],
        args["stride"],
        args["pool_size"],
        args["pooling"],
        args["hidden_units"],
        args["activation"],
        args["n_outputs"],
        args["out_activation"],
        args["algorithm"],
    )


def test_seed_case_x_or_not_x():
    """A centred 5x5 X, 3x3 filters at stride 1: 3x3 maps, 2x2 pooled, 16 values."""
    x = CENTRED_X[None, :, :, None]
    diagonal = np.eye(3)[None, None]  # one 3x3 filter (1, 1, 3, 3)
    out, _ = correlate_forward(x, diagonal, (1, 1), "im2col")
    assert out.shape == (1, 3, 3, 1)
    assert_array_equal(out[0, :, :, 0], correlate2d(CENTRED_X, np.eye(3), "valid"))
    assert out[0, 0, 0, 0] == 3.0  # the diagonal filter fits the top-left stroke

    spec = _spec((5, 5, 1), (4,))
    block = spec.blocks[0]
    assert block.conv_shape == (3, 3)
    assert block.out_shape == (2, 2, 4)
    assert spec.layer_units == (16, 3, 1)
    params = init_params(spec, np.random.RandomState(0), np.float64)
    assert [p.shape for p in params] == [
        (4, 1, 3, 3),
        (4,),
        (16, 3),
        (3,),
        (3, 1),
        (1,),
    ]
    logits, _ = forward(params, x, spec)
    assert logits.shape == (1, 1)


def _plain_forward(params, X, spec):
    """correlate -> + bias -> activation -> pool, flatten filters x rows x cols."""
    a = X
    act = ACTIVATIONS[spec.activation]
    for i, block in enumerate(spec.blocks):
        w, b = params[2 * i], params[2 * i + 1]
        z, _ = correlate_forward(a, w, block.stride, "scipy")
        a = act(z + b)
        if spec.pooling is not None:
            a, _ = pool_forward(a, block.pool, spec.pooling)
    flat = np.stack([a[n].transpose(2, 0, 1).ravel() for n in range(a.shape[0])])
    dense = params[2 * len(spec.blocks) :]
    for i in range(0, len(dense), 2):
        flat = flat @ dense[i] + dense[i + 1]
        if i < len(dense) - 2:
            flat = act(flat)
    return flat


@pytest.mark.parametrize("pooling", ["max", "mean", "sum", None])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_forward_equals_plain_definition(pooling, activation):
    rng = np.random.RandomState(0)
    spec = _spec(
        (9, 8, 2), (3, 2), pooling=pooling, activation=activation, stride=(1, 2)
    )
    params = init_params(spec, rng, np.float64)
    X = rng.normal(size=(4, 9, 8, 2))
    logits, _ = forward(params, X, spec)
    assert_allclose(logits, _plain_forward(params, X, spec), rtol=1e-10, atol=1e-12)


def test_kernel_and_pool_clipped_to_the_map():
    spec = _spec((1, 5, 1), (2,), kernel_size=3, pool_size=4)
    block = spec.blocks[0]
    assert block.kernel == (1, 3)
    assert block.conv_shape == (1, 3)
    assert block.pool == (1, 3)
    assert block.out_shape == (1, 1, 2)
    spec = _spec((1, 1, 1), (2, 2))
    assert spec.layer_units[0] == 2


def _targets(kind, n, rng):
    if kind == "binary":
        return (rng.rand(n, 1) > 0.5).astype(float), "logistic"
    if kind == "multiclass":
        return np.eye(3)[rng.randint(3, size=n)], "softmax"
    return (rng.rand(n, 3) > 0.5).astype(float), "logistic"  # multilabel


def _numeric_gradient(params, X, Y, spec, alpha, sw, h=1e-6):
    shapes = param_shapes(spec)
    flat = pack(params)
    grad = np.empty_like(flat)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + h
        plus = loss_and_grad(unpack(flat, shapes), X, Y, spec, alpha, sw)[0]
        flat[k] = old - h
        minus = loss_and_grad(unpack(flat, shapes), X, Y, spec, alpha, sw)[0]
        flat[k] = old
        grad[k] = (plus - minus) / (2 * h)
    return grad


CASES = [
    # pooling, stride, n_filters, hidden, channels, target kind, engine
    ("max", 1, (3,), (4,), 1, "binary", "im2col"),
    ("mean", 1, (3,), (4,), 1, "binary", "scipy"),
    ("sum", 1, (3,), (4,), 1, "binary", "im2col"),
    (None, 1, (2,), (4,), 1, "binary", "im2col"),
    ("max", 2, (3,), (4,), 2, "multiclass", "im2col"),
    ("mean", 2, (3,), (), 2, "multiclass", "scipy"),
    ("sum", 2, (2,), (3,), 3, "multilabel", "im2col"),
    ("max", 1, (3, 2), (4, 3), 2, "multiclass", "im2col"),
    ("mean", 1, (2, 2), (3,), 3, "multilabel", "scipy"),
    ("sum", 2, (2, 2), (), 1, "binary", "scipy"),
    ("max", 2, (2, 3), (3,), 3, "multilabel", "scipy"),
]


@pytest.mark.parametrize(
    ("pooling", "stride", "n_filters", "hidden", "channels", "target", "engine"), CASES
)
def test_gradients_match_finite_differences(
    pooling, stride, n_filters, hidden, channels, target, engine
):
    rng = np.random.RandomState(42)
    Y, out_activation = _targets(target, 5, rng)
    spec = _spec(
        (8, 7, channels),
        n_filters,
        pooling=pooling,
        stride=stride,
        hidden_units=hidden,
        activation="tanh",
        n_outputs=Y.shape[1],
        out_activation=out_activation,
        algorithm=engine,
    )
    params = init_params(spec, rng, np.float64)
    X = rng.normal(size=(5, 8, 7, channels))
    sw = rng.uniform(0.5, 2.0, size=5)
    loss, grads = loss_and_grad(params, X, Y, spec, 0.3, sw)
    analytic = pack(grads)
    numeric = _numeric_gradient(params, X, Y, spec, 0.3, sw)
    relative = np.abs(analytic - numeric).max() / np.abs(numeric).max()
    assert relative < 1e-6
    # every parameter group receives a gradient of the right shape
    assert [g.shape for g in grads] == [p.shape for p in params]


@pytest.mark.parametrize("activation", ["relu", "logistic", "identity"])
def test_gradients_every_activation(activation):
    rng = np.random.RandomState(3)
    spec = _spec(
        (6, 6, 1), (2,), activation=activation, n_outputs=3, out_activation="softmax"
    )
    params = init_params(spec, rng, np.float64)
    X = rng.normal(size=(4, 6, 6, 1))
    Y = np.eye(3)[[0, 1, 2, 1]]
    loss, grads = loss_and_grad(params, X, Y, spec, 1e-2, None)
    numeric = _numeric_gradient(params, X, Y, spec, 1e-2, None)
    analytic = pack(grads)
    assert np.abs(analytic - numeric).max() / np.abs(numeric).max() < 1e-6


def test_loss_is_mean_log_loss_plus_l2():
    rng = np.random.RandomState(0)
    spec = _spec((5, 5, 1), (2,))
    params = init_params(spec, rng, np.float64)
    X = rng.normal(size=(6, 5, 5, 1))
    Y = (rng.rand(6, 1) > 0.5).astype(float)
    logits, _ = forward(params, X, spec)
    p = expit(logits)
    log_loss = -np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p))
    l2 = sum((w**2).sum() for w in params[0::2])
    loss, _ = loss_and_grad(params, X, Y, spec, 0.5, None)
    assert_allclose(loss, log_loss + 0.5 * 0.5 * l2 / 6)


@pytest.mark.parametrize("layout", ["contiguous", "strided", "float32"])
def test_add_scaled_adds_in_place(layout):
    rng = np.random.default_rng(0)
    base = rng.normal(size=(4, 6))
    target = {"contiguous": base, "strided": base[:, ::2], "float32": base}[layout]
    if layout == "float32":
        target = target.astype(np.float32)
    x = rng.normal(size=target.shape)
    expected = target + 0.3 * x
    out = add_scaled(target, x, 0.3)
    assert out is target
    assert_allclose(target, expected, rtol=1e-6 if layout == "float32" else 1e-12)
