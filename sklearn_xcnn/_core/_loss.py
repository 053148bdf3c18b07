"""Output activations and losses, computed stably from the logits.

Three output activations exist: ``"logistic"`` (independent sigmoids, used for
binary and multilabel targets), ``"softmax"`` (multi-class) and
``"identity"`` (regression). Each loss takes the output layer's
pre-activations (the *logits*) rather than the activated outputs, so that it
can be computed stably: the log loss through ``logaddexp``/``logsumexp``
(huge logits give finite losses and gradients), the squared error directly.

:data:`LOSSES` maps a loss name to a function
``(logits, Y, sample_weight, out_activation) -> (loss, delta)``; a
:class:`~sklearn_xcnn._core._network.NetworkSpec` names its loss and
:func:`~sklearn_xcnn._core._network.loss_and_grad` looks it up here.
"""

import numpy as np
from scipy.special import expit, softmax


def output_proba(logits, out_activation):
    """The output activation applied to the logits.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_outputs)
    out_activation : {"logistic", "softmax", "identity"}

    Returns
    -------
    out : ndarray of shape (n_samples, n_outputs)
        Probabilities, or the logits themselves for ``"identity"``.
    """
    if out_activation == "softmax":
        return softmax(logits, axis=1)
    if out_activation == "identity":
        return logits
    return expit(logits)


def _weighted_mean(per_sample, delta, sample_weight):
    """Average ``per_sample`` (n,) with the weights and scale ``delta`` (in
    place) to the gradient of that average; returns ``(loss, delta)``."""
    if sample_weight is None:
        total = per_sample.shape[0]
        loss = per_sample.sum() / total
    else:
        total = sample_weight.sum()
        loss = per_sample @ sample_weight / total
        delta *= sample_weight[:, None]
    delta /= total
    return float(loss), delta


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
    return _weighted_mean(per_sample, delta, sample_weight)


def squared_error_and_delta(logits, Y, sample_weight, out_activation="identity"):
    """Half the weighted mean squared error and its gradient.

    The outputs are the logits themselves (identity output units). The loss
    is averaged over the samples (with their weights) and over the
    ``n_outputs`` outputs, as :class:`~sklearn.neural_network.MLPRegressor`'s
    ``0.5 * mean((y - y_pred) ** 2)``.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_outputs)
    Y : ndarray of shape (n_samples, n_outputs)
        Real targets.
    sample_weight : ndarray of shape (n_samples,) or None
    out_activation : {"identity"}, default="identity"
        Accepted for a common signature; only the identity is meaningful.

    Returns
    -------
    loss : float
        ``sum_i w_i * sum_k (z_ik - y_ik)**2 / (2 * n_outputs * sum_i w_i)``.
    delta : ndarray of shape (n_samples, n_outputs)
        Gradient of ``loss`` with respect to ``logits``:
        ``w_i * (z_ik - y_ik) / (n_outputs * sum_i w_i)``.
    """
    n_outputs = logits.shape[1]
    delta = logits - Y  # (n, k)
    per_sample = np.einsum("ij,ij->i", delta, delta) / (2 * n_outputs)
    delta /= n_outputs
    return _weighted_mean(per_sample, delta, sample_weight)


LOSSES = {
    "log_loss": log_loss_and_delta,
    "squared_error": squared_error_and_delta,
}

# the loss each output activation is trained with
DEFAULT_LOSS = {
    "logistic": "log_loss",
    "softmax": "log_loss",
    "identity": "squared_error",
}
