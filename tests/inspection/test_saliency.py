"""Saliency maps, deletion curves and SaliencyDisplay.

Every method against an independent computation, for every architecture
option of the estimators: the gradient against central finite differences of
the estimator's own outputs (``decision_function`` or ``predict``) with
respect to each pixel; integrated gradients against the same differences
along the path, and their completeness; Grad-CAM against the activated maps
of ``feature_maps`` weighted by finite differences through a pooling and
dense head written with loops. The architectures include every block kind
(residual units with and without a change of channels, inception blocks with
and without bottlenecks, dilated blocks) in both engines. Then faithfulness
on X-or-not-X (the seed network and a residual one) and digits.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.ndimage import zoom
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_xcnn import CNNClassifier, CNNRegressor
from sklearn_xcnn.datasets import make_x_or_not_x
from sklearn_xcnn.inspection import (
    SaliencyDisplay,
    deletion_curve,
    feature_maps,
    saliency_maps,
)

from ..core.test_architectures import _pool_loops, reference_forward
from .conftest import V02, fit_quietly

EPS = 1e-6
SIDE = 6

# every architecture option of the estimators; tanh unless said otherwise,
# so that finite differences do not straddle a kink
ARCHITECTURES = {
    "binary_max_pool": {},
    "same_padding_mean_pool": {"padding": "same", "pooling": "mean"},
    "int_padding_sum_pool_stride": {"padding": 1, "pooling": "sum", "stride": 2},
    "no_pooling_stride": {"pooling": None, "stride": 2},
    "batch_norm_max_pool": {"batch_norm": True},
    "batch_norm_mean_pool_same": {
        "batch_norm": True,
        "pooling": "mean",
        "padding": "same",
    },
    "global_mean_pooling": {"global_pooling": "mean"},
    "global_max_pooling": {"global_pooling": "max", "pooling": None},
    "dropout": {"dropout": 0.3},
    "two_blocks": {
        "n_filters": (3, 2),
        "kernel_size": [3, (2, 1)],
        "padding": [1, "same"],
        "pool_size": [2, (2, 1)],
    },
    "two_hidden_layers": {"hidden_units": (4, 3)},
    "no_hidden_layer": {"hidden_units": ()},
    "relu_mean_pool": {"activation": "relu", "pooling": "mean"},
    "multi_channel": {"image_shape": (SIDE, SIDE, 2)},
    "multiclass": {"task": "multiclass"},
    "multilabel": {"task": "multilabel", "batch_norm": True},
    "regressor": {"task": "regression"},
    "regressor_multi_output": {"task": "regression_2", "global_pooling": "mean"},
    # the block kinds, both engines
    "residual_channel_change_im2col": {
        "block": "residual", "block_depth": 2, "algorithm": "im2col",
    },
    "residual_two_units_scipy": {
        # block 1 keeps the channels: batch norm alone as the shortcut
        "block": "residual", "n_filters": (2, 2), "block_depth": 2,
        "pooling": "mean", "algorithm": "scipy",
    },
    "residual_identity_shortcut_im2col": {
        "block": ["conv", "residual"], "n_filters": (2, 2), "block_depth": 2,
        "algorithm": "im2col", "dropout": 0.2,
    },
    "residual_dilated_multiclass_scipy": {
        "block": "residual", "block_depth": 2, "dilation": 2, "pooling": None,
        "global_pooling": "mean", "task": "multiclass", "algorithm": "scipy",
    },
    "inception_no_bottleneck_im2col": {
        "block": "inception", "n_filters": 2, "kernel_size": 4,
        "block_depth": 1, "algorithm": "im2col",
    },
    "inception_bottleneck_scipy": {
        "block": "inception", "n_filters": 2, "kernel_size": 4,
        "block_depth": 2, "image_shape": (SIDE, SIDE, 2), "algorithm": "scipy",
    },
    "inception_after_conv_regressor_im2col": {
        "block": ["conv", "inception"], "n_filters": (2, 1), "kernel_size": 4,
        "block_depth": 1, "padding": "same", "task": "regression",
        "algorithm": "im2col",
    },
    "dilated_im2col": {
        "n_filters": (3, 2), "dilation": [2, (1, 2)], "padding": "same",
        "batch_norm": True, "algorithm": "im2col",
    },
    "dilated_scipy": {
        "dilation": 2, "pooling": "mean", "task": "multiclass",
        "algorithm": "scipy",
    },
}  # fmt: skip


def _fit(name):
    """A small estimator of architecture ``name`` fitted on random images,
    its images ``(3, n_features)`` and its targets to test."""
    params = dict(ARCHITECTURES[name])
    task = params.pop("task", "binary")
    channels = params.pop("image_shape", (SIDE, SIDE, 1))[2]
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(40, SIDE * SIDE * channels))
    base = dict(n_filters=3, hidden_units=4, activation="tanh", max_iter=5)
    base.update(image_shape=(SIDE, SIDE, channels), random_state=0, **params)
    ink = X[:, :12].sum(axis=1)
    if task.startswith("regression"):
        y = ink if task == "regression" else np.c_[ink, X[:, -5:].sum(axis=1)]
        est = fit_quietly(CNNRegressor(**base), X, y)
        targets = [None] + list(range(1, y.ndim))
    else:
        if task == "binary":
            y = np.where(ink > np.median(ink), "a", "b")
        elif task == "multiclass":
            y = np.digitize(ink, np.quantile(ink, [0.33, 0.66]))
        else:
            y = np.c_[ink > np.median(ink), X[:, -1] > 0.5, X[:, 0] > 0.3].astype(int)
        est = fit_quietly(CNNClassifier(**base), X, y)
        targets = [None, *est.classes_.tolist()]
    return est, X[:3], targets


def _outputs(est, X):
    """The estimator's own outputs before any output activation, (n, k)."""
    if isinstance(est, CNNRegressor):
        out = est.predict(X)
    else:
        out = est.decision_function(X)
    return out.reshape(len(X), -1)


