"""CNNClassifier: the scikit-learn estimator around the NumPy network core."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._core._loss import output_proba
from ._core._network import build_spec, init_params, pack, param_shapes, unpack
from ._input import (
    as_int_tuple,
    as_pair,
    check_finite_output,
    readable_conversion_errors,
    resolve_image_shape,
    split_images,
)
from ._memory import check_training_memory, training_rows
from ._optimizers import AdamOptimizer, SGDOptimizer
from ._persistence import check_state_version, restore, snapshot, versioned_state
from ._training import FULL_BATCH_CHUNK, fit_lbfgs, fit_stochastic, predict_logits
from .utils._compat import Interval, StrOptions, _fit_context

_POSITIVE_INT = Interval(Integral, 1, None, closed="left")


class CNNClassifier(ClassifierMixin, BaseEstimator):
    """Convolutional neural network classifier.

    The network is ``[correlate -> + bias -> activation -> pool] * n_blocks ->
    flatten -> [dense -> activation] * n_hidden -> dense -> sigmoid/softmax``,
    trained on the log loss by back-propagation: the filters, the filter
    biases and the dense weights and biases are learned together.

    Rows of ``X`` are images, flattened row-major with channels last (the
    ``load_digits`` convention); ``image_shape`` says how to fold them back.
    ``X`` may also be given as images, ``(n_samples, height, width)`` or
    ``(n_samples, height, width, channels)``.

    Parameters
    ----------
    n_filters : int or tuple of int, default=8
        Filters of the convolutional block; a tuple stacks one block per
        entry.

    kernel_size : int or (int, int), default=3
        Rows and columns of every filter. Kernels larger than the map they
        slide over are clipped to it.

    stride : int or (int, int), default=1
        Step of the filters along rows and columns.

    pool_size : int or (int, int), default=2
        Rows and columns of the pooling windows, which do not overlap. A window
        running off the edge of a feature map is kept as a partial window (a
        3x3 map pools to 2x2). Windows larger than the map are clipped to it.

    pooling : {"max", "mean", "sum"} or None, default="max"
        How a pooling window is reduced: its largest cell, the mean or the sum
        of the cells present. ``None`` skips pooling.

    hidden_units : int or tuple of int, default=(64,)
        Units of each dense hidden layer; ``()`` for none.

    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the convolutional blocks and of the hidden layers.

    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        ``"adam"`` and ``"sgd"`` take mini-batch steps and support
        ``partial_fit`` and ``early_stopping``; ``"lbfgs"`` runs full-batch
        L-BFGS-B (:func:`scipy.optimize.minimize`) on the flattened parameters
        with exact gradients. ``"lbfgs"`` is deterministic, needs no learning
        rate and suits small data sets best.

    alpha : float, default=1e-4
        Strength of the L2 penalty on the filters and dense weights (not the
        biases), ``0.5 * alpha * ||w||^2 / n_samples`` per batch as in
        :class:`~sklearn.neural_network.MLPClassifier`.

    batch_size : int or "auto", default="auto"
        Mini-batch size for ``"adam"`` and ``"sgd"``; ``"auto"`` is
        ``min(200, n_samples)``.

    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning-rate schedule of ``"sgd"``. ``"constant"`` keeps
        ``learning_rate_init``. ``"invscaling"`` sets the rate to
        ``learning_rate_init / (t + 1)**power_t`` after each epoch, ``t``
        being the number of samples seen (``t_``). ``"adaptive"`` keeps the
        rate while training improves and divides it by 5 each time it stops
        improving (see ``tol``), instead of stopping; training stops once the
        rate is at most ``1e-6``.

    learning_rate_init : float, default=1e-3
        Initial step size of ``"adam"`` and ``"sgd"``. Too large a step makes
        training diverge, which raises an error (see Notes).

    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.

    max_iter : int, default=200
        Most epochs (``"adam"``, ``"sgd"``) or iterations (``"lbfgs"``) per
        call to ``fit``. Reaching it raises a
        :class:`~sklearn.exceptions.ConvergenceWarning`.

    shuffle : bool, default=True
        Whether to shuffle the samples before each epoch.

    random_state : int, RandomState instance or None, default=None
        Controls all randomness: the initial weights, the shuffling and the
        validation split. Pass an int for bit-for-bit reproducible fits.

    tol : float, default=1e-4
        ``"adam"`` and ``"sgd"`` stop once the training loss (with early
        stopping, the validation accuracy) has failed to improve on its best
        value by at least ``tol`` in more than ``n_iter_no_change``
        consecutive epochs. ``"lbfgs"`` stops once no gradient entry exceeds
        ``tol`` in absolute value (or the loss stalls).

    verbose : int, default=0
        0 prints nothing. 1 shows a progress bar over the epochs (on stderr)
        when the optional ``tqdm`` package is installed, else prints a line
        per epoch or L-BFGS iteration: the loss, the validation score with
        early stopping, and the time taken. 2 prints the lines under the bar
        too. ``partial_fit`` prints its one line without a bar.

    warm_start : bool, default=False
        Whether ``fit`` continues from the current weights instead of drawing
        new ones. ``n_iter_``, ``t_`` and the curves continue; ``max_iter``
        counts the epochs of each call. ``"adam"`` and ``"sgd"`` also keep
        their optimizer state (moments, velocity, current rate) unless one of
        its parameters (``learning_rate_init``, ``beta_1``, ...) changed.
        ``warm_start=False`` starts afresh at each ``fit``.

    momentum : float, default=0.9
        Momentum of ``"sgd"``.

    nesterovs_momentum : bool, default=True
        Whether ``"sgd"`` uses Nesterov's momentum.

    early_stopping : bool, default=False
        Whether ``"adam"`` and ``"sgd"`` hold out ``validation_fraction`` of
        the training data (stratified by class), score it after each epoch and
        stop when its accuracy stops improving (see ``tol``); the weights with
        the best validation score are restored at the end. Ignored by
        ``"lbfgs"`` and ``partial_fit``.

    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.

    beta_1 : float, default=0.9
        Decay of Adam's first moment estimate.

    beta_2 : float, default=0.999
        Decay of Adam's second moment estimate.

    epsilon : float, default=1e-8
        Numerical stability term of Adam.

    n_iter_no_change : int, default=10
        Patience of ``"adam"`` and ``"sgd"``: training stops (or the adaptive
        rate drops) after more than this many consecutive epochs without an
        improvement of ``tol``.

    max_fun : int, default=15000
        Most loss evaluations of ``"lbfgs"``, checked between iterations (the
        line search of the last one may use a few more). Reaching it raises a
        :class:`~sklearn.exceptions.ConvergenceWarning`.

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, ``{label: weight}``, multiplied into
        ``sample_weight``: weighting a rare class up raises its recall.
        ``"balanced"`` uses ``n_samples / (n_classes * np.bincount(y))``
        computed on the ``y`` given to ``fit``; ``partial_fit`` refuses it
        (pass a dict computed once for the whole stream).

    image_shape : (int, int), (int, int, int) or None, default=None
        ``(height, width)`` or ``(height, width, channels)`` of the images
        whose flattened pixels make the rows of ``X``. With ``None`` a
        perfect-square number of features is a square single-channel image
        and any other number a one-row image (a 1-D signal).

    algorithm : {"auto", "im2col", "scipy"}, default="auto"
        Correlation engine. ``"im2col"`` gathers sliding windows into a matrix
        and multiplies it with the filters; ``"scipy"`` multiplies spectra
        computed with :mod:`scipy.fft`, whose cost hardly grows with the
        kernel size. Both give the same results up to rounding; ``"auto"``
        picks the faster for each block (im2col for small kernels, FFT for
        large kernels on large enough maps).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    n_features_in_ : int
        Number of features (pixels times channels) per sample.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X``, when it was a DataFrame with string columns.

    image_shape_ : tuple of (int, int, int)
        ``(height, width, channels)`` of the images.

    filters_ : list of ndarray
        One per block, of shape ``(n_filters, in_channels, k_rows, k_cols)``,
        applied as correlation (not flipped).

    filter_intercepts_ : list of ndarray
        One per block, of shape ``(n_filters,)``.

    coefs_ : list of ndarray
        Dense layers including the output layer; ``coefs_[i]`` has shape
        ``(n_in, n_out)``. The rows of ``coefs_[0]`` follow the flattened
        pooled maps ordered as filters x rows x cols.

    intercepts_ : list of ndarray
        Dense layer intercepts; ``intercepts_[i]`` has shape ``(n_out,)``.

    n_iter_ : int
        Epochs (``"adam"``, ``"sgd"``) or iterations (``"lbfgs"``) run; one
        per ``partial_fit`` call.

    loss_ : float
        Loss at the end of training.

    best_loss_ : float or None
        Lowest training loss seen (``None`` when fitted with early stopping).

    loss_curve_ : list of float
        Training loss after each epoch (or L-BFGS iteration).

    validation_scores_ : list of float or None
        Validation accuracy after each epoch, with early stopping (else
        ``None``).

    validation_loss_curve_ : list of float or None
        Validation log loss after each epoch, with early stopping (else
        ``None``).

    best_validation_score_ : float or None
        Best validation accuracy, that of the restored weights, with early
        stopping (else ``None``).

    t_ : int
        Training samples seen by the stochastic solvers.

    n_outputs_ : int
        Output units: 1 for binary, ``n_classes`` otherwise.

    out_activation_ : str
        ``"logistic"`` (binary and multilabel) or ``"softmax"``.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : Dense network without convolutions.

    Notes
    -----
    A feature map of ``H`` rows from a kernel of ``k`` rows at stride ``s``
    has ``(H - k) // s + 1`` rows; pooling it with windows of ``p`` rows
    leaves ``ceil(rows / p)`` rows (likewise for columns).

    **Interrupting.** Ctrl-C (``KeyboardInterrupt``, also the interrupt
    button of a notebook) during ``fit`` or ``partial_fit`` stops training
    after the current mini-batch (or L-BFGS iteration) and warns; the model
    is fitted and usable, with the best weights when early stopping is on.
    A second Ctrl-C aborts at once and leaves the estimator as it was before
    the call. Signals can only be caught in the main thread: elsewhere
    Ctrl-C behaves as usual.

    **Divergence.** When the loss of a mini-batch becomes inf or NaN, grows
    to more than ``10**4`` times the first loss of the call (or of 1), or
    the weights become non-finite, training stops with a
    ``DivergenceError`` (a :class:`ValueError`) that suggests a smaller
    ``learning_rate_init``. A failing ``fit`` or ``partial_fit`` leaves the
    estimator as it was: unfitted, or with its previous weights.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_xcnn import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = CNNClassifier(n_filters=4, hidden_units=32, max_iter=300, random_state=0)
    >>> clf.fit(X_train, y_train)
    CNNClassifier(hidden_units=32, max_iter=300, n_filters=4, random_state=0)
    >>> clf.filters_[0].shape
    (4, 1, 3, 3)
    >>> clf.predict(X_test[:5])
    array([2, 8, 2, 6, 6])
    >>> print(f"{clf.score(X_test, y_test):.2f}")
    0.9...
    """

    _parameter_constraints: dict = {
        "n_filters": [_POSITIVE_INT, "array-like"],
        "kernel_size": [_POSITIVE_INT, "array-like"],
        "stride": [_POSITIVE_INT, "array-like"],
        "pool_size": [_POSITIVE_INT, "array-like"],
        "pooling": [StrOptions({"max", "mean", "sum"}), None],
        "hidden_units": [_POSITIVE_INT, "array-like"],
        "activation": [StrOptions({"relu", "tanh", "logistic", "identity"})],
        "solver": [StrOptions({"adam", "sgd", "lbfgs"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), _POSITIVE_INT],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [_POSITIVE_INT],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [_POSITIVE_INT],
        "max_fun": [_POSITIVE_INT],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "image_shape": ["array-like", None],
        "algorithm": [StrOptions({"auto", "im2col", "scipy"})],
    }

    def __init__(
        self,
        n_filters=8,
        kernel_size=3,
        stride=1,
        pool_size=2,
        pooling="max",
        hidden_units=(64,),
        activation="relu",
        *,
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=1e-3,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=0,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        class_weight=None,
        image_shape=None,
        algorithm="auto",
    ):
        self.n_filters = n_filters
        self.kernel_size = kernel_size
        self.stride = stride
        self.pool_size = pool_size
        self.pooling = pooling
        self.hidden_units = hidden_units
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.class_weight = class_weight
        self.image_shape = image_shape
        self.algorithm = algorithm

    # ----------------------------------------------------------------- input
    def _validate_images(self, X, reset):
        """Validate ``X`` and return it as ``(n, H, W, C)`` float images."""
        X, x_shape = split_images(X)
        with readable_conversion_errors():
            X = validate_data(
                self,
                X,
                reset=reset,
                dtype=(np.float64, np.float32),
                order="C",
                ensure_min_features=1,
            )
        if reset:
            self.image_shape_ = resolve_image_shape(
                X.shape[1], self.image_shape, x_shape
            )
        elif x_shape is not None and x_shape != self.image_shape_:
            raise ValueError(
                f"X holds images of shape {x_shape} (height, width, channels) but "
                f"{type(self).__name__} was fitted on images of shape "
                f"{self.image_shape_}."
            )
        return X.reshape(X.shape[0], *self.image_shape_)

    def _architecture_params(self):
        """The architecture parameters, resolved, as keywords of ``build_spec``."""
        return {
            "n_filters": as_int_tuple(self.n_filters, "n_filters", allow_empty=True),
            "kernel_size": as_pair(self.kernel_size, "kernel_size"),
            "stride": as_pair(self.stride, "stride"),
            "pool_size": as_pair(self.pool_size, "pool_size"),
            "pooling": self.pooling,
            "hidden_units": as_int_tuple(
                self.hidden_units, "hidden_units", allow_empty=True
            ),
            "activation": self.activation,
        }

    def _network_spec(self, fitted=False):
        """The :class:`NetworkSpec` for the current parameters and data.

        With ``fitted=True``, the architecture the weights were fitted with:
        a later ``set_params`` does not change what a fitted model computes.
        """
        arch = getattr(self, "_architecture", None) if fitted else None
        return build_spec(
            self.image_shape_,
            **(arch or self._architecture_params()),
            n_outputs=self.n_outputs_,
            out_activation=self.out_activation_,
            algorithm=self.algorithm,
        )

    def _encode_targets(self, y, first, classes):
        """Binary indicator matrix ``Y`` (n, n_outputs) for the labels ``y``."""
        if first:
            if classes is not None:
                check_classification_targets(np.asarray(classes))
            check_classification_targets(y)
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y if classes is None else classes)
            self.classes_ = self._label_binarizer.classes_
            if type_of_target(y) != "multilabel-indicator" and len(self.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in "
                    f"the data, but the data contains only one class: "
                    f"{self.classes_.tolist()[0]!r}."
                )
        else:
            check_classification_targets(y)
            if (
                y.ndim == 1
                and y.dtype.kind in "iuf"
                and self.classes_.dtype.kind in "iuf"
            ):
                # later calls (partial_fit loops): index the sorted classes
                # directly instead of re-deriving the target type
                return self._one_hot(y)
            if type_of_target(y) != "multilabel-indicator":
                self._check_seen(y)
        return self._label_binarizer.transform(y)

    def _check_seen(self, y):
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels not seen in the first fit or in "
                f"`classes`: {unseen.tolist()}; known classes are "
                f"{self.classes_.tolist()}."
            )

    def _one_hot(self, y):
        """Indicator matrix of numeric labels ``y`` (n,) over ``classes_``."""
        classes = self.classes_
        index = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
        if np.any(classes[index] != y):
            self._check_seen(y)
        if len(classes) == 2:
            return (index == 1).astype(int)[:, None]
        Y = np.zeros((len(y), len(classes)), dtype=int)
        Y[np.arange(len(y)), index] = 1
        return Y

    def _sample_weight(self, X, y, sample_weight, incremental, dtype):
        """Sample weights times class weights, or None when all are one."""
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=dtype, ensure_non_negative=True
            )
        if self.class_weight is not None:
            if y.ndim > 1:
                raise ValueError("class_weight is not supported for multilabel y.")
            if incremental and self.class_weight == "balanced":
                raise ValueError(
                    "class_weight='balanced' is not supported with partial_fit; "
                    "compute the weights once with "
                    "sklearn.utils.class_weight.compute_class_weight('balanced', "
                    "classes=classes, y=y) and pass them as a dict."
                )
            cw = compute_sample_weight(self.class_weight, y).astype(dtype)
            sample_weight = cw if sample_weight is None else sample_weight * cw
        if sample_weight is not None and not sample_weight.sum() > 0:
            raise ValueError("sample_weight (times class_weight) sums to zero.")
        return sample_weight

    # --------------------------------------------------------------- fitting
    def _params(self):
        """The fitted parameters as one list, in the core's order."""
        pairs = zip(self.filters_, self.filter_intercepts_)
        conv = [a for pair in pairs for a in pair]
        dense = [a for pair in zip(self.coefs_, self.intercepts_) for a in pair]
        return conv + dense

    def _store_params(self, params, n_blocks):
        self.filters_ = [p.copy() for p in params[0 : 2 * n_blocks : 2]]
        self.filter_intercepts_ = [p.copy() for p in params[1 : 2 * n_blocks : 2]]
        self.coefs_ = [p.copy() for p in params[2 * n_blocks :: 2]]
        self.intercepts_ = [p.copy() for p in params[2 * n_blocks + 1 :: 2]]

    def _initialize(self, Y, dtype, incremental):
        self.n_outputs_ = Y.shape[1]
        self.out_activation_ = "softmax" if self._is_multiclass() else "logistic"
        spec = self._network_spec()
        self._check_memory(spec, Y.shape[0], dtype)
        params = init_params(spec, self._random_state, dtype)
        self._store_params(params, len(spec.blocks))
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self._no_improvement_count = 0
        self._optimizer = None
        self.loss_ = None
        if self.early_stopping and self.solver != "lbfgs" and not incremental:
            self.validation_scores_ = []
            self.validation_loss_curve_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.validation_loss_curve_ = None
            self.best_validation_score_ = None
            self.best_loss_ = np.inf

    def _check_memory(self, spec, n_samples, dtype):
        """Refuse (MemoryError) a fit whose batches cannot fit in memory."""
        rows = training_rows(self, n_samples, FULL_BATCH_CHUNK)
        check_training_memory(spec, rows, np.dtype(dtype).itemsize)

    def _is_multiclass(self):
        lb = self._label_binarizer
        return lb.y_type_ == "multiclass"

    def _optimizer_settings(self):
        """The solver's hyperparameters, named as its optimizer's arguments."""
        if self.solver == "adam":
            names = ("learning_rate_init", "beta_1", "beta_2", "epsilon")
        else:
            names = (
                "learning_rate_init",
                "learning_rate",
                "momentum",
                "nesterovs_momentum",
                "power_t",
            )
        return {name: getattr(self, name) for name in names}

    def _make_optimizer(self, n_params, dtype):
        make = AdamOptimizer if self.solver == "adam" else SGDOptimizer
        return make(n_params, dtype, **self._optimizer_settings())

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        """Shared body of fit and partial_fit; restores ``self`` on failure."""
        saved = snapshot(self)
        try:
            if incremental and _check_partial_fit_first_call(self, classes):
                # a fresh model: forget anything from an earlier fit
                for name in ("coefs_", "_optimizer"):
                    self.__dict__.pop(name, None)
            self._fit_inner(X, y, sample_weight, incremental, classes)
        except BaseException:
            restore(self, saved)
            raise
        return self

    def _fit_inner(self, X, y, sample_weight, incremental, classes):
        fitted = hasattr(self, "coefs_")
        first = not fitted or (not incremental and not self.warm_start)
        X, y = self._validate_xy(X, y, first)
        dtype = X.dtype
        if first or not incremental:
            self._random_state = check_random_state(self.random_state)
        Y = self._encode_targets(y, first, classes).astype(dtype)
        sw = self._sample_weight(X, y, sample_weight, incremental, dtype)
        if first:
            self._initialize(Y, dtype, incremental)
        spec = self._network_spec()
        if not first:
            self._check_memory(spec, X.shape[0], dtype)
        shapes = param_shapes(spec)
        params = self._params()
        if [p.shape for p in params] != [tuple(s) for s in shapes]:
            raise ValueError(
                "The network architecture parameters changed since the model was "
                "fitted; use warm_start=False (or fit instead of partial_fit) to "
                "train a new network."
            )
        flat = pack(params).astype(dtype, copy=False)
        if self.solver == "lbfgs":
            fit_lbfgs(self, flat, shapes, spec, X, Y, sw)
        else:
            self._fit_stochastic(flat, shapes, spec, X, Y, y, sw, incremental)
        self._store_params(unpack(flat, shapes), len(spec.blocks))
        self._architecture = self._architecture_params()

    def _fit_stochastic(self, flat, shapes, spec, X, Y, y, sw, incremental):
        if not (incremental or self.warm_start) or not self._optimizer_fits(flat):
            self._optimizer = self._make_optimizer(flat.size, flat.dtype)
        fit_stochastic(
            self, flat, shapes, spec, X, Y, y, sw, incremental, self._labels_from_logits
        )

    def _optimizer_fits(self, flat):
        """Whether the kept optimizer can continue on ``flat``.

        Only when the solver and its hyperparameters are unchanged: after, say,
        ``set_params(learning_rate_init=...)`` a fresh optimizer starts from
        the current weights.
        """
        opt = self._optimizer
        expected = AdamOptimizer if self.solver == "adam" else SGDOptimizer
        if not isinstance(opt, expected) or opt.settings != self._optimizer_settings():
            return False
        state = opt.m if self.solver == "adam" else opt.velocity
        return state.shape == flat.shape and state.dtype == flat.dtype

    def _validate_xy(self, X, y, reset):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        y_arr = np.asarray(y) if not hasattr(y, "iloc") else y.to_numpy()
        if y_arr.ndim not in (1, 2):
            raise ValueError(
                "y must be 1-D (n_samples,) or, for multilabel, 2-D (n_samples, "
                f"n_labels); got a {y_arr.ndim}-D array of shape {y_arr.shape}."
            )
        X = self._validate_images(X, reset=reset)
        if y_arr.ndim == 2 and y_arr.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please "
                "change the shape of y to (n_samples,), for example using ravel().",
                DataConversionWarning,
                stacklevel=4,
            )
            y_arr = y_arr.ravel()
        if len(y_arr) != X.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} samples but y has {len(y_arr)}; they must match."
            )
        return X, y_arr

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to images ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, height, \
width) or (n_samples, height, width, channels)
            Training images, flattened row-major (channels last) or as images.

        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a binary indicator matrix for multilabel.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss, times ``class_weight``. A
            weight of 0 drops the sample; an integer weight counts it that
            many times.

        Returns
        -------
        self : CNNClassifier
            Fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver == "lbfgs":
            raise AttributeError("partial_fit is only available for stochastic solvers")
        return True

    @available_if(_check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch over the given data.

        Call it repeatedly on chunks of data that never fit in memory together:
        each call makes one pass in mini-batches, continuing from the current
        weights and optimizer state (``n_iter_`` grows by one). The first call
        draws the initial weights and needs ``classes``; labels outside them
        raise an error later. Only for ``"adam"`` and ``"sgd"``; early
        stopping does not apply.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, height, \
width) or (n_samples, height, width, channels)
            Training images.

        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels.

        classes : array-like of shape (n_classes,), default=None
            All the classes that may appear in any call. Required on the first
            call, ignored afterwards.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss, times ``class_weight``.

        Returns
        -------
        self : CNNClassifier
            Updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    # ------------------------------------------------------------ prediction
    def _logits(self, X):
        check_is_fitted(self)
        X = self._validate_images(X, reset=False)
        params = [p.astype(X.dtype, copy=False) for p in self._params()]
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            logits = predict_logits(params, X, self._network_spec(fitted=True))
        check_finite_output(logits, X)
        return logits

    def _labels_from_logits(self, logits):
        if self.n_outputs_ == 1:
            return self.classes_[(logits[:, 0] > 0).astype(int)]
        if self.out_activation_ == "softmax":
            return self.classes_[np.argmax(logits, axis=1)]
        return (logits > 0).astype(int)

    def decision_function(self, X):
        """Logits of the output layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or images
            Input images.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            For two classes, the logit of the second class (positive means
            ``classes_[1]``); otherwise one logit per class or label.
        """
        logits = self._logits(X)
        return logits[:, 0] if self.n_outputs_ == 1 else logits

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or images
            Input images.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted classes (an indicator matrix for multilabel).
        """
        return self._labels_from_logits(self._logits(X))

    def predict_proba(self, X):
        """Probability estimates.

        Probabilities are floored at the smallest normal float of their dtype,
        so they are never exactly 0 and their logarithm stays finite.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or images
            Input images.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities in the order of ``classes_`` (for multilabel,
            the probability of each label).
        """
        logits = self._logits(X)
        if self.n_outputs_ == 1:
            # 1 - sigmoid(z) == sigmoid(-z), without cancellation
            proba = np.hstack([expit(-logits), expit(logits)])
        else:
            proba = output_proba(logits, self.out_activation_)
        return np.maximum(proba, np.finfo(proba.dtype).tiny, out=proba)

    def predict_log_proba(self, X):
        """Logarithm of the probability estimates.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or images
            Input images.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``np.log(predict_proba(X))``, always finite.
        """
        return np.log(self.predict_proba(X))

    def __getstate__(self):
        # pickles and skops files record the version that wrote them
        return versioned_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(check_state_version(state, type(self).__name__))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
