"""ResNetClassifier and ResNetRegressor: the residual network of the
time-series literature as a preset of the image family."""

from .._classifier import CNNClassifier
from .._docstrings import fill_doc
from .._regressor import CNNRegressor
from ._base import SeriesMixin, store_parameters
from ._docstrings import SERIES_PIECES
from ._regime import PUBLISHED_RATE_TRAINING as TRAINING


@fill_doc(**SERIES_PIECES)
class ResNetClassifier(SeriesMixin, CNNClassifier):
    """Residual network (ResNet) classifier of time series.

    :class:`~sklearn_xcnn.CNNClassifier` with the published time-series
    ResNet as defaults (Wang, Yan and Oates, 2017): three residual units of
    three convolutions each, reading series in aeon's layouts (``X`` of
    shape ``(n_cases, n_channels, n_timepoints)``, ``(n_cases,
    n_timepoints)`` for univariate series, or a list of ``(n_channels,
    n_timepoints_i)`` arrays). Every parameter of the family is available;
    sizes (``kernel_size``, ``stride``, ``pool_size``, ``padding``) are
    lengths along time, one per unit.

    Parameters
    ----------
    %(resnet_architecture)s

    %(published_rate_training)s

    %(class_weight)s

    %(algorithm)s

    %(augment)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    %(series_attributes)s

    %(fitted_attributes)s

    n_outputs_ : int
        Output units: 1 for binary, ``n_classes`` otherwise.

    out_activation_ : str
        ``"logistic"`` (binary and multilabel) or ``"softmax"``.

    See Also
    --------
    sklearn_xcnn.series.ResNetRegressor : The same network for real targets.
    sklearn_xcnn.series.FCNClassifier : The fully convolutional network.
    sklearn_xcnn.series.InceptionTimeClassifier : An ensemble of inception
        networks.

    Notes
    -----
    %(resnet_notes)s

    References
    ----------
    Z. Wang, W. Yan and T. Oates, "Time series classification from scratch
    with deep neural networks: a strong baseline", IJCNN 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn.series import ResNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> t = np.linspace(0, 1, 40)
    >>> phase = rng.uniform(0, 1, size=(40, 1))
    >>> sines = np.sin(2 * np.pi * (3 * t + phase))
    >>> X = np.concatenate([sines, np.sign(sines)])[:, None, :]  # (80, 1, 40)
    >>> X += 0.1 * rng.normal(size=X.shape)
    >>> y = np.repeat(["sine", "square"], 40)
    >>> clf = ResNetClassifier(n_filters=(4, 8), kernel_size=((8, 5, 3),) * 2,
    ...                        max_iter=15, random_state=0).fit(X, y)
    >>> print(f"{clf.score(X, y):.1f}")
    1.0
    >>> [w.shape for w in clf.filters_[:4]]  # unit 0: 8, 5, 3, then shortcut
    [(4, 1, 1, 8), (4, 4, 1, 5), (4, 4, 1, 3), (4, 1, 1, 1)]
    """

    def __init__(
        self,
        n_filters=(64, 128, 128),
        kernel_size=((8, 5, 3), (8, 5, 3), (8, 5, 3)),
        stride=1,
        pool_size=2,
        pooling=None,
        hidden_units=(),
        activation="relu",
        *,
        padding="same",
        global_pooling="mean",
        dropout=0.0,
        batch_norm=True,
        block="residual",
        block_depth=3,
        dilation=1,
        solver=TRAINING["solver"],
        alpha=TRAINING["alpha"],
        batch_size=TRAINING["batch_size"],
        learning_rate=TRAINING["learning_rate"],
        learning_rate_init=TRAINING["learning_rate_init"],
        power_t=0.5,
        plateau_factor=TRAINING["plateau_factor"],
        plateau_patience=TRAINING["plateau_patience"],
        min_learning_rate=0.0,
        max_iter=TRAINING["max_iter"],
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=0,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        keep_best_weights=TRAINING["keep_best_weights"],
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=TRAINING["n_iter_no_change"],
        max_fun=15000,
        class_weight=None,
        algorithm="auto",
        augment=None,
    ):
        store_parameters(self, locals())


@fill_doc(**SERIES_PIECES)
class ResNetRegressor(SeriesMixin, CNNRegressor):
    """Residual network (ResNet) regressor of time series.

    :class:`~sklearn_xcnn.CNNRegressor` with the published time-series
    ResNet as defaults, reading series in aeon's layouts (see
    :class:`~sklearn_xcnn.series.ResNetClassifier`); the output layer has
    identity units and the loss is half the squared error. Scale targets to
    order 1 (e.g. with :class:`~sklearn.compose.TransformedTargetRegressor`).

    Parameters
    ----------
    %(resnet_architecture)s

    %(published_rate_training)s

    %(algorithm)s

    %(augment)s

    Attributes
    ----------
    %(series_attributes)s

    %(fitted_attributes)s

    n_outputs_ : int
        Number of outputs: 1 for a 1-D ``y``, else ``y.shape[1]``.

    out_activation_ : str
        ``"identity"``.

    See Also
    --------
    sklearn_xcnn.series.ResNetClassifier : The same network for class labels.
    sklearn_xcnn.CNNRegressor : The image family it presets.

    Notes
    -----
    %(resnet_notes)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn.series import ResNetRegressor
    >>> rng = np.random.RandomState(0)
    >>> t = np.linspace(0, 1, 30)
    >>> frequency = rng.uniform(1, 3, size=150)
    >>> X = np.sin(2 * np.pi * frequency[:, None] * t)  # (150, 30): univariate
    >>> reg = ResNetRegressor(n_filters=(8, 8), kernel_size=((8, 5, 3),) * 2,
    ...                       max_iter=30, random_state=0)
    >>> reg.fit(X[:100], frequency[:100] - 2).predict(X[100:103]).shape
    (3,)
    >>> reg.score(X[100:], frequency[100:] - 2) > 0.8  # R^2 on unseen series
    True
    """

    def __init__(
        self,
        n_filters=(64, 128, 128),
        kernel_size=((8, 5, 3), (8, 5, 3), (8, 5, 3)),
        stride=1,
        pool_size=2,
        pooling=None,
        hidden_units=(),
        activation="relu",
        *,
        padding="same",
        global_pooling="mean",
        dropout=0.0,
        batch_norm=True,
        block="residual",
        block_depth=3,
        dilation=1,
        solver=TRAINING["solver"],
        alpha=TRAINING["alpha"],
        batch_size=TRAINING["batch_size"],
        learning_rate=TRAINING["learning_rate"],
        learning_rate_init=TRAINING["learning_rate_init"],
        power_t=0.5,
        plateau_factor=TRAINING["plateau_factor"],
        plateau_patience=TRAINING["plateau_patience"],
        min_learning_rate=0.0,
        max_iter=TRAINING["max_iter"],
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=0,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        keep_best_weights=TRAINING["keep_best_weights"],
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=TRAINING["n_iter_no_change"],
        max_fun=15000,
        algorithm="auto",
        augment=None,
    ):
        store_parameters(self, locals())
