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
series networks' (issue 22). :func:`use_taps` says when.

Prediction (no cache) of a series, a one-row kernel on one-row images,
pairs the taps instead (:func:`_correlate_pairs`, Winograd's F(2, 2)):
three products on half the cells for every two taps, 3/4 of the
multiply-adds; :func:`series_predict` also pads, adds the intercepts and
activates as it goes (:func:`use_pairs` says when).
"""

import numpy as np
from scipy.linalg.blas import get_blas_funcs

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

# prediction correlates one-row kernels of at least this many taps by pairs
# of taps (:func:`_correlate_pairs`)
PAIRS_MIN_TAPS = 2


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


def _gemm_add(gemm, a, b, c, beta=1.0):
    """Row-major ``c = a @ b + beta * c`` (``c`` a contiguous run of rows),
    in place: column-major that is ``c.T = b.T @ a.T + beta * c.T``, with
    transposes that copy nothing."""
    out = gemm(1.0, b.T, a.T, beta, c.T, overwrite_c=1)
    if not np.shares_memory(out, c):  # BLAS worked on a copy
        c[...] = out.T


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
            _gemm_add(gemm, rows[shift : shift + count], taps[p, q], out[:count], beta)


def _rows_from(x, first, count, tail):
    """Cells ``first, first + 2, ...`` of each series of ``x`` (n, T, C),
    ``count`` per series (zeros before its first cell, for a negative
    ``first``, and past its last), flattened, and ``tail`` zero rows after:
    ``(n * count + tail, C)``."""
    n, _, C = x.shape
    out = np.empty((n * count + tail, C), dtype=x.dtype)
    body = out[: n * count].reshape(n, count, C)
    skip = max(0, (1 - first) // 2)  # cells before the series' first
    picked = x[:, first + 2 * skip :: 2][:, : max(count - skip, 0)]
    end = skip + picked.shape[1]
    body[:, :skip] = 0
    body[:, skip:end] = picked
    body[:, end:] = 0
    out[n * count :] = 0
    return out


def _correlate_pairs(x, taps, out, left=0, bias=None):
    """Correlate series ``x`` (n, 1, T, C), with ``left`` zeros before each
    (and as many after as ``out`` needs), with a one-row kernel into ``out``
    (n, 1, Wo, F), plus ``bias`` (F,) when given, by pairs of taps: three
    products on half the cells for every two taps, where
    :func:`_correlate_grid` runs two on all of them.

    Each series' cells are paired from its first, even cell ``2s`` with the
    odd one ``2s + 1`` (a zero cell completes a series of odd ``W``, so that
    a series computes the same wherever it lies in the batch), on the grid
    of :func:`_correlate_grid` (whose cells past ``Wo`` are dropped). For taps
    ``(w0, w1)`` at shifts ``(q, q + 1)``, with ``e = x[2s + q]``, ``o =
    x[2s + q + 1]`` and ``f = x[2s + q + 2]``::

        out[2s]     = e @ w0 + o @ w1 = (e - o) @ w0 + o @ (w0 + w1)
        out[2s + 1] = o @ w0 + f @ w1 = o @ (w0 + w1) + (f - o) @ w1

    (Winograd's F(2, 2)): the products ``(e - o) @ w0``, ``o @ (w0 + w1)``
    and ``(f - o) @ w1`` run over the even rows only, and the middle one
    serves both rows. An odd last tap is two plain products (even rows,
    odd rows).

    Parameters
    ----------
    x : ndarray of shape (n, 1, T, C)
    taps : ndarray of shape (kc, C, F)
        One ``(C, F)`` matrix per tap (:func:`_tap_matrices`, its one row).
    out : ndarray of shape (n, 1, Wo, F)
        ``Wo = W - kc + 1`` for the padded series' ``W`` cells.
    left : int, default=0
    bias : ndarray of shape (F,) or None, default=None
    """
    n, _, T, C = x.shape
    kc, _, F = taps.shape
    Wo = out.shape[2]
    P = Wo + kc - 1  # the padded series
    half = (P + 1) // 2
    pairs = kc // 2
    x = x.reshape(n, T, C)
    S = n * half  # output row pairs, the grid's garbage cells included
    tail = pairs + 1  # the shifts reach past the last image
    even = _rows_from(x, -left, half, tail)
    odd = _rows_from(x, 1 - left, half, tail)
    # (f - o): the next even row, the next image's first past an image's end
    after = np.subtract(even[1:], odd[:-1])
    before = np.subtract(even, odd) if kc % 2 else np.subtract(even, odd, out=even)
    dtype = taps.dtype
    acc = np.empty((3, S, F), dtype=dtype)  # even only, both, odd only
    acc[1] = 0 if bias is None else bias  # the term both cells add
    gemm = get_blas_funcs("gemm", (x,))
    for j in range(pairs):
        w0, w1 = taps[2 * j], taps[2 * j + 1]
        beta = 0.0 if j == 0 else 1.0
        _gemm_add(gemm, before[j : j + S], w0, acc[0], beta)
        _gemm_add(gemm, odd[j : j + S], w0 + w1, acc[1])
        _gemm_add(gemm, after[j : j + S], w1, acc[2], beta)
    if kc % 2:  # the last tap alone
        j, w = pairs, taps[-1]
        beta = 0.0 if pairs == 0 else 1.0
        _gemm_add(gemm, even[j : j + S], w, acc[0], beta)
        _gemm_add(gemm, odd[j : j + S], w, acc[2], beta)
    ne, no = (Wo + 1) // 2, Wo // 2  # output cells at even and odd columns
    a0, a1, a2 = (a.reshape(n, half, F) for a in acc)
    np.add(a0[:, :ne], a1[:, :ne], out=out[:, 0, 0::2])
    np.add(a1[:, :no], a2[:, :no], out=out[:, 0, 1::2])


def use_pairs(x_shape, w_shape, unit):
    """Whether prediction runs the convolution ``unit`` (a
    :class:`._units.BlockSpec`) of filters ``w_shape`` on series ``x_shape``
    (n, 1, T, C), before padding, by :func:`series_predict`: the im2col
    engine on the taps path, a one-row kernel of at least
    :data:`PAIRS_MIN_TAPS` taps, padding along the series only."""
    (top, bottom), (left, right) = unit.padding
    padded = (x_shape[0], x_shape[1] + top + bottom, x_shape[2] + left + right,
              x_shape[3])  # fmt: skip
    return (
        unit.engine == "im2col"
        and x_shape[1] == 1
        and top == bottom == 0
        and w_shape[2] == 1
        and w_shape[3] >= PAIRS_MIN_TAPS
        and use_taps(padded, w_shape, unit.stride, unit.dilation, None)
    )


def series_predict(x, w, b, padding, act=None):
    """``correlate(pad(x), w) + b`` for series ``x`` (n, 1, T, C) padded
    along the series by ``padding`` ``((0, 0), (left, right))`` zeros, by
    pairs of taps (:func:`_correlate_pairs`), the padding laid as the pairs
    are formed (no padded copy of ``x``); activated by ``act`` (in place, see
    :mod:`._activations`) group by group, while a group's maps are in cache,
    when given.

    Returns
    -------
    out : ndarray of shape (n, 1, T + left + right - kc + 1, F)
    """
    n, _, T, C = x.shape
    F, _, _, kc = w.shape
    (_, _), (left, right) = padding
    taps = _tap_matrices(w, np.result_type(x, w))[0]
    out = np.empty((n, 1, T + left + right - kc + 1, F), dtype=taps.dtype)
    bias = np.asarray(b, dtype=taps.dtype)
    return _pairs_in_groups(x, taps, out, left, bias, act)


def _pairs_in_groups(x, taps, out, left=0, bias=None, act=None):
    """:func:`_correlate_pairs` of ``x`` into ``out`` a group of series at a
    time, sized to the cache like :func:`_correlate_grid`'s, each group then
    activated by ``act`` when given; returns ``out``."""
    n, _, Wo, F = out.shape
    W = Wo + taps.shape[0] - 1  # the padded series
    group = max(1, GRID_ENTRIES // (W * F))
    for start in range(0, n, group):
        part = slice(start, start + group)
        _correlate_pairs(x[part], taps, out[part], left, bias)
        if act is not None:
            act(out[part])
    return out


def taps_forward(x, w, keep_cache=True):
    """Correlate ``x`` (n, H, W, C) with ``w`` (F, C, kr, kc) at stride 1:
    one product per tap on the grid, or, without ``keep_cache`` for series
    (``H == kr == 1``), by pairs of taps (:func:`_correlate_pairs`).

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
    if not keep_cache and H == kr == 1 and kc >= PAIRS_MIN_TAPS:
        return _pairs_in_groups(x, taps[0], out), None
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
            _gemm_add(gemm, rows[: total - shift], kernel, dx_rows[shift:])
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
            np.matmul(rows[shift : shift + count].T, d[:count], out=dw[p, q])
    return np.ascontiguousarray(dw.transpose(3, 2, 0, 1))


def taps_backward(dout, x, w, need_dx):
    """``(dx or None, dw)`` of :func:`taps_forward` given ``dout``."""
    grid = output_grid(dout, x.shape, w.shape[2:])
    dw = taps_filter_gradient(grid, x, w.shape)
    dx = shifted_input_gradient(grid, x.shape, w) if need_dx else None
    return dx, dw
