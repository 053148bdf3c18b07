"""Training features of CNNClassifier: solvers, schedules, stopping, partial_fit,
warm start, weights, progress output, Ctrl-C, divergence and the score methods.
"""

import signal
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import log_loss, recall_score
from sklearn.utils import compute_sample_weight

import sklearn_xcnn._training as training
from sklearn_xcnn import CNNClassifier
from sklearn_xcnn._optimizers import AdamOptimizer, SGDOptimizer
from sklearn_xcnn.datasets import make_x_or_not_x

from .conftest import V02, fit_quietly, needs

# the seed architecture of the X-or-not-X task
SEED_NET = dict(n_filters=4, kernel_size=3, stride=1, pooling="max", hidden_units=3)
SMALL_NET = dict(n_filters=2, hidden_units=6)


def v02(**params):
    """The 0.2 network and regime (full batches at a constant rate, no
    dropout; see conftest.V02) with ``params`` over it."""
    return {**V02, **params}


@pytest.fixture(scope="module")
def xnx():
    """200 clean 5x5 X / not-X images, flattened to (200, 25)."""
    return make_x_or_not_x(200, random_state=0)


@pytest.fixture(scope="module")
def digits():
    """The 8x8 digits scaled to [0, 1]: (1797, 64) and labels 0-9."""
    X, y = load_digits(return_X_y=True)
    return X / 16, y


def _all_params(clf):
    return clf.filters_ + clf.filter_intercepts_ + clf.coefs_ + clf.intercepts_


def _flat(clf):
    return np.concatenate([p.ravel() for p in clf._params()])


def _assert_same_params(a, b):
    for pa, pb in zip(_all_params(a), _all_params(b), strict=True):
        assert_array_equal(pa, pb)


