"""CNNRegressor: outputs and shapes, the loss and score against independent
computations, early stopping, sample weights, partial_fit, warm starts,
float32, divergence, Ctrl-C, the memory guard and progress output.

The classifier's versions of the training features are in test_training.py;
here each is checked for the regressor, against sklearn.metrics or plain NumPy.
"""

import signal
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import cross_val_score
from sklearn.preprocessing import StandardScaler

import sklearn_xcnn._training as training
from sklearn_xcnn import CNNClassifier, CNNRegressor, DivergenceError, _memory
from sklearn_xcnn._optimizers import AdamOptimizer, SGDOptimizer
from sklearn_xcnn.inspection import feature_maps

from .conftest import V02, fit_quietly, needs
from .core.test_regression_gradients import plain_outputs

SMALL = dict(n_filters=3, hidden_units=8)


def v02(**params):
    """The 0.2 network and regime ('valid' blocks without batch norm, no
    dropout, full batches at a constant rate; see conftest.V02) with
    ``params`` over it: what plain_outputs computes, and what the hand-worked
    losses and bit-for-bit equalities here need."""
    return {**V02, **params}


def _flat(est):
    return np.concatenate([p.ravel() for p in est._fitted_network().params])


def _assert_same_params(a, b):
    for pa, pb in zip(a._fitted_network().params, b._fitted_network().params):
        assert_array_equal(pa, pb)


def _penalty(est, total):
    """0.5 * alpha * ||filters and coefs||^2 / total, from the fitted attributes."""
    weights = est.filters_ + est.coefs_
    return 0.5 * est.alpha * sum(float((w**2).sum()) for w in weights) / total


def _hand_loss(est, X, Y, sample_weight=None):
    """Half the (weighted) mean squared error of the predictions plus L2."""
    total = len(X) if sample_weight is None else sample_weight.sum()
    mse = mean_squared_error(Y, est.predict(X), sample_weight=sample_weight)
    return 0.5 * mse + _penalty(est, total)


# ------------------------------------------------------- outputs and shapes
def test_predict_shape_follows_y(bars):
    X, Y = bars
    single = fit_quietly(CNNRegressor(**SMALL, max_iter=3, random_state=0), X, Y[:, 0])
    assert single.predict(X).shape == (300,) and single.n_outputs_ == 1
    assert single.coefs_[-1].shape == (8, 1)
    multi = fit_quietly(CNNRegressor(**SMALL, max_iter=3, random_state=0), X, Y)
    assert multi.predict(X).shape == (300, 2) and multi.n_outputs_ == 2
    assert multi.coefs_[-1].shape == (8, 2)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        column = fit_quietly(clone(single), X, Y[:, :1])
    assert column.predict(X).shape == (300,)
    assert_array_equal(column.predict(X), single.predict(X))
    chunked = CNNRegressor(**SMALL, random_state=0).partial_fit(X, Y)
    assert chunked.partial_fit(X[:10], Y[:10]).predict(X[:7]).shape == (7, 2)


def test_fitted_attributes_are_the_classifiers_without_classes(bars):
    X, Y = bars
    y_class = (Y[:, 0] > 0.5).astype(int)
    clf = fit_quietly(CNNClassifier(**SMALL, max_iter=2, random_state=0), X, y_class)
    reg = fit_quietly(CNNRegressor(**SMALL, max_iter=2, random_state=0), X, Y[:, 0])

    def public_fitted(est):
        return {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}

    assert public_fitted(reg) == public_fitted(clf) - {"classes_"}
    assert not hasattr(reg, "classes_")
    assert reg.out_activation_ == "identity"
    assert (reg._loss_label, reg._score_label) == ("squared error / 2", "R^2")
    assert "class_weight" not in reg.get_params()
    assert set(reg.get_params()) == set(clf.get_params()) - {"class_weight"}


@pytest.mark.parametrize(
    "params",
    [
        dict(n_filters=(2, 2), kernel_size=2, pooling="mean", hidden_units=(5, 3)),
        dict(n_filters=3, stride=2, pooling="sum", activation="tanh"),
        dict(n_filters=2, pooling=None, hidden_units=(), algorithm="scipy"),
    ],
)
def test_predictions_are_the_identity_output_units(bars, params):
    """predict is the output layer itself, against a plain forward pass."""
    X, Y = bars
    reg = CNNRegressor(**v02(**params, max_iter=3), random_state=0)
    fit_quietly(reg, X, Y)
    spec, weights, _ = reg._fitted_network()
    expected = plain_outputs(weights, X[:20].reshape(20, 8, 8, 1), spec)
    assert_allclose(reg.predict(X[:20]), expected, rtol=1e-10, atol=1e-12)


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        CNNRegressor().predict(np.zeros((2, 16)))


