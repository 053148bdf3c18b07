"""Valid cross-correlation of image batches with a bank of filters.

Two engines compute the same thing:

* ``"im2col"`` copies every sliding window of the input into one row of a
  patch matrix (columns ordered kernel rows x kernel cols x channels, so the
  innermost copied run is contiguous; one channel is copied offset by offset,
  and small matrices are gathered through a cached index in one ``take``)
  and multiplies it with the filters in one matrix product. The filter
  gradient is the patch matrix's product with the output gradient (both
  products run in chunks of rows, see :mod:`._gemm`). The input gradient
  is ``kr * kc`` products, one per kernel offset; at stride 1 each adds in
  place into a contiguous run of the input's rows (the output gradient
  laid out on the input's grid, see :func:`_shifted_input_gradient`).
* ``"scipy"`` correlates through SciPy's FFT (:mod:`scipy.fft`): the spectra
  of the images and of the filters are multiplied and summed over channels at
  every frequency (one batched product), then transformed back. Its cost
  hardly depends on the kernel size, so it wins for large kernels on large
  images; the gradients reuse the forward spectra.

With ``pool_order``, the output rows come in pool order (see :mod:`._pool`),
so that max pooling reduces contiguous blocks; the im2col engine orders the
patch rows that way, so nothing is moved after the product.

The correlation is *not* flipped: ``out[n, i, j, f] = sum_{p, q, c}
x[n, i*sr + p, j*sc + q, c] * w[f, c, p, q]``. With an input of ``H`` rows, a
kernel of ``k`` rows and a stride ``s`` the output has ``(H - k) // s + 1``
rows (and likewise for columns). :func:`choose_engine` follows the crossover
measured by ``benchmarks/bench_engines.py``.

A ``dilation`` ``(dr, dc)`` spaces the kernel's taps: ``out[n, i, j, f] =
sum x[n, i*sr + p*dr, j*sc + q*dc, c] * w[f, c, p, q]``. Both engines
compute it as the correlation with the dilated filters (zeros between the
taps, an extent of ``dr * (kr - 1) + 1`` rows, :func:`dilate_filters`); the
filter gradient is that of the dilated filters read at the taps.
"""

from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy import fft as sp_fft

from ._gemm import product, transposed_product
from ._pairs import is_series, pairs_backward, pairs_forward
from ._pool import from_pool_order, ordered_blocks, to_pool_order, window_offsets
from ._taps import (
    output_grid,
    shifted_input_gradient,
    taps_backward,
    taps_forward,
    use_taps,
)

ENGINES = ("im2col", "scipy")


def conv_output_size(size, kernel, stride):
    """Number of valid positions of a ``kernel`` sliding over ``size`` cells."""
    return (size - kernel) // stride + 1


def dilated_extent(kernel, dilation):
    """Cells ``(rows, cols)`` a kernel of ``kernel`` taps spans at ``dilation``."""
    return tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))


def dilate_filters(w, dilation):
    """Filters ``(F, C, kr, kc)`` with ``dilation - 1`` zeros between taps:
    ``(F, C, dr * (kr - 1) + 1, dc * (kc - 1) + 1)``; ``w`` itself when the
    dilation is ``(1, 1)``."""
    if tuple(dilation) == (1, 1):
        return w
    dr, dc = dilation
    F, C, kr, kc = w.shape
    out = np.zeros((F, C, *dilated_extent((kr, kc), dilation)), dtype=w.dtype)
    out[:, :, ::dr, ::dc] = w
    return out


