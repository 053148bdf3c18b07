"""skl2onnx shape calculators and converters of CNNClassifier and CNNRegressor.

Each model has a shape calculator (the types and shapes of its outputs, known
before any node is written) and a converter (the nodes), registered once by
:func:`register_converters`. The classifier's outputs follow skl2onnx's own
classifiers: ``label`` and ``probabilities``, the latter turned into a list of
dictionaries by skl2onnx's ZipMap unless ``zipmap=False``. The regressor's
output is ``variable``, of shape ``(n, n_outputs)``.
"""

import numpy as np
from onnx import TensorProto
from skl2onnx import update_registered_converter
from skl2onnx.common.data_types import (
    DoubleTensorType,
    FloatTensorType,
    Int64TensorType,
    StringTensorType,
)
from skl2onnx.common.utils import (
    check_input_and_output_numbers,
    check_input_and_output_types,
)
from skl2onnx.common.utils_classifier import get_label_classes
from sklearn.utils.validation import check_is_fitted

from .._classifier import CNNClassifier
from .._regressor import CNNRegressor
from ._graph import (
    BATCH_NORM_MODES,
    GraphWriter,
    add_network,
    check_opset,
    check_supported,
)

CLASSIFIER_ALIAS = "SklearnXcnnCNNClassifier"
REGRESSOR_ALIAS = "SklearnXcnnCNNRegressor"

# the options each converter takes, with their allowed values (first: default)
CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [False, True],
    "batch_norm": list(BATCH_NORM_MODES),
}
REGRESSOR_OPTIONS = {"batch_norm": list(BATCH_NORM_MODES)}

_INPUT_TYPES = [FloatTensorType, DoubleTensorType, Int64TensorType]


# ------------------------------------------------------------------ helpers
def _fitted(operator):
    """The estimator of ``operator`` and its fitted, exportable network."""
    est = operator.raw_operator
    network = est._fitted_network()  # NotFittedError when not fitted
    check_supported(network.spec)
    return est, network


def _check_input(operator, est):
    """The input must hold ``H * W * C`` values per row when its width is known."""
    check_input_and_output_types(operator, good_input_types=_INPUT_TYPES)
    shape = operator.inputs[0].type.shape
    n_pixels = int(np.prod(est.image_shape_))
    if len(shape) == 2 and isinstance(shape[1], int) and shape[1] != n_pixels:
        raise ValueError(
            f"{type(est).__name__} was fitted on images of shape "
            f"{tuple(est.image_shape_)} ({n_pixels} values per row) but its ONNX "
            f"input has {shape[1]} columns."
        )


def _output_tensor_type(operator):
    """Double outputs for a double input, float otherwise (skl2onnx's rule),
    except that probabilities zipped by ZipMap are float32 (see the parser)."""
    est = operator.raw_operator
    if isinstance(est, CNNClassifier):
        zipmap = operator.scope_inst.get_options(est, dict(zipmap=True))["zipmap"]
        if zipmap is not False:
            return FloatTensorType
    if isinstance(operator.inputs[0].type, DoubleTensorType):
        return DoubleTensorType
    return FloatTensorType


def _is_multilabel(spec):
    return spec.out_activation == "logistic" and spec.layer_units[-1] > 1


def label_classes(scope, est):
    """The class labels as the graph returns them.

    Integer, boolean and integral float labels become int64 (as in skl2onnx),
    strings stay strings; ``nocl=True`` replaces them by ``0 .. k-1``.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        int64 or str.
    is_string : bool
    """
    classes = np.asarray(get_label_classes(scope, est))
    if classes.dtype.kind in "biu":
        return classes.astype(np.int64), False
    if classes.dtype.kind == "f" and np.all(np.isfinite(classes)):
        if np.array_equal(classes, np.round(classes)):
            return classes.astype(np.int64), False
    if classes.dtype.kind in "US":
        return classes.astype(str), True
    if classes.dtype.kind == "O":
        if all(isinstance(c, str) for c in classes):
            return classes.astype(str), True
        if all(isinstance(c, int | np.integer) for c in classes):
            return classes.astype(np.int64), False
    raise ValueError(
        f"Cannot export the class labels {classes.tolist()} to ONNX: labels "
        "must be integers (or floats holding integers) or strings. Encode them, "
        "e.g. with sklearn.preprocessing.LabelEncoder, or export with "
        "options nocl=True."
    )


# ------------------------------------------------------- shape calculators
def calculate_cnn_classifier_output_shapes(operator):
    """Types of ``label`` and ``probabilities`` of a CNNClassifier."""
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=2)
    est, network = _fitted(operator)
    _check_input(operator, est)
    n = operator.inputs[0].get_first_dimension()
    classes, is_string = label_classes(operator.scope_inst, est)
    multilabel = _is_multilabel(network.spec)
    label_shape = [n, len(classes)] if multilabel else [n]
    label_type = StringTensorType if is_string else Int64TensorType
    operator.outputs[0].type = label_type(shape=label_shape)
    operator.outputs[1].type = _output_tensor_type(operator)([n, len(classes)])


def calculate_cnn_regressor_output_shapes(operator):
    """Type of ``variable``, ``(n, n_outputs)``, of a CNNRegressor."""
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    est, network = _fitted(operator)
    _check_input(operator, est)
    n = operator.inputs[0].get_first_dimension()
    n_outputs = network.spec.layer_units[-1]
    operator.outputs[0].type = _output_tensor_type(operator)([n, n_outputs])


