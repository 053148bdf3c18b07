"""BaseCNN: everything the classifier and the regressor share.

The base owns the parameters and their validation, input handling, the fitted
parameters, fitting (``fit``, ``partial_fit``, warm starts, restoring the
estimator when a fit fails) and the fitted network. A subclass supplies what
its task changes:

* ``_encode_targets(y, first, incremental, classes)``: validate ``y`` and
  encode it as the float matrix ``Y`` (n, n_outputs) the loss compares the
  logits with (setting ``classes_`` for a classifier);
* ``_output_activation(Y)`` and ``_loss``: the output units and the loss (a
  key of :data:`~sklearn_xcnn._core._loss.LOSSES`);
* ``_validation_score(logits, Y, sample_weight)`` and ``_stratify(Y)``: how
  early stopping scores and splits;
* ``_task_sample_weight(y, incremental, dtype)``: weights the task adds to
  ``sample_weight`` (class weights), or None;
* the prediction methods, from ``_logits(X)``.
"""

import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._core._conv import dilated_extent
from ._core._init import revive_dead_units, start_at_the_mean
from ._core._kinds import BLOCK_KINDS
from ._core._network import (
    BATCH_NORM_GROUP,
    PARAM_GROUPS,
    build_spec,
    expand_stats,
    has_batch_norm,
    init_params,
    init_stats,
    join_params,
    norm_slots,
    pack,
    param_shapes,
    split_params,
    unpack,
)
from ._core._summary import describe, format_stages
from ._history import TrainingState
from ._input import (
    as_block_kind,
    as_images,
    as_int_tuple,
    as_kernel,
    as_padding,
    as_pair,
    as_positive_int,
    check_finite_output,
    check_image_axes,
    check_kernel_counts,
    per_block,
    readable_conversion_errors,
    resolve_image_shape,
    split_images,
)
from ._memory import check_training_memory, steady_heap, training_rows
from ._optimizers import OPTIMIZERS
from ._persistence import check_state_version, restore, snapshot, versioned_state
from ._ragged import head
from ._schedules import SCHEDULES, auto_max_iter, check_schedule
from ._training import (
    FULL_BATCH_CHUNK,
    FitSettings,
    fit_lbfgs,
    fit_stochastic,
    predict_logits,
)
from .augment._base import check_augment
from .utils._compat import (
    Interval,
    Options,
    StrOptions,
    _check_sample_weight,
    _fit_context,
)

_POSITIVE_INT = Interval(Integral, 1, None, closed="left")

# stack depth from a warning raised in a function that _fit_inner calls (a fit
# loop, input validation) to the user's line: that function <- _fit_inner <-
# _fit <- fit/partial_fit <- the _fit_context wrapper <- the user's line
_WARNING_STACKLEVEL = 6

# rows of the training data the dead-unit guard looks at
_REVIVE_ROWS = 256


class FittedNetwork(NamedTuple):
    """A fitted network: its architecture as fitted and its parameters."""

    spec: object  # NetworkSpec
    params: list  # of ndarray, in the core's order
    stats: list  # per block: batch-norm running (mean, var), or None


