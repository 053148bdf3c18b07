"""Learning-rate schedules of the stochastic solvers.

A schedule holds the *base rate*: the step size of ``"sgd"``, and the rate
``"adam"`` scales by its bias correction. The fit loop tells it when a
``fit`` call starts (:meth:`Schedule.start_fit`), when an epoch ends
(:meth:`Schedule.epoch_ends`, with the epoch's training loss) and when
training stalled (:meth:`Schedule.stalled`, which says whether to stop).
Plain classes (not estimators), kept inside the optimizer, so that
``partial_fit`` and ``warm_start`` continue with the same rate.

:data:`SCHEDULES` maps the estimator's ``learning_rate`` to its class; each
class names in ``hyperparameters`` the estimator parameters its constructor
takes after the initial rate.
"""

import math

# "adaptive" stops once a stall would take the rate to this or below (MLP's)
ADAPTIVE_MIN_RATE = 1e-6
# "adaptive" divides the rate by this on each stall (MLP's)
ADAPTIVE_DIVISOR = 5.0


class Schedule:
    """The constant schedule, and what every schedule shares.

    Parameters
    ----------
    learning_rate_init : float
        The first rate.

    Attributes
    ----------
    rate : float
        The base rate of the next epoch.
    """

    hyperparameters = ()

    def __init__(self, learning_rate_init):
        self.learning_rate_init = learning_rate_init
        self.rate = float(learning_rate_init)

    @classmethod
    def settings_of(cls, estimator):
        """The hyperparameters ``estimator`` asks of this schedule."""
        return {name: getattr(estimator, name) for name in cls.hyperparameters}

    @property
    def settings(self):
        """The hyperparameters, to tell whether a later fit may continue."""
        return {name: getattr(self, name) for name in self.hyperparameters}

    def start_fit(self, max_iter, incremental):
        """Called when a ``fit`` (or, ``incremental``, a ``partial_fit``) call
        starts, which may run up to ``max_iter`` epochs."""

    def epoch_ends(self, time_step, loss):
        """Called after each epoch: ``time_step`` samples seen so far, ``loss``
        the epoch's training loss."""

    def stalled(self):
        """Whether to stop now that training stopped improving."""
        return True

    def ran_its_course(self):
        """Whether the ``fit`` call's epochs brought the rate to its planned
        end, so that reaching ``max_iter`` is where the schedule stops, not
        a fit cut short (no ``ConvergenceWarning``)."""
        return False


class InvScaling(Schedule):
    """``learning_rate_init / (t + 1)**power_t`` after ``t`` samples."""

    hyperparameters = ("power_t",)

    def __init__(self, learning_rate_init, power_t=0.5):
        super().__init__(learning_rate_init)
        self.power_t = power_t

    def epoch_ends(self, time_step, loss):
        self.rate = self.learning_rate_init / (time_step + 1) ** self.power_t


class Adaptive(Schedule):
    """Divide the rate by 5 on each stall instead of stopping, until it is at
    most ``1e-6``."""

    def stalled(self):
        if self.rate <= ADAPTIVE_MIN_RATE:
            return True
        self.rate /= ADAPTIVE_DIVISOR
        return False


class Plateau(Schedule):
    """Reduce on plateau: multiply the rate by ``plateau_factor`` once the
    training loss has not improved on its best by ``tol`` for
    ``plateau_patience`` consecutive epochs, never going below
    ``min_learning_rate``.

    Attributes
    ----------
    best_loss : float
        Lowest training loss seen.
    wait : int
        Consecutive epochs without an improvement, since the best loss or the
        last reduction.

    Examples
    --------
    >>> from sklearn_xcnn._schedules import Plateau
    >>> schedule = Plateau(0.1, plateau_patience=2, min_learning_rate=0.02)
    >>> for loss in [1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.94]:
    ...     schedule.epoch_ends(None, loss)
    ...     print(round(schedule.rate, 3), end=" ")
    0.1 0.1 0.1 0.05 0.05 0.025 0.025
    """

    hyperparameters = ("plateau_factor", "plateau_patience", "min_learning_rate", "tol")

    def __init__(
        self,
        learning_rate_init,
        plateau_factor=0.5,
        plateau_patience=10,
        min_learning_rate=0.0,
        tol=1e-4,
    ):
        super().__init__(learning_rate_init)
        self.plateau_factor = plateau_factor
        self.plateau_patience = plateau_patience
        self.min_learning_rate = min_learning_rate
        self.tol = tol
        self.best_loss = math.inf
        self.wait = 0

    def epoch_ends(self, time_step, loss):
        if loss < self.best_loss - self.tol:
            self.best_loss, self.wait = loss, 0
            return
        self.best_loss = min(self.best_loss, loss)
        self.wait += 1
        if self.wait >= self.plateau_patience:
            self.wait = 0
            reduced = self.rate * self.plateau_factor
            self.rate = max(reduced, min(self.min_learning_rate, self.rate))


