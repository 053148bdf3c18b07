"""Docstring pieces that the classifier and the regressor share.

Each estimator's docstring is a template; :func:`fill_doc` puts these pieces
in at the ``%(name)s`` places, so a shared parameter is described once.
"""

import re
import textwrap

# defaults that differ between the estimators sharing a description, as
# inline places in the pieces; fill_doc(name=value) gives an estimator's own
# (CNNClassifier's dropout is 0.3, CNNRegressor's 0.1, the presets' 0.0)
_INLINE = {"default_dropout": "0.0"}

_PIECES = {
    "architecture_parameters": """\
    n_filters : int or tuple of int, default=(16, 32)
        Filters of the convolutional block; a tuple stacks one block per
        entry (``()`` for none: a dense network). The default's two blocks,
        with ``padding="same"``, batch norm, dropout and a cosine schedule,
        were chosen by a sweep over several image and signal sets
        (``benchmarks/bench_defaults.py``; see :ref:`defaults` in the user
        guide).

    kernel_size : int, (int, int) or list, default=3
        Rows and columns of the filters. A list holds one entry (an int or a
        ``(rows, cols)`` pair) per block, e.g. ``[5, 3]``; a tuple of two
        ints is one ``(rows, cols)`` pair for every block. Kernels larger
        than the (padded) map they slide over are clipped to it, so an int
        kernel on a one-row signal is ``(1, k)``. A residual or inception
        block may take a tuple of kernels, one per convolution: ``block_depth``
        kernels for a residual unit's convolutions, e.g. ``((1, 8), (1, 5),
        (1, 3))`` (a tuple holding a pair, or other than two ints, is read so:
        ``(5, 3, 3)`` is three square kernels), three for an inception
        module's parallel branches.

    stride : int, (int, int) or list, default=1
        Step of the filters along rows and columns; a list holds one entry
        per block.

    pool_size : int, (int, int) or list, default=2
        Rows and columns of the pooling windows, which do not overlap; a list
        holds one entry per block. A window running off the edge of a
        feature map is kept as a partial window (a 3x3 map pools to 2x2).
        Windows larger than the map are clipped to it.

    pooling : {"max", "mean", "sum"} or None, default="max"
        How a pooling window is reduced: its largest cell, the mean or the sum
        of the cells present. ``None`` skips pooling.

    hidden_units : int or tuple of int, default=(128,)
        Units of each dense hidden layer; ``()`` for none.

    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the convolutional blocks and of the hidden layers.

    padding : "valid", "same", int, (int, int) or list, default="same"
        Zeros added around each block's input before the correlation.
        ``"valid"`` adds none (a 5x5 image and a 3x3 kernel give a 3x3 map).
        ``"same"`` pads so that the map has ``ceil(n / stride)`` cells along
        an axis of ``n`` (as Keras and TensorFlow do: the total padding is
        ``max((out - 1) * stride + k - n, 0)``, its odd cell at the bottom or
        right), so a 5x5 image keeps a 5x5 map. An int or a ``(rows, cols)``
        pair adds that many zeros on each side; it must be smaller than the
        kernel. A list holds one entry per block.

    global_pooling : {"mean", "max"} or None, default=None
        After the last block, reduce each feature map to one number (its
        mean or maximum) before the dense layers, which then see one input
        per filter. With ``hidden_units=()`` this is the head of the fully
        convolutional networks (FCN) of the time-series literature.

    dropout : float in [0, 1), default=%(default_dropout)s
        Rate of inverted dropout on the input of every dense layer (the
        flattened features and each hidden layer's output) while training
        with ``"adam"`` or ``"sgd"``: each input is zeroed with this
        probability and the others are scaled by ``1 / (1 - dropout)``.
        Nothing is dropped at prediction. The masks come from
        ``random_state``, so fits stay reproducible. ``"lbfgs"`` trains
        without dropout, as it ignores ``batch_size``: it needs the same loss
        at every evaluation.

    batch_norm : bool, default=True
        Whether each block normalises its correlation output per filter,
        before the activation: with the mean and (biased) variance of the
        batch while training, with running averages (momentum 0.1, unbiased
        variances, as PyTorch's ``BatchNorm2d``) at prediction, then scales
        by the learned ``batch_norm_scales_`` and shifts by
        ``filter_intercepts_``. ``"lbfgs"`` normalises with the statistics of
        its full batch (in chunks of 2048 rows, not split over the cores)
        and stores those of all the training rows. A mini-batch split over
        the cores is still normalised as one batch: its parts combine their
        sums. The residual and inception blocks always normalise (see
        ``block``); this parameter sets the plain ``"conv"`` blocks.

    block : {"conv", "residual", "inception"} or list, default="conv"
        The kind of each block; a list holds one entry per block, e.g.
        ``["conv", "residual"]``.

        - ``"conv"``: one convolution (with ``padding``, ``stride``,
          ``dilation``), optional batch norm, the activation, pooling.
        - ``"residual"``: a residual unit of ``block_depth`` convolutions
          of ``n_filters`` filters, each followed by batch norm and all but
          the last by the activation, plus a shortcut from the unit's input
          (a 1x1 convolution with batch norm where the channel count
          changes, batch norm alone where it does not) added before the
          last activation; as in the time-series ResNet of Wang et al.
          (2017).
        - ``"inception"``: ``block_depth`` inception modules with a shortcut
          (1x1 convolution and batch norm) around them, as InceptionTime's
          shortcut every third module (Ismail Fawaz et al., 2020). A module
          has a 1x1 bottleneck of ``n_filters`` filters (when its input has
          more than one channel), three parallel convolutions of
          ``n_filters`` filters whose kernels are ``kernel_size``, halved
          and halved again (40, 20 and 10 for ``kernel_size=40``) or the
          three kernels given in a tuple, and a
          branch of 3x3 max pooling at stride 1 and a 1x1 convolution; the
          four are concatenated (``4 * n_filters`` maps), normalised and
          activated.

        Residual and inception blocks pad 'same' (whatever ``padding``
        says), run at stride 1 (a ``stride`` other than 1 for them is an
        error) and normalise with batch norm (whatever ``batch_norm``
        says); ``pool_size`` and ``pooling`` reduce their output as any
        block's. Their convolutions all appear in ``filters_``.

    block_depth : int or list of int, default=3
        Convolutions in each residual unit, modules in each inception
        block (the published architectures' 3); a list holds one entry per
        block. Ignored by ``"conv"`` blocks.

    dilation : int, (int, int) or list, default=1
        Spacing of the filters' taps along rows and columns: a kernel of
        ``k`` taps at dilation ``d`` spans ``d * (k - 1) + 1`` cells
        (``'same'`` padding counts that span). A list holds one entry per
        block; in a residual or inception block it applies to every
        convolution wider than one cell.""",
    "training_parameters": """\
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        ``"adam"`` and ``"sgd"`` take mini-batch steps and support
        ``partial_fit`` and ``early_stopping``; ``"lbfgs"`` runs full-batch
        L-BFGS-B (:func:`scipy.optimize.minimize`) on the flattened parameters
        with exact gradients. ``"lbfgs"`` is deterministic, needs no learning
        rate and suits small data sets best.

    alpha : float, default=1e-4
        Strength of the L2 penalty on the filters and dense weights (not the
        biases), ``0.5 * alpha * ||w||^2 / n_samples`` per batch as in
        :class:`~sklearn.neural_network.MLPClassifier` and
        :class:`~sklearn.neural_network.MLPRegressor`.

    batch_size : int or "auto", default=64
        Mini-batch size for ``"adam"`` and ``"sgd"``; ``"auto"`` is
        ``min(200, n_samples)``, as for
        :class:`~sklearn.neural_network.MLPClassifier`. Batches of 64 take
        about three times as many steps per epoch for about the same time
        per epoch, which the default's short cosine schedule needs.

    learning_rate : {"constant", "invscaling", "adaptive", "plateau", \
"cosine"}, default="cosine"
        Learning-rate schedule of ``"sgd"`` and ``"adam"`` (for ``"adam"``,
        the rate its bias correction then scales); ``"lbfgs"`` ignores it.
        ``"constant"`` keeps ``learning_rate_init``. ``"invscaling"`` sets
        the rate to ``learning_rate_init / (t + 1)**power_t`` after each
        epoch, ``t`` being the number of samples seen (``t_``).
        ``"adaptive"`` keeps the rate while training improves and divides it
        by 5 each time it stops improving (see ``tol``), instead of stopping;
        training stops once the rate is at most ``1e-6``. These three are
        :class:`~sklearn.neural_network.MLPClassifier`'s, which applies them
        to ``"sgd"`` only. ``"plateau"`` multiplies the rate by
        ``plateau_factor`` whenever the training loss has not improved on its
        best by ``tol`` for ``plateau_patience`` epochs in a row, down to
        ``min_learning_rate``. ``"cosine"`` anneals it from
        ``learning_rate_init`` to ``min_learning_rate`` over the ``max_iter``
        epochs of each ``fit``: epoch ``e`` (from 1) runs at
        ``min_learning_rate + (learning_rate_init - min_learning_rate) *
        (1 + cos(pi * (e - 1) / max_iter)) / 2``. The rate of each epoch is
        in ``learning_rate_curve_``; see :ref:`schedules` in the user guide
        for ``partial_fit``, ``warm_start`` and early stopping.

    learning_rate_init : float, default=3e-3
        Initial step size of ``"adam"`` and ``"sgd"``. Too large a step makes
        training diverge, which raises an error (see Notes). The default is
        three times :class:`~sklearn.neural_network.MLPClassifier`'s: a
        convolution block shares each weight over the whole image, and with
        ``1e-3`` the default network had not converged after 200 epochs on
        the digits (``benchmarks/bench_quality.py``).

    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.

    plateau_factor : float in (0, 1), default=0.5
        What the ``"plateau"`` schedule multiplies the rate by on a plateau.

    plateau_patience : int, default=10
        Epochs in a row without a training loss ``tol`` below the best so
        far after which the ``"plateau"`` schedule lowers the rate (and
        counts again from zero). Training still stops after
        ``n_iter_no_change`` such epochs: to let the rate drop several times,
        make ``n_iter_no_change`` larger (``np.inf`` for none), as in the
        time-series recipe ``plateau_patience=50, n_iter_no_change=np.inf``.

    min_learning_rate : float, default=0.0
        The lowest rate of the ``"plateau"`` schedule, and the last of the
        ``"cosine"`` one; at most ``learning_rate_init``.

    max_iter : int or "auto", default="auto"
        Most epochs (``"adam"``, ``"sgd"``) or iterations (``"lbfgs"``) per
        call to ``fit``. ``"auto"`` gives ``"adam"`` and ``"sgd"`` enough
        epochs for about 500 steps (batches), at least 5 and at most 200: 22
        epochs for 1 437 rows in batches of 64, 8 for 4 000 rows, 200 for 30
        rows; ``"lbfgs"`` gets 200 iterations. The epochs a fit resolved are
        in ``max_iter_``. Reaching ``max_iter`` raises a
        :class:`~sklearn.exceptions.ConvergenceWarning`, except where the
        ``"cosine"`` schedule ran its whole span: it ends there by design.

    shuffle : bool, default=True
        Whether to shuffle the samples before each epoch.

    random_state : int, RandomState instance or None, default=None
        Controls all randomness: the initial weights, the shuffling, the
        validation split, the dropout masks and the augmentation draws. Pass
        an int for bit-for-bit reproducible fits.

    tol : float, default=1e-4
        ``"adam"`` and ``"sgd"`` stop once the training loss (with early
        stopping, the validation score) has failed to improve on its best
        value by at least ``tol`` in more than ``n_iter_no_change``
        consecutive epochs. ``"lbfgs"`` stops once no gradient entry exceeds
        ``tol`` in absolute value (or the loss stalls).

    verbose : int, default=0
        0 prints nothing. 1 shows a progress bar over the epochs (on stderr)
        when the optional ``tqdm`` package is installed, else prints a line
        per epoch or L-BFGS iteration: the loss, the validation score with
        early stopping, the learning rate when ``learning_rate`` is not
        ``"constant"``, and the time taken. 2 prints the lines under the bar
        too. ``partial_fit`` prints its one line without a bar.

    warm_start : bool, default=False
        Whether ``fit`` continues from the current weights instead of drawing
        new ones. ``t_`` and the curves (``loss_curve_``, ...) continue,
        while ``n_iter_`` and ``max_iter`` count the epochs of each call, as
        in scikit-learn's MLP. A warm-started classifier must see the same
        classes. ``"adam"`` and ``"sgd"`` also keep
        their optimizer state (moments, velocity, current rate) unless one of
        its parameters (``learning_rate_init``, ``beta_1``, ...) changed.
        ``warm_start=False`` starts afresh at each ``fit``.

    momentum : float, default=0.9
        Momentum of ``"sgd"``.

    nesterovs_momentum : bool, default=True
        Whether ``"sgd"`` uses Nesterov's momentum.

    early_stopping : bool, default=False
        Whether ``"adam"`` and ``"sgd"`` hold out ``validation_fraction`` of
        the training data (stratified by class for single-label
        classification, drawn at random otherwise), score it after each epoch
        (accuracy for the classifier, R^2 for the regressor) and stop when the
        score stops improving (see ``tol``); the weights with the best
        validation score are restored at the end. Ignored by ``"lbfgs"``;
        ``partial_fit`` refuses it (a :class:`ValueError`), as scikit-learn's
        MLP does.

    keep_best_weights : bool, default=False
        Whether ``fit`` with ``"adam"`` or ``"sgd"`` ends with the weights
        (and batch-norm statistics) of the epoch with the lowest training loss
        of the call, instead of the last epoch's, as the time-series
        literature does. The kept weights are a copy taken at the end of that
        epoch. Early stopping, which restores the weights of the best
        validation score, takes precedence; ``partial_fit`` (one epoch) and
        ``"lbfgs"`` ignore it.

    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.

    beta_1 : float, default=0.9
        Decay of Adam's first moment estimate.

    beta_2 : float, default=0.999
        Decay of Adam's second moment estimate.

    epsilon : float, default=1e-8
        Numerical stability term of Adam.

    n_iter_no_change : int or np.inf, default=10
        Patience of ``"adam"`` and ``"sgd"``: training stops (or the adaptive
        rate drops) after more than this many consecutive epochs without an
        improvement of ``tol``. ``np.inf`` never stops early: ``max_iter``
        ends the fit, with a ``ConvergenceWarning``.

    max_fun : int, default=15000
        Most loss evaluations of ``"lbfgs"``, checked between iterations (the
        line search of the last one may use a few more). Reaching it raises a
        :class:`~sklearn.exceptions.ConvergenceWarning`.""",
    "input_parameters": """\
    image_shape : (int, int), (int, int, int) or None, default=None
        ``(height, width)`` or ``(height, width, channels)`` of the images
        whose flattened pixels make the rows of ``X``. A 1-D signal of ``L``
        steps is ``(1, L)``; a multichannel series is ``(1, L, channels)``,
        each row holding the channels of step 0, then of step 1, ... (or pass
        ``X`` of shape ``(n_samples, 1, L, channels)``); a shape that does not
        describe the rows raises an error. With ``None`` a perfect-square
        number of features is a square single-channel image and any other
        number a one-row signal; from 100 features on a square is as likely a
        series of 100 or 144 steps, and ``fit`` warns and asks for
        ``image_shape``. It also says which order 4-D ``X`` comes in: given
        ``(height, width, channels)`` and ``X`` of shape ``(n_samples,
        channels, height, width)`` (PyTorch's layout), the images are read
        channels first, at fit and again at predict; flat rows are always
        channels last. With ``None``, 4-D ``X`` is channels last, and ``fit``
        warns when it looks channels first (1, 3 or 4 on axis 1, none of these
        last).

    algorithm : {"auto", "im2col", "scipy"}, default="auto"
        Correlation engine. ``"im2col"`` gathers sliding windows into a matrix
        and multiplies it with the filters; ``"scipy"`` multiplies spectra
        computed with :mod:`scipy.fft`, whose cost hardly grows with the
        kernel size. Both give the same results up to rounding; ``"auto"``
        picks the faster for each block (im2col for small kernels, FFT for
        large kernels on large enough maps).""",
    "augment_parameters": """\
    augment : list of augmenters or None, default=None
        Data augmentation for ``"adam"`` and ``"sgd"``: each training batch
        goes through the augmenters in turn (e.g. ``[RandomShift(2),
        RandomRotation(10)]`` from :mod:`sklearn_xcnn.augment`, or callables
        ``augmenter(X, random_state)`` on ``(n_samples, height, width,
        channels)`` batches), with new draws for every image in every epoch,
        taken from a generator that each ``fit`` or ``partial_fit`` call
        derives from ``random_state``. The draws are made before a batch is
        split over threads or processes, so fits stay reproducible. Only
        training batches are augmented: never the rows held out by
        ``early_stopping``, the rows that start the network, nor ``predict``
        and ``score``. ``fit`` checks the augmenters against the image shape;
        ``"lbfgs"`` refuses augmentation (a :class:`ValueError`): it needs the
        same loss at every evaluation. See :ref:`augmentation`.""",
    "fitted_attributes": """\
    n_features_in_ : int
        Number of features (pixels times channels) per sample.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X``, when it was a DataFrame with string columns.

    image_shape_ : tuple of (int, int, int)
        ``(height, width, channels)`` of the images.

    filters_ : list of ndarray
        One per convolution, of shape ``(n_filters, in_channels, k_rows,
        k_cols)``, applied as correlation (not flipped): one per ``"conv"``
        block; for a residual unit its convolutions in order, then its
        shortcut's 1x1 convolution (when it has one); for an inception
        block per module the bottleneck (when it has one), the three
        kernels' and the pool branch's convolutions, then the shortcut's.

    filter_intercepts_ : list of ndarray
        One per convolution, as ``filters_``, of shape ``(n_filters,)``;
        with batch norm, the shift applied after normalising.

    batch_norm_scales_ : list of ndarray or None
        One per batch norm, of shape ``(n_filters,)``: the learned scale of
        the normalised maps (``None`` without any batch norm). A ``"conv"``
        block with ``batch_norm=True`` has one; a residual unit one per
        convolution, then its shortcut's; an inception block one per branch
        of each module, then its shortcut's.

    batch_norm_means_ : list of ndarray or None
        One per batch norm, as ``batch_norm_scales_``: the running means
        prediction normalises with (else ``None``).

    batch_norm_vars_ : list of ndarray or None
        With ``batch_norm=True``, the running variances, as
        ``batch_norm_means_``.

    coefs_ : list of ndarray
        Dense layers including the output layer; ``coefs_[i]`` has shape
        ``(n_in, n_out)``. The rows of ``coefs_[0]`` follow the flattened
        pooled maps ordered as filters x rows x cols (with
        ``global_pooling``, one row per filter).

    intercepts_ : list of ndarray
        Dense layer intercepts; ``intercepts_[i]`` has shape ``(n_out,)``.

    n_iter_ : int
        Epochs (``"adam"``, ``"sgd"``) or iterations (``"lbfgs"``) run by the
        last ``fit`` (under ``warm_start`` too: ``loss_curve_`` keeps the
        whole history); each ``partial_fit`` call adds one.

    loss_ : float
        Loss at the end of training.

    best_loss_ : float or None
        Lowest training loss seen (``None`` when fitted with early stopping).

    loss_curve_ : list of float
        Training loss after each epoch (or L-BFGS iteration).

    learning_rate_curve_ : list of float
        Learning rate each epoch ran at (the schedule's rate; for ``"adam"``
        before its bias correction), one per entry of ``loss_curve_``; NaN
        for the L-BFGS iterations.

    validation_scores_ : list of float or None
        Validation score (accuracy, or R^2 for the regressor) after each
        epoch, with early stopping (else ``None``).

    validation_loss_curve_ : list of float or None
        Validation loss (the training loss on the held-out rows) after each
        epoch, with early stopping (else ``None``).

    best_validation_score_ : float or None
        Best validation score, that of the restored weights, with early
        stopping (else ``None``).

    t_ : int
        Training samples seen by the stochastic solvers.""",
    "notes": """\
    A feature map of ``H`` rows (after padding) from a kernel of ``k`` rows at
    stride ``s`` has ``(H - k) // s + 1`` rows; pooling it with windows of
    ``p`` rows leaves ``ceil(rows / p)`` rows (likewise for columns).
    :func:`sklearn_xcnn.inspection.network_summary` lists every stage with
    its shape and parameter count; ``verbose=2`` prints it when ``fit``
    starts.

    **Start.** Weights are drawn Glorot-uniform (as scikit-learn's MLP), the
    output layer at a tenth of that scale; for a classifier of plain blocks
    whose output layer reads 64 units or more, trained by Adam, at
    ``5e-4 / learning_rate_init`` of it within a tenth and half. ReLU units
    (filters and hidden units) that fire on fewer than half of the first 256
    training rows have the sign of their weights and intercept flipped, so
    that no unit starts dead; see the user guide. A regressor starts its
    output intercepts at the mean of ``y``.

    **Interrupting.** Ctrl-C (``KeyboardInterrupt``, also the interrupt
    button of a notebook) during ``fit`` or ``partial_fit`` stops training
    after the current mini-batch (or L-BFGS iteration) and warns; the model
    is fitted and usable, with the best weights when early stopping (or
    ``keep_best_weights``) is on.
    A second Ctrl-C aborts at once and leaves the estimator as it was before
    the call. Signals can only be caught in the main thread: elsewhere
    Ctrl-C behaves as usual.

    **Divergence.** When the loss of a mini-batch becomes inf or NaN, grows
    to more than ``10**4`` times the first loss of the call (or of 1), or
    the weights become non-finite, training stops with a
    ``DivergenceError`` (a :class:`ValueError`) that suggests a smaller
    ``learning_rate_init``. A failing ``fit`` or ``partial_fit`` leaves the
    estimator as it was: unfitted, or with its previous weights.""",
}


