"""Turning user input into channels-last image batches, with clear errors."""

import math
import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np

from ._core._inception import N_KERNELS
from ._core._kinds import BLOCK_KINDS


def as_int_tuple(value, name, *, allow_empty=False):
    """``value`` (int or sequence of ints) as a tuple of positive ints."""
    values = (value,) if np.ndim(value) == 0 else tuple(value)
    if not values and not allow_empty:
        raise ValueError(f"{name} must hold at least one value, got {value!r}.")
    for v in values:
        if not isinstance(v, Integral | np.integer) or isinstance(v, bool) or v < 1:
            raise ValueError(
                f"{name} must be a positive int or a sequence of positive ints, "
                f"got {value!r}."
            )
    return tuple(int(v) for v in values)


def as_pair(value, name):
    """``value`` (int or ``(rows, cols)``) as a pair of positive ints."""
    pair = as_int_tuple(value, name)
    if len(pair) == 1:
        return pair * 2
    if len(pair) != 2:
        raise ValueError(
            f"{name} must be an int or a (rows, cols) pair, got {value!r}."
        )
    return pair


def _is_sequence(value):
    return isinstance(value, tuple | list | np.ndarray)


def as_kernel(value, name):
    """``value`` as one ``(rows, cols)`` kernel, or as a tuple of kernels (one
    per convolution of a compound block).

    An int or a tuple of two ints is one kernel; a tuple holding a pair, or
    holding other than two entries, gives one kernel (an int or a pair) per
    convolution: ``(8, 5, 3)`` or ``((1, 8), (1, 5), (1, 3))``.
    """
    if not _is_sequence(value):
        return as_pair(value, name)
    values = tuple(value)
    if len(values) == 2 and not any(map(_is_sequence, values)):
        return as_pair(value, name)
    if not values:
        raise ValueError(f"{name} must hold at least one kernel, got {value!r}.")
    return tuple(as_pair(v, f"{name}[{i}]") for i, v in enumerate(values))


def check_kernel_counts(kernels, kinds, depths, given):
    """Raise unless each block's tuple of per-convolution kernels (if any)
    has one kernel per convolution of its kind.

    ``kernels``, ``kinds`` and ``depths`` are resolved per block (a list) or
    for every block; ``given`` is the ``kernel_size`` parameter as the user
    gave it, for the messages.
    """
    n_blocks = max(len(v) if isinstance(v, list) else 1 for v in (kernels, kinds,
                                                                 depths))  # fmt: skip
    for b in range(n_blocks):
        kernel, kind, depth = (v[b] if isinstance(v, list) else v
                               for v in (kernels, kinds, depths))  # fmt: skip
        if not _is_sequence(kernel[0]):
            continue
        if kind == "conv":
            raise ValueError(
                f"kernel_size must be an int or a (rows, cols) pair, got {given!r}: "
                f"block {b} is a 'conv' block, with one convolution; a tuple of "
                "kernels, one per convolution, is for 'residual' and 'inception' "
                "blocks."
            )
        n_convs = depth if kind == "residual" else N_KERNELS
        if len(kernel) != n_convs:
            what = (
                f"a residual unit of block_depth={depth} convolutions"
                if kind == "residual"
                else f"an {kind} module of {n_convs} parallel convolutions"
            )
            raise ValueError(
                f"kernel_size={given!r} gives block {b} {len(kernel)} kernels, one "
                f"per convolution, but it is {what}: give {n_convs} kernels, or "
                "one kernel for all."
            )


def as_positive_int(value, name):
    """``value`` checked to be one positive int."""
    values = as_int_tuple(value, name)
    if len(values) != 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return values[0]


def as_block_kind(value, name):
    """``value`` checked to be the name of a block kind."""
    kinds = tuple(BLOCK_KINDS)
    if not isinstance(value, str) or value not in kinds:
        raise ValueError(f"{name} must be one of {kinds}, got {value!r}.")
    return value


def as_padding(value, name):
    """``value`` ("valid", "same", int or ``(rows, cols)``) checked: a string
    as given, numbers as a pair of non-negative ints."""
    if isinstance(value, str):
        if value not in ("valid", "same"):
            raise ValueError(
                f"{name} must be 'valid', 'same', an int or a (rows, cols) pair of "
                f"non-negative ints, got {value!r}."
            )
        return value
    values = (value,) if np.ndim(value) == 0 else tuple(value)
    ok = len(values) in (1, 2) and all(
        isinstance(v, Integral | np.integer) and not isinstance(v, bool) and v >= 0
        for v in values
    )
    if not ok:
        raise ValueError(
            f"{name} must be 'valid', 'same', an int or a (rows, cols) pair of "
            f"non-negative ints (zeros added on each side), got {value!r}."
        )
    return tuple(int(v) for v in values) * (2 if len(values) == 1 else 1)