class Cosine(Schedule):
    """Cosine annealing from ``learning_rate_init`` to ``min_learning_rate``
    over the ``max_iter`` epochs of each ``fit`` call.

    Epoch ``e`` (from 1) of a call runs at
    ``min_learning_rate + (learning_rate_init - min_learning_rate)
    * (1 + cos(pi * (e - 1) / max_iter)) / 2``. ``partial_fit`` calls anneal
    over ``max_iter`` calls, then keep ``min_learning_rate``.

    Attributes
    ----------
    epoch : int
        Epochs run since the annealing started.
    span : int or None
        Epochs the annealing lasts.

    Examples
    --------
    >>> from sklearn_xcnn._schedules import Cosine
    >>> schedule = Cosine(1.0, min_learning_rate=0.2)
    >>> schedule.start_fit(max_iter=4, incremental=False)
    >>> for epoch in range(4):
    ...     print(round(schedule.rate, 3), end=" ")
    ...     schedule.epoch_ends(None, None)
    1.0 0.883 0.6 0.317
    """

    hyperparameters = ("min_learning_rate",)

    def __init__(self, learning_rate_init, min_learning_rate=0.0):
        super().__init__(learning_rate_init)
        self.min_learning_rate = min_learning_rate
        self.epoch, self.span = 0, None

    def start_fit(self, max_iter, incremental):
        if incremental and self.span is not None:
            return  # partial_fit calls go on annealing
        # max_iter None: no span to anneal over (partial_fit under
        # max_iter="auto"): the rate stays learning_rate_init
        self.epoch, self.span = 0, max_iter
        self.rate = float(self.learning_rate_init)

    def epoch_ends(self, time_step, loss):
        self.epoch += 1
        if self.span is None:
            return
        self.rate = cosine_rate(
            self.learning_rate_init, self.min_learning_rate, self.epoch, self.span
        )

    def ran_its_course(self):
        return self.span is not None and self.epoch >= self.span


def cosine_rate(start, end, epoch, span):
    """The rate ``epoch`` epochs into a cosine annealing of ``span`` epochs
    from ``start`` to ``end`` (``end`` from ``span`` on)."""
    share = (1 + math.cos(math.pi * min(epoch, span) / span)) / 2
    return end + (start - end) * share


SCHEDULES = {
    "constant": Schedule,
    "invscaling": InvScaling,
    "adaptive": Adaptive,
    "plateau": Plateau,
    "cosine": Cosine,
}


def auto_max_iter(n_samples, batch_size, steps, epochs):
    """Epochs of ``max_iter="auto"`` for a fit on ``n_samples`` rows.

    Enough epochs for ``steps`` batches of ``batch_size`` rows (cut to
    ``n_samples``; ``"auto"`` is scikit-learn's ``min(200, n_samples)``),
    kept within ``epochs``, a ``(fewest, most)`` pair: a small training set
    gets as many steps as a larger one, up to the most epochs, and a large
    one at least the fewest epochs.

    Parameters
    ----------
    n_samples : int
        Rows given to ``fit`` (or to one ``partial_fit`` call).
    batch_size : int or "auto"
        The estimator's ``batch_size``.
    steps : int
        Batches (optimizer steps) to aim at.
    epochs : (int, int)
        Fewest and most epochs.

    Returns
    -------
    max_iter : int

    Examples
    --------
    >>> from sklearn_xcnn._schedules import auto_max_iter
    >>> [auto_max_iter(n, 64, 500, (5, 200)) for n in (30, 500, 1437, 4000, 60000)]
    [200, 63, 22, 8, 5]
    """
    rows = min(200, n_samples) if batch_size == "auto" else batch_size
    steps_per_epoch = math.ceil(n_samples / max(1, min(rows, n_samples)))
    low, high = epochs
    return min(high, max(low, math.ceil(steps / steps_per_epoch)))


def schedule_of(estimator):
    """A fresh schedule for ``estimator``'s ``learning_rate`` and settings."""
    make = SCHEDULES[estimator.learning_rate]
    return make(estimator.learning_rate_init, **make.settings_of(estimator))


def check_schedule(params):
    """Refuse a schedule that cannot work with the estimator parameters
    ``params`` (a ``get_params`` dict)."""
    if params["learning_rate"] not in ("plateau", "cosine"):
        return
    if params["min_learning_rate"] > params["learning_rate_init"]:
        raise ValueError(
            f"min_learning_rate={params['min_learning_rate']} is larger than "
            f"learning_rate_init={params['learning_rate_init']}: the "
            f"{params['learning_rate']!r} schedule lowers the rate from "
            "learning_rate_init to min_learning_rate. Use a smaller "
            "min_learning_rate."
        )
