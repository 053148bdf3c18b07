"""The inception block, the ``"inception"`` block kind.

``depth`` inception modules followed by a shortcut around them, as in
InceptionTime (Ismail Fawaz et al., 2020), whose shortcut joins every third
module. One module, on input ``x`` of ``C`` channels::

    h = bottleneck(x)                  # 1x1 convolution, only when C > 1
    branches = [bn(conv_k(h)) for k in kernels] + [bn(conv_1x1(maxpool(x)))]
    module(x) = act(concatenate(branches))     # 4 * F channels

with 'same' padding everywhere, ``kernels`` the block's kernel halved twice
(40, 20, 10 for a kernel of 40) or three kernels given one per branch, and
a 3x3 max pool at stride 1. Batch norm of the concatenation, per channel,
is batch norm of each branch. The block::

    out = pool(act(modules(x) + bn(conv_1x1(x))))

The parallel convolutions read ``h`` together (:func:`._layers.units_forward`):
on a series, once one of them is on the FFT engine (a kernel of 24 taps
or more under ``algorithm="auto"``), one spectrum of ``h`` serves all three
(:mod:`._spectral`).

Parameters, in the network's flat order: per module the ``(filters,
intercepts)`` of the bottleneck (when it has one; it has no batch norm, its
intercept is a plain bias), of each kernel's convolution and of the pool
branch's, then of the shortcut; batch-norm scales (and running statistics)
of each module's four branches, then of the shortcut.

In a masked batch (``ctx.valid``, see :mod:`._mask`) the bottleneck's maps
and each module's output are zero at the padded cells (they feed 'same'
convolutions), the max pool never picks a padded cell and its padded
cells are zero; the gradients of those maps are zero there too.
"""

from typing import NamedTuple

import numpy as np

from ._activations import ACTIVATIONS, DERIVATIVES
from ._layers import (
    join_backward,
    join_forward,
    same_max_pool_backward,
    same_max_pool_forward,
    unit_backward,
    unit_forward,
    units_backward,
    units_forward,
)
from ._mask import zero_padding
from ._units import conv_kernels, conv_unit, is_per_conv, pooled_shape

N_KERNELS = 3  # parallel convolutions, besides the max-pool branch
POOL_WINDOW = 3  # of the max-pool branch, at stride 1


class Module(NamedTuple):
    """One inception module: its convolutions (BlockSpec, 'same' padding)."""

    bottleneck: object  # BlockSpec, or None for a one-channel input
    branches: tuple  # of BlockSpec, one per kernel
    pool_window: tuple  # (pr, pc) of the max-pool branch
    pool_conv: object  # BlockSpec of the 1x1 convolution after the max pool


class InceptionSpec(NamedTuple):
    """An inception block, with every size resolved."""

    in_shape: tuple  # (H, W, C)
    n_filters: int  # per branch; the block outputs 4 * n_filters maps
    modules: tuple  # of Module
    shortcut: object  # BlockSpec of the shortcut's 1x1 convolution
    conv_shape: tuple  # (H, W): the maps before pooling
    pool: tuple | None
    out_shape: tuple  # (Hp, Wp, 4 * n_filters)
    kind: str = "inception"

    @property
    def conv_units(self):
        units = []
        for m in self.modules:
            units += [m.bottleneck] if m.bottleneck is not None else []
            units += [*m.branches, m.pool_conv]
        return (*units, self.shortcut)

    @property
    def norm_slots(self):
        return (self.n_filters,) * (len(self.modules) * (N_KERNELS + 1)) + (
            self.out_shape[2],
        )