class BaseCNN(BaseEstimator):
    """Base class of the convolutional networks; not for direct use.

    The parameters are those of :class:`~sklearn_xcnn.CNNClassifier` (see
    there), less ``class_weight``.
    """

    _parameter_constraints: dict = {
        "n_filters": [_POSITIVE_INT, "array-like"],
        "kernel_size": [_POSITIVE_INT, "array-like"],
        "stride": [_POSITIVE_INT, "array-like"],
        "padding": [
            StrOptions({"valid", "same"}),
            Interval(Integral, 0, None, closed="left"),
            "array-like",
        ],
        "pool_size": [_POSITIVE_INT, "array-like"],
        "pooling": [StrOptions({"max", "mean", "sum"}), None],
        "global_pooling": [StrOptions({"mean", "max"}), None],
        "hidden_units": [_POSITIVE_INT, "array-like"],
        "activation": [StrOptions({"relu", "tanh", "logistic", "identity"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "block": [StrOptions(set(BLOCK_KINDS)), list],
        "block_depth": [_POSITIVE_INT, list],
        "dilation": [_POSITIVE_INT, "array-like"],
        "solver": [StrOptions({"adam", "sgd", "lbfgs"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), _POSITIVE_INT],
        "learning_rate": [StrOptions(set(SCHEDULES))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "plateau_factor": [Interval(Real, 0, 1, closed="neither")],
        "plateau_patience": [_POSITIVE_INT],
        "min_learning_rate": [Interval(Real, 0, None, closed="left")],
        "max_iter": [_POSITIVE_INT, StrOptions({"auto"})],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "keep_best_weights": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [_POSITIVE_INT, Options(Real, {np.inf})],
        "max_fun": [_POSITIVE_INT],
        "image_shape": ["array-like", None],
        "algorithm": [StrOptions({"auto", "im2col", "scipy"})],
        "augment": [list, tuple, None],
    }

    # what a subclass sets: the loss name, and the words the loss curve uses
    _loss = None
    _loss_label = None
    _score_label = None

    def __init__(
        self,
        n_filters=(16, 32),
        kernel_size=3,
        stride=1,
        pool_size=2,
        pooling="max",
        hidden_units=(128,),
        activation="relu",
        *,
        padding="same",
        global_pooling=None,
        dropout=0.1,
        batch_norm=True,
        block="conv",
        block_depth=3,
        dilation=1,
        solver="adam",
        alpha=1e-4,
        batch_size=64,
        learning_rate="cosine",
        learning_rate_init=3e-3,
        power_t=0.5,
        plateau_factor=0.5,
        plateau_patience=10,
        min_learning_rate=0.0,
        max_iter="auto",
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=0,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        keep_best_weights=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        image_shape=None,
        algorithm="auto",
        augment=None,
    ):
        self.n_filters = n_filters
        self.kernel_size = kernel_size
        self.stride = stride
        self.pool_size = pool_size
        self.pooling = pooling
        self.hidden_units = hidden_units
        self.activation = activation
        self.padding = padding
        self.global_pooling = global_pooling
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.block = block
        self.block_depth = block_depth
        self.dilation = dilation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.plateau_factor = plateau_factor
        self.plateau_patience = plateau_patience
        self.min_learning_rate = min_learning_rate
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.keep_best_weights = keep_best_weights
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.image_shape = image_shape
        self.algorithm = algorithm
        self.augment = augment

    # ----------------------------------------------------------------- input
    def _validate_images(self, X, reset):
        """Validate ``X`` and return it as ``(n, H, W, C)`` float images."""
        X, x_axes = split_images(X)
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
            self.image_shape_, self._channels_first = resolve_image_shape(
                X.shape[1], self.image_shape, x_axes, _WARNING_STACKLEVEL + 2
            )
            first = self._channels_first
        else:
            # fitted on (C, H, W) images, a model reads 4-D X that way again
            fitted_first = getattr(self, "_channels_first", False)
            first = x_axes is not None and check_image_axes(
                x_axes, self.image_shape_, fitted_first, type(self).__name__
            )
        return as_images(X, self.image_shape_, first)

    def _validate_xy(self, X, y, reset):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        if issparse(y):
            raise TypeError(
                f"y is a sparse {type(y).__name__}: pass a dense array (for "
                "example y.toarray())."
            )
        y_arr = np.asarray(y) if not hasattr(y, "iloc") else y.to_numpy()
        if y_arr.ndim not in (1, 2):
            raise ValueError(
                "y must be 1-D (n_samples,) or 2-D (n_samples, n_outputs); got a "
                f"{y_arr.ndim}-D array of shape {y_arr.shape}."
            )
        X = self._validate_images(X, reset=reset)
        if y_arr.ndim == 2 and y_arr.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please "
                "change the shape of y to (n_samples,), for example using ravel().",
                DataConversionWarning,
                stacklevel=_WARNING_STACKLEVEL,
            )
            y_arr = y_arr.ravel()
        if len(y_arr) != X.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} samples but y has {len(y_arr)}; they must match."
            )
        return X, y_arr

    def _sample_weight(self, X, y, sample_weight, incremental, dtype):
        """Sample weights times the task's own weights, or None when all are
        one."""
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=dtype, ensure_non_negative=True
            )
        task = self._task_sample_weight(y, incremental, dtype)
        if task is not None:
            sample_weight = task if sample_weight is None else sample_weight * task
        if sample_weight is not None and not sample_weight.sum() > 0:
            raise ValueError(
                "sample_weight (times class_weight) sums to zero."
                if task is not None
                else "sample_weight sums to zero."
            )
        return sample_weight

    def _task_sample_weight(self, y, incremental, dtype):
        """Weights the task multiplies into ``sample_weight`` (None: none)."""
        return None

    # ---------------------------------------------------------- architecture
    def _architecture_params(self):
        """The architecture parameters, resolved, as keywords of ``build_spec``.

        Sizes are validated here: a list holds one entry per block.
        """
        n_filters = as_int_tuple(self.n_filters, "n_filters", allow_empty=True)
        n_blocks = len(n_filters)
        given = self._block_values(n_blocks)
        kernels = per_block(given["kernel_size"], "kernel_size", n_blocks, as_kernel)
        kinds = per_block(self.block, "block", n_blocks, as_block_kind)
        depths = per_block(self.block_depth, "block_depth", n_blocks, as_positive_int)
        check_kernel_counts(kernels, kinds, depths, self.kernel_size)
        return {
            "n_filters": n_filters,
            "kernel_size": kernels,
            "stride": per_block(given["stride"], "stride", n_blocks, as_pair),
            "padding": per_block(given["padding"], "padding", n_blocks, as_padding),
            "pool_size": per_block(given["pool_size"], "pool_size", n_blocks, as_pair),
            "pooling": self.pooling,
            "global_pooling": self.global_pooling,
            "hidden_units": as_int_tuple(
                self.hidden_units, "hidden_units", allow_empty=True
            ),
            "activation": self.activation,
            "dropout": float(self.dropout),
            "batch_norm": bool(self.batch_norm),
            "algorithm": self.algorithm,
            "dilation": per_block(self.dilation, "dilation", n_blocks, as_pair),
            "block": kinds,
            "block_depth": depths,
        }

    def _block_values(self, n_blocks):
        """The per-block parameters as ``per_block`` reads them: a list holds
        one value per block (a subclass may read its parameters otherwise,
        as the series estimators read sizes along time)."""
        names = ("kernel_size", "stride", "padding", "pool_size")
        return {name: getattr(self, name) for name in names}

    def _check_architecture(self, spec):
        """Refuse what the resolved network cannot do."""
        self._check_block_kinds()
        for b, block in enumerate(spec.blocks):
            if block.kind != "conv":  # 'same' padding throughout
                continue
            (top, bottom), (left, right) = block.padding
            kr, kc = dilated_extent(block.kernel, block.dilation)  # cells spanned
            if max(top, bottom) >= kr or max(left, right) >= kc:
                raise ValueError(
                    f"padding of block {b} adds {block.padding} zeros ((top, "
                    f"bottom), (left, right)) around a {kr}x{kc} kernel: the outer "
                    "outputs would see nothing but padding. Use padding smaller "
                    "than the kernel, or padding='same'."
                )
        check_augment(self.augment, self.image_shape_, self.solver)

    def _training_images(self, X, spec):
        """Hook: the validated training images as the fit loops take them,
        for the network ``spec``: ``X`` itself here. A subclass whose images
        come in several shapes (series of unequal length) returns a
        :class:`~._ragged.Ragged` whose groups carry the spec of their shape,
        or raises where the network cannot take them."""
        return X

    def _check_block_kinds(self):
        """Refuse a stride on a compound block (residual, inception): its
        shortcut adds maps of the input's size."""
        arch = self._architecture_params()
        n_blocks = len(arch["n_filters"])
        kinds, strides = (
            value if isinstance(value, list) else [value] * n_blocks
            for value in (arch["block"], arch["stride"])
        )
        for b, (kind, stride) in enumerate(zip(kinds, strides)):
            if BLOCK_KINDS[kind].compound and tuple(stride) != (1, 1):
                raise ValueError(
                    f"block {b} is a {kind!r} block, which runs at stride 1 (its "
                    f"shortcut adds maps of its input's size), but stride="
                    f"{self.stride!r} gives it {tuple(stride)}. Use stride=1 for "
                    "it (pool_size reduces the maps after the block)."
                )

    def _network_spec(self, fitted=False, image_shape=None):
        """The :class:`NetworkSpec` for the current parameters and data.

        With ``fitted=True``, the architecture the weights were fitted with:
        a later ``set_params`` does not change what a fitted model computes.
        ``image_shape`` builds it for inputs of another ``(H, W, C)`` than
        ``image_shape_`` (series of another length).
        """
        arch = getattr(self, "_architecture", None) if fitted else None
        if arch is not None:
            # the engine is a way of computing, not part of the model: both give
            # the same results, so a fitted model may switch
            arch = {**arch, "algorithm": self.algorithm}
        return build_spec(
            self.image_shape_ if image_shape is None else image_shape,
            **(arch or self._architecture_params()),
            n_outputs=self.n_outputs_,
            out_activation=self.out_activation_,
            loss=self._loss,
        )

    def _fitted_network(self):
        """The fitted network: its spec as fitted and its parameters.

        The one accessor that prediction, :mod:`~sklearn_xcnn.inspection` and
        the ONNX export read the network through.

        Returns
        -------
        network : FittedNetwork
            ``(spec, params, stats)``: the parameters in the core's flat order
            and, per block, the batch-norm running ``(mean, var)`` or None
            (the fitted arrays themselves, not copies).
        """
        check_is_fitted(self)
        spec = self._network_spec(fitted=True)
        return FittedNetwork(spec, self._params(), self._stats(spec))

    # ------------------------------------------------------------ parameters
    def _params(self):
        """The fitted parameters as one list, in the core's order."""
        names = (*PARAM_GROUPS, BATCH_NORM_GROUP)
        return join_params({name: getattr(self, name + "_", None) for name in names})

    def _store_params(self, params, spec):
        groups = split_params(params, spec)
        groups.setdefault(BATCH_NORM_GROUP, None)
        for name, arrays in groups.items():
            value = None if arrays is None else [a.copy() for a in arrays]
            setattr(self, name + "_", value)

    def _stats(self, spec):
        """Per norm slot (see :func:`~._core._spec.norm_slots`), the
        batch-norm running ``(mean, var)``, or None."""
        means = getattr(self, "batch_norm_means_", None)
        if means is None or not has_batch_norm(spec):
            return [None] * len(norm_slots(spec))
        return expand_stats(spec, means, self.batch_norm_vars_)

    def _store_stats(self, stats):
        if stats is None or all(entry is None for entry in stats):
            self.batch_norm_means_ = self.batch_norm_vars_ = None
            return
        kept = [entry for entry in stats if entry is not None]
        self.batch_norm_means_ = [mean.copy() for mean, _ in kept]
        self.batch_norm_vars_ = [var.copy() for _, var in kept]

    @property
    def _optimizer(self):
        """The stochastic optimizer the next ``partial_fit`` continues with."""
        training = self.__dict__.get("_training")
        return None if training is None else training.optimizer

    # --------------------------------------------------------------- fitting
    def _initialize(self, X, Y, dtype, sample_weight):
        """Draw a fresh network for images ``X`` and targets ``Y`` and start a
        new history; ReLU units dead on the first rows are revived."""
        self.n_outputs_ = Y.shape[1]
        self.out_activation_ = self._output_activation(Y)
        spec = self._network_spec()
        self._check_memory(spec, Y.shape[0], dtype)
        random_state = check_random_state(self.random_state)
        # Adam's rate sets the output layer's scale (see _core/_init.py)
        adam_rate = self.learning_rate_init if self.solver == "adam" else None
        params = init_params(spec, random_state, dtype, adam_rate)
        with np.errstate(over="ignore", invalid="ignore"):
            rows, first, first_spec = head(
                self._training_images(X, spec), spec, _REVIVE_ROWS
            )
            weights = None if sample_weight is None else sample_weight[rows]
            revive_dead_units(params, first, first_spec, weights)
        start_at_the_mean(params, Y, spec, sample_weight)
        self._store_params(params, spec)
        self._store_stats(init_stats(spec, dtype))
        self._training = TrainingState(random_state)
        self._publish()

    def _publish(self):
        """Set the fitted attributes from the training state."""
        for name, value in self._training.fitted_attributes().items():
            setattr(self, name, value)

    def _check_memory(self, spec, n_samples, dtype):
        """Refuse (MemoryError) a fit whose batches cannot fit in memory, and
        keep the memory of one batch in the heap for the next (glibc)."""
        rows = training_rows(self, n_samples, FULL_BATCH_CHUNK)
        steady_heap(check_training_memory(spec, rows, np.dtype(dtype).itemsize))

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        """Shared body of fit and partial_fit; restores ``self`` on failure."""
        saved = snapshot(self)
        try:
            self._fit_inner(X, y, sample_weight, incremental, classes)
        except BaseException:
            restore(self, saved)
            raise
        return self

    def _is_first_call(self, incremental, classes):
        """Whether this call draws a new network."""
        if not hasattr(self, "coefs_"):
            return True
        return not incremental and not self.warm_start

    def _fit_inner(self, X, y, sample_weight, incremental, classes):
        if incremental and self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: it trains one "
                "epoch on the data it is given, with nothing held out. Set "
                "early_stopping=False, or call fit."
            )
        if self.solver != "lbfgs":
            check_schedule(self.get_params(deep=False))
        first = self._is_first_call(incremental, classes)
        X, y = self._validate_xy(X, y, first)
        dtype = X.dtype
        Y = self._encode_targets(y, first, incremental, classes).astype(
            dtype, copy=False
        )
        sw = self._sample_weight(X, y, sample_weight, incremental, dtype)
        if first:
            self._initialize(X, Y, dtype, sw)
        elif not incremental:  # a warm start draws its shuffles anew
            self._training.random_state = check_random_state(self.random_state)
        spec = self._network_spec()
        self._check_architecture(spec)
        X = self._training_images(X, spec)
        if self.verbose >= 2:
            print(format_stages(describe(spec)))
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
        stats = [
            None if entry is None else tuple(a.astype(dtype) for a in entry)
            for entry in self._stats(spec)
        ]
        settings = FitSettings(
            self._fit_params(X.shape[0], incremental),
            spec,
            shapes,
            self._validation_score,
            self._stratify,
            _WARNING_STACKLEVEL,
        )
        if self.solver == "lbfgs":
            fit_lbfgs(self._training, settings, flat, stats, X, Y, sw)
        else:
            self._prepare_optimizer(flat, incremental)
            fit_stochastic(self._training, settings, flat, stats, X, Y, sw, incremental)
        self._store_params(unpack(flat, shapes), spec)
        self._store_stats(stats)
        self._architecture = self._architecture_params()
        self._publish()

    # max_iter="auto": epochs for about this many optimizer steps, within
    # (fewest, most) epochs (see _schedules.auto_max_iter); L-BFGS gets
    # _AUTO_LBFGS_ITER iterations. Chosen by benchmarks/bench_defaults.py.
    _auto_steps = 500
    _auto_epochs = (5, 200)
    _AUTO_LBFGS_ITER = 200

    def _fit_params(self, n_samples, incremental=False):
        """The parameters a fit on ``n_samples`` rows trains with: those of
        ``get_params``, with ``max_iter="auto"`` resolved (recorded as
        ``max_iter_``), and ``"schedule_span"``: the epochs (``fit``) or
        calls (``partial_fit``) a ``"cosine"`` schedule anneals over; None
        for ``partial_fit`` under ``"auto"``, whose epochs follow the rows of
        one call, so that a stream of calls keeps ``learning_rate_init``
        instead of annealing to nothing after ``max_iter_`` chunks."""
        params = self.get_params(deep=False)
        auto = params["max_iter"] == "auto"
        if auto:
            if params["solver"] == "lbfgs":
                params["max_iter"] = self._AUTO_LBFGS_ITER
            else:
                params["max_iter"] = auto_max_iter(
                    n_samples, params["batch_size"], self._auto_steps, self._auto_epochs
                )
        self.max_iter_ = params["max_iter"]
        params["schedule_span"] = None if incremental and auto else params["max_iter"]
        return params

    def _prepare_optimizer(self, flat, incremental):
        """Keep the optimizer for a continued fit when it can go on, else
        start a fresh one (after, say, ``set_params(learning_rate_init=...)``
        it starts from the current weights)."""
        training = self._training
        kept = training.optimizer
        continuing = incremental or self.warm_start
        if not (continuing and kept and kept.fits(self, flat.size, flat.dtype)):
            make = OPTIMIZERS[self.solver]
            training.optimizer = make.from_estimator(self, flat.size, flat.dtype)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to images ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, height, \