def _windows(x, kernel, stride, start=(0, 0), step=(1, 1), count=None):
    """Read-only view of sliding windows of ``x``.

    Window ``(r, c)`` of the view is the one at output position
    ``(start[0] + step[0] * r, start[1] + step[1] * c)``.

    Parameters
    ----------
    x : ndarray of shape (n, H, W, C)
    kernel, stride : (int, int)
    start, step : (int, int), default=(0, 0) and (1, 1)
    count : (int, int) or None
        Windows along rows and columns; all that fit when None.

    Returns
    -------
    view : ndarray of shape (n, rows, cols, kr, kc, C)
    """
    n, H, W, C = x.shape
    (kr, kc), (sr, sc) = kernel, stride
    if count is None:
        count = (conv_output_size(H, kr, sr), conv_output_size(W, kc, sc))
    s0, s1, s2, s3 = x.strides
    return as_strided(
        x[:, start[0] * sr :, start[1] * sc :],
        shape=(n, *count, kr, kc, C),
        strides=(s0, s1 * sr * step[0], s2 * sc * step[1], s1, s2, s3),
        writeable=False,
    )


# patch matrices up to this many entries are gathered through a cached index
# (one ``take``): cheaper than strided copies when per-call overhead dominates.
# One channel is copied offset by offset in runs of a map row, so the gather
# wins up to larger matrices: 2-3x faster for 200 8x8 digits, 1.4x for 16
# 28x28 images, slower from 32 of those (benchmarks/README.md)
SMALL_PATCHES = 2**15
SMALL_PATCHES_ONE_CHANNEL = 2**17


def _cell_positions(n, conv_shape, pool_order):
    """Sample, row and column of every output cell, in row order of the patch
    matrix: ``(n, Ho, Wo)`` or pool order. Three arrays of ``n * Ho * Wo``."""
    Ho, Wo = conv_shape
    if pool_order is None:
        grids = [(np.arange(n), np.arange(Ho), np.arange(Wo))]
    else:
        pr, pc = pool_order
        grids = [
            (np.arange(n), i + pr * np.arange(rows), j + pc * np.arange(cols))
            for _, i, j, rows, cols in window_offsets(conv_shape, pool_order)
        ]
    parts = [np.meshgrid(*g, indexing="ij") for g in grids]
    return [np.concatenate([part[d].ravel() for part in parts]) for d in range(3)]


@lru_cache(maxsize=16)
def _gather_index(x_shape, kernel, stride, pool_order):
    """Index into ``x.ravel()`` of every patch-matrix entry, ``(rows, K)``."""
    n, H, W, C = x_shape
    (kr, kc), (sr, sc) = kernel, stride
    conv_shape = (conv_output_size(H, kr, sr), conv_output_size(W, kc, sc))
    sample, row, col = _cell_positions(n, conv_shape, pool_order)
    corner = sample * (H * W * C) + row * (sr * W * C) + col * (sc * C)
    p, q, c = np.meshgrid(np.arange(kr), np.arange(kc), np.arange(C), indexing="ij")
    within = (p * (W * C) + q * C + c).ravel()  # (kr * kc * C,)
    index = corner[:, None] + within[None, :]
    index.setflags(write=False)
    return index


def patch_matrix(x, kernel, stride, pool_order=None):
    """Every window of ``x`` as one row of a matrix.

    Parameters
    ----------
    x : ndarray of shape (n, H, W, C)
    kernel, stride : (int, int)
    pool_order : (int, int) or None
        With a pooling window ``(pr, pc)``, order the rows as the output
        cells in pool order (see :mod:`._pool`); else as ``(n, Ho, Wo)``.

    Returns
    -------
    cols : ndarray of shape (n * Ho * Wo, kr * kc * C)
        Columns ordered as ``(kr, kc, C)``.
    """
    n, H, W, C = x.shape
    (kr, kc), (sr, sc) = kernel, stride
    Ho, Wo = conv_output_size(H, kr, sr), conv_output_size(W, kc, sc)
    small = SMALL_PATCHES_ONE_CHANNEL if C == 1 else SMALL_PATCHES
    if n * Ho * Wo * kr * kc * C <= small:
        index = _gather_index(x.shape, tuple(kernel), tuple(stride), pool_order)
        return np.ascontiguousarray(x).ravel().take(index)
    if pool_order is None:
        view = _windows(x, kernel, stride)  # (n, Ho, Wo, kr, kc, C)
        return view.reshape(-1, kr * kc * C)  # a copy
    cols = np.empty((n * Ho * Wo, kr, kc, C), dtype=x.dtype)
    layout = (n, Ho, Wo, *pool_order)
    for _, i, j, block in ordered_blocks(cols, layout):
        windows = _windows(x, kernel, stride, (i, j), pool_order, block.shape[1:3])
        if C > 1:
            block[...] = windows
            continue
        # one channel: copying offset by offset moves longer runs (2x faster)
        for p in range(kr):
            for q in range(kc):
                block[:, :, :, p, q] = windows[:, :, :, p, q]
    return cols.reshape(-1, kr * kc * C)


