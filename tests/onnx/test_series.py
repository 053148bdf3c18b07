"""The series estimators export to graphs that take aeon's arrays and
predict what they do, on a free time axis where the network allows it."""

import pytest

from ..conftest import needs

onnx = needs("onnx")
needs("onnxruntime")
skl2onnx = needs("skl2onnx")

import numpy as np  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_xcnn.onnx import _converters, to_onnx  # noqa: E402
from sklearn_xcnn.series import FCNClassifier, FCNRegressor  # noqa: E402

from ._helpers import (  # noqa: E402
    TOL,
    assert_classifier_matches,
    assert_regressor_matches,
    export,
    fit_quietly,
    perturb_batch_norm,
    run,
    spread_logits,
)

# tiny networks of each kind; all end in global mean pooling ('same', stride 1)
NETWORKS = {
    "fcn": dict(n_filters=(3, 4), kernel_size=(5, 3)),
    "residual": dict(
        n_filters=(3, 4), kernel_size=(5, 3), block="residual", block_depth=2
    ),  # fmt: skip
    "inception": dict(n_filters=2, kernel_size=8, block="inception", block_depth=2),
    "dilated": dict(n_filters=(3, 3), kernel_size=3, dilation=(1, 2)),
}


def series(n, n_channels, n_timepoints, seed=0, dtype=np.float32):
    """``n`` random walks ``(n, n_channels, n_timepoints)``."""
    rng = np.random.RandomState(seed)
    steps = rng.normal(size=(n, n_channels, n_timepoints))
    return np.cumsum(steps, axis=2).astype(dtype)


def _fit(cls, network, n_channels=1, n_timepoints=20, **extra):
    X = series(24, n_channels, n_timepoints)
    if cls is FCNRegressor:
        y = X[:, 0, -1] - X[:, -1, 0]
    else:
        y = np.array(["a", "b", "c"])[np.arange(len(X)) % 3]
    params = {**NETWORKS[network], "max_iter": 2, "random_state": 0, **extra}
    est = perturb_batch_norm(fit_quietly(cls(**params), X, y))
    return spread_logits(est, X), X


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("n_channels", [1, 3])
def test_classifier_on_numpy3d(network, n_channels):
    clf, X = _fit(FCNClassifier, network, n_channels)
    onx = to_onnx(clf, X, zipmap=False)
    assert_classifier_matches(clf, X, run(onx, X))


@pytest.mark.parametrize("network", ["fcn", "residual", "inception"])
def test_regressor_on_numpy3d(network):
    reg, X = _fit(FCNRegressor, network, n_channels=2)
    for mode in ("fold", "node"):
        onx = to_onnx(reg, X, batch_norm=mode)
        assert_regressor_matches(reg, X, run(onx, X))


@pytest.mark.parametrize("network", ["residual", "inception"])
@pytest.mark.parametrize("n_channels", [1, 2])
def test_free_time_axis_predicts_other_lengths(network, n_channels):
    """A 3-D sample gives a free time axis: the graph predicts series of
    lengths the model never saw as the model does (a list of series), also
    shorter than the kernels (kept whole: see docs/series.rst)."""
    clf, X = _fit(FCNClassifier, network, n_channels)
    onx = to_onnx(clf, X[:1], zipmap=False)
    dims = onx.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims][1] == n_channels
    assert not dims[2].HasField("dim_value")  # free
    for n_timepoints in (2, 13, 20, 37):
        other = series(5, n_channels, n_timepoints, seed=n_timepoints)
        outputs = run(onx, other)
        np.testing.assert_array_equal(outputs["label"], clf.predict(list(other)))
        np.testing.assert_allclose(
            outputs["probabilities"],
            clf.predict_proba(list(other)),
            rtol=TOL,
            atol=TOL,
        )


def test_univariate_2d_input_and_double():
    """Univariate series as (n, n_timepoints), in float64: a double graph."""
    clf, X = _fit(FCNClassifier, "fcn")
    X2 = X[:, 0, :].astype(np.float64)
    onx = export(clf, X2, {id(clf): {"zipmap": False}})
    outputs = run(onx, X2)
    assert outputs["probabilities"].dtype == np.float64
    assert_classifier_matches(clf, X2, outputs)