# ------------------------------------------------------------ score and loss
@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_score_is_r2(bars, n_outputs, weighted):
    X, Y = bars
    y = Y[:, 0] if n_outputs == 1 else Y
    sw = np.random.RandomState(0).uniform(0.5, 2, 300) if weighted else None
    reg = CNNRegressor(**SMALL, solver="lbfgs", max_iter=30, random_state=0)
    fit_quietly(reg, X, y)
    expected = r2_score(y, reg.predict(X), sample_weight=sw)
    assert reg.score(X, y, sample_weight=sw) == pytest.approx(expected, rel=1e-12)
    assert 0.5 < expected < 1


@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_lbfgs_loss_is_half_mse_plus_l2(bars, n_outputs, weighted):
    X, Y = bars
    y = Y[:, 0] if n_outputs == 1 else Y
    sw = np.random.RandomState(1).randint(0, 3, 300) * 1.0 if weighted else None
    # no batch norm: predict's running averages are not the batch's statistics
    reg = CNNRegressor(
        **v02(**SMALL, max_iter=15), solver="lbfgs", alpha=0.5, random_state=0
    )
    fit_quietly(reg, X, y, sample_weight=sw)
    assert reg.loss_ == pytest.approx(_hand_loss(reg, X, y, sw), rel=1e-10)
    assert reg.loss_ == pytest.approx(reg.loss_curve_[-1], rel=1e-10)
    assert reg.best_loss_ == min(reg.loss_curve_)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_epoch_loss_is_that_of_the_weights_it_started_from(bars, solver):
    """With one batch of all rows, an epoch's recorded loss is the loss of the
    weights before its step: 0.5 * MSE of their predictions plus L2."""
    X, Y = bars
    reg = CNNRegressor(
        **v02(**SMALL, batch_size=300, max_iter=3), solver=solver, alpha=0.3,
        shuffle=False, random_state=0,
    )  # fmt: skip
    fit_quietly(reg, X, Y)
    expected = _hand_loss(reg, X, Y)
    reg.partial_fit(X, Y)
    assert reg.loss_curve_[-1] == pytest.approx(expected, rel=1e-10)
    assert reg.loss_ == reg.loss_curve_[-1]


