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

from ._conv import choose_engine, conv_output_size
from ._loss import DEFAULT_LOSS, LOSSES
from ._pad import padded_shape, resolve_padding
from ._pool import pool_output_size


class BlockSpec(NamedTuple):
    """One convolutional block, with every size resolved."""

    in_shape: tuple  # (H, W, C) of the block input, before padding
    n_filters: int
    kernel: tuple  # (kr, kc), clipped to the (padded) input
    stride: tuple  # (sr, sc)
    conv_shape: tuple  # (Ho, Wo) of the feature maps
    pool: tuple | None  # (pr, pc), clipped to the feature maps, or None
    out_shape: tuple  # (Hp, Wp, F) of the block output
    engine: str  # "im2col" or "scipy"
    padding: tuple = ((0, 0), (0, 0))  # ((top, bottom), (left, right)) zeros
    batch_norm: bool = False


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


def _pair(value):
    return (value, value) if np.ndim(value) == 0 else tuple(int(v) for v in value)


def _per_block(value, n_blocks):
    """One value per block: a list is taken as given, anything else repeated."""
    return list(value) if isinstance(value, list) else [value] * n_blocks


def _block_spec(shape, n_f, kernel_size, stride, padding, pool, pooling, options):
    """Resolve one block's sizes for an input of ``shape`` (H, W, C)."""
    H, W, _ = shape
    strides = _pair(stride)
    if padding == "same":  # a kernel larger than the image is clipped to it
        kernel = tuple(min(k, s) for k, s in zip(_pair(kernel_size), (H, W)))
        pads = resolve_padding(padding, (H, W), kernel, strides)
    else:  # explicit zeros: kernels are clipped to the padded input
        pads = resolve_padding(padding, (H, W), _pair(kernel_size), strides)
        size = padded_shape((H, W), pads)
        kernel = tuple(min(k, s) for k, s in zip(_pair(kernel_size), size))
    size = padded_shape((H, W), pads)
    conv = tuple(conv_output_size(*a) for a in zip(size, kernel, strides))
    if pooling is None:
        window, out = None, conv
    else:
        window = tuple(min(p, s) for p, s in zip(_pair(pool), conv))
        out = tuple(pool_output_size(*a) for a in zip(conv, window))
    algorithm, batch_norm = options
    in_padded = (*size, shape[2])
    engine = (
        choose_engine(in_padded, kernel, strides) if algorithm == "auto" else algorithm
    )
    return BlockSpec(
        shape, n_f, kernel, strides, conv, window, (*out, n_f), engine, pads, batch_norm
    )


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
):
    """Resolve every size of a network for images of ``image_shape``.

    With 'valid' or explicit padding, kernels larger than the padded input are
    clipped to it; with 'same' padding they are clipped to the input. Pooling
    windows larger than the map are clipped to it. So any image of at least
    one pixel fits.

    Parameters
    ----------
    image_shape : (int, int, int)
        ``(H, W, C)``.
    n_filters : tuple of int
        Filters of each block.
    kernel_size, stride, pool_size : int, (int, int) or list of those
        A list holds one value per block; anything else serves every block.
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

    Returns
    -------
    spec : NetworkSpec
    """
    n_blocks = len(n_filters)
    per_block = zip(
        n_filters,
        _per_block(kernel_size, n_blocks),
        _per_block(stride, n_blocks),
        _per_block(padding, n_blocks),
        _per_block(pool_size, n_blocks),
    )
    blocks = []
    shape = tuple(image_shape)
    for n_f, kernel, step, pads, pool in per_block:
        block = _block_spec(
            shape, n_f, kernel, step, pads, pool, pooling, (algorithm, batch_norm)
        )
        blocks.append(block)
        shape = block.out_shape
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
    """Whether the blocks normalise their maps."""
    return any(block.batch_norm for block in spec.blocks)


def n_conv_params(spec):
    """Number of entries in ``params`` that belong to convolutional blocks
    (batch-norm scales aside)."""
    return 2 * len(spec.blocks)


def n_weighted_params(spec):
    """Entries of ``params`` before the batch-norm scales: the pairs of
    weights and intercepts, whose even entries the L2 penalty covers."""
    return 2 * len(spec.blocks) + 2 * (len(spec.layer_units) - 1)


def param_shapes(spec):
    """Shapes of the parameters, in the documented order."""
    shapes = []
    for block in spec.blocks:
        C = block.in_shape[2]
        shapes += [(block.n_filters, C, *block.kernel), (block.n_filters,)]
    for n_in, n_out in zip(spec.layer_units[:-1], spec.layer_units[1:]):
        shapes += [(n_in, n_out), (n_out,)]
    if has_batch_norm(spec):
        shapes += [(block.n_filters,) for block in spec.blocks]
    return shapes


def init_stats(spec, dtype):
    """Initial batch-norm running statistics: per block ``(zeros, ones)`` of
    shape ``(F,)``, or None for a block without batch norm."""
    return [
        (np.zeros(b.n_filters, dtype), np.ones(b.n_filters, dtype))
        if b.batch_norm
        else None
        for b in spec.blocks
    ]


PARAM_GROUPS = ("filters", "filter_intercepts", "coefs", "intercepts")
BATCH_NORM_GROUP = "batch_norm_scales"


def split_params(params, spec):
    """The flat parameter list as named groups.

    Returns
    -------
    groups : dict of str to list of ndarray
        ``filters`` and ``filter_intercepts`` (one per block), ``coefs`` and
        ``intercepts`` (one per dense layer), the keys of
        :data:`PARAM_GROUPS`; with batch norm also ``batch_norm_scales`` (one
        per block).
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
