"""Docstring pieces of the series estimators: their own sizes and defaults,
the family's descriptions for the rest (see :mod:`sklearn_xcnn._docstrings`)."""

from .._docstrings import parameter_entries

_FCN_ARCHITECTURE = """\
    n_filters : int or tuple of int, default=(128, 256, 128)
        Filters of each convolutional layer, one layer per entry.

    kernel_size : int or tuple of int, default=(8, 5, 3)
        Length of the filters along time, one per layer (an int serves every
        layer). A kernel longer than the series it slides over is clipped to
        it at ``fit``.

    stride : int or tuple of int, default=1
        Step of the filters along time, one per layer or one for all.

    pool_size : int or tuple of int, default=2
        Length of the pooling windows along time (with ``pooling`` set), one
        per layer or one for all.

    pooling : {{"max", "mean", "sum"}} or None, default=None
        Pooling after each layer; the FCN has none.

    hidden_units : int or tuple of int, default=()
        Dense hidden layers after the global pooling; the FCN has none.

{activation}

    padding : "same", "valid", int or tuple, default="same"
        Zeros added at the ends of each layer's input: ``"same"`` keeps the
        length, ``"valid"`` adds none, an int adds that many at each end; a
        tuple holds one entry per layer.

    global_pooling : {{"mean", "max"}} or None, default="mean"
        Reduces each feature map of the last layer to one number, so that the
        output layer sees one input per filter whatever the length of the
        series (a fitted model predicts lengths it never saw). ``None``
        flattens the maps instead and fixes the length.

{dropout}

    batch_norm : bool, default=True
        Whether each layer normalises its feature maps over the batch (and
        the time points) before the activation, as the FCN does.

{blocks}""".format(
    activation=parameter_entries("activation"),
    dropout=parameter_entries("dropout"),
    blocks=parameter_entries("block", "block_depth", "dilation"),
)

_FCN_TRAINING = """\
{solver}

    alpha : float, default=0.0
        Strength of the L2 penalty on the weights; none in the published FCN.

    batch_size : int or "auto", default=16
        Mini-batch size of ``"adam"`` and ``"sgd"`` (aeon's default), cut to
        the number of series when they are fewer.

    learning_rate : {{"constant", "invscaling", "adaptive", "plateau", \
"cosine"}}, default="cosine"
        Learning-rate schedule of ``"adam"`` and ``"sgd"``, as in
        :class:`~sklearn_xcnn.CNNClassifier`. The default anneals the rate
        from ``learning_rate_init`` to ``min_learning_rate`` over the
        ``max_iter`` epochs of each ``fit``: epoch ``e`` (from 1) runs at
        ``min_learning_rate + (learning_rate_init - min_learning_rate) *
        (1 + cos(pi * (e - 1) / max_iter)) / 2``. ``"plateau"`` halves it
        (``plateau_factor``) after ``plateau_patience`` epochs without a
        better training loss, as aeon does over its 2 000 epochs;
        ``"constant"``, ``"invscaling"`` and ``"adaptive"`` are
        scikit-learn's MLP schedules. The rate of each epoch is in
        ``learning_rate_curve_``; see :ref:`schedules`.

    learning_rate_init : float, default=1e-2
        First step size of Adam, ten times the rate of the published FCN
        (Keras' default), which the cosine then brings down to
        ``min_learning_rate``: over 60 epochs on the small UCR/UEA sets it
        scored as well as ``1e-3`` or better (see Notes).

{power_t}

{plateau}

    max_iter : int or "auto", default="auto"
        Epochs per call to ``fit`` (the length of the cosine); aeon trains
        1 500 to 2 000, out of reach on a CPU (see Notes). ``"auto"`` gives
        enough epochs for about 1 000 batches, between 100 and 500: 100
        epochs from 145 series up at batches of 16, 250 for 50 series, 500
        for 32 or fewer; the epochs a fit resolved are in ``max_iter_``.
        Reaching it raises a :class:`~sklearn.exceptions.ConvergenceWarning`.

{middle}

    keep_best_weights : bool, default=True
        Whether ``fit`` ends with the weights (and batch-norm statistics) of
        the epoch with the lowest training loss instead of the last epoch's,
        as in the published FCN. Early stopping, which restores the weights
        of the best validation score, takes precedence; ``partial_fit`` and
        ``"lbfgs"`` ignore it.

{late}

    n_iter_no_change : int or np.inf, default=50
        Training stops after more than this many consecutive epochs without
        an improvement of ``tol`` of the training loss (or of the validation
        score with ``early_stopping``): a loss that has reached its floor
        ends the fit before ``max_iter``.

{max_fun}""".format(
    solver=parameter_entries("solver"),
    power_t=parameter_entries("power_t"),
    plateau=parameter_entries(
        "plateau_factor", "plateau_patience", "min_learning_rate"
    ),
    middle=parameter_entries(
        "shuffle",
        "random_state",
        "tol",
        "verbose",
        "warm_start",
        "momentum",
        "nesterovs_momentum",
        "early_stopping",
    ),
    late=parameter_entries("validation_fraction", "beta_1", "beta_2", "epsilon"),
    max_fun=parameter_entries("max_fun"),
)