_PIECES["predict_X"] = """\
    X : array-like of shape (n_samples, n_features) or images
        Input images, flattened rows or arrays of images as ``fit`` takes
        them."""


_PIECES["inspected_images"] = """\
    estimator : estimator
        A fitted CNNClassifier or CNNRegressor, or a fitted pipeline, search
        or TransformedTargetRegressor around one (see
        :ref:`inspecting_pipelines`): what is computed is that of its network.

    X : array-like of shape (n_samples, n_features), (n_samples, height, \
width) or (n_samples, height, width, channels)
        Images, given as to the estimator's ``predict``. A pipeline's steps
        before the network transform them first: the images and everything
        computed from them are what the network sees."""


def fill_doc(obj=None, /, **pieces):
    """Fill the ``%(name)s`` places of ``obj.__doc__`` with the shared pieces.

    A place stands on a line of its own, indented as the lines around it;
    each piece is indented to match (class docstrings indent by 4, method
    docstrings by 8). Called with keyword pieces only, returns a decorator
    that fills with those too (a family's own descriptions).
    """
    if obj is None:
        return lambda target: fill_doc(target, **pieces)
    known = {**_PIECES, **pieces}
    inline = {**_INLINE, **{k: v for k, v in pieces.items() if k in _INLINE}}

    def indented(match):
        margin, name = match.group(1), match.group(2)
        piece = textwrap.dedent(known[name])
        return "\n".join(margin + line if line else line for line in piece.splitlines())

    obj.__doc__ = re.sub(r"^( *)%\((\w+)\)s$", indented, obj.__doc__, flags=re.M)
    obj.__doc__ = _fill_inline(obj.__doc__, inline)
    return obj


def _fill_inline(text, values):
    """``text`` with its inline ``%(name)s`` places of :data:`_INLINE`
    replaced by ``values[name]``."""
    for name, value in values.items():
        text = text.replace(f"%({name})s", value)
    return text


def parameter_entries(*names):
    """The shared descriptions of the parameters ``names``, in that order, as
    one piece (for a family that describes its other parameters itself)."""
    entries = {}
    for piece in _PIECES.values():
        for entry in piece.split("\n\n"):
            name = entry.strip().split(" : ")[0]
            entries.setdefault(name, entry)
    return _fill_inline("\n\n".join(entries[name] for name in names), _INLINE)
