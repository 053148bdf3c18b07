"""The squared-error network: every parameter's gradient against central
finite differences of a plain definition, and one plain SGD step.

The reference loss is written here from scratch: loops over scipy's 2-D
correlation for the blocks, loops over the pooling windows (partial windows
kept), ``0.5 * mean((z - y)**2)`` over samples and outputs, and the L2 term
``0.5 * alpha * ||weights||^2 / n_samples`` (weights, not intercepts), as in
:class:`~sklearn.neural_network.MLPRegressor`.
"""

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.signal import correlate2d
from sklearn.exceptions import ConvergenceWarning

from sklearn_xcnn import CNNRegressor
from sklearn_xcnn._core._network import (
    build_spec,
    init_params,
    loss_and_grad,
    n_conv_params,
)

from ..conftest import V02

PLAIN_ACTIVATIONS = {
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "tanh": np.tanh,
    "logistic": lambda z: 1 / (1 + np.exp(-z)),
    "identity": lambda z: z,
}
POOL_REDUCE = {"max": np.max, "mean": np.mean, "sum": np.sum}


def _plain_block(x, w, b, block, pooling, activation):
    """x (n, H, W, C), w (F, C, kr, kc) -> (n, Hp, Wp, F), by loops."""
    (top, bottom), (left, right) = block.padding
    x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    stride, pool = block.stride, block.pool
    n, _, _, C = x.shape
    F = w.shape[0]
    sr, sc = stride
    maps = []
    for i in range(n):
        per_filter = []
        for f in range(F):
            full = sum(correlate2d(x[i, :, :, c], w[f, c], "valid") for c in range(C))
            per_filter.append(full[::sr, ::sc] + b[f])
        maps.append(per_filter)
    a = PLAIN_ACTIVATIONS[activation](np.array(maps))  # (n, F, Ho, Wo)
    if pooling is not None:
        pr, pc = pool
        Ho, Wo = a.shape[2:]
        pooled = np.empty((n, F, math.ceil(Ho / pr), math.ceil(Wo / pc)))
        for r in range(pooled.shape[2]):
            for c in range(pooled.shape[3]):
                window = a[:, :, r * pr : (r + 1) * pr, c * pc : (c + 1) * pc]
                pooled[:, :, r, c] = POOL_REDUCE[pooling](window, axis=(2, 3))
        a = pooled
    return a.transpose(0, 2, 3, 1)  # (n, Hp, Wp, F)


def plain_outputs(params, X, spec):
    """The network's outputs (n, n_outputs) for images X (n, H, W, C)."""
    a = X
    for i, block in enumerate(spec.blocks):
        w, b = params[2 * i], params[2 * i + 1]
        a = _plain_block(a, w, b, block, spec.pooling, spec.activation)
    if spec.global_pooling == "mean":
        flat = a.mean(axis=(1, 2))  # (n, F)
    elif spec.global_pooling == "max":
        flat = a.max(axis=(1, 2))
    else:
        flat = a.transpose(0, 3, 1, 2).reshape(len(X), -1)  # filters x rows x cols
    dense = params[n_conv_params(spec) :]
    for i in range(0, len(dense), 2):
        flat = flat @ dense[i] + dense[i + 1]
        if i < len(dense) - 2:
            flat = PLAIN_ACTIVATIONS[spec.activation](flat)
    return flat


def plain_loss(params, X, Y, spec, alpha, sample_weight=None):
    """The regularised half mean squared error of the network, by definition."""
    outputs = plain_outputs(params, X, spec)
    w = np.ones(len(X)) if sample_weight is None else sample_weight
    loss = 0.5 * (w @ ((outputs - Y) ** 2).mean(axis=1)) / w.sum()
    weights = params[0::2]  # filters and coefs sit at even positions
    return loss + 0.5 * alpha * sum((p**2).sum() for p in weights) / w.sum()


def numeric_gradient(params, X, Y, spec, alpha, sample_weight=None, eps=1e-6):
    grads = []
    for p in params:
        g = np.empty_like(p)
        for index in np.ndindex(*p.shape):
            saved = p[index]
            p[index] = saved + eps
            up = plain_loss(params, X, Y, spec, alpha, sample_weight)
            p[index] = saved - eps
            down = plain_loss(params, X, Y, spec, alpha, sample_weight)
            p[index] = saved
            g[index] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def _relative_error(a, b):
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return np.linalg.norm(a - b) / scale if scale > 0 else 0.0


IMAGE_SHAPE = (6, 5, 2)


def _regression_spec(n_filters, pooling, algorithm, n_outputs, **kw):
    args = dict(
        image_shape=IMAGE_SHAPE,
        kernel_size=2,
        stride=1,
        pool_size=2,
        hidden_units=(3,),
        activation="tanh",
    )
    args.update(kw)
    return build_spec(
        args["image_shape"],
        n_filters,
        args["kernel_size"],
        args["stride"],
        args["pool_size"],
        pooling,
        args["hidden_units"],
        args["activation"],
        n_outputs,
        "identity",
        algorithm,
        loss="squared_error",
        padding=args.get("padding", "valid"),
        global_pooling=args.get("global_pooling"),
    )


