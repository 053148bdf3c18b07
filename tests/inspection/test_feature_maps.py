import copy
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError

from sklearn_xcnn import CNNClassifier, CNNRegressor
from sklearn_xcnn.inspection import feature_maps

from .conftest import V02, fit_quietly

CENTRED_X = np.array(
    [
        [1, 0, 0, 0, 1],
        [0, 1, 0, 1, 0],
        [0, 0, 1, 0, 0],
        [0, 1, 0, 1, 0],
        [1, 0, 0, 0, 1],
    ],
    dtype=float,
)
DIAGONAL = 2 * np.eye(3) - 1  # +1 on the diagonal, -1 elsewhere
SEED_FILTERS = np.stack(
    [DIAGONAL, DIAGONAL[:, ::-1], np.ones((3, 3)), np.pad([[1.0]], 1)]
)[:, None]  # (4, 1, 3, 3): diagonal, anti-diagonal, box sum, centre pixel


@pytest.fixture
def seed_clf(x_data):
    """The walk-through network (the 0.2 one: 'valid', no batch norm) with
    the hand-chosen filters above."""
    clf = CNNClassifier(
        **{**V02, "n_filters": 4, "hidden_units": 3, "max_iter": 1},
        solver="lbfgs", random_state=0,
    )  # fmt: skip
    clf = fit_quietly(clf, *x_data)
    clf.filters_ = [SEED_FILTERS.copy()]
    clf.filter_intercepts_ = [np.array([0.0, -1.0, 0.0, 0.0])]
    return clf


def test_seed_case_by_hand(seed_clf):
    """A centred X, 3x3 filters at stride 1, 2x2 max pooling, worked by hand."""
    stages = feature_maps(seed_clf, CENTRED_X.reshape(1, -1))
    block = stages.blocks[0]
    # each cell counts diagonal pixels minus off-diagonal pixels in its window
    diagonal = [[3, -3, -1], [-3, 1, -3], [-1, -3, 3]]
    assert_allclose(block.correlation[0, 0], diagonal)
    assert_allclose(block.correlation[0, 1], np.fliplr(diagonal))
    assert_allclose(block.correlation[0, 2], [[3, 3, 3], [3, 5, 3], [3, 3, 3]])
    assert_allclose(block.correlation[0, 3], CENTRED_X[1:4, 1:4])
    # filter 1 has bias -1; ReLU keeps the two corners that stay positive
    assert_allclose(block.biased[0, 1], [[-2, -4, 2], [-4, 0, -4], [2, -4, -2]])
    assert_allclose(block.activated[0, 0], [[3, 0, 0], [0, 1, 0], [0, 0, 3]])
    assert_allclose(block.activated[0, 1], [[0, 0, 2], [0, 0, 0], [2, 0, 0]])
    # 3x3 maps pool to 2x2: one full window, two 2x1 and one 1x1 partial windows
    assert block.pooled.shape == (1, 4, 2, 2)
    assert_allclose(block.pooled[0, 0], [[3, 0], [0, 3]])
    assert_allclose(block.pooled[0, 1], [[0, 2], [2, 0]])
    assert_allclose(block.pooled[0, 2], [[5, 3], [3, 3]])
    assert_allclose(block.pooled[0, 3], [[1, 1], [1, 1]])
    expected = [3, 0, 0, 3, 0, 2, 2, 0, 5, 3, 3, 3, 1, 1, 1, 1]
    assert_allclose(stages.flattened, [expected])


def test_flattened_feeds_first_dense_layer(seed_clf):
    stages = feature_maps(seed_clf, CENTRED_X.reshape(1, -1))
    z = stages.flattened @ seed_clf.coefs_[0] + seed_clf.intercepts_[0]
    assert_allclose(stages.hidden[0], np.maximum(z, 0))
    logits = stages.hidden[0] @ seed_clf.coefs_[1] + seed_clf.intercepts_[1]
    assert_allclose(stages.logits, logits)
    assert_allclose(stages.proba, seed_clf.predict_proba(CENTRED_X.reshape(1, -1)))


