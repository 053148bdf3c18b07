"""Batch normalisation of feature maps, per filter.

Training normalises each filter's cells with the mean and the *biased*
variance of the batch (over samples, rows and columns), then scales and
shifts them with learned ``scale`` and ``shift``::

    out = scale * (z - mean) / sqrt(var + BN_EPSILON) + shift

Prediction uses running averages instead, updated after each training batch
as PyTorch documents it: ``running = (1 - BN_MOMENTUM) * running +
BN_MOMENTUM * batch``, with the *unbiased* variance of the batch for the
running variance. The maps arrive as a matrix ``(m, F)``, one row per cell
(any cell order: the statistics do not depend on it).
"""

import numpy as np

BN_EPSILON = 1e-5
BN_MOMENTUM = 0.1


def batch_norm_forward(z, scale, shift, stats=None, keep_cache=False):
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
    m = z.shape[0]
    mean = z.mean(axis=0)
    centred = z - mean
    var = np.einsum("ij,ij->j", centred, centred) / m  # biased, (F,)
    inv_std = (1.0 / np.sqrt(var + BN_EPSILON)).astype(z.dtype)
    z_hat = centred
    z_hat *= inv_std
    out = z_hat * scale + shift
    unbiased = var * (m / max(m - 1, 1))
    cache = (z_hat, inv_std, scale) if keep_cache else None
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
    z_hat, inv_std, scale = cache
    m = dout.shape[0]
    dshift = dout.sum(axis=0)
    dscale = np.einsum("ij,ij->j", dout, z_hat)
    # d/dz of scale * (z - mean(z)) / std(z): the mean and the variance of the
    # batch depend on every cell, which removes the mean of dout and its
    # projection on z_hat
    dz = dout - (dshift / m)
    dz -= z_hat * (dscale / m)
    dz *= scale * inv_std
    return dz, dscale, dshift


def update_running_stats(stats, batch_stats):
    """Move running ``(mean, var)`` towards a batch's, in place."""
    for running, batch in zip(stats, batch_stats):
        running *= 1 - BN_MOMENTUM
        running += BN_MOMENTUM * batch
