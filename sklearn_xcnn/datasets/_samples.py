"""Synthetic image data sets: "X or not X".

Every image is a ``size x size`` grid of 0/1 pixels, 1 meaning black. Shapes are
drawn as boolean images of shape ``(size, size)`` by small ``_draw_*`` functions,
each taking ``(size, rng)``; :func:`make_x_or_not_x` stacks, shuffles and
optionally corrupts them with pixel noise.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

_X_KINDS = ("centred", "wonky", "off_centre")
_NOT_X_KINDS = ("ring", "plus", "hbar", "vbar", "l_shape", "blob")


def _x_strokes(size, width, top, left):
    """Both diagonals of the ``width`` square whose top-left pixel is ``(top, left)``.

    Returns
    -------
    image : ndarray of shape (size, size), dtype bool
    """
    image = np.zeros((size, size), dtype=bool)
    steps = np.arange(width)
    image[top + steps, left + steps] = True
    image[top + steps, left + width - 1 - steps] = True
    return image


def _draw_centred_x(size, rng):
    """An X spanning the whole image, corner to corner."""
    return _x_strokes(size, size, 0, 0)


def _draw_wonky_x(size, rng):
    """A centred X with one or two stroke pixels bent one column sideways."""
    image = _x_strokes(size, size, 0, 0)
    rows, cols = np.nonzero(image)
    # The crossing pixel of an odd-sized X belongs to both strokes; keep it.
    crossing = (rows == cols) & (rows + cols == size - 1)
    n_moves = rng.randint(1, 3)
    n_moved = 0
    for idx in rng.permutation(np.flatnonzero(~crossing)):
        row, col = rows[idx], cols[idx]
        for target in col + rng.permutation([-1, 1]):
            # Only move onto empty pixels, so the result never equals the X.
            if 0 <= target < size and not image[row, target]:
                image[row, col], image[row, target] = False, True
                n_moved += 1
                break
        if n_moved == n_moves:
            break
    return image


def _draw_off_centre_x(size, rng):
    """A smaller X, one or two pixels narrower, placed anywhere but the centre."""
    width = size - rng.randint(1, 3)
    centre = (size - width) / 2
    while True:
        top, left = rng.randint(0, size - width + 1, size=2)
        if (top, left) != (centre, centre):
            return _x_strokes(size, width, top, left)


def _draw_ring(size, rng):
    """The outline of a random rectangle (an O), sometimes with rounded corners."""
    height, width = rng.randint(3, size + 1, size=2)
    top = rng.randint(0, size - height + 1)
    left = rng.randint(0, size - width + 1)
    image = np.zeros((size, size), dtype=bool)
    image[top : top + height, left : left + width] = True
    image[top + 1 : top + height - 1, left + 1 : left + width - 1] = False
    if min(height, width) >= 4 and rng.rand() < 0.5:
        bottom, right = top + height - 1, left + width - 1
        image[[top, top, bottom, bottom], [left, right, left, right]] = False
    return image


def _draw_plus(size, rng):
    """A + with random centre and arm lengths."""
    row, col = rng.randint(1, size - 1, size=2)
    half_height = rng.randint(1, min(row, size - 1 - row) + 1)
    half_width = rng.randint(1, min(col, size - 1 - col) + 1)
    image = np.zeros((size, size), dtype=bool)
    image[row - half_height : row + half_height + 1, col] = True
    image[row, col - half_width : col + half_width + 1] = True
    return image


def _draw_hbar(size, rng):
    """A horizontal bar, one or two pixels thick and at least three long."""
    length = rng.randint(3, size + 1)
    thickness = rng.randint(1, 3)
    top = rng.randint(0, size - thickness + 1)
    left = rng.randint(0, size - length + 1)
    image = np.zeros((size, size), dtype=bool)
    image[top : top + thickness, left : left + length] = True
    return image


def _draw_vbar(size, rng):
    """A vertical bar, one or two pixels thick and at least three long."""
    return _draw_hbar(size, rng).T.copy()


def _draw_l_shape(size, rng):
    """An L in one of its four orientations, arms at least three pixels long."""
    height, width = rng.randint(3, size + 1, size=2)
    top = rng.randint(0, size - height + 1)
    left = rng.randint(0, size - width + 1)
    image = np.zeros((size, size), dtype=bool)
    image[top : top + height, left] = True
    image[top + height - 1, left : left + width] = True
    if rng.rand() < 0.5:
        image = image[::-1]
    if rng.rand() < 0.5:
        image = image[:, ::-1]
    return image.copy()


def _draw_blob(size, rng):
    """A random 4-connected set of 3 to ``3 * size`` pixels grown from one pixel."""
    n_pixels = rng.randint(3, 3 * size + 1)
    image = np.zeros((size, size), dtype=bool)
    image[rng.randint(size), rng.randint(size)] = True
    for _ in range(n_pixels - 1):
        grown = image.copy()
        grown[1:] |= image[:-1]
        grown[:-1] |= image[1:]
        grown[:, 1:] |= image[:, :-1]
        grown[:, :-1] |= image[:, 1:]
        image.flat[rng.choice(np.flatnonzero(grown & ~image))] = True
    return image


_DRAWERS = {
    "centred": _draw_centred_x,
    "wonky": _draw_wonky_x,
    "off_centre": _draw_off_centre_x,
    "ring": _draw_ring,
    "plus": _draw_plus,
    "hbar": _draw_hbar,
    "vbar": _draw_vbar,
    "l_shape": _draw_l_shape,
    "blob": _draw_blob,
}


def _looks_like_x(image):
    """Whether ``image`` (shape (size, size), bool) could be one of the X variants.

    Deliberately generous: any image with as many pixels as the centred X and at
    most four pixels away from it counts (two sideways moves change four pixels),
    as does any placement of an X one or two pixels narrower.
    """
    size = image.shape[0]
    centred = _x_strokes(size, size, 0, 0)
    if image.sum() == centred.sum() and np.sum(image != centred) <= 4:
        return True
    for width in (size - 1, size - 2):
        for top in range(size - width + 1):
            for left in range(size - width + 1):
                if np.array_equal(image, _x_strokes(size, width, top, left)):
                    return True
    return False


def _draw(kind, size, rng):
    """Draw one noiseless image of ``kind``; not-X's that resemble an X are redrawn."""
    while True:
        image = _DRAWERS[kind](size, rng)
        if kind in _X_KINDS or not _looks_like_x(image):
            return image


