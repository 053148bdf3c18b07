"""Learning-rate schedules: rates against closed forms and hand-worked loss
sequences, and what the estimators do with them (both stochastic solvers,
partial_fit, warm_start, early stopping, L-BFGS, verbose, search, pickle)."""

import pickle
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_xcnn import CNNClassifier, CNNRegressor
from sklearn_xcnn._optimizers import AdamOptimizer, SGDOptimizer
from sklearn_xcnn._schedules import Adaptive, Cosine, InvScaling, Plateau, Schedule
from sklearn_xcnn.datasets import make_x_or_not_x

from .conftest import V02, fit_quietly, needs
from .test_persistence import _documented_untrusted_types

SMALL_NET = dict(n_filters=2, hidden_units=6)


@pytest.fixture(scope="module")
def xnx():
    """200 clean 5x5 X / not-X images, flattened to (200, 25)."""
    return make_x_or_not_x(200, random_state=0)


def _small(**params):
    """The small network with ``params``, seeded."""
    return CNNClassifier(**{**SMALL_NET, "random_state": 0, **params})


def _small_v02(**params):
    """The small network in the 0.2 regime (full batches at a constant rate,
    no dropout; see conftest.V02) with ``params``, seeded."""
    return _small(**{**V02, **SMALL_NET, **params})


def _cosine(start, end, n_epochs, span):
    """The closed form: epoch e (from 0) runs at
    end + (start - end) * (1 + cos(pi * min(e, span) / span)) / 2."""
    e = np.minimum(np.arange(n_epochs), span)
    return end + (start - end) * 0.5 * (1 + np.cos(np.pi * e / span))


def _rates(schedule, losses, time_steps=None):
    """The rate each epoch runs at, the losses being the epochs' losses."""
    rates = []
    for k, loss in enumerate(losses):
        rates.append(schedule.rate)
        schedule.epoch_ends(None if time_steps is None else time_steps[k], loss)
    return rates


# ------------------------------------------------------- the schedules alone
def test_constant_keeps_the_rate_and_stops_on_a_stall():
    schedule = Schedule(0.01)
    assert _rates(schedule, [3.0, 2.0, 2.5]) == [0.01] * 3
    assert schedule.stalled()


def test_invscaling_closed_form():
    schedule = InvScaling(0.2, power_t=0.25)
    steps = [10, 100, 250]
    rates = _rates(schedule, [1.0] * 3, steps)
    assert_allclose(rates[1:], [0.2 / 11**0.25, 0.2 / 101**0.25])
    assert schedule.rate == pytest.approx(0.2 / 251**0.25)


def test_adaptive_divides_by_five_on_each_stall_until_tiny():
    schedule = Adaptive(1e-3)
    rates = []
    while not schedule.stalled():
        rates.append(schedule.rate)
    assert_allclose(rates, [2e-4, 4e-5, 8e-6, 1.6e-6, 3.2e-7])


@pytest.mark.parametrize("end", [0.0, 0.05])
@pytest.mark.parametrize("span", [1, 4, 7])
def test_cosine_closed_form(end, span):
    schedule = Cosine(0.5, min_learning_rate=end)
    schedule.start_fit(span, incremental=False)
    # past span epochs (a later partial_fit) it stays at the end rate
    rates = _rates(schedule, np.linspace(1, 0, span + 2))
    assert_allclose(rates, _cosine(0.5, end, span + 2, span))
    assert rates[0] == 0.5 and rates[span] == pytest.approx(end)


def test_cosine_hand_values():
    # 4 epochs from 1 to 0: 1, (1 + cos(pi/4))/2, 1/2, (1 - cos(pi/4))/2
    schedule = Cosine(1.0)
    schedule.start_fit(4, incremental=False)
    h = np.sqrt(2) / 4
    assert_allclose(_rates(schedule, [1.0] * 4), [1.0, 0.5 + h, 0.5, 0.5 - h])


def test_cosine_restarts_with_each_fit_but_not_each_partial_fit():
    schedule = Cosine(1.0)
    schedule.start_fit(4, incremental=True)  # a first partial_fit starts it
    _rates(schedule, [1.0] * 2)
    schedule.start_fit(4, incremental=True)
    assert schedule.rate == pytest.approx(0.5)
    schedule.start_fit(3, incremental=False)
    assert (schedule.rate, schedule.epoch, schedule.span) == (1.0, 0, 3)