# --------------------------------------------------------------- converters
def _logits(scope, operator, container, defaults):
    """Write the network; returns the writer, the estimator, its spec and the
    float32 logits (n, n_outputs)."""
    check_opset(container)
    est, network = _fitted(operator)
    options = container.get_options(est, dict(defaults))
    g = GraphWriter(scope, container)
    x = operator.inputs[0].full_name
    if not isinstance(operator.inputs[0].type, FloatTensorType):
        # float64 (or int64) rows: the network runs in float32
        x = g.node("Cast", [x], hint="float_rows", to=TensorProto.FLOAT)
    logits = add_network(g, x, network, est.image_shape_, options["batch_norm"])
    return g, est, network.spec, logits


def _to_output(g, operator, x, out):
    """Copy the float32 ``x`` to the graph output ``out``, cast to double for
    a double input."""
    if _output_tensor_type(operator) is DoubleTensorType:
        return g.node("Cast", [x], out=out, to=TensorProto.DOUBLE)
    return g.node("Identity", [x], out=out)


def convert_cnn_classifier(scope, operator, container):
    """Nodes of a fitted CNNClassifier: ``label`` and ``probabilities``.

    Binary: one sigmoid gives the two columns ``[sigmoid(-z), sigmoid(z)]``
    and the label is ``classes[z > 0]``. Multi-class: softmax, the label at the
    argmax of the logits. Multilabel: one sigmoid per label, labels 0/1
    (int64) where the logit is positive. As in ``predict``, labels come from
    the logits.
    """
    g, est, spec, z = _logits(scope, operator, container, {"batch_norm": "fold"})
    label, proba = operator.outputs[0].full_name, operator.outputs[1].full_name
    if _is_multilabel(spec):
        _to_output(g, operator, g.node("Sigmoid", [z], hint="proba"), proba)
        positive = g.node("Greater", [z, g.const("zero", 0.0)])
        g.node("Cast", [positive], out=label, to=TensorProto.INT64)
        return
    if spec.out_activation == "softmax":
        p = g.node("Softmax", [z], hint="proba", axis=1)
        index = g.node("ArgMax", [z], hint="class_index", axis=1, keepdims=0)
    else:  # binary: 1 - sigmoid(z) is sigmoid(-z), without cancellation
        negative = g.node("Sigmoid", [g.node("Neg", [z])], hint="proba_negative")
        positive = g.node("Sigmoid", [z], hint="proba_positive")
        p = g.node("Concat", [negative, positive], hint="proba", axis=1)
        above = g.node("Greater", [z, g.const("zero", 0.0)])  # (n, 1)
        index = g.node("Cast", [above], hint="class_index", to=TensorProto.INT64)
        flat = g.const("flat_shape", [-1], np.int64)
        index = g.node("Reshape", [index, flat], hint="class_index")  # (n,)
    _to_output(g, operator, p, proba)
    classes, _ = label_classes(scope, est)
    g.node("Gather", [g.const("classes", classes, classes.dtype), index], out=label)


def convert_cnn_regressor(scope, operator, container):
    """Nodes of a fitted CNNRegressor: ``variable``, ``(n, n_outputs)``."""
    g, _, _, z = _logits(scope, operator, container, {"batch_norm": "fold"})
    _to_output(g, operator, z, operator.outputs[0].full_name)


# ------------------------------------------------------------- registration
def _parse_fitted_classifier(scope, model, inputs, custom_parsers=None):
    """Declare ``label`` and ``probabilities``, zipped by skl2onnx's ZipMap
    unless ``zipmap=False``, after a clear error for an unfitted model (the
    parsers read ``classes_``). ONNX's ZipMap takes float32 tensors only, so
    the probabilities it zips are float32 whatever the input."""
    from skl2onnx._parse import _apply_zipmap, _parse_sklearn_simple_model

    check_is_fitted(model)
    outputs = _parse_sklearn_simple_model(scope, model, inputs, custom_parsers)
    zipmap = scope.get_options(model, dict(zipmap=True))["zipmap"]
    if zipmap is False:
        return outputs
    return _apply_zipmap(zipmap, scope, model, FloatTensorType(), outputs)


def _parse_fitted_regressor(scope, model, inputs, custom_parsers=None):
    """skl2onnx's parser for models with one output, after a clear error for
    an unfitted model."""
    from skl2onnx._parse import _parse_sklearn_simple_model

    check_is_fitted(model)
    return _parse_sklearn_simple_model(scope, model, inputs, custom_parsers)


_REGISTERED = []


def register_converters():
    """Register both converters with skl2onnx; later calls do nothing."""
    if _REGISTERED:
        return
    update_registered_converter(
        CNNClassifier,
        CLASSIFIER_ALIAS,
        calculate_cnn_classifier_output_shapes,
        convert_cnn_classifier,
        parser=_parse_fitted_classifier,
        options=CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        CNNRegressor,
        REGRESSOR_ALIAS,
        calculate_cnn_regressor_output_shapes,
        convert_cnn_regressor,
        parser=_parse_fitted_regressor,
        options=REGRESSOR_OPTIONS,
    )
    _REGISTERED.append(True)
