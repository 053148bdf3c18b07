"""The fit loop's state between epochs and calls: one owner of the history."""

import numpy as np


class TrainingState:
    """What a fit carries between epochs and between calls.

    Created once by the estimator's first fit (or by a fit that starts
    afresh), kept as its ``_training`` and handed to the fit loops, which are
    the only writers. :meth:`fitted_attributes` is what the estimator
    publishes.

    Parameters
    ----------
    random_state : numpy.random.RandomState
        Draws the shuffles and the validation split (and, before, the initial
        weights).

    Attributes
    ----------
    optimizer : BaseOptimizer or None
        The stochastic optimizer, kept for ``partial_fit`` and ``warm_start``.
    loss_curve : list of float
        Training loss after each epoch, over every call.
    learning_rates : list of float
        The stochastic solvers' base learning rate during each epoch (NaN
        for an L-BFGS iteration), as long as ``loss_curve``.
    validation_scores, validation_loss_curve : list of float or None
        Held-out score and loss after each epoch, with early stopping.
    best_loss, best_validation_score : float or None
    loss : float or None
        Loss of the last epoch.
    n_iter : int
        Epochs of the last ``fit`` (a ``partial_fit`` adds one).
    t : int
        Training samples seen by the stochastic solvers, over every call.
    no_improvement_count : int
        Consecutive epochs without an improvement of ``tol``.
    best_params : tuple or None
        ``(flat parameters, batch-norm stats)`` of the best validation score,
        while early stopping runs, or of the lowest training loss of the
        call, while ``keep_best`` runs.
    keep_best : bool
        Whether this call keeps the weights of its lowest training loss.
    call_best_loss : float
        Lowest training loss of this call, while ``keep_best`` runs.
    """

    def __init__(self, random_state):
        self.random_state = random_state
        self.optimizer = None
        self.loss_curve = []
        self.learning_rates = []
        self.validation_scores = None
        self.validation_loss_curve = None
        self.best_validation_score = None
        self.best_loss = np.inf
        self.loss = None
        self.n_iter = 0
        self.t = 0
        self.no_improvement_count = 0
        self.best_params = None
        self.keep_best = False
        self.call_best_loss = np.inf

    def start_call(self, early_stopping, incremental, keep_best=False):
        """Make the records match a new call (an earlier call may have differed).

        A ``fit`` counts its own epochs in ``n_iter`` and gets a fresh patience;
        ``partial_fit`` calls go on counting. ``keep_best`` (the weights of
        the lowest training loss) applies to a ``fit`` without early stopping.
        """
        self.keep_best = keep_best and not (early_stopping or incremental)
        self.call_best_loss = np.inf
        if not incremental:
            self.n_iter = 0
            self.no_improvement_count = 0
        if early_stopping and self.validation_scores is None:
            self.validation_scores, self.validation_loss_curve = [], []
            self.best_validation_score = -np.inf
        if early_stopping:
            self.best_loss = None
        elif self.best_loss is None:
            self.best_loss = np.inf

    def record_epoch(self, loss, validation, tol, snapshot, learning_rate):
        """Record one epoch: its loss, the ``learning_rate`` it ran at and,
        with early stopping, the ``(score, loss)`` of the held-out rows; track
        the best (``snapshot()`` returns what to keep of a new best) and the
        patience counter as scikit-learn's MLP does."""
        self.n_iter += 1
        self.loss_curve.append(loss)
        self.learning_rates.append(float(learning_rate))
        self.loss = loss
        if validation is not None:
            score, val_loss = validation
            self.validation_scores.append(score)
            self.validation_loss_curve.append(val_loss)
            improved = score >= self.best_validation_score + tol
            if score > self.best_validation_score:
                self.best_validation_score = score
                self.best_params = snapshot()
        else:
            improved = loss <= self.best_loss - tol
            self.best_loss = min(self.best_loss, loss)
            if self.keep_best and loss < self.call_best_loss:
                self.call_best_loss = loss
                self.best_params = snapshot()
        self.no_improvement_count = 0 if improved else self.no_improvement_count + 1

    def fitted_attributes(self):
        """The estimator's fitted attributes, by name."""
        return {
            "n_iter_": self.n_iter,
            "t_": self.t,
            "loss_": self.loss,
            "best_loss_": self.best_loss,
            "loss_curve_": list(self.loss_curve),
            "learning_rate_curve_": list(self.learning_rates),
            "validation_scores_": _copy_or_none(self.validation_scores),
            "validation_loss_curve_": _copy_or_none(self.validation_loss_curve),
            "best_validation_score_": self.best_validation_score,
        }


def _copy_or_none(values):
    return None if values is None else list(values)
