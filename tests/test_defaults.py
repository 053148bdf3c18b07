"""The defaults of issue 21 and what they rest on: ``max_iter="auto"``, the
cosine schedule's end without a ConvergenceWarning, single-threaded BLAS for
small batches, and the documented default values."""

import inspect
import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from sklearn_xcnn import CNNClassifier, CNNRegressor, _training
from sklearn_xcnn._parallel import blas_threads
from sklearn_xcnn._schedules import auto_max_iter
from sklearn_xcnn.datasets import make_x_or_not_x

from .conftest import make_bars


def _epochs_by_counting(n_samples, batch_size, steps, low, high):
    """Whole epochs until ``steps`` batches have run, batch by batch."""
    size = min(200, n_samples) if batch_size == "auto" else batch_size
    done = epochs = 0
    while done < steps:
        epochs += 1
        done += len(range(0, n_samples, size))
    return min(high, max(low, epochs))


@pytest.mark.parametrize("n_samples", [1, 30, 63, 64, 65, 500, 1437, 4000, 60000])
@pytest.mark.parametrize("batch_size", [16, 64, "auto"])
def test_auto_max_iter_counts_the_steps(n_samples, batch_size):
    expected = _epochs_by_counting(n_samples, batch_size, 500, 5, 200)
    assert auto_max_iter(n_samples, batch_size, 500, (5, 200)) == expected


@pytest.mark.parametrize(
    "n_samples, expected",
    [(30, 200), (500, 63), (1437, 22), (1347, 23), (4000, 8), (60000, 5)],
)
def test_auto_max_iter_hand_worked(n_samples, expected):
    # 1437 rows: 23 batches of 64 an epoch, 500 / 23 = 21.7 -> 22 epochs;
    # 1347 rows: 22 batches, 500 / 22 = 22.7 -> 23
    assert auto_max_iter(n_samples, 64, 500, (5, 200)) == expected


@pytest.mark.parametrize("Estimator", [CNNClassifier, CNNRegressor])
def test_fit_resolves_auto_and_records_it(Estimator):
    X, y = make_x_or_not_x(n_samples=130, random_state=0)
    if Estimator is CNNRegressor:
        y = make_bars(130, side=5)[1]
    est = Estimator(n_filters=2, hidden_units=4, random_state=0)
    assert est.max_iter == "auto"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)  # 130 rows: 3 batches an epoch, 167 epochs
    assert est.max_iter_ == math.ceil(500 / 3) == 167
    assert est.max_iter == "auto" and est.get_params()["max_iter"] == "auto"
    assert est.n_iter_ <= est.max_iter_
    est.set_params(max_iter=3, n_iter_no_change=np.inf).fit(X, y)
    assert est.max_iter_ == 3 == est.n_iter_
    # L-BFGS iterations: MLP's 200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(max_iter="auto", solver="lbfgs").fit(X, y)
    assert est.max_iter_ == 200


def test_partial_fit_resolves_auto_on_its_own_rows():
    X, y = make_x_or_not_x(n_samples=40, random_state=0)
    clf = CNNClassifier(n_filters=2, hidden_units=4, random_state=0)
    clf.partial_fit(X, y, classes=[0, 1])  # 40 rows: one batch
    assert clf.max_iter_ == 200


def _fit_warnings(**params):
    X, y = make_x_or_not_x(n_samples=80, random_state=0)
    clf = CNNClassifier(
        n_filters=2, hidden_units=4, max_iter=4, tol=0, random_state=0, **params
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    return clf, [w for w in caught if issubclass(w.category, ConvergenceWarning)]


def test_a_cosine_schedule_that_ran_its_span_does_not_warn():
    clf, caught = _fit_warnings(learning_rate="cosine")
    assert clf.n_iter_ == 4 and caught == []
    assert clf.learning_rate_curve_[-1] < clf.learning_rate_init  # annealed


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "plateau"])
def test_other_schedules_cut_short_still_warn(schedule):
    clf, caught = _fit_warnings(learning_rate=schedule)
    assert clf.n_iter_ == 4 and len(caught) == 1
    assert "maximum iterations (4) reached" in str(caught[0].message)


def test_small_batches_run_blas_single_threaded(monkeypatch):
    """A batch too small to split over threads runs its products with one
    BLAS thread (a second one only spins on a busy core); BLAS gets its
    threads back after the fit."""
    seen = []
    run = _training._Epochs.run

    def spy(self, *args, **kwargs):
        seen.append((self.threads, blas_threads()))
        return run(self, *args, **kwargs)

    monkeypatch.setattr(_training._Epochs, "run", spy)
    X, y = make_x_or_not_x(n_samples=100, random_state=0)
    with threadpool_limits(2, user_api="blas"):
        if blas_threads() < 2:
            pytest.skip("BLAS here cannot use two threads")
        CNNClassifier(n_filters=2, hidden_units=4, max_iter=2, random_state=0).fit(X, y)
        assert blas_threads() == 2
    assert seen and all(parts == 1 and blas == 1 for parts, blas in seen)


# the documented defaults, read from the signatures (issue 21's sweep chose
# them: benchmarks/bench_defaults.py)
_SHARED = dict(
    n_filters=(16, 32),
    kernel_size=3,
    padding="same",
    batch_norm=True,
    hidden_units=(128,),
    batch_size=64,
    learning_rate="cosine",
    learning_rate_init=3e-3,
    max_iter="auto",
    solver="adam",
)


@pytest.mark.parametrize(
    "Estimator, dropout", [(CNNClassifier, 0.3), (CNNRegressor, 0.1)]
)
def test_defaults_are_the_swept_ones_and_documented(Estimator, dropout):
    params = Estimator().get_params()
    assert {k: params[k] for k in _SHARED} == _SHARED
    assert params["dropout"] == dropout
    doc = inspect.getdoc(Estimator)
    assert f"dropout : float in [0, 1), default={dropout}\n" in doc
    assert 'max_iter : int or "auto", default="auto"' in doc
    assert "%(" not in doc  # every place filled


def test_partial_fit_under_auto_keeps_the_rate():
    """A stream of partial_fit calls at the defaults does not anneal to 0
    after max_iter_ chunks (there is no span under "auto"); an int max_iter
    anneals over that many calls."""
    X, y = make_x_or_not_x(n_samples=40, random_state=0)
    clf = CNNClassifier(n_filters=2, hidden_units=4, random_state=0)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1])
    assert clf.learning_rate_curve_ == [clf.learning_rate_init] * 3
    clf = CNNClassifier(n_filters=2, hidden_units=4, max_iter=2, random_state=0)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1])
    first, second, third = clf.learning_rate_curve_
    assert first == clf.learning_rate_init
    assert second == pytest.approx(clf.learning_rate_init / 2)
    assert third == 0.0