# ------------------------------------------------------------------ L-BFGS
def test_lbfgs_fits_x_or_not_x(xnx):
    X, y = xnx
    clf = CNNClassifier(**SEED_NET, solver="lbfgs", random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.score(X, y) == 1.0
    # converged (no warning) within a few dozen iterations; 24 when written
    assert clf.n_iter_ <= 40
    assert len(clf.loss_curve_) == clf.n_iter_
    assert clf.loss_ == pytest.approx(clf.loss_curve_[-1])
    assert clf.best_loss_ == min(clf.loss_curve_)
    # no L-BFGS history of the stochastic solvers
    assert clf.validation_scores_ is None


def test_lbfgs_max_iter_warns(xnx):
    X, y = xnx
    clf = CNNClassifier(**SEED_NET, solver="lbfgs", max_iter=3, random_state=1)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    assert len(clf.loss_curve_) == 3


def test_lbfgs_max_fun_warns(xnx, monkeypatch):
    X, y = xnx
    calls = []
    original = training.full_batch_loss_and_grad

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(training, "full_batch_loss_and_grad", counting)
    clf = CNNClassifier(**SEED_NET, solver="lbfgs", max_fun=6, random_state=1)
    with pytest.warns(ConvergenceWarning, match="max_fun"):
        clf.fit(X, y)
    # checked between iterations: the last line search may overshoot a little
    assert 6 <= len(calls) <= 6 + 20
    assert clf.n_iter_ < 24


def test_lbfgs_warm_start_continues_the_curve(xnx):
    X, y = xnx
    clf = CNNClassifier(**SEED_NET, solver="lbfgs", max_iter=4, random_state=1)
    fit_quietly(clf, X, y)
    curve = list(clf.loss_curve_)
    fit_quietly(clf.set_params(warm_start=True), X, y)
    assert clf.n_iter_ == 4 and len(clf.loss_curve_) == 8
    assert clf.loss_curve_[:4] == curve
    assert clf.loss_curve_[4] < curve[-1]
    assert clf.best_loss_ == min(clf.loss_curve_)


def test_lbfgs_ignores_early_stopping(xnx):
    X, y = xnx
    clf = CNNClassifier(
        **SEED_NET, solver="lbfgs", early_stopping=True, max_iter=5, random_state=1
    )
    fit_quietly(clf, X, y)
    assert clf.validation_scores_ is None
    assert clf.best_validation_score_ is None
    assert clf.best_loss_ == min(clf.loss_curve_)


# ------------------------------------------------------- sgd schedules
def test_sgd_invscaling_learning_rate(xnx):
    X, y = xnx
    clf = CNNClassifier(
        **SMALL_NET,
        solver="sgd",
        learning_rate="invscaling",
        learning_rate_init=0.5,
        power_t=0.3,
        max_iter=4,
        random_state=0,
    )
    fit_quietly(clf, X, y)
    assert clf.t_ == clf.n_iter_ * X.shape[0]
    expected = 0.5 / (clf.t_ + 1) ** 0.3
    assert clf._optimizer.learning_rate == pytest.approx(expected)


def test_sgd_adaptive_divides_by_five_when_stalled(xnx, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, y = xnx
    # a tol of 10 makes every epoch after the first a stalled one: the rate is
    # divided each n_iter_no_change + 1 stalled epochs, down to 1e-6
    clf = CNNClassifier(
        **SMALL_NET,
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=1e-3,
        tol=10.0,
        n_iter_no_change=1,
        max_iter=100,
        verbose=1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    # 5 divisions reach 3.2e-7 <= 1e-6; the sixth stall stops training
    assert clf._optimizer.learning_rate == pytest.approx(1e-3 / 5**5)
    assert clf.n_iter_ == 1 + 6 * 2
    assert capsys.readouterr().out.count("Setting learning rate to") == 5


def test_sgd_constant_schedule_keeps_rate(xnx):
    X, y = xnx
    clf = CNNClassifier(
        **v02(**SMALL_NET),
        solver="sgd",
        learning_rate_init=0.02,
        tol=10.0,
        n_iter_no_change=2,
        random_state=0,
    )
    clf.fit(X, y)
    assert clf._optimizer.learning_rate == 0.02
    # one improving epoch, then n_iter_no_change + 1 stalled ones
    assert clf.n_iter_ == 1 + 3


# -------------------------------------------------- stopping, early stopping
def test_stops_on_training_loss_without_early_stopping(xnx):
    X, y = xnx
    clf = CNNClassifier(**SMALL_NET, tol=10.0, n_iter_no_change=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.n_iter_ == 1 + 5
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None


def test_max_iter_warns(xnx):
    X, y = xnx
    # a constant rate cut short by max_iter (a cosine ends there by design)
    clf = CNNClassifier(**v02(**SMALL_NET, max_iter=3), tol=0.0, random_state=0)
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    assert len(clf.loss_curve_) == 3
    assert clf.best_loss_ == min(clf.loss_curve_)


@pytest.fixture
def spy_validation(monkeypatch):
    """Record the held-out set and, per epoch, the weights and their score."""
    record = {"flat": [], "score": []}
    original = training._Validation.evaluate

    def evaluate(self, flat, *args):
        score, loss = original(self, flat, *args)
        record["validation"] = self
        record["flat"].append(flat.copy())
        record["score"].append(score)
        return score, loss

    monkeypatch.setattr(training._Validation, "evaluate", evaluate)
    return record


def _held_out_labels(clf, validation):
    """The labels of the held-out rows, decoded from their indicator targets."""
    return clf._label_binarizer.inverse_transform(validation.Y)


def test_early_stopping_split_is_stratified(xnx, spy_validation):
    X, y = xnx
    keep = np.r_[np.flatnonzero(y == 0)[:90], np.flatnonzero(y == 1)[:10]]
    X, y = X[keep], y[keep]
    clf = CNNClassifier(
        **SMALL_NET,
        early_stopping=True,
        validation_fraction=0.2,
        max_iter=2,
        random_state=0,
    )
    fit_quietly(clf, X, y)
    held_out = _held_out_labels(clf, spy_validation["validation"])
    assert held_out.shape == (20,)
    assert_array_equal(np.bincount(held_out), [18, 2])
    assert clf.t_ == clf.n_iter_ * 80


def test_early_stopping_restores_best_weights(digits, spy_validation):
    X, y = digits[0][:400], digits[1][:400]
    clf = CNNClassifier(
        n_filters=3,
        hidden_units=16,
        solver="sgd",
        learning_rate_init=0.5,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=3,
        max_iter=60,
        random_state=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    scores = spy_validation["score"]
    best = int(np.argmax(scores))
    # the final epoch is worse, so restoring matters
    assert scores[-1] < scores[best] == clf.best_validation_score_
    assert_array_equal(_flat(clf), spy_validation["flat"][best])
    assert clf.n_iter_ == best + 1 + clf.n_iter_no_change + 1
    for curve in (clf.loss_curve_, clf.validation_scores_, clf.validation_loss_curve_):
        assert len(curve) == clf.n_iter_
    assert clf.validation_scores_ == scores
    # the restored model scores the best score and loss on the held-out rows
    val = spy_validation["validation"]
    val_y = _held_out_labels(clf, val)
    Xv = val.X[val.rows].reshape(len(val_y), -1)
    assert clf.score(Xv, val_y) == pytest.approx(clf.best_validation_score_)
    expected_loss = log_loss(val_y, clf.predict_proba(Xv), labels=clf.classes_)
    assert clf.validation_loss_curve_[best] == pytest.approx(expected_loss)
    assert clf.best_loss_ is None


def test_early_stopping_too_few_samples_errors(xnx):
    X, y = xnx
    clf = CNNClassifier(**SMALL_NET, early_stopping=True, validation_fraction=0.01)
    with pytest.raises(ValueError, match="validation_fraction"):
        clf.fit(X[:20], y[:20])


# ---------------------------------------------------------------- partial_fit
def test_partial_fit_needs_classes_first(xnx):
    X, y = xnx
    clf = CNNClassifier(**SMALL_NET)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_partial_fit_one_epoch_per_call(xnx, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, y = xnx
    clf = CNNClassifier(**v02(**SMALL_NET), random_state=0, verbose=1)
    for call in range(1, 4):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            clf.partial_fit(X, y, classes=[0, 1] if call == 1 else None)
        assert clf.n_iter_ == call
        assert clf.t_ == call * X.shape[0]
        assert len(clf.loss_curve_) == call
        assert clf._optimizer.t == call  # one full batch (200 rows) per call
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        f"Iteration {i}" for i in (1, 2, 3)
    ]


def test_partial_fit_chunks_match_fit(digits):
    X, y = digits
    X_train, y_train, X_test, y_test = X[:1300], y[:1300], X[1300:], y[1300:]
    params = v02(n_filters=4, hidden_units=32, learning_rate_init=0.01, random_state=0)
    full = fit_quietly(CNNClassifier(**{**params, "max_iter": 8}), X_train, y_train)
    chunked = CNNClassifier(**params)
    classes = np.arange(10)
    # 10 chunks of 130 rows, each one mini-batch, 8 passes
    for _ in range(8):
        for rows in np.array_split(np.arange(len(y_train)), 10):
            chunked.partial_fit(X_train[rows], y_train[rows], classes=classes)
    assert chunked.n_iter_ == 80
    assert chunked.score(X_test, y_test) > 0.8
    assert chunked.score(X_test, y_test) >= full.score(X_test, y_test) - 0.05


def test_partial_fit_unseen_label_errors_and_keeps_state(xnx):
    X, y = xnx
    clf = CNNClassifier(**SMALL_NET, random_state=0).partial_fit(X, y, classes=[0, 1])
    before = [p.copy() for p in _all_params(clf)]
    with pytest.raises(ValueError, match="not seen"):
        clf.partial_fit(X[:4], [0, 1, 2, 1])
    for p, q in zip(before, _all_params(clf)):
        assert_array_equal(p, q)
    assert clf.n_iter_ == 1


def test_partial_fit_failing_first_call_leaves_unfitted(xnx):
    X, y = xnx
    clf = CNNClassifier(**SMALL_NET)
    with pytest.raises(ValueError):
        clf.partial_fit(np.full_like(X, np.nan), y, classes=[0, 1])
    assert not hasattr(clf, "classes_")
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_partial_fit_keeps_float32(xnx):
    X, y = xnx
    clf = CNNClassifier(**SMALL_NET, random_state=0)
    clf.partial_fit(X.astype(np.float32), y, classes=[0, 1])
    clf.partial_fit(X.astype(np.float32), y)
    assert all(p.dtype == np.float32 for p in _all_params(clf))
    assert clf._optimizer.m.dtype == np.float32
    assert clf.predict_proba(X.astype(np.float32)).dtype == np.float32


def test_partial_fit_refuses_early_stopping_as_mlp_does(xnx):
    """MLPClassifier.partial_fit raises for early_stopping=True; so does ours,
    and the refused call leaves a fitted model as it was."""
    X, y = xnx
    clf = CNNClassifier(**SMALL_NET, random_state=0)
    clf.partial_fit(X, y, classes=[0, 1])
    before = _flat(clf).copy()
    with pytest.raises(ValueError, match="partial_fit does not support early_stop"):
        clf.set_params(early_stopping=True).partial_fit(X, y)
    assert_array_equal(_flat(clf), before)
    assert clf.n_iter_ == 1
    with pytest.raises(ValueError, match="early_stopping=True"):
        CNNClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1])


def test_partial_fit_unavailable_for_lbfgs():
    assert not hasattr(CNNClassifier(solver="lbfgs"), "partial_fit")


# ----------------------------------------------------------------- warm start
def test_warm_start_continues_like_one_long_fit(xnx):
    X, y = xnx
    # a constant rate: a cosine over 5 epochs then 5 more is not one over 10
    params = v02(**SMALL_NET, shuffle=False, tol=0.0, random_state=0)
    del params["max_iter"]
    long = fit_quietly(CNNClassifier(**params, max_iter=10), X, y)
    warm = CNNClassifier(**params, max_iter=5, warm_start=True)
    fit_quietly(warm, X, y)
    first_curve = list(warm.loss_curve_)
    fit_quietly(warm, X, y)
    # n_iter_ counts the epochs of the last fit, as MLP's; the curve them all
    assert warm.n_iter_ == 5 and len(warm.loss_curve_) == 10
    assert warm.loss_curve_[:5] == first_curve
    assert_allclose(warm.loss_curve_, long.loss_curve_)
    _assert_same_params(warm, long)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_warm_start_starts_from_current_loss(xnx, solver):
    X, y = xnx
    clf = CNNClassifier(**v02(**SEED_NET, max_iter=8), solver=solver, random_state=1)
    fit_quietly(clf, X, y)
    n_old, last = clf.n_iter_, clf.loss_curve_[-1]
    fit_quietly(clf.set_params(warm_start=True), X, y)
    cold = fit_quietly(clone(clf).set_params(warm_start=False), X, y)
    # the first new loss is near the old last one, unlike a fresh start's
    first_new = clf.loss_curve_[n_old]
    assert abs(first_new - last) < 0.3 * abs(cold.loss_curve_[0] - last)


def test_warm_start_picks_up_new_optimizer_settings(xnx):
    X, y = xnx
    # full batches: one step per epoch
    clf = CNNClassifier(**v02(**SMALL_NET, max_iter=2), warm_start=True, random_state=0)
    fit_quietly(clf, X, y)
    kept = clf._optimizer
    fit_quietly(clf, X, y)
    assert clf._optimizer is kept and kept.t == 4
    fit_quietly(clf.set_params(learning_rate_init=0.05), X, y)
    assert clf._optimizer is not kept
    assert clf._optimizer.learning_rate_init == 0.05 and clf._optimizer.t == 2
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 6


def test_warm_start_gets_fresh_patience(xnx):
    X, y = xnx
    clf = CNNClassifier(**SMALL_NET, tol=10.0, n_iter_no_change=2, random_state=0)
    clf.set_params(warm_start=True).fit(X, y)
    assert clf.n_iter_ == 1 + 3
    clf.fit(X, y)  # stalled from the start, stopping after 3 epochs again
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 4 + 3


def test_warm_start_switching_early_stopping(xnx):
    X, y = xnx
    clf = CNNClassifier(**SMALL_NET, max_iter=2, warm_start=True, random_state=0)
    fit_quietly(clf, X, y)
    fit_quietly(clf.set_params(early_stopping=True), X, y)
    assert len(clf.validation_scores_) == 2 == len(clf.validation_loss_curve_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    fit_quietly(clf.set_params(early_stopping=False), X, y)
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 6
    # partial_fit after an early-stopped fit tracks the training loss
    clf = CNNClassifier(**SMALL_NET, max_iter=2, early_stopping=True, random_state=0)
    fit_quietly(clf, X, y)
    assert clf.best_loss_ is None
    clf.set_params(early_stopping=False).partial_fit(X, y)
    assert clf.best_loss_ == clf.loss_curve_[-1]


def test_no_warm_start_restarts(xnx):
    X, y = xnx
    clf = CNNClassifier(**SMALL_NET, max_iter=3, random_state=0)
    fit_quietly(clf, X, y)
    fit_quietly(clf, X[::-1], y[::-1])
    fresh = fit_quietly(clone(clf), X[::-1], y[::-1])
    _assert_same_params(clf, fresh)
    assert clf.loss_curve_ == fresh.loss_curve_
    assert clf.n_iter_ == 3


# ------------------------------------------------------------- class weights
@pytest.fixture(scope="module")
def imbalanced():
    """Noisy X / not-X with 300 not-X and 30 X images, and a balanced test set."""
    X, y = make_x_or_not_x(600, noise=0.2, random_state=0)
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:30]]
    return X[keep], y[keep], *make_x_or_not_x(600, noise=0.2, random_state=1)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 1, 1: 10}])