def per_block(value, name, n_blocks, convert):
    """``value`` resolved with ``convert``: a list gives one value per block
    and must have one entry per block; anything else serves every block."""
    if not isinstance(value, list):
        return convert(value, name)
    if len(value) != n_blocks:
        raise ValueError(
            f"{name} is a list of {len(value)} value(s) but n_filters has "
            f"{n_blocks} block(s): give one entry per block, or a single value "
            "(an int or a (rows, cols) tuple) for every block."
        )
    return [convert(v, f"{name}[{i}]") for i, v in enumerate(value)]


def split_images(X):
    """Flatten 3-D/4-D image input to rows; leave 2-D input alone.

    Parameters
    ----------
    X : array-like
        ``(n, n_features)``, ``(n, H, W)`` or ``(n, d1, d2, d3)``: channels
        last ``(H, W, C)`` or, when ``image_shape`` says so, channels first
        ``(C, H, W)``.

    Returns
    -------
    X : array-like
        With at most two dimensions (other inputs are passed on unchanged so
        that scikit-learn's own checks report them).
    axes : tuple of int or None
        ``X.shape[1:]`` (2 or 3 sizes) when ``X`` came as images.
    """
    if isinstance(X, list | tuple):
        try:
            X = np.asarray(X)
        except ValueError as exc:
            raise ValueError(
                "X could not be read as a rectangular array: its nested sequences "
                "have different lengths (ragged rows or images)."
            ) from exc
    _check_kind(X)
    ndim = getattr(X, "ndim", None)
    if not isinstance(X, np.ndarray) or ndim is None or ndim <= 2:
        return X, None
    if ndim > 4:
        raise ValueError(
            f"X must be 2-D (n_samples, n_features), 3-D (n_samples, height, width) "
            f"or 4-D (n_samples, height, width, channels); got a {ndim}-D array of "
            f"shape {X.shape}."
        )
    return X.reshape(X.shape[0], -1), tuple(int(s) for s in X.shape[1:])


def _check_kind(X):
    """Reject arrays of fewer than 2 dimensions and complex arrays, briefly.

    scikit-learn's own messages for these print the whole array.
    """
    if isinstance(X, np.ndarray | np.generic | Real) and np.ndim(X) < 2:
        raise ValueError(
            f"Expected 2D array, got {np.ndim(X)}D array instead: X must be 2-D "
            "(n_samples, n_features) or a batch of images, got an array of shape "
            f"{np.shape(X)}. Reshape your data: "
            "X.reshape(1, -1) if it holds a single sample (image), "
            "X.reshape(-1, 1) if it holds a single feature."
        )
    if isinstance(X, np.ndarray):
        dtypes = [X.dtype]
    else:  # a DataFrame has one dtype per column
        dtypes = list(X.dtypes) if hasattr(X, "dtypes") else []
    complex_ = [d for d in dtypes if getattr(d, "kind", None) == "c"]
    if complex_:
        raise ValueError(
            f"Complex data not supported: X has dtype {complex_[0]}. Images must "
            "hold real numbers; pass X.real or np.abs(X)."
        )


@contextmanager
def readable_conversion_errors():
    """Re-raise numpy's failure to read strings as floats with a clear message."""
    try:
        yield
    except ValueError as exc:
        if "could not convert" not in str(exc) or "float" not in str(exc):
            raise
        raise ValueError(
            f"X holds values that are not numbers ({exc}). Images must hold "
            "numeric pixel values: encode or drop the non-numeric columns first."
        ) from exc


def check_finite_output(logits, X):
    """Raise if the network's outputs overflowed for some rows.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_outputs)
    X : ndarray of shape (n_samples, H, W, C)
        The input, to report its magnitude.
    """
    bad = ~np.isfinite(logits).all(axis=1)
    if bad.any():
        raise ValueError(
            f"The network's outputs overflowed to inf or NaN for {int(bad.sum())} "
            f"of {len(bad)} sample(s): X holds values of magnitude up to "
            f"{float(np.abs(X).max()):.3g}, too large for dtype {X.dtype}. Scale X "
            "to the range it was trained on (e.g. with MinMaxScaler)."
        )


# from this many features on, a perfect square is as likely a series
AMBIGUOUS_SQUARE = 100

# channel counts of the usual image layouts: grey, RGB, RGBA
CHANNEL_COUNTS = (1, 3, 4)


def _channels_last(axes):
    """``(H, W, C)`` of images given with ``axes`` ``(H, W)`` or ``(H, W, C)``."""
    return axes if len(axes) == 3 else (*axes, 1)


def _channels_first(shape):
    """``(C, H, W)``: how channels-first images of ``shape`` (H, W, C) come."""
    H, W, C = shape
    return (C, H, W)


def looks_channels_first(axes):
    """Whether 4-D images of ``axes`` (d1, d2, d3) are probably (C, H, W):
    a usual channel count first and none last."""
    return (
        len(axes) == 3 and axes[0] in CHANNEL_COUNTS and axes[2] not in CHANNEL_COUNTS
    )


