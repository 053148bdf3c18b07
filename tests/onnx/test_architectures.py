"""Every architecture option exports to a graph that predicts what we do."""

import pytest

from ..conftest import needs

needs("onnx")
needs("onnxruntime")
needs("skl2onnx")

import numpy as np  # noqa: E402

from sklearn_xcnn import CNNClassifier, CNNRegressor  # noqa: E402

from ._helpers import (  # noqa: E402
    assert_classifier_matches,
    assert_regressor_matches,
    export,
    fit_quietly,
    images,
    no_zipmap,
    run,
)

# (image_shape, estimator parameters); every case fits 3 classes
ARCHITECTURES = {
    # 7x7 -> 5x5 maps -> 3x3 pooled: partial windows at the bottom and right
    "max-partial": ((7, 7, 1), dict(pooling="max")),
    "mean-partial": ((7, 7, 1), dict(pooling="mean")),
    "sum-partial": ((7, 7, 1), dict(pooling="sum")),
    "max-whole": ((6, 6, 1), dict(pooling="max", kernel_size=3)),
    "mean-whole": ((6, 6, 1), dict(pooling="mean", kernel_size=(3, 1))),
    "sum-whole": ((6, 6, 1), dict(pooling="sum", kernel_size=(1, 3))),
    "no-pooling": ((6, 5, 1), dict(pooling=None)),
    "stride-pair": (
        (9, 8, 2),
        dict(stride=(2, 1), kernel_size=(3, 2), pool_size=(2, 3)),
    ),
    "stride-2-mean": ((9, 9, 1), dict(stride=2, pooling="mean", pool_size=(3, 2))),
    "kernel-pair": ((8, 7, 1), dict(kernel_size=(2, 4), pooling="sum")),
    "clipped-kernel": ((5, 6, 1), dict(kernel_size=10, pooling="max")),
    "clipped-pool": ((5, 5, 1), dict(pool_size=5, pooling="mean")),
    "clipped-pool-pair": ((6, 9, 1), dict(pool_size=(1, 20), pooling="sum")),
    "two-channels": ((6, 7, 2), dict(pooling="max")),
    "three-channels": ((7, 5, 3), dict(pooling="mean", kernel_size=(2, 3))),
    "stacked-max": ((11, 10, 2), dict(n_filters=(3, 4, 2), kernel_size=2)),
    "stacked-mean": ((12, 11, 1), dict(n_filters=(2, 3), pooling="mean")),
    "stacked-sum": ((12, 11, 3), dict(n_filters=(2, 3), pooling="sum", stride=(1, 2))),
    "no-blocks": ((4, 3, 2), dict(n_filters=())),
    # padding: explicit zeros in the Conv's pads; 'same' may be asymmetric
    "same-padding": ((7, 6, 1), dict(padding="same")),
    "same-padding-stride": (
        (7, 6, 2),
        dict(padding="same", stride=2, kernel_size=(3, 2), pooling="mean"),
    ),
    "same-padding-even-kernel": ((6, 6, 1), dict(padding="same", kernel_size=4)),
    "int-padding": ((5, 5, 1), dict(padding=1, pooling="sum")),
    "pair-padding": ((5, 6, 3), dict(padding=(2, 1), pooling="max")),
    "padding-clips-kernel": ((3, 3, 1), dict(padding=1, kernel_size=7)),
    # one entry per block
    "per-block-lists": (
        (12, 11, 2),
        dict(
            n_filters=(3, 2),
            kernel_size=[3, (2, 1)],
            stride=[1, (1, 2)],
            padding=["same", (1, 0)],
            pool_size=[2, (3, 1)],
            pooling="mean",
        ),
    ),
    "per-block-max": (
        (13, 12, 1),
        dict(n_filters=(2, 3, 2), kernel_size=[4, 3, 1], pool_size=[(1, 2), 3, 2]),
    ),
    # global pooling: each map to one value
    "global-mean": ((7, 7, 2), dict(global_pooling="mean")),
    "global-max": ((7, 7, 2), dict(global_pooling="max", pooling=None)),
    "global-max-stacked": (
        (11, 10, 1),
        dict(n_filters=(2, 3), global_pooling="max", pooling="sum"),
    ),
    "global-mean-padded": (
        (6, 5, 3),
        dict(global_pooling="mean", padding="same", pooling="max"),
    ),
    "global-no-blocks": ((4, 3, 2), dict(n_filters=(), global_pooling="mean")),
    "no-hidden": ((7, 7, 1), dict(hidden_units=())),
    "two-hidden": ((7, 7, 1), dict(hidden_units=(6, 5))),
    # dilated kernels: ONNX Conv's dilations
    "dilated": (
        (11, 10, 2),
        dict(n_filters=(3, 2), dilation=[2, (1, 3)], padding=["same", "valid"]),
    ),
}
ACTIVATIONS = ("relu", "tanh", "logistic", "identity")


def _classifier(image_shape, params, activation="relu", **extra):
    settings = dict(
        n_filters=3,
        kernel_size=3,
        pool_size=2,
        hidden_units=4,
        activation=activation,
        solver="lbfgs",
        max_iter=5,
        image_shape=image_shape,
        random_state=0,
    )
    return CNNClassifier(**{**settings, **params, **extra})


def _data(image_shape, n=30, seed=0):
    X = images(n, image_shape, seed)
    y = np.arange(n) % 3
    return X, y