def test_plateau_on_a_hand_worked_loss_sequence():
    schedule = Plateau(
        1.0, plateau_factor=0.5, plateau_patience=2, min_learning_rate=0.2, tol=0.1
    )
    losses = [1.0, 0.95, 0.97, 0.5, 0.45, 0.46, 0.47, 0.48, 0.49, 0.3, 0.31, 0.32]
    # epoch by epoch (best, wait) after it, a 0.1 drop below the best counting
    # as better: (1, 0) (.95, 1) (.95, 2: halve, 0) (.5, 0) (.45, 1)
    # (.45, 2: halve, 0) (.45, 1) (.45, 2: halve to .125, floored at .2)
    # (.45, 1) (.3, 0) (.3, 1) (.3, 2: at the floor already)
    expected = [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2]
    assert_allclose(_rates(schedule, losses), expected)
    assert schedule.rate == 0.2 and schedule.wait == 0
    assert schedule.best_loss == 0.3
    assert schedule.stalled()  # the stopping rule is left to n_iter_no_change


def test_plateau_patience_one_reduces_on_every_worse_epoch():
    schedule = Plateau(
        0.8, plateau_factor=0.25, plateau_patience=1, min_learning_rate=0.0, tol=0.0
    )
    rates = _rates(schedule, [1.0, 1.0, 0.9, 0.95, 0.8])
    assert_allclose(rates, [0.8, 0.8, 0.2, 0.2, 0.05])


# --------------------------------------------------- the schedules in steps
def test_sgd_steps_with_the_schedules_rate():
    schedule = Cosine(0.4)
    schedule.start_fit(2, incremental=False)
    opt = SGDOptimizer(3, np.float64, 0.4, momentum=0.0, schedule=schedule)
    params, g = np.zeros(3), np.array([1.0, -2.0, 0.5])
    opt.update_params(params, g)
    opt.iteration_ends(3, 1.0)  # half-way: the rate is 0.2
    opt.update_params(params, g)
    assert_allclose(params, -(0.4 + 0.2) * g)
    assert opt.learning_rate == pytest.approx(0.2)


def test_adam_steps_with_the_schedules_rate():
    rng = np.random.RandomState(0)
    start, grads = rng.normal(size=4), [rng.normal(size=4) for _ in range(3)]
    b1, b2, eps = 0.9, 0.999, 1e-8
    schedule = Plateau(0.1, plateau_patience=1, plateau_factor=0.5, tol=0.0)
    opt = AdamOptimizer(4, np.float64, 0.1, b1, b2, eps, schedule=schedule)
    params, expected = start.copy(), start.copy()
    m, v = np.zeros(4), np.zeros(4)
    # one step per epoch, each worse than the last: the first is the best, the
    # second's end halves the rate for the third
    for t, (g, rate) in enumerate(zip(grads, [0.1, 0.1, 0.05]), start=1):
        opt.update_params(params, g)
        opt.iteration_ends(t, float(t))
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        step = rate * np.sqrt(1 - b2**t) / (1 - b1**t)
        expected -= step * m / (np.sqrt(v) + eps)
        assert opt.learning_rate == pytest.approx(step)
    assert_allclose(params, expected)


def test_optimizer_goes_on_only_with_the_same_schedule_settings():
    clf = CNNClassifier(learning_rate="plateau", solver="adam")
    opt = AdamOptimizer.from_estimator(clf, 5, np.float64)
    assert type(opt.schedule) is Plateau and opt.fits(clf, 5, np.float64)
    assert not opt.fits(clone(clf).set_params(plateau_patience=3), 5, np.float64)
    assert not opt.fits(clone(clf).set_params(learning_rate="cosine"), 5, np.float64)
    # settings the schedule does not use do not matter
    assert opt.fits(clone(clf).set_params(power_t=0.1), 5, np.float64)