def _target_outputs(est, X, target):
    """Each sample's target output from the estimator's public methods:
    the logit of the target class (minus the single logit for a binary
    classifier's first class), or the regressor's output ``target``."""
    out = _outputs(est, X)
    if isinstance(est, CNNRegressor):
        return out[:, 0 if target is None else target]
    classes = est.classes_.tolist()
    if target is None:
        if out.shape[1] == 1:
            return np.abs(out[:, 0])  # the predicted class's log-odds
        return out.max(axis=1)
    if out.shape[1] == 1:
        return out[:, 0] if classes.index(target) == 1 else -out[:, 0]
    return out[:, classes.index(target)]


def _numeric_gradient(est, X, target):
    """Central differences of each sample's target output, ``X``'s shape.
    The target class is fixed at the unperturbed sample's."""
    n, p = X.shape
    steps = np.eye(p) * EPS
    numeric = np.empty_like(X)
    for i in range(n):
        pick = target
        if target is None and not isinstance(est, CNNRegressor):
            pick = est.classes_[np.argmax(_class_scores(est, X[i : i + 1])[0])]
        up = _target_outputs(est, X[i] + steps, pick)
        down = _target_outputs(est, X[i] - steps, pick)
        numeric[i] = (up - down) / (2 * EPS)
    return numeric


def _class_scores(est, X):
    out = _outputs(est, X)
    return np.c_[-out, out] if out.shape[1] == 1 else out


def _relative_error(analytic, numeric):
    scale = np.abs(numeric).max()
    assert scale > 0
    return np.abs(analytic - numeric).max() / scale


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_gradient_matches_finite_differences(name):
    est, X, targets = _fit(name)
    for target in targets:
        maps = saliency_maps(est, X, target=target)
        assert maps.shape == (3, *est.image_shape_)
        numeric = _numeric_gradient(est, X, target)
        assert _relative_error(maps.reshape(3, -1), numeric) < 1e-6


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_integrated_gradients_match_finite_differences_on_the_path(name):
    est, X, targets = _fit(name)
    baseline = np.full(X.shape[1], 0.25)
    for target in targets[:2]:
        if target is None and not isinstance(est, CNNRegressor):
            # the path's points fix the class of the image itself
            target = est.classes_[np.argmax(_class_scores(est, X[:1])[0])]
            X = X[:1]
        maps = saliency_maps(
            est,
            X,
            target=target,
            method="integrated_gradients",
            baseline=baseline,
            n_steps=3,
        )
        mean_gradient = np.mean(
            [
                _numeric_gradient(est, baseline + a * (X - baseline), target)
                for a in (1 / 6, 3 / 6, 5 / 6)  # the midpoints of 3 steps
            ],
            axis=0,
        )
        expected = (X - baseline) * mean_gradient
        assert _relative_error(maps.reshape(len(X), -1), expected) < 1e-6


