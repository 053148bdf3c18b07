"""Batch normalisation of feature maps, per filter.

Training normalises each filter's cells with the mean and the *biased*
variance of the batch (over samples, rows and columns), then scales and
shifts them with learned ``scale`` and ``shift``::

    out = scale * (z - mean) / sqrt(var + BN_EPSILON) + shift

Prediction uses running averages instead, updated after each training batch
as PyTorch documents it: ``running = (1 - BN_MOMENTUM) * running +
BN_MOMENTUM * batch``, with the *unbiased* variance of the batch for the
running variance. The maps arrive as a matrix ``(m, F)``, one row per cell
(any cell order: the statistics do not depend on it). With sample weights
the batch statistics are weighted means, so that an integer weight counts
as repeated images and a zero weight as a removed one. The weights are per
cell, so a batch of series padded to one length leaves its padding out of
the statistics with a zero weight there (:func:`cell_weights`).
"""

from typing import NamedTuple

import numpy as np

from ._gemm import transposed_product
from ._pool import max_pool_ordered, max_pool_ordered_backward

BN_EPSILON = 1e-5
BN_MOMENTUM = 0.1


def cell_weights(sample_weight, valid, n_cells):
    """The weight of every cell of maps ``(n, H, W, F)`` in the batch
    statistics, in row order: its sample's weight (1 when
    ``sample_weight`` is None), zero where ``valid`` ``(n, H, W)`` marks
    padding; None (equal weights) when both are None.

    ``n_cells`` is ``H * W``, the cells of one sample.
    """
    if valid is None:
        if sample_weight is None:
            return None
        return np.repeat(sample_weight, n_cells)
    weights = valid.reshape(len(valid), n_cells).astype(float)  # (n, H * W)
    if sample_weight is not None:
        weights *= np.asarray(sample_weight, dtype=float)[:, None]
    return weights.ravel()


def masked_loss_weight(sample_weight, valid):
    """The ``loss_weight`` of :func:`batch_norm_forward` for a masked batch
    (``valid`` (n, H, W), see :mod:`._mask`): its number of samples or the
    sum of their weights; None without a mask."""
    if valid is None:
        return None
    return float(len(valid) if sample_weight is None else np.sum(sample_weight))


def _local_sums(total, arrays):
    """The statistics of one batch that is not split: already the batch's."""
    return total, arrays


def batch_norm_forward(
    z, scale, shift, stats=None, keep_cache=False, weights=None, combine=None,
    loss_weight=None,
):  # fmt: skip
    """Normalise the columns of ``z``.

    Parameters
    ----------
    z : ndarray of shape (m, F)
        One row per cell of the maps, one column per filter.
    scale, shift : ndarray of shape (F,)
    stats : (ndarray, ndarray) or None
        ``(running_mean, running_var)`` to normalise with (prediction); with
        None the batch's own statistics are used (training).
    keep_cache : bool, default=False
        Keep what :func:`batch_norm_backward` needs.
    weights : ndarray of shape (m,) or None, default=None
        Weight of each row in the batch statistics (the sample weight of the
        image the cell belongs to): an integer weight counts the cell that
        many times, a zero leaves it out.
    combine : callable or None, default=None
        When ``z`` is one part of a batch split over the cores:
        ``combine(total, arrays)`` takes this part's total weight (its number
        of rows, or the sum of ``weights``) and a list of per-filter
        averages over its rows, and returns the batch's total and the
        averages over the whole batch (the parts' averages weighted by their
        totals). Every part then normalises with the whole batch's
        statistics, and :func:`batch_norm_backward` combines its sums the
        same way. None: ``z`` is the whole batch.
    loss_weight : float or None, default=None
        This part's weight in the batch's loss (its number of samples, or
        the sum of their weights), when it is not proportional to its
        weight in the statistics: the cells of a masked batch's series (see
        :mod:`._mask`) count by time step in the statistics, the series by
        sample in the loss. :func:`batch_norm_backward` then combines the
        gradient sums of split parts by their shares of the loss. None: the
        two are proportional (every sample has as many cells).

    Returns
    -------
    out : ndarray of shape (m, F)
    cache : tuple or None
    batch_stats : (ndarray, ndarray) or None
        The batch's mean and unbiased variance, ``(F,)`` each, when
        normalised with them.
    """
    if stats is not None:
        mean, var = stats
        inv_std = 1.0 / np.sqrt(var.astype(z.dtype) + BN_EPSILON)
        out = (z - mean.astype(z.dtype)) * (scale * inv_std) + shift
        return out, None, None
    centred, (mean, var), share, total, grand, combine = _centre(z, weights, combine)
    inv_std = (1.0 / np.sqrt(var + BN_EPSILON)).astype(z.dtype)
    out = np.multiply(centred, scale * inv_std)
    out += shift
    cache = None
    if keep_cache:
        rows = None if loss_weight is None else (loss_weight, grand)
        cache = (centred, inv_std, scale, share, total, combine, rows)
    return out, cache, (mean, _unbiased(var, grand))


def _unbiased(var, grand):
    return var * (grand / max(grand - 1, 1))


