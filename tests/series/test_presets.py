"""The ResNet and InceptionTime presets: their defaults against the published
architectures, the ensemble's mean against its members, seeds, warm starts,
partial_fit, the scikit-learn meta-tools and bad input."""

import copy
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_xcnn.inspection import network_summary
from sklearn_xcnn.series import (
    InceptionTimeClassifier,
    InceptionTimeRegressor,
    ResNetClassifier,
    ResNetRegressor,
)
from sklearn_xcnn.series._ensemble import member_seeds
from sklearn_xcnn.series._inception_time import (
    InceptionNetworkClassifier,
    InceptionNetworkRegressor,
)

from ..conftest import fit_quietly

# a small inception network: two blocks of one module, kernels 6/3/1
TINY = dict(n_filters=(3, 2), kernel_size=6, block_depth=1, max_iter=3)


def _series(n=24, n_channels=2, n_timepoints=20, seed=0):
    """``(n, n_channels, n_timepoints)`` sines and squares, labels 0/1."""
    rng = np.random.RandomState(seed)
    t = np.linspace(0, 1, n_timepoints)
    X = np.sin(2 * np.pi * (2 * t + rng.uniform(size=(n, n_channels, 1))))
    y = np.arange(n) % 2
    X[y == 1] = np.sign(X[y == 1])
    return X + 0.1 * rng.standard_normal(X.shape), y


def _tiny(cls=InceptionTimeClassifier, **params):
    return cls(**{**TINY, "n_networks": 2, "random_state": 0, **params})


@pytest.fixture(scope="module")
def fitted_ensemble():
    X, y = _series()
    return fit_quietly(_tiny(n_networks=3), X, y)


# ------------------------------------------------------ published defaults
def test_resnet_defaults_are_the_published_network():
    X, y = _series(n=6, n_channels=1, n_timepoints=16)
    clf = fit_quietly(ResNetClassifier(max_iter=1, random_state=0), X, y)
    shapes = [w.shape for w in clf.filters_]
    assert shapes == [
        # unit 0: 1 -> 64 channels, shortcut 1x1 convolution
        (64, 1, 1, 8), (64, 64, 1, 5), (64, 64, 1, 3), (64, 1, 1, 1),
        # unit 1: 64 -> 128, shortcut 1x1 convolution
        (128, 64, 1, 8), (128, 128, 1, 5), (128, 128, 1, 3), (128, 64, 1, 1),
        # unit 2: 128 -> 128, shortcut batch norm alone (no filters)
        (128, 128, 1, 8), (128, 128, 1, 5), (128, 128, 1, 3),
    ]  # fmt: skip
    assert [c.shape for c in clf.coefs_] == [(128, 1)]  # no dense hidden layer
    summary = str(network_summary(clf))
    assert "residual unit, 3 x 64 filters 1x8/1x5/1x3, shortcut 1x1 conv" in summary
    assert "3 x 128 filters 1x8/1x5/1x3, shortcut batch norm" in summary
    assert "global mean pool" in summary


def test_resnet_regressor_has_the_classifier_architecture():
    params = ResNetRegressor().get_params()
    for name, value in ResNetClassifier().get_params().items():
        if name != "class_weight":
            assert params[name] == value, name


def test_inception_time_defaults_are_the_published_network():
    assert InceptionTimeClassifier().n_networks == 5
    X, y = _series(n=6, n_channels=2, n_timepoints=50)
    clf = fit_quietly(
        InceptionTimeClassifier(n_networks=1, max_iter=1, random_state=0), X, y
    )
    (member,) = clf.estimators_
    assert isinstance(member, InceptionNetworkClassifier)
    shapes = [w.shape for w in member.filters_]
    module_0 = [(32, 2, 1, 1), (32, 32, 1, 40), (32, 32, 1, 20), (32, 32, 1, 10),
                (32, 2, 1, 1)]  # fmt: skip
    module_1 = [(32, 128, 1, 1), (32, 32, 1, 40), (32, 32, 1, 20),
                (32, 32, 1, 10), (32, 128, 1, 1)]  # fmt: skip
    block_0 = module_0 + module_1 * 2 + [(128, 2, 1, 1)]  # shortcut
    block_1 = module_1 * 3 + [(128, 128, 1, 1)]
    assert shapes == block_0 + block_1  # depth 6, a shortcut every third module
    summary = str(network_summary(member))
    assert summary.count("inception, 3 modules of 4 x 32 filters 1x40/1x20/1x10") == 2
    assert [c.shape for c in member.coefs_] == [(128, 1)]


