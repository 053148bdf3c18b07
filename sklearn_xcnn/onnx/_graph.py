"""The fitted network as ONNX nodes, added to a skl2onnx container.

:func:`add_network` writes the graph that reproduces what prediction computes
(see :mod:`sklearn_xcnn._core._network`), from rows of pixels to the logits of
the output layer::

    rows (n, H*W*C) -> Reshape (n, H, W, C) -> Transpose (n, C, H, W)
    per block: Conv (zero padding in its ``pads``) [-> BatchNormalization]
               -> activation -> [Pad] -> MaxPool | AveragePool [-> Mul]
    [GlobalAveragePool | GlobalMaxPool] -> Flatten -> [Gemm -> activation]*
    -> Gemm (logits)

ONNX runs the maps in NCHW, so flattening them is the filters x rows x cols
order of the first dense layer's coefficients. The rows arrive channels last:
a plain reshape to ``(n, C, H, W)`` would be right only for one channel.

Pooling keeps partial windows at the bottom and right edges. Rather than
``ceil_mode`` (runtimes disagree on it), the map is padded so that every
window is whole: with ``-inf`` for max pooling, with zeros for sum and mean
pooling. Sum pooling is the average of the whole window times its area (ONNX
has no sum pooling, and ``LpPool`` with ``p=1`` would sum absolute values),
mean pooling that sum divided by the number of cells each window really has,
a constant map computed here.

Batch norm at prediction is an affine map per filter with the running
statistics, ``scale * (z - mean) / sqrt(var + eps) + intercept``: folded into
the ``Conv`` weights and bias (``batch_norm="fold"``), or kept as a
``BatchNormalization`` node (``"node"``). Dropout acts only while training and
adds nothing.

All parameters are stored as float32 initializers and the network runs in
float32: onnxruntime's CPU provider implements ``Conv`` and ``AveragePool``
for float32 only.
"""

import numpy as np
from onnx import TensorProto, numpy_helper

from .._core._network import BATCH_NORM_GROUP, split_params
from .._core._norm import BN_EPSILON
from .._core._pool import pool_output_size, window_counts

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
BLOCK_FIELDS = {
    "in_shape",
    "n_filters",
    "kernel",
    "stride",
    "padding",
    "conv_shape",
    "pool",
    "out_shape",
    "engine",
    "batch_norm",
    "dilation",
    "kind",
}
# block kinds the exporter writes a graph for
EXPORTED_KINDS = ("conv",)
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
        if block.kind not in EXPORTED_KINDS:
            raise ValueError(
                f"sklearn_xcnn.onnx cannot export block {b}: its block kind "
                f"{block.kind!r} has no ONNX graph yet (exported kinds: "
                f"{EXPORTED_KINDS})."
            )
        unknown |= set(block._fields) - BLOCK_FIELDS
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


def _block_padding(block):
    """``[top, left, bottom, right]`` zeros around the block input."""
    (top, bottom), (left, right) = block.padding
    return [int(top), int(left), int(bottom), int(right)]


def _conv(g, x, block, filters, intercepts, batch_norm):
    """Correlation of one block, batch norm included: ``(n, F, Ho, Wo)``.

    ``batch_norm`` is None without batch norm, else ``(mode, scale, (mean,
    var))`` with the running statistics.
    """
    conv = dict(
        kernel_shape=list(block.kernel),
        strides=list(block.stride),
        pads=_block_padding(block),
        dilations=list(block.dilation),
    )
    if batch_norm is None:
        w, b = g.const("filters", filters), g.const("filter_intercepts", intercepts)
        return g.node("Conv", [x, w, b], **conv)
    mode, scale, (mean, var) = batch_norm
    if mode == "node":
        z = g.node("Conv", [x, g.const("filters", filters)], **conv)
        inputs = [z] + [
            g.const(hint, value)
            for hint, value in (
                ("batch_norm_scale", scale),
                ("filter_intercepts", intercepts),
                ("running_mean", mean),
                ("running_var", var),
            )
        ]
        return g.node("BatchNormalization", inputs, epsilon=BN_EPSILON)
    # fold: scale * (z - mean) / sqrt(var + eps) + b == gain * z + (b - gain * mean)
    mean, var, scale = (np.asarray(v, dtype=np.float64) for v in (mean, var, scale))
    gain = scale / np.sqrt(var + BN_EPSILON)
    w = g.const("folded_filters", filters * gain[:, None, None, None])
    b = g.const("folded_intercepts", intercepts - gain * mean)
    return g.node("Conv", [x, w, b], **conv)