def _centre(z, weights, combine, out=None):
    """The batch statistics of ``z`` (m, F) and ``z`` centred on its mean.

    Returns ``(centred, (mean, var), share, total, grand, combine)``: the
    centred rows (into ``out`` when given, which may be ``z``), the batch's
    mean and biased variance (combined over the parts of a split batch by
    ``combine``), each row's share of this part's weight (None: equal
    shares), this part's total weight, the whole batch's, and the
    ``combine`` callable (the local one when None was given).
    """
    combine = _local_sums if combine is None else combine
    # column sums as einsum reductions: several times faster than
    # ``mean(axis=0)`` over the rows of a matrix this narrow
    if weights is None:
        total, share = z.shape[0], None
        mean = np.einsum("ij->j", z) / z.dtype.type(total)
    else:
        total = float(weights.sum())
        share = (weights / total).astype(z.dtype)  # (m,), sums to one
        mean = share @ z
    grand, (mean,) = combine(total, [mean])
    centred = np.subtract(z, mean, out=out)
    if share is None:
        var = np.einsum("ij,ij->j", centred, centred) / z.dtype.type(total)
    else:
        var = np.einsum("i,ij,ij->j", share, centred, centred)
    _, (var,) = combine(total, [var])  # biased
    return centred, (mean, var), share, total, grand, combine


def batch_norm_backward(dout, cache, defer_spread=False):
    """Gradients of :func:`batch_norm_forward` (batch statistics).

    Parameters
    ----------
    dout : ndarray of shape (m, F)
        The gradient of this part's loss (the mean over its rows) with
        respect to the output.
    cache : tuple
    defer_spread : bool, default=False
        Leave out of ``dz`` the term that the batch's statistics spread over
        every cell, and return it as a :class:`Spread` (for a caller that
        needs only products with it: the filter gradient of a first block).

    Returns
    -------
    dz : ndarray of shape (m, F)
    dscale, dshift : ndarray of shape (F,)
        Of this part's loss.
    spread : Spread
        Only with ``defer_spread``; ``dz + spread.dense()`` is the gradient.
    """
    centred, inv_std, scale, share, total, combine, rows = cache
    dshift = np.einsum("ij->j", dout)
    dscale = np.einsum("ij,ij->j", dout, centred) * inv_std  # dout . z_hat
    # d/dz of scale * (z - mean(z)) / std(z): the (weighted) mean and variance
    # of the batch depend on every cell, in proportion to its share of the
    # batch, which removes that share of dout's sum and of its projection on
    # z_hat. Split over the cores, those sums are the whole batch's (each
    # part's weighted by its share of the loss), and a cell's share of the
    # whole batch over its part's share of the loss is its share of its part
    if rows is None:
        _, (sum_d, sum_dz) = combine(total, [dshift, dscale])
    else:  # the part's shares of the loss and of the statistics differ
        loss_weight, grand = rows
        all_loss, (sum_d, sum_dz) = combine(loss_weight, [dshift, dscale])
        share = share * share.dtype.type((total / grand) * (all_loss / loss_weight))
    gain = scale * inv_std
    spread = Spread(centred, gain * inv_std * sum_dz, gain * sum_d, share)
    if defer_spread:
        return dout * gain, dscale, dshift, spread
    dz = spread.dense()
    dz += dout * gain
    return dz, dscale, dshift


class Spread(NamedTuple):
    """What the batch's statistics take from every cell's gradient,
    ``-share * (maps * along + across)``: per filter ``along`` and
    ``across`` (F,), each cell's ``share`` of its part (None: ``1 / m``).

    It is a sum of two rank-one terms per filter, so its products with a
    matrix need not form it: :meth:`left_product` gives the filter gradient
    it adds for a patch matrix in one product over the maps, against a pass
    that writes an ``(m, F)`` matrix and a product over that."""

    maps: np.ndarray  # (m, F)
    along: np.ndarray
    across: np.ndarray
    share: np.ndarray | None

    def dense(self):
        """The term as an ``(m, F)`` matrix."""
        maps, along, across, share = self
        if share is None:
            m = maps.dtype.type(maps.shape[0])
            dz = np.multiply(maps, -along / m)
            dz -= across / m
        else:
            dz = np.multiply(maps, -along)
            dz -= across
            dz *= share[:, None]
        return dz

    def left_product(self, cols):
        """``cols.T @ self.dense()`` for ``cols`` (m, K): ``-(cols' @ maps)
        * along - sum(cols') x across``, with ``cols'`` the rows of ``cols``
        times their shares."""
        maps, along, across, share = self
        if share is None:
            weighted = cols
            along, across = along / maps.shape[0], across / maps.shape[0]
        else:
            weighted = cols * share[:, None].astype(cols.dtype, copy=False)
        product = transposed_product(weighted, maps)  # (K, F), in chunks of rows
        product *= -along.astype(product.dtype, copy=False)
        sums = np.einsum("ij->j", weighted)  # (K,)
        product -= np.outer(sums, across).astype(product.dtype, copy=False)
        return product