def _filter_matrix(w):
    """Filters ``(F, C, kr, kc)`` as a GEMM operand ``(kr * kc * C, F)``."""
    F = w.shape[0]
    return w.transpose(2, 3, 1, 0).reshape(-1, F)  # (kr, kc, C, F)


def _output_shape(x_shape, w_shape, stride):
    """``(Ho, Wo)`` of correlating images ``x_shape`` with filters ``w_shape``."""
    return tuple(conv_output_size(*a) for a in zip(x_shape[1:3], w_shape[2:], stride))


def _im2col_forward(x, w, stride, pool_order):
    cols = patch_matrix(x, w.shape[2:], stride, pool_order)
    out = product(cols, _filter_matrix(w))  # (n*Ho*Wo, F)
    if pool_order is not None:
        return out, cols
    Ho, Wo = _output_shape(x.shape, w.shape, stride)
    return out.reshape(x.shape[0], Ho, Wo, -1), cols


# prediction correlates in groups of images whose patch matrix has at most
# this many entries: a large matrix is written once and read once, from
# freshly mapped memory, where a group's stays in cache. A series ResNet's
# 128x128 convolution of kernel 8 on 128 series of 256 points took 2.4x
# (float32) and 3.5x (float64) the CPU time in one matrix as in groups of
# 16 series (benchmarks/README.md, issue 22)
PREDICT_PATCH_ENTRIES = 2**22