def test_inside_a_pipeline():
    """A scaler on univariate series (n, n_timepoints), then the network."""
    X = series(30, 1, 16)[:, 0, :]
    y = (X[:, -1] > X[:, 0]).astype(int)
    pipe = make_pipeline(
        StandardScaler(),
        FCNClassifier(**NETWORKS["residual"], max_iter=2, random_state=0),
    )
    pipe = fit_quietly(pipe, X, y)
    spread_logits(perturb_batch_norm(pipe[-1]), pipe[0].transform(X))
    onx = export(pipe, X, {id(pipe[-1]): {"zipmap": False}})
    assert_classifier_matches(pipe, X, run(onx, X))


def test_fixed_length_without_global_pooling():
    """No global pooling: the dense layer fixes the length, so the time axis
    stays fixed, and a free one is refused."""
    clf, X = _fit(FCNClassifier, "fcn", global_pooling=None)
    onx = to_onnx(clf, X, zipmap=False)
    dims = onx.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims][1:] == [1, 20]
    assert_classifier_matches(clf, X, run(onx, X))
    for time_axis in (None, 21):
        shape = [None, 1, time_axis]
        types = [("X", skl2onnx.common.data_types.FloatTensorType(shape))]
        with pytest.raises(ValueError, match="20 time points and its graph takes"):
            skl2onnx.to_onnx(clf, initial_types=types)


def test_fitted_on_unequal_lengths():
    """A model fitted on a list of series of unequal length exports like any
    other: a free time axis from a 3-D sample, or a fixed length from
    skl2onnx's own guess, which need not be the training lengths."""
    rng = np.random.RandomState(0)
    X = [np.cumsum(rng.normal(size=(2, t)), axis=1) for t in [15, 22, 30] * 8]
    y = np.arange(len(X)) % 2
    clf = fit_quietly(FCNClassifier(**NETWORKS["residual"], max_iter=2), X, y)
    spread_logits(perturb_batch_norm(clf), X)
    other = series(6, 2, 26)
    guessed = export(clf, other, {id(clf): {"zipmap": False}})
    for onx in (to_onnx(clf, other[:1], zipmap=False), guessed):
        assert_classifier_matches(clf, list(other), run(onx, other))


@pytest.mark.parametrize(
    "shape, message",
    [
        ([None, 2, 20], r"1 channel\(s\) but its ONNX input .* has 2"),
        ([None, 1, 20, 1], "got a 4-D input"),
    ],
)
def test_input_type_that_the_estimator_cannot_read(shape, message):
    clf, _ = _fit(FCNClassifier, "fcn")
    types = [("X", skl2onnx.common.data_types.FloatTensorType(shape))]
    with pytest.raises(ValueError, match=message):
        skl2onnx.to_onnx(clf, initial_types=types)


def test_2d_input_for_several_channels_is_refused():
    clf, X = _fit(FCNClassifier, "fcn", n_channels=2)
    with pytest.raises(ValueError, match="must be 3-D"):
        skl2onnx.to_onnx(clf, X[:1, 0, :])


# ------------------------------------------------- an ensemble stand-in
class _MeanOfNetworks(BaseEstimator):
    """What the generic ensemble converter expects: fitted members in
    ``estimators_``, their probabilities (predictions) averaged."""

    def __init__(self, n_networks=3):
        self.n_networks = n_networks

    def fit(self, X, y):
        self.estimators_ = [
            fit_quietly(self._member(seed), X, y) for seed in range(self.n_networks)
        ]
        for seed, member in enumerate(self.estimators_):
            spread_logits(perturb_batch_norm(member, seed), X)
        return self

    def predict(self, X):
        return np.mean([m.predict(X) for m in self.estimators_], axis=0)


class _EnsembleClassifier(ClassifierMixin, _MeanOfNetworks):
    def _member(self, seed):
        return FCNClassifier(**NETWORKS["inception"], max_iter=2, random_state=seed)

    def fit(self, X, y):
        super().fit(X, y)
        self.classes_ = self.estimators_[0].classes_
        return self

    def predict_proba(self, X):
        return np.mean([m.predict_proba(X) for m in self.estimators_], axis=0)

    def predict(self, X):
        proba = self.predict_proba(X)
        if self.estimators_[0].out_activation_ == "logistic" and proba.shape[1] > 2:
            return (proba > 0.5).astype(int)  # multilabel
        return self.classes_[np.argmax(proba, axis=1)]


