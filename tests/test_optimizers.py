"""SGD and Adam steps against updates computed by hand."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_xcnn._optimizers import AdamOptimizer, SGDOptimizer


@pytest.fixture
def steps():
    """A starting vector and three gradients, each of shape (4,)."""
    rng = np.random.RandomState(0)
    return rng.normal(size=4), [rng.normal(size=4) for _ in range(3)]


def test_sgd_without_momentum_is_plain_gradient_descent(steps):
    start, grads = steps
    params = start.copy()
    opt = SGDOptimizer(4, np.float64, learning_rate_init=0.1, momentum=0.0)
    for g in grads:
        opt.update_params(params, g)
    assert_allclose(params, start - 0.1 * sum(grads))


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_matches_hand_computation(steps, nesterov):
    start, grads = steps
    lr, mu = 0.05, 0.9
    params = start.copy()
    opt = SGDOptimizer(
        4, np.float64, learning_rate_init=lr, momentum=mu, nesterovs_momentum=nesterov
    )
    expected, velocity = start.copy(), np.zeros(4)
    for g in grads:
        opt.update_params(params, g)
        velocity = mu * velocity - lr * g
        # Nesterov steps along the velocity it is about to have
        expected = expected + (mu * velocity - lr * g if nesterov else velocity)
    assert_allclose(params, expected)


def test_sgd_invscaling_schedule():
    opt = SGDOptimizer(2, np.float64, 0.2, "invscaling", power_t=0.25)
    for t in (10, 100, 250):
        opt.iteration_ends(t)
        assert opt.learning_rate == pytest.approx(0.2 / (t + 1) ** 0.25)


@pytest.mark.parametrize("schedule", ["constant", "invscaling"])
def test_sgd_non_adaptive_stops_when_stalled(schedule):
    opt = SGDOptimizer(2, np.float64, 0.01, schedule)
    assert opt.trigger_stopping(verbose=False)
    assert opt.learning_rate == 0.01


def test_sgd_adaptive_divides_by_five_until_tiny(capsys):
    opt = SGDOptimizer(2, np.float64, 1e-3, "adaptive")
    rates = []
    while not opt.trigger_stopping(verbose=False):
        rates.append(opt.learning_rate)
    assert_allclose(rates, [1e-3 / 5**k for k in range(1, 6)])
    assert rates[-1] <= 1e-6 < rates[-2]
    # the constant and adaptive schedules ignore the sample count
    opt.iteration_ends(1000)
    assert opt.learning_rate == rates[-1]
    assert capsys.readouterr().out == ""


def test_adam_matches_hand_computation(steps):
    start, grads = steps
    lr, b1, b2, eps = 0.01, 0.8, 0.95, 1e-3
    params = start.copy()
    opt = AdamOptimizer(4, np.float64, lr, b1, b2, eps)
    expected, m, v = start.copy(), np.zeros(4), np.zeros(4)
    for t, g in enumerate(grads, start=1):
        opt.update_params(params, g)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        # bias corrections folded into the step size; epsilon added to sqrt(v)
        step = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        expected = expected - step * m / (np.sqrt(v) + eps)
        assert opt.learning_rate == pytest.approx(step)
    assert_allclose(params, expected)
    assert opt.t == len(grads)


def test_adam_first_step_has_size_learning_rate():
    # with corrected moments the first step is lr * sign(g) (for tiny epsilon)
    params = np.zeros(3)
    opt = AdamOptimizer(3, np.float64, 0.01, epsilon=1e-12)
    opt.update_params(params, np.array([2.0, -0.5, 1e-3]))
    assert_allclose(params, [-0.01, 0.01, -0.01], rtol=1e-6)


@pytest.mark.parametrize("make", [SGDOptimizer, AdamOptimizer])
def test_updates_in_place_keep_float32(make):
    params = np.ones(5, dtype=np.float32)
    before = params
    opt = make(5, np.float32, 0.1)
    opt.update_params(params, np.full(5, 0.5, dtype=np.float32))
    assert params is before
    assert params.dtype == np.float32
    assert np.all(params < 1)
