"""What every series estimator adds to the image family: aeon's layouts at
entry and sizes read along time.

:class:`SeriesMixin` goes before :class:`~sklearn_xcnn.CNNClassifier` or
:class:`~sklearn_xcnn.CNNRegressor` in a preset's bases. It changes three
things and nothing else:

* input: ``_validate_images`` reads aeon's layouts (:mod:`._convert`) as
  images ``(n, 1, n_timepoints, n_channels)`` and records ``n_channels_``,
  ``n_timepoints_`` and ``series_lengths_``;
* series of unequal length (a list) at ``fit`` and ``partial_fit``: they
  stay at their own lengths, grouped by length in a
  :class:`~sklearn_xcnn._ragged.Ragged` whose groups each run through the
  network built for their length (``_training_images``). The network must
  end in global pooling, so that its weights do not depend on the length.
  Where every block also keeps the length (stride 1, 'same' padding, no
  pooling between blocks: the FCN, ResNet and InceptionTime presets) and
  nothing augments the series, the fit loops' batches mix lengths, each
  padded at its end to the batch's longest with a mask that the network
  honours (:mod:`sklearn_xcnn._core._mask`); otherwise they hold one
  length each;
* sizes: ``kernel_size``, ``stride``, ``pool_size`` and ``padding`` are
  lengths along time (an int ``k`` is the ``(1, k)`` kernel) and a tuple holds
  one value per layer, as in aeon;
* prediction: a list of series of any length (lengths the model never saw)
  is predicted length by length, where the network ends in global pooling.

Presets (FCN, and later ResNet and InceptionTime once the core has their
block kinds) are subclasses that only set defaults.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from .._core._mask import keeps_length
from .._core._network import param_shapes
from .._input import as_int_tuple, readable_conversion_errors
from .._ragged import Ragged
from ..augment._base import check_augment
from ._convert import (
    checked_series,
    groups_by_length,
    is_series_list,
    series_lengths,
    series_rows,
)
from ._regime import AUTO_EPOCHS, AUTO_STEPS

# sizes read along time; padding may also be a string
_TIME_SIZES = ("kernel_size", "stride", "pool_size")


def along_time(value, name, n_blocks):
    """A size given along time as the core's per-block ``(rows, cols)`` value.

    An int ``k`` is ``(1, k)`` for every layer (padding: ``(0, k)``); a tuple
    or list holds one int per layer; padding strings pass as they are. A
    layer's ``kernel_size`` may itself be a tuple of lengths, one per
    convolution of a residual unit or inception module: ``(8, 5, 3)`` is
    ``((1, 8), (1, 5), (1, 3))``.
    """
    if isinstance(value, str):
        return value
    if not isinstance(value, tuple | list | np.ndarray):  # (may be ragged)
        return _one_along_time(value, name)
    values = list(value)
    if len(values) != n_blocks:
        raise ValueError(
            f"{name} holds {len(values)} value(s) but n_filters has {n_blocks} "
            "layer(s): give one value per layer, or one int for every layer."
            + _same_for_every_layer(values, name, n_blocks)
        )
    return [_one_along_time(v, f"{name}[{i}]") for i, v in enumerate(values)]


def _same_for_every_layer(values, name, n_blocks):
    """The call that keeps one repeated value for ``n_blocks`` layers (as
    the presets' default kernels, ``((8, 5, 3),) * 3``), or ''."""
    first = values[0] if values else None
    if not isinstance(first, tuple | list) or len(values) < 2:
        return ""  # (an int for every layer is said already)
    if any(not isinstance(v, tuple | list) or list(v) != list(first) for v in values):
        return ""
    first = tuple(first)
    return f" The same {first!r} in each layer: {name}=({first!r},) * {n_blocks}."


def _one_along_time(value, name):
    if isinstance(value, str):
        return value
    if name.startswith("padding"):
        if not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(
                f"{name} must be 'valid', 'same' or a non-negative int (zeros "
                f"at each end of the series), got {value!r}."
            )
        return (0, int(value))
    if name.startswith("kernel_size") and isinstance(value, tuple | list):
        # one length per convolution of a compound block: (8, 5, 3)
        return tuple(_one_along_time(k, f"{name}[{i}]") for i, k in enumerate(value))
    (k,) = as_int_tuple(value, name)
    return (1, k)


class SeriesMixin:
    """aeon's layouts and sizes along time for a network estimator."""

    # whether training batches mix series of several lengths (padded, masked)
    # where the network allows it; False batches by length (benchmarks)
    _mix_lengths = True

    # max_iter="auto" aims at the series regime's steps and epochs
    _auto_steps = AUTO_STEPS
    _auto_epochs = AUTO_EPOCHS

    # ----------------------------------------------------------------- input
    def _validate_xy(self, X, y, reset):
        """As the family's, with a list of series of unequal length (or, for
        a fitted model, of lengths other than ``n_timepoints_``) read as a
        :class:`~sklearn_xcnn._ragged.Ragged` of images."""
        if is_series_list(X) and self._is_ragged(X, reset):
            X = self._ragged_images(X, reset)
        return super()._validate_xy(X, y, reset)

    def _validate_images(self, X, reset):
        """Validate series ``X`` and return them as ``(n, 1, T, C)`` images
        (a :class:`~sklearn_xcnn._ragged.Ragged` from ``_validate_xy``
        passes as it is)."""
        if isinstance(X, Ragged):
            return X
        rows, n_channels = series_rows(X)
        if not reset:
            self._check_layout(n_channels, rows)
        with readable_conversion_errors():
            rows = validate_data(
                self,
                rows,
                reset=reset,
                dtype=(np.float64, np.float32),
                order="C",
                ensure_min_features=1,
            )
        n_timepoints = rows.shape[1] // n_channels
        if reset:
            self.n_channels_, self.n_timepoints_ = n_channels, n_timepoints
            self.series_lengths_ = np.array([n_timepoints])
            self.image_shape_ = (1, n_timepoints, n_channels)
        return rows.reshape(rows.shape[0], 1, n_timepoints, n_channels)

    # ------------------------------------------------------ unequal lengths
    def _is_ragged(self, X, reset):
        """Whether the list ``X`` is fitted length by length: lengths differ,
        or (for a fitted model) are not the training length."""
        lengths = series_lengths(X)
        return len(lengths) > 1 or (not reset and lengths != {self.n_timepoints_})

    def _ragged_images(self, X, reset):
        """The list ``X`` as a :class:`~sklearn_xcnn._ragged.Ragged` of
        images ``(1, T_i, C)``, checked (one channel count, finite); a
        first fit records the longest length as ``n_timepoints_`` (and
        ``n_features_in_``, the width of an array it predicts) and every
        length in ``series_lengths_``."""
        n_channels = self.n_channels_ if not reset else None
        series = checked_series(X, n_channels)  # (T_i, C) each
        if reset:
            lengths = sorted({len(x) for x in series})
            n_channels, longest = series[0].shape[1], lengths[-1]
            self.n_channels_, self.n_timepoints_ = n_channels, longest
            self.series_lengths_ = np.array(lengths)
            self.image_shape_ = (1, longest, n_channels)
            self.n_features_in_ = longest * n_channels
            self.__dict__.pop("feature_names_in_", None)  # a list has none
        return Ragged([x[None] for x in series])

    def _training_images(self, X, spec):
        """A :class:`~sklearn_xcnn._ragged.Ragged` ``X`` with the network
        built for each of its lengths; refused where those networks would
        not share the weights of ``spec`` (no global pooling, or a series
        too short for the kernels). Its batches mix lengths (padded and
        masked) where every network keeps the length and nothing augments."""
        if not isinstance(X, Ragged):
            return X
        specs = [self._fit_spec(shape[1], spec, X) for shape in X.image_shapes]
        check_augment(self.augment, X.image_shapes[0], self.solver)  # the shortest
        X = X.with_specs(specs)
        mix = self._mix_lengths and not self.augment
        return X.mixing() if mix and all(map(keeps_length, specs)) else X

    def _fit_spec(self, n_timepoints, spec, X):
        """The network ``spec`` built for series of ``n_timepoints``, or an
        error naming the first series of that length."""
        name = type(self).__name__
        lengths = [shape[1] for shape in X.image_shapes]
        if spec.global_pooling is None:
            held = (
                f"lengths {lengths[0]} to {lengths[-1]}"
                if len(lengths) > 1
                else f"series of {lengths[0]} time points where it was fitted "
                f"on {self.n_timepoints_}"
            )
            raise ValueError(
                f"{name} fits series of unequal length only with global_pooling "
                "('mean' or 'max'), which makes its weights independent of the "
                f"length; with global_pooling=None the dense layer takes series "
                f"of one length, and X holds {held}. Set global_pooling='mean', "
                "or resample the series to one length."
            )
        found = self._same_weights(n_timepoints, spec)
        if found is not None:
            return found
        first = X.groups[lengths.index(n_timepoints)].rows[0]
        shortest = next(
            (
                t
                for t in range(n_timepoints + 1, max(lengths) + 1)
                if self._same_weights(t, spec) is not None
            ),
            max(lengths),
        )
        raise ValueError(
            f"X[{first}] has {n_timepoints} time point(s): too short for this "
            f"{name}, whose kernels need series of at least {shortest}. Drop "
            "or pad the short series, or use smaller kernel_size."
        )

    def _same_weights(self, n_timepoints, spec):
        """The unfitted network spec for ``n_timepoints`` steps if its weights
        are those of ``spec``, else None."""
        shape = (1, n_timepoints, self.n_channels_)
        try:
            other = self._network_spec(image_shape=shape)
        except ValueError:
            return None
        mine = [tuple(s) for s in param_shapes(spec)]
        return other if [tuple(s) for s in param_shapes(other)] == mine else None

    def _check_layout(self, n_channels, rows):
        """Refuse an array whose channels or length differ from training."""
        if n_channels != self.n_channels_:
            raise ValueError(
                f"X holds series of {n_channels} channel(s) but "
                f"{type(self).__name__} was fitted on series of "
                f"{self.n_channels_} channel(s)."
            )
        width = rows.shape[1] if len(getattr(rows, "shape", ())) == 2 else None
        if width is not None and width != self.n_features_in_:
            # scikit-learn's words first: its checks look for them
            raise ValueError(
                f"X has {width} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input: series of "
                f"{width // n_channels} time point(s) where it was fitted on "
                f"{self.n_timepoints_}. An array must have the training length; "
                "pass a list of series (list(X)) to predict other lengths."
            )

    # ----------------------------------------------------------------- sizes
    def _architecture_params(self):
        """The family's, with kernels kept whole under 'same' padding: a
        series shorter than a kernel reads zeros past its ends (as the
        published networks, which pad every series to the longest, do) and
        the weights fit every length."""
        return {**super()._architecture_params(), "whole_kernels": True}

    def _block_values(self, n_blocks):
        names = (*_TIME_SIZES, "padding")
        return {name: along_time(getattr(self, name), name, n_blocks) for name in names}

    # ------------------------------------------------------------ prediction
    def _logits(self, X):
        if not is_series_list(X):
            return super()._logits(X)
        check_is_fitted(self)
        series = checked_series(X, self.n_channels_)
        logits = None
        for n_timepoints, rows in groups_by_length(series).items():
            batch = np.stack([series[i] for i in rows])[:, None]  # (n, 1, T, C)
            part = self._network_logits(self._network_for(n_timepoints), batch)
            if logits is None:
                logits = np.empty((len(series), part.shape[1]), dtype=part.dtype)
            logits[rows] = part
        return logits

    def _network_for(self, n_timepoints):
        """The fitted network run on series of ``n_timepoints`` steps."""
        network = self._fitted_network()
        if n_timepoints == self.n_timepoints_:
            return network
        spec = self._length_spec(n_timepoints)
        if spec is None:
            raise ValueError(self._length_refusal(n_timepoints))
        return network._replace(spec=spec)

    def _length_spec(self, n_timepoints):
        """The fitted network's spec for another length, or None when its
        weights do not fit that length."""
        shape = (1, n_timepoints, self.n_channels_)
        spec = self._network_spec(fitted=True, image_shape=shape)
        fitted = param_shapes(self._network_spec(fitted=True))
        same = [tuple(s) for s in param_shapes(spec)] == [tuple(s) for s in fitted]
        return spec if same else None

    def _length_refusal(self, n_timepoints):
        name = type(self).__name__
        if self._network_spec(fitted=True).global_pooling is None:
            return (
                f"{name} was fitted without global_pooling, so its dense layer "
                f"takes series of exactly {self.n_timepoints_} time points; got "
                f"{n_timepoints}. Fit with global_pooling='mean' or 'max' to "
                "predict other lengths."
            )
        if n_timepoints > self.n_timepoints_:
            # kernels longer than the training series were cut to them
            return (
                f"A series of {n_timepoints} time point(s) does not fit this "
                f"{name}: it was fitted on series of at most "
                f"{self.n_timepoints_} time points, shorter than its "
                f"kernel_size, so its kernels were cut to that length and "
                f"take no longer series. Fit on series at least as long as "
                "the kernels (pad them at their end), or use a smaller "
                "kernel_size."
            )
        shortest = next(
            t
            for t in range(n_timepoints + 1, self.n_timepoints_ + 1)
            if self._length_spec(t) is not None
        )
        return (
            f"A series of {n_timepoints} time point(s) is too short for this "
            f"{name}: its kernels need at least {shortest}."
        )


def store_parameters(estimator, arguments):
    """Store each ``__init__`` argument (``locals()``) unchanged under its own
    name: a preset's ``__init__`` only stores, as scikit-learn requires."""
    for name, value in arguments.items():
        if name != "self":
            setattr(estimator, name, value)
