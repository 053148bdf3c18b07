"""The whole network: architecture, forward and backward.

A network is described by a :class:`NetworkSpec` and its parameters by a flat
list in a fixed order::

    [filters_0, filter_intercepts_0, ..., filters_B, filter_intercepts_B,
     coefs_0, intercepts_0, ..., coefs_L, intercepts_L,
     batch_norm_scales_0, ..., batch_norm_scales_B]   # with batch norm only

with ``filters_b`` of shape ``(F, C, kr, kc)``, ``filter_intercepts_b`` and
``batch_norm_scales_b`` of shape ``(F,)``, ``coefs_l`` of shape
``(n_in, n_out)`` and ``intercepts_l`` of shape ``(n_out,)``. The last dense
layer is the output layer. Batch norm also keeps running statistics, which
are not parameters: ``stats`` holds ``(running_mean, running_var)`` per block.

A convolutional block pads its input once (:mod:`._pad`), correlates it
('valid' correlation of the padded images) and then computes
``pool(act(z + b))``, or ``pool(act(bn(z)))`` with batch norm, whose shift is
the filter intercept ``b``. For max pooling the block computes the equal
``act(maxpool(z) + b)`` (``act(maxpool(bn(z)))``) instead: the bias is one
number per filter and every activation is non-decreasing, so taking the
maximum first gives the same map while the bias and the activation touch only
the pooled cells. (Batch norm, whose scale may be negative, runs before the
maximum.) The correlation then returns its output in pool order (one
contiguous block per offset inside the pooling window), so the maximum is
elementwise over contiguous blocks.

After the blocks, ``global_pooling`` reduces each map to one value, or the
maps are flattened as filters x rows x cols; dense layers follow. While
training, dropout masks (drawn by the caller) multiply the input of every
dense layer.
"""

from typing import NamedTuple

import numpy as np

from ._activations import ACTIVATIONS, DERIVATIVES
from ._conv import (
    choose_engine,
    conv_output_size,
    correlate_backward,
    correlate_forward,
)
from ._init import init_params  # noqa: F401  (re-exported: part of the core API)
from ._loss import DEFAULT_LOSS, LOSSES
from ._norm import batch_norm_backward, batch_norm_forward
from ._pad import crop_padding, pad_images, padded_shape, resolve_padding
from ._pool import (
    global_pool_backward,
    global_pool_forward,
    max_pool_ordered,
    max_pool_ordered_backward,
    pool_backward,
    pool_forward,
    pool_output_size,
)


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


def _block_params(params, spec, b):
    """``(filters, intercepts, batch-norm scale or None)`` of block ``b``."""
    scale = params[n_weighted_params(spec) + b] if spec.blocks[b].batch_norm else None
    return params[2 * b], params[2 * b + 1], scale


def _block_forward(x, params, block, spec, keep_cache, stats, batch_stats):
    """One block: ``(n, H, W, C) -> (n, Hp, Wp, F)`` and its cache.

    While training (``keep_cache``) batch norm uses the batch's statistics and
    appends them to ``batch_stats`` (when a list); else the running ``stats``.
    """
    w, b, scale = params
    F = block.n_filters
    max_pool = spec.pooling == "max"
    x = pad_images(x, block.padding)
    # with max pooling, correlate in pool order: the max is taken over
    # contiguous blocks
    z, conv_cache = correlate_forward(
        x,
        w,
        block.stride,
        block.engine,
        keep_cache,
        pool_order=block.pool if max_pool else None,
    )
    bn_cache = None
    if block.batch_norm:
        normed, bn_cache, batch = batch_norm_forward(
            z.reshape(-1, F), scale, b, None if keep_cache else stats, keep_cache
        )
        if batch_stats is not None and batch is not None:
            batch_stats.append(batch)
        z = normed.reshape(z.shape)
    pool_cache = None
    if max_pool:
        layout = (x.shape[0], *block.conv_shape, *block.pool)
        z, argmax = max_pool_ordered(z, layout, keep_cache)
        pool_cache = (argmax, layout)
    if not block.batch_norm:
        z = np.add(z, b, out=z)
    a = ACTIVATIONS[spec.activation](z)
    out = a
    if spec.pooling in ("mean", "sum"):
        out, pool_cache = pool_forward(a, block.pool, spec.pooling)
    return out, ((conv_cache, bn_cache, a, pool_cache) if keep_cache else None)


