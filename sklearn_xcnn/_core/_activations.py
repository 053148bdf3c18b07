"""Activation functions and their derivatives, applied in place.

Each activation overwrites its argument with the activated values. Each
derivative multiplies a back-propagated ``delta`` in place by the derivative of
the activation, written in terms of the activation's *output* ``a`` (so the
pre-activation never has to be kept).
"""

import numpy as np
from scipy.special import expit


def _identity(z):
    """Leave ``z`` (any shape) unchanged."""
    return z


def _relu(z):
    """Rectified linear unit, ``max(z, 0)``, in place on ``z`` (any shape)."""
    return np.maximum(z, 0, out=z)


def _tanh(z):
    """Hyperbolic tangent, in place on ``z`` (any shape)."""
    return np.tanh(z, out=z)


def _logistic(z):
    """Logistic sigmoid ``1 / (1 + exp(-z))``, in place on ``z`` (any shape)."""
    return expit(z, out=z)


def _identity_derivative(a, delta):
    """Derivative of the identity: ``delta`` stays as it is."""
    return delta


def _relu_derivative(a, delta):
    """Zero ``delta`` where the ReLU output ``a`` is not positive."""
    return np.multiply(delta, a > 0, out=delta)


def _tanh_derivative(a, delta):
    """Multiply ``delta`` by ``1 - a**2``, the derivative of tanh."""
    delta *= 1 - a * a
    return delta


def _logistic_derivative(a, delta):
    """Multiply ``delta`` by ``a * (1 - a)``, the derivative of the sigmoid."""
    delta *= a * (1 - a)
    return delta


ACTIVATIONS = {
    "identity": _identity,
    "relu": _relu,
    "tanh": _tanh,
    "logistic": _logistic,
}

DERIVATIVES = {
    "identity": _identity_derivative,
    "relu": _relu_derivative,
    "tanh": _tanh_derivative,
    "logistic": _logistic_derivative,
}
