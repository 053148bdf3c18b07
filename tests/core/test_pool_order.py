"""The fast paths against the plain definitions.

Pool-ordered patch rows, max pooling over contiguous blocks and its argmax
routing, and gathered small patch matrices must give exactly what natural
(n, Ho, Wo) order, the offset-by-offset pooling and strided copies give.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_xcnn._core import _conv
from sklearn_xcnn._core._conv import (
    ENGINES,
    correlate_backward,
    correlate_forward,
    patch_matrix,
)
from sklearn_xcnn._core._pool import (
    from_pool_order,
    max_pool_ordered,
    max_pool_ordered_backward,
    pool_backward,
    pool_forward,
    to_pool_order,
)

# (n, H, W, F) maps and (pr, pc) windows: even, odd (partial windows), 1-wide
MAPS = [
    ((2, 4, 6, 3), (2, 2)),
    ((3, 5, 7, 2), (2, 2)),
    ((2, 7, 5, 1), (3, 2)),
    ((1, 1, 4, 2), (1, 3)),
    ((2, 3, 3, 4), (3, 3)),
]


def _layout(shape, pool):
    return (shape[0], shape[1], shape[2], *pool)


@pytest.mark.parametrize(("shape", "pool"), MAPS)
def test_pool_order_is_a_permutation(shape, pool):
    maps = np.arange(np.prod(shape), dtype=float).reshape(shape)
    flat = to_pool_order(maps, pool)
    assert flat.shape == (shape[0] * shape[1] * shape[2], shape[3])
    # every cell exactly once
    assert_array_equal(np.sort(flat.ravel()), maps.ravel())
    assert_array_equal(from_pool_order(flat, _layout(shape, pool)), maps)
    # the first block is offset (0, 0) of every window
    Hp, Wp = -(-shape[1] // pool[0]), -(-shape[2] // pool[1])
    first = flat[: shape[0] * Hp * Wp].reshape(shape[0], Hp, Wp, shape[3])
    assert_array_equal(first, maps[:, :: pool[0], :: pool[1]])


@pytest.mark.parametrize(("shape", "pool"), MAPS)
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool_ordered_matches_pool_forward(shape, pool, ties):
    rng = np.random.default_rng(0)
    maps = rng.normal(size=shape)
    if ties:  # few distinct values: many windows hold equal maxima
        maps = np.round(maps)
    expected, cache = pool_forward(maps, pool, "max")
    flat = to_pool_order(maps, pool)
    out, argmax = max_pool_ordered(flat, _layout(shape, pool), keep_argmax=True)
    assert_array_equal(out, expected)
    # gradients routed to the same cells, once per window
    dout = rng.normal(size=expected.shape)
    dflat = max_pool_ordered_backward(dout, argmax, _layout(shape, pool))
    assert_array_equal(
        from_pool_order(dflat, _layout(shape, pool)), pool_backward(dout, cache)
    )
    # inference skips the argmax and gives the same maxima
    again, none = max_pool_ordered(
        to_pool_order(maps, pool), _layout(shape, pool), False
    )
    assert none is None
    assert_array_equal(again, expected)
    # keep_input leaves the maps as they were; add_to adds the routed
    # gradients to an array instead of returning new ones
    flat = to_pool_order(maps, pool)
    kept, argmax = max_pool_ordered(flat, _layout(shape, pool), True, keep_input=True)
    assert_array_equal(kept, expected)
    assert_array_equal(flat, to_pool_order(maps, pool))
    base = rng.normal(size=flat.shape)
    summed = max_pool_ordered_backward(dout, argmax, _layout(shape, pool), base.copy())
    assert_allclose(summed, base + dflat, rtol=1e-15)


def test_all_equal_window_routes_to_first_cell():
    maps = np.zeros((1, 3, 3, 1))
    layout = (1, 3, 3, 2, 2)
    out, argmax = max_pool_ordered(to_pool_order(maps, (2, 2)), layout, True)
    dflat = max_pool_ordered_backward(np.ones_like(out), argmax, layout)
    d = from_pool_order(dflat, layout)[0, :, :, 0]
    # the first cell of each window (top-left) gets the gradient
    assert_array_equal(d, [[1, 0, 1], [0, 0, 0], [1, 0, 1]])


def _loop_patches(x, kernel, stride):
    """Patch rows by plain loops, natural order."""
    n, H, W, C = x.shape
    (kr, kc), (sr, sc) = kernel, stride
    Ho, Wo = (H - kr) // sr + 1, (W - kc) // sc + 1
    rows = []
    for s in range(n):
        for r in range(Ho):
            for c in range(Wo):
                rows.append(x[s, r * sr : r * sr + kr, c * sc : c * sc + kc].ravel())
    return np.array(rows).reshape(n, Ho, Wo, -1)


PATCHES = [
    ((2, 8, 8, 1), (3, 3), (1, 1), (2, 2)),
    ((3, 9, 8, 2), (3, 2), (2, 1), (2, 3)),
    ((2, 11, 13, 3), (3, 3), (1, 1), (2, 2)),
    ((2, 6, 7, 1), (2, 4), (1, 2), (3, 2)),
]


@pytest.mark.parametrize(("shape", "kernel", "stride", "pool"), PATCHES)
@pytest.mark.parametrize("small", [0, 10**9])
def test_patch_matrix_orders_and_paths(monkeypatch, shape, kernel, stride, pool, small):
    """Strided copies (small=0) and the gathered index give the loop result,
    in natural order and in pool order."""
    monkeypatch.setattr(_conv, "SMALL_PATCHES", small)
    monkeypatch.setattr(_conv, "SMALL_PATCHES_ONE_CHANNEL", small)
    x = np.random.default_rng(1).normal(size=shape)
    natural = _loop_patches(x, kernel, stride)  # (n, Ho, Wo, K)
    assert_array_equal(
        patch_matrix(x, kernel, stride), natural.reshape(-1, natural.shape[3])
    )
    assert_array_equal(
        patch_matrix(x, kernel, stride, pool), to_pool_order(natural, pool)
    )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("shape", "kernel", "stride", "pool"), PATCHES)
def test_correlate_in_pool_order(engine, shape, kernel, stride, pool):
    rng = np.random.default_rng(2)
    x = rng.normal(size=shape)
    w = rng.normal(size=(4, shape[3], *kernel))
    natural, cache = correlate_forward(x, w, stride, engine)
    ordered, ordered_cache = correlate_forward(x, w, stride, engine, pool_order=pool)
    assert_allclose(ordered, to_pool_order(natural, pool), rtol=1e-12, atol=1e-12)
    dout = rng.normal(size=natural.shape)
    dx, dw = correlate_backward(dout, cache)
    dx_o, dw_o = correlate_backward(to_pool_order(dout, pool), ordered_cache)
    assert_allclose(dx_o, dx, rtol=1e-12, atol=1e-12)
    assert_allclose(dw_o, dw, rtol=1e-12, atol=1e-12)