def _block_backward(d, cache, block, spec, need_dx):
    """Back through one block: returns ``(dx, dw, db, dscale)``."""
    conv_cache, bn_cache, a_act, pool_cache = cache
    if spec.pooling in ("mean", "sum"):
        d = pool_backward(d, pool_cache)
    d = DERIVATIVES[spec.activation](a_act, d)
    db = dscale = None
    if not block.batch_norm:
        db = d.sum(axis=(0, 1, 2))
    if spec.pooling == "max":
        d = max_pool_ordered_backward(d, *pool_cache)
    if block.batch_norm:
        d_flat, dscale, db = batch_norm_backward(
            d.reshape(-1, block.n_filters), bn_cache
        )
        d = d_flat.reshape(d.shape)
    dx, dw = correlate_backward(d, conv_cache, need_dx)
    if dx is not None:
        dx = np.ascontiguousarray(crop_padding(dx, block.padding))
    return dx, dw, db, dscale


def forward(
    params, X, spec, keep_cache=False, *, stats=None, masks=None, batch_stats=None
):
    """Run the network up to the output logits.

    Parameters
    ----------
    params : list of ndarray
        In the documented order.
    X : ndarray of shape (n, H, W, C)
    spec : NetworkSpec
    keep_cache : bool, default=False
        Keep what :func:`backward` needs. This is the training mode: batch
        norm normalises with the batch's own statistics and ``masks`` apply.
    stats : list or None, default=None
        Per block, ``(running_mean, running_var)`` or None: what batch norm
        normalises with outside training (required then).
    masks : list of ndarray or None, default=None
        Dropout masks, one per dense layer, ``(n, n_in)``, already scaled
        (``0`` or ``1 / (1 - rate)``); applied only with ``keep_cache``.
    batch_stats : list or None, default=None
        While training with batch norm, receives each block's batch
        ``(mean, unbiased variance)``.

    Returns
    -------
    logits : ndarray of shape (n, n_outputs)
    cache : list or None
    """
    caches = []
    a = X
    for b, block in enumerate(spec.blocks):
        block_stats = None if stats is None else stats[b]
        a, cache = _block_forward(
            a,
            _block_params(params, spec, b),
            block,
            spec,
            keep_cache,
            block_stats,
            batch_stats,
        )
        caches.append(cache)
    if spec.global_pooling is not None:
        a, gp_cache = global_pool_forward(a, spec.global_pooling)  # (n, F)
        caches.append(gp_cache)
    else:
        # flatten as filters x rows x cols, the documented order of coefs_[0]
        a = a.transpose(0, 3, 1, 2).reshape(a.shape[0], -1)  # (n, F*Hp*Wp)
        caches.append(None)
    dense = params[n_conv_params(spec) : n_weighted_params(spec)]
    act = ACTIVATIONS[spec.activation]
    for i in range(0, len(dense), 2):
        mask = masks[i // 2] if (keep_cache and masks is not None) else None
        a_in = a if mask is None else a * mask
        caches.append((a_in, a, mask))
        z = a_in @ dense[i]
        z += dense[i + 1]
        a = z if i == len(dense) - 2 else act(z)
    return a, (caches if keep_cache else None)


def backward(delta, params, caches, spec):
    """Gradients of every parameter given the gradient at the logits.

    Parameters
    ----------
    delta : ndarray of shape (n, n_outputs)
    params : list of ndarray
    caches : list
        From :func:`forward` with ``keep_cache=True``.
    spec : NetworkSpec

    Returns
    -------
    grads : list of ndarray
        Same order and shapes as ``params``.
    """
    n_conv, n_weighted = n_conv_params(spec), n_weighted_params(spec)
    n_blocks = len(spec.blocks)
    grads = [None] * len(params)
    derivative = DERIVATIVES[spec.activation]
    for i in range(n_weighted - 2, n_conv - 2, -2):
        a_in, a_out, mask = caches[n_blocks + 1 + (i - n_conv) // 2]
        grads[i] = a_in.T @ delta  # (n_in, n_out)
        grads[i + 1] = delta.sum(axis=0)
        if i > n_conv or n_blocks:
            delta = delta @ params[i].T
            if mask is not None:
                delta *= mask
            if i > n_conv:
                delta = derivative(a_out, delta)
    if n_blocks == 0:
        return grads
    gp_cache = caches[n_blocks]
    if gp_cache is not None:
        d = global_pool_backward(delta, gp_cache)  # (n, Hp, Wp, F)
    else:
        Hp, Wp, F = spec.blocks[-1].out_shape
        d = delta.reshape(-1, F, Hp, Wp).transpose(0, 2, 3, 1)  # (n, Hp, Wp, F)
        d = np.ascontiguousarray(d)
    for b in range(n_blocks - 1, -1, -1):
        d, grads[2 * b], grads[2 * b + 1], dscale = _block_backward(
            d, caches[b], spec.blocks[b], spec, b > 0
        )
        if dscale is not None:
            grads[n_weighted + b] = dscale
    return grads


def loss_and_grad(
    params, X, Y, spec, alpha, sample_weight=None, *, masks=None, batch_stats=None
):
    """Regularised loss and its gradient for one batch.

    The loss is ``spec.loss`` (the weighted mean log loss or half the mean
    squared error, see :mod:`._loss`) plus
    ``0.5 * alpha * ||weights||^2 / sum(sample_weight)``, where the weights are
    the filters and dense coefficients (not the intercepts, nor the batch-norm
    scales), as in scikit-learn's MLP. The network runs in training mode
    (batch statistics, dropout ``masks``).

    Parameters
    ----------
    params : list of ndarray
    X : ndarray of shape (n, H, W, C)
    Y : ndarray of shape (n, n_outputs)
        Binary indicator targets, or real targets for the squared error.
    spec : NetworkSpec
    alpha : float
    sample_weight : ndarray of shape (n,) or None
    masks : list of ndarray or None, default=None
        Dropout masks, see :func:`forward`.
    batch_stats : list or None, default=None
        Receives the batch-norm batch statistics, see :func:`forward`.

    Returns
    -------
    loss : float
    grads : list of ndarray
    """
    logits, caches = forward(
        params, X, spec, keep_cache=True, masks=masks, batch_stats=batch_stats
    )
    loss, delta = LOSSES[spec.loss](logits, Y, sample_weight, spec.out_activation)
    grads = backward(delta, params, caches, spec)
    total = X.shape[0] if sample_weight is None else sample_weight.sum()
    return add_l2_penalty(params, loss, grads, alpha, total, spec)


def add_l2_penalty(params, loss, grads, alpha, total, spec=None):
    """Add ``0.5 * alpha * ||weights||^2 / total`` to ``loss`` and its
    gradient to ``grads`` (in place); intercepts and batch-norm scales are
    not penalised.

    Returns
    -------
    loss : float
    grads : list of ndarray
    """
    if alpha == 0:
        return loss, grads
    scale = alpha / total
    stop = len(params) if spec is None else n_weighted_params(spec)
    for i in range(0, stop, 2):  # weights sit at even positions
        w = params[i].ravel()
        loss += 0.5 * scale * float(w @ w)
        grads[i] += scale * params[i]
    return loss, grads


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
        size = int(np.prod(shape))
        arrays.append(flat[start : start + size].reshape(shape))
        start += size
    return arrays
