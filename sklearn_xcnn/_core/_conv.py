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

import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy import signal

ENGINES = ("im2col", "scipy")


def conv_output_size(size, kernel, stride):
    """Number of valid positions of a ``kernel`` sliding over ``size`` cells."""
    return (size - kernel) // stride + 1


def _windows(x, kernel, stride):
    """Read-only view of the sliding windows of ``x``.

    Parameters
    ----------
    x : ndarray of shape (n, H, W, C)
    kernel, stride : (int, int)

    Returns
    -------
    view : ndarray of shape (n, Ho, Wo, kr, kc, C)
    """
    n, H, W, C = x.shape
    (kr, kc), (sr, sc) = kernel, stride
    Ho, Wo = conv_output_size(H, kr, sr), conv_output_size(W, kc, sc)
    s0, s1, s2, s3 = x.strides
    return as_strided(
        x,
        shape=(n, Ho, Wo, kr, kc, C),
        strides=(s0, s1 * sr, s2 * sc, s1, s2, s3),
        writeable=False,
    )


def _filter_matrix(w):
    """Filters ``(F, C, kr, kc)`` as a GEMM operand ``(kr * kc * C, F)``."""
    F = w.shape[0]
    return w.transpose(2, 3, 1, 0).reshape(-1, F)  # (kr, kc, C, F)


def _scipy_method(x, k):
    """The SciPy correlation method (``"direct"`` or ``"fft"``) for one call."""
    return signal.choose_conv_method(x, k, mode="valid")


def _im2col_forward(x, w, stride):
    kernel = w.shape[2:]
    cols = _windows(x, kernel, stride)  # (n, Ho, Wo, kr, kc, C)
    n, Ho, Wo = cols.shape[:3]
    cols = cols.reshape(n * Ho * Wo, -1)  # (n*Ho*Wo, kr*kc*C), a copy
    out = cols @ _filter_matrix(w)  # (n*Ho*Wo, F)
    return out.reshape(n, Ho, Wo, -1), cols


def _im2col_backward(dout, x_shape, cols, w, stride, need_dx):
    n, Ho, Wo, F = dout.shape
    F, C, kr, kc = w.shape
    dout2 = dout.reshape(-1, F)  # (n*Ho*Wo, F)
    dw = (cols.T @ dout2).reshape(kr, kc, C, F).transpose(3, 2, 0, 1)
    if not need_dx:
        return None, np.ascontiguousarray(dw)
    sr, sc = stride
    dcols = (dout2 @ _filter_matrix(w).T).reshape(n, Ho, Wo, kr, kc, C)
    dx = np.zeros(x_shape, dtype=dout.dtype)  # (n, H, W, C)
    # each kernel offset (p, q) adds a shifted, strided copy: kr*kc passes
    for p in range(kr):
        for q in range(kc):
            dx[:, p : p + sr * Ho : sr, q : q + sc * Wo : sc, :] += dcols[:, :, :, p, q]
    return dx, np.ascontiguousarray(dw)


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


def correlate_forward(x, w, stride, engine, keep_cache=True):
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

    Returns
    -------
    out : ndarray of shape (n, Ho, Wo, F)
    cache : tuple or None
    """
    stride = tuple(stride)
    if engine == "im2col":
        out, cols = _im2col_forward(x, w, stride)
        cache = (engine, x.shape, cols, None, w, stride)
    elif engine == "scipy":
        out = _scipy_forward(x, w, stride)
        cache = (engine, x.shape, None, x, w, stride)
    else:
        raise ValueError(f"unknown correlation engine {engine!r}; use one of {ENGINES}")
    return out, (cache if keep_cache else None)


def correlate_backward(dout, cache, need_dx=True):
    """Gradients of a correlation with respect to its input and filters.

    Parameters
    ----------
    dout : ndarray of shape (n, Ho, Wo, F)
        Gradient of the loss with respect to the correlation output.
    cache : tuple
        From :func:`correlate_forward`.
    need_dx : bool, default=True
        Whether to compute the input gradient (not needed for the first block).

    Returns
    -------
    dx : ndarray of shape (n, H, W, C) or None
    dw : ndarray of shape (F, C, kr, kc)
    """
    engine, x_shape, cols, x, w, stride = cache
    if engine == "im2col":
        return _im2col_backward(dout, x_shape, cols, w, stride, need_dx)
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
