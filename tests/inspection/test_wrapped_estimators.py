"""The inspection functions and displays on pipelines, searches and target
transformers: each shows the network inside, on the samples as that network
sees them, and refuses anything else with a clear error."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.exceptions import NotFittedError
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    HalvingRandomSearchCV,
    RandomizedSearchCV,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sklearn_xcnn import CNNClassifier, CNNRegressor
from sklearn_xcnn.inspection import (
    FeatureMapDisplay,
    FilterDisplay,
    LossCurveDisplay,
    SaliencyDisplay,
    feature_maps,
    network_summary,
    saliency_maps,
)
from sklearn_xcnn.inspection._estimator import resolve_network

from .conftest import fit_quietly

NETWORK = dict(n_filters=4, hidden_units=3, solver="lbfgs", max_iter=30, random_state=1)


def _raw(X):
    """The 0/1 images on another scale (2 to 6), so that scaling matters."""
    return 4.0 * X + 2.0


def _min_max(train, X):
    """MinMaxScaler's formula, by hand: each column of X mapped by the range
    of that column in train to [0, 1] (a constant column to 0)."""
    low, span = train.min(axis=0), np.ptp(train, axis=0)
    return (X - low) / np.where(span > 0, span, 1.0)


def _build(kind, x_data, ink_data):
    """``(wrapped estimator, the network estimator inside, raw X, X as the
    network sees it)`` for one way of wrapping a fitted CNN."""
    X, y = x_data
    raw = _raw(X)
    if kind == "classifier":
        clf = fit_quietly(CNNClassifier(**NETWORK), X, y)
        return clf, clf, X, X
    if kind == "pipeline":
        pipe = fit_quietly(
            make_pipeline(MinMaxScaler(), CNNClassifier(**NETWORK)), raw, y
        )
        return pipe, pipe[-1], raw, _min_max(raw, raw)
    if kind == "nested_pipeline":
        inner = make_pipeline(MinMaxScaler(), "passthrough", CNNClassifier(**NETWORK))
        pipe = Pipeline([("skip", "passthrough"), ("none", None), ("inner", inner)])
        pipe = fit_quietly(pipe, raw, y)
        return pipe, pipe[-1][-1], raw, _min_max(raw, raw)
    if kind == "grid_search":
        pipe = make_pipeline(MinMaxScaler(), CNNClassifier(**NETWORK))
        grid = {"cnnclassifier__n_filters": [2, 3]}
        search = fit_quietly(GridSearchCV(pipe, grid, cv=2), raw, y)
        return search, search.best_estimator_[-1], raw, _min_max(raw, raw)
    X, target = ink_data
    raw, target = _raw(X), 100 * target + 5  # a target far from order one
    if kind == "regressor":
        reg = fit_quietly(CNNRegressor(**NETWORK), X, target / 100)
        return reg, reg, X, X
    if kind == "regressor_pipeline":
        pipe = make_pipeline(MinMaxScaler(), CNNRegressor(**NETWORK))
        pipe = fit_quietly(pipe, raw, target / 100)
        return pipe, pipe[-1], raw, _min_max(raw, raw)
    assert kind == "target_transformer"
    pipe = make_pipeline(MinMaxScaler(), CNNRegressor(**NETWORK))
    ttr = TransformedTargetRegressor(pipe, transformer=StandardScaler())
    ttr = fit_quietly(ttr, raw, target)
    return ttr, ttr.regressor_[-1], raw, _min_max(raw, raw)


CLASSIFIER_KINDS = ["classifier", "pipeline", "nested_pipeline", "grid_search"]
REGRESSOR_KINDS = ["regressor", "regressor_pipeline", "target_transformer"]
KINDS = CLASSIFIER_KINDS + REGRESSOR_KINDS


@pytest.fixture(scope="module", params=KINDS)
def wrapped(request, x_data, ink_data):
    return _build(request.param, x_data, ink_data)


def test_resolve_network_finds_the_network_and_transforms_X(wrapped):
    estimator, network, raw, seen = wrapped
    found, X = resolve_network(estimator, raw[:7], caller="test")
    assert found is network
    assert_allclose(X, seen[:7], rtol=1e-12)
    assert resolve_network(estimator, caller="test") == (network, None)


def test_feature_maps_are_those_of_the_network_on_transformed_X(wrapped):
    estimator, network, raw, seen = wrapped
    stages = feature_maps(estimator, raw[:5])
    expected = feature_maps(network, seen[:5])
    assert_allclose(stages.images, expected.images, rtol=1e-12)
    for block, block_expected in zip(stages.blocks, expected.blocks, strict=True):
        for name in ("padded", "correlation", "biased", "activated", "pooled"):
            assert_allclose(block[name], block_expected[name], rtol=1e-12)
    assert_allclose(stages.logits, expected.logits, rtol=1e-12)
    if raw is not seen:  # the steps before the network changed what it sees
        unscaled = feature_maps(network, raw[:5]).blocks[0].correlation
        assert not np.allclose(stages.blocks[0].correlation, unscaled)


def test_outputs_are_those_of_the_wrapper(wrapped):
    """Probabilities and predictions are the wrapper's own, except that a
    TransformedTargetRegressor's network predicts the transformed target."""
    estimator, network, raw, _ = wrapped
    stages = feature_maps(estimator, raw[:5])
    if "proba" in stages:
        assert_allclose(stages.proba, estimator.predict_proba(raw[:5]), rtol=1e-12)
        assert_array_equal(network.classes_, estimator.classes_)
    elif isinstance(estimator, TransformedTargetRegressor):
        assert_allclose(
            stages.predictions, estimator.regressor_.predict(raw[:5]), rtol=1e-12
        )
        original = estimator.transformer_.inverse_transform(stages.predictions[:, None])
        assert_allclose(original.ravel(), estimator.predict(raw[:5]), rtol=1e-10)
        assert not np.allclose(stages.predictions, estimator.predict(raw[:5]))
    else:
        assert_allclose(stages.predictions, estimator.predict(raw[:5]), rtol=1e-12)


