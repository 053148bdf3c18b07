"""Deep learning for time series on aeon's data conventions.

Series come as aeon holds them: an array ``(n_cases, n_channels,
n_timepoints)``, an array ``(n_cases, n_timepoints)`` of univariate series, or
a list of ``(n_channels, n_timepoints_i)`` arrays. The estimators are presets
of :class:`~sklearn_xcnn.CNNClassifier` and
:class:`~sklearn_xcnn.CNNRegressor` with the published architectures as
defaults.
"""

from ._fcn import FCNClassifier, FCNRegressor
from ._inception_time import InceptionTimeClassifier, InceptionTimeRegressor
from ._resnet import ResNetClassifier, ResNetRegressor

__all__ = [
    "FCNClassifier",
    "FCNRegressor",
    "InceptionTimeClassifier",
    "InceptionTimeRegressor",
    "ResNetClassifier",
    "ResNetRegressor",
]