def _checked_image_shape(image_shape):
    """The ``image_shape`` parameter as ``(H, W, C)``."""
    shape = as_int_tuple(image_shape, "image_shape")
    if len(shape) not in (2, 3):
        raise ValueError(
            "image_shape must be (height, width) or (height, width, channels), "
            f"got {image_shape!r}."
        )
    return _channels_last(shape)


def _axes_order(axes, shape, image_shape):
    """Whether images of ``axes`` are ``shape`` (H, W, C) channels first;
    raise if they are ``shape`` in neither order."""
    if _channels_last(axes) == shape:
        return False
    if len(axes) == 3 and axes == _channels_first(shape):
        return True
    raise ValueError(
        f"X holds images of shape {_channels_last(axes)} (height, width, "
        f"channels) but image_shape={image_shape!r}; drop image_shape or make "
        "them agree (channels-first images of shape (C, H, W) take "
        "image_shape=(H, W, C))."
    )


def _warn_channels_first(axes, stacklevel):
    d1, d2, d3 = axes
    warnings.warn(
        f"X holds images of shape {axes}, read as {d1}x{d2} images with {d3} "
        f"channels (channels last: height, width, channels). If they are "
        f"{d2}x{d3} images with {d1} channel(s) first (channels, height, width, "
        f"as PyTorch stores them), pass image_shape=({d2}, {d3}, {d1}) and they "
        f"are read that way; pass image_shape={axes} to confirm channels last "
        "and silence this warning.",
        UserWarning,
        stacklevel=stacklevel + 1,
    )


def resolve_image_shape(n_features, image_shape, x_axes=None, stacklevel=2):
    """The ``(H, W, C)`` layout of a row of ``n_features`` values, and
    whether images given as ``X`` come channels first.

    Parameters
    ----------
    n_features : int
    image_shape : None or tuple of 2 or 3 ints
        The estimator parameter.
    x_axes : None or tuple of 2 or 3 ints
        ``X.shape[1:]`` when X came as images.
    stacklevel : int, default=2
        Of the warnings given when a large square or a channels-last reading
        of probably channels-first images is guessed.

    Returns
    -------
    shape : (int, int, int)
    channels_first : bool
        True when ``X`` holds ``(C, H, W)`` images (only when ``image_shape``
        says so).
    """
    if image_shape is not None:
        shape = _checked_image_shape(image_shape)
        first = False if x_axes is None else _axes_order(x_axes, shape, image_shape)
        if math.prod(shape) != n_features:
            raise ValueError(
                f"image_shape={image_shape!r} describes {math.prod(shape)} values "
                f"per image but X has {n_features} features per row."
            )
        return shape, first
    if x_axes is not None:
        if looks_channels_first(x_axes):
            _warn_channels_first(x_axes, stacklevel)
        return _channels_last(x_axes), False
    return _guess_image_shape(n_features, stacklevel + 1), False


def _guess_image_shape(n_features, stacklevel):
    """``(H, W, 1)`` of flat rows: a square image, or else a series."""
    side = math.isqrt(n_features)
    if side * side != n_features:
        return (1, n_features, 1)
    if n_features >= AMBIGUOUS_SQUARE:
        warnings.warn(
            f"X has {n_features} features per row and image_shape=None: they are "
            f"read as {side}x{side} images. If each row is a series of "
            f"{n_features} steps, pass image_shape=(1, {n_features}); pass "
            f"image_shape=({side}, {side}) to confirm the images and silence this "
            "warning.",
            UserWarning,
            stacklevel=stacklevel,
        )
    return (side, side, 1)


def check_image_axes(x_axes, shape, channels_first, name):
    """Raise unless images of ``x_axes`` are read as the model was fitted:
    ``shape`` (H, W, C), channels first if it was fitted so (4-D ``X``).

    Returns
    -------
    channels_first : bool
        Whether these images are to be transposed.
    """
    first = channels_first and len(x_axes) == 3
    expected = _channels_first(shape) if first else shape
    given = x_axes if first else _channels_last(x_axes)
    if given == expected:
        return first
    if first:
        raise ValueError(
            f"X holds images of shape {given} but {name} was fitted on "
            f"channels-first images of shape {expected} (channels, height, "
            "width): give them in the same order."
        )
    hint = (
        " They look channels first: pass X.transpose(0, 2, 3, 1)."
        if x_axes == _channels_first(shape)
        else ""
    )
    raise ValueError(
        f"X holds images of shape {given} (height, width, channels) but {name} "
        f"was fitted on images of shape {expected}.{hint}"
    )


def as_images(X, shape, channels_first):
    """Rows ``X`` (n, n_features) as C-contiguous ``(n, H, W, C)`` images,
    read from ``(C, H, W)`` order when ``channels_first``."""
    if not channels_first:
        return X.reshape(X.shape[0], *shape)
    x = X.reshape(X.shape[0], *_channels_first(shape))  # (n, C, H, W)
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # (n, H, W, C)
