"""FCNClassifier and FCNRegressor: the fully convolutional network of the
time-series literature as a preset of the image family."""

from .._classifier import CNNClassifier
from .._docstrings import fill_doc
from .._regressor import CNNRegressor
from ._base import SeriesMixin, store_parameters
from ._docstrings import SERIES_PIECES
from ._regime import TRAINING


@fill_doc(**SERIES_PIECES)
class FCNClassifier(SeriesMixin, CNNClassifier):
    """Fully convolutional network (FCN) classifier of time series.

    :class:`~sklearn_xcnn.CNNClassifier` with the published FCN as defaults
    (Wang, Yan and Oates, 2017), reading series in aeon's layouts: ``X`` of
    shape ``(n_cases, n_channels, n_timepoints)``, ``(n_cases,
    n_timepoints)`` for univariate series, or a list of ``(n_channels,
    n_timepoints_i)`` arrays. Every parameter of the family is available;
    sizes (``kernel_size``, ``stride``, ``pool_size``, ``padding``) are
    lengths along time, one per layer.

    Parameters
    ----------
    %(fcn_architecture)s

    %(fcn_training)s

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
    sklearn_xcnn.series.FCNRegressor : The same network for real targets.
    sklearn_xcnn.CNNClassifier : The image family it presets.

    Notes
    -----
    %(fcn_notes)s

    References
    ----------
    Z. Wang, W. Yan and T. Oates, "Time series classification from scratch
    with deep neural networks: a strong baseline", IJCNN 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn.series import FCNClassifier
    >>> rng = np.random.RandomState(0)
    >>> t = np.linspace(0, 1, 40)
    >>> phase = rng.uniform(0, 1, size=(60, 1))
    >>> sines = np.sin(2 * np.pi * (3 * t + phase))
    >>> squares = np.sign(sines)
    >>> X = np.concatenate([sines, squares])[:, None, :]  # (120, 1, 40)
    >>> X += 0.1 * rng.normal(size=X.shape)
    >>> y = np.repeat(["sine", "square"], 60)
    >>> clf = FCNClassifier(n_filters=(8, 8), kernel_size=(5, 3), max_iter=20,
    ...                     random_state=0).fit(X, y)
    >>> clf.n_channels_, clf.n_timepoints_
    (1, 40)
    >>> print(f"{clf.score(X, y):.1f}")
    1.0
    >>> clf.predict([np.sin(2 * np.pi * 3 * np.linspace(0, 2, 80))[None, :]])
    array(['sine'], dtype='<U6')
    """

    def __init__(
        self,
        n_filters=(128, 256, 128),
        kernel_size=(8, 5, 3),
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
        block="conv",
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
class FCNRegressor(SeriesMixin, CNNRegressor):
    """Fully convolutional network (FCN) regressor of time series.

    :class:`~sklearn_xcnn.CNNRegressor` with the published FCN as defaults,
    reading series in aeon's layouts (see
    :class:`~sklearn_xcnn.series.FCNClassifier`); the output layer has
    identity units and the loss is half the squared error. Scale targets to
    order 1 (e.g. with :class:`~sklearn.compose.TransformedTargetRegressor`).

    Parameters
    ----------
    %(fcn_architecture)s

    %(fcn_training)s

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
    sklearn_xcnn.series.FCNClassifier : The same network for class labels.
    sklearn_xcnn.CNNRegressor : The image family it presets.

    Notes
    -----
    %(fcn_notes)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn.series import FCNRegressor
    >>> rng = np.random.RandomState(0)
    >>> t = np.linspace(0, 1, 30)
    >>> frequency = rng.uniform(1, 3, size=150)
    >>> X = np.sin(2 * np.pi * frequency[:, None] * t)  # (150, 30): univariate
    >>> reg = FCNRegressor(n_filters=(8, 8), kernel_size=(5, 3), max_iter=40,
    ...                    random_state=0).fit(X[:100], frequency[:100] - 2)
    >>> reg.predict(X[100:103]).shape
    (3,)
    >>> reg.score(X[100:], frequency[100:] - 2) > 0.9  # R^2 on unseen series
    True
    """

    def __init__(
        self,
        n_filters=(128, 256, 128),
        kernel_size=(8, 5, 3),
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
        block="conv",
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
