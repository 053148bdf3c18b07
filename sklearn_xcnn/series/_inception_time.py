"""InceptionTime: an averaged ensemble of inception networks, and the
single network it is made of, as presets of the image family."""

from .._classifier import CNNClassifier
from .._docstrings import fill_doc
from .._regressor import CNNRegressor
from ._base import SeriesMixin, store_parameters
from ._docstrings import SERIES_PIECES
from ._ensemble import (
    N_JOBS_CONSTRAINT,
    N_NETWORKS_CONSTRAINT,
    EnsembleClassifierMixin,
    EnsembleRegressorMixin,
    NetworkEnsemble,
)
from ._regime import PUBLISHED_RATE_TRAINING as TRAINING


@fill_doc(**SERIES_PIECES)
class InceptionNetworkClassifier(SeriesMixin, CNNClassifier):
    """One inception network classifier of time series: a member of
    :class:`~sklearn_xcnn.series.InceptionTimeClassifier`.

    :class:`~sklearn_xcnn.CNNClassifier` with one network of InceptionTime
    as defaults (see :class:`~sklearn_xcnn.series.InceptionTimeClassifier`,
    which averages ``n_networks`` of them); it reads series in aeon's
    layouts and is what ``InceptionTimeClassifier(n_networks=1)`` holds.

    Parameters
    ----------
    %(inception_architecture)s

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
    sklearn_xcnn.series.InceptionTimeClassifier : The averaged ensemble.
    """

    def __init__(
        self,
        n_filters=(32, 32),
        kernel_size=40,
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
        block="inception",
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
class InceptionNetworkRegressor(SeriesMixin, CNNRegressor):
    """One inception network regressor of time series: a member of
    :class:`~sklearn_xcnn.series.InceptionTimeRegressor`.

    Parameters
    ----------
    %(inception_architecture)s

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
    sklearn_xcnn.series.InceptionTimeRegressor : The averaged ensemble.
    """

    def __init__(
        self,
        n_filters=(32, 32),
        kernel_size=40,
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
        block="inception",
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


@fill_doc(**SERIES_PIECES)
class InceptionTimeClassifier(EnsembleClassifierMixin, NetworkEnsemble):
    """InceptionTime classifier of time series: an ensemble of inception
    networks whose probabilities are averaged.

    ``n_networks`` inception networks (Ismail Fawaz et al., 2020), each the
    published depth of 6 (two inception blocks of three modules), 32
    filters per branch, kernels of 40, 20 and 10 and a bottleneck of 32,
    trained independently; reads series in aeon's layouts (``X`` of shape
    ``(n_cases, n_channels, n_timepoints)``, ``(n_cases, n_timepoints)``
    for univariate series, or a list of ``(n_channels, n_timepoints_i)``
    arrays). Every parameter of the image family is available and reaches
    every network; sizes are lengths along time, one per block.

    Parameters
    ----------
    %(inception_architecture)s

    %(n_networks)s

    %(published_rate_training)s

    %(class_weight)s

    %(algorithm)s

    %(augment)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    %(ensemble_attributes)s

    See Also
    --------
    sklearn_xcnn.series.InceptionTimeRegressor : The same ensemble for real
        targets.
    sklearn_xcnn.series.ResNetClassifier : One residual network.

    Notes
    -----
    %(inception_notes)s

    References
    ----------
    H. Ismail Fawaz, B. Lucas, G. Forestier, C. Pelletier, D. F. Schmidt,
    J. Weber, G. I. Webb, L. Idoumghar, P.-A. Muller and F. Petitjean,
    "InceptionTime: finding AlexNet for time series classification", Data
    Mining and Knowledge Discovery 34, 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn.series import InceptionTimeClassifier
    >>> rng = np.random.RandomState(0)
    >>> t = np.linspace(0, 1, 40)
    >>> phase = rng.uniform(0, 1, size=(30, 1))
    >>> sines = np.sin(2 * np.pi * (3 * t + phase))
    >>> X = np.concatenate([sines, np.sign(sines)])[:, None, :]  # (60, 1, 40)
    >>> y = np.repeat(["sine", "square"], 30)
    >>> clf = InceptionTimeClassifier(n_filters=4, kernel_size=8, block_depth=2,
    ...                               n_networks=2, max_iter=30,
    ...                               learning_rate_init=1e-2, random_state=0)
    >>> clf.fit(X, y).score(X, y)
    1.0
    >>> len(clf.estimators_)
    2
    >>> proba = clf.predict_proba(X[:2])
    >>> np.allclose(proba, (clf.estimators_[0].predict_proba(X[:2])
    ...                     + clf.estimators_[1].predict_proba(X[:2])) / 2)
    True
    """

    _member_class = InceptionNetworkClassifier
    _parameter_constraints = {
        **InceptionNetworkClassifier._parameter_constraints,
        "n_networks": N_NETWORKS_CONSTRAINT,
        "n_jobs": N_JOBS_CONSTRAINT,
    }

    def __init__(
        self,
        n_filters=(32, 32),
        kernel_size=40,
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
        block="inception",
        block_depth=3,
        dilation=1,
        n_networks=5,
        n_jobs=None,
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
class InceptionTimeRegressor(EnsembleRegressorMixin, NetworkEnsemble):
    """InceptionTime regressor of time series: an ensemble of inception
    networks whose predictions are averaged.

    The networks of :class:`~sklearn_xcnn.series.InceptionTimeClassifier`
    with identity output units and half the squared error as the loss.
    Scale targets to order 1 (e.g. with
    :class:`~sklearn.compose.TransformedTargetRegressor`).

    Parameters
    ----------
    %(inception_architecture)s

    %(n_networks)s

    %(published_rate_training)s

    %(algorithm)s

    %(augment)s

    Attributes
    ----------
    %(ensemble_attributes)s

    See Also
    --------
    sklearn_xcnn.series.InceptionTimeClassifier : The same ensemble for
        class labels.

    Notes
    -----
    %(inception_notes)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn.series import InceptionTimeRegressor
    >>> rng = np.random.RandomState(0)
    >>> t = np.linspace(0, 1, 30)
    >>> frequency = rng.uniform(1, 3, size=120)
    >>> X = np.sin(2 * np.pi * frequency[:, None] * t)  # (120, 30): univariate
    >>> reg = InceptionTimeRegressor(n_filters=4, kernel_size=8, block_depth=2,
    ...                              n_networks=2, max_iter=30, random_state=0)
    >>> reg.fit(X[:80], frequency[:80] - 2).predict(X[80:83]).shape
    (3,)
    """

    _member_class = InceptionNetworkRegressor
    _parameter_constraints = {
        **InceptionNetworkRegressor._parameter_constraints,
        "n_networks": N_NETWORKS_CONSTRAINT,
        "n_jobs": N_JOBS_CONSTRAINT,
    }

    def __init__(
        self,
        n_filters=(32, 32),
        kernel_size=40,
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
        block="inception",
        block_depth=3,
        dilation=1,
        n_networks=5,
        n_jobs=None,
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