# --------------------------------------------------------- in the estimators
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_cosine_fit_records_the_closed_form(xnx, solver):
    X, y = xnx
    clf = _small(
        solver=solver, learning_rate="cosine", learning_rate_init=0.02,
        min_learning_rate=1e-3, max_iter=6, n_iter_no_change=np.inf,
    )  # fmt: skip
    fit_quietly(clf, X, y)
    assert_allclose(clf.learning_rate_curve_, _cosine(0.02, 1e-3, 6, 6))
    assert len(clf.learning_rate_curve_) == len(clf.loss_curve_) == 6
    if solver == "adam":  # the last step's size: the last rate, bias-corrected
        t = clf._optimizer.t
        last = clf.learning_rate_curve_[-1] * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        assert clf._optimizer.learning_rate == pytest.approx(last)


@pytest.mark.parametrize("Estimator", [CNNClassifier, CNNRegressor])
def test_plateau_fit_halves_after_patience_stalled_epochs(xnx, Estimator):
    X, y = xnx
    # with tol=10 no epoch after the first improves: the rate halves after
    # every second epoch, and n_iter_no_change=inf never stops the fit
    est = Estimator(
        **SMALL_NET, learning_rate="plateau", learning_rate_init=0.01, tol=10.0,
        plateau_patience=2, n_iter_no_change=np.inf, max_iter=7, random_state=0,
    )  # fmt: skip
    fit_quietly(est, X, y)
    assert_allclose(
        est.learning_rate_curve_,
        [0.01, 0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025],
    )


def test_plateau_default_patience_acts_before_the_default_stop(xnx):
    X, y = xnx
    clf = _small(learning_rate="plateau", tol=10.0, max_iter=50)
    clf.fit(X, y)  # stops on the stall: no ConvergenceWarning
    # 1 improving epoch, then 11 stalled ones; the 10th halved the rate
    assert clf.n_iter_ == 12
    assert_allclose(clf.learning_rate_curve_, [3e-3] * 11 + [1.5e-3])


