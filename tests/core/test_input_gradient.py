"""The input gradient of the network core (``backward(..., input_grad=True)``)
against central finite differences of the logits with respect to every input
pixel, for every architecture option of :mod:`.test_architectures` and every
block kind (residual units with and without a change of channels, inception
blocks with and without bottlenecks, dilation), both engines, in training
mode (batch statistics, dropout masks) and as the network predicts (batch
norm folded by ``fold_network``). Then every block kind run alone as it
predicts (``fold_block`` and ``block_maps``) against the kind's own
prediction pass with the running statistics (the forward assembled by hand
is in ``tests/inspection/test_feature_maps_block_kinds.py``)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_xcnn._core._kinds import BLOCK_KINDS, Context
from sklearn_xcnn._core._network import (
    backward,
    block_maps,
    block_offsets,
    build_spec,
    fold_block,
    fold_network,
    forward,
    init_params,
    init_stats,
    network_block_maps,
)
from sklearn_xcnn._core._pool import pool_forward

from .test_architectures import OPTIONS, _setup

EPS = 1e-6

# the block kinds, on the default 6x7x2 images of test_architectures
KIND_OPTIONS = [
    # residual: block 0 changes the channels (1x1 conv shortcut), block 1
    # keeps them (batch norm alone as the shortcut)
    {"block": "residual", "n_filters": (3, 3), "block_depth": 2},
    {"block": ["conv", "residual"], "n_filters": (2, 2), "pooling": "mean"},
    {"block": "residual", "n_filters": (2,), "block_depth": 2, "dilation": 2,
     "pooling": None, "global_pooling": "mean", "dropout": 0.3},
    # inception: two channels (bottlenecks), and one channel (none)
    {"block": "inception", "n_filters": (2,), "kernel_size": 4, "block_depth": 2},
    {"block": ["conv", "inception"], "n_filters": (1, 2), "kernel_size": 4,
     "block_depth": 1, "pooling": "sum", "dilation": [1, 2]},
    # dilated plain blocks
    {"dilation": [2, (1, 2)], "padding": "same", "batch_norm": True},
]  # fmt: skip


def _numeric_input_gradient(f, X):
    """Central differences of the scalar ``f`` at every entry of ``X``."""
    numeric = np.empty_like(X)
    for idx in np.ndindex(X.shape):
        step = np.zeros_like(X)
        step[idx] = EPS
        numeric[idx] = (f(X + step) - f(X - step)) / (2 * EPS)
    return numeric


def _assert_close(analytic, numeric):
    scale = np.abs(numeric).max()
    assert scale > 0
    assert np.abs(analytic - numeric).max() / scale < 1e-6


def _random_stats(spec):
    rng = np.random.RandomState(3)
    return [
        None
        if s is None
        else (rng.normal(size=s[0].shape), rng.uniform(0.5, 2, s[1].shape))
        for s in init_stats(spec, np.float64)
    ]


@pytest.mark.parametrize("options", OPTIONS + KIND_OPTIONS)
@pytest.mark.parametrize("algorithm", ["im2col", "scipy"])
def test_training_input_gradient_matches_finite_differences(options, algorithm):
    spec, params, X, _, masks = _setup(options, algorithm, 2)
    X = X[:3]
    masks = None if masks is None else [m[:3] for m in masks]
    delta = np.random.RandomState(4).normal(size=(3, spec.layer_units[-1]))

    def f(x):  # batch norm's batch statistics couple the samples
        return float((forward(params, x, spec, True, masks=masks)[0] * delta).sum())

    _, caches = forward(params, X, spec, True, masks=masks)
    grads, dX = backward(delta, params, caches, spec, input_grad=True)
    assert dX.shape == X.shape
    _assert_close(dX, _numeric_input_gradient(f, X))
    # the parameter gradients are those of the plain backward pass
    plain = backward(
        delta, params, forward(params, X, spec, True, masks=masks)[1], spec
    )
    for a, b in zip(grads, plain):
        assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("options", OPTIONS + KIND_OPTIONS)
@pytest.mark.parametrize("algorithm", ["im2col", "scipy"])
def test_prediction_input_gradient_matches_finite_differences(options, algorithm):
    spec, params, X, _, masks = _setup(options, algorithm, 5)
    X = X[:2]
    stats = _random_stats(spec)
    delta = np.random.RandomState(6).normal(size=(2, spec.layer_units[-1]))

    def f(x):  # as predicted: running statistics, no dropout
        return float((forward(params, x, spec, stats=stats)[0] * delta).sum())

    folded, folded_spec = fold_network(params, spec, stats)
    logits, caches = forward(folded, X, folded_spec, True)
    assert_allclose(logits, forward(params, X, spec, stats=stats)[0], rtol=1e-10)
    _, dX = backward(delta, folded, caches, folded_spec, input_grad=True)
    _assert_close(dX, _numeric_input_gradient(f, X))


@pytest.mark.parametrize("global_pooling", [None, "mean", "max"])
def test_input_gradient_without_blocks(global_pooling):
    """No convolutional block: the dense layers read the image itself,
    flattened as channels x rows x cols (or globally pooled per channel)."""
    spec = build_spec(
        (3, 4, 2), (), 1, 1, 1, None, (3,), "tanh", 2, "softmax",
        global_pooling=global_pooling,
    )  # fmt: skip
    rng = np.random.RandomState(0)
    params = init_params(spec, rng, np.float64)
    X = rng.normal(size=(2, 3, 4, 2))
    delta = rng.normal(size=(2, 2))
    _, caches = forward(params, X, spec, True)
    _, dX = backward(delta, params, caches, spec, input_grad=True)

    def f(x):
        return float((forward(params, x, spec)[0] * delta).sum())

    _assert_close(dX, _numeric_input_gradient(f, X))


def test_input_gradient_of_a_linear_network_by_hand():
    """One 2x2 filter on a 2x3 image, no pooling, identity activation and
    one output: the logit is ``sum(coef[j] * (w . window_j)) + ...``, so the
    gradient of pixel (r, c) is the sum of ``coef[j] * w[r - r_j, c - c_j]``
    over the windows ``j`` covering it."""
    spec = build_spec((2, 3, 1), (1,), 2, 1, 1, None, (), "identity", 1, "identity")
    w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])  # (1, 1, 2, 2)
    coefs = np.array([[10.0], [100.0]])  # the two windows, left and right
    params = [w, np.zeros(1), coefs, np.zeros(1)]
    X = np.arange(6.0).reshape(1, 2, 3, 1)
    _, caches = forward(params, X, spec, True)
    _, dX = backward(np.ones((1, 1)), params, caches, spec, input_grad=True)
    expected = [
        [10 * 1, 10 * 2 + 100 * 1, 100 * 2],
        [10 * 3, 10 * 4 + 100 * 3, 100 * 4],
    ]
    assert_allclose(dX[0, :, :, 0], expected)


def test_fold_network_leaves_a_network_without_batch_norm_alone():
    spec = build_spec((5, 5, 1), (2,), 3, 1, 2, "max", (3,), "relu", 1, "logistic")
    params = init_params(spec, np.random.RandomState(0), np.float64)
    folded, folded_spec = fold_network(params, spec, init_stats(spec, np.float64))
    assert folded_spec == spec
    assert all(a is b for a, b in zip(folded, params))


@pytest.mark.parametrize("options", KIND_OPTIONS)
@pytest.mark.parametrize("algorithm", ["im2col", "scipy"])
def test_block_maps_are_the_blocks_as_they_predict(options, algorithm):
    spec, params, X, _, _ = _setup(options, algorithm, 7)
    stats = _random_stats(spec)
    a = X
    for block, (pairs, scales, slots) in zip(spec.blocks, block_offsets(spec)):
        block_params = (params[slice(*pairs)], params[slice(*scales)])
        ctx = Context(False, stats[slice(*slots)], None, None, None)
        expected, _ = BLOCK_KINDS[block.kind].forward(
            a.copy(), block_params, block, spec, ctx
        )
        folded = fold_block(*block_params, stats[slice(*slots)], block)
        activated, out = block_maps(a, folded[:2], folded[2], spec)
        assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
        if spec.pooling is not None:
            assert_allclose(pool_forward(activated, block.pool, spec.pooling)[0], out)
        assert activated.shape[1:3] == block.conv_shape
        a = expected
    folded, folded_spec = fold_network(params, spec, stats)
    last = network_block_maps(folded, X, folded_spec)[-1][1]
    assert_allclose(last, a, rtol=1e-10, atol=1e-12)
