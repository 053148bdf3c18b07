"""What cannot be exported raises a clear error at export."""

import pytest

from ..conftest import needs

needs("onnx")
needs("onnxruntime")
skl2onnx = needs("skl2onnx")

import numpy as np  # noqa: E402
from skl2onnx.common.data_types import FloatTensorType  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402

from sklearn_xcnn import CNNClassifier, CNNRegressor  # noqa: E402
from sklearn_xcnn._base import FittedNetwork  # noqa: E402
from sklearn_xcnn.onnx import _blocks, _graph  # noqa: E402

from ._helpers import fit_quietly, images  # noqa: E402

SMALL = dict(
    n_filters=2, hidden_units=3, solver="lbfgs", max_iter=3, image_shape=(5, 5, 1)
)


def _fitted(cls=CNNClassifier):
    X = images(20, (5, 5, 1))
    y = np.arange(20) % 2 if cls is CNNClassifier else X[:, 0]
    return fit_quietly(cls(**SMALL, random_state=0), X, y), X


@pytest.mark.parametrize("cls", [CNNClassifier, CNNRegressor])
def test_unfitted_model_raises_not_fitted(cls):
    X = images(2, (5, 5, 1))
    with pytest.raises(NotFittedError, match="not fitted"):
        skl2onnx.to_onnx(cls(), X)
    with pytest.raises(NotFittedError, match="not fitted"):
        skl2onnx.to_onnx(make_pipeline(MinMaxScaler().fit(X), cls()), X)


def test_input_of_the_wrong_width_raises():
    clf, _ = _fitted()
    with pytest.raises(ValueError, match=r"images of shape \(5, 5, 1\).*24 columns"):
        skl2onnx.to_onnx(clf, initial_types=[("X", FloatTensorType([None, 24]))])


def test_old_opset_raises():
    clf, X = _fitted()
    with pytest.raises(ValueError, match="opset 11 or later"):
        skl2onnx.to_onnx(clf, X[:1], target_opset=10)


@pytest.mark.parametrize(
    "field, value",
    [
        ("activation", "gelu"),
        ("pooling", "median"),
        ("out_activation", "softplus"),
    ],
)
def test_unsupported_value_raises(monkeypatch, field, value):
    reg, X = _fitted(CNNRegressor)
    spec, params, stats = reg._fitted_network()
    network = FittedNetwork(spec._replace(**{field: value}), params, stats)
    monkeypatch.setattr(reg, "_fitted_network", lambda: network)
    with pytest.raises(ValueError, match=f"cannot export {field}={value!r}"):
        skl2onnx.to_onnx(reg, X[:1])


def test_unknown_architecture_field_raises(monkeypatch):
    """A spec field added after the exporter was written is refused."""
    reg, X = _fitted(CNNRegressor)
    monkeypatch.setattr(_graph, "SPEC_FIELDS", _graph.SPEC_FIELDS - {"activation"})
    with pytest.raises(ValueError, match=r"does not know .*'activation'"):
        skl2onnx.to_onnx(reg, X[:1])


@pytest.mark.parametrize("kind", ["residual", "inception"])
def test_block_kind_without_a_graph_raises(monkeypatch, kind):
    """A block kind added to the core without a writer is refused."""
    X = images(20, (5, 5, 1))
    clf = CNNClassifier(**SMALL, block=kind, block_depth=1, random_state=0)
    clf = fit_quietly(clf, X, np.arange(20) % 2)
    writers = {k: v for k, v in _blocks.BLOCK_WRITERS.items() if k != kind}
    monkeypatch.setattr(_graph, "BLOCK_WRITERS", writers)
    with pytest.raises(ValueError, match=f"block kind '{kind}' has no ONNX graph"):
        skl2onnx.to_onnx(clf, X[:1])


@pytest.mark.parametrize("kind", ["residual", "inception"])
def test_unknown_field_of_a_compound_block_raises(monkeypatch, kind):
    """A field added to a compound kind's spec after its writer is refused,
    as is one added to the convolutions inside it."""
    X = images(20, (5, 5, 1))
    clf = CNNClassifier(**SMALL, block=kind, block_depth=1, random_state=0)
    clf = fit_quietly(clf, X, np.arange(20) % 2)
    writer = _blocks.BLOCK_WRITERS[kind]
    narrowed = writer._replace(fields=writer.fields - {"shortcut"})
    monkeypatch.setitem(_blocks.BLOCK_WRITERS, kind, narrowed)
    with pytest.raises(ValueError, match=r"does not know .*'shortcut'"):
        skl2onnx.to_onnx(clf, X[:1])
    monkeypatch.setitem(_blocks.BLOCK_WRITERS, kind, writer)
    monkeypatch.setattr(_graph, "UNIT_FIELDS", _graph.UNIT_FIELDS - {"dilation"})
    with pytest.raises(ValueError, match=r"does not know .*'dilation'"):
        skl2onnx.to_onnx(clf, X[:1])