@pytest.mark.parametrize("case", ARCHITECTURES)
def test_architecture_matches_predict_proba(case):
    image_shape, params = ARCHITECTURES[case]
    X, y = _data(image_shape)
    clf = fit_quietly(_classifier(image_shape, params), X, y)
    outputs = run(export(clf, X, no_zipmap(clf)), X)
    assert_classifier_matches(clf, X, outputs)


@pytest.mark.parametrize("pooling", ["max", "mean", "sum", None])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_with_every_pooling(activation, pooling):
    image_shape = (7, 6, 2)
    X, y = _data(image_shape)
    params = dict(pooling=pooling, n_filters=(2, 2), kernel_size=2)
    clf = fit_quietly(_classifier(image_shape, params, activation), X, y)
    outputs = run(export(clf, X, no_zipmap(clf)), X)
    assert_classifier_matches(clf, X, outputs)


@pytest.mark.parametrize("case", ["max-partial", "stride-pair", "stacked-sum"])
def test_regressor_architecture(case):
    image_shape, params = ARCHITECTURES[case]
    X, _ = _data(image_shape)
    y = X[:, :3] @ np.array([1.0, -2.0, 0.5], dtype=np.float32)
    settings = {
        **dict(n_filters=3, hidden_units=4, solver="lbfgs", max_iter=5),
        **params,
    }
    reg = fit_quietly(
        CNNRegressor(**settings, image_shape=image_shape, random_state=0), X, y
    )
    assert_regressor_matches(reg, X, run(export(reg, X), X))


def test_graph_holds_the_documented_nodes():
    """Reshape, Transpose, Conv, activation, Pad, pool, Flatten, Gemm."""
    image_shape, params = ARCHITECTURES["mean-partial"]
    X, y = _data(image_shape)
    clf = fit_quietly(_classifier(image_shape, params), X, y)
    ops = [node.op_type for node in export(clf, X, no_zipmap(clf)).graph.node]
    body = ops[: ops.index("Gemm") + 1]
    assert body == [
        "Reshape",
        "Transpose",
        "Conv",
        "Relu",
        "Pad",
        "AveragePool",
        "Mul",
        "Flatten",
        "Gemm",
    ]


def _batch_norm_classifier(image_shape, params, seed=0):
    """A fitted batch-norm network whose scales (some negative), running
    means and variances are all far from 1 and 0."""
    X, y = _data(image_shape, seed=seed)
    clf = fit_quietly(_classifier(image_shape, {**params, "batch_norm": True}), X, y)
    rng = np.random.RandomState(seed)
    for b, scale in enumerate(clf.batch_norm_scales_):
        F = scale.shape[0]
        scale[...] = rng.uniform(0.5, 2, F) * np.where(np.arange(F) % 2, -1, 1)
        clf.batch_norm_means_[b][...] = rng.normal(0, 0.5, F)
        clf.batch_norm_vars_[b][...] = rng.uniform(0.05, 3, F)
    return clf, X


@pytest.mark.parametrize("mode", ["fold", "node"])
@pytest.mark.parametrize("pooling", ["max", "mean", "sum", None])
def test_batch_norm(pooling, mode):
    params = dict(n_filters=(3, 2), kernel_size=2, pooling=pooling, padding="same")
    clf, X = _batch_norm_classifier((8, 7, 2), params)
    onx = export(clf, X, {id(clf): {"zipmap": False, "batch_norm": mode}})
    ops = [node.op_type for node in onx.graph.node]
    assert ops.count("BatchNormalization") == (2 if mode == "node" else 0)
    assert_classifier_matches(clf, X, run(onx, X))


@pytest.mark.parametrize("global_pooling", ["mean", "max"])
def test_batch_norm_with_global_pooling_and_lists(global_pooling):
    params = dict(
        n_filters=(2, 3),
        kernel_size=[3, 2],
        stride=[(1, 2), 1],
        padding=[1, "same"],
        global_pooling=global_pooling,
        activation="tanh",
    )
    clf, X = _batch_norm_classifier((9, 10, 3), params, seed=1)
    for mode in ("fold", "node"):
        onx = export(clf, X, {id(clf): {"zipmap": False, "batch_norm": mode}})
        assert_classifier_matches(clf, X, run(onx, X))


def test_dropout_adds_nothing():
    image_shape = (7, 7, 1)
    X, y = _data(image_shape)
    settings = dict(dropout=0.4, hidden_units=(6, 5), solver="adam", max_iter=3)
    clf = fit_quietly(_classifier(image_shape, settings), X, y)
    onx = export(clf, X, no_zipmap(clf))
    ops = {node.op_type for node in onx.graph.node}
    assert "Dropout" not in ops
    assert_classifier_matches(clf, X, run(onx, X))


def test_batch_norm_regressor():
    image_shape = (7, 6, 2)
    X, _ = _data(image_shape)
    reg = CNNRegressor(
        n_filters=3,
        hidden_units=4,
        batch_norm=True,
        padding="same",
        solver="adam",
        max_iter=3,
        image_shape=image_shape,
        random_state=0,
    )
    reg = fit_quietly(reg, X, np.stack([X[:, 0], X[:, 1] - X[:, 2]], axis=1))
    for mode in ("fold", "node"):
        outputs = run(export(reg, X, {id(reg): {"batch_norm": mode}}), X)
        assert_regressor_matches(reg, X, outputs)