def test_class_weight_raises_minority_recall(imbalanced, class_weight):
    X, y, X_test, y_test = imbalanced
    params = dict(n_filters=4, hidden_units=8, learning_rate_init=0.01, random_state=0)
    plain = fit_quietly(CNNClassifier(**params, max_iter=100), X, y)
    weighted = fit_quietly(
        CNNClassifier(**params, max_iter=100, class_weight=class_weight), X, y
    )
    plain_recall = recall_score(y_test, plain.predict(X_test))
    weighted_recall = recall_score(y_test, weighted.predict(X_test))
    assert weighted_recall > plain_recall + 0.1


@pytest.mark.parametrize("class_weight", ["balanced", {0: 0.5, 1: 3.0}])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_class_weight_equals_sample_weight(imbalanced, class_weight, solver):
    X, y = imbalanced[0][::3], imbalanced[1][::3]
    params = dict(**SMALL_NET, solver=solver, max_iter=5, random_state=0)
    by_class = fit_quietly(CNNClassifier(**params, class_weight=class_weight), X, y)
    sw = compute_sample_weight(class_weight, y)
    by_sample = fit_quietly(CNNClassifier(**params), X, y, sample_weight=sw)
    _assert_same_params(by_class, by_sample)


def test_class_weight_multiplies_sample_weight(xnx):
    X, y = xnx
    sw = np.random.RandomState(0).uniform(0.5, 2, len(y))
    cw = {0: 2.0, 1: 0.5}
    params = dict(**SMALL_NET, solver="lbfgs", max_iter=5, random_state=0)
    both = fit_quietly(CNNClassifier(**params, class_weight=cw), X, y, sample_weight=sw)
    product = fit_quietly(
        CNNClassifier(**params), X, y, sample_weight=sw * np.where(y == 0, 2.0, 0.5)
    )
    assert_allclose(both.predict_proba(X), product.predict_proba(X), rtol=1e-12)


