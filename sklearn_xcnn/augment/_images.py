"""Augmenters for images: whole-pixel shifts, flips and small rotations.

Each draws its transformation once per image of the batch, from the
generator it is given, and returns new arrays: the batch it gets is left
unchanged.
"""

from numbers import Integral, Real

import numpy as np

from ..utils._compat import Interval
from ._base import Augmenter

_NON_NEGATIVE_INT = Interval(Integral, 0, None, closed="left")


def shift_images(X, rows, cols):
    """Each image ``X[i]`` (n, H, W, C) moved down by ``rows[i]`` and right by
    ``cols[i]`` whole pixels (negative: up, left), zeros shifted in.

    Pixel ``(r, c)`` of the result is pixel ``(r - rows[i], c - cols[i])`` of
    the image, or 0 where that falls outside it. The images that move alike
    are moved together.
    """
    _, H, W, _ = X.shape
    rows, cols = np.asarray(rows), np.asarray(cols)
    out = np.zeros_like(X)
    for dr, dc in set(zip(rows.tolist(), cols.tolist())):
        if abs(dr) >= H or abs(dc) >= W:
            continue  # shifted out entirely
        same = np.flatnonzero((rows == dr) & (cols == dc))
        dst_r, src_r = slice(max(dr, 0), H + min(dr, 0)), slice(max(-dr, 0), H - dr)
        dst_c, src_c = slice(max(dc, 0), W + min(dc, 0)), slice(max(-dc, 0), W - dc)
        out[same, dst_r, dst_c] = X[same, src_r, src_c]
    return out


def draw_shifts(random_state, n, limit):
    """``n`` whole-pixel shifts drawn uniformly from ``-limit`` to ``limit``."""
    return random_state.randint(-limit, limit + 1, size=n)


def check_shift_leaves_something(limit, size, axis, owner):
    """Refuse a largest shift of ``limit`` pixels along an axis of ``size``."""
    if limit >= size:
        raise ValueError(
            f"a shift of up to {limit} pixel(s) along the {axis} of images with "
            f"{size} {axis} can move an image out of its frame, leaving nothing. "
            f"Use a shift of at most {size - 1} pixel(s) for {owner}."
        )


class RandomShift(Augmenter):
    """Shift each image by a random whole number of pixels.

    For each image, a shift along the rows and one along the columns are
    drawn uniformly from ``-max_shift`` to ``max_shift`` (ends included).
    The pixels shifted out of the frame are lost and zeros are shifted in,
    as ``scipy.ndimage.shift(image, (rows, cols, 0), order=0)`` does.

    Parameters
    ----------
    max_shift : int or (int, int), default=2
        Largest shift, in pixels, along both axes, or ``(rows, cols)``:
        ``(0, 3)`` shifts along the columns only. Each must be smaller than
        the images along its axis (``fit`` refuses a shift that could leave
        nothing of an image).

    See Also
    --------
    RandomTimeShift : Shift signals along time only.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn.augment import RandomShift
    >>> X = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> RandomShift(1).transform_batch(X, np.random.RandomState(1))[0, :, :, 0]
    array([[1., 2., 0.],
           [4., 5., 0.],
           [7., 8., 0.]])
    """

    _parameter_constraints: dict = {"max_shift": [_NON_NEGATIVE_INT, tuple, list]}

    def __init__(self, max_shift=2):
        self.max_shift = max_shift

    def _limits(self):
        """``max_shift`` as a pair of non-negative ints."""
        values = (self.max_shift,) if np.ndim(self.max_shift) == 0 else self.max_shift
        values = tuple(values)
        ok = len(values) in (1, 2) and all(
            isinstance(v, Integral) and not isinstance(v, bool) and v >= 0
            for v in values
        )
        if not ok:
            raise ValueError(
                "max_shift must be a non-negative int or a (rows, cols) pair of "
                f"non-negative ints, got {self.max_shift!r}."
            )
        return tuple(int(v) for v in values) * (2 if len(values) == 1 else 1)

    def _check_image_shape(self, image_shape):
        rows, cols = self._limits()
        owner = f"images of shape {tuple(image_shape)}"
        check_shift_leaves_something(rows, image_shape[0], "rows", owner)
        check_shift_leaves_something(cols, image_shape[1], "columns", owner)

    def _transform_batch(self, X, random_state):
        rows, cols = self._limits()
        n = X.shape[0]
        return shift_images(
            X, draw_shifts(random_state, n, rows), draw_shifts(random_state, n, cols)
        )


