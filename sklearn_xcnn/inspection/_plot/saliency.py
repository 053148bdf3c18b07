"""SaliencyDisplay: images beside what the network looked at."""

import numpy as np
from sklearn.base import is_classifier

from .._saliency import (
    _check_options,
    _maps,
    _prepare,
    _target_labels,
    deletion_curve,
)
from ._base import _bare, _panel_axes, _require_matplotlib, _symmetric_limit
from .feature_maps import _image_to_show, _merge_column


def _as_images(images):
    """Images ``(n, H, W)`` or ``(n, H, W, C)`` as ``(n, H, W, C)`` floats."""
    images = np.asarray(images, dtype=float)
    return images[..., None] if images.ndim == 3 else images


class SaliencyDisplay:
    """Images beside their saliency maps, and how faithful the maps are.

    Each row shows an image and its map, summed over the channels; an image
    one pixel high (a series) is drawn as a curve over a coloured band of its
    saliency instead. Signed maps (gradients, integrated gradients) use a
    diverging colormap centred at zero, maps that are never negative
    (Grad-CAM) a sequential one from zero; each row has its own scale. With
    a ``deletion`` curve (see :func:`deletion_curve`), a last column draws
    the mean target score as the most salient pixels are deleted, against a
    random order, with both areas in the legend. Use :meth:`from_estimator`
    to compute everything from a fitted estimator.

    Parameters
    ----------
    images : ndarray of shape (n_images, height, width) or (n_images, \
height, width, channels)
        The images.

    maps : ndarray of the shape of ``images``
        Their saliency maps (see :func:`saliency_maps`).

    method : str, default=None
        The method's name, for the titles.

    targets : array-like of shape (n_images,), default=None
        Each image's target class (or output index), for the titles.

    scores : array-like of shape (n_images,), default=None
        Each image's target probability (or output), for the titles.

    deletion : Bunch, default=None
        A result of :func:`deletion_curve`, drawn in a last column.

    Attributes
    ----------
    ax_ : ndarray of matplotlib Axes of shape (n_images, n_panels)
        Per row, the image and its map (``n_panels`` is 2), or the series
        with its band (``n_panels`` is 1).

    figure_ : matplotlib Figure
        Figure holding the panels.

    images_ : ndarray of matplotlib AxesImage of shape (n_images, n_panels)
        The drawn images and maps (the bands of series, with their curves in
        ``lines_``).

    lines_ : list of list of matplotlib Line2D
        Per row, the curves of a series (empty lists for images).

    colorbars_ : list of matplotlib Colorbar
        One per map (empty without colour bars).

    deletion_ax_ : matplotlib Axes or None
        The panel of the deletion curves.

    deletion_lines_ : list of matplotlib Line2D
        The mean curve of the salient order, then of the random order.

    See Also
    --------
    saliency_maps : The maps as arrays.
    deletion_curve : The faithfulness curve as arrays.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn_xcnn import CNNClassifier
    >>> from sklearn_xcnn.datasets import make_x_or_not_x
    >>> from sklearn_xcnn.inspection import SaliencyDisplay
    >>> X, y = make_x_or_not_x(n_samples=200, random_state=0)
    >>> clf = CNNClassifier(n_filters=4, hidden_units=3, solver="lbfgs",
    ...                     random_state=1).fit(X, y)
    >>> display = SaliencyDisplay.from_estimator(
    ...     clf, X[y == 1][:3], method="integrated_gradients", deletion=True,
    ...     random_state=0)
    >>> display.ax_.shape  # 3 images x (image, map)
    (3, 2)
    >>> display.deletion_lines_[0].get_xydata().shape  # 0 to 25 pixels
    (26, 2)
    >>> plt.close("all")
    """

    def __init__(
        self, images, maps, *, method=None, targets=None, scores=None, deletion=None
    ):
        self.images = images
        self.maps = maps
        self.method = method
        self.targets = targets
        self.scores = scores
        self.deletion = deletion

    def plot(self, *, ax=None, cmap=None, image_cmap="gray_r", colorbar=True):
        """Draw the images, their maps and the deletion curves.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw. ``None`` opens a new figure; a single Axes has its
            area divided into one row per image of ``n_panels`` panels (2
            for images, 1 for series), plus a column spanning the rows for
            the deletion curves; an array-like must hold exactly that many
            Axes, in that layout.

        cmap : str or matplotlib Colormap, default=None
            Colormap of the maps; ``None`` takes ``"RdBu_r"`` for signed maps
            and ``"inferno"`` for maps that are never negative.

        image_cmap : str or matplotlib Colormap, default="gray_r"
            Colormap of single-channel images (``"gray_r"`` draws 1 black).

        colorbar : bool, default=True
            Whether to add a colour scale beside each map.

        Returns
        -------
        display : SaliencyDisplay
            The display, with the attributes listed in the class docstring.
        """
        _require_matplotlib("SaliencyDisplay.plot")
        images, maps = _as_images(self.images), _as_images(self.maps)
        if maps.shape != images.shape:
            raise ValueError(
                f"maps must have the shape of the images, {images.shape}; got "
                f"{maps.shape}."
            )
        series = images.shape[1] == 1
        n_panels = 1 if series else 2
        extra = self.deletion is not None
        axes, self.figure_ = _panel_axes(
            ax,
            len(images),
            n_panels + extra,
            panel_size=2.0,
            caller="SaliencyDisplay.plot",
        )
        self.deletion_ax_ = _merge_column(axes, n_panels) if extra else None
        self.ax_ = axes[:, :n_panels]
        signed = bool((maps < 0).any())
        cmap = cmap or ("RdBu_r" if signed else "inferno")
        self.images_ = np.empty(self.ax_.shape, dtype=object)
        self.lines_, self.colorbars_ = [], []
        for i, (image, values) in enumerate(zip(images, maps.sum(axis=3))):
            limit = _symmetric_limit(values)
            scale = {"cmap": cmap, "vmin": -limit if signed else 0, "vmax": limit}
            if series:
                self._draw_series(i, image, values[0], scale)
            else:
                self._draw_image(i, image, values, scale, image_cmap)
            if colorbar:
                self.colorbars_.append(
                    self.figure_.colorbar(self.images_[i, -1], ax=self.ax_[i, -1])
                )
        self.deletion_lines_ = self._draw_deletion() if extra else []
        return self

    def _row_title(self, i):
        parts = []
        if self.targets is not None:
            parts.append(f"target {np.asarray(self.targets)[i]}")
        if self.scores is not None:
            parts.append(f"score {float(np.asarray(self.scores)[i]):.3g}")
        return ", ".join(parts) or "input"

    def _draw_image(self, i, image, values, scale, image_cmap):
        left, right = self.ax_[i]
        self.images_[i, 0] = left.imshow(_image_to_show(image, 0), cmap=image_cmap)
        self.images_[i, 1] = right.imshow(values, **scale)
        left.set_title(self._row_title(i), fontsize=9)
        right.set_title(self.method or "saliency", fontsize=9)
        _bare(left)
        _bare(right)
        self.lines_.append([])

    def _draw_series(self, i, image, values, scale):
        panel = self.ax_[i, 0]
        curves = image[0]  # (L, C)
        low, high = float(curves.min()), float(curves.max())
        pad = 0.05 * (high - low) or 0.5
        extent = (-0.5, len(values) - 0.5, low - pad, high + pad)
        self.images_[i, 0] = panel.imshow(
            values[None], aspect="auto", extent=extent, alpha=0.7, **scale
        )
        self.lines_.append(panel.plot(curves, color="black", linewidth=1))
        title = self._row_title(i)
        panel.set_title(
            f"{title} ({self.method})" if self.method else title, fontsize=9
        )

    def _draw_deletion(self):
        curve, panel = self.deletion, self.deletion_ax_
        name = curve.get("method") or self.method or "saliency"
        lines = panel.plot(
            curve.fractions,
            curve.scores.mean(axis=0),
            label=f"{name} ({curve.area:.3f})",
        )
        lines += panel.plot(
            curve.fractions,
            curve.random_scores.mean(axis=0),
            linestyle="--",
            color="gray",
            label=f"random ({curve.random_area:.3f})",
        )
        panel.set_xlabel("fraction of pixels deleted")
        panel.set_ylabel("mean target score")
        panel.set_title("deletion curve (area)", fontsize=9)
        panel.legend(fontsize=7)
        return lines

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        method="gradient",
        target=None,
        baseline=0.0,
        n_steps=50,
        deletion=False,
        random_state=None,
        ax=None,
        cmap=None,
        image_cmap="gray_r",
        colorbar=True,
    ):
        """Compute the saliency maps of some images and draw them.

        Parameters
        ----------
        estimator : CNNClassifier or CNNRegressor
            A fitted estimator.

        X : array-like of shape (n_samples, n_features), (n_samples, \
height, width) or (n_samples, height, width, channels)
            The images, given as to the estimator's ``predict``.

        method : {"gradient", "integrated_gradients", "grad_cam"}, \
default="gradient"
            See :func:`saliency_maps`.

        target : class label, int or None, default=None
            See :func:`saliency_maps`.

        baseline : float or array-like, default=0.0
            See :func:`saliency_maps` and :func:`deletion_curve`.

        n_steps : int, default=50
            See :func:`saliency_maps`.

        deletion : bool, default=False
            Whether to add the deletion curves of these images (see
            :func:`deletion_curve`); for a curve over more images than are
            drawn, compute it and pass it to the constructor.

        random_state : int, RandomState instance or None, default=None
            The random order of the deletion curve.

        ax : matplotlib Axes or array-like of Axes, default=None
            See :meth:`plot`.

        cmap : str or matplotlib Colormap, default=None
            See :meth:`plot`.

        image_cmap : str or matplotlib Colormap, default="gray_r"
            See :meth:`plot`.

        colorbar : bool, default=True
            See :meth:`plot`.

        Returns
        -------
        display : SaliencyDisplay
            The drawn display.
        """
        _require_matplotlib("SaliencyDisplay.from_estimator")
        _check_options(method, n_steps)
        setup = _prepare(
            estimator, X, target, "SaliencyDisplay.from_estimator", baseline
        )
        maps = _maps(setup, method, n_steps)
        curve = None
        if deletion:
            curve = deletion_curve(
                estimator,
                X,
                target=target,
                maps=maps,
                baseline=baseline,
                random_state=random_state,
            )
            curve.method = method
        labels = _target_labels(setup)
        if not is_classifier(setup.estimator):
            labels = [f"output {k}" for k in labels]
        display = cls(
            setup.images,
            maps,
            method=method,
            targets=labels,
            scores=setup.scores,
            deletion=curve,
        )
        return display.plot(ax=ax, cmap=cmap, image_cmap=image_cmap, colorbar=colorbar)
