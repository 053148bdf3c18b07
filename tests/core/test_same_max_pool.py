"""The max-pool branch of the inception block: 'same' max pooling at stride 1
(``_layers.same_max_pool_forward`` and its backward) against loops."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_xcnn._core._layers import same_max_pool_backward, same_max_pool_forward
from sklearn_xcnn._core._pad import same_padding


def _loops(x, window):
    """Per cell, the maximum of its window and the first cell holding it
    (window offsets in row-major order, cells off the edge left out)."""
    n, H, W, C = x.shape
    (t, _), (left, _) = [same_padding(s, k, 1) for s, k in zip((H, W), window)]
    out = np.empty_like(x)
    winner = np.empty(x.shape + (2,), dtype=int)
    for s, i, j, c in np.ndindex(n, H, W, C):
        best = None
        for p in range(window[0]):
            for q in range(window[1]):
                r, col = i + p - t, j + q - left
                if 0 <= r < H and 0 <= col < W:
                    if best is None or x[s, r, col, c] > best:
                        best, winner[s, i, j, c] = x[s, r, col, c], (r, col)
        out[s, i, j, c] = best
    return out, winner


@pytest.mark.parametrize(("shape", "window"), [((2, 1, 9, 3), (1, 3)),
                                              ((1, 5, 4, 2), (3, 3)),
                                              ((2, 4, 6, 1), (2, 3))])  # fmt: skip
def test_same_max_pool_matches_loops_with_ties(shape, window):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, size=shape).astype(float)  # many ties
    out, cache = same_max_pool_forward(x, window)
    expected, winner = _loops(x, window)
    assert_array_equal(out, expected)
    d = rng.normal(size=shape)
    dx = same_max_pool_backward(d, cache)
    expected_dx = np.zeros(shape)
    for s, i, j, c in np.ndindex(*shape):
        r, col = winner[s, i, j, c]
        expected_dx[s, r, col, c] += d[s, i, j, c]
    assert_allclose(dx, expected_dx, rtol=1e-12)


def test_same_max_pool_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 1, 7, 2))
    d = rng.normal(size=x.shape)
    _, cache = same_max_pool_forward(x, (1, 3))
    dx = same_max_pool_backward(d, cache)
    eps, numeric = 1e-6, np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric[index] = (
            np.sum(d * same_max_pool_forward(plus, (1, 3))[0])
            - np.sum(d * same_max_pool_forward(minus, (1, 3))[0])
        ) / (2 * eps)
    assert_allclose(dx, numeric, rtol=1e-6, atol=1e-9)
