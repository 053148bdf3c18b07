"""Valid cross-correlation of image batches with a bank of filters.

Two engines compute the same thing:

* ``"im2col"`` copies every sliding window of the input into one row of a
  patch matrix (windows are gathered with :func:`numpy.lib.stride_tricks.as_strided`,
  kernel rows x kernel cols x channels, so the innermost copied run is
  contiguous) and multiplies it with the filters in one matrix product.
* ``"scipy"`` calls :func:`scipy.signal.correlate` / :func:`scipy.signal.convolve`
  once per filter on the whole 4-D batch (all samples and channels at once),
  letting SciPy choose the direct or the FFT method.

The correlation is *not* flipped: ``out[n, i, j, f] = sum_{p, q, c}
x[n, i*sr + p, j*sc + q, c] * w[f, c, p, q]``. With an input of ``H`` rows, a
kernel of ``k`` rows and a stride ``s`` the output has ``(H - k) // s + 1``
rows (and likewise for columns).
"""

from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy import signal

from ._pool import from_pool_order, ordered_blocks, to_pool_order, window_offsets

ENGINES = ("im2col", "scipy")


def conv_output_size(size, kernel, stride):
    """Number of valid positions of a ``kernel`` sliding over ``size`` cells."""
    return (size - kernel) // stride + 1


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
# (one ``take``): cheaper than strided copies when per-call overhead dominates
SMALL_PATCHES = 2**15


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
    if n * Ho * Wo * kr * kc * C <= SMALL_PATCHES:
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


def _scipy_method(x, k):
    """The SciPy correlation method (``"direct"`` or ``"fft"``) for one call."""
    return signal.choose_conv_method(x, k, mode="valid")


def _output_shape(x_shape, w_shape, stride):
    """``(Ho, Wo)`` of correlating images ``x_shape`` with filters ``w_shape``."""
    return tuple(conv_output_size(*a) for a in zip(x_shape[1:3], w_shape[2:], stride))


def _im2col_forward(x, w, stride, pool_order):
    cols = patch_matrix(x, w.shape[2:], stride, pool_order)
    out = cols @ _filter_matrix(w)  # (n*Ho*Wo, F)
    if pool_order is not None:
        return out, cols
    Ho, Wo = _output_shape(x.shape, w.shape, stride)
    return out.reshape(x.shape[0], Ho, Wo, -1), cols


def _im2col_backward(dout, x_shape, cols, w, stride, need_dx):
    """``dout`` (n, Ho, Wo, F), or in pool order when ``cols`` is."""
    F, C, kr, kc = w.shape
    dw = (cols.T @ dout.reshape(-1, F)).reshape(kr, kc, C, F).transpose(3, 2, 0, 1)
    dw = np.ascontiguousarray(dw)
    if not need_dx:
        return None, dw
    return _input_gradient(dout, x_shape, w, stride), dw


def _input_gradient(dout, x_shape, w, stride):
    """``dx`` (n, H, W, C) from ``dout`` (n, Ho, Wo, F).

    For each kernel offset ``(p, q)`` one product ``dout @ w[:, :, p, q]``
    gives a contiguous ``(n, Ho, Wo, C)`` slab that is added to ``dx`` shifted
    by ``(p, q)`` (runs of ``Wo * C`` cells, unlike col2im's runs of ``C``).
    """
    n, Ho, Wo, F = dout.shape
    F, C, kr, kc = w.shape
    sr, sc = stride
    d2 = dout.reshape(-1, F)  # (n*Ho*Wo, F)
    slab = np.empty((d2.shape[0], C), dtype=dout.dtype)
    dx = np.zeros(x_shape, dtype=dout.dtype)  # (n, H, W, C)
    for p in range(kr):
        for q in range(kc):
            np.matmul(d2, w[:, :, p, q], out=slab)
            dx[:, p : p + sr * Ho : sr, q : q + sc * Wo : sc] += slab.reshape(
                n, Ho, Wo, C
            )
    return dx