def _head(est, activated):
    """The network after the last block's activation, by loops: pooling,
    then the core tests' reference network without blocks (flattening or
    global pooling, and the dense layers)."""
    spec = est._fitted_network().spec
    a = activated  # (n, Ho, Wo, F)
    if spec.pooling is not None:
        a = _pool_loops(a, spec.blocks[-1].pool, spec.pooling)
    dense = [p for pair in zip(est.coefs_, est.intercepts_) for p in pair]
    return reference_forward(dense, a, spec._replace(blocks=()), training=False)


def _independent_grad_cam(est, X, target):
    """Grad-CAM from ``feature_maps`` and finite differences of the head."""
    activated = feature_maps(est, X).blocks[-1].activated.transpose(0, 2, 3, 1)
    n, Ho, Wo, F = activated.shape
    column = {None: None}.get(target, target)
    cams = []
    for i in range(n):
        logits = _head(est, activated[i : i + 1])[0]
        if isinstance(est, CNNRegressor):
            weights = np.eye(logits.size)[0 if column is None else column]
        elif logits.size == 1:
            label = (
                (logits[0] > 0)
                if column is None
                else est.classes_.tolist().index(column)
            )
            weights = np.array([1.0 if label else -1.0])
        else:
            k = (
                np.argmax(logits)
                if column is None
                else est.classes_.tolist().index(column)
            )
            weights = np.eye(logits.size)[k]
        grad = np.empty((Ho, Wo, F))
        for idx in np.ndindex(Ho, Wo, F):
            step = np.zeros_like(activated[i : i + 1])
            step[(0, *idx)] = EPS
            up = _head(est, activated[i : i + 1] + step)[0] @ weights
            down = _head(est, activated[i : i + 1] - step)[0] @ weights
            grad[idx] = (up - down) / (2 * EPS)
        cam = np.maximum((activated[i] * grad.mean(axis=(0, 1))).sum(axis=2), 0)
        H, W, _ = est.image_shape_
        cams.append(zoom(cam, (H / Ho, W / Wo), order=1, grid_mode=False))
    return np.maximum(np.array(cams), 0)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_grad_cam_matches_feature_maps_and_finite_differences(name):
    est, X, targets = _fit(name)
    for target in targets[:2]:
        maps = saliency_maps(est, X, target=target, method="grad_cam")
        expected = _independent_grad_cam(est, X, target)
        for c in range(maps.shape[3]):  # the same map on every channel
            assert_allclose(
                maps[..., c], expected, rtol=1e-6, atol=1e-6 * expected.max()
            )


def test_methods_of_a_network_without_blocks():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(30, 9))
    y = (X[:, 4] > 0.5).astype(int)
    est = fit_quietly(CNNClassifier(n_filters=(), hidden_units=3, max_iter=5), X, y)
    numeric = _numeric_gradient(est, X[:2], None)
    maps = saliency_maps(est, X[:2])
    assert _relative_error(maps.reshape(2, -1), numeric) < 1e-6
    with pytest.raises(ValueError, match="method='grad_cam' needs a convolutional"):
        saliency_maps(est, X[:2], method="grad_cam")


# ---------------------------------------------------------- completeness
def _completeness_error(est, X, n_steps):
    ig = saliency_maps(est, X, method="integrated_gradients", n_steps=n_steps)
    f = _target_outputs(est, X, None)
    # the class is that of each image, also at the baseline
    sign = np.sign(_outputs(est, X)[:, 0])
    f0 = sign * _outputs(est, np.zeros_like(X))[:, 0]
    return np.abs(ig.sum(axis=(1, 2, 3)) - (f - f0)) / np.abs(f - f0)


def test_integrated_gradients_are_complete_for_smooth_activations(x_data):
    X, y = x_data
    est = fit_quietly(
        CNNClassifier(n_filters=4, hidden_units=3, activation="tanh",
                      solver="lbfgs", random_state=1),
        X, y,
    )  # fmt: skip
    assert _completeness_error(est, X[:30], 50).max() < 5e-3
    assert _completeness_error(est, X[:30], 200).max() < 5e-4


def test_integrated_gradients_are_exact_for_a_linear_network(x_data):
    X, y = x_data
    est = fit_quietly(
        CNNClassifier(n_filters=2, hidden_units=3, activation="identity",
                      pooling="mean", max_iter=5, random_state=0),
        X, y,
    )  # fmt: skip
    assert _completeness_error(est, X[:10], 1).max() < 1e-10