def branch_kernels(kernel):
    """The kernels ``(kr, kc)`` of the parallel convolutions: ``kernel``
    halved, and halved again (at least one cell)."""
    return [tuple(max(1, k // 2**i) for k in kernel) for i in range(N_KERNELS)]


def module_kernels(kernel_size):
    """The branch kernels of a module: those given, one per branch, or the
    halving rule of :func:`branch_kernels` on one kernel."""
    if is_per_conv(kernel_size):
        return conv_kernels(kernel_size, N_KERNELS, "parallel convolutions of an "
                            "inception module")  # fmt: skip
    return branch_kernels(tuple(kernel_size))


def _module(shape, n_filters, kernels, dilation, algorithm, whole):
    """A :class:`Module` on ``shape`` (H, W, C); ``whole``: see
    :func:`._units.conv_geometry`."""
    options = (algorithm, True)
    bottleneck = None
    inner = shape
    if shape[2] > 1:
        bottleneck = conv_unit(shape, n_filters, 1, "same", (algorithm, False))
        inner = bottleneck.out_shape
    branches = tuple(conv_unit(inner, n_filters, k, "same", options, dilation,
                               whole=whole) for k in kernels)  # fmt: skip
    # the window left whole on maps of 2 cells or more: there a narrower one
    # would take another maximum at the last cell ('same' placement puts a
    # window of 2 on the cell and the next), while maps padded to a longer
    # series (a masked batch) and the ONNX graph keep 3; on 1 cell the
    # window's other cells are all off the edge, so a window of 1 is exact
    window = tuple(1 if s == 1 else POOL_WINDOW for s in shape[:2])
    pool_conv = conv_unit(shape, n_filters, 1, "same", options)
    return Module(bottleneck, branches, window, pool_conv)


def build_inception(shape, n_filters, kernel_size, depth, dilation, options, pool,
                    pooling, whole=False):  # fmt: skip
    """The :class:`InceptionSpec` of a block on ``shape`` (H, W, C)."""
    algorithm = options[0]
    kernels = module_kernels(kernel_size)
    modules, in_shape = [], tuple(shape)
    for _ in range(depth):
        modules.append(
            _module(in_shape, n_filters, kernels, dilation, algorithm, whole)
        )
        in_shape = (*shape[:2], (N_KERNELS + 1) * n_filters)
    F = in_shape[2]
    shortcut = conv_unit(shape, F, 1, "same", (algorithm, True))
    conv = tuple(shape[:2])
    window, out = pooled_shape(conv, pool, pooling)
    return InceptionSpec(tuple(shape), n_filters, tuple(modules), shortcut, conv,
                         window, (*out, F))  # fmt: skip


class _Params:
    """Hands out a block's ``(w, b, scale, stats)`` in the documented order."""

    def __init__(self, params, stats):
        (self.pairs, self.scales), self.stats = params, stats
        self.i = self.j = 0

    def next(self, normalised=True):
        w, b = self.pairs[self.i : self.i + 2]
        self.i += 2
        if not normalised:
            return w, b, None, None
        scale = self.scales[self.j]
        stats = None if self.stats is None else self.stats[self.j]
        self.j += 1
        return w, b, scale, stats


def _module_forward(x, module, params, act, ctx):
    """One module: ``(n, H, W, C) -> (n, H, W, 4F)`` and its cache."""
    h, bottleneck_cache = x, None
    if module.bottleneck is not None:
        w, b, _, _ = params.next(normalised=False)
        h, bottleneck_cache = unit_forward(x, w, b, None, None, module.bottleneck, ctx)
        h = zero_padding(h, ctx.valid)
    # the parallel convolutions read h together (one spectrum of it, see
    # ._layers.units_forward)
    branch_params = [params.next() for _ in module.branches]
    outs, branches_cache = units_forward(h, branch_params, module.branches, ctx)
    pooled, pool_cache = same_max_pool_forward(x, module.pool_window, ctx.valid)
    pooled = zero_padding(pooled, ctx.valid)
    z, pool_conv_cache = unit_forward(pooled, *params.next(), module.pool_conv, ctx)
    outs.append(z)
    a = zero_padding(act(np.concatenate(outs, axis=-1)), ctx.valid)  # (n, H, W, 4F)
    caches = (branches_cache, pool_conv_cache)
    return a, (bottleneck_cache, caches, pool_cache, a, ctx.valid)


def _module_backward(d, cache, module, need_dx, derivative):
    """Back through one module: ``(dx, pair grads, scale grads)``."""
    bottleneck_cache, (branches_cache, pool_conv_cache), pool_cache, a, valid = cache
    d = derivative(a, d.copy() if valid is None else zero_padding(d, valid))
    F = d.shape[-1] // (N_KERNELS + 1)
    dk = [np.ascontiguousarray(d[..., k * F : (k + 1) * F])
          for k in range(N_KERNELS + 1)]  # fmt: skip
    need_dh = need_dx or module.bottleneck is not None
    dh, grads = units_backward(dk[:N_KERNELS], branches_cache, need_dh)
    dpool, *pool_grads = unit_backward(dk[N_KERNELS], pool_conv_cache, need_dx)
    grads.append(pool_grads)
    pairs = [g for dw, db, _ in grads for g in (dw, db)]
    scales = [dscale for _, _, dscale in grads]
    if module.bottleneck is not None:
        dh = zero_padding(dh, valid)
        dx, dw, db, _ = unit_backward(dh, bottleneck_cache, need_dx)
        pairs[:0] = [dw, db]
    else:
        dx = dh
    if need_dx:
        dpool = zero_padding(dpool, valid)
        dx = np.add(dx, same_max_pool_backward(dpool, pool_cache), out=dx)
    return dx, pairs, scales


def inception_forward(x, params, block, spec, ctx):
    """``(n, H, W, C) -> (n, Hp, Wp, 4F)`` and the cache of the backward."""
    act = ACTIVATIONS[spec.activation]
    handed = _Params(params, ctx.stats)
    h, caches = x, []
    for module in block.modules:
        h, cache = _module_forward(h, module, handed, act, ctx)
        caches.append(cache)
    s, short_cache = unit_forward(x, *handed.next(), block.shortcut, ctx)
    # into the shortcut's maps: the last module's output is in its cache
    out, join_cache = join_forward(s, h, act, block.pool, spec.pooling)
    if not ctx.keep_cache:
        return out, None
    return out, (caches, short_cache, join_cache)


def inception_backward(d, cache, block, spec, need_dx):
    """Back through an inception block: ``(dx, pair grads, scale grads)``."""
    caches, short_cache, join_cache = cache
    derivative = DERIVATIVES[spec.activation]
    d = join_backward(d, join_cache, derivative)
    dx_short, dw, db, dscale = unit_backward(d, short_cache, need_dx)
    pairs, scales = [dw, db], [dscale]
    for i in range(len(block.modules) - 1, -1, -1):
        d, module_pairs, module_scales = _module_backward(
            d, caches[i], block.modules[i], i > 0 or need_dx, derivative
        )
        pairs[:0], scales[:0] = module_pairs, module_scales
    dx = None if not need_dx else np.add(d, dx_short, out=d)
    return dx, pairs, scales
