"""Labels, probabilities, ZipMap, regression outputs, dtypes and pipelines."""

import subprocess
import sys

import pytest

from ..conftest import needs

needs("onnx")
needs("onnxruntime")
skl2onnx = needs("skl2onnx")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto  # noqa: E402
from sklearn.ensemble import VotingRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402

import sklearn_xcnn.onnx  # noqa: E402
from sklearn_xcnn import CNNClassifier, CNNRegressor  # noqa: E402
from sklearn_xcnn.onnx import _converters  # noqa: E402

from ._helpers import (  # noqa: E402
    TOL,
    assert_classifier_matches,
    assert_regressor_matches,
    export,
    fit_quietly,
    images,
    no_zipmap,
    run,
)

IMAGE = (6, 5, 2)
SMALL = dict(
    n_filters=2,
    kernel_size=2,
    hidden_units=4,
    solver="lbfgs",
    max_iter=5,
    image_shape=IMAGE,
    random_state=0,
)


def _X(n=30, dtype=np.float32, seed=0):
    return images(n, IMAGE, seed, dtype)


def _labels(kind, n=30):
    index = np.arange(n)
    if kind == "binary":
        return index % 2
    if kind == "binary-strings":
        return np.where(index % 2, "yes", "no")
    if kind == "multiclass":
        return index % 3 + 5
    if kind == "multiclass-strings":
        return np.array(["cat", "dog", "emu", "fox"])[index % 4]
    if kind == "float-labels":
        return (index % 3).astype(float)
    if kind == "bool-labels":
        return index % 3 == 0
    if kind == "multilabel":
        return np.stack([index % 2, index % 3 == 0, index % 5 < 2], axis=1).astype(int)
    raise ValueError(kind)


LABEL_KINDS = [
    "binary",
    "binary-strings",
    "multiclass",
    "multiclass-strings",
    "float-labels",
    "bool-labels",
    "multilabel",
]


@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_labels_and_probabilities(kind):
    X, y = _X(), _labels(kind)
    clf = fit_quietly(CNNClassifier(**SMALL), X, y)
    onx = export(clf, X, no_zipmap(clf))
    outputs = run(onx, X)
    assert_classifier_matches(clf, X, outputs)
    assert outputs["probabilities"].shape == (len(X), len(clf.classes_))
    expected = object if clf.classes_.dtype.kind in "UO" else np.int64
    assert outputs["label"].dtype == expected


@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_zipmap_gives_one_dictionary_per_row(kind):
    X, y = _X(), _labels(kind)
    clf = fit_quietly(CNNClassifier(**SMALL), X, y)
    outputs = run(export(clf, X), X)  # zipmap is on by default
    assert list(outputs) == ["output_label", "output_probability"]
    np.testing.assert_array_equal(outputs["output_label"], clf.predict(X))
    proba = clf.predict_proba(X)
    keys = clf.classes_.tolist()
    if clf.classes_.dtype.kind in "fb":  # skl2onnx keys these by int64
        keys = [int(k) for k in keys]
    for row, expected in zip(outputs["output_probability"], proba):
        assert list(row) == keys
        np.testing.assert_allclose(list(row.values()), expected, rtol=TOL, atol=TOL)


def test_zipmap_columns():
    X, y = _X(), _labels("multiclass-strings")
    clf = fit_quietly(CNNClassifier(**SMALL), X, y)
    outputs = run(export(clf, X, {id(clf): {"zipmap": "columns"}}), X)
    proba = clf.predict_proba(X)
    for k, label in enumerate(clf.classes_):
        np.testing.assert_allclose(outputs[f"s{label}"], proba[:, k], atol=TOL)


def test_nocl_gives_class_indices():
    X, y = _X(), _labels("multiclass-strings")
    clf = fit_quietly(CNNClassifier(**SMALL), X, y)
    outputs = run(export(clf, X, {id(clf): {"zipmap": False, "nocl": True}}), X)
    index = np.searchsorted(clf.classes_, clf.predict(X))
    np.testing.assert_array_equal(outputs["label"], index)