def test_adaptive_now_applies_to_adam(xnx):
    X, y = xnx
    clf = _small(
        learning_rate="adaptive", learning_rate_init=1e-3, tol=10.0,
        n_iter_no_change=1, max_iter=100,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    # as with sgd: divided by 5 on each stall (every other epoch) down to 1e-6
    assert clf.n_iter_ == 1 + 6 * 2
    expected = np.repeat(1e-3 / 5.0 ** np.arange(6), 2)
    assert_allclose(clf.learning_rate_curve_, np.r_[1e-3, expected])


def test_constant_and_invscaling_are_recorded(xnx):
    X, y = xnx
    # full batches, so that invscaling's steps below are n and 2n samples
    clf = _small_v02(solver="sgd", learning_rate_init=0.05, max_iter=3)
    fit_quietly(clf, X, y)
    assert clf.learning_rate_curve_ == [0.05] * 3
    clf.set_params(learning_rate="invscaling", power_t=0.5)
    fit_quietly(clf, X, y)
    n = X.shape[0]
    assert_allclose(clf.learning_rate_curve_, [0.05, 0.05 / np.sqrt(n + 1),
                                               0.05 / np.sqrt(2 * n + 1)])  # fmt: skip


def test_partial_fit_anneals_over_max_iter_calls(xnx):
    X, y = xnx
    clf = _small(learning_rate="cosine", learning_rate_init=0.01, max_iter=4)
    for _ in range(6):
        clf.partial_fit(X, y, classes=[0, 1])
    assert_allclose(clf.learning_rate_curve_, _cosine(0.01, 0.0, 6, 4), atol=1e-15)


def test_warm_start_restarts_cosine_and_keeps_adams_moments(xnx):
    X, y = xnx
    clf = _small(
        learning_rate="cosine", warm_start=True, max_iter=3, n_iter_no_change=np.inf
    )
    fit_quietly(clf, X, y)
    optimizer, steps = clf._optimizer, clf._optimizer.t
    fit_quietly(clf.set_params(max_iter=5), X, y)
    curve = np.r_[_cosine(3e-3, 0, 3, 3), _cosine(3e-3, 0, 5, 5)]
    assert_allclose(clf.learning_rate_curve_, curve)
    assert clf._optimizer is optimizer and clf._optimizer.t == steps * 8 // 3


def test_warm_start_continues_the_plateau(xnx):
    X, y = xnx
    clf = _small(learning_rate="plateau", plateau_patience=2, tol=10.0, max_iter=4,
                 learning_rate_init=0.01, warm_start=True,
                 n_iter_no_change=np.inf)  # fmt: skip
    fit_quietly(clf, X, y)
    fit_quietly(clf, X, y)
    # the wait carries over: epochs 5 and 6 are the 4th and 5th stalled ones
    expected = [0.01] * 3 + [0.005] * 2 + [0.0025] * 2 + [0.00125]
    assert_allclose(clf.learning_rate_curve_, expected)


def test_a_new_schedule_on_warm_start_starts_a_fresh_optimizer(xnx):
    X, y = xnx
    clf = _small_v02(warm_start=True, max_iter=2)  # first at a constant rate
    fit_quietly(clf, X, y)
    kept = clf._optimizer
    fit_quietly(clf.set_params(learning_rate="cosine"), X, y)
    # the fresh one took the second fit's steps only
    assert clf._optimizer is not kept and clf._optimizer.t == kept.t
    assert type(clf._optimizer.schedule) is Cosine


def test_early_stopping_ends_the_cosine_early(xnx):
    X, y = xnx
    clf = _small(
        learning_rate="cosine",
        early_stopping=True,
        tol=10.0,
        n_iter_no_change=2,
        max_iter=50,
    )
    clf.fit(X, y)
    assert clf.n_iter_ == 4
    assert_allclose(clf.learning_rate_curve_, _cosine(3e-3, 0.0, 4, 50))


def test_lbfgs_ignores_the_schedule(xnx):
    X, y = xnx
    params = dict(**SMALL_NET, solver="lbfgs", max_iter=5, random_state=0)
    plain = fit_quietly(CNNClassifier(**params), X, y)
    scheduled = fit_quietly(
        CNNClassifier(**params, learning_rate="cosine", min_learning_rate=1.0), X, y
    )
    assert_array_equal(plain.coefs_[0], scheduled.coefs_[0])
    assert len(scheduled.learning_rate_curve_) == len(scheduled.loss_curve_)
    assert np.all(np.isnan(scheduled.learning_rate_curve_))


def test_verbose_prints_the_rate_of_each_epoch(xnx, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, y = xnx
    params = dict(**SMALL_NET, max_iter=3, verbose=1, random_state=0)
    fit_quietly(CNNClassifier(**params, learning_rate="cosine"), X, y)
    lines = capsys.readouterr().out.splitlines()
    rates = [line.split("learning rate = ")[1].split(",")[0] for line in lines]
    assert rates == ["0.003", "0.00225", "0.00075"]
    # constant (the 0.2 default): lines as MLP's
    fit_quietly(CNNClassifier(**params, learning_rate="constant"), X, y)
    assert "learning rate" not in capsys.readouterr().out


def test_verbose_bar_shows_the_rate(xnx, capsys):
    needs("tqdm")
    X, y = xnx
    clf = _small(max_iter=2, verbose=1, learning_rate="cosine")
    fit_quietly(clf, X, y)
    assert "lr=0.0015" in capsys.readouterr().err


def test_fit_is_reproducible(xnx):
    X, y = xnx
    params = dict(**SMALL_NET, learning_rate="plateau", plateau_patience=1,
                  max_iter=6, random_state=3)  # fmt: skip
    a = fit_quietly(CNNClassifier(**params), X, y)
    b = fit_quietly(CNNClassifier(**params), X, y)
    assert a.learning_rate_curve_ == b.learning_rate_curve_
    assert_array_equal(a.coefs_[0], b.coefs_[0])
    assert_array_equal(a.filters_[0], b.filters_[0])


def test_grid_search_over_the_schedule(xnx):
    X, y = xnx
    grid = GridSearchCV(
        _small(max_iter=3),
        {"learning_rate": ["constant", "plateau", "cosine"],
         "min_learning_rate": [0.0, 1e-4]},
        cv=2,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 6
    best = grid.best_estimator_
    assert best.learning_rate == grid.best_params_["learning_rate"]
    assert type(best._optimizer.schedule).__name__.lower() in {
        "schedule", "plateau", "cosine"
    }  # fmt: skip


def test_clone_keeps_the_schedule_parameters():
    clf = CNNClassifier(learning_rate="plateau", plateau_factor=0.3,
                        plateau_patience=50, min_learning_rate=1e-4)  # fmt: skip
    params = clone(clf).get_params()
    assert (params["learning_rate"], params["plateau_factor"]) == ("plateau", 0.3)
    assert (params["plateau_patience"], params["min_learning_rate"]) == (50, 1e-4)


def test_pickled_model_continues_its_schedule(xnx):
    X, y = xnx
    clf = _small(learning_rate="cosine", max_iter=5)
    for _ in range(2):
        clf.partial_fit(X, y, classes=[0, 1])
    copy = pickle.loads(pickle.dumps(clf))
    for model in (clf, copy):
        for _ in range(2):
            model.partial_fit(X, y)
    assert copy.learning_rate_curve_ == clf.learning_rate_curve_
    assert_array_equal(copy.coefs_[0], clf.coefs_[0])


# ------------------------------------------------------ best weights kept
def _noisy_fit(X, y, **params):
    """A fit on shuffled labels whose loss bottoms out half-way (epoch 5 of 8),
    with batch norm, so that both weights and running statistics are kept; at
    the 0.2 regime's constant rate (a cosine's loss falls to the end)."""
    y = np.random.RandomState(0).permutation(y)
    defaults = dict(
        batch_norm=True,
        learning_rate_init=0.1,
        batch_size=50,
        n_iter_no_change=np.inf,
        random_state=0,
    )
    return fit_quietly(
        CNNClassifier(**{**V02, **SMALL_NET, **defaults, **params}), X, y
    )


def test_keep_best_weights_ends_with_the_lowest_training_loss_epoch(xnx):
    X, y = xnx
    kept = _noisy_fit(X, y, max_iter=8, keep_best_weights=True)
    best = int(np.argmin(kept.loss_curve_))
    assert 0 < best < 7  # the test needs a best epoch that is not the last
    # the same fit stopped at the best epoch: identical weights and stats
    stopped = _noisy_fit(X, y, max_iter=best + 1)
    assert kept.loss_curve_[: best + 1] == stopped.loss_curve_
    for a, b in zip(kept._params(), stopped._params(), strict=True):
        assert_array_equal(a, b)
    assert_array_equal(kept.batch_norm_means_[0], stopped.batch_norm_means_[0])
    assert_array_equal(kept.batch_norm_vars_[0], stopped.batch_norm_vars_[0])
    # without it, the last epoch's weights
    last = _noisy_fit(X, y, max_iter=8)
    assert not np.array_equal(last.coefs_[0], kept.coefs_[0])
    assert last.loss_curve_ == kept.loss_curve_


def test_keep_best_weights_yields_to_early_stopping(xnx):
    X, y = xnx
    params = dict(max_iter=8, early_stopping=True, n_iter_no_change=3)
    kept = _noisy_fit(X, y, keep_best_weights=True, **params)
    plain = _noisy_fit(X, y, **params)
    for a, b in zip(kept._params(), plain._params(), strict=True):
        assert_array_equal(a, b)


def test_partial_fit_ignores_keep_best_weights(xnx):
    X, y = xnx
    params = dict(**SMALL_NET, learning_rate_init=0.1, random_state=0)
    kept = CNNClassifier(**params, keep_best_weights=True)
    plain = CNNClassifier(**params)
    for _ in range(3):
        for clf in (kept, plain):
            clf.partial_fit(X, y, classes=[0, 1])
    assert_array_equal(kept.coefs_[0], plain.coefs_[0])


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "plateau", "cosine"])
def test_skops_round_trip_keeps_the_schedule(xnx, tmp_path, schedule):
    sio = needs("skops.io")
    X, y = xnx
    clf = fit_quietly(_small(learning_rate=schedule, max_iter=2), X, y)
    path = tmp_path / "model.skops"
    sio.dump(clf, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert set(untrusted) <= _documented_untrusted_types()  # docs/saving.rst
    loaded = sio.load(path, trusted=untrusted)
    for model in (clf, loaded):
        model.partial_fit(X, y)
    assert loaded.learning_rate_curve_ == clf.learning_rate_curve_
    assert_array_equal(loaded.coefs_[0], clf.coefs_[0])