BLOCK_KIND_NETWORKS = {
    "residual": dict(block="residual", block_depth=2),
    "inception": dict(block="inception", kernel_size=4, block_depth=1),
    "dilated": dict(dilation=2, padding="same"),
}


@pytest.mark.parametrize("kind", BLOCK_KIND_NETWORKS)
def test_integrated_gradients_are_complete_for_every_block_kind(x_data, kind):
    """Measured worst errors over 20 images at 50 and 200 steps: residual
    1.8e-4 and 1.2e-5, inception 4.1e-3 and 2.6e-4 (the 3x3 max pool of its
    pool branch puts a few kinks on the path), dilated 4.9e-4 and 3.1e-5."""
    X, y = x_data
    est = fit_quietly(
        CNNClassifier(n_filters=3, hidden_units=3, activation="tanh",
                      pooling="mean", max_iter=30, random_state=0,
                      **BLOCK_KIND_NETWORKS[kind]),
        X, y,
    )  # fmt: skip
    coarse = _completeness_error(est, X[:20], 50).max()
    fine = _completeness_error(est, X[:20], 200).max()
    assert coarse < 1e-2 and fine < 1e-3 and fine < coarse / 8


def test_integrated_gradients_are_exact_for_a_linear_residual_network(x_data):
    # batch norm at prediction is affine: with the identity activation and
    # mean pooling the residual network is linear, one step is exact
    X, y = x_data
    est = fit_quietly(
        CNNClassifier(block="residual", n_filters=3, block_depth=2,
                      hidden_units=3, activation="identity", pooling="mean",
                      max_iter=5, random_state=0),
        X, y,
    )  # fmt: skip
    assert _completeness_error(est, X[:10], 1).max() < 1e-10


def test_integrated_gradients_of_relu_converge(x_clf, x_data):
    X = x_data[0][:30]
    coarse = _completeness_error(x_clf, X, 20).max()
    fine = _completeness_error(x_clf, X, 1000).max()
    assert fine < 0.02 and fine < coarse / 10


# ---------------------------------------------------------------- targets
def test_binary_targets_are_the_two_signs_of_one_logit(x_clf, x_data):
    X = x_data[0][:4]
    positive = saliency_maps(x_clf, X, target=x_clf.classes_[1])
    negative = saliency_maps(x_clf, X, target=x_clf.classes_[0])
    assert_allclose(negative, -positive)
    predicted = saliency_maps(x_clf, X)
    is_positive = x_clf.predict(X) == x_clf.classes_[1]
    assert_allclose(predicted[is_positive], positive[is_positive])
    assert_allclose(predicted[~is_positive], negative[~is_positive])


def test_float32_models_give_float32_maps(x_data):
    X, y = x_data
    est = fit_quietly(CNNClassifier(n_filters=2, max_iter=3), X.astype(np.float32), y)
    for method in ("gradient", "integrated_gradients", "grad_cam"):
        maps = saliency_maps(est, X[:2].astype(np.float32), method=method)
        assert maps.dtype == np.float32


# ----------------------------------------------------------- faithfulness
@pytest.fixture(scope="module")
def seed_xs():
    """The seed network of ``examples/plot_x_or_not_x.py`` and the X's it
    classifies correctly among its 400 images (199)."""
    X, y = make_x_or_not_x(n_samples=400, noise=0.02, random_state=0)
    labels = np.where(y == 1, "X", "Not X")
    X_train, _, y_train, _ = train_test_split(
        X, labels, stratify=labels, random_state=0
    )
    # the 0.2 network the drops below were measured on
    clf = CNNClassifier(
        **{**V02, "n_filters": 4, "hidden_units": 3, "max_iter": 1000},
        solver="lbfgs", alpha=1.0, random_state=7,
    )  # fmt: skip
    clf = fit_quietly(clf, X_train, y_train)
    return clf, X[(labels == "X") & (clf.predict(X) == "X")]


@pytest.mark.parametrize("method", ["gradient", "integrated_gradients", "grad_cam"])
def test_deleting_salient_pixels_of_an_x_lowers_its_probability(seed_xs, method):
    """The 3 most salient pixels of each correctly classified X lower its
    probability far more than 3 random ones (mean over the X's; measured:
    drops of 0.36, 0.49 and 0.16 against 0.05 at random)."""
    clf, Xs = seed_xs
    curve = deletion_curve(clf, Xs, target="X", method=method, random_state=0)
    start = curve.scores[:, 0].mean()
    salient = start - curve.scores[:, 3].mean()
    random = start - curve.random_scores[:, 3].mean()
    assert salient > 2.5 * random and salient > 0.1
    assert curve.area < 0.9 * curve.random_area


