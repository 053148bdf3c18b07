"""Stochastic optimizers updating one flat parameter vector in place.

Plain classes (not estimators): the fit loop's state keeps one (the
estimator's ``_optimizer``) so that ``partial_fit`` and ``warm_start``
continue with the same moments and learning rate. :data:`OPTIMIZERS` maps a
``solver`` to its class, and each class names the estimator parameters it
takes in ``hyperparameters``: both are written here only.
"""

import numpy as np
from scipy.linalg.blas import get_blas_funcs


class BaseOptimizer:
    """What every stochastic optimizer shares.

    Subclasses set ``hyperparameters`` (the estimator parameters their
    constructor takes after ``n_params`` and ``dtype``, stored under the same
    names) and implement :meth:`update_params`; the schedule hooks default to
    doing nothing.
    """

    hyperparameters = ("learning_rate_init",)

    @classmethod
    def from_estimator(cls, estimator, n_params, dtype):
        """A fresh optimizer with ``estimator``'s hyperparameters."""
        return cls(n_params, dtype, **cls.settings_of(estimator))

    @classmethod
    def settings_of(cls, estimator):
        """The hyperparameters ``estimator`` asks of this optimizer."""
        return {name: getattr(estimator, name) for name in cls.hyperparameters}

    @property
    def settings(self):
        """The hyperparameters, to tell whether a later fit may continue."""
        return {name: getattr(self, name) for name in self.hyperparameters}

    def fits(self, estimator, n_params, dtype):
        """Whether this optimizer can go on for ``estimator``'s next fit: the
        same solver and hyperparameters, and a state of the right size."""
        return (
            type(self) is OPTIMIZERS.get(estimator.solver)
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

    def iteration_ends(self, time_step):
        """Called at the end of each epoch, after ``time_step`` samples."""

    def trigger_stopping(self, verbose):
        """Whether to stop now that training stopped improving."""
        return True


class SGDOptimizer(BaseOptimizer):
    """Stochastic gradient descent with momentum and learning-rate schedules.

    Parameters
    ----------
    n_params : int
        Length of the flat parameter vector.
    dtype : numpy dtype
    learning_rate_init : float
    learning_rate : {"constant", "invscaling", "adaptive"}
        ``"invscaling"`` sets the rate to
        ``learning_rate_init / (t + 1)**power_t`` at the end of each epoch,
        ``t`` being the number of samples seen so far. ``"adaptive"`` divides
        it by 5 each time training stops improving, until it drops to
        ``1e-6`` or below.
    momentum : float
    nesterovs_momentum : bool
    power_t : float

    Attributes
    ----------
    settings : dict
        The hyperparameters above by name (``n_params`` and ``dtype`` aside).
    learning_rate : float
        The current step size.
    velocity : ndarray of shape (n_params,)
        The momentum term.
    """

    hyperparameters = (
        "learning_rate_init",
        "learning_rate",
        "momentum",
        "nesterovs_momentum",
        "power_t",
    )

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init=0.1,
        learning_rate="constant",
        momentum=0.9,
        nesterovs_momentum=True,
        power_t=0.5,
    ):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.schedule = learning_rate
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.power_t = power_t
        self.velocity = np.zeros(n_params, dtype=dtype)

    @property
    def settings(self):
        """The hyperparameters, to tell whether a later fit may continue."""
        # ``learning_rate`` holds the current rate: the schedule's name is kept
        # as ``schedule``
        return {**super().settings, "learning_rate": self.schedule}

    @property
    def state_shape(self):
        return self.velocity.size, self.velocity.dtype

    def update_params(self, params, grads):
        """Take one step on ``params`` (flat, updated in place)."""
        v = self.velocity
        v *= self.momentum
        v -= self.learning_rate * grads
        if self.nesterovs_momentum:
            params += self.momentum * v - self.learning_rate * grads
        else:
            params += v

    def iteration_ends(self, time_step):
        """Update the learning rate after ``time_step`` samples were seen."""
        if self.schedule == "invscaling":
            self.learning_rate = (
                self.learning_rate_init / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, verbose):
        """Whether to stop now that training stopped improving.

        The adaptive schedule first divides the learning rate by 5 and goes on,
        until the rate falls under ``1e-6``.
        """
        if self.schedule != "adaptive":
            return True
        if self.learning_rate <= 1e-6:
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(f"Setting learning rate to {self.learning_rate:f}")
        return False


class AdamOptimizer(BaseOptimizer):
    """Adam (Kingma & Ba, 2015) on a flat parameter vector.

    Step ``t`` moves the parameters by
    ``-lr_t * m_t / (sqrt(v_t) + epsilon)`` with
    ``lr_t = learning_rate_init * sqrt(1 - beta_2**t) / (1 - beta_1**t)``,
    where ``m_t`` and ``v_t`` are the running means of the gradient and of
    its square (the paper's bias corrections, folded into the step size).

    Parameters
    ----------
    n_params : int
    dtype : numpy dtype
    learning_rate_init : float
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates.
    epsilon : float
        Added to the root of the second moment for stability.

    Attributes
    ----------
    settings : dict
        The hyperparameters above by name (``n_params`` and ``dtype`` aside).
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
    ):
        self.learning_rate_init = learning_rate_init
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
            self.learning_rate_init * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
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
