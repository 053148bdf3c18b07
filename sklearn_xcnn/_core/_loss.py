"""Output activations and log loss, computed stably from the logits.

Two output activations exist: ``"logistic"`` (independent sigmoids, used for
binary and multilabel targets) and ``"softmax"`` (multi-class). Losses are
computed from the logits with ``logaddexp``/``logsumexp`` so that huge logits
give finite losses and gradients.
"""

import numpy as np
from scipy.special import expit, softmax


def output_proba(logits, out_activation):
    """Probabilities from logits.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_outputs)
    out_activation : {"logistic", "softmax"}

    Returns
    -------
    proba : ndarray of shape (n_samples, n_outputs)
    """
    if out_activation == "softmax":
        return softmax(logits, axis=1)
    return expit(logits)


def log_loss_and_delta(logits, Y, sample_weight, out_activation):
    """Weighted mean log loss and its gradient with respect to the logits.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_outputs)
    Y : ndarray of shape (n_samples, n_outputs)
        Binary indicator targets (one column for a binary problem).
    sample_weight : ndarray of shape (n_samples,) or None
    out_activation : {"logistic", "softmax"}

    Returns
    -------
    loss : float
        ``sum_i w_i * l_i / sum_i w_i`` where ``l_i`` is sample ``i``'s log
        loss (summed over outputs for independent sigmoids).
    delta : ndarray of shape (n_samples, n_outputs)
        Gradient of ``loss`` with respect to ``logits``.
    """
    if out_activation == "softmax":
        # -sum_k y_k log softmax(z)_k, gradient softmax(z) - y; written out
        # rather than with scipy.special, whose overhead dominates small batches
        shifted = logits - logits.max(axis=1, keepdims=True)
        delta = np.exp(shifted)
        total = delta.sum(axis=1, keepdims=True)
        delta /= total
        per_sample = np.log(total[:, 0]) * Y.sum(axis=1) - (Y * shifted).sum(axis=1)
    else:
        # log(1 + e^z) - y z for each sigmoid, gradient sigmoid(z) - y
        per_sample = (np.logaddexp(0, logits) - Y * logits).sum(axis=1)
        delta = expit(logits)
    delta -= Y
    if sample_weight is None:
        total = logits.shape[0]
        loss = per_sample.sum() / total
    else:
        total = sample_weight.sum()
        loss = per_sample @ sample_weight / total
        delta *= sample_weight[:, None]
    delta /= total
    return float(loss), delta
