"""FilterDisplay: the learned filters of one block as signed heatmaps."""

import numpy as np

from ..._core._network import split_params
from .._estimator import resolve_network
from ._base import (
    _annotate_cells,
    _bare,
    _block_convolution,
    _panel_axes,
    _require_matplotlib,
    _show_values,
    _symmetric_limit,
)


def _as_filter_bank(filters):
    """``filters`` as ``(F, C, kr, kc)``; a 3-D bank gets one channel."""
    filters = np.asarray(filters, dtype=float)
    if filters.ndim == 3:
        filters = filters[:, None]  # (F, 1, kr, kc)
    if filters.ndim != 4:
        raise ValueError(
            "filters must have shape (n_filters, in_channels, k_rows, k_cols) or "
            f"(n_filters, k_rows, k_cols); got shape {filters.shape}."
        )
    return filters


class FilterDisplay:
    """Learned filters as heatmaps, one panel per filter and input channel.

    Weights are signed, so they are drawn with a diverging colormap whose
    middle (zero) is white: positive weights reward bright input pixels under
    them, negative weights penalise them. All panels share one colour scale,
    symmetric about zero. Use :meth:`from_estimator` to build it from a fitted
    estimator.

    Parameters
    ----------
    filters : ndarray of shape (n_filters, in_channels, k_rows, k_cols) or \
(n_filters, k_rows, k_cols)
        The filters, as in ``CNNClassifier.filters_[i]`` (or
        ``CNNRegressor.filters_[i]``): one entry per convolution.

    intercepts : ndarray of shape (n_filters,), default=None
        The filters' intercepts (biases), shown under the panels.

    Attributes
    ----------
    ax_ : ndarray of matplotlib Axes of shape (in_channels, n_filters)
        Row ``c`` shows input channel ``c`` of every filter.

    figure_ : matplotlib Figure
        Figure holding the panels.

    images_ : ndarray of matplotlib AxesImage of shape (in_channels, n_filters)
        The heatmaps.

    texts_ : ndarray of shape (in_channels, n_filters) or None
        For each panel, an array of the Text artists writing the weights in
        their cells, or None when values are not shown.

    colorbar_ : matplotlib Colorbar or None
        The shared colour scale.

    vmax_ : float
        Colour limit: the scale runs from ``-vmax_`` to ``vmax_``.

    See Also
    --------
    FeatureMapDisplay : One image through the filters of a network.
    feature_maps : Every intermediate array of a network.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn_xcnn import CNNClassifier
    >>> from sklearn_xcnn.datasets import make_x_or_not_x
    >>> from sklearn_xcnn.inspection import FilterDisplay
    >>> X, y = make_x_or_not_x(n_samples=60, random_state=0)
    >>> clf = CNNClassifier(n_filters=4, hidden_units=3, solver="lbfgs",
    ...                     random_state=1).fit(X, y)
    >>> display = FilterDisplay.from_estimator(clf)
    >>> display.ax_.shape
    (1, 4)
    >>> bool(display.images_[0, 0].get_clim()[0] == -display.vmax_)
    True
    >>> plt.close("all")
    """

    def __init__(self, filters, *, intercepts=None):
        self.filters = filters
        self.intercepts = intercepts

    def plot(
        self,
        *,
        ax=None,
        cmap="RdBu_r",
        include_values="auto",
        values_format=".2f",
        colorbar=True,
    ):
        """Draw the filters.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw. ``None`` opens a new figure; a single Axes has its
            area divided into ``in_channels x n_filters`` panels; an
            array-like must hold exactly that many Axes.

        cmap : str or matplotlib Colormap, default="RdBu_r"
            A diverging colormap (its middle colour marks zero).

        include_values : bool or "auto", default="auto"
            Whether to write the weights in the cells; ``"auto"`` writes them
            for kernels of at most 16 cells (4x4).

        values_format : str, default=".2f"
            Format specification of the written weights.

        colorbar : bool, default=True
            Whether to add the shared colour scale.

        Returns
        -------
        display : FilterDisplay
            The display, with the attributes listed in the class docstring.
        """
        _require_matplotlib("FilterDisplay.plot")
        filters = _as_filter_bank(self.filters)  # (F, C, kr, kc)
        n_filters, n_channels = filters.shape[:2]
        axes, figure = _panel_axes(
            ax, n_channels, n_filters, caller="FilterDisplay.plot"
        )
        limit = _symmetric_limit(filters)
        show = _show_values(include_values, filters.shape[2:])
        images = np.empty(axes.shape, dtype=object)
        texts = np.empty(axes.shape, dtype=object) if show else None
        for (c, f), panel in np.ndenumerate(axes):
            images[c, f] = panel.imshow(
                filters[f, c], cmap=cmap, vmin=-limit, vmax=limit
            )
            _bare(panel)
            if show:
                texts[c, f] = _annotate_cells(
                    panel, filters[f, c], limit, values_format
                )
            self._label(panel, c, f, n_channels)
        self.ax_, self.figure_, self.images_, self.texts_ = axes, figure, images, texts
        self.vmax_ = limit
        self.colorbar_ = None
        if colorbar:
            self.colorbar_ = figure.colorbar(
                images[0, 0], ax=list(axes.ravel()), shrink=0.8, label="weight"
            )
        return self

    def _label(self, panel, c, f, n_channels):
        """Title, channel label and intercept of the panel ``(c, f)``."""
        if c == 0:
            panel.set_title(f"filter {f}", fontsize=10)
        if f == 0 and n_channels > 1:
            panel.set_ylabel(f"channel {c}")
        if self.intercepts is not None and c == n_channels - 1:
            bias = float(np.asarray(self.intercepts)[f])
            panel.set_xlabel(f"bias {bias:.2f}", fontsize=9)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        block=0,
        convolution=0,
        ax=None,
        cmap="RdBu_r",
        include_values="auto",
        values_format=".2f",
        colorbar=True,
    ):
        """Plot the filters of one block of a fitted estimator.

        Parameters
        ----------
        estimator : estimator
            A fitted CNNClassifier or CNNRegressor, or a fitted pipeline,
            search or TransformedTargetRegressor around one (see
            :ref:`inspecting_pipelines`): its network's filters are drawn.

        block : int, default=0
            Which block; negative values count from the last.

        convolution : int, default=0
            Which convolution of the block, for a residual unit or an
            inception block, which hold several: in the order of
            ``filters_`` (see :ref:`block_kinds`), so 0 is the first
            convolution on the block's input (an inception module's
            bottleneck when it has one) and -1 the shortcut's 1x1
            convolution. A plain block holds one.

        ax : matplotlib Axes or array-like of Axes, default=None
            See :meth:`plot`.

        cmap : str or matplotlib Colormap, default="RdBu_r"
            See :meth:`plot`.

        include_values : bool or "auto", default="auto"
            See :meth:`plot`.

        values_format : str, default=".2f"
            See :meth:`plot`.

        colorbar : bool, default=True
            See :meth:`plot`.

        Returns
        -------
        display : FilterDisplay
            The drawn display.

        Raises
        ------
        ValueError
            If ``block`` or ``convolution`` is out of range.
        TypeError
            If ``estimator`` holds no convolutional network (nor wraps one).
        sklearn.exceptions.NotFittedError
            If ``estimator`` is not fitted.
        """
        caller = "FilterDisplay.from_estimator"
        _require_matplotlib(caller)
        estimator, _ = resolve_network(estimator, caller=caller)
        spec, params, _ = estimator._fitted_network()
        index = _block_convolution(spec, block, convolution, caller)
        groups = split_params(params, spec)
        display = cls(
            groups["filters"][index], intercepts=groups["filter_intercepts"][index]
        )
        return display.plot(
            ax=ax,
            cmap=cmap,
            include_values=include_values,
            values_format=values_format,
            colorbar=colorbar,
        )
