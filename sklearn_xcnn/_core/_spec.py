"""A network's architecture with every size resolved, and the layout of its
parameters.

:func:`build_spec` turns the estimator parameters and an image shape into a
:class:`NetworkSpec`: per block the padding, kernel, stride, map and pooled
sizes and the correlation engine. The parameters of a network are one flat
list in a fixed order (see :mod:`._network`); :func:`param_shapes`,
:func:`split_params` and :func:`join_params` describe that order.
"""

import math
from typing import NamedTuple

import numpy as np

from ._kinds import BLOCK_KINDS
from ._loss import DEFAULT_LOSS, LOSSES
from ._units import BlockSpec  # noqa: F401  (re-exported: the block layout)


class NetworkSpec(NamedTuple):
    """Architecture of a network, everything needed besides the parameters."""

    blocks: tuple  # of BlockSpec
    pooling: str | None  # "max", "mean", "sum" or None
    activation: str
    layer_units: tuple  # (n_flat, *hidden_units, n_outputs)
    out_activation: str  # "logistic", "softmax" or "identity"
    loss: str  # a key of LOSSES: "log_loss" or "squared_error"
    global_pooling: str | None = None  # "mean", "max" or None
    dropout: float = 0.0  # rate on the input of every dense layer


def _per_block(value, n_blocks):
    """One value per block: a list is taken as given, anything else repeated."""
    return list(value) if isinstance(value, list) else [value] * n_blocks


def build_spec(
    image_shape,
    n_filters,
    kernel_size,
    stride,
    pool_size,
    pooling,
    hidden_units,
    activation,
    n_outputs,
    out_activation,
    algorithm="auto",
    *,
    loss=None,
    padding="valid",
    batch_norm=False,
    global_pooling=None,
    dropout=0.0,
    dilation=1,
    block="conv",
    block_depth=3,
    whole_kernels=False,
):
    """Resolve every size of a network for images of ``image_shape``.

    With 'valid' or explicit padding, kernels larger than the padded input are
    clipped to it; with 'same' padding they are clipped to the input, unless
    ``whole_kernels``. Pooling windows larger than the map are clipped to it.
    So any image of at least one pixel fits.

    Parameters
    ----------
    image_shape : (int, int, int)
        ``(H, W, C)``.
    n_filters : tuple of int
        Filters of each block.
    kernel_size, stride, pool_size : int, (int, int) or list of those
        A list holds one value per block; anything else serves every block.
        A block's ``kernel_size`` may also be a tuple of kernels, one per
        convolution of a residual unit (``block_depth`` of them) or per
        parallel branch of an inception module (three).
    pooling : {"max", "mean", "sum"} or None
    hidden_units : tuple of int
    activation : str
    n_outputs : int
    out_activation : {"logistic", "softmax", "identity"}
    algorithm : {"auto", "im2col", "scipy"}, default="auto"
    loss : {"log_loss", "squared_error"} or None, default=None
        The training loss (see :data:`._loss.LOSSES`); ``None`` takes the one
        that goes with ``out_activation``.
    padding : "valid", "same", int, (int, int) or list of those
        See :mod:`._pad`.
    batch_norm : bool, default=False
    global_pooling : {"mean", "max"} or None, default=None
    dropout : float, default=0.0
    dilation : int, (int, int) or list of those, default=1
        Spacing of the kernel taps of each block (see :mod:`._conv`).
    block : str or list of str, default="conv"
        The kind of each block, a key of :data:`._kinds.BLOCK_KINDS`. The
        compound kinds ("residual", "inception") pad 'same' at stride 1 and
        always normalise: ``stride``, ``padding`` and ``batch_norm`` apply
        to the "conv" blocks.
    block_depth : int or list of int, default=3
        Convolutions of a residual unit, modules of an inception block.
    whole_kernels : bool, default=False
        With 'same' padding, keep a kernel that spans more than its input
        whole instead of clipping it: the padding grows to ``kernel - 1``
        and the parameters' shapes do not depend on the input's size (the
        series estimators, which fit and predict series of any length).

    Returns
    -------
    spec : NetworkSpec
    """
    n_blocks = len(n_filters)
    names = ("n_filters", "kernel_size", "stride", "padding", "pool_size",
             "dilation", "kind", "depth")  # fmt: skip
    values = (n_filters, kernel_size, stride, padding, pool_size, dilation, block,
              block_depth)  # fmt: skip
    columns = [
        _per_block(v, n_blocks) if name != "n_filters" else list(v)
        for name, v in zip(names, values)
    ]
    common = {"pooling": pooling, "algorithm": algorithm, "batch_norm": batch_norm,
              "whole_kernels": bool(whole_kernels)}  # fmt: skip
    blocks = []
    shape = tuple(image_shape)
    for row in zip(*columns):
        entry = {**dict(zip(names, row)), **common}
        if entry["kind"] not in BLOCK_KINDS:
            raise ValueError(
                f"unknown block kind {entry['kind']!r}; use one of {tuple(BLOCK_KINDS)}"
            )
        spec_b = BLOCK_KINDS[entry["kind"]].build(shape, entry)
        blocks.append(spec_b)
        shape = spec_b.out_shape
    n_flat = shape[2] if global_pooling is not None else int(np.prod(shape))
    units = (n_flat, *hidden_units, n_outputs)
    loss = DEFAULT_LOSS[out_activation] if loss is None else loss
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; use one of {tuple(LOSSES)}")
    return NetworkSpec(
        tuple(blocks),
        pooling,
        activation,
        units,
        out_activation,
        loss,
        global_pooling,
        float(dropout),
    )