_AUGMENT = parameter_entries("augment")

_CLASS_WEIGHT = """\
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, ``{label: weight}``, multiplied into
        ``sample_weight``; ``"balanced"`` weighs each class by
        ``n_samples / (n_classes * count)``."""

_SERIES_ATTRIBUTES = """\
    n_channels_ : int
        Channels of the training series.

    n_timepoints_ : int
        Length of the training series, the longest of them when they are of
        unequal length; arrays given to ``predict`` must have it, lists of
        series may have any length the kernels allow.

    series_lengths_ : ndarray of shape (n_lengths,)
        The distinct lengths of the series of the fit that drew the network,
        in increasing order: one entry for an array, or a list of series of
        one length.

    max_iter_ : int
        Epochs the last call to ``fit`` could run: ``max_iter``, or what
        ``"auto"`` resolved to for the number of series given."""

_FCN_NOTES = """\
    The network is three blocks ``[correlate -> batch norm -> relu]`` with
    128, 256 and 128 filters of lengths 8, 5 and 3, 'same' padding, global
    mean pooling and the output layer (Wang, Yan and Oates, 2017). The
    series are images of one row, ``(n, 1, n_timepoints, n_channels)``, for
    the core; :class:`~sklearn_xcnn.CNNClassifier` fitted on those images
    with kernels ``(1, k)`` gives the same model.

    **Training regime.** Adam in batches of 16, the rate annealed by a
    cosine from ``1e-2`` to 0 over enough epochs for about 1 000 batches
    (``max_iter="auto"``: 100 to 500 epochs, more for smaller sets), the
    weights of the lowest training loss kept, stopping after 50 epochs
    without progress.
    The published FCN trains 2 000 epochs at ``1e-3``, halving the rate on
    plateaus: hours a data set on a CPU. On the UCR/UEA sets aeon ships the
    cosine from ``1e-2`` came closest to the published accuracy in 60 to
    100 epochs of the configurations measured, and the budget of steps
    rather than epochs brought the smallest sets closer still (the
    time-series chapter of the user guide lists them). Computation is in
    the dtype of ``X``: aeon loads float64; float32 input computes in
    float32, faster for the same accuracy.

    **Series of unequal length** (a list) are fitted as they are, neither
    cropped nor changed by padding: a batch mixes lengths, padded at the end
    to its longest series with a mask of the valid time steps that batch
    norm, every block and global pooling honour, so each series computes
    what it computes alone (global pooling makes the weights the same for
    every length). They need ``global_pooling``; networks that pool or
    stride between blocks, fits with ``augment`` and L-BFGS batch by length
    instead (see "Series of unequal length" in the user guide)."""

SERIES_PIECES = {
    "fcn_architecture": _FCN_ARCHITECTURE,
    "fcn_training": _FCN_TRAINING,
    "class_weight": _CLASS_WEIGHT,
    "algorithm": parameter_entries("algorithm"),
    "augment": _AUGMENT,
    "series_attributes": _SERIES_ATTRIBUTES,
    "fcn_notes": _FCN_NOTES,
    "series_X": """\
    X : array-like of shape (n_cases, n_timepoints) or \
(n_cases, n_channels, n_timepoints), or list of ndarray
        Series in aeon's layouts: univariate rows, a 3-D array, or a list of
        ``(n_channels, n_timepoints_i)`` arrays (of any lengths the kernels
        allow; at ``fit``, series of unequal length are batched by
        length).""",
}

# ------------------------------------------------- ResNet and InceptionTime
# (new pieces; the FCN's above are left as they are)

