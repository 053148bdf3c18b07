"""Correlation of series with several one-row kernels that read the same
input, through the real FFT along time: the parallel convolutions of an
inception module (issue 22).

For series ``x`` (n, 1, W, C), zero past both ends, a kernel whose tap
``q`` lies at offset ``o = q * dc - left`` from each output cell (``left``
zeros of padding, dilation ``dc``) computes::

    y[t] = sum_q x[t + o_q] @ w_q          (w_q a (C, F) matrix)

On a circle of ``L`` cells, long enough that no offset carries a cell of
the series onto another (:func:`_circle`), this is one product per
frequency ``v`` of the real FFT: ``Y(v) = X(v) @ G(v)`` with ``G(v) =
sum_q w_q exp(2i pi v o_q / L)``. The kernels are stacked along the
filters, so the input's spectrum is taken once for all of them. The
gradients are products of the same spectra::

    DX(v) = DY(v) @ G(v)^H                 (the input gradient)
    dw_q = Re sum_v c_v exp(-2i pi v o_q / L) sum_n X(v)^H DY(v) / L

with ``c_v`` 1 at the frequencies the half spectrum holds once (zero and,
for an even ``L``, ``L / 2``) and 2 at the others. ``G`` and the filter
gradient are small real products with the cosines and sines of the offsets
(:func:`_plan`) rather than FFTs of mostly-zero filters: the filters change
at every step, and their transform over ``C * F`` lanes would cost more
than the input's over ``n * C``.

Against each kernel on its own engine (the FFT engine's 2-D transforms or
pairs of taps, :mod:`._pairs`), for the InceptionTime module's kernels of
40, 20 and 10 (``benchmarks/bench_spectral.py``, batch norm included),
training runs 1.1-1.3x faster and prediction 1.2-1.5x; on kernels of 8 taps
or fewer the pairs are faster. :func:`use_spectral` says when.
"""

from functools import lru_cache

import numpy as np
from scipy import fft as sp_fft

from ._conv import conv_output_size, dilated_extent


def output_length(W, unit):
    """Cells of a series of ``W`` cells after the convolution ``unit`` (a
    :class:`._units.BlockSpec`) at stride 1."""
    (_, _), (left, right) = unit.padding
    extent = dilated_extent(unit.kernel, unit.dilation)[1]
    return conv_output_size(W + left + right, extent, 1)


def use_spectral(x_shape, units):
    """Whether :func:`spectral_forward` correlates the convolutions ``units``
    (BlockSpec) that all read ``x_shape`` (n, H, W, C): series (one-row
    input and kernels, padded along time only) at stride 1 with outputs of
    one length, one of them on the FFT engine (``algorithm`` "scipy", or
    "auto" for a kernel of :data:`._conv.FFT_TAPS_1D` taps or more), whose
    spectrum of the input then serves them all."""
    if x_shape[1] != 1 or not any(unit.engine == "scipy" for unit in units):
        return False
    for unit in units:
        (top, bottom), _ = unit.padding
        if unit.kernel[0] != 1 or tuple(unit.stride) != (1, 1) or top or bottom:
            return False
    return len({output_length(x_shape[2], unit) for unit in units}) == 1


def _offsets(unit, kc):
    """Offsets ``(kc,)`` of a unit's taps from the output cell they serve."""
    (_, _), (left, _) = unit.padding
    return np.arange(kc) * unit.dilation[1] - left


def _circle(W, Wo, low, high):
    """A fast FFT length on which offsets ``low..high`` never carry a cell
    of the series (``0..W-1``) or of the output (``0..Wo-1``) onto another:
    a cell read past either end lands in the zeros after the series."""
    return sp_fft.next_fast_len(max(W, W - min(low, 0), Wo + max(high, 0)), real=True)


