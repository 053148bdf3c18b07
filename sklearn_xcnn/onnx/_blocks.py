"""The graph of each block kind, keyed by kind in :data:`BLOCK_WRITERS`.

A block writer turns one block of the core's spec (``spec.blocks[b]``, see
:mod:`sklearn_xcnn._core._kinds`) into ONNX nodes, on maps ``(n, C, H, W)``
(ONNX's NCHW; the core runs channels last, the graph transposes once at
entry), and returns the name of its output maps ``(n, F, Hp, Wp)``. It takes
its parameters in the core's order from a :class:`BlockParams`:

* ``"conv"``: ``Conv`` (zero padding in its ``pads``) [-> batch norm] ->
  activation [-> ``Pad`` -> ``MaxPool`` | ``AveragePool`` [-> ``Mul``]];
* ``"residual"``: per convolution ``Conv`` -> batch norm, the activation
  between them; the shortcut (a 1x1 ``Conv`` -> batch norm where the channel
  count changes, batch norm with no shift where it does not); ``Add`` ->
  activation -> pooling;
* ``"inception"``: per module the bottleneck ``Conv`` (1x1, plain bias, when
  the module has one), a ``Conv`` -> batch norm per kernel on it, ``Pad``
  (minus infinity) -> ``MaxPool`` at stride 1 -> 1x1 ``Conv`` -> batch norm
  on the module's input, ``Concat`` -> activation; after the modules the
  shortcut's 1x1 ``Conv`` -> batch norm on the block's input, ``Add`` ->
  activation -> pooling.

Each convolution's kernel is the shape of its filters, its padding, stride
and dilation those the core resolved for it. Batch norm at prediction is an
affine map per filter with the running statistics, ``scale * (z - mean) /
sqrt(var + eps) + shift``: folded into the ``Conv`` weights and bias
(``"fold"``; batch norm alone becomes ``Mul`` -> ``Add``) or kept as a
``BatchNormalization`` node (``"node"``).

Pooling keeps partial windows at the bottom and right edges. Rather than
``ceil_mode`` (runtimes disagree on it), the map is padded so that every
window is whole: with ``-inf`` for max pooling, with zeros for sum and mean
pooling. Sum pooling is the average of the whole window times its area (ONNX
has no sum pooling, and ``LpPool`` with ``p=1`` would sum absolute values),
mean pooling that sum divided by the number of cells each window really has,
a constant map computed here.
"""

from typing import NamedTuple

import numpy as np

from .._core._norm import BN_EPSILON
from .._core._pad import same_padding
from .._core._pool import pool_output_size, window_counts


class BlockParams:
    """Hands out a block's parameters in the core's order.

    Parameters
    ----------
    pairs : list of ndarray
        The block's ``[filters, intercepts, filters, intercepts, ...]``.
    scales : list of ndarray
        The block's batch-norm scales, one per batch norm.
    stats : list or None
        The block's running ``(mean, var)``, one per norm slot.
    mode : {"fold", "node"}
    where : str
        Names the block in errors.
    """

    def __init__(self, pairs, scales, stats, mode, where):
        self.pairs, self.scales, self.mode, self.where = pairs, scales, mode, where
        self.stats = [s for s in (stats or []) if s is not None]
        self.i = self.j = 0

    def norm(self):
        """``(mode, scale, (mean, var))`` of the next batch norm."""
        if self.j >= len(self.stats):
            raise ValueError(
                f"{self.where} normalises its maps but the model holds no running "
                "statistics for it; refit the model."
            )
        scale, stats = self.scales[self.j], self.stats[self.j]
        self.j += 1
        return self.mode, scale, stats

    def unit(self, normalised=True):
        """``(filters, intercepts, batch norm or None)`` of the next
        convolution."""
        w, b = self.pairs[self.i : self.i + 2]
        self.i += 2
        return w, b, (self.norm() if normalised else None)


# ------------------------------------------------------------------- layers
def write_unit(g, x, unit, w, b, norm):
    """One convolution, batch norm included: ``(n, F, Ho, Wo)``.

    ``unit`` is the convolution's BlockSpec (padding, stride, dilation);
    the kernel is read from ``w`` (F, C, kr, kc). ``norm`` is None without
    batch norm, else ``(mode, scale, (mean, var))``.
    """
    (top, bottom), (left, right) = unit.padding
    conv = dict(
        kernel_shape=[int(k) for k in w.shape[2:]],
        strides=[int(s) for s in unit.stride],
        pads=[int(top), int(left), int(bottom), int(right)],
        dilations=[int(d) for d in unit.dilation],
    )
    if norm is None:
        w, b = g.const("filters", w), g.const("filter_intercepts", b)
        return g.node("Conv", [x, w, b], **conv)
    mode, scale, (mean, var) = norm
    if mode == "node":
        z = g.node("Conv", [x, g.const("filters", w)], **conv)
        return _batch_norm_node(g, z, scale, b, mean, var)
    # fold: scale * (z - mean) / sqrt(var + eps) + b == gain * z + (b - gain * mean)
    gain, shift = _affine(scale, b, mean, var)
    w = g.const("folded_filters", w * gain[:, None, None, None])
    return g.node("Conv", [x, w, g.const("folded_intercepts", shift)], **conv)