_SIZES_ALONG_TIME = """\
    stride : int or tuple of int, default=1
        Step of the filters along time, one per layer or one for all;
        residual and inception blocks run at stride 1.

    pool_size : int or tuple of int, default=2
        Length of the pooling windows along time (with ``pooling`` set), one
        per layer or one for all.

    pooling : {{"max", "mean", "sum"}} or None, default=None
        Pooling after each layer; the published network has none.

    hidden_units : int or tuple of int, default=()
        Dense hidden layers after the global pooling; the published network
        has none.

{activation}

    padding : "same", "valid", int or tuple, default="same"
        Zeros added at the ends of the input of each "conv" layer (residual
        and inception blocks always pad "same"); a tuple holds one entry per
        layer.

    global_pooling : {{"mean", "max"}} or None, default="mean"
        Reduces each feature map of the last layer to one number, so that the
        output layer sees one input per filter whatever the length of the
        series (a fitted model predicts lengths it never saw). ``None``
        flattens the maps instead and fixes the length.

{dropout}

    batch_norm : bool, default=True
        Batch norm after the convolution of "conv" layers; residual and
        inception blocks always normalise.""".format(
    activation=parameter_entries("activation"),
    dropout=parameter_entries("dropout"),
)

_RESNET_ARCHITECTURE = """\
    n_filters : int or tuple of int, default=(64, 128, 128)
        Filters of each residual unit (every convolution of the unit has
        that many), one unit per entry.

    kernel_size : int or tuple, default=((8, 5, 3), (8, 5, 3), (8, 5, 3))
        Lengths of the filters along time, one entry per unit; an entry that
        is a tuple gives one length per convolution of its unit (the
        published 8, 5 and 3), an int one length for all of them. An int
        serves every unit; ``(8, 5, 3)`` (ints) gives unit 0 kernels of 8,
        unit 1 of 5 and unit 2 of 3, as for the FCN. Kernels longer than
        the series are clipped to it at ``fit``.

{sizes}

    block : str or list of str, default="residual"
        Kind of each layer (see :class:`~sklearn_xcnn.CNNClassifier`):
        ``"residual"`` units make the ResNet; ``"conv"`` and
        ``"inception"`` are the other kinds.

    block_depth : int or list of int, default=3
        Convolutions in each residual unit (modules of an inception block).

{dilation}""".format(sizes=_SIZES_ALONG_TIME, dilation=parameter_entries("dilation"))

_INCEPTION_ARCHITECTURE = """\
    n_filters : int or tuple of int, default=(32, 32)
        Filters of each branch of the modules of each inception block, one
        block per entry; a module outputs ``4 * n_filters`` maps (three
        convolutions and the max-pool branch) and its 1x1 bottleneck has
        ``n_filters`` filters (the published bottleneck of 32).

    kernel_size : int or tuple, default=40
        Length along time of the longest branch kernel: a module's three
        convolutions have kernels of ``kernel_size``, half and a quarter of
        it (40, 20 and 10). One entry per block in a tuple; an entry that is
        a tuple of three ints gives the three branch lengths themselves.
        Kernels longer than the series are clipped to it at ``fit``.

{sizes}

    block : str or list of str, default="inception"
        Kind of each layer (see :class:`~sklearn_xcnn.CNNClassifier`).

    block_depth : int or list of int, default=3
        Inception modules in each block, whose shortcut joins after the
        last of them: two blocks of three are the published depth of 6 with
        a shortcut every third module.

{dilation}""".format(sizes=_SIZES_ALONG_TIME, dilation=parameter_entries("dilation"))

# the FCN's training entries, with words that hold for every preset
_PRESET_TRAINING = _FCN_TRAINING.replace("the published FCN", "the published networks")

# ResNet's and InceptionTime's entries: the shared ones at the published rate
_PUBLISHED_RATE_TRAINING = _PRESET_TRAINING.replace(
    """    learning_rate_init : float, default=1e-2
        First step size of Adam, ten times the rate of the published networks
        (Keras' default), which the cosine then brings down to
        ``min_learning_rate``: over 60 epochs on the small UCR/UEA sets it
        scored as well as ``1e-3`` or better (see Notes).""",
    """    learning_rate_init : float, default=1e-3
        First step size of Adam, the rate of the published ResNet and
        InceptionTime, which the cosine then brings down to
        ``min_learning_rate``. The FCN starts at ``1e-2``; at ``1e-2`` these
        networks scored 0.731 (ResNet) and 0.709 (one inception network) on
        ArrowHead against 0.886 and 0.891 at ``1e-3`` (100 epochs, seed 0).""",
)
assert _PUBLISHED_RATE_TRAINING != _PRESET_TRAINING

_REGIME_POINTER = """\
    **Training regime.** The defaults of ``solver`` to ``n_iter_no_change``
    are the series presets' shared regime, the same as
    :class:`~sklearn_xcnn.series.FCNClassifier`'s (see its Notes and the
    time-series chapter of the user guide). aeon 1.x trains this network
    for 1 500 epochs."""

