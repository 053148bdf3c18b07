"""Stochastic optimizers updating one flat parameter vector in place.

Plain classes (not estimators): the fit loop's state keeps one (the
estimator's ``_optimizer``) so that ``partial_fit`` and ``warm_start``
continue with the same moments and learning rate. :data:`OPTIMIZERS` maps a
``solver`` to its class, and each class names the estimator parameters it
takes in ``hyperparameters``: both are written here only. Every optimizer
takes its base rate from a learning-rate schedule (see :mod:`._schedules`),
built from the estimator's ``learning_rate`` and its settings.
"""

import numpy as np
from scipy.linalg.blas import get_blas_funcs

from ._schedules import SCHEDULES, Schedule, schedule_of


class BaseOptimizer:
    """What every stochastic optimizer shares.

    Subclasses set ``hyperparameters`` (the estimator parameters their
    constructor takes after ``n_params`` and ``dtype``, stored under the same
    names) and implement :meth:`update_params`, stepping with the
    ``schedule``'s rate. The schedule hooks hand over to the schedule.
    """

    hyperparameters = ("learning_rate_init",)

    @classmethod
    def from_estimator(cls, estimator, n_params, dtype):
        """A fresh optimizer with ``estimator``'s hyperparameters and
        learning-rate schedule."""
        own = cls._own_settings_of(estimator)
        return cls(n_params, dtype, **own, schedule=schedule_of(estimator))

    @classmethod
    def _own_settings_of(cls, estimator):
        return {name: getattr(estimator, name) for name in cls.hyperparameters}

    @classmethod
    def settings_of(cls, estimator):
        """The hyperparameters ``estimator`` asks of this optimizer and its
        schedule."""
        schedule = SCHEDULES[estimator.learning_rate]
        return {**cls._own_settings_of(estimator), **schedule.settings_of(estimator)}

    @property
    def settings(self):
        """The hyperparameters, to tell whether a later fit may continue."""
        own = {name: getattr(self, name) for name in self.hyperparameters}
        return {**own, **self.schedule.settings}

    @property
    def base_rate(self):
        """The schedule's rate for the next step."""
        return self.schedule.rate

    def fits(self, estimator, n_params, dtype):
        """Whether this optimizer can go on for ``estimator``'s next fit: the
        same solver, schedule and hyperparameters, and a state of the right
        size."""
        return (
            type(self) is OPTIMIZERS.get(estimator.solver)
            and type(self.schedule) is SCHEDULES[estimator.learning_rate]
            and self.settings == self.settings_of(estimator)
            and self.state_shape == (n_params, np.dtype(dtype))
        )

    @property
    def state_shape(self):
        """``(size, dtype)`` of the flat state vectors."""
        raise NotImplementedError

    def update_params(self, params, grads):
        """Take one step on ``params`` (flat, updated in place)."""
        raise NotImplementedError

    def start_fit(self, max_iter, incremental):
        """Called when a ``fit`` (``incremental``: ``partial_fit``) call starts."""
        self.schedule.start_fit(max_iter, incremental)

    def iteration_ends(self, time_step, loss=None):
        """Called at the end of each epoch, after ``time_step`` samples, with
        the epoch's training ``loss``."""
        self.schedule.epoch_ends(time_step, loss)

    def ran_its_course(self):
        """Whether the schedule reached its planned end (see
        :meth:`~._schedules.Schedule.ran_its_course`)."""
        return self.schedule.ran_its_course()

    def trigger_stopping(self, verbose):
        """Whether to stop now that training stopped improving (the adaptive
        schedule lowers the rate and goes on instead)."""
        stop = self.schedule.stalled()
        if not stop and verbose:
            print(f"Setting learning rate to {self.base_rate:f}")
        return stop