@pytest.fixture(scope="module")
def residual_xs():
    """A residual unit fitted on X-or-not-X (60 Adam epochs, 98% held-out
    accuracy), and the X's it classifies correctly among the 400 (199)."""
    X, y = make_x_or_not_x(n_samples=400, noise=0.02, random_state=0)
    labels = np.where(y == 1, "X", "Not X")
    X_train, _, y_train, _ = train_test_split(
        X, labels, stratify=labels, random_state=0
    )
    # the 0.2 regime (full batches at a constant rate) the numbers below
    # were measured in
    clf = CNNClassifier(
        **{**V02, "n_filters": 4, "hidden_units": 3, "max_iter": 60},
        block="residual", block_depth=1, learning_rate_init=0.01, random_state=7,
    )  # fmt: skip
    clf = fit_quietly(clf, X_train, y_train)
    return clf, X[(labels == "X") & (clf.predict(X) == "X")]


@pytest.mark.parametrize("method", ["gradient", "integrated_gradients", "grad_cam"])
def test_deleting_salient_pixels_lowers_a_residual_networks_probability(
    residual_xs, method
):
    """As for the seed network, on a residual network (measured drops after
    3 pixels: 0.29, 0.47 and 0.36 against 0.04 at random; areas 0.19, 0.14
    and 0.29 against 0.57)."""
    clf, Xs = residual_xs
    assert len(Xs) > 150
    curve = deletion_curve(clf, Xs, target="X", method=method, random_state=0)
    start = curve.scores[:, 0].mean()
    salient = start - curve.scores[:, 3].mean()
    random = start - curve.random_scores[:, 3].mean()
    assert salient > 4 * random and salient > 0.2
    assert curve.area < 0.6 * curve.random_area


@pytest.fixture(scope="module")
def digits_clf():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    # the 0.2 network and regime the areas below were measured on
    clf = CNNClassifier(**{**V02, "hidden_units": 32, "max_iter": 30}, random_state=0)
    return fit_quietly(clf, X[:1200], y[:1200]), X[1200:1400]


@pytest.mark.parametrize("method", ["gradient", "integrated_gradients", "grad_cam"])
def test_digit_deletion_curves_fall_faster_than_random(digits_clf, method):
    """200 held-out digits (measured areas: gradient 0.072, integrated
    gradients 0.060, Grad-CAM 0.374, random order 0.494)."""
    clf, X = digits_clf
    curve = deletion_curve(clf, X, method=method, random_state=0)
    assert curve.scores.shape == (200, 65)
    assert curve.area < 0.85 * curve.random_area
    mean, random = curve.scores.mean(axis=0), curve.random_scores.mean(axis=0)
    # from the second pixel on: Grad-CAM's coarse map may rank first a
    # background pixel, whose deletion changes nothing
    assert (mean[2:16] < random[2:16]).all()


def test_deletion_curve_by_hand():
    """A linear regressor without blocks: output = sum of 4 pixels with
    weights 4, 3, 2, 1 (plus 0). Deleting by the gradient removes the
    weight-4 pixel first, then 3..., so the curve is 10, 6, 3, 1, 0."""
    X = np.random.RandomState(0).uniform(size=(50, 4))
    y = X @ [4.0, 3.0, 2.0, 1.0]
    reg = fit_quietly(
        CNNRegressor(n_filters=(), hidden_units=(), activation="identity",
                     image_shape=(2, 2, 1), solver="lbfgs", tol=1e-12),
        X, y,
    )  # fmt: skip
    curve = deletion_curve(reg, np.ones((1, 4)), random_state=0)
    assert_allclose(curve.fractions, [0, 0.25, 0.5, 0.75, 1])
    assert_allclose(curve.scores[0], [10, 6, 3, 1, 0], atol=1e-3)
    assert_allclose(curve.area, 0.25 * (10 / 2 + 6 + 3 + 1 + 0 / 2), atol=1e-3)
    # given maps rank the pixels instead: the reverse order
    reverse = deletion_curve(reg, np.ones((1, 4)), maps=-np.arange(4.0)[None, ::-1])
    assert_allclose(reverse.scores[0], [10, 9, 7, 4, 0], atol=1e-3)
    assert reverse.method is None


