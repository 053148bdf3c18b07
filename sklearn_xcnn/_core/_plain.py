"""The plain convolutional block, the ``"conv"`` block kind:
``pool(act(bn(correlate(pad(x)))))``, with its fast paths.

The block pads its input once (:mod:`._pad`), correlates it ('valid'
correlation of the padded images) and then computes ``pool(act(z + b))``,
or ``pool(act(bn(z)))`` with batch norm, whose shift is the filter intercept
``b``. For max pooling the block computes the equal ``act(maxpool(z) + b)``
(``act(maxpool(bn(z)))``) instead: the bias is one number per filter and
every activation is non-decreasing, so taking the maximum first gives the
same map while the bias and the activation touch only the pooled cells.
(Batch norm, whose scale may be negative, runs before the maximum.) The
correlation then returns its output in pool order (one contiguous block per
offset inside the pooling window), so the maximum is elementwise over
contiguous blocks.
"""

import numpy as np

from ._activations import ACTIVATIONS, DERIVATIVES
from ._conv import correlate_backward, correlate_forward
from ._norm import (
    batch_norm_backward,
    batch_norm_forward,
    batch_norm_max_pool_backward,
    batch_norm_max_pool_forward,
    cell_weights,
    fold_batch_norm,
    masked_loss_weight,
)
from ._pad import crop_padding, pad_images
from ._pairs import series_predict, use_pairs
from ._pool import (
    max_pool_ordered,
    max_pool_ordered_backward,
    pool_backward,
    pool_forward,
    window_offsets,
)


def _cell_weights(sample_weight, block, pool_order, valid=None):
    """The sample weight of every row of a block's correlation output, in
    its row order: ``(n, Ho, Wo)`` or pool order (see :mod:`._pool`); zero
    at the padded cells of a masked batch (no pooling then, see
    :mod:`._mask`)."""
    Ho, Wo = block.conv_shape
    if valid is not None:
        return cell_weights(sample_weight, valid, Ho * Wo)
    if not pool_order:
        return np.repeat(sample_weight, Ho * Wo)
    offsets = window_offsets(block.conv_shape, block.pool)
    return np.concatenate(
        [np.repeat(sample_weight, rows * cols) for _, _, _, rows, cols in offsets]
    )


def _block_forward(
    x, params, block, spec, keep_cache, stats, batch_stats, weights, combine,
    valid=None,
):  # fmt: skip
    """One block: ``(n, H, W, C) -> (n, Hp, Wp, F)`` and its cache.

    While training (``keep_cache``) batch norm uses the batch's statistics,
    weighted by the samples' ``weights`` (n,) when given and combined over
    the parts of a split batch by ``combine`` (see
    :func:`._norm.batch_norm_forward`), and appends them to ``batch_stats``
    (when a list); else the running ``stats``. A mask ``valid`` (n, H, W)
    leaves the padded cells out of the batch statistics (see :mod:`._mask`).
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
    if not keep_cache and not max_pool and use_pairs(x.shape, w.shape, block):
        # a series by pairs of taps: padded, intercepts added and activated
        # as it goes (see ._pairs.series_predict)
        act = ACTIVATIONS[spec.activation]
        a = series_predict(x, w, b, block.padding, act)
        if spec.pooling in ("mean", "sum"):
            return pool_forward(a, block.pool, spec.pooling)[0], None
        return a, None
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
        dilation=block.dilation,
    )
    bn_cache = pool_cache = None
    layout = (x.shape[0], *block.conv_shape, *block.pool) if max_pool else None
    if batch_norm:  # training: prediction folded it into w and b above
        cells = (
            None
            if weights is None and valid is None
            else _cell_weights(weights, block, max_pool, valid)
        )
        if max_pool:  # the affine map after the maximum (see _norm)
            z, bn_cache, batch = batch_norm_max_pool_forward(
                z, scale, b, layout, cells, combine
            )
        else:
            normed, bn_cache, batch = batch_norm_forward(
                z.reshape(-1, F), scale, b, None, True, cells, combine,
                masked_loss_weight(weights, valid),
            )  # fmt: skip
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


def conv_forward(x, params, block, spec, ctx):
    """The ``"conv"`` kind's entry in :data:`._kinds.BLOCK_KINDS`: ``params``
    is ``([w, b], [scale] or [])`` and ``ctx`` a :class:`._kinds.Context`."""
    (w, b), scales = params
    stats = None if ctx.stats is None else ctx.stats[0]
    return _block_forward(
        x,
        (w, b, scales[0] if scales else None),
        block,
        spec,
        ctx.keep_cache,
        stats,
        ctx.batch_stats,
        ctx.weights,
        ctx.combine,
        ctx.valid,
    )


def conv_backward(d, cache, block, spec, need_dx):
    """Back through a ``"conv"`` block: ``(dx, [dw, db], [dscale] or [])``."""
    dx, dw, db, dscale = _block_backward(d, cache, block, spec, need_dx)
    return dx, [dw, db], ([] if dscale is None else [dscale])
