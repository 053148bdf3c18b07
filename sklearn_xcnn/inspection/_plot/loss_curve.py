"""LossCurveDisplay: training (and validation) curves of a fit."""

import numpy as np

from .._estimator import resolve_network
from ._base import _require_matplotlib


class LossCurveDisplay:
    """The training loss after each epoch, with the validation curves if any.

    The losses share the left axis; the validation score (with early
    stopping: accuracy for a classifier, R^2 for a regressor) gets its own
    axis on the right, and a dotted vertical line marks
    the epoch whose weights early stopping kept. The legend sits above the
    axes; give a title some room, e.g. ``display.ax_.set_title(..., pad=30)``.
    Use :meth:`from_estimator` to build it from a fitted estimator.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss after each epoch (``loss_curve_``).

    validation_loss_curve : array-like of shape (n_epochs,), default=None
        Loss on the validation split after each epoch.

    validation_scores : array-like of shape (n_epochs,), default=None
        Score on the validation split after each epoch.

    x_label : str, default="epoch"
        Label of the horizontal axis (``"iteration"`` for L-BFGS).

    loss_label : str, default="log loss"
        Name of the loss, the label of the left axis (``"squared error / 2"``
        for a regressor).

    score_label : str, default="accuracy"
        Name of the validation score, in the right axis label and the legend
        (``"R^2"`` for a regressor).

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes of the losses.

    score_ax_ : matplotlib Axes or None
        Twin axes of the validation score.

    figure_ : matplotlib Figure
        Figure holding the axes.

    lines_ : dict of str to matplotlib Line2D
        The curves, under ``"loss"``, ``"validation_loss"`` and
        ``"validation_score"`` (those drawn).

    best_epoch_ : int or None
        The epoch (counted from 1) with the best validation score.

    See Also
    --------
    sklearn_xcnn.CNNClassifier : Its ``loss_curve_``,
        ``validation_loss_curve_`` and ``validation_scores_``.
    sklearn_xcnn.CNNRegressor : The same curves for a regressor.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn_xcnn import CNNClassifier
    >>> from sklearn_xcnn.datasets import make_x_or_not_x
    >>> from sklearn_xcnn.inspection import LossCurveDisplay
    >>> X, y = make_x_or_not_x(n_samples=100, random_state=0)
    >>> clf = CNNClassifier(n_filters=2, hidden_units=4, early_stopping=True,
    ...                     validation_fraction=0.2, learning_rate_init=0.01,
    ...                     n_iter_no_change=3, random_state=0).fit(X, y)
    >>> display = LossCurveDisplay.from_estimator(clf)
    >>> sorted(display.lines_)
    ['loss', 'validation_loss', 'validation_score']
    >>> display.ax_.get_ylabel(), display.score_ax_.get_ylabel()
    ('log loss', 'validation accuracy')
    >>> plt.close("all")
    """

    def __init__(
        self,
        loss_curve,
        *,
        validation_loss_curve=None,
        validation_scores=None,
        x_label="epoch",
        loss_label="log loss",
        score_label="accuracy",
    ):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.validation_scores = validation_scores
        self.x_label = x_label
        self.loss_label = loss_label
        self.score_label = score_label

    def plot(self, *, ax=None, log_scale=False):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` opens a new figure.

        log_scale : bool, default=False
            Whether the loss axis is logarithmic.

        Returns
        -------
        display : LossCurveDisplay
            The display, with the attributes listed in the class docstring.
        """
        plt = _require_matplotlib("LossCurveDisplay.plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
        self.ax_, self.figure_, self.lines_ = ax, ax.figure, {}
        self._plot_curve(ax, "loss", self.loss_curve, "training loss", "C0")
        if self.validation_loss_curve is not None:
            self._plot_curve(
                ax,
                "validation_loss",
                self.validation_loss_curve,
                "validation loss",
                "C1",
            )
        ax.set_xlabel(self.x_label)
        ax.set_ylabel(self.loss_label)
        if log_scale:
            ax.set_yscale("log")
        self.score_ax_, self.best_epoch_ = None, None
        if self.validation_scores is not None:
            self._plot_scores(ax)
        handles = list(self.lines_.values())
        ax.legend(
            handles,
            [h.get_label() for h in handles],
            loc="lower left",
            bbox_to_anchor=(0.0, 1.01),
            ncols=2,
            fontsize="small",
            frameon=False,
            borderaxespad=0.0,
        )
        return self

    def _plot_curve(self, ax, key, values, label, color):
        values = np.asarray(values, dtype=float)
        epochs = np.arange(1, values.size + 1)
        (self.lines_[key],) = ax.plot(epochs, values, color=color, label=label)

    def _plot_scores(self, ax):
        scores = np.asarray(self.validation_scores, dtype=float)
        self.score_ax_ = ax.twinx()
        label = f"validation {self.score_label}"
        self._plot_curve(self.score_ax_, "validation_score", scores, label, "C2")
        self.score_ax_.set_ylabel(label)
        self.best_epoch_ = int(np.argmax(scores)) + 1
        ax.axvline(self.best_epoch_, color="0.5", linestyle=":", linewidth=1)

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, log_scale=False):
        """Plot the curves recorded by a fitted estimator.

        Parameters
        ----------
        estimator : estimator
            A fitted CNNClassifier or CNNRegressor, or a fitted pipeline,
            search or TransformedTargetRegressor around one (see
            :ref:`inspecting_pipelines`; a regressor's losses are then those
            of the transformed target). The axes are labelled with the names
            of the network's loss and validation score.

        ax : matplotlib Axes, default=None
            See :meth:`plot`.

        log_scale : bool, default=False
            See :meth:`plot`.

        Returns
        -------
        display : LossCurveDisplay
            The drawn display.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator has not been fitted.
        TypeError
            If it is neither one of our estimators nor wraps one.
        """
        caller = "LossCurveDisplay.from_estimator"
        _require_matplotlib(caller)
        estimator, _ = resolve_network(estimator, caller=caller)
        x_label = "iteration" if estimator.solver == "lbfgs" else "epoch"
        display = cls(
            estimator.loss_curve_,
            validation_loss_curve=getattr(estimator, "validation_loss_curve_", None),
            validation_scores=getattr(estimator, "validation_scores_", None),
            x_label=x_label,
            loss_label=estimator._loss_label,
            score_label=estimator._score_label,
        )
        return display.plot(ax=ax, log_scale=log_scale)
