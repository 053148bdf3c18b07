"""Pooling with partial windows against hand-worked cases."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_xcnn._core._pool import (
    POOLINGS,
    pool_backward,
    pool_forward,
    pool_output_size,
    window_counts,
)

MAP_3x3 = np.array([[1.0, 5.0, 2.0], [3.0, 4.0, -1.0], [0.0, 7.0, 6.0]])

# windows of the 3x3 map with 2x2 pooling: {1, 5, 3, 4}, {2, -1},
# {0, 7} and {6}
HAND_3x3 = {
    "max": [[5.0, 2.0], [7.0, 6.0]],
    "sum": [[13.0, 1.0], [7.0, 6.0]],
    "mean": [[13.0 / 4, 1.0 / 2], [7.0 / 2, 6.0]],
}


@pytest.mark.parametrize("kind", POOLINGS)
def test_partial_windows_3x3(kind):
    a = MAP_3x3[None, :, :, None]
    out, _ = pool_forward(a, (2, 2), kind)
    assert out.shape == (1, 2, 2, 1)
    assert_allclose(out[0, :, :, 0], HAND_3x3[kind])


@pytest.mark.parametrize("kind", POOLINGS)
def test_5x5_pools_to_3x3(kind):
    a = np.arange(25.0).reshape(1, 5, 5, 1)
    out, _ = pool_forward(a, (2, 2), kind)
    assert out.shape == (1, 3, 3, 1)
    # the bottom-right window holds only the corner cell 24
    assert out[0, 2, 2, 0] == 24.0
    # the window at row 2, column 0 holds cells 20 and 21
    expected = {"max": 21.0, "sum": 41.0, "mean": 20.5}[kind]
    assert out[0, 2, 0, 0] == expected


def test_window_counts():
    assert_array_equal(window_counts((3, 3), (2, 2)), [[4, 2], [2, 1]])
    assert_array_equal(window_counts((5, 4), (3, 2)), [[6, 6], [4, 4]])
    assert pool_output_size(5, 2) == 3
    assert pool_output_size(4, 2) == 2


@pytest.mark.parametrize("kind", POOLINGS)
@pytest.mark.parametrize(
    ("shape", "pool"), [((5, 7), (2, 3)), ((4, 4), (2, 2)), ((3, 1), (3, 1))]
)
def test_matches_loop_definition(kind, shape, pool):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2, *shape, 3))
    out, _ = pool_forward(a, pool, kind)
    reduce = {"max": np.max, "sum": np.sum, "mean": np.mean}[kind]
    for r in range(out.shape[1]):
        for c in range(out.shape[2]):
            window = a[
                :, r * pool[0] : (r + 1) * pool[0], c * pool[1] : (c + 1) * pool[1]
            ]
            assert_allclose(out[:, r, c], reduce(window, axis=(1, 2)))


@pytest.mark.parametrize("kind", POOLINGS)
def test_backward_matches_finite_differences(kind):
    rng = np.random.default_rng(2)
    a = rng.normal(size=(2, 5, 3, 2))
    out, cache = pool_forward(a, (2, 2), kind)
    dout = rng.normal(size=out.shape)
    da = pool_backward(dout, cache)
    h = 1e-6
    numeric = np.empty_like(a)
    for idx in np.ndindex(a.shape):
        b = a.copy()
        b[idx] += h
        plus = (pool_forward(b, (2, 2), kind)[0] * dout).sum()
        b[idx] -= 2 * h
        minus = (pool_forward(b, (2, 2), kind)[0] * dout).sum()
        numeric[idx] = (plus - minus) / (2 * h)
    assert_allclose(da, numeric, rtol=1e-6, atol=1e-8)


def test_max_ties_route_gradient_once():
    a = np.zeros((1, 2, 2, 1))
    out, cache = pool_forward(a, (2, 2), "max")
    da = pool_backward(np.ones_like(out), cache)
    assert da.sum() == 1.0


def test_unknown_pooling():
    with pytest.raises(ValueError, match="unknown pooling 'median'"):
        pool_forward(np.zeros((1, 2, 2, 1)), (2, 2), "median")
