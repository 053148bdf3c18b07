"""The block kinds: what a block of the network is, each kind with its spec
builder and its forward and backward passes side by side.

:data:`BLOCK_KINDS` maps a kind's name to a :class:`BlockKind`; the network
(:mod:`._network`) runs every block through its kind, and a block's spec
(``spec.blocks[b]``, whose ``kind`` field names it) says which parameters it
holds: ``conv_units``, the convolutions whose ``(filters, intercepts)`` pairs
it takes from the flat parameter list, and ``norm_slots``, per batch norm its
number of filters (None for a block without one), whose scales and running
statistics it takes.

* ``"conv"`` (:mod:`._plain`): pad, correlate, batch norm, bias,
  activation, pool;
* ``"residual"`` (:mod:`._residual`): a residual unit;
* ``"inception"`` (:mod:`._inception`): inception modules with a shortcut.

A forward is ``forward(x, params, block, spec, ctx) -> (out, cache)`` with
``params = (pairs, scales)``, the block's flat ``[w, b, w, b, ...]`` and its
batch-norm scales, and ``ctx`` a :class:`Context`; a backward is
``backward(d, cache, block, spec, need_dx) -> (dx, pair_grads,
scale_grads)``, ``dx`` None when not ``need_dx``.
"""

from typing import NamedTuple

from ._inception import build_inception, inception_backward, inception_forward
from ._plain import conv_backward, conv_forward
from ._residual import build_residual, residual_backward, residual_forward
from ._units import _pair, block_spec, is_per_conv


class Context(NamedTuple):
    """What a block's forward needs besides its input and parameters."""

    keep_cache: bool  # training mode: batch statistics, keep the cache
    stats: list | None  # per norm slot of the block: running (mean, var)
    batch_stats: list | None  # receives the batch's (mean, var) per norm
    weights: object  # (n,) sample weights of the batch statistics, or None
    combine: object  # see _norm.batch_norm_forward, or None
    valid: object = None  # (n, H, W) bool: the cells not padding (see _mask)


class BlockKind(NamedTuple):
    build: object
    forward: object
    backward: object
    compound: bool  # made of several convolutions ('same' padding, stride 1)


def _build_conv(shape, entry):
    if is_per_conv(entry["kernel_size"]):
        raise ValueError(
            f"a 'conv' block has one convolution, so one kernel; got the "
            f"per-convolution kernels {entry['kernel_size']!r}"
        )
    return block_spec(
        shape,
        entry["n_filters"],
        entry["kernel_size"],
        entry["stride"],
        entry["padding"],
        entry["pool_size"],
        entry["pooling"],
        (entry["algorithm"], entry["batch_norm"]),
        entry["dilation"],
        entry["whole_kernels"],
    )


def _kernel(kernel_size):
    """One ``(kr, kc)`` kernel, or a tuple of them (one per convolution)."""
    if is_per_conv(kernel_size):
        return tuple(_pair(k) for k in kernel_size)
    return _pair(kernel_size)


def _compound(build):
    def build_block(shape, entry):
        return build(
            shape,
            entry["n_filters"],
            _kernel(entry["kernel_size"]),
            entry["depth"],
            _pair(entry["dilation"]),
            (entry["algorithm"], True),
            _pair(entry["pool_size"]),
            entry["pooling"],
            entry["whole_kernels"],
        )

    return build_block


BLOCK_KINDS = {
    "conv": BlockKind(_build_conv, conv_forward, conv_backward, False),
    "residual": BlockKind(
        _compound(build_residual), residual_forward, residual_backward, True
    ),
    "inception": BlockKind(
        _compound(build_inception), inception_forward, inception_backward, True
    ),
}