def test_flattened_order_is_filters_rows_cols(x_clf, x_data):
    stages = feature_maps(x_clf, x_data[0][:5])
    pooled = stages.blocks[-1].pooled  # (n, F, Hp, Wp)
    _, F, Hp, Wp = pooled.shape
    for f in range(F):
        for r in range(Hp):
            for c in range(Wp):
                column = stages.flattened[:, (f * Hp + r) * Wp + c]
                assert_array_equal(column, pooled[:, f, r, c])


def _naive_correlation(x, w, stride):
    """Loop oracle: x (n, H, W, C), w (F, C, kr, kc) -> (n, F, Ho, Wo)."""
    n, H, W, _ = x.shape
    F, _, kr, kc = w.shape
    Ho, Wo = (H - kr) // stride[0] + 1, (W - kc) // stride[1] + 1
    out = np.zeros((n, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            r, c = i * stride[0], j * stride[1]
            window = x[:, r : r + kr, c : c + kc, :]  # (n, kr, kc, C)
            out[:, :, i, j] = np.einsum("npqc,fcpq->nf", window, w)
    return out


def _naive_pool(a, pool, kind):
    """Loop oracle: a (n, F, H, W) -> (n, F, ceil(H/pr), ceil(W/pc))."""
    n, F, H, W = a.shape
    pr, pc = pool
    out = np.zeros((n, F, math.ceil(H / pr), math.ceil(W / pc)))
    reduce = {"max": np.max, "mean": np.mean, "sum": np.sum}[kind]
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = a[:, :, i * pr : (i + 1) * pr, j * pc : (j + 1) * pc]
            out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


NAIVE_ACTIVATIONS = {
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "tanh": np.tanh,
    "logistic": lambda z: 1 / (1 + np.exp(-z)),
    "identity": lambda z: z,
}


def _random_images(n, shape, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (n, int(np.prod(shape))))


@pytest.mark.parametrize(
    "activation, pooling", [("relu", "max"), ("tanh", "mean"), ("logistic", "sum")]
)
@pytest.mark.parametrize("stride", [1, 2])
def test_stages_match_loop_oracles(activation, pooling, stride):
    shape = (7, 6, 2)
    X = _random_images(30, shape)
    y = np.arange(30) % 3
    # the oracles are of a plain 'valid' block without batch norm: the 0.2 one
    clf = CNNClassifier(
        **{**V02, "n_filters": 3, "hidden_units": 4, "max_iter": 2},
        stride=stride, pool_size=2, pooling=pooling, activation=activation,
        image_shape=shape, random_state=0,
    )  # fmt: skip
    clf = fit_quietly(clf, X, y)
    stages = feature_maps(clf, X[:4])
    block = stages.blocks[0]
    x = X[:4].reshape(4, *shape)
    assert_allclose(stages.images, x.transpose(0, 3, 1, 2))
    z = _naive_correlation(x, clf.filters_[0], (stride, stride))
    assert_allclose(block.correlation, z, atol=1e-12)
    biased = z + clf.filter_intercepts_[0][None, :, None, None]
    assert_allclose(block.biased, biased, atol=1e-12)
    activated = NAIVE_ACTIVATIONS[activation](biased)
    assert_allclose(block.activated, activated, atol=1e-12)
    assert_allclose(block.pooled, _naive_pool(activated, (2, 2), pooling), atol=1e-12)


CONFIGS = [
    dict(),
    dict(kernel_size=2, stride=2, pool_size=3),
    dict(kernel_size=(3, 2), stride=(1, 2), pool_size=(2, 1), pooling="mean"),
    dict(pooling=None, hidden_units=()),
    dict(n_filters=(3, 2), pooling="sum", hidden_units=(4, 3)),
    dict(n_filters=(), hidden_units=5),
]


def _pair(v):
    return (v, v) if np.ndim(v) == 0 else tuple(v)


def _units(v):
    return (v,) if np.ndim(v) == 0 else tuple(v)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_shapes_follow_formulas(config, n_classes):
    H, W, C = 9, 8, 2
    # the formulas are those of 'valid' blocks: the 0.2 network
    params = {**V02, **dict(n_filters=4, hidden_units=3, max_iter=2, random_state=0)}
    params.update(config)
    X = _random_images(12, (H, W, C))
    clf = fit_quietly(
        CNNClassifier(**params, image_shape=(H, W, C)), X, np.arange(12) % n_classes
    )
    stages = feature_maps(clf, X[:5])
    n_filters = _units(params["n_filters"])
    kr, kc = _pair(params.get("kernel_size", 3))
    sr, sc = _pair(params.get("stride", 1))
    pr, pc = _pair(params.get("pool_size", 2))
    pooling = params.get("pooling", "max")
    shape = (H, W, C)
    assert stages.images.shape == (5, C, H, W)
    assert len(stages.blocks) == len(n_filters)
    for block, F in zip(stages.blocks, n_filters):
        Ho, Wo = (shape[0] - kr) // sr + 1, (shape[1] - kc) // sc + 1
        for name in ("correlation", "biased", "activated"):
            assert block[name].shape == (5, F, Ho, Wo)
        Hp, Wp = (math.ceil(Ho / pr), math.ceil(Wo / pc)) if pooling else (Ho, Wo)
        assert block.pooled.shape == (5, F, Hp, Wp)
        shape = (Hp, Wp, F)
    assert stages.flattened.shape == (5, math.prod(shape))
    units = _units(params["hidden_units"])
    assert [h.shape for h in stages.hidden] == [(5, u) for u in units]
    n_outputs = 1 if n_classes == 2 else n_classes
    assert stages.logits.shape == (5, n_outputs)
    assert_allclose(stages.logits.ravel(), clf.decision_function(X[:5]).ravel())
    assert_allclose(stages.proba, clf.predict_proba(X[:5]), rtol=1e-12)


@pytest.mark.parametrize("pooling", ["max", "mean", "sum", None])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("algorithm", ["im2col", "scipy"])
def test_proba_equals_predict_proba(pooling, activation, algorithm):
    """The plain order (bias and activation before pooling) gives the same
    probabilities as the estimator, which max-pools before the bias."""
    X = _random_images(40, (8, 8, 1), seed=1)
    y = np.arange(40) % 2
    clf = CNNClassifier(
        n_filters=(3, 2), kernel_size=2, pooling=pooling, activation=activation,
        hidden_units=4, algorithm=algorithm, max_iter=5, random_state=0,
    )  # fmt: skip
    clf = fit_quietly(clf, X, y)
    assert_allclose(feature_maps(clf, X).proba, clf.predict_proba(X), rtol=1e-12)


def test_accepts_images_and_keeps_float32(x_clf, x_data):
    X = x_data[0][:3]
    flat = feature_maps(x_clf, X)
    images = feature_maps(x_clf, X.reshape(3, 5, 5))
    assert_array_equal(flat.proba, images.proba)
    stages = feature_maps(x_clf, X.astype(np.float32))
    assert stages.blocks[0].pooled.dtype == np.float32
    assert stages.proba.dtype == np.float32


def test_multilabel_proba(x_data):
    X = x_data[0][:40]
    Y = np.stack([np.arange(40) % 2, (np.arange(40) // 2) % 2], axis=1)
    clf = fit_quietly(CNNClassifier(n_filters=2, hidden_units=3, max_iter=3), X, Y)
    assert_allclose(feature_maps(clf, X).proba, clf.predict_proba(X), rtol=1e-12)


@pytest.mark.parametrize("estimator", [CNNClassifier(), CNNRegressor()])
def test_not_fitted(estimator):
    with pytest.raises(NotFittedError):
        feature_maps(estimator, np.zeros((1, 25)))


# ------------------------------------------- the network as fitted
@pytest.mark.parametrize(
    "new_params",
    [
        dict(pooling="mean"),
        dict(pooling=None),
        dict(activation="tanh", pooling="sum"),
        dict(stride=2, kernel_size=2),
        dict(algorithm="scipy"),
    ],
)
@pytest.mark.parametrize("fixture", ["x_clf", "x_reg"])
def test_set_params_after_fit_changes_nothing(new_params, fixture, request):
    """feature_maps reads the network as fitted, as predict does: after
    set_params(pooling="mean") on a max-pooled model its outputs still equal
    the estimator's and are what they were before."""
    estimator = copy.deepcopy(request.getfixturevalue(fixture))
    X = request.getfixturevalue("x_data")[0][:20]
    classifier = fixture == "x_clf"
    predict = estimator.predict_proba if classifier else estimator.predict
    output = "proba" if classifier else "predictions"
    before = feature_maps(estimator, X)
    expected = predict(X)
    estimator.set_params(**new_params)
    after = feature_maps(estimator, X)
    assert_allclose(after[output], expected, rtol=1e-12)
    assert_allclose(predict(X), expected, rtol=1e-12)
    for b_before, b_after in zip(before.blocks, after.blocks, strict=True):
        for name in ("correlation", "biased", "activated", "pooled"):
            assert_allclose(b_after[name], b_before[name], rtol=1e-12, atol=1e-12)
    # the max-pooled 3x3 maps are still 2x2, and equal the max of the windows
    pooled = after.blocks[0].pooled
    assert pooled.shape == (20, 4, 2, 2)
    assert_allclose(pooled, _naive_pool(after.blocks[0].activated, (2, 2), "max"))


# --------------------------------------------------------------- regressor
def test_regressor_stages_end_in_predictions(x_reg, ink_data):
    X = ink_data[0][:6]
    stages = feature_maps(x_reg, X)
    assert "proba" not in stages
    assert stages.predictions.shape == (6,)
    assert_allclose(stages.predictions, x_reg.predict(X), rtol=1e-12)
    # identity output units: the predictions are the output layer itself
    z = stages.hidden[0] @ x_reg.coefs_[1] + x_reg.intercepts_[1]
    assert_allclose(stages.logits, z)
    assert_allclose(stages.predictions, z[:, 0])
    # the first block, against the loop oracles
    x = X.reshape(6, 5, 5, 1)
    corr = _naive_correlation(x, x_reg.filters_[0], (1, 1))
    assert_allclose(stages.blocks[0].correlation, corr, atol=1e-12)
    biased = corr + x_reg.filter_intercepts_[0][None, :, None, None]
    activated = np.maximum(biased, 0)
    assert_allclose(stages.blocks[0].pooled, _naive_pool(activated, (2, 2), "max"))


@pytest.mark.parametrize("pooling", ["max", "mean", "sum", None])
@pytest.mark.parametrize("algorithm", ["im2col", "scipy"])
def test_regressor_predictions_equal_predict(pooling, algorithm):
    X = _random_images(40, (8, 8, 1), seed=2)
    Y = np.c_[X.mean(axis=1), X[:, :32].std(axis=1)]  # two outputs
    reg = CNNRegressor(
        n_filters=(3, 2), kernel_size=2, pooling=pooling, hidden_units=4,
        algorithm=algorithm, max_iter=5, random_state=0,
    )  # fmt: skip
    reg = fit_quietly(reg, X, Y)
    stages = feature_maps(reg, X)
    assert stages.predictions.shape == (40, 2)
    assert_allclose(stages.predictions, reg.predict(X), rtol=1e-12)
    assert_array_equal(stages.predictions, stages.logits)


def test_wrong_number_of_features(x_clf):
    with pytest.raises(ValueError, match="features"):
        feature_maps(x_clf, np.zeros((2, 24)))


def test_inspection_imports_without_matplotlib():
    """Only drawing needs matplotlib; importing and feature_maps do not."""
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import numpy as np\n"
        "from sklearn_xcnn import CNNClassifier\n"
        "from sklearn_xcnn.inspection import FilterDisplay, feature_maps\n"
        "X = np.random.RandomState(0).uniform(size=(10, 16))\n"
        f"clf = CNNClassifier(**{{**{V02!r}, 'n_filters': 2, 'hidden_units': 2,"
        " 'max_iter': 1})\n"
        "clf.fit(X, np.arange(10) % 2)\n"
        "print(feature_maps(clf, X).flattened.shape)\n"
        "try:\n"
        "    FilterDisplay.from_estimator(clf)\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "(10, 2)"  # 4x4 -> 2x2 maps -> 1x1 pooled, 2 filters
    assert "FilterDisplay.from_estimator requires matplotlib" in lines[1]
    assert "pip install sklearn-xcnn[plot]" in lines[1]


# ------------------------------------------- padding, batch norm, global pooling
@pytest.mark.parametrize("cls", [CNNClassifier, CNNRegressor])
@pytest.mark.parametrize(
    "params",
    [
        dict(padding="same"),
        dict(padding=[1, (0, 1)], kernel_size=[3, 2]),
        dict(batch_norm=True, pooling="mean"),
        dict(global_pooling="mean"),
        dict(global_pooling="max", padding="same", batch_norm=True),
        dict(dropout=0.2),
    ],
)
def test_architectures_stages_equal_prediction(cls, params):
    X = _random_images(30, (7, 6, 2))
    y = np.arange(30) % 3 if cls is CNNClassifier else X[:, :12].mean(axis=1)
    est = cls(n_filters=(3, 2), hidden_units=4, image_shape=(7, 6, 2), max_iter=5,
              random_state=0, **params)  # fmt: skip
    est = fit_quietly(est, X, y)
    stages = feature_maps(est, X[:6])
    if cls is CNNClassifier:
        assert_allclose(stages.proba, est.predict_proba(X[:6]), rtol=1e-10)
    else:
        assert_allclose(stages.predictions, est.predict(X[:6]), rtol=1e-10)


def test_padded_stage_is_the_input_with_zeros_around(x_data):
    X = x_data[0][:4]
    clf = CNNClassifier(n_filters=2, hidden_units=3, padding=[(1, 2)], max_iter=2)
    clf = fit_quietly(clf, X, np.arange(4) % 2)
    block = feature_maps(clf, X).blocks[0]
    images = X.reshape(4, 1, 5, 5)
    expected = np.pad(images, ((0, 0), (0, 0), (1, 1), (2, 2)))
    assert_array_equal(block.padded, expected)
    corr = _naive_correlation(expected.transpose(0, 2, 3, 1), clf.filters_[0], (1, 1))
    assert block.correlation.shape == (4, 2, 5, 7)
    assert_allclose(block.correlation, corr, atol=1e-12)


def test_batch_norm_stage_uses_the_running_statistics():
    X = _random_images(40, (6, 6, 1), seed=3)
    clf = CNNClassifier(n_filters=3, hidden_units=4, batch_norm=True, max_iter=5,
                        random_state=0)  # fmt: skip
    clf = fit_quietly(clf, X, np.arange(40) % 2)
    block = feature_maps(clf, X[:5]).blocks[0]
    mean = clf.batch_norm_means_[0][None, :, None, None]
    var = clf.batch_norm_vars_[0][None, :, None, None]
    scale = clf.batch_norm_scales_[0][None, :, None, None]
    shift = clf.filter_intercepts_[0][None, :, None, None]
    expected = scale * (block.correlation - mean) / np.sqrt(var + 1e-5) + shift
    assert_allclose(block.biased, expected, rtol=1e-10, atol=1e-12)
    assert_allclose(block.activated, np.maximum(expected, 0), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind, reduce", [("mean", np.mean), ("max", np.max)])
def test_global_pooling_reduces_each_last_map(kind, reduce):
    X = _random_images(20, (8, 8, 1), seed=4)
    reg = CNNRegressor(n_filters=(3, 2), hidden_units=4, global_pooling=kind,
                       max_iter=3, random_state=0)  # fmt: skip
    reg = fit_quietly(reg, X, X.mean(axis=1))
    stages = feature_maps(reg, X[:5])
    pooled = stages.blocks[-1].pooled  # (5, 2, Hp, Wp)
    assert stages.flattened.shape == (5, 2)
    assert_allclose(stages.flattened, reduce(pooled, axis=(2, 3)))
    assert reg.coefs_[0].shape == (2, 4)