def test_filter_display(pyplot, wrapped):
    estimator, network, _, _ = wrapped
    display = FilterDisplay.from_estimator(estimator)
    filters = network.filters_[0]  # (F, 1, 3, 3)
    assert display.ax_.shape == (1, filters.shape[0])
    for f, image in enumerate(display.images_[0]):
        assert_allclose(image.get_array(), filters[f, 0])
        bias = network.filter_intercepts_[0][f]
        assert display.ax_[0, f].get_xlabel() == f"bias {bias:.2f}"


def test_feature_map_display(pyplot, wrapped):
    estimator, network, raw, seen = wrapped
    display = FeatureMapDisplay.from_estimator(estimator, raw[3])
    stages = feature_maps(network, seen[3:4])
    # the input panel shows the image as the network sees it
    assert_allclose(display.input_image_.get_array(), seen[3].reshape(5, 5))
    for f in range(network.filters_[0].shape[0]):
        assert_allclose(display.images_[f, 0].get_array(), network.filters_[0][f, 0])
        maps = stages.blocks[0]
        assert_allclose(display.images_[f, 1].get_array(), maps.activated[0, f])
        assert_allclose(display.images_[f, 2].get_array(), maps.pooled[0, f])
    if hasattr(estimator, "classes_"):  # the wrapper's classes and probabilities
        proba = estimator.predict_proba(raw[3:4])[0]
        best = int(np.argmax(proba))
        expected = f"input\n{proba[best]:.0%} {estimator.classes_[best]}"
    else:  # in the network's units
        expected = f"input\npredicted {network.predict(seen[3:4])[0]:.3g}"
    assert display.title_ == expected


def test_loss_curve_display(pyplot, wrapped):
    estimator, network, _, _ = wrapped
    display = LossCurveDisplay.from_estimator(estimator)
    _, losses = display.lines_["loss"].get_data()
    assert_allclose(losses, network.loss_curve_)
    assert display.ax_.get_xlabel() == "iteration"  # L-BFGS
    assert display.ax_.get_ylabel() == network._loss_label


