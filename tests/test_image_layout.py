"""Channels-first images: ``image_shape`` says which order 4-D ``X`` comes in,
and both readings give the very model the channels-last input gives."""

import pickle
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from sklearn_xcnn import CNNClassifier, CNNRegressor
from sklearn_xcnn.inspection import feature_maps

from .conftest import fit_quietly

N = 24
PARAMS = {"n_filters": 2, "hidden_units": 3, "max_iter": 3, "random_state": 0}


def _images(channels=3, side=6):
    """``(n, H, W, C)`` images and the same pixels as ``(n, C, H, W)``."""
    last = np.random.RandomState(0).uniform(size=(N, side, side, channels))
    first = np.ascontiguousarray(last.transpose(0, 3, 1, 2))  # (n, C, H, W)
    return last, first


def _targets(estimator):
    y = np.arange(N) % 2
    return y if isinstance(estimator, CNNClassifier) else y + 0.5 * np.arange(N) / N


@contextmanager
def _no_user_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        yield


def _assert_same_model(a, b):
    for name in ("filters_", "filter_intercepts_", "coefs_", "intercepts_"):
        for x, y in zip(getattr(a, name), getattr(b, name), strict=True):
            np.testing.assert_array_equal(x, y)
    assert a.loss_curve_ == b.loss_curve_


@pytest.mark.parametrize("Estimator", [CNNClassifier, CNNRegressor])
def test_channels_first_fits_the_model_channels_last_fits(Estimator):
    last, first = _images()
    y = _targets(Estimator())
    reference = fit_quietly(Estimator(**PARAMS), last, y)
    with _no_user_warning():
        model = fit_quietly(Estimator(**PARAMS, image_shape=(6, 6, 3)), first, y)
    assert model.image_shape_ == reference.image_shape_ == (6, 6, 3)
    _assert_same_model(model, reference)
    # predict (and score, through it) reads channels-first X the same way
    np.testing.assert_array_equal(model.predict(first), reference.predict(last))
    assert model.score(first, y) == reference.score(last, y)
    # flat rows are channels last whatever the model was fitted on
    flat = last.reshape(N, -1)
    np.testing.assert_array_equal(model.predict(flat), reference.predict(flat))


def test_confirming_channels_last_reads_the_array_as_given():
    _, first = _images()  # (n, 3, 6, 6), read here as 3x6 images of 6 channels
    y = np.arange(N) % 2
    with _no_user_warning():
        model = fit_quietly(CNNClassifier(**PARAMS, image_shape=(3, 6, 6)), first, y)
    with pytest.warns(UserWarning, match="read as 3x6 images with 6 channels"):
        guessed = fit_quietly(CNNClassifier(**PARAMS), first, y)
    assert model.image_shape_ == guessed.image_shape_ == (3, 6, 6)
    _assert_same_model(model, guessed)


def test_partial_fit_and_warm_start_keep_the_reading():
    last, first = _images()
    y = np.arange(N) % 2
    reference = CNNClassifier(**PARAMS)
    model = CNNClassifier(**PARAMS, image_shape=(6, 6, 3))
    for _ in range(2):
        reference.partial_fit(last, y, classes=[0, 1])
        model.partial_fit(first, y, classes=[0, 1])
    _assert_same_model(model, reference)
    reference.set_params(warm_start=True)
    model.set_params(warm_start=True)
    fit_quietly(reference, last, y)
    fit_quietly(model, first, y)
    _assert_same_model(model, reference)


def test_feature_maps_and_pickles_read_channels_first_again():
    last, first = _images()
    y = np.arange(N) % 2
    reference = fit_quietly(CNNClassifier(**PARAMS), last, y)
    model = fit_quietly(CNNClassifier(**PARAMS, image_shape=(6, 6, 3)), first, y)
    ours, theirs = feature_maps(model, first[:2]), feature_maps(reference, last[:2])
    for name in ("images", "flattened", "logits", "proba"):
        np.testing.assert_array_equal(ours[name], theirs[name])
    for block, other in zip(ours.blocks, theirs.blocks, strict=True):
        for name in block:
            np.testing.assert_array_equal(block[name], other[name])
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        restored.predict_proba(first), model.predict_proba(first)
    )


def test_one_channel_first_also_takes_3d_images_at_predict():
    last, first = _images(channels=1)  # (n, 6, 6, 1) and (n, 1, 6, 6)
    y = np.arange(N) % 2
    model = fit_quietly(CNNClassifier(**PARAMS, image_shape=(6, 6)), first, y)
    reference = fit_quietly(CNNClassifier(**PARAMS), last[..., 0], y)
    _assert_same_model(model, reference)
    np.testing.assert_array_equal(model.predict(last[..., 0]), model.predict(first))


@pytest.mark.parametrize(
    "shape",
    [(N, 6, 6, 3), (N, 6, 6, 1), (N, 3, 6, 4), (N, 2, 6, 6), (N, 3, 6), (N, 36)],
    ids=["rgb-last", "grey-last", "channels-both-ends", "2-first", "3d", "flat"],
)
def test_no_channels_first_warning_where_the_layout_is_not_in_doubt(shape):
    X = np.random.RandomState(0).uniform(size=shape)
    with _no_user_warning():
        clf = fit_quietly(CNNClassifier(**PARAMS), X, np.arange(N) % 2)
    assert clf.n_features_in_ == np.prod(shape[1:])


def test_image_shape_matching_neither_order_is_refused():
    _, first = _images()
    with pytest.raises(ValueError, match=r"channels-first images of shape \(C, H, W\)"):
        fit_quietly(
            CNNClassifier(**PARAMS, image_shape=(6, 3, 6)), first, np.arange(N) % 2
        )
