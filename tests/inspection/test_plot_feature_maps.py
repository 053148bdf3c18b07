import copy
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import NotFittedError

from sklearn_xcnn import CNNClassifier, CNNRegressor
from sklearn_xcnn.inspection import FeatureMapDisplay, feature_maps

from .conftest import fit_quietly


def _display(constructor_name, clf, X):
    """The display of the first image of X, built one of several ways."""
    if constructor_name == "init":
        stages = feature_maps(clf, X[:1])
        display = FeatureMapDisplay(
            X[0].reshape(5, 5),
            clf.filters_[0],
            stages.blocks[0].activated[0],
            stages.blocks[0].pooled[0],
            proba=stages.proba[0],
            classes=clf.classes_,
            intercepts=clf.filter_intercepts_[0],
        )
        return display.plot()
    one_image = {
        "from_estimator_row": X[0],
        "from_estimator_batch": X[:1],
        "from_estimator_image": X[0].reshape(5, 5),
        "from_estimator_image_batch": X[:1].reshape(1, 5, 5),
    }[constructor_name]
    return FeatureMapDisplay.from_estimator(clf, one_image)


@pytest.mark.parametrize(
    "constructor_name",
    [
        "init",
        "from_estimator_row",
        "from_estimator_batch",
        "from_estimator_image",
        "from_estimator_image_batch",
    ],
)
def test_feature_map_display(pyplot, x_clf, x_data, constructor_name):
    X = x_data[0]
    display = _display(constructor_name, x_clf, X)
    stages = feature_maps(x_clf, X[:1])
    maps, pooled = stages.blocks[0].activated[0], stages.blocks[0].pooled[0]
    assert display.ax_.shape == (4, 3)
    assert_allclose(display.input_image_.get_array(), X[0].reshape(5, 5))
    for f in range(4):
        assert_allclose(display.images_[f, 0].get_array(), x_clf.filters_[0][f, 0])
        assert_allclose(display.images_[f, 1].get_array(), maps[f])
        assert_allclose(display.images_[f, 2].get_array(), pooled[f])
    # one symmetric scale for the filters, one shared by feature and pooled maps
    filter_limit = np.abs(x_clf.filters_[0]).max()
    map_limit = max(np.abs(maps).max(), np.abs(pooled).max())
    assert display.vmax_ == pytest.approx((filter_limit, map_limit))
    for (_, s), image in np.ndenumerate(display.images_):
        limit = filter_limit if s == 0 else map_limit
        assert image.get_clim() == pytest.approx((-limit, limit))
    best = int(np.argmax(stages.proba[0]))
    expected = f"{stages.proba[0, best]:.0%} {x_clf.classes_[best]}"
    assert display.input_ax_.get_title() == display.title_ == f"input\n{expected}"
    assert len(display.colorbars_) == 2


def test_input_spans_all_rows(pyplot, x_clf, x_data):
    display = FeatureMapDisplay.from_estimator(x_clf, x_data[0][0])
    spec = display.input_ax_.get_subplotspec()
    assert (spec.rowspan.start, spec.rowspan.stop) == (0, 4)
    titles = [a.get_title() for a in display.ax_[0]]
    assert titles == ["filter", "feature map\n(relu)", "max-pooled\n2x2"]
    assert [a.get_ylabel() for a in display.ax_[:, 0]] == [
        f"filter {f}" for f in range(4)
    ]


def test_without_pooling(pyplot, x_data):
    X, y = x_data
    clf = fit_quietly(
        CNNClassifier(n_filters=2, pooling=None, hidden_units=3, max_iter=3), X, y
    )
    display = FeatureMapDisplay.from_estimator(clf, X[0], colorbar=False)
    assert display.ax_.shape == (2, 2)
    assert display.colorbars_ == []


def test_second_block_and_channel(pyplot):
    X = np.random.RandomState(0).uniform(size=(20, 8 * 8 * 2))
    clf = CNNClassifier(
        n_filters=(2, 3), hidden_units=3, max_iter=2, image_shape=(8, 8, 2)
    )
    clf = fit_quietly(clf, X, np.arange(20) % 2)
    display = FeatureMapDisplay.from_estimator(clf, X[0], block=1, channel=1)
    stages = feature_maps(clf, X[:1])
    assert display.ax_.shape == (3, 3)
    assert_allclose(display.images_[2, 0].get_array(), clf.filters_[1][2, 1])
    assert_allclose(display.images_[2, 1].get_array(), stages.blocks[1].activated[0, 2])
    assert display.ax_[0, 0].get_title() == "filter (channel 1)"
    assert_allclose(display.input_image_.get_array(), X[0].reshape(8, 8, 2)[..., 1])