def batch_norm_max_pool_forward(z, scale, shift, layout, weights=None, combine=None):
    """Batch norm with the batch's statistics, then max pooling, of maps in
    pool order (see :mod:`._pool`): what :func:`batch_norm_forward` followed
    by :func:`._pool.max_pool_ordered` computes, with fewer passes over the
    maps.

    Batch norm is an affine map per filter, ``g * (z - mean) + shift`` with
    gain ``g = scale / std``. For ``g >= 0`` its maximum over a window is
    ``g * max(z - mean) + shift``, and for ``g < 0`` it is ``|g| * max(mean
    - z) + shift``: so the centred maps, negated for filters of negative
    gain, are max-pooled, and the affine map touches only the pooled cells.
    The backward pass likewise needs the full maps only once (see
    :func:`batch_norm_max_pool_backward`).

    Parameters
    ----------
    z : ndarray of shape (m, F)
        Pool-ordered maps; overwritten (centred, negated where ``g < 0``).
    scale, shift : ndarray of shape (F,)
    layout : (int, int, int, int, int)
        ``(n, H, W, pr, pc)`` of the maps and the pooling window.
    weights, combine
        As in :func:`batch_norm_forward`.

    Returns
    -------
    out : ndarray of shape (n, Hp, Wp, F)
        The pooled, batch-normalised maps.
    cache : tuple
    batch_stats : (ndarray, ndarray)
        The batch's mean and unbiased variance.
    """
    signed, (mean, var), share, total, grand, combine = _centre(
        z, weights, combine, out=z
    )
    inv_std = (1.0 / np.sqrt(var + BN_EPSILON)).astype(z.dtype)
    gain = scale * inv_std
    sign = np.where(gain < 0, -1, 1).astype(z.dtype)
    if (gain < 0).any():
        signed *= sign
    pooled, argmax = max_pool_ordered(signed, layout, True, keep_input=True)
    out = pooled * np.abs(gain)
    out += shift
    cache = (signed, pooled, argmax, layout, sign, inv_std, gain, share, total,
             combine)  # fmt: skip
    return out, cache, (mean, _unbiased(var, grand))


def batch_norm_max_pool_backward(dout, cache, defer_spread=False):
    """Gradients of :func:`batch_norm_max_pool_forward`.

    The gradient reaches the normalised maps only at the cells that won
    their window; batch norm's dependence on the batch's mean and variance
    spreads it over every cell (see :func:`batch_norm_backward`), which is
    one pass over the maps before the winners' gradients are added.

    Parameters
    ----------
    dout : ndarray of shape (n, Hp, Wp, F)
        The gradient of this part's loss with respect to the pooled output.
    cache : tuple
    defer_spread : bool, default=False
        Return the spread term apart, as :func:`batch_norm_backward` does.

    Returns
    -------
    dz : ndarray of shape (m, F)
        In pool order.
    dscale, dshift : ndarray of shape (F,)
    spread : Spread
        Only with ``defer_spread``.
    """
    signed, pooled, argmax, layout, sign, inv_std, gain, share, total, combine = cache
    F = dout.shape[-1]
    d = dout.reshape(-1, F)
    dshift = np.einsum("ij->j", d)
    # z_hat at the winning cell is sign * pooled * inv_std
    dscale = np.einsum("ij,ij->j", d, pooled.reshape(-1, F)) * (sign * inv_std)
    _, (sum_d, sum_dz) = combine(total, [dshift, dscale])
    # every cell: -share * (gain * inv_std * sum_dz * centred + gain * sum_d),
    # with centred = sign * signed
    spread = Spread(signed, gain * inv_std * sum_dz * sign, gain * sum_d, share)
    # the winners: gain times the pooled gradient
    if defer_spread:
        dz = max_pool_ordered_backward(dout * gain, argmax, layout)
        return dz, dscale, dshift, spread
    dz = spread.dense()
    max_pool_ordered_backward(dout * gain, argmax, layout, add_to=dz)
    return dz, dscale, dshift


def update_running_stats(stats, batch_stats):
    """Move running ``(mean, var)`` towards a batch's, in place."""
    for running, batch in zip(stats, batch_stats):
        running *= 1 - BN_MOMENTUM
        running += BN_MOMENTUM * batch


def fold_batch_norm(w, shift, scale, stats):
    """Filters and intercepts that compute a block's correlation followed by
    batch norm with the running ``stats``: ``(w', b')`` with
    ``w' = w * g`` and ``b' = shift - mean * g`` per filter, where
    ``g = scale / sqrt(var + BN_EPSILON)``.

    Parameters
    ----------
    w : ndarray of shape (F, C, kr, kc)
    shift, scale : ndarray of shape (F,)
    stats : (ndarray, ndarray)
        Running ``(mean, var)``, ``(F,)`` each.

    Returns
    -------
    w : ndarray of shape (F, C, kr, kc)
    b : ndarray of shape (F,)
    """
    mean, var = (a.astype(w.dtype, copy=False) for a in stats)
    gain = scale / np.sqrt(var + BN_EPSILON)
    return w * gain[:, None, None, None], shift - mean * gain
