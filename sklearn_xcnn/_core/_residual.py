"""The residual unit, the ``"residual"`` block kind.

``depth`` convolutions with 'same' padding (one kernel for all, or one
kernel each, as the time-series ResNet's 8, 5 and 3), each followed by batch norm and
all but the last by the activation; a shortcut from the unit's input, a 1x1
convolution with batch norm where the channel count changes and batch norm
alone where it does not; their sum activated, then pooled as any block::

    h = act(bn(conv_1(x))) ... ; out = pool(act(bn(conv_depth(h)) + s(x)))

as in the time-series ResNet of Wang et al. (2017). Parameters, in the
network's flat order: ``(filters, intercepts)`` of each convolution, then of
the shortcut's 1x1 convolution when it has one; batch-norm scales (and
running statistics) of each convolution, then of the shortcut. The
shortcut's shift would only add to the last convolution's: batch norm alone
has none, and a shortcut convolution's intercept is its shift.

In a masked batch (``ctx.valid``, see :mod:`._mask`) each inner activation
is zero at the padded cells, as the next convolution's 'same' padding
expects, and its gradient is zero there too.
"""

from typing import NamedTuple

import numpy as np

from ._activations import ACTIVATIONS, DERIVATIVES
from ._layers import (
    join_backward,
    join_forward,
    norm_backward,
    norm_forward,
    unit_backward,
    unit_forward,
)
from ._mask import zero_padding
from ._units import conv_kernels, conv_unit, pooled_shape


class ResidualSpec(NamedTuple):
    """A residual unit, with every size resolved."""

    in_shape: tuple  # (H, W, C)
    n_filters: int
    convs: tuple  # of BlockSpec: the main path, 'same' padding, no pooling
    shortcut: object  # BlockSpec of the 1x1 convolution, or None (batch norm)
    conv_shape: tuple  # (H, W): the maps before pooling
    pool: tuple | None  # (pr, pc) or None
    out_shape: tuple  # (Hp, Wp, F)
    kind: str = "residual"

    @property
    def conv_units(self):
        return self.convs + (() if self.shortcut is None else (self.shortcut,))

    @property
    def norm_slots(self):
        return (self.n_filters,) * (len(self.convs) + 1)


def build_residual(shape, n_filters, kernel_size, depth, dilation, options, pool,
                   pooling, whole=False):  # fmt: skip
    """The :class:`ResidualSpec` of a unit on ``shape`` (H, W, C).

    ``kernel_size`` is one ``(kr, kc)`` kernel for every convolution or a
    tuple of ``depth`` kernels, one per convolution; ``whole`` keeps them
    whole on a short input (:func:`._units.conv_geometry`).
    """
    algorithm = options[0]
    convs, in_shape = [], tuple(shape)
    kernels = conv_kernels(kernel_size, depth, "convolutions of a residual unit")
    for kernel in kernels:
        unit = conv_unit(in_shape, n_filters, kernel, "same",
                         (algorithm, True), dilation, whole=whole)  # fmt: skip
        convs.append(unit)
        in_shape = unit.out_shape
    shortcut = None
    if shape[2] != n_filters:
        shortcut = conv_unit(shape, n_filters, 1, "same", (algorithm, True))
    conv = tuple(shape[:2])
    window, out = pooled_shape(conv, pool, pooling)
    return ResidualSpec(tuple(shape), n_filters, tuple(convs), shortcut, conv,
                        window, (*out, n_filters))  # fmt: skip


def _take(params, stats):
    """Per convolution ``(w, b, scale, stats)``, in the block's order."""
    (pairs, scales), stats = params, stats or [None] * len(params[1])
    return [(pairs[2 * i], pairs[2 * i + 1], scales[i], stats[i])
            for i in range(len(pairs) // 2)]  # fmt: skip


def residual_forward(x, params, block, spec, ctx):
    """``(n, H, W, C) -> (n, Hp, Wp, F)`` and the cache of the backward."""
    act = ACTIVATIONS[spec.activation]
    units = _take(params, ctx.stats)
    h, caches, acts = x, [], []
    for i, unit in enumerate(block.convs):
        w, b, scale, stats = units[i]
        inner = i < len(block.convs) - 1  # activated here, the last at the join
        h, cache = unit_forward(
            h, w, b, scale, stats, unit, ctx, act if inner else None
        )
        caches.append(cache)
        if inner:
            h = zero_padding(h, ctx.valid)
            acts.append(h)
    if block.shortcut is None:
        scale, stats = params[1][-1], (ctx.stats or [None])[-1]
        s, short_cache = norm_forward(x, scale, stats, ctx)
    else:
        w, b, scale, stats = units[-1]
        s, short_cache = unit_forward(x, w, b, scale, stats, block.shortcut, ctx)
    out, join_cache = join_forward(h, s, act, block.pool, spec.pooling)
    if not ctx.keep_cache:
        return out, None
    return out, (caches, acts, short_cache, join_cache, ctx.valid)


def residual_backward(d, cache, block, spec, need_dx):
    """Back through a residual unit: ``(dx, pair grads, scale grads)``."""
    caches, acts, short_cache, join_cache, valid = cache
    derivative = DERIVATIVES[spec.activation]
    # reaches the main path and the shortcut alike
    d = join_backward(d, join_cache, derivative)
    if block.shortcut is None:
        dx_short, dscale = norm_backward(d, short_cache)
        short_pairs, short_scales = [], [dscale]
    else:
        dx_short, dw, db, dscale = unit_backward(d, short_cache, need_dx)
        short_pairs, short_scales = [dw, db], [dscale]
    pairs, scales = [], []
    for i in range(len(block.convs) - 1, -1, -1):
        dh, dw, db, dscale = unit_backward(d, caches[i], i > 0 or need_dx)
        pairs[:0], scales[:0] = [dw, db], [dscale]
        if i > 0:
            d = derivative(acts[i - 1], zero_padding(dh, valid))
    dx = None if not need_dx else np.add(dh, dx_short, out=dh)
    return dx, pairs + short_pairs, scales + short_scales