@lru_cache(maxsize=32)
def _plan(low, high, L, dtype):
    """``(cos, sin, weights)``: the cosines and sines ``(L // 2 + 1, high -
    low + 1)`` of ``2 pi v o / L`` for every frequency ``v`` of the half
    spectrum and offset ``o`` from ``low`` to ``high``, and the half
    spectrum's weights over ``L`` (``c_v / L``), in ``dtype``."""
    frequencies = np.arange(L // 2 + 1)
    angles = 2 * np.pi * np.outer(frequencies, np.arange(low, high + 1)) / L
    weights = np.full(frequencies.size, 2.0 / L)
    weights[0] = 1.0 / L
    if L % 2 == 0:
        weights[-1] = 1.0 / L
    arrays = [np.cos(angles), np.sin(angles), weights]
    arrays = [np.ascontiguousarray(a, dtype=np.dtype(dtype)) for a in arrays]
    for a in arrays:
        a.flags.writeable = False
    return tuple(arrays)


# the filters' spectra (frequencies x C x all filters, complex) are kept for
# the backward up to this size, and taken again from the taps past it (an
# InceptionTime module's hold 3.6 MB for series of 256 points and 18 MB for
# 1 460; taking them again costs 5-10 % of the module's training step)
KEEP_SPECTRA_BYTES = 8 * 2**20


def spectral_forward(x, ws, units, keep_cache=True):
    """Correlate series ``x`` (n, 1, W, C) with the filters ``ws`` of the
    convolutions ``units``, each ``(F_k, C, 1, kc_k)``, padded as each unit
    says (see the module's docstring; :func:`use_spectral` must hold).

    Returns
    -------
    outs : list of ndarray of shape (n, 1, Wo, F_k)
        One contiguous output per unit, without intercepts.
    cache : tuple or None
        What :func:`spectral_backward` needs; None without ``keep_cache``.
    """
    n, _, W, C = x.shape
    dtype = np.result_type(x, *ws)
    Wo = output_length(W, units[0])
    offsets = [_offsets(unit, w.shape[3]) for unit, w in zip(units, ws)]
    low = int(min(o.min() for o in offsets))
    high = int(max(o.max() for o in offsets))
    L = _circle(W, Wo, low, high)
    cos, sin, weights = _plan(low, high, L, dtype.name)
    # the kernels' taps at their offsets, stacked along the filters
    widths = [w.shape[0] for w in ws]
    taps = np.zeros((high - low + 1, C, sum(widths)), dtype=dtype)
    for w, o, f0 in zip(ws, offsets, np.cumsum([0, *widths])):
        taps[o - low, :, f0 : f0 + w.shape[0]] = w[:, :, 0, :].transpose(2, 1, 0)
    spectra = _filter_spectra(taps, cos, sin)
    xs = sp_fft.rfft(x[:, 0].astype(dtype, copy=False), n=L, axis=1)  # (n, v, C)
    ys = np.empty((n, cos.shape[0], taps.shape[2]), dtype=xs.dtype)
    # at every frequency: (n, C) @ (C, F), on the spectra as they lie
    np.matmul(xs.transpose(1, 0, 2), spectra, out=ys.transpose(1, 0, 2))
    y = sp_fft.irfft(ys, n=L, axis=1)  # (n, L, sum F)
    outs = [
        np.ascontiguousarray(y[:, None, :Wo, f0 : f0 + F])
        for f0, F in zip(np.cumsum([0, *widths]), widths)
    ]
    if not keep_cache:
        return outs, None
    shapes = [w.shape for w in ws]
    kept = spectra if spectra.nbytes <= KEEP_SPECTRA_BYTES else taps
    return outs, (xs, kept, (W, Wo, L, low), offsets, shapes, (cos, sin, weights))


def _filter_spectra(taps, cos, sin):
    """``G(v) = sum_o taps[o] exp(2i pi v o / L)``, ``(frequencies, C, F)``,
    as two real products over the offsets."""
    flat = taps.reshape(taps.shape[0], -1)
    spectra = np.empty((cos.shape[0], *taps.shape[1:]), dtype=_complex(taps.dtype))
    rows = spectra.reshape(cos.shape[0], -1)  # a view: one row per frequency
    rows.real = cos @ flat
    rows.imag = sin @ flat
    return spectra


def spectral_backward(douts, cache, need_dx=True):
    """``(dx or None, dws)`` of :func:`spectral_forward` given the gradient
    of each output, ``douts`` (n, 1, Wo, F_k): ``dx`` (n, 1, W, C) and one
    filter gradient ``(F_k, C, 1, kc_k)`` per unit."""
    xs, kept, (W, Wo, L, low), offsets, shapes, (cos, sin, weights) = cache
    d = np.concatenate([g[:, 0] for g in douts], axis=-1)  # (n, Wo, sum F)
    ds = sp_fft.rfft(d, n=L, axis=1).transpose(1, 0, 2)  # (v, n, sum F)
    # per frequency, summed over the series: X^H DY, (C, sum F)
    cross = np.matmul(xs.transpose(1, 2, 0).conj(), ds)
    cross *= weights[:, None, None]
    flat = cross.reshape(cross.shape[0], -1)
    dtaps = cos.T @ np.ascontiguousarray(flat.real)
    dtaps += sin.T @ np.ascontiguousarray(flat.imag)
    dtaps = dtaps.reshape(-1, *cross.shape[1:])  # (high - low + 1, C, sum F)
    dws, f0 = [], 0
    for shape, o in zip(shapes, offsets):
        F = shape[0]
        dw = dtaps[o - low, :, f0 : f0 + F].transpose(2, 1, 0)  # (F, C, kc)
        dws.append(np.ascontiguousarray(dw)[:, :, None, :])
        f0 += F
    if not need_dx:
        return None, dws
    n = d.shape[0]
    spectra = kept if np.iscomplexobj(kept) else _filter_spectra(kept, cos, sin)
    dxs = np.empty((n, *spectra.shape[:2]), dtype=ds.dtype)  # (n, v, C)
    np.matmul(ds, spectra.conj().transpose(0, 2, 1), out=dxs.transpose(1, 0, 2))
    dx = sp_fft.irfft(dxs, n=L, axis=1)[:, None, :W]
    return np.ascontiguousarray(dx, dtype=d.dtype), dws


def _complex(dtype):
    return np.result_type(dtype, np.complex64)