# ------------------------------------------------------------ early stopping
@pytest.mark.parametrize("weighted", [False, True])
def test_early_stopping_scores_r2_on_a_random_split(bars, held_out_spy, weighted):
    X, Y = bars
    sw = np.random.RandomState(2).uniform(0.5, 2, 300) if weighted else None
    reg = CNNRegressor(
        **SMALL, early_stopping=True, validation_fraction=0.2, n_iter_no_change=5,
        learning_rate_init=0.03, max_iter=150, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg.fit(X, Y, sample_weight=sw)
    assert held_out_spy["stratify"] is None  # random, not stratified
    rows = held_out_spy["rows"]
    assert len(rows) == 60 and len(np.unique(rows)) == 60
    assert reg.t_ == reg.n_iter_ * 240
    assert reg.validation_scores_ == held_out_spy["score"]
    best = int(np.argmax(reg.validation_scores_))
    assert reg.best_validation_score_ == reg.validation_scores_[best]
    assert_array_equal(_flat(reg), held_out_spy["flat"][best])  # restored
    sw_val = None if sw is None else sw[rows]
    pred = reg.predict(X[rows])
    expected = r2_score(Y[rows], pred, sample_weight=sw_val)
    assert reg.best_validation_score_ == pytest.approx(expected, rel=1e-10)
    half_mse = 0.5 * mean_squared_error(Y[rows], pred, sample_weight=sw_val)
    assert reg.validation_loss_curve_[best] == pytest.approx(half_mse, rel=1e-10)
    assert reg.best_loss_ is None
    assert reg.best_validation_score_ > 0.5


def test_classifier_split_is_stratified_and_regressor_not(bars, held_out_spy):
    X, Y = bars
    params = dict(**SMALL, early_stopping=True, max_iter=2, random_state=0)
    fit_quietly(CNNClassifier(**params), X, (Y[:, 0] > 0.5).astype(int))
    assert held_out_spy["stratify"] is not None
    fit_quietly(CNNRegressor(**params), X, Y[:, 0])
    assert held_out_spy["stratify"] is None


# ------------------------------------------------------------ sample weights
WEIGHT_SOLVERS = [
    dict(solver="lbfgs", max_iter=15),
    dict(solver="adam", batch_size=1000, shuffle=False, learning_rate_init=0.01),
    dict(solver="sgd", batch_size=1000, shuffle=False, learning_rate_init=0.1),
]


@pytest.fixture(scope="module")
def weighted_bars():
    from .conftest import make_bars

    X, Y = make_bars(60, random_state=3)
    return X, Y, np.random.RandomState(0).randint(0, 3, size=60)


@pytest.mark.parametrize("solver_params", WEIGHT_SOLVERS)
def test_zero_weight_equals_dropping_rows(weighted_bars, solver_params):
    X, Y, w = weighted_bars
    keep = w > 0
    params = v02(**SMALL, max_iter=15, random_state=0) | solver_params
    weighted = fit_quietly(CNNRegressor(**params), X, Y, sample_weight=keep * 1.0)
    dropped = fit_quietly(CNNRegressor(**params), X[keep], Y[keep])
    unweighted = fit_quietly(CNNRegressor(**params), X, Y)
    assert_allclose(weighted.predict(X), dropped.predict(X), rtol=1e-9)
    assert not np.allclose(unweighted.predict(X), dropped.predict(X))


@pytest.mark.parametrize("solver_params", WEIGHT_SOLVERS)
def test_integer_weights_equal_repeating_rows(weighted_bars, solver_params):
    X, Y, w = weighted_bars
    params = v02(**SMALL, max_iter=15, random_state=0) | solver_params
    weighted = fit_quietly(CNNRegressor(**params), X, Y, sample_weight=w)
    repeated = fit_quietly(
        CNNRegressor(**params), np.repeat(X, w, 0), np.repeat(Y, w, 0)
    )
    assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-9)
    assert weighted.loss_ == pytest.approx(repeated.loss_, rel=1e-9)


def test_all_zero_weights_error(bars):
    X, Y = bars
    with pytest.raises(ValueError, match="non-zero"):
        CNNRegressor(**SMALL).fit(X, Y, sample_weight=np.zeros(300))


# --------------------------------------------------------------- partial_fit
def test_partial_fit_one_epoch_per_call(bars):
    X, Y = bars
    reg = CNNRegressor(**v02(**SMALL), random_state=0)
    for call in range(1, 4):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # never a ConvergenceWarning
            reg.partial_fit(X, Y)
        assert reg.n_iter_ == call and len(reg.loss_curve_) == call
        assert reg.t_ == call * 300
        assert reg._optimizer.t == 2 * call  # batches of 200 and 100 rows


def test_partial_fit_chunks_learn(bars):
    X, Y = bars
    reg = CNNRegressor(**SMALL, learning_rate_init=0.01, random_state=0)
    for _ in range(30):
        for rows in np.array_split(np.arange(240), 4):
            reg.partial_fit(X[rows], Y[rows])
    assert reg.n_iter_ == 120
    assert reg.score(X[240:], Y[240:]) > 0.5


def test_partial_fit_other_number_of_outputs_errors_and_keeps_state(bars):
    X, Y = bars
    reg = CNNRegressor(**SMALL, random_state=0).partial_fit(X, Y)
    before = _flat(reg).copy()
    with pytest.raises(ValueError, match=r"y has 1 output\(s\) but CNNRegressor"):
        reg.partial_fit(X, Y[:, 0])
    assert_array_equal(_flat(reg), before)
    assert reg.n_iter_ == 1


def test_partial_fit_refuses_early_stopping(bars):
    X, Y = bars
    reg = CNNRegressor(**SMALL, random_state=0).partial_fit(X, Y)
    before = _flat(reg).copy()
    with pytest.raises(ValueError, match="partial_fit does not support early_stop"):
        reg.set_params(early_stopping=True).partial_fit(X, Y)
    assert_array_equal(_flat(reg), before)
    with pytest.raises(ValueError, match="early_stopping=True"):
        CNNRegressor(early_stopping=True).partial_fit(X, Y)