def _scipy_forward(x, w, stride):
    n, H, W, C = x.shape
    F, C, kr, kc = w.shape
    sr, sc = stride
    Ho, Wo = conv_output_size(H, kr, sr), conv_output_size(W, kc, sc)
    out = np.empty((n, Ho, Wo, F), dtype=np.result_type(x, w))
    for f in range(F):
        k = w[f].transpose(1, 2, 0)[None]  # (1, kr, kc, C)
        full = signal.correlate(x, k, mode="valid", method=_scipy_method(x, k))
        out[..., f] = full[:, ::sr, ::sc, 0]  # (n, Ho, Wo)
    return out


def _dilate(dout, full_shape, stride):
    """Place ``dout`` (n, Ho, Wo, F) on the stride-1 grid ``full_shape``."""
    if stride == (1, 1):
        return dout
    sr, sc = stride
    full = np.zeros(full_shape, dtype=dout.dtype)  # (n, H-kr+1, W-kc+1, F)
    full[:, ::sr, ::sc] = dout
    return full


def _scipy_backward(dout, x, w, stride, need_dx):
    n, H, W, C = x.shape
    F, C, kr, kc = w.shape
    d = _dilate(dout, (n, H - kr + 1, W - kc + 1, F), stride)
    dw = np.empty_like(w)
    dx = np.zeros(x.shape, dtype=dout.dtype) if need_dx else None
    for f in range(F):
        df = np.ascontiguousarray(d[..., f : f + 1])  # (n, H-kr+1, W-kc+1, 1)
        g = signal.correlate(x, df, mode="valid", method=_scipy_method(x, df))
        dw[f] = g[0].transpose(2, 0, 1)  # (1, kr, kc, C) -> (C, kr, kc)
        if need_dx:
            k = w[f].transpose(1, 2, 0)[None]  # (1, kr, kc, C)
            method = signal.choose_conv_method(df, k, mode="full")
            dx += signal.convolve(df, k, mode="full", method=method)
    return dx, dw


def correlate_forward(x, w, stride, engine, keep_cache=True, pool_order=None):
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

    Returns
    -------
    out : ndarray of shape (n, Ho, Wo, F), or (n * Ho * Wo, F) in pool order
    cache : tuple or None
    """
    stride = tuple(stride)
    conv_shape = _output_shape(x.shape, w.shape, stride)
    if engine == "im2col":
        out, cols = _im2col_forward(x, w, stride, pool_order)
        cache = (engine, x.shape, cols, None, w, stride)
    elif engine == "scipy":
        out = _scipy_forward(x, w, stride)
        if pool_order is not None:
            out = to_pool_order(out, pool_order)
        cache = (engine, x.shape, None, x, w, stride)
    else:
        raise ValueError(f"unknown correlation engine {engine!r}; use one of {ENGINES}")
    if not keep_cache:
        return out, None
    layout = None if pool_order is None else (x.shape[0], *conv_shape, *pool_order)
    return out, (*cache, layout)


def correlate_backward(dout, cache, need_dx=True):
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

    Returns
    -------
    dx : ndarray of shape (n, H, W, C) or None
    dw : ndarray of shape (F, C, kr, kc)
    """
    engine, x_shape, cols, x, w, stride, layout = cache
    if engine == "im2col":
        dx, dw = _im2col_backward(dout, x_shape, cols, w, stride, False)
        if need_dx:
            natural = dout if layout is None else from_pool_order(dout, layout)
            dx = _input_gradient(natural, x_shape, w, stride)
        return dx, dw
    if layout is not None:
        dout = from_pool_order(dout, layout)
    return _scipy_backward(dout, x, w, stride, need_dx)


def choose_engine(image_shape, kernel):
    """The engine ``algorithm="auto"`` uses for one block.

    im2col wins for the small kernels CNNs use; SciPy's FFT correlation only
    pays off for large kernels on large maps (see ``benchmarks/``).

    Parameters
    ----------
    image_shape : (int, int, int)
        ``(H, W, C)`` of the block input.
    kernel : (int, int)

    Returns
    -------
    engine : {"im2col", "scipy"}
    """
    H, W, _ = image_shape
    kr, kc = kernel
    if kr * kc >= 121 and H * W >= 96 * 96:
        return "scipy"
    return "im2col"