def test_balanced_class_weight_with_partial_fit_errors(xnx):
    X, y = xnx
    clf = CNNClassifier(**SMALL_NET, class_weight="balanced")
    with pytest.raises(ValueError, match="'balanced' is not supported with partial"):
        clf.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(clf, "classes_")


def test_dict_class_weight_with_partial_fit(xnx):
    X, y = xnx
    params = dict(**SMALL_NET, random_state=0)
    a = CNNClassifier(**params, class_weight={0: 1.0, 1: 4.0})
    b = CNNClassifier(**params)
    for rows in (slice(0, 100), slice(100, 200)):
        a.partial_fit(X[rows], y[rows], classes=[0, 1])
        b.partial_fit(X[rows], y[rows], [0, 1], np.where(y[rows] == 1, 4.0, 1.0))
    _assert_same_params(a, b)


# ------------------------------------------------------------ sample weights
WEIGHT_SOLVERS = [
    dict(solver="lbfgs", max_iter=15),
    dict(solver="adam", batch_size=1000, shuffle=False, learning_rate_init=0.01),
    dict(solver="sgd", batch_size=1000, shuffle=False, learning_rate_init=0.1),
]


@pytest.fixture(scope="module")
def weighted_data():
    X, y = make_x_or_not_x(60, noise=0.1, random_state=0)
    return X, y, np.random.RandomState(0).randint(0, 3, size=len(y))


