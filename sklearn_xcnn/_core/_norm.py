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
as repeated images and a zero weight as a removed one.
"""

import numpy as np

BN_EPSILON = 1e-5
BN_MOMENTUM = 0.1


def batch_norm_forward(z, scale, shift, stats=None, keep_cache=False, weights=None):
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
    if weights is None:
        total = z.shape[0]
        share = None
        mean = z.mean(axis=0)
    else:
        total = float(weights.sum())
        share = (weights / total).astype(z.dtype)  # (m,), sums to one
        mean = share @ z
    centred = z - mean
    squares = centred * centred
    var = squares.mean(axis=0) if share is None else share @ squares  # biased
    inv_std = (1.0 / np.sqrt(var + BN_EPSILON)).astype(z.dtype)
    z_hat = centred
    z_hat *= inv_std
    out = z_hat * scale + shift
    unbiased = var * (total / max(total - 1, 1))
    cache = (z_hat, inv_std, scale, share) if keep_cache else None
    return out, cache, (mean, unbiased)


def batch_norm_backward(dout, cache):
    """Gradients of :func:`batch_norm_forward` (batch statistics).

    Parameters
    ----------
    dout : ndarray of shape (m, F)
    cache : tuple

    Returns
    -------
    dz : ndarray of shape (m, F)
    dscale, dshift : ndarray of shape (F,)
    """
    z_hat, inv_std, scale, share = cache
    dshift = dout.sum(axis=0)
    dscale = np.einsum("ij,ij->j", dout, z_hat)
    # d/dz of scale * (z - mean(z)) / std(z): the (weighted) mean and variance
    # of the batch depend on every cell, in proportion to its share of the
    # batch, which removes that share of dout's sum and of its projection on
    # z_hat
    if share is None:
        m = dout.shape[0]
        dz = dout - (dshift / m)
        dz -= z_hat * (dscale / m)
    else:
        dz = dout - share[:, None] * dshift
        dz -= (share[:, None] * z_hat) * dscale
    dz *= scale * inv_std
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
