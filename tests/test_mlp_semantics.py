"""CNNClassifier behaves as scikit-learn's MLPClassifier (1.9) where their
training features meet: multilabel partial_fit, fit against repeated
partial_fit, warm starts with other classes, an infinite patience, n_iter_
under warm_start and partial_fit refusing early stopping.

The regressor's versions are in test_regressor.py. At the end, tests of
scikit-learn's test_mlp.py ported to both estimators at MLP's
hyperparameters (issue 21), with what benchmarks/README.md measured where
MLP's threshold is not a CNN's to meet.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import MinMaxScaler

from sklearn_xcnn import CNNClassifier
from sklearn_xcnn.datasets import make_x_or_not_x

from .conftest import V02, fit_quietly

SMALL = dict(n_filters=2, hidden_units=6)


def v02(**params):
    """The 0.2 network and regime, MLP's (full batches of min(200, n) at a
    constant rate, no dropout or batch norm; see conftest.V02), with
    ``params`` over it."""
    return {**V02, **params}


@pytest.fixture(scope="module")
def three_digits():
    """The first 200 digits among 0, 1 and 2, scaled to [0, 1] (as the
    partial_fit test of scikit-learn's MLP scales its digits)."""
    X, y = load_digits(return_X_y=True)
    keep = y < 3
    return MinMaxScaler().fit_transform(X[keep][:200]), y[keep][:200]


@pytest.fixture(scope="module")
def multilabel():
    """X-or-not-X images with two labels: "is an X" and "has a black centre"."""
    X, y = make_x_or_not_x(120, random_state=0)
    centre = X.reshape(-1, 5, 5)[:, 2, 2] > 0.5
    return X, np.c_[y, centre].astype(int)


def _flat(clf):
    return np.concatenate([p.ravel() for p in clf._fitted_network().params])


def _mlp_stopping_epoch(loss_curve, tol, n_iter_no_change):
    """The epoch after which MLP's rule stops on the training loss, or None:
    an epoch fails to improve when its loss exceeds the best so far minus
    ``tol``, and training stops once more than ``n_iter_no_change``
    consecutive epochs failed."""
    best, count = np.inf, 0
    for epoch, loss in enumerate(loss_curve, start=1):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > n_iter_no_change:
            return epoch
    return None


# ------------------------------------------------------ multilabel partial_fit
def test_partial_fit_on_a_multilabel_indicator(multilabel):
    X, Y = multilabel
    clf = CNNClassifier(**v02(**SMALL), learning_rate_init=0.05, random_state=0)
    clf.partial_fit(X, Y, classes=[0, 1])
    assert_array_equal(clf.classes_, [0, 1])
    assert clf.n_outputs_ == 2 and clf.out_activation_ == "logistic"
    for _ in range(100):
        clf.partial_fit(X, Y)  # later calls need no classes
    assert clf.n_iter_ == 101
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    pred = clf.predict(X)
    assert pred.shape == (120, 2) and set(np.unique(pred)) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 2)
    assert_array_equal(pred, (proba > 0.5).astype(int))
    assert clf.score(X, Y) > 0.95  # subset accuracy: every label right


def test_partial_fit_multilabel_with_three_labels(multilabel):
    X, Y = multilabel
    Y3 = np.c_[Y, 1 - Y[:, 0]]
    clf = CNNClassifier(**SMALL, random_state=0).partial_fit(X, Y3, classes=[2, 0, 1])
    assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict(X).shape == (120, 3)


def test_partial_fit_multilabel_needs_the_column_indices(multilabel):
    X, Y = multilabel
    clf = CNNClassifier(**SMALL)
    with pytest.raises(ValueError, match=r"classes must be \[0, \.\.\., 1\]"):
        clf.partial_fit(X, Y, classes=["a", "b"])
    assert not hasattr(clf, "coefs_")


# ------------------------------------------------- fit vs repeated partial_fit
@pytest.mark.parametrize("learning_rate", ["constant", "invscaling"])
def test_fit_equals_repeated_partial_fit(three_digits, learning_rate):
    """solver="sgd", max_iter=n, tol=0 and n calls of partial_fit with the same
    random_state give the same model when fit runs its n epochs."""
    X, y = three_digits
    n = 15
    params = dict(
        **SMALL, solver="sgd", learning_rate=learning_rate, learning_rate_init=0.05,
        alpha=1e-5, random_state=1,
    )  # fmt: skip
    full = fit_quietly(CNNClassifier(**params, max_iter=n, tol=0), X, y)
    assert full.n_iter_ == n
    stepped = CNNClassifier(**params)
    for _ in range(n):
        stepped.partial_fit(X, y, classes=np.unique(y))
    assert_array_equal(stepped.predict(X), full.predict(X))
    assert_array_equal(stepped.predict_proba(X), full.predict_proba(X))
    assert stepped.loss_curve_ == full.loss_curve_
    assert stepped.t_ == full.t_


