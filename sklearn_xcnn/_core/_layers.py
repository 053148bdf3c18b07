"""The layers the compound block kinds are made of.

* :func:`unit_forward`: one convolution of a :class:`._units.BlockSpec`
  (padded, dilated, strided) followed by batch norm when the unit has it
  (its shift is the unit's intercept), else by the intercept; no activation.
  While training batch norm uses the batch's statistics (weighted by the
  samples, combined over the parts of a split batch); at prediction it is
  folded into the filters with the running statistics.
* :func:`units_forward`: several units that read the same input (the
  parallel convolutions of an inception module), through one spectrum of
  the input where they are series on the FFT engine (:mod:`._spectral`).
* :func:`norm_forward`: batch norm alone, with no shift (the shortcut of a
  residual unit whose channel count does not change: its shift would add to
  the main path's).
* :func:`join_forward`: the end of a compound block, its main path and its
  shortcut added, activated and pooled.
* :func:`same_max_pool_forward`: max pooling at stride 1 that keeps the map's
  size, the window centred on each cell (cells off the edge ignored, and
  padded cells of a masked batch, see :mod:`._mask`).

Each forward has its backward beside it. ``ctx`` is a
:class:`._kinds.Context`; ``stats`` the unit's running ``(mean, var)``.
"""

import numpy as np

from ._conv import correlate_backward, correlate_forward
from ._norm import (
    batch_norm_backward,
    batch_norm_forward,
    cell_weights,
    fold_batch_norm,
    masked_loss_weight,
)
from ._pad import crop_padding, pad_images, same_padding
from ._pairs import series_predict, use_pairs
from ._pool import pool_backward, pool_forward
from ._spectral import spectral_backward, spectral_forward, use_spectral


def _cell_weights(weights, z_shape, valid=None):
    """The sample weight of every cell of maps ``z_shape`` (n, H, W, F),
    zero at the padded cells of a masked batch."""
    if valid is not None:
        return cell_weights(weights, valid, z_shape[1] * z_shape[2])
    return None if weights is None else np.repeat(weights, z_shape[1] * z_shape[2])


def _normalise(z, scale, shift, stats, ctx):
    """Batch norm of maps ``z`` (n, H, W, F) while training: ``(out, cache)``;
    appends the batch statistics to ``ctx.batch_stats`` (when a list)."""
    F = z.shape[-1]
    cells = _cell_weights(ctx.weights, z.shape, ctx.valid)
    out, cache, batch = batch_norm_forward(
        z.reshape(-1, F), scale, shift, None, True, cells, ctx.combine,
        masked_loss_weight(ctx.weights, ctx.valid),
    )  # fmt: skip
    if ctx.batch_stats is not None:
        ctx.batch_stats.append(batch)
    return out.reshape(z.shape), cache


def unit_forward(x, w, b, scale, stats, unit, ctx, act=None):
    """``bn(correlate(pad(x), w)) `` or ``correlate(pad(x), w) + b``, then
    ``act`` (in place) when given.

    Parameters
    ----------
    x : ndarray of shape (n, H, W, C)
    w : ndarray of shape (F, C, kr, kc)
    b, scale : ndarray of shape (F,); ``scale`` None without batch norm
    unit : BlockSpec
    stats : (ndarray, ndarray) or None
    ctx : Context
    act : callable or None, default=None
        An activation of :mod:`._activations`, applied to the output.

    Returns
    -------
    z : ndarray of shape (n, Ho, Wo, F)
    cache : tuple or None
    """
    train = ctx.keep_cache
    if unit.batch_norm and not train:  # a fixed affine map: folded
        w, b = fold_batch_norm(w, b, scale, stats)
    if not train and use_pairs(x.shape, w.shape, unit):  # padded as it goes
        return series_predict(x, w, b, unit.padding, act), None
    x = pad_images(x, unit.padding)
    z, conv_cache = correlate_forward(
        x, w, unit.stride, unit.engine, train, dilation=unit.dilation
    )
    z, bn_cache = _shift(z, b, scale, stats, unit, ctx)
    if act is not None:
        z = act(z)
    return z, ((conv_cache, bn_cache, unit) if train else None)