@pytest.mark.parametrize("solver_params", WEIGHT_SOLVERS)
def test_zero_weight_equals_dropping_rows(weighted_data, solver_params):
    X, y, w = weighted_data
    keep = w > 0
    params = v02(**SMALL_NET, max_iter=15, random_state=0) | solver_params
    weighted = fit_quietly(CNNClassifier(**params), X, y, sample_weight=keep * 1.0)
    dropped = fit_quietly(CNNClassifier(**params), X[keep], y[keep])
    unweighted = fit_quietly(CNNClassifier(**params), X, y)
    assert_allclose(weighted.predict_proba(X), dropped.predict_proba(X), rtol=1e-9)
    assert not np.allclose(unweighted.predict_proba(X), dropped.predict_proba(X))


@pytest.mark.parametrize("solver_params", WEIGHT_SOLVERS)
def test_integer_weights_equal_repeating_rows(weighted_data, solver_params):
    X, y, w = weighted_data
    params = v02(**SMALL_NET, max_iter=15, random_state=0) | solver_params
    weighted = fit_quietly(CNNClassifier(**params), X, y, sample_weight=w)
    repeated = fit_quietly(CNNClassifier(**params), np.repeat(X, w, 0), np.repeat(y, w))
    assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-9)


def test_all_zero_weights_error(xnx):
    X, y = xnx
    with pytest.raises(ValueError, match="non-zero"):
        CNNClassifier(**SMALL_NET).fit(X, y, sample_weight=np.zeros(len(y)))
    clf = CNNClassifier(**SMALL_NET, class_weight={0: 0.0, 1: 0.0})
    with pytest.raises(ValueError, match="sums to zero"):
        clf.fit(X, y)


