"""Data augmentation: new training images drawn from each batch.

Pass a list of augmenters as the ``augment`` parameter of
:class:`~sklearn_xcnn.CNNClassifier` or :class:`~sklearn_xcnn.CNNRegressor`:
each training batch of ``"adam"`` and ``"sgd"`` goes through them in turn,
with new draws for every image in every epoch, all from ``random_state``.
Held-out rows, prediction and scoring never see them. See
:ref:`augmentation` in the documentation.

A user-written augmenter is either a subclass of :class:`Augmenter` or any
callable ``augmenter(X, random_state) -> X_new`` taking a batch ``X`` of
shape ``(n_samples, height, width, channels)`` and a
:class:`numpy.random.RandomState`, and returning new images of the same
shape without changing ``X``.
"""

from ._base import Augmenter
from ._images import RandomFlip, RandomRotation, RandomShift
from ._signals import RandomJitter, RandomScaling, RandomTimeShift

__all__ = [
    "Augmenter",
    "RandomFlip",
    "RandomJitter",
    "RandomRotation",
    "RandomScaling",
    "RandomShift",
    "RandomTimeShift",
]