def _shift(z, b, scale, stats, unit, ctx):
    """The correlation ``z`` normalised by batch norm while training a unit
    that has it, else plus its intercepts (at prediction batch norm is
    folded into ``b``): ``(z, batch-norm cache or None)``."""
    if unit.batch_norm and ctx.keep_cache:
        return _normalise(z, scale, b, stats, ctx)
    return np.add(z, b, out=z), None


def _shift_backward(d, bn_cache):
    """Back through :func:`_shift`: ``(dz, db, dscale)``."""
    if bn_cache is None:
        return d, d.sum(axis=(0, 1, 2)), None
    dz, dscale, db = batch_norm_backward(d.reshape(-1, d.shape[-1]), bn_cache)
    return dz.reshape(d.shape), db, dscale


def unit_backward(d, cache, need_dx=True):
    """Back through :func:`unit_forward`: ``(dx, dw, db, dscale)``."""
    conv_cache, bn_cache, unit = cache
    d, db, dscale = _shift_backward(d, bn_cache)
    dx, dw = correlate_backward(d, conv_cache, need_dx)
    if dx is not None:
        dx = np.ascontiguousarray(crop_padding(dx, unit.padding))
    return dx, dw, db, dscale


def units_forward(x, params, units, ctx):
    """Several convolutions that read the same ``x``, each as
    :func:`unit_forward` (no activation): the parallel convolutions of an
    inception module.

    Where :func:`._spectral.use_spectral` holds (series, one of the units on
    the FFT engine), one spectrum of ``x`` serves them all
    (:mod:`._spectral`); else each unit correlates on its own.

    Parameters
    ----------
    x : ndarray of shape (n, H, W, C)
    params : list of (w, b, scale, stats)
        One per unit, as :func:`unit_forward` takes them.
    units : sequence of BlockSpec
    ctx : Context

    Returns
    -------
    outs : list of ndarray of shape (n, Ho, Wo, F_k)
    cache : tuple or None
    """
    train = ctx.keep_cache
    if not use_spectral(x.shape, units):
        done = [unit_forward(x, *p, unit, ctx) for p, unit in zip(params, units)]
        return [z for z, _ in done], (("each", [c for _, c in done]) if train else None)
    ws, bs = [], []
    for (w, b, scale, stats), unit in zip(params, units):
        if unit.batch_norm and not train:  # folded, as unit_forward does
            w, b = fold_batch_norm(w, b, scale, stats)
        ws.append(w)
        bs.append(b)
    zs, conv_cache = spectral_forward(x, ws, units, train)
    outs, bn_caches = [], []
    for z, b, (_, _, scale, stats), unit in zip(zs, bs, params, units):
        z, bn_cache = _shift(z, b, scale, stats, unit, ctx)
        outs.append(z)
        bn_caches.append(bn_cache)
    return outs, (("spectral", (conv_cache, bn_caches)) if train else None)


def units_backward(ds, cache, need_dx=True):
    """Back through :func:`units_forward` given each output's gradient:
    ``(dx or None, grads)``, ``dx`` the sum over the units and ``grads`` one
    ``(dw, db, dscale)`` per unit."""
    path, caches = cache
    if path == "each":
        dx, grads = None, []
        for d, unit_cache in zip(ds, caches):
            dz, dw, db, dscale = unit_backward(d, unit_cache, need_dx)
            grads.append((dw, db, dscale))
            if dz is not None:
                dx = dz if dx is None else np.add(dx, dz, out=dx)
        return dx, grads
    conv_cache, bn_caches = caches
    shifted = [_shift_backward(d, bn_cache) for d, bn_cache in zip(ds, bn_caches)]
    dx, dws = spectral_backward([dz for dz, _, _ in shifted], conv_cache, need_dx)
    return dx, [(dw, db, dscale) for dw, (_, db, dscale) in zip(dws, shifted)]