# ------------------------------------------------------------------- verbose
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_verbose_zero_prints_nothing(xnx, capsys, solver):
    X, y = xnx
    clf = CNNClassifier(**SMALL_NET, solver=solver, max_iter=3, random_state=0)
    fit_quietly(clf, X, y)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_verbose_lines_without_tqdm(xnx, capsys, monkeypatch, solver, early_stopping):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, y = xnx
    clf = CNNClassifier(
        **SMALL_NET,
        solver=solver,
        early_stopping=early_stopping,
        max_iter=4,
        verbose=1,
        random_state=0,
    )
    fit_quietly(clf, X, y)
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == clf.n_iter_ == len(clf.loss_curve_)
    with_validation = early_stopping and solver != "lbfgs"
    # the default cosine schedule changes the rate, so its lines show it
    # (a constant rate's are as MLP's; L-BFGS has no rate)
    with_rate = solver != "lbfgs"
    for i, line in enumerate(lines):
        fields = line.split(", ")
        assert fields[0] == f"Iteration {i + 1}"
        assert fields[1] == f"loss = {clf.loss_curve_[i]:.8f}"
        if with_validation:
            assert fields[2] == f"validation score = {clf.validation_scores_[i]:.6f}"
        if with_rate:
            rate = clf.learning_rate_curve_[i]
            assert fields[2 + with_validation] == f"learning rate = {rate:.6g}"
        assert fields[-1].startswith("time = ") and fields[-1].endswith("s")
        assert len(fields) == 3 + with_validation + with_rate


