"""Global pooling against loops, and its gradient against finite differences."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_xcnn._core._pool import global_pool_backward, global_pool_forward


@pytest.mark.parametrize("kind", ["mean", "max"])
def test_forward_matches_loops(kind):
    a = np.random.RandomState(0).normal(size=(3, 4, 5, 2))
    out, _ = global_pool_forward(a, kind)
    reduce = np.mean if kind == "mean" else np.max
    expected = np.array([[reduce(a[i, :, :, f]) for f in range(2)] for i in range(3)])
    assert_allclose(out, expected)


@pytest.mark.parametrize("kind", ["mean", "max"])
def test_backward_matches_finite_differences(kind):
    rng = np.random.RandomState(1)
    a, dout = rng.normal(size=(2, 3, 3, 2)), rng.normal(size=(2, 2))
    _, cache = global_pool_forward(a, kind)
    da = global_pool_backward(dout, cache)
    numeric = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        plus, minus = a.copy(), a.copy()
        plus[i] += 1e-6
        minus[i] -= 1e-6
        numeric[i] = (
            (global_pool_forward(plus, kind)[0] * dout).sum()
            - (global_pool_forward(minus, kind)[0] * dout).sum()
        ) / 2e-6
    assert_allclose(da, numeric, rtol=1e-6, atol=1e-8)


def test_max_ties_go_to_the_first_cell():
    a = np.ones((1, 2, 2, 1))
    _, cache = global_pool_forward(a, "max")
    da = global_pool_backward(np.array([[1.0]]), cache)
    assert da[0, :, :, 0].tolist() == [[1.0, 0.0], [0.0, 0.0]]