class SGDOptimizer(BaseOptimizer):
    """Stochastic gradient descent with momentum and learning-rate schedules.

    Parameters
    ----------
    n_params : int
        Length of the flat parameter vector.
    dtype : numpy dtype
    learning_rate_init : float
    learning_rate : {"constant", "invscaling", "adaptive", "plateau", \
"cosine"}
        The schedule (see :mod:`._schedules`) when ``schedule`` is None.
        ``"invscaling"`` sets the rate to
        ``learning_rate_init / (t + 1)**power_t`` at the end of each epoch,
        ``t`` being the number of samples seen so far. ``"adaptive"`` divides
        it by 5 each time training stops improving, until it drops to
        ``1e-6`` or below.
    momentum : float
    nesterovs_momentum : bool
    power_t : float
    schedule : Schedule, default=None
        The schedule itself, with all its settings (``learning_rate`` and
        ``power_t`` are then ignored).

    Attributes
    ----------
    settings : dict
        The hyperparameters above by name (``n_params`` and ``dtype`` aside)
        and those of the schedule.
    schedule : Schedule
    learning_rate : float
        The current step size, the schedule's rate.
    velocity : ndarray of shape (n_params,)
        The momentum term.
    """

    hyperparameters = ("learning_rate_init", "momentum", "nesterovs_momentum")

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init=0.1,
        learning_rate="constant",
        momentum=0.9,
        nesterovs_momentum=True,
        power_t=0.5,
        schedule=None,
    ):
        self.learning_rate_init = learning_rate_init
        if schedule is None:
            extra = {"power_t": power_t} if learning_rate == "invscaling" else {}
            schedule = SCHEDULES[learning_rate](learning_rate_init, **extra)
        self.schedule = schedule
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.velocity = np.zeros(n_params, dtype=dtype)

    @property
    def learning_rate(self):
        """The current step size."""
        return self.schedule.rate

    @property
    def state_shape(self):
        return self.velocity.size, self.velocity.dtype

    def update_params(self, params, grads):
        """Take one step on ``params`` (flat, updated in place)."""
        v, rate = self.velocity, self.schedule.rate
        v *= self.momentum
        v -= rate * grads
        if self.nesterovs_momentum:
            params += self.momentum * v - rate * grads
        else:
            params += v


class AdamOptimizer(BaseOptimizer):
    """Adam (Kingma & Ba, 2015) on a flat parameter vector.

    Step ``t`` moves the parameters by
    ``-lr_t * m_t / (sqrt(v_t) + epsilon)`` with
    ``lr_t = rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)``,
    where ``m_t`` and ``v_t`` are the running means of the gradient and of
    its square (the paper's bias corrections, folded into the step size) and
    ``rate`` is the schedule's (``learning_rate_init`` for the constant one).

    Parameters
    ----------
    n_params : int
    dtype : numpy dtype
    learning_rate_init : float
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates.
    epsilon : float
        Added to the root of the second moment for stability.
    schedule : Schedule, default=None
        The learning-rate schedule; None keeps ``learning_rate_init``.

    Attributes
    ----------
    settings : dict
        The hyperparameters above by name (``n_params`` and ``dtype`` aside)
        and those of the schedule.
    schedule : Schedule
    learning_rate : float
        The step size ``lr_t`` of the last step.
    t : int
        Steps taken.
    m, v : ndarray of shape (n_params,)
        Running means of the gradient and of its square.
    """

    hyperparameters = ("learning_rate_init", "beta_1", "beta_2", "epsilon")

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        schedule=None,
    ):
        self.learning_rate_init = learning_rate_init
        self.schedule = Schedule(learning_rate_init) if schedule is None else schedule
        self.learning_rate = float(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)
        self._buffer = np.empty(n_params, dtype=dtype)

    @property
    def state_shape(self):
        return self.m.size, self.m.dtype

    def update_params(self, params, grads):
        """Take one step on ``params`` (flat, updated in place).

        The moving averages and the step are BLAS ``scal`` and ``axpy``
        calls, which update in place in one pass each (nine passes over the
        parameters instead of twelve)."""
        self.t += 1
        b1, b2, buf = self.beta_1, self.beta_2, self._buffer
        scal, axpy = _blas(self.m, "scal"), _blas(self.m, "axpy")
        grads = np.ascontiguousarray(grads, dtype=self.m.dtype)
        scal(b1, self.m)
        axpy(grads, self.m, a=1 - b1)
        np.multiply(grads, grads, out=buf)
        scal(b2, self.v)
        axpy(buf, self.v, a=1 - b2)
        self.learning_rate = (
            self.schedule.rate * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        )
        np.sqrt(self.v, out=buf)
        buf += self.epsilon
        np.divide(self.m, buf, out=buf)
        if _in_place(params, self.m):
            axpy(buf, params, a=-self.learning_rate)
        else:
            buf *= self.learning_rate
            params -= buf


def _blas(array, name):
    """The BLAS routine ``name`` for ``array``'s dtype."""
    return get_blas_funcs(name, (array,))


def _in_place(params, like):
    """Whether BLAS can update ``params`` in place (contiguous, 1-D, of
    ``like``'s dtype)."""
    return params.ndim == 1 and params.flags.c_contiguous and params.dtype == like.dtype


OPTIMIZERS = {"sgd": SGDOptimizer, "adam": AdamOptimizer}
