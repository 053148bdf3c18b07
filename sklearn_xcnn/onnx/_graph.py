"""The fitted network as ONNX nodes, added to a skl2onnx container.

:func:`add_network` writes the graph that reproduces what prediction computes
(see :mod:`sklearn_xcnn._core._network`), from rows of pixels to the logits of
the output layer; :func:`add_maps_network` does the same from maps already in
ONNX's NCHW layout (the series estimators' input, see :mod:`._series`)::

    rows (n, H*W*C) -> Reshape (n, H, W, C) -> Transpose (n, C, H, W)
    per block: the graph of its kind (see :mod:`._blocks`)
    [GlobalAveragePool | GlobalMaxPool] -> Flatten -> [Gemm -> activation]*
    -> Gemm (logits)

ONNX runs the maps in NCHW, so flattening them is the filters x rows x cols
order of the first dense layer's coefficients. The rows arrive channels last:
a plain reshape to ``(n, C, H, W)`` would be right only for one channel.
Dropout acts only while training and adds nothing.

All parameters are stored as float32 initializers and the network runs in
float32: onnxruntime's CPU provider implements ``Conv`` and ``AveragePool``
for float32 only.
"""

import numpy as np
from onnx import TensorProto, numpy_helper

from .._core._network import block_offsets, split_params
from ._blocks import BLOCK_WRITERS, MODULE_FIELDS, UNIT_FIELDS, BlockParams

# ONNX operator of each activation; None: the identity adds no node. An
# activation of ACTIVATIONS missing here is refused by check_supported.
ONNX_ACTIVATIONS = {
    "relu": "Relu",
    "tanh": "Tanh",
    "logistic": "Sigmoid",
    "identity": None,
}

# the oldest opset whose Pad takes its pads as an input
MIN_OPSET = 11

BATCH_NORM_MODES = ("fold", "node")


class GraphWriter:
    """Adds nodes and initializers to a skl2onnx container.

    Every variable and node name is taken from the skl2onnx scope, so a
    pipeline holding several networks gets no clashes.

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
    container : skl2onnx.common._container.ModelComponentContainer
    """

    def __init__(self, scope, container):
        self.scope = scope
        self.container = container

    def const(self, hint, value, dtype=np.float32):
        """An initializer holding ``value`` as ``dtype``; returns its name."""
        name = self.scope.get_unique_variable_name(hint)
        value = np.asarray(value)
        if value.dtype.kind in "OUS":  # labels: a tensor of UTF-8 strings
            content = [str(v).encode("utf-8") for v in value.ravel()]
            self.container.add_initializer(
                name, TensorProto.STRING, list(value.shape), content
            )
        else:
            tensor = numpy_helper.from_array(np.ascontiguousarray(value, dtype), name)
            self.container.add_initializer(name, tensor.data_type, None, tensor)
        return name

    def node(self, op_type, inputs, hint=None, out=None, domain="", **attrs):
        """Add one node; returns the name of its (single) output.

        ``out`` names the output (a graph output); otherwise a unique name is
        made from ``hint`` (default: the operator in lower case).
        """
        if out is None:
            out = self.scope.get_unique_variable_name(hint or op_type.lower())
        self.container.add_node(
            op_type,
            list(inputs),
            [out],
            op_domain=domain,
            name=self.scope.get_unique_operator_name(op_type),
            **attrs,
        )
        return out

    def activation(self, x, name, out=None):
        """``x`` through the activation ``name`` (nothing for the identity)."""
        op_type = ONNX_ACTIVATIONS[name]
        if op_type is None:
            return x if out is None else self.node("Identity", [x], out=out)
        return self.node(op_type, [x], out=out)


# what the exporter knows of the spec; anything else is refused at export
SPEC_FIELDS = {
    "blocks",
    "pooling",
    "activation",
    "layer_units",
    "out_activation",
    "loss",
    "global_pooling",
    "dropout",
}
# block kinds the exporter writes a graph for (see ._blocks)
EXPORTED_KINDS = tuple(BLOCK_WRITERS)
SUPPORTED_VALUES = {
    "pooling": ("max", "mean", "sum", None),
    "activation": tuple(ONNX_ACTIVATIONS),
    "out_activation": ("logistic", "softmax", "identity"),
    "global_pooling": (None, "mean", "max"),
}