width) or (n_samples, height, width, channels)
            Training images, flattened row-major (channels last) or as images;
            ``(n_samples, channels, height, width)`` when ``image_shape`` is
            ``(height, width, channels)``.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets: class labels or a binary indicator matrix (classifier),
            real values (regressor).

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss (times ``class_weight`` for the
            classifier). A weight of 0 drops the sample; an integer weight
            counts it that many times.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver == "lbfgs":
            raise AttributeError("partial_fit is only available for stochastic solvers")
        return True

    # ------------------------------------------------------------ prediction
    def _logits(self, X):
        """Output-layer pre-activations of ``X`` through the fitted network."""
        network = self._fitted_network()
        X = self._validate_images(X, reset=False)
        return self._network_logits(network, X)

    def _network_logits(self, network, X):
        """Output-layer pre-activations of images ``X`` (n, H, W, C) through
        ``network`` (a :class:`FittedNetwork`)."""
        spec, params, stats = network
        steady_heap()
        params = [p.astype(X.dtype, copy=False) for p in params]
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            logits = predict_logits(params, X, spec, stats=stats)
        check_finite_output(logits, X)
        return logits

    # ----------------------------------------------------------- persistence
    def __getstate__(self):
        # pickles and skops files record the version that wrote them
        return versioned_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(check_state_version(state, type(self).__name__))
