"""sklearn-xcnn: convolutional neural networks for scikit-learn.

``CNNClassifier`` and ``CNNRegressor`` are NumPy/SciPy convolutional networks
that behave like any scikit-learn estimator: they fit, predict,
cross-validate, grid-search and pickle, and their learned filters and feature
maps can be inspected.
"""

from ._classifier import CNNClassifier
from ._persistence import ModelVersionWarning
from ._regressor import CNNRegressor
from ._training import DivergenceError

__version__ = "0.2.0"

__all__ = [
    "CNNClassifier",
    "CNNRegressor",
    "DivergenceError",
    "ModelVersionWarning",
    "__version__",
]