def _im2col_predict(x, w, stride):
    """:func:`_im2col_forward` without a cache, in groups of images."""
    n, H, W, C = x.shape
    F, _, kr, kc = w.shape
    Ho, Wo = _output_shape(x.shape, w.shape, stride)
    per_image = Ho * Wo * kr * kc * C
    group = max(1, PREDICT_PATCH_ENTRIES // per_image)
    if group >= n:
        return _im2col_forward(x, w, stride, None)[0]
    filters = np.ascontiguousarray(_filter_matrix(w))  # (kr * kc * C, F)
    out = np.empty((n, Ho, Wo, F), dtype=np.result_type(x, w))
    for start in range(0, n, group):
        cols = patch_matrix(x[start : start + group], (kr, kc), stride)
        product(cols, filters, out=out[start : start + group].reshape(-1, F))
    return out


def _filter_gradient(dout, cols, w_shape):
    """``dw`` (F, C, kr, kc) from ``dout`` in the row order of ``cols``
    (in chunks of rows, see :mod:`._gemm`)."""
    return _as_filters(transposed_product(cols, dout.reshape(-1, w_shape[0])), w_shape)


def _as_filters(matrix, w_shape):
    """A ``(kr * kc * C, F)`` matrix (see :func:`_filter_matrix`) as filters."""
    F, C, kr, kc = w_shape
    return np.ascontiguousarray(matrix.reshape(kr, kc, C, F).transpose(3, 2, 0, 1))


def _input_gradient(dout, x_shape, w, stride, layout=None):
    """``dx`` (n, H, W, C) from ``dout`` (n, Ho, Wo, F), or from ``dout`` in
    pool order with its ``layout``.

    Input cell ``(i + p, j + q)`` receives ``dout[i, j] @ w[:, :, p, q]`` for
    every kernel offset ``(p, q)``: one matrix product per offset. At stride
    1 (see :func:`_shifted_input_gradient`) each product adds straight into
    ``dx``; otherwise it gives a contiguous ``(n, Ho, Wo, C)`` slab that is
    added to ``dx`` shifted by ``(p, q)`` (runs of ``Wo * C`` cells, unlike
    col2im's runs of ``C``).
    """
    if tuple(stride) == (1, 1):
        return _shifted_input_gradient(dout, x_shape, w, layout)
    if layout is not None:
        dout = from_pool_order(dout, layout)
    n, Ho, Wo, F = dout.shape
    F, C, kr, kc = w.shape
    sr, sc = stride
    d2 = dout.reshape(-1, F)  # (n*Ho*Wo, F)
    slab = np.empty((d2.shape[0], C), dtype=dout.dtype)
    dx = np.zeros(x_shape, dtype=dout.dtype)  # (n, H, W, C)
    for p in range(kr):
        for q in range(kc):
            product(d2, w[:, :, p, q], out=slab)
            dx[:, p : p + sr * Ho : sr, q : q + sc * Wo : sc] += slab.reshape(
                n, Ho, Wo, C
            )
    return dx


def _shifted_input_gradient(dout, x_shape, w, layout):
    """The input gradient of a stride-1 correlation, with no slabs to add:
    ``dout`` laid on the input's grid, then one product per kernel offset
    added in place into a shifted run of ``dx``'s rows (see :mod:`._taps`).
    The grid has ``H * W`` rows per image against ``Ho * Wo``, which costs
    less than adding the slabs."""
    grid = output_grid(dout, x_shape, w.shape[2:], layout, from_pool_order)
    return shifted_input_gradient(grid, x_shape, w)


def _fft_shape(x_shape):
    """FFT size over ``(H, W)``: at least the image, so nothing wraps round."""
    return tuple(sp_fft.next_fast_len(int(size), real=True) for size in x_shape[1:3])


def _scipy_forward(x, w, stride):
    """Correlation as products of spectra: ``X * conj(W)``, summed over
    channels at each frequency, then back; returns ``(out, xf, wf)``.

    The spectra are laid out for the products: ``xf`` (n, Hf, Wk, C) read
    as ``(Hf, Wk, n, C)``, ``wf`` (Hf, Wk, C, F) contiguous, so that every
    frequency's ``(n, C) @ (C, F)`` (and the backward's products) is a BLAS
    call on matrices as they lie in memory.
    """
    n, H, W, C = x.shape
    F, C, kr, kc = w.shape
    sr, sc = stride
    shape = _fft_shape(x.shape)
    xf = sp_fft.rfft2(x, s=shape, axes=(1, 2))  # (n, Hf, Wk, C)
    wf = _filter_spectra(w, shape)  # (Hf, Wk, C, F)
    # at every frequency (Hf, Wk): (n, C) @ (C, F)
    prod = np.matmul(xf.transpose(1, 2, 0, 3), np.conjugate(wf))  # (Hf, Wk, n, F)
    full = sp_fft.irfft2(prod, s=shape, axes=(0, 1))  # (Hf, Wf, n, F)
    out = full[: H - kr + 1 : sr, : W - kc + 1 : sc].transpose(2, 0, 1, 3)
    return np.ascontiguousarray(out, dtype=np.result_type(x, w)), xf, wf


def _filter_spectra(w, shape):
    """Spectra of filters ``(F, C, kr, kc)`` at FFT size ``shape``, laid out
    ``(Hf, Wk, C, F)``: transformed from ``(kr, kc, C, F)`` over the first
    axes, so that no transposed copy of the spectra is needed."""
    taps = np.ascontiguousarray(w.transpose(2, 3, 1, 0))  # (kr, kc, C, F)
    return sp_fft.rfft2(taps, s=shape, axes=(0, 1))


def _dilate(dout, full_shape, stride):
    """Place ``dout`` (n, Ho, Wo, F) on the stride-1 grid ``full_shape``."""
    if stride == (1, 1):
        return dout
    sr, sc = stride
    full = np.zeros(full_shape, dtype=dout.dtype)  # (n, H-kr+1, W-kc+1, F)
    full[:, ::sr, ::sc] = dout
    return full


def _scipy_backward(dout, x_shape, xf, wf, w_shape, stride, need_dx):
    """``dw`` from ``X * conj(DZ)`` summed over samples, ``dx`` from
    ``DZ * W`` summed over filters (a full convolution)."""
    n, H, W, C = x_shape
    F, C, kr, kc = w_shape
    shape = _fft_shape(x_shape)
    d = _dilate(dout, (n, H - kr + 1, W - kc + 1, F), stride)
    df = sp_fft.rfft2(d, s=shape, axes=(1, 2))  # (n, Hf, Wk, F)
    df_t = df.transpose(1, 2, 0, 3)  # (Hf, Wk, n, F)
    # at every frequency: (C, n) @ (n, F), then (n, F) @ (F, C)
    g = np.matmul(xf.transpose(1, 2, 3, 0), np.conjugate(df_t))  # (Hf, Wk, C, F)
    dw = sp_fft.irfft2(g, s=shape, axes=(0, 1))[:kr, :kc]  # (kr, kc, C, F)
    dw = np.ascontiguousarray(dw.transpose(3, 2, 0, 1), dtype=dout.dtype)
    if not need_dx:
        return None, dw
    gx = np.matmul(df_t, wf.swapaxes(2, 3))  # (Hf, Wk, n, C)
    dx = sp_fft.irfft2(gx, s=shape, axes=(0, 1))[:H, :W].transpose(2, 0, 1, 3)
    return np.ascontiguousarray(dx, dtype=dout.dtype), dw


def correlate_forward(
    x, w, stride, engine, keep_cache=True, pool_order=None, dilation=(1, 1)
):
    """Correlate a batch of images with every filter.

    Parameters
    ----------
    x : ndarray of shape (n, H, W, C)
        Channels-last images.
    w : ndarray of shape (F, C, kr, kc)
        Filters, applied as correlation (not flipped).
    stride : (int, int)
        Step between windows along rows and columns.
    engine : {"im2col", "scipy"}
    keep_cache : bool, default=True
        Whether to return what :func:`correlate_backward` needs.
    pool_order : (int, int) or None, default=None
        A pooling window ``(pr, pc)``: return the output as a matrix in pool
        order (see :mod:`._pool`).
    dilation : (int, int), default=(1, 1)
        Spacing of the kernel's taps along rows and columns.

    Returns
    -------
    out : ndarray of shape (n, Ho, Wo, F), or (n * Ho * Wo, F) in pool order
        ``Ho = (H - dr * (kr - 1) - 1) // sr + 1`` (likewise ``Wo``).
    cache : tuple or None
    """
    stride, dilation = tuple(stride), tuple(dilation)
    if engine == "im2col" and use_taps(x.shape, w.shape, stride, dilation, pool_order):
        # a one-row kernel on many channels: no patch matrix; a series by
        # pairs of taps (see ._pairs), else one product per tap (._taps)
        if is_series(x.shape, w.shape):
            path, forward = "pairs", pairs_forward
        else:
            path, forward = "taps", taps_forward
        out, x_kept = forward(x, w, keep_cache)
        if not keep_cache:
            return out, None
        return out, (path, x.shape, x_kept, None, w, stride, dilation, None)
    w = dilate_filters(w, dilation)
    conv_shape = _output_shape(x.shape, w.shape, stride)
    if engine == "im2col" and not keep_cache and pool_order is None:
        return _im2col_predict(x, w, stride), None
    if engine == "im2col":
        out, cols = _im2col_forward(x, w, stride, pool_order)
        cache = (engine, x.shape, cols, None, w, stride)
    elif engine == "scipy":
        out, xf, wf = _scipy_forward(x, w, stride)
        if pool_order is not None:
            out = to_pool_order(out, pool_order)
        cache = (engine, x.shape, None, (xf, wf), w, stride)
    else:
        raise ValueError(f"unknown correlation engine {engine!r}; use one of {ENGINES}")
    if not keep_cache:
        return out, None
    layout = None if pool_order is None else (x.shape[0], *conv_shape, *pool_order)
    return out, (*cache, dilation, layout)


def correlate_backward(dout, cache, need_dx=True, spread=None):
    """Gradients of a correlation with respect to its input and filters.

    Parameters
    ----------
    dout : ndarray of shape (n, Ho, Wo, F), or in pool order
        Gradient of the loss with respect to the correlation output, in the
        layout :func:`correlate_forward` returned.
    cache : tuple
        From :func:`correlate_forward`.
    need_dx : bool, default=True
        Whether to compute the input gradient (not needed for the first block).
    spread : object or None, default=None
        A further term of ``dout`` left unformed (batch norm's, see
        :class:`._norm.Spread`): ``spread.dense()`` is the ``(m, F)`` term
        in ``dout``'s row order, and ``spread.left_product(cols)`` its
        product with a patch matrix, which gives its filter gradient without
        forming it when no input gradient is needed (im2col engine).

    Returns
    -------
    dx : ndarray of shape (n, H, W, C) or None
    dw : ndarray of shape (F, C, kr, kc)
    """
    dx, dw = _correlate_backward(dout, cache, need_dx, spread)
    dr, dc = cache[-2]  # the dilated filters' gradient, at the taps
    return dx, (dw if (dr, dc) == (1, 1) else np.ascontiguousarray(dw[..., ::dr, ::dc]))


def _correlate_backward(dout, cache, need_dx, spread):
    engine, x_shape, cols, spectra, w, stride, _, layout = cache
    if spread is not None and (need_dx or engine != "im2col"):
        dout = dout + spread.dense().reshape(dout.shape)
        spread = None
    if engine == "pairs":  # cols holds the input (see ._pairs)
        return pairs_backward(dout, cols, w, need_dx)
    if engine == "taps":  # likewise (see ._taps)
        return taps_backward(dout, cols, w, need_dx)
    if engine == "im2col":
        dw = _filter_gradient(dout, cols, w.shape)
        if spread is not None:
            dw += _as_filters(spread.left_product(cols), w.shape)
        dx = _input_gradient(dout, x_shape, w, stride, layout) if need_dx else None
        return dx, dw
    if layout is not None:
        dout = from_pool_order(dout, layout)
    return _scipy_backward(dout, x_shape, *spectra, w.shape, stride, need_dx)


def choose_engine(image_shape, kernel, stride=(1, 1)):
    """The engine ``algorithm="auto"`` uses for one block.

    From the crossover measured by ``benchmarks/bench_engines.py`` (forward
    and backward, 2 cores): im2col for kernels up to 5x5, where it is 2-4x
    faster at 3x3 and on a par at 5x5; the FFT engine from 7x7 on, 1.2-9x
    faster once the map has at least ``32 * max(8, C)`` cells (16x16 for up
    to 8 channels). A stride ``s`` divides im2col's work by ``s**2`` but not
    the FFT's. Kernels of one row (or column), those of series, follow their
    own crossover (issue 22, CPU time of one thread, batch 16, series of 64
    to 1 024 points, 32 to 128 channels): the FFT engine from
    :data:`FFT_TAPS_1D` taps on, 1.2-3x faster at 24 to 40 taps, while at
    16 it is 0.7-1.2x im2col's speed.

    Parameters
    ----------
    image_shape : (int, int, int)
        ``(H, W, C)`` of the block input.
    kernel : (int, int)
    stride : (int, int), default=(1, 1)

    Returns
    -------
    engine : {"im2col", "scipy"}
    """
    H, W, C = image_shape
    (kr, kc), (sr, sc) = kernel, stride
    if min(kr, kc) == 1:  # one row of taps: a series' kernel
        return "scipy" if kr * kc >= FFT_TAPS_1D * sr * sc else "im2col"
    if kr * kc >= 49 * sr * sc and H * W >= 32 * max(8, C):
        return "scipy"
    return "im2col"


FFT_TAPS_1D = 24  # taps of a one-row kernel from which the FFT engine is used
