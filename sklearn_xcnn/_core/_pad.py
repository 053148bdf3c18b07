"""Zero padding of a block's input, resolved once into explicit sizes.

A block pads its input once at its entry and the correlation engines stay on
'valid' correlation of the padded images; the input gradient of the padded
images is cropped back. ``padding`` as the estimators take it resolves to
``((top, bottom), (left, right))`` rows and columns of zeros:

* ``"valid"``: none;
* ``"same"`` (as in Keras and TensorFlow): the output has ``ceil(n / s)``
  cells along an axis of ``n`` cells at stride ``s``; the total padding is
  ``max((out - 1) * s + k - n, 0)`` and its odd cell goes at the bottom
  (right);
* an int ``p`` or a pair ``(pr, pc)``: that many zeros on each side.
"""

import numpy as np

NO_PADDING = ((0, 0), (0, 0))


def same_padding(size, kernel, stride):
    """``(before, after)`` zeros along one axis for 'same' output size."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return (total // 2, total - total // 2)


def resolve_padding(padding, shape, kernel, stride):
    """Explicit zeros ``((top, bottom), (left, right))`` of one block.

    Parameters
    ----------
    padding : "valid", "same", int or (int, int)
    shape : (int, int)
        ``(H, W)`` of the block input.
    kernel, stride : (int, int)

    Returns
    -------
    padding : ((int, int), (int, int))
    """
    if isinstance(padding, str):
        if padding == "valid":
            return NO_PADDING
        return tuple(same_padding(*a) for a in zip(shape, kernel, stride))
    pr, pc = (padding, padding) if np.ndim(padding) == 0 else padding
    return ((int(pr), int(pr)), (int(pc), int(pc)))


def padded_shape(shape, padding):
    """``(H, W)`` after padding."""
    (t, b), (left, right) = padding
    return (shape[0] + t + b, shape[1] + left + right)


def pad_images(x, padding):
    """``x`` (n, H, W, C) with zeros added around each image.

    Returns ``x`` itself when there is nothing to add.
    """
    if padding == NO_PADDING:
        return x
    (t, b), (left, right) = padding
    n, H, W, C = x.shape
    out = np.zeros((n, H + t + b, W + left + right, C), dtype=x.dtype)
    out[:, t : t + H, left : left + W] = x
    return out


def crop_padding(dx, padding):
    """The gradient of :func:`pad_images`: ``dx`` of the padded images cropped
    back to the input, ``(n, H + t + b, W + l + r, C) -> (n, H, W, C)``."""
    if padding == NO_PADDING:
        return dx
    (t, b), (left, right) = padding
    return dx[:, t : dx.shape[1] - b, left : dx.shape[2] - right]
