"""Correlation of series by pairs of kernel taps (Winograd's F(2, 2)), for
the forward pass, the input gradient and the filter gradient.

A series convolution (one-row images ``(n, 1, T, C)`` and kernels of ``kc``
taps, stride 1) pairs its taps ``(w0, w1)`` at shifts ``(q, q + 1)`` and its
output cells ``(2s, 2s + 1)``. With ``e = x[2s + q]``, ``o = x[2s + q + 1]``
and ``f = x[2s + q + 2]``::

    out[2s]     = e @ w0 + o @ w1 = (e - o) @ w0 + o @ (w0 + w1)
    out[2s + 1] = o @ w0 + f @ w1 = o @ (w0 + w1) + (f - o) @ w1

three products on half the cells for every two taps, where one product per
tap (:mod:`._taps`) runs two on all of them: 3/4 of the multiply-adds for
an even kernel (kernels of 8, 5 and 3 taps: 75 %, 80 % and 83 %). The same
pairing serves both gradients:

* the input gradient is the correlation of the output gradient, padded by
  ``kc - 1`` zeros, with the taps reversed and transposed (``(F, C)``
  matrices): :func:`_correlate_pairs` again;
* the filter gradient of the two taps, summed over the cells, is the same
  identity transposed: with ``d0 = dout[2s]`` and ``d1 = dout[2s + 1]``::

      dw0 = sum e.T @ d0 + o.T @ d1 = sum (e - o).T @ d0 + o.T @ (d0 + d1)
      dw1 = sum o.T @ d0 + f.T @ d1 = sum o.T @ (d0 + d1) + (f - o).T @ d1

  (:func:`_filter_gradient`).

All three run a cache-sized group of series at a time. Prediction pads,
adds the intercepts and activates as it pairs (:func:`series_predict`;
:func:`use_pairs` says when); training correlates the padded series
(:func:`pairs_forward`, :func:`pairs_backward`, which the im2col engine
calls for a series' kernel on many channels, see :func:`is_series`).
"""

import numpy as np
from scipy.linalg.blas import get_blas_funcs

from ._gemm import gemm_add, transposed_product
from ._taps import GRID_ENTRIES, _tap_matrices, use_taps

# a series kernel of at least this many taps is correlated by pairs
PAIRS_MIN_TAPS = 2


def is_series(x_shape, w_shape):
    """Whether filters ``w_shape`` (F, C, kr, kc) on images ``x_shape`` (n, H,
    W, C) are a series' convolution that pairs its taps: one-row images and
    kernels of at least :data:`PAIRS_MIN_TAPS` taps."""
    return x_shape[1] == 1 and w_shape[2] == 1 and w_shape[3] >= PAIRS_MIN_TAPS


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


def _pair_rows(x, left, half, kc):
    """The rows the pairs of a kernel of ``kc`` taps multiply, for series
    ``x`` (n, T, C) with ``left`` zeros before each: ``half`` pairs of cells
    per series, flattened, with zero rows after for the shifts of the last
    series (see :func:`_rows_from`).

    Returns
    -------
    even, odd, before, after : ndarray of shape (n * half + kc // 2 + 1, C)
        ``even`` (cells ``2s``, kept only for an odd ``kc``, whose last tap
        is alone; else None), ``odd`` (cells ``2s + 1``), ``before = even -
        odd`` and ``after``, the next even cell less the odd one (one row
        shorter; past a series' end it reaches into the next series, for
        cells that no valid output uses).
    """
    tail = kc // 2 + 1  # the shifts reach past the last series
    even = _rows_from(x, -left, half, tail)
    odd = _rows_from(x, 1 - left, half, tail)
    after = np.subtract(even[1:], odd[:-1])
    if kc % 2:
        return even, odd, np.subtract(even, odd), after
    return None, odd, np.subtract(even, odd, out=even), after