def test_partial_fit_unavailable_for_lbfgs():
    assert not hasattr(CNNRegressor(solver="lbfgs"), "partial_fit")
    assert hasattr(CNNRegressor(solver="sgd"), "partial_fit")


@pytest.mark.parametrize("n_iter_no_change", [10, np.inf])
def test_fit_equals_repeated_partial_fit(bars, n_iter_no_change):
    """fit(solver="sgd", max_iter=n, tol=0) and n partial_fit calls with the
    same random_state make the same model, as with MLPRegressor."""
    X, Y = bars
    n = 12
    # a constant rate: partial_fit has no span for a cosine over max_iter
    params = v02(**SMALL, solver="sgd", learning_rate_init=0.01, random_state=0)
    del params["max_iter"]
    full = fit_quietly(
        CNNRegressor(**params, max_iter=n, tol=0, n_iter_no_change=n_iter_no_change),
        X,
        Y,
    )
    assert full.n_iter_ == n
    stepped = CNNRegressor(**params)
    for _ in range(n):
        stepped.partial_fit(X, Y)
    assert_array_equal(stepped.predict(X), full.predict(X))
    assert stepped.loss_curve_ == full.loss_curve_


# ---------------------------------------------------------------- warm start
def test_warm_start_continues_like_one_long_fit(bars):
    X, Y = bars
    # a constant rate: a cosine over 5 epochs then 5 more is not one over 10
    params = v02(**SMALL, shuffle=False, tol=0.0, random_state=0)
    del params["max_iter"]
    long = fit_quietly(CNNRegressor(**params, max_iter=10), X, Y)
    warm = CNNRegressor(**params, max_iter=5, warm_start=True)
    fit_quietly(warm, X, Y)
    first = list(warm.loss_curve_)
    fit_quietly(warm, X, Y)
    assert warm.n_iter_ == 5 and len(warm.loss_curve_) == 10  # as MLP's
    assert warm.loss_curve_[:5] == first
    assert_allclose(warm.loss_curve_, long.loss_curve_)
    _assert_same_params(warm, long)
    assert warm.t_ == long.t_ == 3000


def test_lbfgs_warm_start_continues_the_curve(bars):
    X, Y = bars
    reg = CNNRegressor(**SMALL, solver="lbfgs", max_iter=4, random_state=0)
    fit_quietly(reg, X, Y)
    curve = list(reg.loss_curve_)
    fit_quietly(reg.set_params(warm_start=True), X, Y)
    assert reg.n_iter_ == 4 and len(reg.loss_curve_) == 8
    assert reg.loss_curve_[:4] == curve
    assert reg.loss_curve_[4] < curve[-1]


def test_warm_start_with_other_outputs_names_warm_start(bars):
    X, Y = bars
    reg = fit_quietly(CNNRegressor(**SMALL, max_iter=2, random_state=0), X, Y)
    before = reg.predict(X)
    with pytest.raises(ValueError, match="warm_start=False"):
        reg.set_params(warm_start=True).fit(X, Y[:, 0])
    assert_array_equal(reg.predict(X), before)
    fit_quietly(reg.set_params(warm_start=False), X, Y[:, 0])  # a fresh fit may
    assert reg.n_outputs_ == 1


def test_no_warm_start_restarts(bars):
    X, Y = bars
    reg = fit_quietly(CNNRegressor(**SMALL, max_iter=3, random_state=0), X, Y)
    fit_quietly(reg, X[::-1], Y[::-1])
    fresh = fit_quietly(clone(reg), X[::-1], Y[::-1])
    _assert_same_params(reg, fresh)
    assert reg.loss_curve_ == fresh.loss_curve_ and reg.n_iter_ == 3


