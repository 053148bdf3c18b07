"""FeatureMapDisplay: one image through the filters of a network."""

import numpy as np

from ..._core._network import split_params
from .._estimator import resolve_network
from .._feature_maps import feature_maps
from ._base import (
    _annotate_cells,
    _bare,
    _block_convolution,
    _panel_axes,
    _require_matplotlib,
    _show_values,
    _symmetric_limit,
)
from .filters import _as_filter_bank


def _one_image(estimator, X):
    """``X`` as a batch of one sample, accepting a single row or image."""
    if hasattr(X, "iloc"):  # a DataFrame keeps its column names
        return X
    X = np.asarray(X)
    H, W, C = estimator.image_shape_
    # a channels-first network (see image_shape) also takes one (C, H, W) image
    first = (C, H, W) if getattr(estimator, "_channels_first", False) else None
    if X.ndim == 1 or X.shape in ((H, W), (H, W, C), first):
        X = X[None]
    return X


def _image_to_show(image, channel):
    """The 2-D (or RGB) array to draw for an ``(H, W, C)`` or ``(H, W)`` image."""
    image = np.asarray(image, dtype=float)
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[..., 0]
    if image.shape[2] == 3:
        low, high = image.min(), image.max()
        return (image - low) / (high - low) if high > low else np.zeros_like(image)
    return image[..., channel]


def _merge_column(axes, col):
    """Replace column ``col`` of ``axes`` by one Axes spanning its rows.

    Works when the panels come from one grid (the usual case); otherwise the
    top panel is kept and the others are hidden.

    Returns
    -------
    ax : matplotlib Axes
    """
    top = axes[0, col]
    spec = top.get_subplotspec()
    if axes.shape[0] == 1 or spec is None:
        for other in axes[1:, col]:
            other.set_axis_off()
        return top
    grid = spec.get_gridspec()
    first = axes[0, col].get_subplotspec().rowspan.start
    last = axes[-1, col].get_subplotspec().rowspan.stop
    cols = spec.colspan
    figure = top.figure
    for other in axes[:, col]:
        other.remove()
    return figure.add_subplot(grid[first:last, cols.start : cols.stop])