def _generate(n_samples, size, rng):
    """Noiseless shuffled images with their labels and shape kinds.

    Returns
    -------
    images : ndarray of shape (n_samples, size, size), dtype bool
    y : ndarray of shape (n_samples,), dtype int64
    kinds : ndarray of shape (n_samples,), dtype str
        One of ``_X_KINDS`` where ``y == 1``, of ``_NOT_X_KINDS`` elsewhere.
    """
    n_x = n_samples // 2
    n_not_x = n_samples - n_x
    # Cycle through the kinds in a random order, so each gets a near-equal share.
    kinds = np.concatenate(
        [
            np.resize(rng.permutation(_X_KINDS), n_x),
            np.resize(rng.permutation(_NOT_X_KINDS), n_not_x),
        ]
    )
    images = np.stack([_draw(kind, size, rng) for kind in kinds])
    y = np.repeat(np.array([1, 0], dtype=np.int64), [n_x, n_not_x])
    order = rng.permutation(n_samples)
    return images[order], y[order], kinds[order]


@validate_params(
    {
        "n_samples": [Interval(Integral, 2, None, closed="left")],
        "size": [Interval(Integral, 5, None, closed="left")],
        "noise": [Interval(Real, 0, 1, closed="both")],
        "return_images": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_x_or_not_x(
    n_samples=100, *, size=5, noise=0.0, return_images=False, random_state=None
):
    """Generate black-and-white images of X's and of other shapes.

    Half the images (rounded down) show an X, labelled 1; the others show
    something else, labelled 0. The X's come in three kinds, in near-equal
    numbers: centred (both diagonals of the whole image), wonky (a centred X with
    one or two stroke pixels bent one pixel sideways) and off-centre (an X one or
    two pixels narrower than the image, shifted away from the centre). The other
    shapes are rings (O's), pluses, horizontal and vertical bars, L's and random
    connected blobs, none of which is ever one of the X's above. The samples are
    shuffled.

    Parameters
    ----------
    n_samples : int, default=100
        Number of images, at least 2. There are ``n_samples // 2`` X's.

    size : int, default=5
        Height and width of the images in pixels, at least 5.

    noise : float, default=0.0
        Probability, between 0 and 1, that each pixel is flipped after drawing.
        Labels describe the shape before the noise.

    return_images : bool, default=False
        If True, return ``X`` as images of shape ``(n_samples, size, size)``
        instead of flat rows.

    random_state : int, RandomState instance or None, default=None
        Seed or generator for the shapes, their order and the noise. Pass an int
        for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, size * size) or (n_samples, size, size)
        Pixels as float64 0.0 (white) or 1.0 (black), rows in row-major order.

    y : ndarray of shape (n_samples,), dtype int64
        1 for an X, 0 otherwise.

    See Also
    --------
    sklearn.datasets.make_classification : Generic random classification data.

    Examples
    --------
    >>> from sklearn_xcnn.datasets import make_x_or_not_x
    >>> X, y = make_x_or_not_x(n_samples=100, random_state=0)
    >>> X.shape
    (100, 25)
    >>> print(y.mean())
    0.5
    >>> images, y = make_x_or_not_x(n_samples=6, return_images=True, random_state=4)
    >>> print(images[y == 1][0].astype(int))
    [[1 0 0 0 1]
     [0 1 0 1 0]
     [0 0 1 0 0]
     [0 1 0 1 0]
     [1 0 0 0 1]]
    """
    rng = check_random_state(random_state)
    images, y, _ = _generate(n_samples, size, rng)
    # Drawn whatever ``noise`` is, so one seed gives the same shapes at any noise.
    flip = rng.uniform(size=images.shape) < noise
    X = (images ^ flip).astype(np.float64)  # (n_samples, size, size)
    if not return_images:
        X = X.reshape(n_samples, size * size)
    return X, y
