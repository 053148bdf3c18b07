"""Batch normalisation against its plain definition, finite differences and
PyTorch's documented running-average rule, worked by hand."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_xcnn._core._norm import (
    BN_EPSILON,
    BN_MOMENTUM,
    batch_norm_backward,
    batch_norm_forward,
    batch_norm_max_pool_backward,
    batch_norm_max_pool_forward,
    update_running_stats,
)
from sklearn_xcnn._core._pool import (
    from_pool_order,
    max_pool_ordered,
    max_pool_ordered_backward,
    to_pool_order,
)


def test_forward_with_batch_statistics():
    z = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 60.0]])
    scale, shift = np.array([2.0, 0.5]), np.array([0.0, 1.0])
    out, _, (mean, unbiased) = batch_norm_forward(z, scale, shift)
    # column 0: mean 2, biased variance 2/3
    expected0 = 2.0 * (z[:, 0] - 2.0) / np.sqrt(2 / 3 + BN_EPSILON)
    assert_allclose(out[:, 0], expected0)
    assert_allclose(mean, [2.0, 30.0])
    assert_allclose(unbiased, [1.0, np.var([10, 20, 60], ddof=1)])
    assert_allclose(out[:, 1].mean(), 1.0)  # the shift is the new mean


def test_forward_with_running_statistics():
    z = np.array([[1.0], [3.0]])
    stats = (np.array([1.0]), np.array([4.0]))
    out, cache, batch = batch_norm_forward(z, np.array([3.0]), np.array([1.0]), stats)
    assert cache is None and batch is None
    assert_allclose(out[:, 0], 3.0 * (z[:, 0] - 1.0) / np.sqrt(4.0 + BN_EPSILON) + 1)


def test_backward_matches_finite_differences():
    rng = np.random.RandomState(0)
    z, dout = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    scale, shift = rng.normal(size=3), rng.normal(size=3)

    def loss(z, scale, shift):
        return float((batch_norm_forward(z, scale, shift)[0] * dout).sum())

    _, cache, _ = batch_norm_forward(z, scale, shift, keep_cache=True)
    dz, dscale, dshift = batch_norm_backward(dout, cache)
    for arg, analytic in enumerate((dz, dscale, dshift)):
        values = [z.copy(), scale.copy(), shift.copy()]
        numeric = np.zeros_like(values[arg])
        for i in np.ndindex(numeric.shape):
            plus = [v.copy() for v in values]
            minus = [v.copy() for v in values]
            plus[arg][i] += 1e-6
            minus[arg][i] -= 1e-6
            numeric[i] = (loss(*plus) - loss(*minus)) / 2e-6
        assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_running_stats_follow_pytorch_momentum():
    running = (np.array([0.0, 1.0]), np.array([1.0, 1.0]))
    update_running_stats(running, (np.array([2.0, 3.0]), np.array([5.0, 9.0])))
    assert BN_MOMENTUM == 0.1
    assert_allclose(running[0], [0.9 * 0 + 0.1 * 2, 0.9 * 1 + 0.1 * 3])
    assert_allclose(running[1], [0.9 * 1 + 0.1 * 5, 0.9 * 1 + 0.1 * 9])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    z = np.arange(12, dtype=dtype).reshape(6, 2)
    out, cache, (mean, var) = batch_norm_forward(
        z, np.ones(2, dtype), np.zeros(2, dtype), keep_cache=True
    )
    dz, dscale, dshift = batch_norm_backward(np.ones_like(z), cache)
    for a in (out, mean, var, dz, dscale, dshift):
        assert a.dtype == dtype


def test_weights_count_as_repeated_rows_and_zero_as_removed():
    rng = np.random.RandomState(2)
    z = rng.normal(size=(5, 3))
    weights = np.array([2.0, 0.0, 1.0, 3.0, 1.0])
    scale, shift = rng.normal(size=3), rng.normal(size=3)
    out, _, stats = batch_norm_forward(z, scale, shift, weights=weights)
    repeated = np.repeat(z, weights.astype(int), axis=0)
    out_r, _, stats_r = batch_norm_forward(repeated, scale, shift)
    assert_allclose(stats[0], stats_r[0])
    assert_allclose(stats[1], stats_r[1])
    assert_allclose(np.repeat(out, weights.astype(int), axis=0), out_r)


def test_weighted_backward_matches_finite_differences():
    rng = np.random.RandomState(3)
    z, dout = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    weights = rng.uniform(0.2, 2.0, size=6)
    scale, shift = rng.normal(size=2), rng.normal(size=2)

    def loss(z):
        out = batch_norm_forward(z, scale, shift, weights=weights)[0]
        return float((out * dout).sum())

    _, cache, _ = batch_norm_forward(z, scale, shift, keep_cache=True, weights=weights)
    dz, _, _ = batch_norm_backward(dout, cache)
    numeric = np.zeros_like(z)
    for i in np.ndindex(z.shape):
        plus, minus = z.copy(), z.copy()
        plus[i] += 1e-6
        minus[i] -= 1e-6
        numeric[i] = (loss(plus) - loss(minus)) / 2e-6
    assert_allclose(dz, numeric, rtol=1e-6, atol=1e-8)


def test_folding_into_the_filters_equals_normalising_the_correlation():
    """Prediction folds batch norm into the filters and intercepts; negative
    scales included."""
    from sklearn_xcnn._core._conv import correlate_forward
    from sklearn_xcnn._core._norm import fold_batch_norm

    rng = np.random.RandomState(4)
    x, w = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(4, 3, 2, 3))
    shift, scale = rng.normal(size=4), np.array([1.5, -0.7, 0.2, -2.0])
    stats = (rng.normal(size=4), rng.uniform(0.1, 3.0, size=4))
    z, _ = correlate_forward(x, w, (1, 1), "im2col")
    expected, _, _ = batch_norm_forward(z.reshape(-1, 4), scale, shift, stats)
    w_f, b_f = fold_batch_norm(w, shift, scale, stats)
    folded, _ = correlate_forward(x, w_f, (1, 1), "im2col")
    assert_allclose(folded.reshape(-1, 4) + b_f, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    ("shape", "pool"), [((3, 4, 6, 4), (2, 2)), ((2, 5, 3, 4), (2, 3))]
)
def test_batch_norm_then_max_pool_in_one(weighted, shape, pool):
    """The fused training pass equals batch norm followed by max pooling,
    forward and backward, with gains of both signs and partial windows."""
    rng = np.random.RandomState(0)
    n, H, W, F = shape
    layout = (n, H, W, *pool)
    z = to_pool_order(rng.normal(size=shape), pool)
    scale = np.array([1.5, -0.7, 0.3, -2.0])
    shift = rng.normal(size=F)
    cells = None
    if weighted:  # each image's weight on all its cells, in pool order
        image = rng.uniform(0.5, 2, size=n)
        cells = to_pool_order(np.broadcast_to(image[:, None, None, None], shape), pool)[
            :, 0
        ]
    normed, cache, stats = batch_norm_forward(z.copy(), scale, shift, None, True, cells)
    expected, argmax = max_pool_ordered(normed.copy(), layout, True)
    out, fused_cache, fused_stats = batch_norm_max_pool_forward(
        z.copy(), scale, shift, layout, cells
    )
    assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert_allclose(fused_stats, stats, rtol=1e-12)
    dout = rng.normal(size=out.shape)
    dz, dscale, dshift = batch_norm_backward(
        max_pool_ordered_backward(dout, argmax, layout), cache
    )
    dz_f, dscale_f, dshift_f = batch_norm_max_pool_backward(dout, fused_cache)
    assert_allclose(dz_f, dz, rtol=1e-10, atol=1e-12)
    assert_allclose(dscale_f, dscale, rtol=1e-10)
    assert_allclose(dshift_f, dshift, rtol=1e-10)
    if not weighted:  # a map with a negative gain pools its smallest cells
        maps = from_pool_order(z, layout)[..., 1]
        zhat = (maps[0, : pool[0], : pool[1]].min() - maps.mean()) / np.sqrt(
            maps.var() + BN_EPSILON
        )
        assert_allclose(out[0, 0, 0, 1], scale[1] * zhat + shift[1])


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pooled", [False, True])
def test_deferred_spread_adds_up_to_the_gradient(weighted, pooled):
    """Deferred, the statistics' term comes apart from ``dz``: the two sum
    to the full gradient, and its product with a patch matrix equals the
    product with the formed term (the filter gradient of a first block)."""
    rng = np.random.RandomState(1)
    shape, pool = (3, 4, 5, 4), (2, 2)
    n = shape[0]
    layout = (*shape[:3], *pool)
    z = to_pool_order(rng.normal(size=shape), pool)
    scale, shift = np.array([1.5, -0.7, 0.3, -2.0]), rng.normal(size=4)
    cells = None
    if weighted:
        image = rng.uniform(0.5, 2, size=n)
        cells = to_pool_order(np.broadcast_to(image[:, None, None, None], shape), pool)
        cells = cells[:, 0]
    if pooled:
        out, cache, _ = batch_norm_max_pool_forward(
            z.copy(), scale, shift, layout, cells
        )
        dout = rng.normal(size=out.shape)
        full = batch_norm_max_pool_backward(dout, cache)
        deferred = batch_norm_max_pool_backward(dout, cache, defer_spread=True)
    else:
        out, cache, _ = batch_norm_forward(z.copy(), scale, shift, None, True, cells)
        dout = rng.normal(size=out.shape)
        full = batch_norm_backward(dout, cache)
        deferred = batch_norm_backward(dout, cache, defer_spread=True)
    dz, dscale, dshift, spread = deferred
    assert_allclose(dz + spread.dense(), full[0], rtol=1e-12, atol=1e-12)
    assert_allclose(dscale, full[1])
    assert_allclose(dshift, full[2])
    cols = rng.normal(size=(z.shape[0], 7))
    assert_allclose(
        spread.left_product(cols), cols.T @ spread.dense(), rtol=1e-10, atol=1e-12
    )
    # and by hand: -share * (maps * along + across), share 1/m unweighted
    maps, along, across, share = spread
    share = np.full(z.shape[0], 1 / z.shape[0]) if share is None else share
    expected = -share[:, None] * (maps * along + across)
    assert_allclose(spread.dense(), expected, rtol=1e-12, atol=1e-14)