_PUBLISHED_RATE_POINTER = _REGIME_POINTER.replace(
    "    time-series chapter of the user guide). ",
    "    time-series chapter of the user guide), but for a first rate of\n"
    "    ``1e-3`` (``learning_rate_init``), as published. ",
)

_RESNET_NOTES = (
    """\
    The network is three residual units of 64, 128 and 128 filters, each
    three convolutions ``[correlate -> batch norm -> relu]`` of lengths 8, 5
    and 3 ('same' padding; the last relu after the shortcut is added), with
    a shortcut of a 1x1 convolution and batch norm where the channel count
    changes (units 0 and 1) and batch norm alone where it does not (unit 2),
    then global mean pooling and the output layer (Wang, Yan and Oates,
    2017). ``network_summary`` shows it; ``filters_`` holds the
    convolutions of each unit in order, its shortcut's last.

"""
    + _PUBLISHED_RATE_POINTER
)

_INCEPTION_NOTES = (
    """\
    Each network is two inception blocks of three modules (depth 6): a
    module is a 1x1 bottleneck of 32 filters (when its input has more than
    one channel), three convolutions of 32 filters of lengths 40, 20 and 10
    on it and a max-pool branch (3 steps, stride 1) with a 1x1 convolution of
    32 filters, concatenated (128 maps), batch norm and relu; a shortcut (1x1
    convolution and batch norm) joins after every third module; then global
    mean pooling and the output layer (Ismail Fawaz et al., 2020).

    **Ensemble.** As in the published InceptionTime and aeon 1.x, the
    estimator is ``n_networks`` such networks trained independently from
    different random initialisations and shuffles, whose outputs are
    averaged. Network ``i`` is fitted with a seed drawn ``i``-th from
    ``random_state``, so an int ``random_state`` makes the ensemble
    reproducible and the first networks do not depend on ``n_networks``.
    ``sample_weight`` and ``class_weight`` reach every network;
    ``warm_start=True`` continues each fitted network (networks added by a
    larger ``n_networks`` start afresh, a smaller one drops the last);
    ``partial_fit`` takes one step of every network. A fit that fails
    leaves a fitted ensemble as it was. Each network is in
    ``estimators_``: inspect one with its own attributes (``filters_``,
    ``loss_curve_``, ``network_summary``).

"""
    + _PUBLISHED_RATE_POINTER
)

_N_NETWORKS = """\
    n_networks : int, default=5
        Networks in the ensemble (aeon's ``n_classifiers`` /
        ``n_regressors``), trained independently and averaged.

    n_jobs : int, default=None
        Networks fitted at once (``fit`` and ``partial_fit``), each in a
        joblib worker: ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context, ``-1`` all processors. On
        two cores, four networks on 50 series of 150 points fitted 1.4x
        faster two at a time than one after the other, where each network
        splits its batches of 16 series over both cores. The results are
        those of one network after the other with one BLAS thread
        (``threadpool_limits(1)``): a network that splits its batches over
        several cores sums them in another order, which changes its weights
        by rounding. The workers' warnings are raised again at the caller's
        line; with ``verbose``, their progress prints from their
        processes."""

_ENSEMBLE_ATTRIBUTES = """\
    estimators_ : list of estimator
        The fitted networks, each a single-network estimator with this
        estimator's parameters (less ``n_networks``) and its own seed.

    n_iter_ : int
        The most epochs any network ran in the last call to ``fit``.

    n_features_in_ : int
        Number of values (time points times channels) per series.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X``, when it was a DataFrame with string columns.

    n_channels_ : int
        Channels of the training series.

    n_timepoints_ : int
        Length of the training series, the longest of them when they are of
        unequal length; arrays given to ``predict`` must have it, lists of
        series may have any length the kernels allow.

    series_lengths_ : ndarray of shape (n_lengths,)
        The distinct lengths of the training series, in increasing order."""

SERIES_PIECES.update(
    {
        "resnet_architecture": _RESNET_ARCHITECTURE,
        "inception_architecture": _INCEPTION_ARCHITECTURE,
        "preset_training": _PRESET_TRAINING,
        "published_rate_training": _PUBLISHED_RATE_TRAINING,
        "resnet_notes": _RESNET_NOTES,
        "inception_notes": _INCEPTION_NOTES,
        "n_networks": _N_NETWORKS,
        "ensemble_attributes": _ENSEMBLE_ATTRIBUTES,
    }
)
