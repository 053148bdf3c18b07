"""Stride-1 correlation of series as one matrix product per kernel tap,
without a patch matrix.

The images ``x`` (n, H, W, C), flattened to rows ``(n * H * W, C)``, are
correlated on their own grid: row ``r`` of the output grid ``(n, H, W, F)``
is ``sum_{p, q} x_rows[r + p * W + q] @ w[:, :, p, q].T``, the same shift of
the rows for every tap. The valid output, ``(n, Ho, Wo, F)``, is the grid's
first ``Ho`` rows and ``Wo`` columns of each image; the other cells of the
grid mix neighbouring images and are dropped. Each tap is one BLAS product
that adds in place into the grid (``beta = 1``): nothing is copied but the
valid cells at the end, where im2col writes a patch matrix ``kr * kc`` times
the size of ``x`` (and keeps it for the backward pass). The grid has ``H *
W`` rows per image against ``Ho * Wo``: for a series with 'same' padding, a
few more rows than the output.

The backward pass lays the output gradient on the same grid, with zeros
outside the valid cells (:func:`output_grid`). The filter gradient of a tap
is then ``x_rows[shift:].T @ grid_rows`` (one product over every cell), and
the input gradient one product per tap added into a shifted run of the input
rows (:func:`shifted_input_gradient`, which the im2col engine uses as well).

Each product has only ``C`` (forward) or ``F`` (input gradient) as its inner
size, so the path serves convolutions with many channels and few taps: the
series networks' (issue 22). :func:`use_taps` says when. A series (one-row
images and kernels) pairs its taps instead, in training and prediction
alike (:mod:`._pairs`); the grid here serves the other one-row or
one-column kernels.
"""

import numpy as np
from scipy.linalg.blas import get_blas_funcs

from ._gemm import gemm_add, transposed_product

# the taps path serves one-row kernels (series) on inputs of at least this
# many channels: a product whose inner size is C runs at 90-95 % of
# im2col's rate from 64 channels (float32, one thread), and saves the patch
# matrix. Fewer channels (the first convolution of a network) keep im2col
TAPS_MIN_CHANNELS = 32

# the forward pass correlates in groups of images whose output grid has at
# most this many entries, so that the grid stays in cache across the taps:
# a 128x128 convolution of kernel 8 on 256 series of 263 points ran at 75-80
# GFLOP/s (float32, one thread) in groups of 2**17 or 2**18 entries, 64-71
# in groups of 2**20 or more
GRID_ENTRIES = 2**18


def use_taps(x_shape, w_shape, stride, dilation, pool_order):
    """Whether the im2col engine correlates ``x_shape`` (n, H, W, C) with
    filters ``w_shape`` (F, C, kr, kc) by taps: stride 1, no dilation, no
    pool order, a one-row kernel of several taps, many channels."""
    _, _, kr, kc = w_shape
    return (
        tuple(stride) == (1, 1)
        and tuple(dilation) == (1, 1)
        and pool_order is None
        and min(kr, kc) == 1
        and kr * kc > 1
        and x_shape[3] >= TAPS_MIN_CHANNELS
    )


def _tap_matrices(w, dtype):
    """Filters ``(F, C, kr, kc)`` as ``(kr, kc, C, F)``: one ``(C, F)``
    matrix per tap, contiguous."""
    return np.ascontiguousarray(w.transpose(2, 3, 1, 0), dtype=dtype)


def _correlate_grid(x, taps, grid):
    """Fill ``grid`` (n, H, W, F) with the correlation of ``x`` (n, H, W, C)
    on its grid (the cells past the valid ones are left as they are)."""
    n, H, W, C = x.shape
    kr, kc = taps.shape[:2]
    rows, out = x.reshape(-1, C), grid.reshape(-1, taps.shape[3])
    count = rows.shape[0] - (kr - 1) * W - (kc - 1)  # rows every tap reaches
    gemm = get_blas_funcs("gemm", (rows,))
    for p in range(kr):
        for q in range(kc):
            shift = p * W + q
            beta = 0.0 if shift == 0 else 1.0
            gemm_add(gemm, rows[shift : shift + count], taps[p, q], out[:count], beta)