def _problem(spec, n=4, seed=0, weighted=False):
    rng = np.random.RandomState(seed)
    params = init_params(spec, rng, np.float64)
    X = rng.normal(size=(n, *IMAGE_SHAPE))
    Y = rng.normal(size=(n, spec.layer_units[-1]))
    sw = rng.uniform(0.5, 2.0, size=n) if weighted else None
    return params, X, Y, sw


def _check_gradient(spec, alpha, weighted=False, seed=0):
    params, X, Y, sw = _problem(spec, seed=seed, weighted=weighted)
    loss, grads = loss_and_grad(params, X, Y, spec, alpha, sw)
    assert spec.loss == "squared_error" and spec.out_activation == "identity"
    assert loss == pytest.approx(plain_loss(params, X, Y, spec, alpha, sw), rel=1e-10)
    numeric = numeric_gradient(params, X, Y, spec, alpha, sw)
    assert len(grads) == len(params)
    for i, (g, ng) in enumerate(zip(grads, numeric, strict=True)):
        assert g.shape == params[i].shape
        assert _relative_error(g, ng) < 1e-6, f"parameter {i}"


@pytest.mark.parametrize("algorithm", ["im2col", "scipy"])
@pytest.mark.parametrize("n_filters", [(2,), (2, 3)], ids=["one_block", "stacked"])
@pytest.mark.parametrize("pooling", ["max", "mean", "sum", None])
@pytest.mark.parametrize("n_outputs", [1, 3], ids=["single", "multi"])
def test_squared_error_gradient(algorithm, n_filters, pooling, n_outputs):
    spec = _regression_spec(n_filters, pooling, algorithm, n_outputs)
    _check_gradient(spec, alpha=0.1)


@pytest.mark.parametrize("activation", ["relu", "logistic", "identity"])
@pytest.mark.parametrize("algorithm", ["im2col", "scipy"])
def test_squared_error_gradient_other_activations(activation, algorithm):
    spec = _regression_spec(
        (2, 2), "max", algorithm, 2, activation=activation, stride=(1, 2)
    )
    _check_gradient(spec, alpha=0.0, seed=1)


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_squared_error_gradient_with_sample_weight(n_outputs):
    spec = _regression_spec((2,), "mean", "im2col", n_outputs, hidden_units=(4, 2))
    _check_gradient(spec, alpha=0.5, weighted=True)


@pytest.mark.parametrize("algorithm", ["im2col", "scipy"])
@pytest.mark.parametrize(
    "padding, global_pooling",
    [("same", None), ([1, (0, 1)], None), ("valid", "mean"), ("same", "max")],
)
def test_squared_error_gradient_with_padding_and_global_pooling(
    algorithm, padding, global_pooling
):
    spec = _regression_spec(
        (2, 2), "max", algorithm, 2, padding=padding, global_pooling=global_pooling
    )
    if padding != "valid":
        assert any(block.padding != ((0, 0), (0, 0)) for block in spec.blocks)
    _check_gradient(spec, alpha=0.1, seed=2)


def test_squared_error_gradient_without_blocks_or_hidden_layers():
    spec = _regression_spec((), None, "im2col", 2, hidden_units=())
    _check_gradient(spec, alpha=0.2)


# ----------------------------------------------------------- one SGD step
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_one_full_batch_sgd_step_is_w_minus_lr_grad(n_outputs):
    """Plain SGD (no momentum), one batch of all rows: a partial_fit moves the
    fitted weights by exactly ``-learning_rate_init * grad``, the gradient of
    the plain definition at the weights before the step."""
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(12, 6 * 5))
    Y = rng.normal(size=(12, n_outputs))
    y = Y[:, 0] if n_outputs == 1 else Y
    lr, alpha = 0.05, 0.3
    # the 0.2 regime: a constant rate, no dropout, plain 'valid' blocks (the
    # plain definition has no batch norm)
    reg = CNNRegressor(
        **{**V02, "n_filters": 2, "hidden_units": 3, "batch_size": 12, "max_iter": 2},
        kernel_size=2, activation="tanh", pooling="mean", image_shape=(6, 5),
        solver="sgd", momentum=0.0, learning_rate_init=lr, alpha=alpha,
        shuffle=False, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    spec, params, _ = reg._fitted_network()
    before = [p.copy() for p in params]
    images = X.reshape(12, 6, 5, 1)
    grad = numeric_gradient([p.copy() for p in before], images, Y, spec, alpha)
    expected_loss = plain_loss(before, images, Y, spec, alpha)
    reg.partial_fit(X, y)
    after = reg._fitted_network().params
    for b, a, g in zip(before, after, grad, strict=True):
        assert_allclose(a, b - lr * g, rtol=1e-7, atol=1e-9)
        assert not np.allclose(a, b)
    # the epoch's loss is that of the weights the step started from
    assert reg.loss_curve_[-1] == pytest.approx(expected_loss, rel=1e-10)
