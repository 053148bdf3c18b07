"""The geometry of one convolution: kernel, padding, stride, dilation and the
sizes they give, resolved into a :class:`BlockSpec`.

A :class:`BlockSpec` is a plain convolutional block (the ``"conv"`` block
kind) and also the spec of each convolution inside the compound kinds
(:mod:`._residual`, :mod:`._inception`), which then has no pooling.
"""

from typing import NamedTuple

import numpy as np

from ._conv import choose_engine, conv_output_size, dilated_extent
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
    dilation: tuple = (1, 1)  # (dr, dc): spacing of the kernel's taps
    kind: str = "conv"  # the key of the block kind (see ._kinds)

    @property
    def conv_units(self):
        """The convolutions whose ``(filters, intercepts)`` the block holds."""
        return (self,)

    @property
    def norm_slots(self):
        """Per batch norm of the block, its number of filters (None: none)."""
        return (self.n_filters if self.batch_norm else None,)


def _pair(value):
    return (value, value) if np.ndim(value) == 0 else tuple(int(v) for v in value)


def is_per_conv(kernel_size):
    """Whether ``kernel_size`` is a tuple of kernels, one per convolution of
    a compound block, rather than one int or ``(rows, cols)`` pair: a tuple
    holding a pair, or other than two ints."""
    if not isinstance(kernel_size, tuple | list):
        return False
    return len(kernel_size) != 2 or not all(map(np.isscalar, kernel_size))


def conv_kernels(kernel_size, n_convs, what):
    """The ``(kr, kc)`` kernel of each of ``n_convs`` convolutions: one
    kernel serves them all, a tuple of kernels gives one each.

    ``what`` names the convolutions for the error raised when a tuple holds
    another number of kernels.
    """
    if not is_per_conv(kernel_size):
        return (_pair(kernel_size),) * n_convs
    if len(kernel_size) != n_convs:
        raise ValueError(
            f"{len(kernel_size)} kernel(s) {tuple(kernel_size)} given for "
            f"{n_convs} {what}: give one kernel per convolution, or one for all."
        )
    return tuple(_pair(k) for k in kernel_size)


def _clip_kernel(kernel, size, dilation):
    """Taps of ``kernel`` that fit in ``size`` cells at ``dilation``."""
    return tuple((s - 1) // d + 1 if d * (k - 1) + 1 > s else k
                 for k, s, d in zip(kernel, size, dilation))  # fmt: skip


def conv_geometry(shape, kernel_size, stride, padding, dilation=(1, 1),
                  whole=False):  # fmt: skip
    """``(kernel, padding, conv_shape)`` of one convolution on ``(H, W)``.

    With 'same' padding a kernel that spans more than the input is clipped
    to it, unless ``whole``: then it stays whole and the padding grows to
    match (its outer taps read zeros on a short input, and the weights do
    not depend on the input's size). Otherwise kernels are clipped to the
    padded input.
    """
    strides, dilation = _pair(stride), _pair(dilation)
    if padding == "same":
        kernel = _pair(kernel_size)
        if not whole:
            kernel = _clip_kernel(kernel, shape, dilation)
        extent = dilated_extent(kernel, dilation)
        pads = resolve_padding(padding, shape, extent, strides)
    else:  # explicit zeros: kernels are clipped to the padded input
        pads = resolve_padding(padding, shape, _pair(kernel_size), strides)
        size = padded_shape(shape, pads)
        kernel = _clip_kernel(_pair(kernel_size), size, dilation)
        extent = dilated_extent(kernel, dilation)
    size = padded_shape(shape, pads)
    conv = tuple(conv_output_size(*a) for a in zip(size, extent, strides))
    return kernel, pads, conv


def conv_unit(shape, n_f, kernel_size, padding="same", options=("auto", True),
              dilation=(1, 1), stride=1, whole=False):  # fmt: skip
    """A convolution without pooling on ``shape`` (H, W, C), as a
    :class:`BlockSpec`: the parts of the compound block kinds."""
    return block_spec(shape, n_f, kernel_size, stride, padding, 1, None, options,
                       dilation, whole)  # fmt: skip


def block_spec(
    shape, n_f, kernel_size, stride, padding, pool, pooling, options, dilation=1,
    whole=False,
):  # fmt: skip
    """Resolve one block's sizes for an input of ``shape`` (H, W, C);
    ``whole``: see :func:`conv_geometry`."""
    H, W, _ = shape
    strides, dilation = _pair(stride), _pair(dilation)
    kernel, pads, conv = conv_geometry((H, W), kernel_size, strides, padding,
                                       dilation, whole)  # fmt: skip
    window, out = pooled_shape(conv, pool, pooling)
    algorithm, batch_norm = options
    in_padded = (*padded_shape((H, W), pads), shape[2])
    extent = dilated_extent(kernel, dilation)
    engine = (
        choose_engine(in_padded, extent, strides) if algorithm == "auto" else algorithm
    )
    return BlockSpec(shape, n_f, kernel, strides, conv, window, (*out, n_f), engine,
                     pads, batch_norm, dilation)  # fmt: skip


def pooled_shape(conv, pool, pooling):
    """``(window, out)`` of pooling maps of ``conv`` (H, W) with windows of
    ``pool`` clipped to the maps: ``(None, conv)`` without pooling."""
    if pooling is None:
        return None, tuple(conv)
    window = tuple(min(p, s) for p, s in zip(_pair(pool), conv))
    return window, tuple(pool_output_size(*a) for a in zip(conv, window))