def test_fit_stops_early_by_mlps_rule_and_partial_fit_does_not(three_digits):
    """The setting of scikit-learn's own partial_fit test (max_iter=100,
    tol=0, learning_rate_init=0.2) on the three-class digits: a spike of the
    training loss makes fit stop after 19 epochs by the patience rule, which
    MLPClassifier applies alike, while partial_fit never stops. The two
    trajectories are the same until fit stops, and with an infinite patience
    fit runs the 100 epochs and gives the same model as 100 partial_fits."""
    X, y = three_digits
    params = v02(solver="sgd", alpha=1e-5, learning_rate_init=0.2, random_state=1)
    del params["max_iter"]
    stopped = fit_quietly(CNNClassifier(**params, max_iter=100, tol=0), X, y)
    stepped = CNNClassifier(**params)
    for _ in range(100):
        stepped.partial_fit(X, y, classes=np.unique(y))
    n = stopped.n_iter_
    assert n < 100
    assert n == _mlp_stopping_epoch(stopped.loss_curve_, 0, stopped.n_iter_no_change)
    assert stepped.loss_curve_[:n] == stopped.loss_curve_
    patient = CNNClassifier(**params, max_iter=100, tol=0, n_iter_no_change=np.inf)
    fit_quietly(patient, X, y)
    assert patient.n_iter_ == 100
    assert_array_equal(patient.predict_proba(X), stepped.predict_proba(X))
    assert_array_equal(patient.predict(X), stepped.predict(X))


# --------------------------------------------------- warm start, other classes
@pytest.mark.parametrize(
    "second_y",
    [
        lambda y: np.where(y == 2, 1, y),  # a class missing
        lambda y: np.where(y == 2, 3, y),  # a new class instead
        lambda y: y + 10,  # other labels altogether
        lambda y: np.c_[y == 0, y == 1].astype(int),  # multilabel after multiclass
    ],
    ids=["fewer", "other", "shifted", "multilabel"],
)
def test_warm_start_with_other_classes_names_warm_start(three_digits, second_y):
    X, y = three_digits
    clf = fit_quietly(
        CNNClassifier(**SMALL, max_iter=2, warm_start=True, random_state=0), X, y
    )
    before = _flat(clf).copy()
    with pytest.raises(ValueError, match="warm_start"):
        clf.fit(X, second_y(y))
    assert_array_equal(_flat(clf), before)
    assert_array_equal(clf.classes_, [0, 1, 2])
    fit_quietly(clf, X[::-1], y[::-1])  # the same classes in another order may


def test_warm_start_multilabel_with_other_labels(multilabel):
    X, Y = multilabel
    clf = fit_quietly(
        CNNClassifier(**SMALL, max_iter=2, warm_start=True, random_state=0), X, Y
    )
    with pytest.raises(ValueError, match="warm_start"):
        clf.fit(X, np.c_[Y, Y[:, :1]])
    with pytest.raises(ValueError, match="warm_start"):
        clf.fit(X, Y[:, 0])
    fit_quietly(clf, X, Y)
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 4