def check_supported(spec):
    """Refuse (ValueError) a network the graph would not reproduce.

    Every field of the spec and of its blocks must be one the exporter
    handles, with a value it handles: a network with an option added after
    this exporter was written raises instead of exporting a graph that
    computes something else.
    """
    unknown = set(spec._fields) - SPEC_FIELDS
    for b, block in enumerate(spec.blocks):
        if block.kind not in BLOCK_WRITERS:
            raise ValueError(
                f"sklearn_xcnn.onnx cannot export block {b}: its block kind "
                f"{block.kind!r} has no ONNX graph yet (exported kinds: "
                f"{EXPORTED_KINDS})."
            )
        unknown |= set(block._fields) - BLOCK_WRITERS[block.kind].fields
        for unit in block.conv_units:  # the convolutions of compound kinds
            unknown |= set(unit._fields) - UNIT_FIELDS
        for module in getattr(block, "modules", ()):
            unknown |= set(module._fields) - MODULE_FIELDS
    if unknown:
        raise ValueError(
            "sklearn_xcnn.onnx cannot export this network: it does not know the "
            f"architecture field(s) {sorted(unknown)}."
        )
    for field, allowed in SUPPORTED_VALUES.items():
        value = getattr(spec, field, None)
        if value not in allowed:
            raise ValueError(
                f"sklearn_xcnn.onnx cannot export {field}={value!r}; it exports "
                f"{field} in {allowed}."
            )


def check_opset(container):
    """Refuse opsets too old for the graph (ValueError)."""
    opset = container.target_opset
    if opset is not None and opset < MIN_OPSET:
        raise ValueError(
            f"sklearn-xcnn networks export to ONNX opset {MIN_OPSET} or later "
            f"(Pad with its pads as an input); target_opset={opset} was asked for."
        )


def add_network(g, x, network, image_shape, batch_norm="fold"):
    """Add the nodes from rows of pixels ``x`` to the output logits.

    Parameters
    ----------
    g : GraphWriter
    x : str
        Name of a float32 tensor holding ``n * H * W * C`` values per batch
        (rows flattened channels last, or images ``(n, H, W, C)``).
    network : FittedNetwork
        ``(spec, params, stats)`` from ``estimator._fitted_network()``.
    image_shape : (int, int, int)
        ``(H, W, C)`` of the input images.
    batch_norm : {"fold", "node"}, default="fold"
        Batch norm folded into the ``Conv`` weights and bias, or as its own
        ``BatchNormalization`` node (see :mod:`._blocks`).

    Returns
    -------
    logits : str
        Name of the float32 logits, ``(n, n_outputs)``.
    """
    H, W, C = (int(s) for s in image_shape)
    shape = g.const("image_shape", [-1, H, W, C], np.int64)
    a = g.node("Reshape", [x, shape], hint="images_nhwc")  # (n, H, W, C)
    a = g.node("Transpose", [a], hint="images_nchw", perm=[0, 3, 1, 2])  # (n, C, H, W)
    return add_maps_network(g, a, network, batch_norm)


def add_maps_network(g, maps, network, batch_norm="fold"):
    """Add the nodes from input maps ``(n, C, H, W)`` to the output logits.

    Parameters
    ----------
    g : GraphWriter
    maps : str
        Name of a float32 tensor ``(n, C, H, W)``: the network's input images
        in ONNX's layout.
    network : FittedNetwork
        ``(spec, params, stats)`` from ``estimator._fitted_network()``.
    batch_norm : {"fold", "node"}, default="fold"
        See :func:`add_network`.

    Returns
    -------
    logits : str
        Name of the float32 logits, ``(n, n_outputs)``.
    """
    spec = network.spec
    if batch_norm not in BATCH_NORM_MODES:
        raise ValueError(f"batch_norm={batch_norm!r}; use one of {BATCH_NORM_MODES}")
    groups = split_params(network.params, spec)
    params = list(network.params)
    a = maps
    for b, (block, (pairs, scales, slots)) in enumerate(
        zip(spec.blocks, block_offsets(spec))
    ):
        handed = BlockParams(
            params[slice(*pairs)],
            params[slice(*scales)],
            None if network.stats is None else network.stats[slice(*slots)],
            batch_norm,
            f"block {b}",
        )
        a = BLOCK_WRITERS[block.kind].write(g, a, block, spec, handed)
    if spec.global_pooling is not None:  # each map to one value
        op_type = {"mean": "GlobalAveragePool", "max": "GlobalMaxPool"}
        a = g.node(op_type[spec.global_pooling], [a])  # (n, F, 1, 1)
    a = g.node("Flatten", [a], hint="flat", axis=1)  # (n, F*Hp*Wp)
    n_dense = len(groups["coefs"])
    for i, (w, b) in enumerate(zip(groups["coefs"], groups["intercepts"])):
        a = g.node("Gemm", [a, g.const("coefs", w), g.const("intercepts", b)])
        if i < n_dense - 1:
            a = g.activation(a, spec.activation)
    return a