def test_network_summary(wrapped):
    estimator, network, _, _ = wrapped
    assert str(network_summary(estimator)) == str(network_summary(network))


@pytest.mark.parametrize(
    "unfitted",
    [
        make_pipeline(MinMaxScaler(), CNNClassifier(n_filters=3)),
        GridSearchCV(CNNClassifier(n_filters=3), {"alpha": [1e-4, 1e-3]}),
        TransformedTargetRegressor(CNNRegressor(n_filters=3)),
    ],
    ids=["pipeline", "grid_search", "target_transformer"],
)
def test_network_summary_of_an_unfitted_wrapper(unfitted):
    """Described as fitting it would build the network inside: for a search,
    the network of its ``estimator``."""
    inner = CNNRegressor if isinstance(unfitted, TransformedTargetRegressor) else None
    inner = (inner or CNNClassifier)(n_filters=3)
    expected = network_summary(inner, image_shape=(6, 6))
    assert str(network_summary(unfitted, image_shape=(6, 6))) == str(expected)
    with pytest.raises(ValueError, match="pass image_shape"):
        network_summary(unfitted)


@pytest.mark.parametrize(
    "search_cls", [RandomizedSearchCV, HalvingGridSearchCV, HalvingRandomSearchCV]
)
def test_other_searches(pyplot, x_data, search_cls):
    X, y = x_data
    clf = CNNClassifier(n_filters=2, hidden_units=3, solver="lbfgs", max_iter=5)
    grid = {"alpha": [1e-4, 1e-2]}
    kwargs = {
        RandomizedSearchCV: dict(n_iter=2),
        HalvingGridSearchCV: dict(min_resources=40),
        HalvingRandomSearchCV: dict(min_resources=40, n_candidates=2),
    }[search_cls]
    search = fit_quietly(search_cls(clf, grid, cv=2, random_state=0, **kwargs), X, y)
    assert resolve_network(search, caller="test")[0] is search.best_estimator_
    display = FilterDisplay.from_estimator(search)
    assert_allclose(
        display.images_[0, 1].get_array(), search.best_estimator_.filters_[0][1, 0]
    )


@pytest.mark.parametrize("method", ["gradient", "integrated_gradients", "grad_cam"])
def test_saliency_maps_are_those_of_the_network_on_transformed_X(wrapped, method):
    """The maps of a wrapper are the network's on the samples as it sees
    them: with respect to those samples, not to the raw pixels."""
    estimator, network, raw, seen = wrapped
    maps = saliency_maps(estimator, raw[:4], method=method)
    expected = saliency_maps(network, seen[:4], method=method)
    assert_allclose(maps, expected, rtol=1e-10, atol=1e-12)


