"""The whole network: forward and backward passes.

A network is described by a :class:`~._spec.NetworkSpec` (see :mod:`._spec`)
and its parameters by a flat list in a fixed order::

    [filters_0, filter_intercepts_0, ..., filters_K, filter_intercepts_K,
     coefs_0, intercepts_0, ..., coefs_L, intercepts_L,
     batch_norm_scales_0, ..., batch_norm_scales_N]   # with batch norm only

with one ``(filters, intercepts)`` pair per convolution (one per "conv"
block, several per compound block, in the blocks' order, see
:mod:`._kinds`), ``filters_k`` of shape ``(F, C, kr, kc)``,
``filter_intercepts_k`` and ``batch_norm_scales_n`` of shape ``(F,)``,
``coefs_l`` of shape ``(n_in, n_out)`` and ``intercepts_l`` of shape
``(n_out,)``. The last dense layer is the output layer. Batch norm also keeps
running statistics, which are not parameters: ``stats`` holds ``(running_mean,
running_var)`` per norm slot (:func:`._spec.norm_slots`: one per "conv"
block, None without batch norm, one per batch norm of a compound block).

Each block runs through its kind (:data:`._kinds.BLOCK_KINDS`): the plain
convolutional block of :mod:`._plain`, the residual unit of
:mod:`._residual` or the inception block of :mod:`._inception`.

After the blocks, ``global_pooling`` reduces each map to one value, or the
maps are flattened as filters x rows x cols; dense layers follow. While
training, dropout masks (drawn by the caller) multiply the input of every
dense layer.

A batch of images padded to one shape carries the mask of its valid cells
(``valid``, see :mod:`._mask`): the input and every block's output are
zero at the padded cells, batch norm and global pooling leave them out, so
that each image computes what it computes alone, when the network keeps
the size of its maps (:func:`._mask.keeps_length`).
"""

import numpy as np
from scipy.linalg.blas import get_blas_funcs

from ._activations import ACTIVATIONS, DERIVATIVES
from ._init import init_params  # noqa: F401  (re-exported: part of the core API)
from ._kinds import BLOCK_KINDS, Context
from ._loss import LOSSES
from ._mask import keeps_length, zero_padding
from ._norm import fold_batch_norm
from ._pool import global_pool_backward, global_pool_forward, pool_forward
from ._spec import (  # noqa: F401  (re-exported: the network's layout)
    BATCH_NORM_GROUP,
    PARAM_GROUPS,
    BlockSpec,
    NetworkSpec,
    block_offsets,
    build_spec,
    expand_stats,
    has_batch_norm,
    init_stats,
    join_params,
    n_conv_params,
    n_weighted_params,
    norm_slots,
    pack,
    param_shapes,
    split_params,
    unpack,
)
from ._units import conv_unit