@pytest.mark.parametrize(
    "ensemble, member",
    [
        (InceptionTimeClassifier, InceptionNetworkClassifier),
        (InceptionTimeRegressor, InceptionNetworkRegressor),
    ],
)
def test_ensemble_parameters_are_the_members(ensemble, member):
    params = ensemble().get_params()
    assert params.pop("n_networks") == 5
    assert params.pop("n_jobs") is None
    assert params == member().get_params()


# --------------------------------------------------------------- averaging
def test_classifier_averages_its_members_exactly(fitted_ensemble):
    X, _ = _series(n=7, seed=1)
    members = fitted_ensemble.estimators_
    assert len(members) == 3
    mean = sum(m.predict_proba(X) for m in members) / 3
    assert_array_equal(fitted_ensemble.predict_proba(X), mean)
    assert_array_equal(fitted_ensemble.predict_log_proba(X), np.log(mean))
    expected = fitted_ensemble.classes_[np.argmax(mean, axis=1)]
    assert_array_equal(fitted_ensemble.predict(X), expected)
    scores = fitted_ensemble.decision_function(X)
    assert_allclose(scores, np.log(mean[:, 1] / mean[:, 0]))
    assert_array_equal(scores > 0, expected == 1)


def test_multiclass_predictions_follow_the_mean():
    X, _ = _series(n=30)
    y = np.arange(30) % 3
    clf = fit_quietly(_tiny(), X, y)
    mean = clf.estimators_[0].predict_proba(X) + clf.estimators_[1].predict_proba(X)
    assert_allclose(clf.predict_proba(X), mean / 2, rtol=1e-15)
    assert_array_equal(clf.predict(X), np.argmax(mean, axis=1))
    assert_array_equal(np.argmax(clf.decision_function(X), axis=1), clf.predict(X))


def test_regressor_averages_its_members_exactly():
    X, _ = _series()
    target = X[:, 0].mean(axis=1)
    reg = fit_quietly(_tiny(InceptionTimeRegressor), X, target)
    mean = (reg.estimators_[0].predict(X) + reg.estimators_[1].predict(X)) / 2
    assert_array_equal(reg.predict(X), mean)
    assert reg.predict(list(X[:3, :, :15])).shape == (3,)  # other lengths


def test_lists_of_other_lengths_are_averaged_too(fitted_ensemble):
    series = [x[:, :n] for x, n in zip(_series(n=3)[0], (12, 20, 31))]
    series[2] = np.tile(series[2], 2)[:, :31]
    mean = sum(m.predict_proba(series) for m in fitted_ensemble.estimators_) / 3
    assert_array_equal(fitted_ensemble.predict_proba(series), mean)


# ------------------------------------------------------------------- seeds
def test_members_differ_and_are_seeded_from_random_state(fitted_ensemble):
    X, y = _series()
    members = fitted_ensemble.estimators_
    seeds = member_seeds(0, 3)
    assert [m.random_state for m in members] == list(seeds)
    assert len(set(seeds)) == 3
    assert not np.allclose(members[0].filters_[0], members[1].filters_[0])
    # member i is the single network fitted with the i-th seed
    alone = fit_quietly(
        InceptionNetworkClassifier(**TINY, random_state=int(seeds[1])), X, y
    )
    assert_array_equal(alone.filters_[0], members[1].filters_[0])
    assert_array_equal(alone.predict_proba(X), members[1].predict_proba(X))