def test_non_integer_float_labels_raise():
    # scikit-learn refuses them in fit; a model could still hold some
    X = _X()
    clf = fit_quietly(CNNClassifier(**SMALL), X, np.arange(30) % 2)
    clf.classes_ = np.array([0.5, 1.5])
    with pytest.raises(ValueError, match="labels must be integers"):
        skl2onnx.to_onnx(clf, X[:1], options=no_zipmap(clf))


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_regression_outputs(n_outputs):
    X = _X()
    Y = X[:, : 2 * n_outputs : 2] * [1.0, -3.0, 2.0][:n_outputs]
    y = Y[:, 0] if n_outputs == 1 else Y
    reg = fit_quietly(CNNRegressor(**SMALL), X, y)
    onx = export(reg, X)
    outputs = run(onx, X)
    assert list(outputs) == ["variable"]
    assert outputs["variable"].shape == (len(X), n_outputs)  # predict: (n,) for 1-D
    assert_regressor_matches(reg, X, outputs)


@pytest.mark.parametrize("fit_dtype", [np.float32, np.float64])
def test_float64_input_is_cast_to_float32(fit_dtype):
    """A double input is declared double, cast to float32 on entry, and the
    outputs are double; the network's initializers are float32."""
    X = _X(dtype=fit_dtype)
    clf = fit_quietly(CNNClassifier(**SMALL), X, _labels("multiclass"))
    X64 = _X(dtype=np.float64, seed=1)
    onx = export(clf, X64, no_zipmap(clf))
    graph = onx.graph
    assert graph.input[0].type.tensor_type.elem_type == TensorProto.DOUBLE
    first = graph.node[0]
    assert first.op_type == "Cast" and first.input[0] == graph.input[0].name
    assert first.attribute[0].i == TensorProto.FLOAT
    types = {o.name: o.type.tensor_type.elem_type for o in graph.output}
    assert types == {"label": TensorProto.INT64, "probabilities": TensorProto.DOUBLE}
    floats = {
        i.data_type for i in graph.initializer if i.data_type != TensorProto.INT64
    }
    assert floats == {TensorProto.FLOAT}
    outputs = run(onx, X64)
    assert outputs["probabilities"].dtype == np.float64
    assert_classifier_matches(clf, X64, outputs)


def test_image_shaped_input():
    """A sample of images (n, H, W, C) gives an image-shaped graph input."""
    X = _X().reshape(-1, *IMAGE)
    clf = fit_quietly(CNNClassifier(**SMALL), X, _labels("multiclass"))
    onx = export(clf, X, no_zipmap(clf))
    dims = onx.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims[1:]] == list(IMAGE)
    assert_classifier_matches(clf, X, run(onx, X))


def test_int64_input_is_cast_to_float32():
    X = (_X() * 10).astype(np.int64)
    clf = fit_quietly(CNNClassifier(**SMALL), X, _labels("multiclass"))
    onx = export(clf, X, no_zipmap(clf))
    assert onx.graph.input[0].type.tensor_type.elem_type == TensorProto.INT64
    assert_classifier_matches(clf, X, run(onx, X))


