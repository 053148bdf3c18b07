"""The valid cells of a batch of images padded to one shape.

Series of unequal length train in one batch once each is padded at its end
to the batch's longest: ``valid`` ``(n, H, W)`` (bool) marks the cells that
belong to the series, the rest are padding. A network whose every block
keeps the size of its maps (:func:`keeps_length`: stride 1, 'same'
padding, no pooling between blocks, global pooling) then computes, at the
valid cells, exactly what each series computes alone, when every step
honours the mask:

* the input, every block's output and every inner map that feeds a 'same'
  convolution are zero at padded cells (:func:`zero_padding`), so that a
  convolution at a series' end reads zeros there, as its own 'same' padding
  would;
* batch norm's statistics weigh the padded cells zero (the per-cell
  weights of :func:`._norm.cell_weights`);
* max pooling inside a block sees minus infinity there, global pooling
  reduces the valid cells only (:mod:`._pool`, :mod:`._layers`).

The mask is data passed through the network's forward (``valid``) like the
sample weights: nothing else changes in the engines.
"""

import numpy as np


def valid_cells(lengths, shape):
    """The mask of series of ``lengths`` (n,) padded at the end of the
    column axis to ``shape`` ``(H, W)``: ``(n, H, W)`` bool, True for column
    ``j < lengths[i]``."""
    H, W = shape
    valid = np.arange(W) < np.asarray(lengths)[:, None]  # (n, W)
    return np.repeat(valid[:, None, :], H, axis=1)


def zero_padding(a, valid):
    """``a`` (n, H, W, F) with its padded cells zero (a new array); ``a``
    itself when ``valid`` is None. Whatever the padded cells hold (infinite
    or NaN too) is replaced."""
    if valid is None:
        return a
    return np.where(valid[..., None], a, a.dtype.type(0))


def keeps_length(spec):
    """Whether a masked batch computes each series' own result through the
    network ``spec``: every block keeps the size of its maps (stride 1,
    as much padding as the kernel spans, no pooling) and the blocks end in
    global pooling."""
    if spec.global_pooling is None:
        return False
    for block in spec.blocks:
        if block.pool is not None or tuple(block.conv_shape) != block.in_shape[:2]:
            return False
        if block.kind == "conv" and tuple(block.stride) != (1, 1):
            return False
    return True