def test_deletion_curve_steps_several_pixels(x_clf, x_data):
    curve = deletion_curve(x_clf, x_data[0][:3], pixels_per_step=10, random_state=0)
    assert_allclose(curve.fractions, [0, 0.4, 0.8, 1.0])
    assert curve.scores.shape == curve.random_scores.shape == (3, 4)


# ---------------------------------------------------------------- display
@pytest.mark.parametrize("method", ["gradient", "integrated_gradients", "grad_cam"])
def test_display_from_estimator(pyplot, x_clf, x_data, method):
    X = x_data[0][:3]
    display = SaliencyDisplay.from_estimator(
        x_clf, X, method=method, deletion=True, random_state=0
    )
    assert display.ax_.shape == (3, 2)
    maps = saliency_maps(x_clf, X, method=method)
    assert_allclose(display.images_[1, 1].get_array(), maps[1, ..., 0])
    assert_allclose(display.images_[1, 0].get_array(), X[1].reshape(5, 5))
    cmap = display.images_[0, 1].get_cmap().name
    assert cmap == ("inferno" if method == "grad_cam" else "RdBu_r")
    assert len(display.colorbars_) == 3
    salient, random = display.deletion_lines_
    assert salient.get_xydata().shape == (26, 2)
    assert display.ax_[0, 0].get_title().startswith("target ")


def test_display_from_maps_on_given_axes(pyplot):
    rng = np.random.RandomState(0)
    images, maps = rng.uniform(size=(2, 4, 4)), rng.normal(size=(2, 4, 4))
    fig, axes = pyplot.subplots(2, 2)
    display = SaliencyDisplay(images, maps, method="mine").plot(ax=axes, colorbar=False)
    assert display.figure_ is fig and display.deletion_ax_ is None
    assert display.ax_[0, 1].get_title() == "mine"
    assert display.colorbars_ == [] and display.deletion_lines_ == []
    with pytest.raises(ValueError, match="maps must have the shape of the images"):
        SaliencyDisplay(images, maps[:, :3]).plot()


def test_display_of_a_series_draws_a_band(pyplot):
    rng = np.random.RandomState(0)
    S = rng.normal(size=(60, 20))
    reg = fit_quietly(
        CNNRegressor(n_filters=2, kernel_size=(1, 3), image_shape=(1, 20),
                     max_iter=5, random_state=0),
        S, S[:, 5:8].sum(axis=1),
    )  # fmt: skip
    display = SaliencyDisplay.from_estimator(reg, S[:2], deletion=True)
    assert display.ax_.shape == (2, 1)
    band = display.images_[0, 0].get_array()
    assert_allclose(band[0], saliency_maps(reg, S[:1])[0, 0, :, 0])
    (line,) = display.lines_[0]
    assert_allclose(line.get_ydata(), S[0])
    assert display.ax_[0, 0].get_title().startswith("target output 0")


@pytest.mark.parametrize(
    "params",
    [
        dict(block="residual", n_filters=(3, 3), kernel_size=3, block_depth=2),
        dict(block="inception", n_filters=(2,), kernel_size=6, block_depth=1),
    ],
    ids=["residual", "inception"],
)
def test_series_network_gradient_matches_finite_differences(params):
    """A series preset with compound blocks: its map is one (1, T, C) image
    per series, the gradient of the predicted class's log-odds."""
    from sklearn_xcnn.series import FCNClassifier

    X = np.random.RandomState(0).normal(size=(20, 2, 12))  # (n, C, T)
    est = fit_quietly(
        FCNClassifier(activation="tanh", max_iter=3, random_state=0, **params),
        X, np.arange(20) % 2,
    )  # fmt: skip
    maps = saliency_maps(est, X[:2])
    assert maps.shape == (2, 1, 12, 2)
    sign = np.sign(est.decision_function(X[:2]))
    numeric = np.empty((2, 2, 12))
    for i, c, t in np.ndindex(numeric.shape):
        step = np.zeros((1, 2, 12))
        step[0, c, t] = EPS
        up = est.decision_function(X[i : i + 1] + step)[0]
        down = est.decision_function(X[i : i + 1] - step)[0]
        numeric[i, c, t] = sign[i] * (up - down) / (2 * EPS)
    analytic = maps[:, 0].transpose(0, 2, 1)  # (n, T, C) -> (n, C, T)
    assert _relative_error(analytic.reshape(2, -1), numeric.reshape(2, -1)) < 1e-6