def forward(
    params,
    X,
    spec,
    keep_cache=False,
    *,
    stats=None,
    masks=None,
    batch_stats=None,
    sample_weight=None,
    combine=None,
    valid=None,
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
        Per norm slot (one per "conv" block, one per batch norm of a compound
        block, see :func:`._spec.norm_slots`), ``(running_mean,
        running_var)`` or None: what batch norm normalises with outside
        training (required then).
    masks : list of ndarray or None, default=None
        Dropout masks, one per dense layer, ``(n, n_in)``, already scaled
        (``0`` or ``1 / (1 - rate)``); applied only with ``keep_cache``.
    batch_stats : list or None, default=None
        While training with batch norm, receives the batch ``(mean,
        unbiased variance)`` of each batch norm, in the order of ``stats``.
    sample_weight : ndarray of shape (n,) or None, default=None
        While training, the weights of the batch statistics of batch norm.
    combine : callable or None, default=None
        While training on one part of a batch split over the cores, what
        turns the part's batch-norm statistics into the whole batch's (see
        :func:`._norm.batch_norm_forward`); :func:`backward` combines the
        gradient sums of batch norm the same way.
    valid : ndarray of shape (n, H, W) of bool or None, default=None
        The cells of ``X`` that are not padding, for images of several
        shapes padded to one (see :mod:`._mask`); the network must keep the
        size of its maps. None: every cell counts.

    Returns
    -------
    logits : ndarray of shape (n, n_outputs)
    cache : list or None
    """
    caches = []
    if valid is not None and not keeps_length(spec):
        raise ValueError(
            "a masked batch (images padded to one shape) needs a network whose "
            "blocks keep the size of their maps (stride 1, 'same' padding, no "
            "pooling) and end in global pooling"
        )
    a = zero_padding(X, valid)
    for block, (pairs, scales, slots) in zip(spec.blocks, block_offsets(spec)):
        ctx = Context(
            keep_cache,
            None if stats is None else stats[slice(*slots)],
            batch_stats,
            sample_weight,
            combine,
            valid,
        )
        params_b = (params[slice(*pairs)], params[slice(*scales)])
        a, cache = BLOCK_KINDS[block.kind].forward(a, params_b, block, spec, ctx)
        a = zero_padding(a, valid)
        caches.append(cache)
    if spec.global_pooling is not None:
        a, head_cache = global_pool_forward(a, spec.global_pooling, valid)  # (n, F)
    else:
        head_cache = a.shape  # (n, Hp, Wp, F): what backward unflattens to
        # flatten as filters x rows x cols, the documented order of coefs_[0]
        a = a.transpose(0, 3, 1, 2).reshape(a.shape[0], -1)  # (n, F*Hp*Wp)
    caches.append(head_cache)
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


def fold_network(params, spec, stats):
    """The network as it predicts, with batch norm folded into the blocks.

    At prediction batch norm is a fixed affine map per filter (the running
    ``stats``), so it folds into the filters and intercepts of the
    convolution before it (see :func:`fold_block`). The folded network
    computes the same logits in either mode of :func:`forward`; its
    ``keep_cache=True`` pass without dropout masks is the prediction with
    the caches that :func:`backward` needs (for the gradient of a
    prediction with respect to the input, say).

    Returns
    -------
    params : list of ndarray
        Without the batch-norm scales of "conv" blocks. A compound block
        keeps its scales in place (its layout counts one per norm slot),
        but none of its convolutions reads them any more.
    spec : NetworkSpec
        Every convolution with ``batch_norm=False``.
    """
    if not has_batch_norm(spec):
        return list(params), spec
    pairs, scales, blocks = [], [], []
    for block, (p, s, slots) in zip(spec.blocks, block_offsets(spec)):
        block_pairs, block_scales, block = fold_block(
            params[slice(*p)], params[slice(*s)], stats[slice(*slots)], block
        )
        pairs += block_pairs
        scales += block_scales
        blocks.append(block)
    dense = list(params[n_conv_params(spec) : n_weighted_params(spec)])
    return pairs + dense + scales, spec._replace(blocks=tuple(blocks))


def fold_block(pairs, scales, stats, block):
    """One block as it predicts: batch norm folded into its convolutions.

    Every convolution followed by batch norm gets the filters and
    intercepts of :func:`._norm.fold_batch_norm` and ``batch_norm=False``.
    The shortcut of a residual unit whose channel count does not change is
    batch norm alone, ``g * (x - mean)`` per channel with ``g = scale /
    sqrt(var + eps)``: it becomes a 1x1 convolution with the diagonal
    filters ``g`` and the intercepts ``-mean * g``, appended to the pairs.

    Parameters
    ----------
    pairs : list of ndarray
        The block's ``[filters, intercepts, ...]``, one pair per convolution
        (``block.conv_units``).
    scales : list of ndarray
        Its batch-norm scales, one per normalising slot.
    stats : list
        Its running ``(mean, var)`` per norm slot (None where none).
    block : BlockSpec, ResidualSpec or InceptionSpec

    Returns
    -------
    pairs : list of ndarray
    scales : list of ndarray
        Empty for a "conv" block; a compound block's, unchanged, which
        nothing reads once folded.
    block : spec of the block
        Without batch norm.
    """
    if not any(F is not None for F in block.norm_slots):
        return list(pairs), list(scales), block
    folded = list(pairs)
    slots = iter(range(len(scales)))  # the norm slots, in the units' order
    for u, unit in enumerate(block.conv_units):
        if unit.batch_norm:
            i = next(slots)
            w, b = pairs[2 * u : 2 * u + 2]
            folded[2 * u : 2 * u + 2] = fold_batch_norm(w, b, scales[i], stats[i])
    folded_block = _without_batch_norm(block)
    for i in slots:  # a residual unit's shortcut of batch norm alone
        F = block.n_filters
        eye = np.eye(F, dtype=scales[i].dtype).reshape(F, F, 1, 1)
        folded += fold_batch_norm(eye, np.zeros_like(scales[i]), scales[i], stats[i])
        unit = conv_unit(block.in_shape, F, 1, "same",
                         (block.convs[0].engine, False))  # fmt: skip
        folded_block = folded_block._replace(shortcut=unit)
    return folded, ([] if block.kind == "conv" else list(scales)), folded_block


def _without_batch_norm(part):
    """``part`` of a block spec with every convolution's batch norm off."""
    if isinstance(part, BlockSpec):
        return part._replace(batch_norm=False)
    if isinstance(part, tuple):
        items = [_without_batch_norm(p) for p in part]
        return type(part)(*items) if hasattr(part, "_fields") else tuple(items)
    return part


def block_maps(x, params, block, spec):
    """One block of a network without batch norm (see :func:`fold_network`)
    as it predicts: its activated maps before pooling, and its output.

    Parameters
    ----------
    x : ndarray of shape (n, H, W, C)
    params : (list, list)
        The block's pairs and scales, as :func:`fold_block` returns them.
    block : spec of the block, without batch norm
    spec : NetworkSpec

    Returns
    -------
    activated : ndarray of shape (n, Ho, Wo, F)
        After the activation (a compound block's: of the sum of its main
        path and its shortcut), before pooling.
    out : ndarray of shape (n, Hp, Wp, F)
        ``activated`` pooled as the block pools (``activated`` itself
        without pooling).
    """
    # the same block with its pooling left out; max pooling commutes with
    # the bias and the (non-decreasing) activation, so pooling after them
    # gives the block's own output
    unpooled = spec._replace(pooling=None)
    ctx = Context(False, None, None, None, None)
    kind = BLOCK_KINDS[block.kind]
    activated, _ = kind.forward(x, params, block._replace(pool=None), unpooled, ctx)
    if spec.pooling is None:
        return activated, activated
    return activated, pool_forward(activated, block.pool, spec.pooling)[0]


def network_block_maps(params, X, spec):
    """:func:`block_maps` of every block of a network without batch norm.

    Returns
    -------
    maps : list of (ndarray, ndarray)
        Per block, its activated maps ``(n, Ho, Wo, F)`` and its output
        ``(n, Hp, Wp, F)``.
    """
    maps, a = [], X
    for block, (pairs, scales, _) in zip(spec.blocks, block_offsets(spec)):
        params_b = (params[slice(*pairs)], params[slice(*scales)])
        activated, a = block_maps(a, params_b, block, spec)
        maps.append((activated, a))
    return maps


def backward(delta, params, caches, spec, input_grad=False):
    """Gradients of every parameter given the gradient at the logits.

    Parameters
    ----------
    delta : ndarray of shape (n, n_outputs)
    params : list of ndarray
    caches : list
        From :func:`forward` with ``keep_cache=True``.
    spec : NetworkSpec
    input_grad : bool, default=False
        Also return the gradient with respect to the input images: the first
        block then forms its input gradient too (which training skips, see
        :func:`._conv.correlate_backward`).

    Returns
    -------
    grads : list of ndarray
        Same order and shapes as ``params``.
    dX : ndarray of shape (n, H, W, C)
        With ``input_grad`` only: ``sum(delta * logits)`` differentiated with
        respect to ``X``, in the mode :func:`forward` ran in (batch
        statistics and dropout masks while training).
    """
    n_conv, n_weighted = n_conv_params(spec), n_weighted_params(spec)
    n_blocks = len(spec.blocks)
    grads = [None] * len(params)
    derivative = DERIVATIVES[spec.activation]
    for i in range(n_weighted - 2, n_conv - 2, -2):
        a_in, a_out, mask = caches[n_blocks + 1 + (i - n_conv) // 2]
        grads[i] = a_in.T @ delta  # (n_in, n_out)
        grads[i + 1] = delta.sum(axis=0)
        if i > n_conv or n_blocks or input_grad:
            delta = delta @ params[i].T
            if mask is not None:
                delta *= mask
            if i > n_conv:
                delta = derivative(a_out, delta)
    if n_blocks == 0 and not input_grad:
        return grads
    d = _unflatten(delta, caches[n_blocks], spec)  # (n, Hp, Wp, F)
    offsets = block_offsets(spec)
    # a masked batch's mask, kept by global pooling (zero there already)
    valid = caches[n_blocks][3] if spec.global_pooling is not None else None
    for b in range(n_blocks - 1, -1, -1):
        block = spec.blocks[b]
        (pairs, scales, _) = offsets[b]
        d, grads[slice(*pairs)], grads[slice(*scales)] = BLOCK_KINDS[
            block.kind
        ].backward(d, caches[b], block, spec, b > 0 or input_grad)
        if d is not None and valid is not None:  # the padded input is zero
            d = zero_padding(d, valid.reshape(d.shape[:3]))
    return (grads, d) if input_grad else grads


def _unflatten(delta, head_cache, spec):
    """The gradient at the flattened (or globally pooled) maps, ``(n,
    n_flat)``, as a gradient at the maps themselves, ``(n, Hp, Wp, F)``."""
    if spec.global_pooling is not None:
        return global_pool_backward(delta, head_cache)
    n, Hp, Wp, F = head_cache
    d = delta.reshape(n, F, Hp, Wp).transpose(0, 2, 3, 1)  # (n, Hp, Wp, F)
    return np.ascontiguousarray(d)


def loss_and_grad(
    params,
    X,
    Y,
    spec,
    alpha,
    sample_weight=None,
    *,
    masks=None,
    batch_stats=None,
    combine=None,
    valid=None,
):
    """Regularised loss and its gradient for one batch.

    The loss is ``spec.loss`` (the weighted mean log loss or half the mean
    squared error, see :mod:`._loss`) plus
    ``0.5 * alpha * ||weights||^2 / sum(sample_weight)``, where the weights are
    the filters and dense coefficients (not the intercepts, nor the batch-norm
    scales), as in scikit-learn's MLP. The network runs in training mode
    (batch statistics weighted by ``sample_weight``, dropout ``masks``).

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
    combine : callable or None, default=None
        Batch-norm statistics over a split batch, see :func:`forward`.
    valid : ndarray of shape (n, H, W) of bool or None, default=None
        The cells that are not padding, see :func:`forward`.

    Returns
    -------
    loss : float
    grads : list of ndarray
    """
    logits, caches = forward(
        params,
        X,
        spec,
        keep_cache=True,
        masks=masks,
        batch_stats=batch_stats,
        sample_weight=sample_weight,
        combine=combine,
        valid=valid,
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
        add_scaled(grads[i], params[i], scale)
    return loss, grads


def add_scaled(target, x, a):
    """``target += a * x`` in place, through BLAS's axpy when ``target`` is
    contiguous: one pass, without a temporary the size of ``x``."""
    flat = target.reshape(-1)
    if not np.shares_memory(flat, target):  # not contiguous: reshape copied
        target += a * x
        return target
    out = get_blas_funcs("axpy", (flat,))(
        x.reshape(-1).astype(flat.dtype, copy=False), flat, a=a
    )
    if not np.shares_memory(out, flat):  # BLAS worked on a copy
        flat[...] = out
    return target
