"""skl2onnx shape calculators and converters of the network estimators.

Each model has a shape calculator (the types and shapes of its outputs, known
before any node is written) and a converter (the nodes), registered once by
:func:`register_converters`: :class:`~sklearn_xcnn.CNNClassifier`,
:class:`~sklearn_xcnn.CNNRegressor`, the single-network series estimators of
:mod:`sklearn_xcnn.series` (:func:`register_network`) and its ensembles
(:func:`register_ensemble`). The classifiers' outputs follow skl2onnx's own
classifiers: ``label`` and ``probabilities``, the latter turned into a list
of dictionaries by skl2onnx's ZipMap unless ``zipmap=False``. A regressor's
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
from sklearn.base import ClassifierMixin, is_classifier
from sklearn.utils.validation import check_is_fitted

from .. import series
from .._classifier import CNNClassifier
from .._regressor import CNNRegressor
from ._graph import (
    BATCH_NORM_MODES,
    GraphWriter,
    add_maps_network,
    add_network,
    check_opset,
    check_supported,
)
from ._series import check_series_input, is_series_estimator, series_maps


def alias(cls):
    """skl2onnx's name of ``cls``'s converter."""
    return f"SklearnXcnn{cls.__name__}"


CLASSIFIER_ALIAS = alias(CNNClassifier)
REGRESSOR_ALIAS = alias(CNNRegressor)

# the ensembles of sklearn_xcnn.series, registered when present, whose
# fitted members are in estimators_
SERIES_ENSEMBLES = ("InceptionTimeClassifier", "InceptionTimeRegressor")

# the options each converter takes, with their allowed values (first: default)
CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [False, True],
    "batch_norm": list(BATCH_NORM_MODES),
}
REGRESSOR_OPTIONS = {"batch_norm": list(BATCH_NORM_MODES)}
# every registered class and the options its converter takes
OPTIONS_BY_CLASS = {}
# how to get the single-network members of each registered ensemble class
ENSEMBLE_MEMBERS = {}

_INPUT_TYPES = [FloatTensorType, DoubleTensorType, Int64TensorType]


# ------------------------------------------------------------------ helpers
def members_of(est):
    """The single-network estimators ``est`` predicts with: an ensemble's
    members, the estimator itself, or nothing for a model of another kind."""
    for cls, members in ENSEMBLE_MEMBERS.items():
        if type(est) is cls:
            check_is_fitted(est)
            return list(members(est))
    return [est] if type(est) in OPTIONS_BY_CLASS else []


def _fitted_networks(operator):
    """The estimator of ``operator``, its single-network members and their
    fitted, exportable networks."""
    est = operator.raw_operator
    members = members_of(est)
    if not members:
        raise ValueError(f"{type(est).__name__} holds no fitted network members.")
    networks = [m._fitted_network() for m in members]  # NotFittedError
    for network in networks:
        check_supported(network.spec)
    return est, members, networks


def _check_input(operator, members, networks):
    """The input must be what the (first) member reads: rows of ``H * W * C``
    values for an image network, series for a series estimator."""
    check_input_and_output_types(operator, good_input_types=_INPUT_TYPES)
    shape = operator.inputs[0].type.shape
    name, member = type(operator.raw_operator).__name__, members[0]
    if is_series_estimator(member):
        check_series_input(shape, member, networks, name)
        return
    n_pixels = int(np.prod(member.image_shape_))
    if len(shape) == 2 and isinstance(shape[1], int) and shape[1] != n_pixels:
        raise ValueError(
            f"{name} was fitted on images of shape "
            f"{tuple(member.image_shape_)} ({n_pixels} values per row) but its "
            f"ONNX input has {shape[1]} columns."
        )


def _output_tensor_type(operator):
    """Double outputs for a double input, float otherwise (skl2onnx's rule),
    except that probabilities zipped by ZipMap are float32 (see the parser)."""
    est = operator.raw_operator
    if is_classifier(est):
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
def calculate_classifier_output_shapes(operator):
    """Types of ``label`` and ``probabilities`` of a classifier (one network
    or an ensemble)."""
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=2)
    est, members, networks = _fitted_networks(operator)
    _check_input(operator, members, networks)
    n = operator.inputs[0].get_first_dimension()
    classes, is_string = label_classes(operator.scope_inst, est)
    multilabel = _is_multilabel(networks[0].spec)
    label_shape = [n, len(classes)] if multilabel else [n]
    label_type = StringTensorType if is_string else Int64TensorType
    operator.outputs[0].type = label_type(shape=label_shape)
    operator.outputs[1].type = _output_tensor_type(operator)([n, len(classes)])


def calculate_regressor_output_shapes(operator):
    """Type of ``variable``, ``(n, n_outputs)``, of a regressor (one network
    or an ensemble)."""
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    _, members, networks = _fitted_networks(operator)
    _check_input(operator, members, networks)
    n = operator.inputs[0].get_first_dimension()
    n_outputs = networks[0].spec.layer_units[-1]
    operator.outputs[0].type = _output_tensor_type(operator)([n, n_outputs])


# the names of the first release, kept
calculate_cnn_classifier_output_shapes = calculate_classifier_output_shapes
calculate_cnn_regressor_output_shapes = calculate_regressor_output_shapes


# --------------------------------------------------------------- converters
def _all_logits(scope, operator, container, defaults):
    """Write every member's network; returns the writer, the estimator, the
    members' specs and float32 logits ``(n, n_outputs)``."""
    check_opset(container)
    est, members, networks = _fitted_networks(operator)
    options = container.get_options(est, dict(defaults))
    g = GraphWriter(scope, container)
    x = operator.inputs[0].full_name
    if not isinstance(operator.inputs[0].type, FloatTensorType):
        # float64 (or int64) input: the network runs in float32
        x = g.node("Cast", [x], hint="float_input", to=TensorProto.FLOAT)
    logits = []
    for member, network in zip(members, networks):
        if is_series_estimator(member):
            maps = series_maps(g, x, member)  # (n, C, 1, T)
            z = add_maps_network(g, maps, network, options["batch_norm"])
        else:
            z = add_network(g, x, network, member.image_shape_, options["batch_norm"])
        logits.append(z)
    return g, est, [network.spec for network in networks], logits


def _to_output(g, operator, x, out):
    """Copy the float32 ``x`` to the graph output ``out``, cast to double for
    a double input."""
    if _output_tensor_type(operator) is DoubleTensorType:
        return g.node("Cast", [x], out=out, to=TensorProto.DOUBLE)
    return g.node("Identity", [x], out=out)


def _probabilities(g, spec, z):
    """The class probabilities ``(n, n_classes)`` of logits ``z`` and the
    index of each sample's class as ``predict`` finds it from ``z``: None for
    multilabel outputs.

    Binary: one sigmoid gives the two columns ``[sigmoid(-z), sigmoid(z)]``
    and the class index is ``z > 0``. Multi-class: softmax, the index at the
    argmax of the logits. Multilabel: one sigmoid per label.
    """
    if _is_multilabel(spec):
        return g.node("Sigmoid", [z], hint="proba"), None
    if spec.out_activation == "softmax":
        p = g.node("Softmax", [z], hint="proba", axis=1)
        return p, g.node("ArgMax", [z], hint="class_index", axis=1, keepdims=0)
    # binary: 1 - sigmoid(z) is sigmoid(-z), without cancellation
    negative = g.node("Sigmoid", [g.node("Neg", [z])], hint="proba_negative")
    positive = g.node("Sigmoid", [z], hint="proba_positive")
    p = g.node("Concat", [negative, positive], hint="proba", axis=1)
    above = g.node("Greater", [z, g.const("zero", 0.0)])  # (n, 1)
    index = g.node("Cast", [above], hint="class_index", to=TensorProto.INT64)
    flat = g.const("flat_shape", [-1], np.int64)
    return p, g.node("Reshape", [index, flat], hint="class_index")  # (n,)


def convert_classifier(scope, operator, container):
    """Nodes of a fitted classifier: ``label`` and ``probabilities``.

    One network: its probabilities; labels from the logits, as in
    ``predict`` (multilabel: labels 0/1, int64, where the logit is positive).
    An ensemble: the mean of its members' probabilities, the label at its
    argmax (multilabel: 0/1 where the mean exceeds 0.5).
    """
    g, est, specs, logits = _all_logits(
        scope, operator, container, {"batch_norm": "fold"}
    )
    label, proba = operator.outputs[0].full_name, operator.outputs[1].full_name
    if len(logits) == 1 and type(est) not in ENSEMBLE_MEMBERS:
        p, index = _probabilities(g, specs[0], logits[0])
        if index is None:  # multilabel
            _to_output(g, operator, p, proba)
            positive = g.node("Greater", [logits[0], g.const("zero", 0.0)])
            g.node("Cast", [positive], out=label, to=TensorProto.INT64)
            return
    else:
        probas = [_probabilities(g, spec, z)[0] for spec, z in zip(specs, logits)]
        p = g.node("Mean", probas, hint="mean_proba")
        if _is_multilabel(specs[0]):
            _to_output(g, operator, p, proba)
            above = g.node("Greater", [p, g.const("half", 0.5)])
            g.node("Cast", [above], out=label, to=TensorProto.INT64)
            return
        index = g.node("ArgMax", [p], hint="class_index", axis=1, keepdims=0)
    _to_output(g, operator, p, proba)
    classes, _ = label_classes(scope, est)
    g.node("Gather", [g.const("classes", classes, classes.dtype), index], out=label)


def convert_regressor(scope, operator, container):
    """Nodes of a fitted regressor: ``variable``, ``(n, n_outputs)``; the
    mean of the members' outputs for an ensemble."""
    g, est, _, logits = _all_logits(scope, operator, container, {"batch_norm": "fold"})
    z = logits[0]
    if len(logits) > 1 or type(est) in ENSEMBLE_MEMBERS:
        z = g.node("Mean", logits, hint="mean_prediction")
    _to_output(g, operator, z, operator.outputs[0].full_name)


# the names of the first release, kept
convert_cnn_classifier = convert_classifier
convert_cnn_regressor = convert_regressor


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


def _register(cls, classifier):
    """Register ``cls``'s shape calculator, converter and parser."""
    options = CLASSIFIER_OPTIONS if classifier else REGRESSOR_OPTIONS
    update_registered_converter(
        cls,
        alias(cls),
        calculate_classifier_output_shapes
        if classifier
        else calculate_regressor_output_shapes,
        convert_classifier if classifier else convert_regressor,
        parser=_parse_fitted_classifier if classifier else _parse_fitted_regressor,
        options=options,
    )
    OPTIONS_BY_CLASS[cls] = options


def register_network(cls):
    """Register the converters of ``cls``, a subclass of
    :class:`~sklearn_xcnn.CNNClassifier` or :class:`~sklearn_xcnn.CNNRegressor`
    (one network; a series estimator reads series).

    skl2onnx finds a model's converter by its exact class, so each subclass
    is registered on its own.
    """
    if not issubclass(cls, CNNClassifier | CNNRegressor):
        raise TypeError(f"{cls.__name__} is not a CNNClassifier or CNNRegressor.")
    _register(cls, issubclass(cls, CNNClassifier))


def register_ensemble(cls, members):
    """Register the converters of an ensemble class ``cls``.

    Parameters
    ----------
    cls : type
        A classifier (its ``predict_proba`` is the mean of its members'
        probabilities, its ``predict`` the class at the argmax of that mean;
        it has ``classes_``) or a regressor (its ``predict`` is the mean of its
        members' predictions): a classifier derives from
        :class:`~sklearn.base.ClassifierMixin`.
    members : callable
        ``members(fitted_estimator)`` returns the fitted members: estimators
        of registered single-network classes, fitted on the same input
        layout (and, for a classifier, the same classes).
    """
    ENSEMBLE_MEMBERS[cls] = members
    _register(cls, issubclass(cls, ClassifierMixin))


def _series_classes():
    """The series estimators present: single networks and ensembles."""
    present = [getattr(series, name) for name in series.__all__]
    networks = [
        cls
        for cls in present
        if isinstance(cls, type) and issubclass(cls, CNNClassifier | CNNRegressor)
    ]
    ensembles = [getattr(series, name) for name in SERIES_ENSEMBLES
                 if hasattr(series, name)]  # fmt: skip
    return networks, ensembles


_REGISTERED = []


def register_converters():
    """Register the converters of every network estimator with skl2onnx:
    :class:`~sklearn_xcnn.CNNClassifier`, :class:`~sklearn_xcnn.CNNRegressor`,
    the series estimators present (the InceptionTime ensembles with their
    ``estimators_``); later calls do nothing."""
    if _REGISTERED:
        return
    networks, ensembles = _series_classes()
    for cls in (CNNClassifier, CNNRegressor, *networks):
        register_network(cls)
    for cls in ensembles:
        register_ensemble(cls, lambda est: est.estimators_)
    _REGISTERED.append(True)
