"""sklearn-xcnn: a convolutional neural network classifier for scikit-learn.

``CNNClassifier`` is a NumPy/SciPy convolutional network that behaves like any
scikit-learn classifier: it fits, predicts, cross-validates, grid-searches and
pickles, and its learned filters and feature maps can be inspected.
"""

from ._classifier import CNNClassifier
from ._persistence import ModelVersionWarning
from ._training import DivergenceError

__version__ = "0.1.0"

__all__ = ["CNNClassifier", "DivergenceError", "ModelVersionWarning", "__version__"]