def norm_forward(x, scale, stats, ctx):
    """Batch norm of ``x`` (n, H, W, F) with no shift: ``(out, cache)``."""
    shift = np.zeros_like(scale)
    if not ctx.keep_cache:
        F = x.shape[-1]
        out, _, _ = batch_norm_forward(x.reshape(-1, F), scale, shift, stats)
        return out.reshape(x.shape), None
    return _normalise(x, scale, shift, stats, ctx)


def norm_backward(d, cache):
    """Back through :func:`norm_forward`: ``(dx, dscale)``."""
    dx, dscale, _ = batch_norm_backward(d.reshape(-1, d.shape[-1]), cache)
    return dx.reshape(d.shape), dscale


def _offsets(window):
    return [(p, q) for p in range(window[0]) for q in range(window[1])]


def same_max_pool_forward(x, window, valid=None):
    """The largest cell of the ``window`` (pr, pc) around every cell of ``x``
    (n, H, W, C), at stride 1: ``(out (n, H, W, C), cache)``. The window is
    placed as a 'same' correlation places its kernel; cells off the edge are
    left out (padded with minus infinity), and so are the cells that
    ``valid`` (n, H, W) marks as padding of a masked batch (an output cell
    whose window holds none but those is minus infinity). Only the maximum
    is taken here: the backward finds the winning cells (prediction never
    needs them)."""
    n, H, W, C = x.shape
    (t, _), (left, _) = [same_padding(s, k, 1) for s, k in zip((H, W), window)]
    padded = np.full((n, H + window[0] - 1, W + window[1] - 1, C), -np.inf, x.dtype)
    padded[:, t : t + H, left : left + W] = x
    if valid is not None:
        inner = padded[:, t : t + H, left : left + W]
        np.copyto(inner, x.dtype.type(-np.inf), where=~valid[..., None])
    out = padded[:, :H, :W].copy()
    for p, q in _offsets(window)[1:]:
        np.maximum(out, padded[:, p : p + H, q : q + W], out=out)
    return out, (padded, out, window, (t, left))


def same_max_pool_backward(d, cache):
    """Gradient of :func:`same_max_pool_forward`: each cell's gradient goes
    to the cell that won its window (the first offset holding the maximum)."""
    padded_x, out, window, (t, left) = cache
    n, H, W, C = d.shape
    padded = np.zeros((n, H + window[0] - 1, W + window[1] - 1, C), d.dtype)
    offsets = _offsets(window)
    won = np.empty(d.shape, dtype=bool)
    sent = np.empty_like(d)  # the gradient the offset's cells win
    open_ = None  # cells whose winner is not found yet (all, at first)
    for i, (p, q) in enumerate(offsets):
        np.equal(padded_x[:, p : p + H, q : q + W], out, out=won)
        if open_ is None:
            open_ = np.logical_not(won)
        else:
            won &= open_
            if i < len(offsets) - 1:
                np.greater(open_, won, out=open_)  # open and not won
        # a product with the mask runs 3x faster than np.where or where=
        np.multiply(d, won, out=sent)
        padded[:, p : p + H, q : q + W] += sent
    return padded[:, t : t + H, left : left + W].copy()


def join_forward(h, s, act, pool, pooling):
    """``pool(act(h + s))``, the end of a compound block: ``(out, cache)``;
    no pooling when ``pool`` is None. Overwrites ``h``, which no cache may
    hold."""
    a = act(np.add(h, s, out=h))
    if pool is None:
        return a, (a, None)
    out, pool_cache = pool_forward(a, pool, pooling)
    return out, (a, pool_cache)


def join_backward(d, cache, derivative):
    """The gradient of :func:`join_forward` with respect to ``h`` and ``s``
    (the same array) given its activation's ``derivative``."""
    a, pool_cache = cache
    if pool_cache is not None:
        d = pool_backward(d, pool_cache)
    return derivative(a, d)