def test_an_int_random_state_reproduces_the_ensemble(fitted_ensemble):
    X, y = _series()
    again = fit_quietly(_tiny(n_networks=3), X, y)
    assert_array_equal(again.predict_proba(X), fitted_ensemble.predict_proba(X))
    # the first members do not depend on n_networks
    fewer = fit_quietly(_tiny(n_networks=2), X, y)
    for a, b in zip(fewer.estimators_, fitted_ensemble.estimators_):
        assert_array_equal(a.filters_[-1], b.filters_[-1])


def test_random_state_none_draws_new_seeds():
    X, y = _series()
    a = fit_quietly(_tiny(random_state=None, n_networks=1), X, y)
    b = fit_quietly(_tiny(random_state=None, n_networks=1), X, y)
    assert a.estimators_[0].random_state != b.estimators_[0].random_state


# ----------------------------------------------- fitting paths and failures
def test_weights_reach_every_member():
    X, y = _series()
    weights = np.linspace(0.5, 2, len(y))
    clf = fit_quietly(_tiny(class_weight={0: 1.0, 1: 3.0}), X, y, sample_weight=weights)
    for member, seed in zip(clf.estimators_, member_seeds(0, 2)):
        assert member.class_weight == {0: 1.0, 1: 3.0}
        alone = InceptionNetworkClassifier(**TINY, class_weight={0: 1.0, 1: 3.0},
                                           random_state=int(seed))  # fmt: skip
        fit_quietly(alone, X, y, sample_weight=weights)
        assert_array_equal(alone.filters_[0], member.filters_[0])


def test_warm_start_continues_each_member_and_resizes(fitted_ensemble):
    X, y = _series()
    clf = copy.deepcopy(fitted_ensemble).set_params(warm_start=True, n_networks=4)
    before = [list(m.loss_curve_) for m in clf.estimators_]
    fit_quietly(clf, X, y)
    assert len(clf.estimators_) == 4
    for member, curve in zip(clf.estimators_[:3], before):
        assert member.loss_curve_[: len(curve)] == curve  # continued
        assert len(member.loss_curve_) == len(curve) + TINY["max_iter"]
    assert len(clf.estimators_[3].loss_curve_) == TINY["max_iter"]  # new
    fit_quietly(clf.set_params(n_networks=2), X, y)
    assert len(clf.estimators_) == 2


def test_partial_fit_steps_every_member():
    X, y = _series()
    clf = _tiny()
    clf.partial_fit(X, y, classes=[0, 1])
    assert [m.n_iter_ for m in clf.estimators_] == [1, 1]
    first = [m.filters_[0].copy() for m in clf.estimators_]
    clf.partial_fit(X[:8], y[:8])
    assert [m.n_iter_ for m in clf.estimators_] == [2, 2]
    assert not np.allclose(clf.estimators_[0].filters_[0], first[0])
    assert not hasattr(_tiny(solver="lbfgs"), "partial_fit")


def test_partial_fit_regressor():
    X, _ = _series()
    reg = _tiny(InceptionTimeRegressor).partial_fit(X, X[:, 0, 0])
    assert reg.predict(X).shape == (len(X),)


@pytest.mark.parametrize("warm_start", [False, True])
def test_a_failed_fit_leaves_the_fitted_ensemble_as_it_was(fitted_ensemble, warm_start):
    X, y = _series()
    clf = copy.deepcopy(fitted_ensemble).set_params(warm_start=warm_start)
    members = list(clf.estimators_)
    proba = clf.predict_proba(X)
    curves = [list(m.loss_curve_) for m in members]
    with pytest.raises(
        ValueError, match="InceptionTimeClassifier needs samples of|warm"
    ):
        clf.fit(X, np.zeros_like(y))  # one class
    assert clf.estimators_ == members
    assert [list(m.loss_curve_) for m in members] == curves
    assert_array_equal(clf.predict_proba(X), proba)


def test_a_failing_member_leaves_the_ensemble_as_it_was(fitted_ensemble, monkeypatch):
    X, y = _series()
    clf = copy.deepcopy(fitted_ensemble).set_params(warm_start=True)
    proba, members = clf.predict_proba(X), list(clf.estimators_)
    calls = []
    real_fit = InceptionNetworkClassifier.fit

    def fit(self, *args, **kwargs):
        calls.append(self)
        if len(calls) == 3:
            raise ValueError("the third network fails")
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(InceptionNetworkClassifier, "fit", fit)
    with pytest.raises(ValueError, match="the third network fails"):
        clf.fit(X, y)
    assert len(calls) == 3 and all(c not in members for c in calls)  # copies
    assert clf.estimators_ == members
    assert_array_equal(clf.predict_proba(X), proba)


