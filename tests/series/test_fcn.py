"""The FCN presets: aeon's layouts against the image model they stand for,
predictions on lengths never seen against a forward pass written with
``np.correlate``, and the errors of series input."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from sklearn_xcnn import CNNClassifier, CNNRegressor
from sklearn_xcnn.series import FCNClassifier, FCNRegressor

from ..conftest import fit_quietly

SMALL = dict(n_filters=(4, 3), kernel_size=(4, 3), max_iter=4, random_state=0)


def _series(n=40, n_channels=2, n_timepoints=24, seed=0):
    """``(n, n_channels, n_timepoints)`` sines and squares, labels 0/1."""
    rng = np.random.RandomState(seed)
    t = np.linspace(0, 1, n_timepoints)
    phase = rng.uniform(size=(n, n_channels, 1))
    X = np.sin(2 * np.pi * (2 * t + phase))
    y = np.arange(n) % 2
    X[y == 1] = np.sign(X[y == 1])
    return X + 0.1 * rng.standard_normal(X.shape), y


def _image_twin(cls, fcn):
    """The image estimator that ``fcn`` stands for: its parameters with the
    sizes written as ``(1, k)`` kernels."""
    params = fcn.get_params()
    params["kernel_size"] = [(1, k) for k in params["kernel_size"]]
    params.pop("class_weight", None) if cls is CNNRegressor else None
    return cls(**params)


def _fitted_arrays(est):
    names = ["filters_", "filter_intercepts_", "batch_norm_scales_", "coefs_"]
    return [a for name in names for a in getattr(est, name)] + [
        *est.batch_norm_means_,
        *est.batch_norm_vars_,
    ]


# ------------------------------------------------------------------ layouts
@pytest.mark.parametrize("layout", ["3d", "list"])
def test_layouts_fit_the_image_model_bit_for_bit(layout):
    X, y = _series()
    images = X.transpose(0, 2, 1)[:, None]  # (n, 1, T, C)
    fcn = FCNClassifier(**SMALL)
    fit_quietly(fcn, X if layout == "3d" else list(X), y)
    cnn = fit_quietly(_image_twin(CNNClassifier, fcn), images, y)
    for a, b in zip(_fitted_arrays(fcn), _fitted_arrays(cnn), strict=True):
        assert_array_equal(a, b)
    assert_array_equal(fcn.predict_proba(X), cnn.predict_proba(images))
    assert (fcn.n_channels_, fcn.n_timepoints_, fcn.n_features_in_) == (2, 24, 48)


@pytest.mark.parametrize("layout", ["2d", "3d", "list_1d", "list_2d"])
def test_univariate_layouts_give_one_model(layout):
    X, y = _series(n_channels=1)
    given = {
        "2d": X[:, 0],
        "3d": X,
        "list_1d": list(X[:, 0]),
        "list_2d": list(X),
    }[layout]
    reg = fit_quietly(FCNRegressor(**SMALL), given, y * 1.0)
    cnn = fit_quietly(_image_twin(CNNRegressor, reg), X[:, 0], y * 1.0)
    for a, b in zip(_fitted_arrays(reg), _fitted_arrays(cnn), strict=True):
        assert_array_equal(a, b)
    assert reg.image_shape_ == (1, 24, 1)


def test_sizes_are_read_along_time():
    X, y = _series()
    clf = fit_quietly(
        FCNClassifier(n_filters=(3, 2), kernel_size=4, stride=(1, 2), padding=1,
                      max_iter=1),
        X, y,
    )  # fmt: skip
    assert [f.shape for f in clf.filters_] == [(3, 2, 1, 4), (2, 3, 1, 4)]
    # 24 + 2 - 4 + 1 = 23 steps, then (23 + 2 - 4) // 2 + 1 = 11
    assert clf._network_spec(fitted=True).blocks[1].conv_shape == (1, 11)


def test_the_defaults_are_the_published_fcn():
    X, y = _series(n=16, n_timepoints=12)
    clf = fit_quietly(FCNClassifier(max_iter=1, random_state=0), X, y)
    assert [f.shape for f in clf.filters_] == [
        (128, 2, 1, 8),
        (256, 128, 1, 5),
        (128, 256, 1, 3),
    ]
    assert [c.shape for c in clf.coefs_] == [(128, 1)]
    assert clf.batch_norm_scales_ is not None


def test_3d_input_gets_no_image_warning():
    X, y = _series(n_channels=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = FCNClassifier(**SMALL).fit(X, y)
        clf.predict(X)


# -------------------------------------------------------- other lengths
def _same_correlate(x, w, k):
    """'same' correlation of ``x`` (C, T) with ``w`` (C, k): zeros on the
    left ``(k - 1) // 2``, the rest on the right."""
    left = (k - 1) // 2
    padded = np.pad(x, ((0, 0), (left, k - 1 - left)))
    return sum(np.correlate(padded[c], w[c], mode="valid") for c in range(len(x)))


