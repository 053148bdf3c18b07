"""The whole network: forward and backward passes.

A network is described by a :class:`~._spec.NetworkSpec` (see :mod:`._spec`)
and its parameters by a flat list in a fixed order::

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

import numpy as np
from scipy.linalg.blas import get_blas_funcs

from ._activations import ACTIVATIONS, DERIVATIVES
from ._conv import correlate_backward, correlate_forward
from ._init import init_params  # noqa: F401  (re-exported: part of the core API)
from ._loss import LOSSES
from ._norm import (
    batch_norm_backward,
    batch_norm_forward,
    batch_norm_max_pool_backward,
    batch_norm_max_pool_forward,
    fold_batch_norm,
)
from ._pad import crop_padding, pad_images
from ._pool import (
    global_pool_backward,
    global_pool_forward,
    max_pool_ordered,
    max_pool_ordered_backward,
    pool_backward,
    pool_forward,
    window_offsets,
)
from ._spec import (  # noqa: F401  (re-exported: the network's layout)
    BATCH_NORM_GROUP,
    PARAM_GROUPS,
    BlockSpec,
    NetworkSpec,
    build_spec,
    has_batch_norm,
    init_stats,
    join_params,
    n_conv_params,
    n_weighted_params,
    pack,
    param_shapes,
    split_params,
    unpack,
)


def _block_params(params, spec, b):
    """``(filters, intercepts, batch-norm scale or None)`` of block ``b``."""
    scale = params[n_weighted_params(spec) + b] if spec.blocks[b].batch_norm else None
    return params[2 * b], params[2 * b + 1], scale


def _cell_weights(sample_weight, block, pool_order):
    """The sample weight of every row of a block's correlation output, in
    its row order: ``(n, Ho, Wo)`` or pool order (see :mod:`._pool`)."""
    Ho, Wo = block.conv_shape
    if not pool_order:
        return np.repeat(sample_weight, Ho * Wo)
    offsets = window_offsets(block.conv_shape, block.pool)
    return np.concatenate(
        [np.repeat(sample_weight, rows * cols) for _, _, _, rows, cols in offsets]
    )


def _block_forward(
    x, params, block, spec, keep_cache, stats, batch_stats, weights, combine
):
    """One block: ``(n, H, W, C) -> (n, Hp, Wp, F)`` and its cache.

    While training (``keep_cache``) batch norm uses the batch's statistics,
    weighted by the samples' ``weights`` (n,) when given and combined over
    the parts of a split batch by ``combine`` (see
    :func:`._norm.batch_norm_forward`), and appends them to ``batch_stats``
    (when a list); else the running ``stats``.
    """
    w, b, scale = params
    F = block.n_filters
    max_pool = spec.pooling == "max"
    batch_norm = block.batch_norm
    if batch_norm and not keep_cache:
        # at prediction batch norm is a fixed affine map per filter: folded
        # into the filters and intercepts, the block runs as one without it
        w, b = fold_batch_norm(w, b, scale, stats)
        batch_norm = False
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
    bn_cache = pool_cache = None
    layout = (x.shape[0], *block.conv_shape, *block.pool) if max_pool else None
    if batch_norm:  # training: prediction folded it into w and b above
        cells = None if weights is None else _cell_weights(weights, block, max_pool)
        if max_pool:  # the affine map after the maximum (see _norm)
            z, bn_cache, batch = batch_norm_max_pool_forward(
                z, scale, b, layout, cells, combine
            )
        else:
            normed, bn_cache, batch = batch_norm_forward(
                z.reshape(-1, F), scale, b, None, True, cells, combine
            )
            z = normed.reshape(z.shape)
        if batch_stats is not None:
            batch_stats.append(batch)
    elif max_pool:
        z, argmax = max_pool_ordered(z, layout, keep_cache)
        pool_cache = (argmax, layout)
    if not batch_norm:
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
    db = dscale = spread = None
    if not block.batch_norm:
        db = d.sum(axis=(0, 1, 2))
    # without an input gradient, batch norm's spread over every cell reaches
    # only the filter gradient, which takes it without forming it
    defer = block.batch_norm and not need_dx
    if block.batch_norm and spec.pooling == "max":  # pool order
        d, dscale, db, *spread = batch_norm_max_pool_backward(d, bn_cache, defer)
    elif block.batch_norm:
        d_flat, dscale, db, *spread = batch_norm_backward(
            d.reshape(-1, block.n_filters), bn_cache, defer
        )
        d = d_flat.reshape(d.shape)
    elif spec.pooling == "max":
        d = max_pool_ordered_backward(d, *pool_cache)
    spread = spread[0] if spread else None
    dx, dw = correlate_backward(d, conv_cache, need_dx, spread)
    if dx is not None:
        dx = np.ascontiguousarray(crop_padding(dx, block.padding))
    return dx, dw, db, dscale


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
    sample_weight : ndarray of shape (n,) or None, default=None
        While training, the weights of the batch statistics of batch norm.
    combine : callable or None, default=None
        While training on one part of a batch split over the cores, what
        turns the part's batch-norm statistics into the whole batch's (see
        :func:`._norm.batch_norm_forward`); :func:`backward` combines the
        gradient sums of batch norm the same way.

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
            sample_weight,
            combine,
        )
        caches.append(cache)
    if spec.global_pooling is not None:
        a, head_cache = global_pool_forward(a, spec.global_pooling)  # (n, F)
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
    ``stats``), so it folds into the filters and intercepts (see
    :func:`._norm.fold_batch_norm`). The folded network computes the same
    logits in either mode of :func:`forward`; its ``keep_cache=True`` pass
    without dropout masks is the prediction with the caches that
    :func:`backward` needs (for the gradient of a prediction with respect
    to the input, say).

    Returns
    -------
    params : list of ndarray
        Without batch-norm scales.
    spec : NetworkSpec
        Every block with ``batch_norm=False``.
    """
    if not has_batch_norm(spec):
        return list(params), spec
    folded = list(params[: n_weighted_params(spec)])
    for b, block in enumerate(spec.blocks):
        if block.batch_norm:
            w, shift, scale = _block_params(params, spec, b)
            folded[2 * b : 2 * b + 2] = fold_batch_norm(w, shift, scale, stats[b])
    blocks = tuple(block._replace(batch_norm=False) for block in spec.blocks)
    return folded, spec._replace(blocks=blocks)


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
    for b in range(n_blocks - 1, -1, -1):
        d, grads[2 * b], grads[2 * b + 1], dscale = _block_backward(
            d, caches[b], spec.blocks[b], spec, b > 0 or input_grad
        )
        if dscale is not None:
            grads[n_weighted + b] = dscale
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