def _affine(scale, shift, mean, var):
    """``(gain, offset)`` of batch norm at prediction, in float64."""
    scale, shift, mean, var = (
        np.asarray(v, dtype=np.float64) for v in (scale, shift, mean, var)
    )
    gain = scale / np.sqrt(var + BN_EPSILON)
    return gain, shift - gain * mean


def _batch_norm_node(g, z, scale, shift, mean, var):
    inputs = [z] + [
        g.const(hint, value)
        for hint, value in (
            ("batch_norm_scale", scale),
            ("filter_intercepts", shift),
            ("running_mean", mean),
            ("running_var", var),
        )
    ]
    return g.node("BatchNormalization", inputs, epsilon=BN_EPSILON)


def write_norm(g, x, norm):
    """Batch norm alone, with no shift, on ``x`` (n, F, H, W)."""
    mode, scale, (mean, var) = norm
    zero = np.zeros_like(np.asarray(scale))
    if mode == "node":
        return _batch_norm_node(g, x, scale, zero, mean, var)
    gain, offset = _affine(scale, zero, mean, var)
    x = g.node("Mul", [x, g.const("norm_gain", gain[:, None, None])])
    return g.node("Add", [x, g.const("norm_offset", offset[:, None, None])])


def write_pool(g, x, kind, conv_shape, pool):
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


def write_same_max_pool(g, x, window):
    """Max pooling at stride 1 keeping the size, the ``window`` (pr, pc)
    placed as a 'same' correlation places its kernel, cells off the edge left
    out: a ``Pad`` with minus infinity (amounts that do not depend on the
    map's size), then ``MaxPool``."""
    # at stride 1 the 'same' padding is k - 1 cells whatever the size
    (t, b), (left, r) = (same_padding(k, k, 1) for k in window)
    if t or b or left or r:
        pads = g.const("same_pool_pads", [0, 0, t, left, 0, 0, b, r], np.int64)
        fill = g.const("pool_fill", -np.inf)
        x = g.node("Pad", [x, pads, fill], hint="padded", mode="constant")
    return g.node("MaxPool", [x], kernel_shape=list(window), strides=[1, 1])


def _join(g, h, s, block, spec):
    """``pool(act(h + s))``: the end of a compound block."""
    a = g.activation(g.node("Add", [h, s], hint="joined"), spec.activation)
    if spec.pooling is None or block.pool is None:
        return a
    return write_pool(g, a, spec.pooling, block.conv_shape, block.pool)


# ------------------------------------------------------------ block writers
def write_conv(g, x, block, spec, params):
    """The ``"conv"`` block: ``pool(act(bn(conv(x))))``."""
    a = write_unit(g, x, block, *params.unit(block.batch_norm))
    a = g.activation(a, spec.activation)
    if spec.pooling is not None and block.pool is not None:
        a = write_pool(g, a, spec.pooling, block.conv_shape, block.pool)
    return a


def write_residual(g, x, block, spec, params):
    """The ``"residual"`` unit (see :mod:`sklearn_xcnn._core._residual`)."""
    h = x
    for i, unit in enumerate(block.convs):
        h = write_unit(g, h, unit, *params.unit())
        if i < len(block.convs) - 1:
            h = g.activation(h, spec.activation)
    if block.shortcut is None:
        s = write_norm(g, x, params.norm())
    else:
        s = write_unit(g, x, block.shortcut, *params.unit())
    return _join(g, h, s, block, spec)


def write_inception(g, x, block, spec, params):
    """The ``"inception"`` block (see :mod:`sklearn_xcnn._core._inception`)."""
    h = x
    for module in block.modules:
        inner = h
        if module.bottleneck is not None:
            inner = write_unit(g, h, module.bottleneck, *params.unit(False))
        branches = [write_unit(g, inner, unit, *params.unit())
                    for unit in module.branches]  # fmt: skip
        pooled = write_same_max_pool(g, h, module.pool_window)
        branches.append(write_unit(g, pooled, module.pool_conv, *params.unit()))
        h = g.node("Concat", branches, hint="module", axis=1)  # (n, 4F, H, W)
        h = g.activation(h, spec.activation)
    s = write_unit(g, x, block.shortcut, *params.unit())
    return _join(g, h, s, block, spec)


class BlockWriter(NamedTuple):
    """The graph of one block kind and the spec fields it knows."""

    write: object  # write(g, x, block, spec, params) -> output name
    fields: frozenset  # the block spec's fields the writer reproduces


# the fields of a convolution's BlockSpec (a "conv" block, or a part of a
# compound block) that the writers reproduce
UNIT_FIELDS = frozenset({
    "in_shape", "n_filters", "kernel", "stride", "padding", "conv_shape", "pool",
    "out_shape", "engine", "batch_norm", "dilation", "kind",
})  # fmt: skip
_COMPOUND = {"in_shape", "n_filters", "shortcut", "conv_shape", "pool", "out_shape",
             "kind"}  # fmt: skip

BLOCK_WRITERS = {
    "conv": BlockWriter(write_conv, UNIT_FIELDS),
    "residual": BlockWriter(write_residual, frozenset(_COMPOUND | {"convs"})),
    "inception": BlockWriter(write_inception, frozenset(_COMPOUND | {"modules"})),
}
# the fields of an inception module the writer reproduces
MODULE_FIELDS = frozenset({"bottleneck", "branches", "pool_window", "pool_conv"})
