"""The compound block kinds (residual units, inception blocks) and dilation
export to graphs that predict what we do."""

from collections import Counter

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
    perturb_batch_norm,
    run,
    spread_logits,
)

# (image_shape, estimator parameters); the networks are tiny and barely fitted:
# the running statistics are then set far from 0 and 1 (see _perturbed)
CASES = {
    # residual: a 1x1 conv + batch norm shortcut (1 -> 3 channels), then batch
    # norm alone (3 -> 3)
    "residual-channels-change-then-not": (
        (6, 7, 1),
        dict(n_filters=(3, 3), block="residual", block_depth=2, kernel_size=3),
    ),
    "residual-same-channels": (
        (6, 6, 3),
        dict(n_filters=3, block="residual", block_depth=3, kernel_size=(3, 2)),
    ),
    "residual-even-kernel-pooled": (
        (7, 6, 2),
        dict(
            n_filters=3,
            block="residual",
            block_depth=2,
            kernel_size=4,
            pooling="max",
            pool_size=2,
        ),
    ),  # fmt: skip
    "residual-mean-pooled": (
        (7, 7, 1),
        dict(n_filters=2, block="residual", block_depth=1, pooling="mean"),
    ),
    # inception: no bottleneck on one channel, one on several
    "inception-no-bottleneck": (
        (6, 7, 1),
        dict(n_filters=2, block="inception", block_depth=1, kernel_size=4),
    ),
    "inception-bottleneck": (
        (6, 6, 2),
        dict(n_filters=2, block="inception", block_depth=2, kernel_size=(4, 3)),
    ),
    "inception-pooled-sum": (
        (5, 6, 1),
        dict(
            n_filters=2,
            block="inception",
            block_depth=1,
            kernel_size=2,
            pooling="sum",
            pool_size=2,
        ),
    ),  # fmt: skip
    "inception-window-clipped": (
        (2, 8, 1),
        dict(n_filters=1, block="inception", block_depth=2, kernel_size=(1, 4)),
    ),
    # kinds mixed, dilation in every kind
    "mixed-dilated": (
        (9, 9, 2),
        dict(
            n_filters=(2, 3, 2),
            block=["conv", "residual", "inception"],
            block_depth=[1, 2, 1],
            kernel_size=[3, 2, 4],
            dilation=[2, (1, 2), 2],
            padding="same",
            batch_norm=True,
        ),
    ),
    "residual-dilated-global": (
        (8, 8, 1),
        dict(
            n_filters=(3, 4),
            block="residual",
            block_depth=2,
            kernel_size=3,
            dilation=2,
            global_pooling="max",
        ),
    ),  # fmt: skip
}


def _fitted(cls, case, activation="relu", seed=0):
    image_shape, params = CASES[case]
    X = images(30, image_shape, seed)
    settings = dict(
        n_filters=3, kernel_size=3, hidden_units=4, activation=activation,
        solver="adam", max_iter=2, image_shape=image_shape, random_state=0,
    )  # fmt: skip
    if cls is CNNClassifier:
        y = np.arange(len(X)) % 3
    else:
        y = np.stack([X[:, 0], X[:, 1] - X[:, 2]], axis=1)
    est = fit_quietly(cls(**{**settings, **params}), X, y)
    return spread_logits(perturb_batch_norm(est, seed), X), X


@pytest.mark.parametrize("mode", ["fold", "node"])
@pytest.mark.parametrize("case", CASES)
def test_classifier_matches(case, mode):
    clf, X = _fitted(CNNClassifier, case)
    onx = export(clf, X, {id(clf): {"zipmap": False, "batch_norm": mode}})
    ops = [node.op_type for node in onx.graph.node]
    assert ("BatchNormalization" in ops) == (mode == "node")
    assert_classifier_matches(clf, X, run(onx, X))


@pytest.mark.parametrize(
    "case", ["residual-channels-change-then-not", "inception-bottleneck",
             "mixed-dilated"]
)  # fmt: skip
def test_regressor_matches(case):
    reg, X = _fitted(CNNRegressor, case, activation="tanh")
    for mode in ("fold", "node"):
        outputs = run(export(reg, X, {id(reg): {"batch_norm": mode}}), X)
        assert_regressor_matches(reg, X, outputs)


@pytest.mark.parametrize("activation", ["tanh", "logistic", "identity"])
def test_other_activations(activation):
    clf, X = _fitted(CNNClassifier, "mixed-dilated", activation, seed=1)
    assert_classifier_matches(
        clf, X, run(export(clf, X, {id(clf): {"zipmap": False}}), X)
    )


def _body_ops(est, X):
    """How many nodes of each type the blocks take (skl2onnx orders the
    nodes topologically, not in the order they were written)."""
    ops = [n.op_type for n in export(est, X, {id(est): {"zipmap": False}}).graph.node]
    return Counter(ops[ops.index("Transpose") + 1 : ops.index("Flatten")])


def test_residual_graph_holds_the_documented_nodes():
    """Unit 1: two convs (batch norm folded), the shortcut's 1x1 conv, Add
    before the last activation; unit 2: batch norm alone is Mul and Add."""
    clf, X = _fitted(CNNClassifier, "residual-channels-change-then-not")
    assert _body_ops(clf, X) == Counter(
        Conv=2 + 1 + 2, Relu=2 + 2, Add=1 + 2, Mul=1, Pad=2, MaxPool=2
    )


def test_inception_graph_holds_the_documented_nodes():
    """Per module a bottleneck, three convs, Pad -> MaxPool -> 1x1 conv,
    Concat, Relu; the shortcut conv, Add, Relu; the block's max pooling."""
    clf, X = _fitted(CNNClassifier, "inception-bottleneck")
    assert _body_ops(clf, X) == Counter(
        Conv=2 * 5 + 1, Pad=2, MaxPool=2 + 1, Concat=2, Relu=2 + 1, Add=1
    )