def test_verbose_draws_tqdm_bar(xnx, capsys):
    needs("tqdm")
    X, y = xnx
    clf = CNNClassifier(**SMALL_NET, max_iter=4, verbose=1, random_state=0)
    fit_quietly(clf, X, y)
    out, err = capsys.readouterr()
    assert out == ""
    assert "epochs" in err and "4/4" in err and "loss=" in err


def test_verbose_two_prints_lines_under_bar(xnx, capsys):
    needs("tqdm")
    X, y = xnx
    clf = CNNClassifier(**SMALL_NET, max_iter=3, verbose=2, random_state=0)
    fit_quietly(clf, X, y)
    out, err = capsys.readouterr()
    assert "3/3" in err
    assert sum(line.startswith("Iteration ") for line in out.splitlines()) == 3


# ------------------------------------------------------------------- Ctrl-C
@pytest.mark.parametrize("optimizer", [AdamOptimizer, SGDOptimizer])
def test_ctrl_c_stops_after_current_batch(digits, sigint_after, optimizer):
    X, y = digits[0][:400], digits[1][:400]
    solver = "adam" if optimizer is AdamOptimizer else "sgd"
    # 4 batches of 100 rows per epoch; Ctrl-C during the 7th batch (epoch 2)
    calls = sigint_after(optimizer, "update_params", 7)
    handler = signal.getsignal(signal.SIGINT)
    clf = CNNClassifier(**SMALL_NET, solver=solver, batch_size=100, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    messages = [str(w.message) for w in caught]
    assert any("interrupted" in m for m in messages)
    assert not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert len(calls) == 7
    assert clf.n_iter_ == 2 == len(clf.loss_curve_)
    assert signal.getsignal(signal.SIGINT) is handler
    assert clf.predict(X).shape == (400,)
    assert np.all(np.isfinite(clf.predict_proba(X)))


def test_ctrl_c_keeps_best_weights_with_early_stopping(
    digits, sigint_after, spy_validation
):
    X, y = digits[0][:400], digits[1][:400]
    sigint_after(SGDOptimizer, "update_params", 22)
    clf = CNNClassifier(
        **v02(n_filters=3, hidden_units=16, batch_size=80),
        solver="sgd",
        learning_rate_init=0.5,
        early_stopping=True,
        validation_fraction=0.2,
        random_state=1,
    )
    with pytest.warns(UserWarning, match="interrupted"):
        clf.fit(X, y)
    scores = spy_validation["score"]
    best = int(np.argmax(scores))
    assert clf.n_iter_ == 6 == len(scores)  # 4 batches of 80 rows per epoch
    assert scores[-1] < scores[best]
    assert_array_equal(_flat(clf), spy_validation["flat"][best])


def test_ctrl_c_stops_lbfgs(xnx, sigint_after):
    X, y = xnx
    calls = sigint_after(training, "full_batch_loss_and_grad", 5)
    clf = CNNClassifier(**SEED_NET, solver="lbfgs", random_state=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    assert any("interrupted" in str(w.message) for w in caught)
    assert not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert 1 <= clf.n_iter_ < 24
    assert len(clf.loss_curve_) == clf.n_iter_
    assert len(calls) < 24
    assert clf.loss_ == pytest.approx(clf.loss_curve_[-1])
    assert np.all(np.isfinite(clf.predict_proba(X)))


def test_second_ctrl_c_aborts_and_restores(xnx, sigint_after):
    X, y = xnx
    clf = CNNClassifier(**SMALL_NET, max_iter=3, random_state=0, warm_start=True)
    fit_quietly(clf.set_params(batch_size=50), X, y)
    before = [p.copy() for p in _all_params(clf)]
    curve, m = list(clf.loss_curve_), clf._optimizer.m.copy()
    # two Ctrl-C in the second of 4 batches of the second epoch
    sigint_after(AdamOptimizer, "update_params", 6, times=2)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    for p, q in zip(before, _all_params(clf)):
        assert_array_equal(p, q)
    assert clf.loss_curve_ == curve and clf.n_iter_ == 3
    assert clf._optimizer.t == 12
    assert_array_equal(clf._optimizer.m, m)


# ----------------------------------------------------------------- divergence
def test_divergence_raises_and_leaves_unfitted(digits):
    X, y = digits
    clf = CNNClassifier(solver="sgd", learning_rate_init=10.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow RuntimeWarnings either
        with pytest.raises(training.DivergenceError, match="learning_rate_init"):
            clf.fit(X[:300] * 16, y[:300])
    assert issubclass(training.DivergenceError, ValueError)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_non_finite_loss_raises(digits):
    X, y = digits
    clf = CNNClassifier(
        **SMALL_NET,
        activation="identity",
        solver="sgd",
        learning_rate_init=10.0,
        random_state=0,
    )
    with pytest.raises(ValueError, match="smaller learning_rate_init"):
        clf.fit(X[:300] * 16, y[:300])
    assert not hasattr(clf, "coefs_")


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_divergence_keeps_previous_model(digits, method):
    X, y = digits[0][:300] * 16, digits[1][:300]
    # a constant rate, which the failed call must leave at 0.01
    clf = CNNClassifier(**v02(max_iter=2), solver="sgd", learning_rate_init=0.01)
    clf.set_params(random_state=0, warm_start=True)
    fit_quietly(clf, X, y)
    proba = clf.predict_proba(X)
    state = (list(clf.loss_curve_), clf.n_iter_, clf.t_, clf._optimizer.velocity.copy())
    clf.set_params(learning_rate_init=10.0)
    with pytest.raises(training.DivergenceError):
        getattr(clf, method)(X, y)
    assert_array_equal(clf.predict_proba(X), proba)
    assert clf.loss_curve_ == state[0] and (clf.n_iter_, clf.t_) == state[1:3]
    assert_array_equal(clf._optimizer.velocity, state[3])
    assert clf._optimizer.learning_rate == 0.01


# ------------------------------------------- decision_function, log proba
@pytest.mark.parametrize("n_classes", [2, 3])
def test_decision_function_and_log_proba(digits, n_classes):
    X, y = digits
    mask = y < n_classes
    X, y = X[mask][:150], y[mask][:150]
    clf = fit_quietly(CNNClassifier(**SMALL_NET, max_iter=5, random_state=0), X, y)
    scores = clf.decision_function(X)
    proba = clf.predict_proba(X)
    pred = clf.predict(X)
    assert_allclose(clf.predict_log_proba(X), np.log(proba))
    assert_array_equal(pred, clf.classes_[np.argmax(proba, axis=1)])
    if n_classes == 2:
        assert scores.shape == (len(y),)
        assert_allclose(proba[:, 1], expit(scores))
        assert_array_equal(pred, clf.classes_[(scores > 0).astype(int)])
    else:
        assert scores.shape == (len(y), n_classes)
        assert_array_equal(pred, clf.classes_[np.argmax(scores, axis=1)])
        softmax = np.exp(scores - scores.max(1, keepdims=True))
        assert_allclose(proba, softmax / softmax.sum(1, keepdims=True))


# -------------------------------------------------------------- random_state
@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam"),
        dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.1),
        dict(solver="lbfgs"),
        dict(solver="adam", early_stopping=True),
        dict(solver="sgd", early_stopping=True, learning_rate_init=0.1),
    ],
)
def test_random_state_reproducible(xnx, params):
    X, y = xnx
    make = dict(**SMALL_NET, max_iter=5, batch_size=50, **params)
    a = fit_quietly(CNNClassifier(**make, random_state=3), X, y)
    b = fit_quietly(CNNClassifier(**make, random_state=3), X, y)
    _assert_same_params(a, b)
    assert a.loss_curve_ == b.loss_curve_
    assert a.validation_scores_ == b.validation_scores_
    c = fit_quietly(CNNClassifier(**make, random_state=4), X, y)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])