def test_float64_regressor_output_is_double():
    X = _X(dtype=np.float64)
    reg = fit_quietly(CNNRegressor(**SMALL), X, X[:, 0] - X[:, 3])
    outputs = run(export(reg, X), X)
    assert outputs["variable"].dtype == np.float64
    assert_regressor_matches(reg, X, outputs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pipeline_with_scaler_in_one_call(dtype):
    """The issue's path: skl2onnx.to_onnx on a fitted pipeline, ZipMap on."""
    X = _X(dtype=dtype) * 7 - 2
    y = _labels("multiclass")
    pipe = fit_quietly(make_pipeline(MinMaxScaler(), CNNClassifier(**SMALL)), X, y)
    onx = skl2onnx.to_onnx(pipe, X[:1])
    onnx.checker.check_model(onx, full_check=True)
    zipped = onx.graph.output[1].type.sequence_type.elem_type.map_type.value_type
    # ONNX's ZipMap takes float32 only: a double input zips float32 values
    assert zipped.tensor_type.elem_type == TensorProto.FLOAT
    outputs = run(onx, X)
    np.testing.assert_array_equal(outputs["output_label"], pipe.predict(X))
    proba = np.array([list(row.values()) for row in outputs["output_probability"]])
    np.testing.assert_allclose(proba, pipe.predict_proba(X), rtol=TOL, atol=TOL)


def test_regressor_pipeline():
    X = _X() * 3
    pipe = make_pipeline(MinMaxScaler(), CNNRegressor(**SMALL))
    pipe = fit_quietly(pipe, X, X[:, 1] + X[:, 2])
    assert_regressor_matches(pipe, X, run(export(pipe, X), X))


def test_two_networks_in_one_graph_get_their_own_names():
    X = _X()
    y = X[:, 0] - X[:, 5]
    vote = VotingRegressor(
        [
            ("a", CNNRegressor(**SMALL)),
            ("b", CNNRegressor(**{**SMALL, "pooling": "sum", "random_state": 1})),
        ]
    )
    vote = fit_quietly(vote, X, y)
    onx = export(vote, X)
    names = [node.name for node in onx.graph.node]
    assert len(set(names)) == len(names)
    assert_regressor_matches(vote, X, run(onx, X))


def test_helper_applies_options_to_every_network():
    X = _X()
    pipe = make_pipeline(MinMaxScaler(), CNNClassifier(**SMALL))
    pipe = fit_quietly(pipe, X, _labels("binary-strings"))
    onx = sklearn_xcnn.onnx.to_onnx(pipe, X[:1], zipmap=False)
    onnx.checker.check_model(onx, full_check=True)
    onnx_checked = export(pipe, X, {id(pipe[-1]): {"zipmap": False}})
    assert [o.name for o in onx.graph.output] == ["label", "probabilities"]
    assert len(onx.graph.node) == len(onnx_checked.graph.node)
    assert_classifier_matches(pipe, X, run(onx, X))
    with pytest.raises(ValueError, match="Unknown option"):
        sklearn_xcnn.onnx.to_onnx(pipe, X[:1], zip_map=False)
    with pytest.raises(ValueError, match="must be one of"):
        sklearn_xcnn.onnx.to_onnx(pipe, X[:1], batch_norm="merge")


def test_registration_is_idempotent():
    from skl2onnx._supported_operators import sklearn_operator_name_map

    _converters.register_converters()
    _converters.register_converters()
    assert sklearn_operator_name_map[CNNClassifier] == _converters.CLASSIFIER_ALIAS
    assert sklearn_operator_name_map[CNNRegressor] == _converters.REGRESSOR_ALIAS
    X = _X()
    clf = fit_quietly(CNNClassifier(**SMALL), X, _labels("binary"))
    assert_classifier_matches(clf, X, run(export(clf, X, no_zipmap(clf)), X))


def test_importing_the_package_does_not_import_skl2onnx():
    code = (
        "import sys, sklearn_xcnn; "
        "assert 'skl2onnx' not in sys.modules and 'onnx' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("opset", [11, 13, 17, None])
def test_target_opsets(opset):
    """From the oldest opset the graph needs (11) to skl2onnx's default."""
    X = _X()
    params = dict(SMALL, batch_norm=True, pooling="mean", padding="same")
    clf = fit_quietly(CNNClassifier(**params), X, _labels("multiclass-strings"))
    for mode in ("fold", "node"):
        options = {id(clf): {"zipmap": False, "batch_norm": mode}}
        onx = export(clf, X, options, target_opset=opset)
        assert_classifier_matches(clf, X, run(onx, X))
    outputs = run(export(clf, X, target_opset=opset), X)  # with ZipMap
    np.testing.assert_array_equal(outputs["output_label"], clf.predict(X))