# ------------------------------------------------------------------ stopping
def test_n_iter_no_change_inf_runs_to_max_iter(bars):
    X, Y = bars
    # tol=10: every epoch fails to improve, so a finite patience stops early
    stopped = CNNRegressor(**SMALL, tol=10.0, n_iter_no_change=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        stopped.fit(X, Y)
    assert stopped.n_iter_ == 4
    # a constant rate cut short by max_iter (a cosine ends there by design)
    never = CNNRegressor(**v02(**SMALL, max_iter=7), tol=10.0, n_iter_no_change=np.inf)
    with pytest.warns(ConvergenceWarning, match=r"maximum iterations \(7\)"):
        never.fit(X, Y)
    assert never.n_iter_ == 7 == len(never.loss_curve_)


# ------------------------------------------------------------------- float32
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_float32_end_to_end(bars, solver):
    X, Y = bars
    X32 = X.astype(np.float32)
    # the network plain_outputs computes (test_dtype covers the defaults')
    params = v02(**SMALL, solver=solver, max_iter=5, random_state=0)
    reg = fit_quietly(CNNRegressor(**params), X32, Y)  # float64 targets
    spec, weights, _ = reg._fitted_network()
    assert all(w.dtype == np.float32 for w in weights)
    assert reg.predict(X32).dtype == np.float32
    if solver != "lbfgs":
        state = reg._optimizer.m if solver == "adam" else reg._optimizer.velocity
        assert state.dtype == np.float32
        reg.partial_fit(X32, Y)
        assert all(w.dtype == np.float32 for w in reg._fitted_network().params)
    stages = feature_maps(reg, X32[:3])
    arrays = [stages.flattened, stages.logits, stages.predictions, *stages.hidden]
    arrays += [a for block in stages.blocks for k, a in block.items() if k != "kind"]
    assert all(a.dtype == np.float32 for a in arrays)
    # the same weights in float64 predict the same up to single precision
    reference = plain_outputs(
        [w.astype(np.float64) for w in reg._fitted_network().params],
        X[:20].reshape(20, 8, 8, 1),
        spec,
    )
    assert_allclose(reg.predict(X32[:20]), reference, rtol=1e-4, atol=1e-5)
    assert isinstance(reg.loss_, float)


def test_float32_early_stopping(bars):
    X, Y = bars
    reg = CNNRegressor(**SMALL, early_stopping=True, max_iter=3, random_state=0)
    fit_quietly(reg, X.astype(np.float32), Y.astype(np.float32))
    assert all(w.dtype == np.float32 for w in reg.coefs_)
    assert len(reg.validation_scores_) == 3


# ---------------------------------------------------------------- divergence
def test_divergence_raises_and_leaves_unfitted(bars):
    X, Y = bars
    reg = CNNRegressor(solver="sgd", learning_rate_init=10.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow RuntimeWarnings either
        with pytest.raises(DivergenceError, match="learning_rate_init"):
            reg.fit(X * 10, Y * 100)
    with pytest.raises(NotFittedError):
        reg.predict(X)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_divergence_keeps_previous_model(bars, method):
    X, Y = bars
    reg = CNNRegressor(**SMALL, solver="sgd", learning_rate_init=0.01, max_iter=2)
    fit_quietly(reg.set_params(random_state=0, warm_start=True), X, Y)
    before = reg.predict(X)
    state = (list(reg.loss_curve_), reg.n_iter_, reg.t_)
    velocity = reg._optimizer.velocity.copy()
    reg.set_params(learning_rate_init=1e4)
    with pytest.raises(DivergenceError):
        getattr(reg, method)(X * 10, Y * 100)
    assert_array_equal(reg.predict(X), before)
    assert (list(reg.loss_curve_), reg.n_iter_, reg.t_) == state
    assert_array_equal(reg._optimizer.velocity, velocity)


# -------------------------------------------------------------------- Ctrl-C
@pytest.mark.parametrize("optimizer", [AdamOptimizer, SGDOptimizer])
def test_ctrl_c_stops_after_current_batch(bars, sigint_after, optimizer):
    X, Y = bars
    solver = "adam" if optimizer is AdamOptimizer else "sgd"
    # 3 batches of 100 rows per epoch; Ctrl-C during the 5th batch (epoch 2)
    calls = sigint_after(optimizer, "update_params", 5)
    handler = signal.getsignal(signal.SIGINT)
    reg = CNNRegressor(**SMALL, solver=solver, batch_size=100, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg.fit(X, Y)
    assert any("interrupted" in str(w.message) for w in caught)
    assert not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert len(calls) == 5
    assert reg.n_iter_ == 2 == len(reg.loss_curve_)
    assert signal.getsignal(signal.SIGINT) is handler
    assert np.all(np.isfinite(reg.predict(X)))


def test_ctrl_c_stops_lbfgs(bars, sigint_after):
    X, Y = bars
    calls = sigint_after(training, "full_batch_loss_and_grad", 4)
    reg = CNNRegressor(**SMALL, solver="lbfgs", random_state=0)
    with pytest.warns(UserWarning, match="interrupted"):
        reg.fit(X, Y)
    assert 1 <= reg.n_iter_ < 10 and len(calls) < 10
    assert reg.loss_ == pytest.approx(reg.loss_curve_[-1])
    assert np.all(np.isfinite(reg.predict(X)))


def test_second_ctrl_c_aborts_and_restores(bars, sigint_after):
    X, Y = bars
    reg = CNNRegressor(**SMALL, max_iter=2, batch_size=100, random_state=0)
    fit_quietly(reg.set_params(warm_start=True), X, Y)
    before, curve = _flat(reg).copy(), list(reg.loss_curve_)
    sigint_after(AdamOptimizer, "update_params", 2, times=2)
    with pytest.raises(KeyboardInterrupt):
        reg.fit(X, Y)
    assert_array_equal(_flat(reg), before)
    assert reg.loss_curve_ == curve and reg._optimizer.t == 6


# -------------------------------------------------------------- memory guard
def test_training_that_cannot_fit_in_memory_is_refused():
    # two 2000x2000 images; a 1000x1000 im2col patch matrix needs terabytes
    X = np.zeros((2, 2000 * 2000), dtype=np.float32)
    reg = CNNRegressor(kernel_size=1000, algorithm="im2col", image_shape=(2000, 2000))
    with pytest.raises(MemoryError, match="Not enough memory to train on batches"):
        reg.fit(X, np.array([0.5, 1.5]))
    assert not hasattr(reg, "coefs_")


def test_prediction_that_cannot_fit_in_memory_is_refused(bars, monkeypatch):
    X, Y = bars
    reg = fit_quietly(CNNRegressor(**SMALL, max_iter=1, random_state=0), X, Y)
    monkeypatch.setattr(_memory, "available_memory", lambda: 10)
    with pytest.raises(MemoryError, match="Not enough memory to predict one image"):
        reg.predict(X)


# ------------------------------------------------------------------- verbose
@pytest.mark.parametrize("early_stopping", [False, True])
def test_verbose_lines(bars, capsys, monkeypatch, early_stopping):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, Y = bars
    reg = CNNRegressor(
        **SMALL, early_stopping=early_stopping, max_iter=3, verbose=1, random_state=0
    )
    fit_quietly(reg, X, Y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines):
        fields = line.split(", ")
        assert fields[:2] == [f"Iteration {i + 1}", f"loss = {reg.loss_curve_[i]:.8f}"]
        if early_stopping:
            assert fields[2] == f"validation score = {reg.validation_scores_[i]:.6f}"


def test_verbose_draws_tqdm_bar(bars, capsys):
    needs("tqdm")
    X, Y = bars
    fit_quietly(CNNRegressor(**SMALL, max_iter=3, verbose=1, random_state=0), X, Y)
    out, err = capsys.readouterr()
    assert out == "" and "3/3" in err and "loss=" in err


# ------------------------------------------------------------ use in sklearn
def test_learns_bar_length_and_position(bars):
    from .conftest import make_bars

    X, Y = bars
    X_test, Y_test = make_bars(200, random_state=1)
    reg = fit_quietly(CNNRegressor(solver="lbfgs", max_iter=100, random_state=0), X, Y)
    assert reg.score(X_test, Y_test) > 0.9
    per_output = r2_score(Y_test, reg.predict(X_test), multioutput="raw_values")
    assert np.all(per_output > 0.85)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_cross_validated_with_a_target_transform(bars):
    """Targets far from order 1 train through TransformedTargetRegressor."""
    X, Y = bars
    reg = CNNRegressor(**SMALL, solver="lbfgs", max_iter=50, random_state=0)
    model = TransformedTargetRegressor(reg, transformer=StandardScaler())
    scores = cross_val_score(model, X, 100 * Y[:, 0] + 50, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.5)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_random_state_reproducible(bars, solver):
    X, Y = bars
    params = dict(**SMALL, solver=solver, max_iter=4, batch_size=50)
    a = fit_quietly(CNNRegressor(**params, random_state=3), X, Y)
    b = fit_quietly(CNNRegressor(**params, random_state=3), X, Y)
    _assert_same_params(a, b)
    assert a.loss_curve_ == b.loss_curve_
    c = fit_quietly(CNNRegressor(**params, random_state=4), X, Y)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])