def _block_batch_norm(network, groups, b, mode):
    """``(mode, scale, (mean, var))`` of block ``b``, or None without batch
    norm."""
    if not network.spec.blocks[b].batch_norm:
        return None
    stats = network.stats[b] if network.stats is not None else None
    if stats is None:
        raise ValueError(
            f"block {b} normalises its maps but the model holds no running "
            "statistics for it; refit the model."
        )
    return mode, groups[BATCH_NORM_GROUP][b], stats


def _pool(g, x, kind, conv_shape, pool):
    """Pool ``x`` (n, F, Ho, Wo) over non-overlapping windows, partial edge
    windows kept; ``(n, F, ceil(Ho / pr), ceil(Wo / pc))``."""
    (Ho, Wo), (pr, pc) = conv_shape, pool
    extra = (
        pool_output_size(Ho, pr) * pr - Ho,
        pool_output_size(Wo, pc) * pc - Wo,
    )
    if any(extra):  # pad at the bottom and right so every window is whole
        pads = g.const("pool_pads", [0, 0, 0, 0, 0, 0, *extra], np.int64)
        fill = g.const("pool_fill", -np.inf if kind == "max" else 0.0)
        x = g.node("Pad", [x, pads, fill], hint="padded", mode="constant")
    window = dict(kernel_shape=[pr, pc], strides=[pr, pc])
    if kind == "max":
        return g.node("MaxPool", [x], **window)
    # no pads on the node, so count_include_pad changes nothing here; set, it
    # keeps the sum right should a runtime fuse the Pad into the pooling
    x = g.node("AveragePool", [x], count_include_pad=1, **window)
    if kind == "sum":
        factor = np.float32(pr * pc)
    elif any(extra):  # mean over the cells present: area / cells per window
        factor = (pr * pc / window_counts(conv_shape, pool))[None, None]
    else:
        return x
    return g.node("Mul", [x, g.const(f"{kind}_pool_factor", factor)])


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
        Batch norm folded into each block's ``Conv`` weights and bias, or as
        its own ``BatchNormalization`` node.

    Returns
    -------
    logits : str
        Name of the float32 logits, ``(n, n_outputs)``.
    """
    spec = network.spec
    if batch_norm not in BATCH_NORM_MODES:
        raise ValueError(f"batch_norm={batch_norm!r}; use one of {BATCH_NORM_MODES}")
    groups = split_params(network.params, spec)
    H, W, C = (int(s) for s in image_shape)
    shape = g.const("image_shape", [-1, H, W, C], np.int64)
    a = g.node("Reshape", [x, shape], hint="images_nhwc")  # (n, H, W, C)
    a = g.node("Transpose", [a], hint="images_nchw", perm=[0, 3, 1, 2])  # (n, C, H, W)
    for b, block in enumerate(spec.blocks):
        a = _conv(
            g,
            a,
            block,
            groups["filters"][b],
            groups["filter_intercepts"][b],
            _block_batch_norm(network, groups, b, batch_norm),
        )  # (n, F, Ho, Wo)
        a = g.activation(a, spec.activation)
        if spec.pooling is not None and block.pool is not None:
            a = _pool(g, a, spec.pooling, block.conv_shape, block.pool)
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