class RandomFlip(Augmenter):
    """Mirror each image along an axis with probability ``p``.

    Parameters
    ----------
    axis : {0, 1}, default=1
        ``1`` mirrors left to right (reverses the columns), ``0`` upside down
        (reverses the rows). Chain two flips to flip along both.
    p : float in [0, 1], default=0.5
        Probability that an image is mirrored, drawn for each image.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn.augment import RandomFlip
    >>> X = np.arange(6.0).reshape(1, 2, 3, 1)
    >>> flip = RandomFlip(axis=1, p=1.0)  # every image
    >>> flip.transform_batch(X, np.random.RandomState(0))[0, ..., 0]
    array([[2., 1., 0.],
           [5., 4., 3.]])
    """

    _parameter_constraints: dict = {
        "axis": [Interval(Integral, 0, 1, closed="both")],
        "p": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, axis=1, p=0.5):
        self.axis = axis
        self.p = p

    def _transform_batch(self, X, random_state):
        flip = random_state.random_sample(X.shape[0]) < self.p
        out = X.copy()
        out[flip] = np.flip(X[flip], axis=1 + self.axis)  # (k, H, W, C)
        return out


def rotate_images(X, degrees):
    """Each image ``X[i]`` (n, H, W, C) rotated by ``degrees[i]`` about its
    centre, keeping its shape, by bilinear interpolation with zeros outside.

    Pixel ``(r, c)`` of the result is the image read at the point that the
    rotation takes there: with ``y = r - (H - 1) / 2``, ``x = c - (W - 1) /
    2`` and ``t`` the angle, at row ``cos(t) y + sin(t) x`` and column
    ``cos(t) x - sin(t) y`` (from the centre), between pixels weighted
    bilinearly, pixels outside the image counting as 0. A positive angle
    turns the picture counter-clockwise as shown with ``imshow``.
    """
    n, H, W, C = X.shape
    t = np.deg2rad(np.asarray(degrees, dtype=np.float64))[:, None, None]  # (n, 1, 1)
    y = np.arange(H)[None, :, None] - (H - 1) / 2  # (1, H, 1)
    x = np.arange(W)[None, None, :] - (W - 1) / 2  # (1, 1, W)
    # source points, clipped to one pixel outside the image: further out all
    # four neighbours are zeros anyway
    src_r = np.clip(np.cos(t) * y + np.sin(t) * x + (H - 1) / 2, -1, H)  # (n, H, W)
    src_c = np.clip(np.cos(t) * x - np.sin(t) * y + (W - 1) / 2, -1, W)
    r0, c0 = np.floor(src_r), np.floor(src_c)
    fr, fc = (src_r - r0).reshape(n, -1), (src_c - c0).reshape(n, -1)  # (n, H*W)
    # zeros around the image: one row/column before, two after, so that the
    # neighbours of every clipped point are inside the padded image
    padded = np.zeros((n, H + 3, W + 3, C), dtype=X.dtype)
    padded[:, 1 : H + 1, 1 : W + 1] = X
    flat = padded.reshape(n, (H + 3) * (W + 3), C)
    top_left = ((r0 + 1) * (W + 3) + (c0 + 1)).astype(np.intp).reshape(n, -1)
    samples = np.arange(n)[:, None]
    out = np.zeros((n, H * W, C), dtype=np.result_type(X.dtype, np.float32))
    for step, weight in (
        (0, (1 - fr) * (1 - fc)),
        (1, (1 - fr) * fc),
        (W + 3, fr * (1 - fc)),
        (W + 4, fr * fc),
    ):
        out += weight.astype(out.dtype)[..., None] * flat[samples, top_left + step]
    return out.reshape(n, H, W, C).astype(X.dtype, copy=False)


class RandomRotation(Augmenter):
    """Rotate each image by a small random angle about its centre.

    For each image an angle is drawn uniformly from ``-max_degrees`` to
    ``max_degrees``; the image keeps its shape, corners turned out of the
    frame are lost and zeros come in. Pixels are interpolated bilinearly
    (order 1), with zeros outside the image: the result equals
    ``scipy.ndimage.rotate(image, angle, reshape=False, order=1,
    mode="grid-constant")``. A positive angle turns the picture
    counter-clockwise as shown with ``imshow``.

    Parameters
    ----------
    max_degrees : float in [0, 180], default=10
        Largest angle, in degrees. Digits bear 10 to 15 degrees; a turn by
        half a circle makes a 6 of a 9.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn.augment import RandomRotation
    >>> X = np.zeros((1, 3, 3, 1))
    >>> X[0, 0, 1] = 1.0  # the top middle pixel
    >>> rotate = RandomRotation(max_degrees=90)
    >>> rotate.transform_batch(X, np.random.RandomState(0))[0, ..., 0].round(2)
    array([[0.14, 0.84, 0.  ],
           [0.  , 0.  , 0.  ],
           [0.  , 0.  , 0.  ]])
    """

    _parameter_constraints: dict = {
        "max_degrees": [Interval(Real, 0, 180, closed="both")],
    }

    def __init__(self, max_degrees=10):
        self.max_degrees = max_degrees

    def _check_image_shape(self, image_shape):
        if min(image_shape[:2]) < 2:
            raise ValueError(
                f"images of shape {tuple(image_shape)} have a single row or "
                "column and cannot be rotated; for signals use RandomTimeShift, "
                "RandomScaling or RandomJitter."
            )

    def _transform_batch(self, X, random_state):
        degrees = random_state.uniform(-self.max_degrees, self.max_degrees, X.shape[0])
        return rotate_images(X, degrees)