class FeatureMapDisplay:
    """One image through the first stages of a convolutional network.

    Draws the input image, then one row per filter: the filter, its feature
    map (correlation plus bias, after the activation) and, when the network
    pools, the pooled map. A residual unit or an inception block makes each
    of its maps with several convolutions and a shortcut, so its rows show
    the maps alone (``filters=None``); the title of the input gives the predicted class
    and its probability (for a classifier) or the predicted value (for a
    regressor). Filters and maps are signed (or may be), so each
    uses a diverging colormap centred at zero; all filters share one colour
    scale, and all feature and pooled maps another. Use
    :meth:`from_estimator` to build it from a fitted estimator.

    Parameters
    ----------
    image : ndarray of shape (height, width) or (height, width, channels)
        The input image.

    filters : ndarray of shape (n_filters, in_channels, k_rows, k_cols) or \
(n_filters, k_rows, k_cols), or None
        The filters of the block shown; None leaves out the filter column
        (the maps of a residual unit or an inception block).

    feature_maps : ndarray of shape (n_filters, rows, cols)
        Each filter's feature map, after the activation.

    pooled_maps : ndarray of shape (n_filters, pooled_rows, pooled_cols), \
default=None
        Each feature map after pooling; ``None`` leaves out that column.

    proba : ndarray of shape (n_classes,), default=None
        The predicted probabilities of the image, for the title.

    classes : array-like of shape (n_classes,), default=None
        The class labels matching ``proba``; defaults to ``0, 1, ...``.

    prediction : float or array-like of shape (n_outputs,), default=None
        The predicted value(s) of the image, for the title of a regressor's
        display; ignored when ``proba`` is given.

    intercepts : ndarray of shape (n_filters,), default=None
        The filters' intercepts, written under the filters.

    map_label : str, default="feature map"
        Title of the feature-map column.

    pooled_label : str, default="pooled"
        Title of the pooled-map column.

    Attributes
    ----------
    input_ax_ : matplotlib Axes
        The panel of the input image.

    ax_ : ndarray of matplotlib Axes of shape (n_filters, n_stages)
        Row ``f`` shows filter ``f``, its feature map and its pooled map
        (``n_stages`` is 3, one less without ``pooled_maps`` and one less
        without ``filters``).

    figure_ : matplotlib Figure
        Figure holding the panels.

    input_image_ : matplotlib AxesImage
        The drawn input.

    images_ : ndarray of matplotlib AxesImage of shape (n_filters, n_stages)
        The drawn filters and maps.

    colorbars_ : list of matplotlib Colorbar
        The filter scale (with ``filters``) and the map scale (empty without
        colour bars).

    title_ : str
        Title of the input panel, with the predicted class and probability,
        or the predicted value.

    vmax_ : tuple of (float or None, float)
        Colour limits of the filters (None without ``filters``) and of the
        maps: each scale runs from ``-vmax`` to ``vmax``.

    See Also
    --------
    FilterDisplay : The filters alone, every input channel.
    feature_maps : Every intermediate array, for any number of images.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn_xcnn import CNNClassifier
    >>> from sklearn_xcnn.datasets import make_x_or_not_x
    >>> from sklearn_xcnn.inspection import FeatureMapDisplay
    >>> X, y = make_x_or_not_x(n_samples=60, random_state=0)
    >>> clf = CNNClassifier(n_filters=4, hidden_units=3, padding="valid",
    ...                     batch_norm=False, solver="lbfgs",
    ...                     random_state=1).fit(X, y)
    >>> display = FeatureMapDisplay.from_estimator(clf, X[0])
    >>> display.ax_.shape  # 4 filters x (filter, feature map, pooled map)
    (4, 3)
    >>> display.images_[0, 2].get_array().shape  # 3x3 map pooled to 2x2
    (2, 2)

    A fitted pipeline works as well; the image goes through its scaler before
    the network, and the title gives the pipeline's class and probability:

    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> pipe = make_pipeline(MinMaxScaler(feature_range=(-1, 1)),
    ...                      CNNClassifier(n_filters=4, hidden_units=3,
    ...                                    solver="lbfgs", random_state=1))
    >>> pipe = pipe.fit(X, y)
    >>> display = FeatureMapDisplay.from_estimator(pipe, X[0])
    >>> float(display.input_image_.get_array().min())  # scaled from 0 to -1
    -1.0
    >>> shown = display.title_.splitlines()[1]
    >>> shown == f"{pipe.predict_proba(X[:1]).max():.0%} {pipe.predict(X[:1])[0]}"
    True

    A residual unit's maps come from several convolutions and a shortcut:
    its rows show the maps alone, one per filter of the unit:

    >>> import warnings
    >>> res = CNNClassifier(block="residual", n_filters=3, block_depth=2,
    ...                     hidden_units=3, max_iter=5, random_state=0)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # 5 epochs do not converge
    ...     res = res.fit(X, y)
    >>> display = FeatureMapDisplay.from_estimator(res, X[0])
    >>> display.ax_.shape  # 3 maps x (feature map, pooled map)
    (3, 2)
    >>> plt.close("all")
    """

    def __init__(
        self,
        image,
        filters,
        feature_maps,
        pooled_maps=None,
        *,
        proba=None,
        classes=None,
        prediction=None,
        intercepts=None,
        map_label="feature map",
        pooled_label="pooled",
    ):
        self.image = image
        self.filters = filters
        self.feature_maps = feature_maps
        self.pooled_maps = pooled_maps
        self.proba = proba
        self.classes = classes
        self.prediction = prediction
        self.intercepts = intercepts
        self.map_label = map_label
        self.pooled_label = pooled_label

    def _title(self):
        if self.proba is None:
            if self.prediction is None:
                return "input"
            values = np.asarray(self.prediction, dtype=float).ravel()
            shown = ", ".join(f"{v:.3g}" for v in values)
            return f"input\npredicted {shown}"
        proba = np.asarray(self.proba, dtype=float).ravel()
        classes = np.arange(proba.size) if self.classes is None else self.classes
        best = int(np.argmax(proba))
        return f"input\n{proba[best]:.0%} {classes[best]}"

    def plot(
        self,
        *,
        ax=None,
        cmap="RdBu_r",
        image_cmap="gray_r",
        channel=0,
        include_values="auto",
        values_format=".2f",
        colorbar=True,
    ):
        """Draw the input, the filters and their maps.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw. ``None`` opens a new figure; a single Axes has its
            area divided into ``n_filters`` rows of ``1 + n_stages`` panels
            (the input spans the first column); an array-like must hold
            exactly ``n_filters * (1 + n_stages)`` Axes, in that layout.

        cmap : str or matplotlib Colormap, default="RdBu_r"
            Diverging colormap of the filters and maps.

        image_cmap : str or matplotlib Colormap, default="gray_r"
            Colormap of a single-channel input (``"gray_r"`` draws 1 black).

        channel : int, default=0
            Input channel of the filters shown (and of the input, when it has
            neither one nor three channels).

        include_values : bool or "auto", default="auto"
            Whether to write the values in the cells of the filters and maps;
            ``"auto"`` writes them on panels of at most 16 cells (4x4).

        values_format : str, default=".2f"
            Format specification of the written values.

        colorbar : bool, default=True
            Whether to add the two colour scales.

        Returns
        -------
        display : FeatureMapDisplay
            The display, with the attributes listed in the class docstring.
        """
        _require_matplotlib("FeatureMapDisplay.plot")
        maps = [np.asarray(self.feature_maps, dtype=float)]
        if self.pooled_maps is not None:
            maps.append(np.asarray(self.pooled_maps, dtype=float))
        stages, limits = list(maps), (None, _symmetric_limit(*maps))
        if self.filters is not None:
            filters = _as_filter_bank(self.filters)[:, channel]  # (F, kr, kc)
            stages.insert(0, filters)
            limits = (_symmetric_limit(filters), limits[1])
        n_rows = stages[0].shape[0]
        axes, figure = _panel_axes(
            ax, n_rows, 1 + len(stages), caller="FeatureMapDisplay.plot"
        )
        self.input_ax_ = _merge_column(axes, 0)
        self.ax_, self.figure_ = axes[:, 1:], figure
        self._draw_input(image_cmap, channel)
        first_map = 0 if self.filters is None else 1  # the column of the maps
        self.images_ = np.empty(self.ax_.shape, dtype=object)
        for (f, s), panel in np.ndenumerate(self.ax_):
            limit = limits[0 if s < first_map else 1]
            values = stages[s][f]
            self.images_[f, s] = panel.imshow(
                values, cmap=cmap, vmin=-limit, vmax=limit
            )
            _bare(panel)
            if _show_values(include_values, values.shape):
                _annotate_cells(panel, values, limit, values_format)
        self._label_panels(channel)
        self.vmax_ = limits
        self.colorbars_ = self._colorbars() if colorbar else []
        return self

    def _draw_input(self, image_cmap, channel):
        shown = _image_to_show(self.image, channel)
        self.input_image_ = self.input_ax_.imshow(shown, cmap=image_cmap)
        _bare(self.input_ax_)
        self.title_ = self._title()
        self.input_ax_.set_title(self.title_, fontsize=10)

    def _label_panels(self, channel):
        titles = [self.map_label, self.pooled_label]
        if self.filters is not None:
            n_channels = _as_filter_bank(self.filters).shape[1]
            titles.insert(0, "filter")
            if n_channels > 1:
                titles[0] = f"filter (channel {channel})"
        for s, panel in enumerate(self.ax_[0]):
            panel.set_title(titles[s], fontsize=10)
        row = "filter" if self.filters is not None else "map"
        for f, panel in enumerate(self.ax_[:, 0]):
            panel.set_ylabel(f"{row} {f}")
            if self.intercepts is not None:
                bias = float(np.asarray(self.intercepts)[f])
                panel.set_xlabel(f"bias {bias:.2f}", fontsize=9)

    def _colorbars(self):
        kw = {"location": "bottom", "shrink": 0.8, "aspect": 12}
        if self.filters is None:
            return [
                self.figure_.colorbar(
                    self.images_[0, 0], ax=list(self.ax_.ravel()), label="value", **kw
                )
            ]
        return [
            self.figure_.colorbar(
                self.images_[0, 0], ax=list(self.ax_[:, 0]), label="weight", **kw
            ),
            self.figure_.colorbar(
                self.images_[0, 1],
                ax=list(self.ax_[:, 1:].ravel()),
                label="value",
                **kw,
            ),
        ]

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        block=0,
        ax=None,
        cmap="RdBu_r",
        image_cmap="gray_r",
        channel=0,
        include_values="auto",
        values_format=".2f",
        colorbar=True,
    ):
        """Send one image through a fitted estimator and draw its stages.

        Parameters
        ----------
        estimator : estimator
            A fitted CNNClassifier or CNNRegressor, or a fitted pipeline,
            search or TransformedTargetRegressor around one (see
            :ref:`inspecting_pipelines`). The title gives its classes and
            probabilities; a TransformedTargetRegressor's network predicts
            the transformed target, in whose units the title is.

        X : array-like of shape (n_features,), (1, n_features), (height, \
width), (height, width, channels) or a batch of one such image
            One image, given as to the estimator's ``predict``. A pipeline's
            steps before the network transform it first, and the input panel
            shows it as the network sees it.

        block : int, default=0
            Which block to show; negative values count from the last. The
            input panel always shows the image itself. A residual unit or an
            inception block shows its activated output maps (the sum of its
            main path and its shortcut after the activation) and their
            pooling, without a filter column.

        ax : matplotlib Axes or array-like of Axes, default=None
            See :meth:`plot`.

        cmap : str or matplotlib Colormap, default="RdBu_r"
            See :meth:`plot`.

        image_cmap : str or matplotlib Colormap, default="gray_r"
            See :meth:`plot`.

        channel : int, default=0
            See :meth:`plot`.

        include_values : bool or "auto", default="auto"
            See :meth:`plot`.

        values_format : str, default=".2f"
            See :meth:`plot`.

        colorbar : bool, default=True
            See :meth:`plot`.

        Returns
        -------
        display : FeatureMapDisplay
            The drawn display.

        Raises
        ------
        TypeError
            If ``estimator`` is not, and does not wrap, one of our networks.
        ValueError
            If ``X`` holds several images, or ``block`` is out of range.
        sklearn.exceptions.NotFittedError
            If ``estimator`` or what it wraps is unfitted.
        """
        caller = "FeatureMapDisplay.from_estimator"
        _require_matplotlib(caller)
        network, _ = resolve_network(estimator, caller=caller)
        # a single row or image becomes a batch of one before any pipeline step
        stages = feature_maps(estimator, _one_image(network, X))
        if stages.images.shape[0] != 1:
            raise ValueError(
                "FeatureMapDisplay shows one image; X holds "
                f"{stages.images.shape[0]} samples. Pass a single row or image."
            )
        spec, params, _ = network._fitted_network()
        first = _block_convolution(spec, block, 0, caller)
        groups = split_params(params, spec)
        maps, pool = stages.blocks[block], spec.blocks[block].pool
        if "proba" in stages:
            outputs = {"proba": stages.proba[0], "classes": network.classes_}
        else:
            outputs = {"prediction": stages.predictions[0]}
        plain = maps.kind == "conv"  # a compound block's maps have no one filter
        display = cls(
            stages.images[0].transpose(1, 2, 0),  # (H, W, C)
            groups["filters"][first] if plain else None,
            maps.activated[0],
            None if pool is None else maps.pooled[0],
            **outputs,
            intercepts=groups["filter_intercepts"][first] if plain else None,
            map_label=f"{'feature map' if plain else maps.kind + ' output'}\n"
            f"({spec.activation})",
            pooled_label=f"{spec.pooling}-pooled\n{pool[0]}x{pool[1]}" if pool else "",
        )
        return display.plot(
            ax=ax,
            cmap=cmap,
            image_cmap=image_cmap,
            channel=channel,
            include_values=include_values,
            values_format=values_format,
            colorbar=colorbar,
        )