# ------------------------------------------------------ scikit-learn tools
def test_clone_pickle_and_grid_search(fitted_ensemble):
    X, y = _series()
    copy_ = clone(fitted_ensemble)
    assert copy_.get_params() == fitted_ensemble.get_params()
    assert not hasattr(copy_, "estimators_")
    restored = pickle.loads(pickle.dumps(fitted_ensemble))
    assert_array_equal(restored.predict_proba(X), fitted_ensemble.predict_proba(X))
    search = GridSearchCV(_tiny(max_iter=2), {"n_networks": [1, 2]}, cv=2)
    fit_quietly(search, X, y)
    assert search.best_params_["n_networks"] in (1, 2)
    assert len(search.best_estimator_.estimators_) == search.best_params_["n_networks"]


def test_set_params_reaches_the_members_at_the_next_fit():
    X, y = _series()
    clf = fit_quietly(_tiny().set_params(n_filters=(2, 2), kernel_size=4), X, y)
    assert all(m.filters_[1].shape == (2, 2, 1, 4) for m in clf.estimators_)


# ---------------------------------------------- kernel lengths of a series
def test_resnet_kernel_size_reads_per_unit_and_per_convolution():
    X, y = _series(n=8, n_channels=1)
    clf = fit_quietly(
        ResNetClassifier(n_filters=(2, 3), kernel_size=(7, (4, 3, 2)), max_iter=1,
                         random_state=0), X, y
    )  # fmt: skip
    kernels = [w.shape[-1] for w in clf.filters_]
    assert kernels == [7, 7, 7, 1, 4, 3, 2, 1]  # each unit's shortcut last


def test_fewer_units_than_the_default_kernels_name_the_call_that_fits():
    X, y = _series(n=8, n_channels=1)
    clf = ResNetClassifier(n_filters=(2, 3), max_iter=1, random_state=0)
    hint = r"The same \(8, 5, 3\) in each layer: kernel_size=\(\(8, 5, 3\),\) \* 2\."
    with pytest.raises(ValueError, match=r"kernel_size holds 3 value\(s\).*" + hint):
        clf.fit(X, y)
    fit_quietly(clf.set_params(kernel_size=((8, 5, 3),) * 2), X, y)
    assert [w.shape[-1] for w in clf.filters_] == [8, 5, 3, 1, 8, 5, 3, 1]
    # kernels that differ by unit get no such hint
    with pytest.raises(ValueError, match=r"every layer\.$"):
        clf.set_params(kernel_size=((8, 5, 3), (4, 3, 2), 3)).fit(X, y)


# ------------------------------------------------------------- parallel
def _members_equal(a, b):
    for first, second in zip(a.estimators_, b.estimators_, strict=True):
        for p, q in zip(first._params(), second._params(), strict=True):
            assert_array_equal(p, q)


@pytest.mark.parametrize("cls", [InceptionTimeClassifier, InceptionTimeRegressor])
def test_n_jobs_fits_the_members_one_after_the_other_would(cls):
    X, y = _series()
    target = y if cls is InceptionTimeClassifier else X[:, 0, :3].sum(axis=1)
    serial = fit_quietly(_tiny(cls, n_networks=3), X, target)
    parallel = fit_quietly(_tiny(cls, n_networks=3, n_jobs=2), X, target)
    _members_equal(serial, parallel)
    assert [m.random_state for m in parallel.estimators_] == [
        m.random_state for m in serial.estimators_
    ]
    assert_array_equal(parallel.predict(X), serial.predict(X))
    assert parallel.n_iter_ == serial.n_iter_