def _manual_logits(est, x):
    """The fitted FCN on one series ``x`` (C, T), written out with loops."""
    h = x
    for b, filters in enumerate(est.filters_):
        k = filters.shape[-1]
        z = np.array([_same_correlate(h, f[:, 0], k) for f in filters])  # (F, T)
        mean, var = est.batch_norm_means_[b], est.batch_norm_vars_[b]
        z = (z - mean[:, None]) / np.sqrt(var[:, None] + 1e-5)
        z = z * est.batch_norm_scales_[b][:, None] + est.filter_intercepts_[b][:, None]
        h = np.maximum(z, 0)
    return h.mean(axis=1) @ est.coefs_[0] + est.intercepts_[0]


def test_a_list_predicts_lengths_never_seen():
    X, y = _series()
    clf = fit_quietly(FCNClassifier(**SMALL), X, y)
    rng = np.random.RandomState(1)
    series = [rng.standard_normal((2, n)) for n in (9, 24, 57, 9, 31)]
    scores = clf.decision_function(series)
    expected = [_manual_logits(clf, x)[0] for x in series]
    assert_allclose(scores, expected, rtol=1e-10, atol=1e-12)
    # the training length through the list gives what the array gives
    assert_allclose(clf.decision_function(list(X)), clf.decision_function(X),
                    rtol=1e-12, atol=1e-14)  # fmt: skip
    assert_array_equal(clf.predict(series), clf.classes_[(scores > 0).astype(int)])


def test_other_lengths_of_float32_series_stay_float32():
    X, y = _series()
    reg = fit_quietly(FCNRegressor(**SMALL), X.astype(np.float32), y * 1.0)
    out = reg.predict([x.astype(np.float32) for x in X[:3, :, :17]])
    assert out.dtype == np.float32 and out.shape == (3,)


# -------------------------------------------------------------- objects
def test_clone_and_pickle():
    X, y = _series()
    clf = fit_quietly(FCNClassifier(**SMALL), X, y)
    assert clone(clf).get_params() == clf.get_params()
    assert "image_shape" not in clf.get_params()
    again = pickle.loads(pickle.dumps(clf))
    assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert_array_equal(again.predict([X[0, :, :10]]), clf.predict([X[0, :, :10]]))


def test_repr_shows_only_what_differs_from_the_fcn():
    assert repr(FCNClassifier(max_iter=10)) == "FCNClassifier(max_iter=10)"


def test_network_summary_of_an_unfitted_preset():
    from sklearn_xcnn.inspection import network_summary

    with pytest.raises(ValueError, match="is not fitted: pass image_shape="):
        network_summary(FCNClassifier())
    summary = str(network_summary(FCNClassifier(), image_shape=(1, 100, 3)))
    assert "correlate 256 filters 1x5" in summary and "266,369" in summary