def has_batch_norm(spec):
    """Whether some block normalises its maps."""
    return any(F is not None for block in spec.blocks for F in block.norm_slots)


def n_conv_params(spec):
    """Number of entries in ``params`` that belong to convolutional blocks
    (batch-norm scales aside): a pair per convolution."""
    return 2 * sum(len(block.conv_units) for block in spec.blocks)


def n_weighted_params(spec):
    """Entries of ``params`` before the batch-norm scales: the pairs of
    weights and intercepts, whose even entries the L2 penalty covers."""
    return n_conv_params(spec) + 2 * (len(spec.layer_units) - 1)


def block_offsets(spec):
    """Per block, the ``(start, stop)`` of its filter/intercept pairs and of
    its batch-norm scales in ``params``, and of its entries in ``stats``."""
    pairs, scales, slots = 0, n_weighted_params(spec), 0
    offsets = []
    for block in spec.blocks:
        n_pairs = 2 * len(block.conv_units)
        n_slots = len(block.norm_slots)
        n_scales = sum(F is not None for F in block.norm_slots)
        offsets.append(((pairs, pairs + n_pairs), (scales, scales + n_scales),
                        (slots, slots + n_slots)))  # fmt: skip
        pairs, scales, slots = pairs + n_pairs, scales + n_scales, slots + n_slots
    return offsets


def param_shapes(spec):
    """Shapes of the parameters, in the documented order."""
    shapes = []
    for block in spec.blocks:
        for unit in block.conv_units:
            C = unit.in_shape[2]
            shapes += [(unit.n_filters, C, *unit.kernel), (unit.n_filters,)]
    for n_in, n_out in zip(spec.layer_units[:-1], spec.layer_units[1:]):
        shapes += [(n_in, n_out), (n_out,)]
    shapes += [(F,) for F in norm_slots(spec) if F is not None]
    return shapes


def norm_slots(spec):
    """Per batch norm of the network (None for a block without), its number
    of filters: the entries of ``stats``."""
    return [F for block in spec.blocks for F in block.norm_slots]


def init_stats(spec, dtype):
    """Initial batch-norm running statistics: per norm slot ``(zeros, ones)``
    of shape ``(F,)``, or None for a block without batch norm."""
    return [
        None if F is None else (np.zeros(F, dtype), np.ones(F, dtype))
        for F in norm_slots(spec)
    ]


def expand_stats(spec, means, variances):
    """The ``stats`` list from the running means and variances of the
    normalising slots only (None where a slot has no batch norm)."""
    kept = iter(zip(means, variances))
    return [None if F is None else next(kept) for F in norm_slots(spec)]


PARAM_GROUPS = ("filters", "filter_intercepts", "coefs", "intercepts")
BATCH_NORM_GROUP = "batch_norm_scales"


def split_params(params, spec):
    """The flat parameter list as named groups.

    Returns
    -------
    groups : dict of str to list of ndarray
        ``filters`` and ``filter_intercepts`` (one per convolution: one per
        "conv" block, several per compound block), ``coefs`` and
        ``intercepts`` (one per dense layer), the keys of
        :data:`PARAM_GROUPS`; with batch norm also ``batch_norm_scales`` (one
        per batch norm).
    """
    n_conv, n_weighted = n_conv_params(spec), n_weighted_params(spec)
    groups = {
        "filters": list(params[0:n_conv:2]),
        "filter_intercepts": list(params[1:n_conv:2]),
        "coefs": list(params[n_conv:n_weighted:2]),
        "intercepts": list(params[n_conv + 1 : n_weighted : 2]),
    }
    if has_batch_norm(spec):
        groups[BATCH_NORM_GROUP] = list(params[n_weighted:])
    return groups


def join_params(groups):
    """Inverse of :func:`split_params`: the flat list in the documented order."""
    conv = zip(groups["filters"], groups["filter_intercepts"])
    dense = zip(groups["coefs"], groups["intercepts"])
    flat = [a for pair in conv for a in pair] + [a for pair in dense for a in pair]
    return flat + list(groups.get(BATCH_NORM_GROUP) or [])


def pack(arrays, out=None):
    """Concatenate arrays into one flat vector (``out`` if given)."""
    if out is None:
        return np.concatenate([a.ravel() for a in arrays])
    start = 0
    for a in arrays:
        out[start : start + a.size] = a.ravel()
        start += a.size
    return out


def unpack(flat, shapes):
    """Views of ``flat`` with the given shapes (inverse of :func:`pack`)."""
    arrays, start = [], 0
    for shape in shapes:
        size = math.prod(shape)  # (np.prod costs microseconds a call)
        arrays.append(flat[start : start + size].reshape(shape))
        start += size
    return arrays