class _EnsembleRegressor(RegressorMixin, _MeanOfNetworks):
    def _member(self, seed):
        return FCNRegressor(**NETWORKS["residual"], max_iter=2, random_state=seed)


@pytest.fixture
def ensembles():
    """Register the stand-ins (and forget them afterwards)."""
    for cls in (_EnsembleClassifier, _EnsembleRegressor):
        _converters.register_ensemble(cls, lambda est: est.estimators_)
    yield
    for cls in (_EnsembleClassifier, _EnsembleRegressor):
        _converters.ENSEMBLE_MEMBERS.pop(cls)
        _converters.OPTIONS_BY_CLASS.pop(cls)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_ensemble_classifier_averages_its_members(ensembles, n_classes):
    X = series(24, 2, 18)
    y = np.arange(len(X)) % n_classes
    ens = _EnsembleClassifier().fit(X, y)
    onx = to_onnx(ens, X[:1], zipmap=False)
    assert [n.op_type for n in onx.graph.node].count("Mean") == 1
    for other in (X, series(6, 2, 25, seed=1)):  # free time axis
        outputs = run(onx, other)
        assert_classifier_matches(ens, list(other), outputs)
    # the members differ: the mean is not any one of them
    probas = [m.predict_proba(X) for m in ens.estimators_]
    assert not np.allclose(probas[0], probas[1], atol=1e-3)


def test_multilabel_ensemble(ensembles):
    """Each label where the mean of the members' probabilities exceeds 0.5."""
    X = series(24, 1, 18)
    Y = np.stack([X[:, 0, -1] > X[:, 0, 0], X[:, 0, 5] > 0, X[:, 0, 9] < 0], axis=1)
    ens = _EnsembleClassifier(n_networks=2).fit(X, Y.astype(int))
    outputs = run(to_onnx(ens, X[:1], zipmap=False), X)
    assert_classifier_matches(ens, X, outputs)
    assert outputs["label"].dtype == np.int64


@pytest.mark.parametrize("cls", [_EnsembleClassifier, _EnsembleRegressor])
def test_unfitted_ensemble_raises_not_fitted(ensembles, cls):
    X = series(2, 1, 18)
    with pytest.raises(NotFittedError, match="not fitted"):
        to_onnx(cls(), X)
    with pytest.raises(NotFittedError, match="not fitted"):
        skl2onnx.to_onnx(cls(), X)


def test_ensemble_input_errors_name_the_ensemble(ensembles):
    ens = _EnsembleRegressor(n_networks=2).fit(series(12, 1, 18), np.arange(12.0))
    types = [("X", skl2onnx.common.data_types.FloatTensorType([None, 2, 18]))]
    with pytest.raises(ValueError, match="_EnsembleRegressor was fitted on series"):
        skl2onnx.to_onnx(ens, initial_types=types)


def test_ensemble_regressor_averages_its_members(ensembles):
    X = series(24, 1, 18)
    ens = _EnsembleRegressor(n_networks=2).fit(X, X[:, 0, -1])
    for mode in ("fold", "node"):
        outputs = run(to_onnx(ens, X, batch_norm=mode), X)
        np.testing.assert_allclose(
            outputs["variable"][:, 0], ens.predict(X), rtol=TOL, atol=TOL
        )


@pytest.mark.parametrize("opset", [11, 13, None])
@pytest.mark.parametrize("network", ["residual", "inception"])
def test_target_opsets(network, opset):
    """The compound kinds and the series input from the oldest opset the
    graph needs (11) to skl2onnx's default, batch norm as nodes too."""
    clf, X = _fit(FCNClassifier, network, n_channels=2)
    for mode in ("fold", "node"):
        onx = to_onnx(clf, X[:1], target_opset=opset, zipmap=False, batch_norm=mode)
        onnx.checker.check_model(onx, full_check=True)
        assert_classifier_matches(clf, X, run(onx, X))