def taps_forward(x, w, keep_cache=True):
    """Correlate ``x`` (n, H, W, C) with ``w`` (F, C, kr, kc) at stride 1,
    one product per tap on the grid, a group of images at a time.

    Returns
    -------
    out : ndarray of shape (n, Ho, Wo, F)
    x : ndarray of shape (n, H, W, C)
        The (contiguous) input, which the backward pass needs; None without
        ``keep_cache``.
    """
    x = np.ascontiguousarray(x)
    n, H, W, C = x.shape
    F, _, kr, kc = w.shape
    Ho, Wo = H - kr + 1, W - kc + 1
    taps = _tap_matrices(w, np.result_type(x, w))
    out = np.empty((n, Ho, Wo, F), dtype=taps.dtype)
    group = max(1, GRID_ENTRIES // (H * W * F))
    grid = np.empty((min(group, n), H, W, F), dtype=taps.dtype)
    for start in range(0, n, group):
        part = x[start : start + group]
        g = grid[: part.shape[0]]
        _correlate_grid(part, taps, g)
        out[start : start + group] = g[:, :Ho, :Wo]
    return out, (x if keep_cache else None)


def output_grid(dout, x_shape, kernel, layout=None, from_pool_order=None):
    """``dout`` (n, Ho, Wo, F) laid on the input's grid ``(n, H, W, F)``,
    zeros past ``(Ho, Wo)``; from pool order (see :mod:`._pool`) when a
    ``layout`` is given, through ``from_pool_order``."""
    n, H, W, _ = x_shape
    kr, kc = kernel
    Ho, Wo = H - kr + 1, W - kc + 1
    F = dout.shape[-1]
    grid = np.empty((n, H, W, F), dtype=dout.dtype)
    grid[:, Ho:] = 0
    grid[:, :Ho, Wo:] = 0
    if layout is None:
        grid[:, :Ho, :Wo] = dout
    else:  # the pool-order blocks straight onto the grid
        from_pool_order(dout, layout, out=grid[:, :Ho, :Wo])
    return grid


def shifted_input_gradient(grid, x_shape, w):
    """The input gradient of a stride-1 correlation from the output
    gradient on the input's grid (:func:`output_grid`).

    Row ``r`` of the grid, flattened, sends its gradient to row ``r + p * W
    + q`` of the flattened ``dx`` for tap ``(p, q)``: the same shift for
    every row. The rows a shift carries past an image's last row or column
    are the grid's zeros, so each tap is one matrix product that BLAS adds
    in place into a contiguous run of ``dx``'s rows.
    """
    n, H, W, C = x_shape
    F, _, kr, kc = w.shape
    rows = grid.reshape(-1, F)
    dx = np.zeros(x_shape, dtype=grid.dtype)
    dx_rows = dx.reshape(-1, C)
    gemm = get_blas_funcs("gemm", (rows,))
    total = rows.shape[0]
    for p in range(kr):
        for q in range(kc):
            shift = p * W + q
            kernel = np.ascontiguousarray(w[:, :, p, q], dtype=grid.dtype)  # (F, C)
            gemm_add(gemm, rows[: total - shift], kernel, dx_rows[shift:])
    return dx


def taps_filter_gradient(grid, x, w_shape):
    """``dw`` (F, C, kr, kc) from the output gradient on the grid and the
    input ``x``: per tap, ``x_rows[shift:].T @ grid_rows``."""
    n, H, W, C = x.shape
    F, _, kr, kc = w_shape
    rows, d = x.reshape(-1, C), grid.reshape(-1, F)
    count = rows.shape[0] - (kr - 1) * W - (kc - 1)
    dw = np.empty((kr, kc, C, F), dtype=grid.dtype)
    for p in range(kr):
        for q in range(kc):
            shift = p * W + q
            dw[p, q] = transposed_product(rows[shift : shift + count], d[:count])
    return np.ascontiguousarray(dw.transpose(3, 2, 0, 1))


def taps_backward(dout, x, w, need_dx):
    """``(dx or None, dw)`` of :func:`taps_forward` given ``dout``."""
    grid = output_grid(dout, x.shape, w.shape[2:])
    dw = taps_filter_gradient(grid, x, w.shape)
    dx = shifted_input_gradient(grid, x.shape, w) if need_dx else None
    return dx, dw