def test_given_axes(pyplot, x_clf, x_data):
    figure, ax = pyplot.subplots()
    display = FeatureMapDisplay.from_estimator(x_clf, x_data[0][0], ax=ax)
    assert display.figure_ is figure
    assert display.input_ax_.figure is figure
    figure, axes = pyplot.subplots(4, 4)
    display = FeatureMapDisplay.from_estimator(x_clf, x_data[0][0], ax=axes)
    assert display.ax_[3, 2] is axes[3, 3]
    with pytest.raises(ValueError, match="16 panels"):
        FeatureMapDisplay.from_estimator(x_clf, x_data[0][0], ax=axes[:2])


def test_several_images_rejected(pyplot, x_clf, x_data):
    with pytest.raises(ValueError, match="one image; X holds 2 samples"):
        FeatureMapDisplay.from_estimator(x_clf, x_data[0][:2])


def test_title_without_proba(pyplot):
    display = FeatureMapDisplay(np.eye(4), np.ones((1, 2, 2)), np.ones((1, 3, 3)))
    display.plot()
    assert display.title_ == "input"
    assert display.ax_.shape == (1, 2)


@pytest.mark.parametrize("estimator", [CNNClassifier(), CNNRegressor()])
def test_not_fitted(pyplot, estimator):
    with pytest.raises(NotFittedError):
        FeatureMapDisplay.from_estimator(estimator, np.zeros(25))


@pytest.mark.parametrize("constructor_name", ["from_estimator", "init"])
def test_regressor_title_gives_the_prediction(
    pyplot, x_reg, ink_data, constructor_name
):
    X = ink_data[0]
    stages = feature_maps(x_reg, X[:1])
    if constructor_name == "init":
        display = FeatureMapDisplay(
            X[0].reshape(5, 5),
            x_reg.filters_[0],
            stages.blocks[0].activated[0],
            stages.blocks[0].pooled[0],
            prediction=stages.predictions[0],
        ).plot()
    else:
        display = FeatureMapDisplay.from_estimator(x_reg, X[0])
    predicted = x_reg.predict(X[:1])[0]
    assert display.title_ == f"input\npredicted {predicted:.3g}"
    assert display.ax_.shape == (4, 3)
    for f in range(4):
        assert_allclose(display.images_[f, 0].get_array(), x_reg.filters_[0][f, 0])
        assert_allclose(
            display.images_[f, 2].get_array(), stages.blocks[0].pooled[0, f]
        )


def test_several_outputs_in_the_title(pyplot):
    display = FeatureMapDisplay(
        np.eye(4), np.ones((1, 2, 2)), np.ones((1, 3, 3)), prediction=[0.5, -12.25]
    ).plot()
    assert display.title_ == "input\npredicted 0.5, -12.2"
    with_proba = FeatureMapDisplay(
        np.eye(4), np.ones((1, 2, 2)), np.ones((1, 3, 3)), proba=[0.25, 0.75],
        prediction=3.0,
    ).plot()  # fmt: skip
    assert with_proba.title_ == "input\n75% 1"


def test_labels_describe_the_fitted_network_after_set_params(pyplot, x_clf, x_data):
    clf = copy.deepcopy(x_clf).set_params(pooling="mean", activation="tanh")
    display = FeatureMapDisplay.from_estimator(clf, x_data[0][0])
    titles = [a.get_title() for a in display.ax_[0]]
    assert titles == ["filter", "feature map\n(relu)", "max-pooled\n2x2"]
    stages = feature_maps(x_clf, x_data[0][:1])
    for f in range(4):
        assert_allclose(
            display.images_[f, 2].get_array(), stages.blocks[0].pooled[0, f]
        )
    no_pool = copy.deepcopy(x_clf).set_params(pooling=None)
    assert FeatureMapDisplay.from_estimator(no_pool, x_data[0][0]).ax_.shape == (4, 3)


def test_clear_error_without_matplotlib(monkeypatch, x_clf, x_data):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"FeatureMapDisplay.* requires matplotlib"):
        FeatureMapDisplay.from_estimator(x_clf, x_data[0][0])


def test_one_channels_first_image(pyplot):
    """A network fitted on channels-first images (``image_shape=(H, W, C)``
    with X of shape ``(n, C, H, W)``) also shows one ``(C, H, W)`` image."""
    rng = np.random.RandomState(0)
    first = rng.uniform(size=(20, 3, 6, 6))  # (n, C, H, W)
    y = np.arange(20) % 2
    params = dict(n_filters=2, hidden_units=3, max_iter=5, random_state=0)
    model = fit_quietly(CNNClassifier(**params, image_shape=(6, 6, 3)), first, y)
    one = FeatureMapDisplay.from_estimator(model, first[0])
    batch = FeatureMapDisplay.from_estimator(model, first[:1])
    assert_allclose(one.image, batch.image)
    assert_allclose(one.proba, model.predict_proba(first[:1])[0])
