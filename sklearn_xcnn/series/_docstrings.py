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
        Strength of the L2 penalty on the weights; the published FCN has
        none.

    batch_size : int or "auto", default=16
        Mini-batch size of ``"adam"`` and ``"sgd"`` (aeon's default), cut to
        the number of series when they are fewer.

{learning_rate}

    learning_rate_init : float, default=1e-3
        Step size of Adam, as in the published FCN (Keras' default).

{power_t}

{plateau}

    max_iter : int, default=200
        Most epochs per call to ``fit``; aeon trains 2 000, out of reach on a
        CPU (see Notes). Reaching it raises a
        :class:`~sklearn.exceptions.ConvergenceWarning`.

{middle}

    n_iter_no_change : int or np.inf, default=50
        Training stops after more than this many consecutive epochs without
        an improvement of ``tol`` (aeon's plateau patience).

{max_fun}""".format(
    solver=parameter_entries("solver"),
    learning_rate=parameter_entries("learning_rate"),
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
        "keep_best_weights",
        "validation_fraction",
        "beta_1",
        "beta_2",
        "epsilon",
    ),
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
        one length."""

_FCN_NOTES = """\
    The network is three blocks ``[correlate -> batch norm -> relu]`` with
    128, 256 and 128 filters of lengths 8, 5 and 3, 'same' padding, global
    mean pooling and the output layer (Wang, Yan and Oates, 2017). The
    series are images of one row, ``(n, 1, n_timepoints, n_channels)``, for
    the core; :class:`~sklearn_xcnn.CNNClassifier` fitted on those images
    with kernels ``(1, k)`` gives the same model.

    **Training regime.** Adam at ``1e-3`` in batches of 16 for at most 200
    epochs, stopping after 50 without progress. aeon trains 2 000 epochs,
    halves the rate after 50 without progress and keeps the weights of the
    lowest training loss; on a CPU those epochs take hours. The regime will
    change (a reduce-on-plateau schedule and best weights kept) when the
    family's learning-rate schedules land: these defaults are the ones to
    revisit then. Computation is in the dtype of ``X``: float32 input
    computes in float32, 1.6 to 2.5 times as fast as aeon's float64 (see
    the time-series chapter of the user guide).

    **Series of unequal length** (a list) are fitted as they are, neither
    padded nor cropped: grouped by length, in batches of one length each,
    each run through the network built for its length (global pooling makes
    the weights the same for all). They need ``global_pooling``; an epoch
    with many lengths of a few series each runs many small batches (see
    "Series of unequal length" in the user guide)."""

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