def _correlate_pairs(x, taps, out, left=0, bias=None):
    """Correlate series ``x`` (n, 1, T, C), with ``left`` zeros before each
    (and as many after as ``out`` needs), with a one-row kernel into ``out``
    (n, 1, Wo, F), plus ``bias`` (F,) when given, by pairs of taps (see the
    module's docstring).

    Each series' cells are paired from its first, even cell ``2s`` with the
    odd one ``2s + 1`` (a zero cell completes a series of odd length, so
    that a series computes the same wherever it lies in the batch). The
    products ``(e - o) @ w0``, ``o @ (w0 + w1)`` and ``(f - o) @ w1`` run
    over the pairs of every series, flattened (the pairs past ``Wo`` mix
    neighbouring series and are dropped), and the middle one serves both
    cells. An odd last tap is two plain products (even cells, odd cells).

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
    S = n * half  # output row pairs, the grid's garbage cells included
    even, odd, before, after = _pair_rows(x.reshape(n, T, C), left, half, kc)
    dtype = taps.dtype
    acc = np.empty((3, S, F), dtype=dtype)  # even only, both, odd only
    acc[1] = 0 if bias is None else bias  # the term both cells add
    gemm = get_blas_funcs("gemm", (x,))
    for j in range(pairs):
        w0, w1 = taps[2 * j], taps[2 * j + 1]
        beta = 0.0 if j == 0 else 1.0
        gemm_add(gemm, before[j : j + S], w0, acc[0], beta)
        gemm_add(gemm, odd[j : j + S], w0 + w1, acc[1])
        gemm_add(gemm, after[j : j + S], w1, acc[2], beta)
    if kc % 2:  # the last tap alone
        j, w = pairs, taps[-1]
        beta = 0.0 if pairs == 0 else 1.0
        gemm_add(gemm, even[j : j + S], w, acc[0], beta)
        gemm_add(gemm, odd[j : j + S], w, acc[2], beta)
    ne, no = (Wo + 1) // 2, Wo // 2  # output cells at even and odd columns
    a0, a1, a2 = (a.reshape(n, half, F) for a in acc)
    np.add(a0[:, :ne], a1[:, :ne], out=out[:, 0, 0::2])
    np.add(a1[:, :no], a2[:, :no], out=out[:, 0, 1::2])


def use_pairs(x_shape, w_shape, unit):
    """Whether prediction runs the convolution ``unit`` (a
    :class:`._units.BlockSpec`) of filters ``w_shape`` on series ``x_shape``
    (n, 1, T, C), before padding, by :func:`series_predict`: the im2col
    engine on the taps path (:func:`._taps.use_taps`), a series' kernel
    (:func:`is_series`), padding along the series only."""
    (top, bottom), (left, right) = unit.padding
    padded = (x_shape[0], x_shape[1] + top + bottom, x_shape[2] + left + right,
              x_shape[3])  # fmt: skip
    return (
        unit.engine == "im2col"
        and top == bottom == 0
        and is_series(x_shape, w_shape)
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
    time, sized to the cache like :func:`._taps.taps_forward`'s, each group then
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


def pairs_forward(x, w, keep_cache=True):
    """Correlate series ``x`` (n, 1, W, C) with ``w`` (F, C, 1, kc) at
    stride 1 by pairs of taps (no padding: ``x`` is padded already).

    Returns
    -------
    out : ndarray of shape (n, 1, W - kc + 1, F)
    x : ndarray of shape (n, 1, W, C) or None
        The (contiguous) input, which :func:`pairs_backward` needs; None
        without ``keep_cache``.
    """
    x = np.ascontiguousarray(x)
    n, _, W, _ = x.shape
    F, _, _, kc = w.shape
    taps = _tap_matrices(w, np.result_type(x, w))[0]
    out = np.empty((n, 1, W - kc + 1, F), dtype=taps.dtype)
    return _pairs_in_groups(x, taps, out), (x if keep_cache else None)


def pairs_backward(dout, x, w, need_dx):
    """``(dx or None, dw)`` of :func:`pairs_forward` given ``dout`` (n, 1,
    Wo, F)."""
    dout = np.ascontiguousarray(dout)
    dw = _filter_gradient(dout, x, w.shape)
    dx = _input_gradient(dout, x.shape, w) if need_dx else None
    return dx, dw


def _input_gradient(dout, x_shape, w):
    """``dx[t] = sum_q dout[t - q] @ w[:, :, 0, q]``: the correlation of
    ``dout`` padded by ``kc - 1`` zeros on each side with the taps reversed,
    each a ``(F, C)`` matrix."""
    n, _, W, C = x_shape
    kc = w.shape[3]
    reversed_taps = np.ascontiguousarray(
        w[:, :, 0, ::-1].transpose(2, 0, 1), dtype=dout.dtype
    )  # (kc, F, C)
    out = np.empty((n, 1, W, C), dtype=dout.dtype)
    return _pairs_in_groups(dout, reversed_taps, out, left=kc - 1)


def _filter_gradient(dout, x, w_shape):
    """``dw`` (F, C, 1, kc) from the output gradient ``dout`` (n, 1, Wo, F)
    and the input ``x`` (n, 1, W, C), by pairs of taps (see the module's
    docstring), a cache-sized group of series at a time."""
    n, _, W, C = x.shape
    F, _, _, kc = w_shape
    Wo = W - kc + 1
    half = (W + 1) // 2
    ne, no = (Wo + 1) // 2, Wo // 2  # output cells at even and odd columns
    dtype = dout.dtype
    dw = np.zeros((kc, C, F), dtype=dtype)
    group = max(1, GRID_ENTRIES // (W * max(C, F)))
    # the output gradient at even and odd cells and their sum, zero past
    # Wo: the pairs' cells that no valid output uses contribute nothing
    d = np.zeros((3, min(group, n), half, F), dtype=dtype)
    for start in range(0, n, group):
        part = slice(start, start + group)
        xs = x[part].reshape(-1, W, C)
        g = xs.shape[0]
        S = g * half
        even, odd, before, after = _pair_rows(xs, 0, half, kc)
        d0, d1, both = d[:, :g]
        d0[:, :ne] = dout[part, 0, 0::2]
        d1[:, :no] = dout[part, 0, 1::2]
        np.add(d0, d1, out=both)
        d0, d1, both = (a.reshape(S, F) for a in (d0, d1, both))
        for j in range(kc // 2):
            m0 = transposed_product(before[j : j + S], d0)
            m1 = transposed_product(odd[j : j + S], both)
            m2 = transposed_product(after[j : j + S], d1)
            dw[2 * j] += m0
            dw[2 * j] += m1
            dw[2 * j + 1] += m1
            dw[2 * j + 1] += m2
        if kc % 2:  # the last tap alone
            j = kc // 2
            dw[-1] += transposed_product(even[j : j + S], d0)
            dw[-1] += transposed_product(odd[j : j + S], d1)
    return np.ascontiguousarray(dw.transpose(2, 1, 0))[:, :, None, :]
