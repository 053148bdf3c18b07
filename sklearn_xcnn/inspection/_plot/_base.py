"""Helpers shared by the Display classes: lazy matplotlib, panels, colours."""

import numpy as np


def _require_matplotlib(caller):
    """Import matplotlib's pyplot, or explain how to install it.

    Parameters
    ----------
    caller : str
        Name of the function or method that needs matplotlib, for the message.

    Returns
    -------
    plt : module
        ``matplotlib.pyplot``.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib, which is not installed; install it "
            "with `pip install sklearn-xcnn[plot]` (or `pip install matplotlib`)."
        ) from exc
    return plt


def _panel_axes(ax, n_rows, n_cols, *, panel_size=1.6, caller="plot"):
    """A grid of ``n_rows x n_cols`` axes to draw panels on.

    Parameters
    ----------
    ax : None, Axes or array-like of Axes
        ``None`` opens a new figure; a single Axes has its area divided into
        the grid (the Axes itself is hidden); an array-like must hold exactly
        ``n_rows * n_cols`` Axes, used in row-major order.
    n_rows, n_cols : int
    panel_size : float, default=1.6
        Inches per panel of a new figure.
    caller : str
        For the error messages.

    Returns
    -------
    axes : ndarray of Axes of shape (n_rows, n_cols)
    figure : Figure
    """
    plt = _require_matplotlib(caller)
    from matplotlib.axes import Axes

    if ax is None:
        size = (panel_size * n_cols + 1.2, panel_size * n_rows + 0.6)
        figure, axes = plt.subplots(
            n_rows, n_cols, figsize=size, squeeze=False, layout="constrained"
        )
        return axes, figure
    if isinstance(ax, Axes):
        if n_rows * n_cols == 1:
            return np.array([[ax]], dtype=object), ax.figure
        spec = ax.get_subplotspec()
        if spec is None:
            raise ValueError(
                f"{caller} can divide only an Axes made by a subplot layout "
                "(plt.subplots, Figure.add_subplot); pass an array of Axes instead."
            )
        grid = spec.subgridspec(n_rows, n_cols)
        figure = ax.figure
        ax.set_axis_off()
        axes = np.array(
            [
                [figure.add_subplot(grid[i, j]) for j in range(n_cols)]
                for i in range(n_rows)
            ],
            dtype=object,
        )
        return axes, figure
    axes = np.asarray(ax, dtype=object)
    if axes.size != n_rows * n_cols:
        raise ValueError(
            f"{caller} draws {n_rows * n_cols} panels ({n_rows} x {n_cols}) but ax "
            f"holds {axes.size} Axes; pass None, one Axes or exactly that many."
        )
    axes = axes.reshape(n_rows, n_cols)
    return axes, axes.flat[0].figure


def _symmetric_limit(*arrays):
    """The largest absolute value in ``arrays``, or 1 when they are all zero.

    Used as ``vmin=-limit, vmax=limit`` so that zero sits in the middle of a
    diverging colormap.
    """
    limit = max(float(np.max(np.abs(a))) if np.size(a) else 0.0 for a in arrays)
    return limit if limit > 0 else 1.0


def _bare(ax):
    """Remove ticks and tick labels from a panel showing an image."""
    ax.set_xticks([])
    ax.set_yticks([])


def _annotate_cells(ax, values, limit, fmt):
    """Write each value of a 2-D ``values`` in its cell of an ``imshow``.

    Text is white on the dark ends of a diverging map and black elsewhere, and
    at most 8 points, smaller when the cells are too narrow for it.

    Returns
    -------
    texts : ndarray of Text of shape values.shape
    """
    labels = [[_format_value(v, fmt) for v in row] for row in values]
    widest = max(len(label) for row in labels for label in row)
    # cell width in points, from the panel's current (pre-layout) position
    cell = ax.get_position().width * ax.figure.get_figwidth() * 72 / values.shape[1]
    fontsize = max(4.0, min(8.0, cell / (0.65 * widest)))
    texts = np.empty(values.shape, dtype=object)
    for (i, j), v in np.ndenumerate(values):
        color = "white" if abs(v) > 0.6 * limit else "black"
        texts[i, j] = ax.text(
            j, i, labels[i][j], ha="center", va="center", color=color, fontsize=fontsize
        )
    return texts


def _format_value(value, fmt):
    """``format(value, fmt)``, without the sign of a value that rounds to zero."""
    text = format(value, fmt)
    try:
        is_zero = float(text.rstrip("%")) == 0
    except ValueError:  # a format with text around the number
        return text
    return text.lstrip("-") if is_zero else text


def _show_values(include_values, shape):
    """Resolve ``include_values="auto"``: write values on maps of up to 16 cells."""
    if include_values == "auto":
        return shape[0] * shape[1] <= 16
    return bool(include_values)


def _block_convolution(spec, block, convolution, caller):
    """Index in ``filters_`` of convolution ``convolution`` of block ``block``
    (both may count from the end), after checking both are in range.

    A plain block holds one convolution; a residual unit or an inception
    block several, in the order of ``filters_`` (see :ref:`block_kinds`).
    """
    n_blocks = len(spec.blocks)
    if not -n_blocks <= block < n_blocks:
        raise ValueError(
            f"block={block} is out of range: the estimator has {n_blocks} "
            "convolutional block(s)."
        )
    block = block % n_blocks
    first = sum(len(b.conv_units) for b in spec.blocks[:block])
    n_units = len(spec.blocks[block].conv_units)
    if not -n_units <= convolution < n_units:
        raise ValueError(
            f"{caller}: convolution={convolution} is out of range: block {block} "
            f"({spec.blocks[block].kind!r}) holds {n_units} convolution(s)."
        )
    return first + convolution % n_units