def test_saliency_display(pyplot, wrapped):
    estimator, network, raw, seen = wrapped
    display = SaliencyDisplay.from_estimator(estimator, raw[:2])
    expected = saliency_maps(network, seen[:2])
    assert_allclose(display.maps, expected, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ errors
def _call(caller, estimator, X):
    if caller == "FilterDisplay.from_estimator":
        return FilterDisplay.from_estimator(estimator)
    if caller == "FeatureMapDisplay.from_estimator":
        return FeatureMapDisplay.from_estimator(estimator, X[0])
    if caller == "LossCurveDisplay.from_estimator":
        return LossCurveDisplay.from_estimator(estimator)
    if caller == "feature_maps":
        return feature_maps(estimator, X[:2])
    if caller == "saliency_maps":
        return saliency_maps(estimator, X[:2])
    if caller == "SaliencyDisplay.from_estimator":
        return SaliencyDisplay.from_estimator(estimator, X[:2])
    return network_summary(estimator)


CALLERS = [
    "FilterDisplay.from_estimator",
    "FeatureMapDisplay.from_estimator",
    "LossCurveDisplay.from_estimator",
    "feature_maps",
    "saliency_maps",
    "SaliencyDisplay.from_estimator",
    "network_summary",
]


def _fitted(estimator, x_data):
    return fit_quietly(estimator, _raw(x_data[0]), x_data[1])


WRONG_TYPES = {
    "logistic_regression": (
        lambda: LogisticRegression(),
        r"got a LogisticRegression\. \(Other estimators",
    ),
    "pipeline_ending_in_logistic_regression": (
        lambda: make_pipeline(MinMaxScaler(), LogisticRegression()),
        "got a LogisticRegression as the last step 'logisticregression' of a Pipeline",
    ),
    "pipeline_ending_in_passthrough": (
        lambda: Pipeline([("cnn", CNNClassifier()), ("last", "passthrough")]),
        "got 'passthrough' as the last step 'last' of a Pipeline",
    ),
    "column_transformer": (
        lambda: ColumnTransformer([("scale", MinMaxScaler(), [0, 1])]),
        "got a ColumnTransformer",
    ),
    "search_of_a_pipeline_ending_in_logistic_regression": (
        lambda: GridSearchCV(
            make_pipeline(MinMaxScaler(), LogisticRegression()),
            {"logisticregression__C": [1.0]},
            cv=2,
        ),
        "got a LogisticRegression as the last step 'logisticregression' of a "
        "Pipeline, itself the best_estimator_ of a GridSearchCV",
    ),
}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("make, match", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_other_estimators_are_refused(pyplot, x_data, caller, make, match):
    estimator = make()
    if "passthrough" not in match:  # a pipeline ending in one cannot fit
        estimator = _fitted(estimator, x_data)
    accepted = "takes a CNNClassifier or CNNRegressor, a Pipeline whose last step"
    with pytest.raises(TypeError, match=f"{caller} {accepted}") as info:
        _call(caller, estimator, _raw(x_data[0]))
    assert match.replace("\\", "") in str(info.value)


UNFITTED = {
    "pipeline": (
        make_pipeline(MinMaxScaler(), CNNClassifier()),
        "This Pipeline instance is not fitted yet",
    ),
    "grid_search": (
        GridSearchCV(CNNClassifier(), {"alpha": [1e-4]}),
        "This GridSearchCV instance is not fitted yet",
    ),
    "target_transformer": (
        TransformedTargetRegressor(CNNRegressor()),
        "This TransformedTargetRegressor instance is not fitted yet",
    ),
    "classifier": (CNNClassifier(), "This CNNClassifier instance is not fitted yet"),
}


@pytest.mark.parametrize("caller", CALLERS[:-1])  # network_summary takes them
@pytest.mark.parametrize("estimator, match", UNFITTED.values(), ids=UNFITTED.keys())
def test_unfitted_wrappers_are_refused(pyplot, x_data, caller, estimator, match):
    with pytest.raises(NotFittedError, match=f"{match}.* before {caller}"):
        _call(caller, estimator, x_data[0])


@pytest.mark.parametrize("caller", CALLERS)
def test_search_without_refit_is_refused(pyplot, x_data, caller):
    clf = CNNClassifier(n_filters=2, hidden_units=2, solver="lbfgs", max_iter=3)
    search = _fitted(GridSearchCV(clf, {"alpha": [1e-4]}, cv=2, refit=False), x_data)
    match = f"fitted with refit=False, so it holds no best_estimator_ for {caller}"
    with pytest.raises(NotFittedError, match=match):
        _call(caller, search, x_data[0])


def test_target_transformer_around_its_default_regressor(x_data):
    ttr = TransformedTargetRegressor()
    with pytest.raises(TypeError, match="regressor=None"):
        network_summary(ttr, image_shape=(5, 5))
    ttr = fit_quietly(ttr, *[x_data[0], x_data[0].mean(axis=1)])
    with pytest.raises(TypeError, match="got a LinearRegression as the regressor_"):
        feature_maps(ttr, x_data[0][:2])