# ------------------------------------------------------------- stopping rules
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_n_iter_no_change_inf_runs_to_max_iter(three_digits, solver):
    X, y = three_digits
    # a constant rate cut short by max_iter warns (a cosine ends there by design)
    params = v02(**SMALL, solver=solver, tol=10.0, random_state=0)
    del params["max_iter"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        stopped = CNNClassifier(**params, n_iter_no_change=2).fit(X, y)
    assert stopped.n_iter_ == 4  # no epoch improves by 10
    never = CNNClassifier(**params, n_iter_no_change=np.inf, max_iter=6)
    with pytest.warns(ConvergenceWarning, match=r"maximum iterations \(6\)"):
        never.fit(X, y)
    assert never.n_iter_ == 6 == len(never.loss_curve_)


def test_n_iter_no_change_inf_with_early_stopping(three_digits):
    X, y = three_digits
    clf = CNNClassifier(
        **v02(**SMALL, max_iter=5), early_stopping=True, tol=10.0,
        n_iter_no_change=np.inf, random_state=0,
    )  # fmt: skip
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        clf.fit(X, y)
    assert clf.n_iter_ == 5 == len(clf.validation_scores_)


@pytest.mark.parametrize("value", [0, -1, np.nan, 1.5])
def test_n_iter_no_change_must_be_a_positive_int_or_inf(three_digits, value):
    X, y = three_digits
    with pytest.raises(ValueError, match="'n_iter_no_change' parameter"):
        CNNClassifier(n_iter_no_change=value).fit(X, y)


# ----------------------------------------------------- n_iter_ and warm_start
@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam"),
        dict(solver="sgd"),
        dict(solver="lbfgs"),
        dict(solver="adam", early_stopping=True),
    ],
)
def test_n_iter_counts_the_last_fit_and_the_curve_all(three_digits, params):
    X, y = three_digits
    clf = CNNClassifier(**SMALL, **params, max_iter=3, tol=0, random_state=0)
    fit_quietly(clf.set_params(warm_start=True), X, y)
    first = clf.n_iter_
    fit_quietly(clf.set_params(max_iter=2), X, y)
    assert clf.n_iter_ == 2
    assert len(clf.loss_curve_) == first + 2
    if params.get("early_stopping"):
        assert len(clf.validation_scores_) == first + 2
    clf.set_params(warm_start=False)
    fit_quietly(clf, X, y)
    assert clf.n_iter_ == 2 == len(clf.loss_curve_)


def test_partial_fit_adds_one_to_n_iter(three_digits):
    X, y = three_digits
    clf = fit_quietly(CNNClassifier(**SMALL, max_iter=3, random_state=0), X, y)
    clf.partial_fit(X, y)
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == 5


# ---------------------------------------------- partial_fit and early stopping
def test_partial_fit_refuses_early_stopping(three_digits):
    X, y = three_digits
    clf = CNNClassifier(**SMALL, early_stopping=True)
    with pytest.raises(ValueError, match="partial_fit does not support early_stop"):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert not hasattr(clf, "classes_")
    fit_quietly(clf.set_params(max_iter=2), X, y)  # fit holds out as usual
    assert len(clf.validation_scores_) == 2
    with pytest.raises(ValueError, match="early_stopping=False, or call fit"):
        clf.partial_fit(X, y)


# ------------------------------------------- early stopping and sample_weight
def test_early_stopping_accuracy_is_weighted_by_sample_weight(
    three_digits, held_out_spy
):
    """The held-out accuracy that picks the best epoch weights each held-out
    row by its sample_weight, as accuracy_score(sample_weight=) does."""
    from sklearn.metrics import accuracy_score

    X, y = three_digits
    sw = np.random.RandomState(0).uniform(0.1, 5.0, len(y))
    clf = CNNClassifier(
        n_filters=1, hidden_units=2, early_stopping=True, validation_fraction=0.3,
        n_iter_no_change=np.inf, max_iter=4, random_state=0,
    )  # fmt: skip
    fit_quietly(clf, X, y, sample_weight=sw)
    rows = held_out_spy["rows"]
    pred = clf.predict(X[rows])  # the best epoch's weights, restored
    weighted = accuracy_score(y[rows], pred, sample_weight=sw[rows])
    assert weighted != pytest.approx(accuracy_score(y[rows], pred), abs=1e-3)
    assert clf.best_validation_score_ == pytest.approx(weighted, rel=1e-12)


# ------------------------------------------ MLP's own tests, ported (issue 21)
# scikit-learn's test_mlp.py at MLP's hyperparameters. Where MLP's threshold
# is not the CNN's to meet, the test pins what benchmarks/README.md ("MLP's
# own tests, ported") measured and explains instead.


def _mlp_digits(n_class):
    """test_mlp.py's small digits sets: the first 200 of ``n_class`` classes,
    min-max scaled."""
    X, y = load_digits(n_class=n_class, return_X_y=True)
    return MinMaxScaler().fit_transform(X[:200]), y[:200]


# MLP's own network written as a CNN: one 8x8 kernel over the 8x8 image is a
# dense layer of 100 units, and nothing between it and the output
MLP_AS_CNN = dict(kernel_size=8, pooling=None, n_filters=100, hidden_units=())


