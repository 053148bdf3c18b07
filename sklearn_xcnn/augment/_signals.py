"""Augmenters for signals (images of one row, time along the columns):
shifts in time, scaling and jitter.

Scaling and jitter work on any image; the time shift moves along the
columns only.
"""

from numbers import Integral, Real

import numpy as np

from ..utils._compat import Interval
from ._base import Augmenter
from ._images import check_shift_leaves_something, draw_shifts, shift_images

# a standard deviation of draws
_SIGMA = {"sigma": [Interval(Real, 0, None, closed="left")]}


class RandomTimeShift(Augmenter):
    """Shift each signal in time by a random whole number of steps.

    For each signal a shift is drawn uniformly from ``-max_shift`` to
    ``max_shift`` (ends included) and the signal moves that many steps
    later (earlier when negative) along the columns; the steps shifted out
    are lost and zeros come in. ``RandomTimeShift(k)`` draws what
    ``RandomShift((0, k))`` draws.

    Parameters
    ----------
    max_shift : int, default=2
        Largest shift, in steps; smaller than the length of the signals.

    See Also
    --------
    RandomShift : Shift images along rows and columns.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn.augment import RandomTimeShift
    >>> X = np.arange(1.0, 6.0).reshape(1, 1, 5, 1)  # one signal of 5 steps
    >>> RandomTimeShift(2).transform_batch(X, np.random.RandomState(0)).ravel()
    array([0., 0., 1., 2., 3.])
    """

    _parameter_constraints: dict = {
        "max_shift": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, max_shift=2):
        self.max_shift = max_shift

    def _check_image_shape(self, image_shape):
        owner = f"signals of shape {tuple(image_shape)}"
        check_shift_leaves_something(self.max_shift, image_shape[1], "columns", owner)

    def _transform_batch(self, X, random_state):
        n = X.shape[0]
        return shift_images(
            X, np.zeros(n, dtype=int), draw_shifts(random_state, n, self.max_shift)
        )


class RandomScaling(Augmenter):
    """Multiply each signal by a random factor.

    For each signal (or image) a factor is drawn from a normal distribution
    of mean 1 and standard deviation ``sigma``, and every value of the
    signal, in every channel, is multiplied by it.

    Parameters
    ----------
    sigma : float, default=0.1
        Standard deviation of the factors.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn.augment import RandomScaling
    >>> X = np.ones((2, 1, 4, 1))
    >>> RandomScaling(0.1).transform_batch(X, np.random.RandomState(0))[:, 0, :, 0]
    array([[1.17640523, 1.17640523, 1.17640523, 1.17640523],
           [1.04001572, 1.04001572, 1.04001572, 1.04001572]])
    """

    _parameter_constraints: dict = _SIGMA

    def __init__(self, sigma=0.1):
        self.sigma = sigma

    def _transform_batch(self, X, random_state):
        factors = random_state.normal(1.0, self.sigma, size=X.shape[0])
        return X * factors.astype(X.dtype)[:, None, None, None]


class RandomJitter(Augmenter):
    """Add random noise to every value.

    Each value of each signal (or image) gets its own draw from a normal
    distribution of mean 0 and standard deviation ``sigma``: scale ``X``
    first so that ``sigma`` means the same for every feature.

    Parameters
    ----------
    sigma : float, default=0.03
        Standard deviation of the noise.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn.augment import RandomJitter
    >>> X = np.zeros((1, 1, 4, 1))
    >>> RandomJitter(0.1).transform_batch(X, np.random.RandomState(0)).ravel()
    array([0.17640523, 0.04001572, 0.0978738 , 0.22408932])
    """

    _parameter_constraints: dict = _SIGMA

    def __init__(self, sigma=0.03):
        self.sigma = sigma

    def _transform_batch(self, X, random_state):
        noise = random_state.normal(0.0, self.sigma, size=X.shape)
        return X + noise.astype(X.dtype)
