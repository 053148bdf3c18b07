"""Every architecture option exports to a graph that predicts what we do."""

import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")

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
    "no-hidden": ((7, 7, 1), dict(hidden_units=())),
    "two-hidden": ((7, 7, 1), dict(hidden_units=(6, 5))),
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