@pytest.mark.parametrize(
    "network, rate",
    [(MLP_AS_CNN, 0.2), ({}, 0.1)],
    ids=["mlps-network-at-mlps-rate", "default-network-at-half-the-rate"],
)
def test_ported_partial_fit_classification(network, rate):
    """test_partial_fit_classification on its three-class set: 100 epochs of
    fit (tol=0) and 100 partial_fit calls agree and score above 0.95. MLP's
    network passes at MLP's rate of 0.2; the default network (a shared 3x3
    kernel, pooling and a dense layer before the output) diverges at 0.2 on
    some seeds (random_state=1 among them), after which its output no longer
    depends on the image, and passes at 0.1. (On the two-class set both pass
    at 0.2: benchmarks/README.md.)"""
    X, y = _mlp_digits(3)
    params = dict(
        **network, solver="sgd", alpha=1e-5, learning_rate_init=rate, random_state=1
    )
    full = fit_quietly(CNNClassifier(**params, max_iter=100, tol=0), X, y)
    stepped = CNNClassifier(**params)
    for _ in range(100):
        stepped.partial_fit(X, y, classes=np.unique(y))
    assert_array_equal(stepped.predict(X), full.predict(X))
    assert stepped.score(X, y) > 0.95


@pytest.mark.parametrize(
    "network, n_calls",
    [(dict(hidden_units=()), 100), ({}, 200)],
    ids=["one-hidden-layer-as-mlp", "default-two-hidden-layers"],
)
def test_ported_multilabel_partial_fit(network, n_calls):
    """test_multilabel_classification's partial_fit part (logistic units,
    sgd at 0.2): with MLP's depth, one hidden layer of logistic units (the
    convolution), 100 calls pass MLP's 0.9; the default network stacks two
    logistic layers (convolution, then 64 dense units), which learn slower,
    as they do in an MLP of two hidden layers, and passes after 200."""
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(
        n_samples=50, random_state=0, return_indicator=True
    )
    clf = CNNClassifier(
        **network, solver="sgd", activation="logistic", alpha=1e-5,
        learning_rate_init=0.2, random_state=0,
    )  # fmt: skip
    for _ in range(n_calls):
        clf.partial_fit(X, Y, classes=[0, 1, 2, 3, 4])
    assert clf.score(X, Y) > 0.9


@pytest.mark.parametrize("Estimator", ["CNNClassifier", "CNNRegressor"])
def test_ported_alpha(Estimator):
    """test_alpha: a larger alpha gives smaller weights. Every hidden
    layer's sum of absolute weights (the filters, then the dense layers
    before the output) and the penalised sum of squares of all weights fall
    as alpha grows. The output layer's alone may grow: it starts at a tenth
    of Glorot's scale and grows to carry what the shrunken layers before it
    no longer do (an MLP started so does the same; benchmarks/README.md)."""
    import sklearn_xcnn

    X, y = _mlp_digits(2)
    X, y = X[:100], y[:100]
    hidden, squares = [], []
    for alpha in (0.0, 0.1, 1.0):
        est = getattr(sklearn_xcnn, Estimator)(
            hidden_units=10, alpha=alpha, random_state=1
        )
        fit_quietly(est, X, y)
        layers = [*est.filters_, *est.coefs_]
        hidden.append([np.abs(w).sum() for w in layers[:-1]])
        squares.append(sum(float(np.sum(w**2)) for w in layers))
    for before, after in zip(hidden, hidden[1:]):
        assert all(a > b for a, b in zip(before, after))
    assert squares[0] > squares[1] > squares[2]


@pytest.mark.parametrize(
    "network, n_calls",
    [({}, 200), (dict(hidden_units=42), 250)],
    ids=["default", "mlps-width"],
)
def test_ported_fine_tune_after_loading(network, n_calls):
    """test_mlp_loading_from_joblib_partial_fit: a regressor fitted on one
    point, pickled and loaded, then moved to a new target by one-sample
    partial_fit calls ends within 1e-4 of it. In the 0.2 network and regime
    ("default" is its network; the numbers below are for it): at the new
    defaults each step draws new dropout masks over one sample, and batch
    norm normalises a batch of one. Adam's steps at 0.01 still
    ring at about 1e-4 after 200 calls, for MLP too (up to 1.0e-4 over
    random_state 0-8 and 42); with MLP's 42 hidden units ours is 1.4e-4 off
    at random_state=42 after 200 calls, and within 6e-5 after 250."""
    import pickle

    from numpy.testing import assert_allclose

    from sklearn_xcnn import CNNRegressor

    reg = CNNRegressor(**v02(**network), learning_rate_init=0.01, random_state=42)
    fit_quietly(reg, [[2]], [4])
    reg = pickle.loads(pickle.dumps(reg))
    for _ in range(n_calls):
        reg.partial_fit([[2]], [1])
    assert_allclose(reg.predict([[2]]), [1], rtol=1e-4)