def test_n_jobs_partial_fit_and_warm_start():
    X, y = _series()
    serial, parallel = _tiny(), _tiny(n_jobs=-1)
    for est in (serial, parallel):
        est.partial_fit(X, y, classes=[0, 1]).partial_fit(X, y)
    _members_equal(serial, parallel)
    for est in (serial, parallel):
        est.set_params(warm_start=True, n_networks=3)
        fit_quietly(est, X, y)
    _members_equal(serial, parallel)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_member_warnings_reach_the_callers_line(n_jobs):
    from sklearn.exceptions import ConvergenceWarning

    X, y = _series()
    est = _tiny(n_jobs=n_jobs, max_iter=1, learning_rate="constant")
    with pytest.warns(ConvergenceWarning, match="maximum iterations") as record:
        est.fit(X, y)
    files = {w.filename for w in record if w.category is ConvergenceWarning}
    assert files == {__file__}


def test_worker_errors_name_the_ensemble_and_leave_it_fitted(fitted_ensemble):
    X, y = _series()
    ensemble = copy.deepcopy(fitted_ensemble).set_params(n_jobs=2, warm_start=True)
    before = [p.copy() for p in ensemble.estimators_[0]._params()]
    with pytest.raises(ValueError) as info:
        ensemble.fit(X[:, :1], y)  # one channel where the networks have two
    assert "but InceptionTimeClassifier was fitted on series of 2" in str(info.value)
    assert "InceptionNetwork" not in str(info.value)
    for p, q in zip(before, ensemble.estimators_[0]._params(), strict=True):
        assert_array_equal(p, q)


@pytest.mark.parametrize("n_jobs", [0, 1.5, "2"])
def test_bad_n_jobs(n_jobs):
    X, y = _series()
    with pytest.raises(InvalidParameterError, match="'n_jobs' parameter"):
        _tiny(n_jobs=n_jobs).fit(X, y)


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize("n_networks", [0, -1, 1.5, "5"])
def test_bad_n_networks(n_networks):
    X, y = _series()
    with pytest.raises(InvalidParameterError, match="'n_networks' parameter"):
        _tiny(n_networks=n_networks).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        (
            dict(kernel_size=((8, 5), (8, 5))),
            r"gives block 0 2 kernels, one per convolution, but it is a residual "
            r"unit of block_depth=3 convolutions",
        ),
        (dict(kernel_size=(8, 5, 3)), r"kernel_size holds 3 value\(s\) but n_filters"),
        (
            dict(block="conv", kernel_size=((8, 5, 3), 3)),
            r"kernel_size must be an int or a \(rows, cols\) pair, got .*: block 0 "
            "is a 'conv' block",
        ),
    ],
)
def test_bad_per_convolution_kernels(params, match):
    X, y = _series(n=8)
    with pytest.raises(ValueError, match=match):
        ResNetClassifier(n_filters=(2, 2), max_iter=1, **params).fit(X, y)


def test_inception_branch_kernels_must_be_three():
    X, y = _series(n=8)
    with pytest.raises(ValueError, match="an inception module of 3 parallel"):
        _tiny(kernel_size=(6, (4, 2))).fit(X, y)


def test_member_errors_name_the_ensemble(fitted_ensemble):
    with pytest.raises(ValueError) as info:
        fitted_ensemble.predict(np.ones((3, 3, 20)))
    message = str(info.value)
    assert "but InceptionTimeClassifier was fitted on series of 2" in message
    assert "InceptionNetwork" not in message
    with pytest.raises(ValueError, match="InceptionTimeClassifier is expecting 40"):
        fitted_ensemble.predict(np.ones((3, 2, 21)))


def test_unfitted_ensemble_refuses_to_predict():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        _tiny().predict(_series()[0])


def test_ensemble_fits_series_of_unequal_length():
    X, y = _series(n=12)
    series = [x[:, : 14 + i % 3] for i, x in enumerate(X)]
    clf = fit_quietly(_tiny(), series, y)
    assert_array_equal(clf.series_lengths_, [14, 15, 16])
    assert clf.n_timepoints_ == 16
    mean = sum(m.predict_proba(series) for m in clf.estimators_) / 2
    assert_array_equal(clf.predict_proba(series), mean)
