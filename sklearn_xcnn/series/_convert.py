"""aeon's series layouts read as the core's channels-last rows, once, at entry.

Three layouts are taken, as aeon names them:

* ``numpy3D``: an array ``(n_cases, n_channels, n_timepoints)``;
* ``numpy2D``: an array (or DataFrame) ``(n_cases, n_timepoints)`` of
  univariate series;
* ``np-list``: a list of ``(n_channels, n_timepoints_i)`` arrays (or of 1-D
  univariate series), of equal or unequal lengths.

An equal-length input becomes rows ``(n_cases, n_timepoints * n_channels)``,
each holding the channels of step 0, then of step 1, ... (the channels-last
flattening of the images ``(n_cases, 1, n_timepoints, n_channels)``), which
scikit-learn's ``validate_data`` then checks as any 2-D ``X``. A list of
unequal lengths stays a list of ``(n_timepoints_i, n_channels)`` arrays.
"""

import numpy as np
from sklearn.utils import check_array

LAYOUTS = (
    "X must be 2-D (n_cases, n_timepoints) for univariate series, 3-D "
    "(n_cases, n_channels, n_timepoints), or a list of (n_channels, "
    "n_timepoints_i) arrays"
)


def is_series_list(X):
    """Whether ``X`` is aeon's ``np-list``: a list or tuple of arrays."""
    return (
        isinstance(X, list | tuple)
        and len(X) > 0
        and all(isinstance(x, np.ndarray) for x in X)
    )


def series_rows(X):
    """Equal-length series as channels-last rows.

    Parameters
    ----------
    X : array-like
        ``(n_cases, n_timepoints)``, ``(n_cases, n_channels, n_timepoints)``
        or a list of equal-length series. Anything else that is not 3-D
        (a DataFrame, a sparse matrix, a 1-D array) is passed on unchanged
        for scikit-learn's checks to report.

    Returns
    -------
    rows : array-like of shape (n_cases, n_timepoints * n_channels)
    n_channels : int
    """
    if is_series_list(X):
        X = stack_equal(X)
    elif isinstance(X, list | tuple):
        X = np.asarray(X) if _rectangular(X) else X
    ndim = getattr(X, "ndim", None)
    if not isinstance(X, np.ndarray) or ndim != 3:
        if ndim is not None and ndim > 3:
            raise ValueError(
                f"{LAYOUTS}; got a {ndim}-D array of shape {X.shape}. For images "
                "use sklearn_xcnn.CNNClassifier or CNNRegressor."
            )
        return X, 1
    n, n_channels, n_timepoints = X.shape
    rows = X.transpose(0, 2, 1).reshape(n, n_timepoints * n_channels)  # (n, T*C)
    return rows, n_channels


def _rectangular(X):
    try:
        np.asarray(X)
    except ValueError as exc:
        raise ValueError(
            f"{LAYOUTS}; got nested sequences of different lengths (give series "
            "of unequal length as a list of numpy arrays)."
        ) from exc
    return True


def stack_equal(series):
    """A list of series of one shape as ``(n_cases, n_channels, n_timepoints)``;
    raises for unequal lengths or channel counts."""
    shapes = {_as_2d(x).shape for x in series}
    if len(shapes) > 1:
        raise ValueError(
            "The series of X have different lengths or channel counts "
            f"((n_channels, n_timepoints): {sorted(shapes)[:4]}...); they cannot "
            "be stacked into one array."
        )
    return np.stack([_as_2d(x) for x in series])  # (n, C, T)


def _as_2d(x):
    """One series ``(n_channels, n_timepoints)``; a 1-D series is univariate."""
    if x.ndim == 1:
        return x[None, :]
    if x.ndim != 2:
        raise ValueError(
            f"{LAYOUTS}; a list element has shape {x.shape}, not (n_channels, "
            "n_timepoints)."
        )
    return x


def series_lengths(X):
    """The set of the lengths of the series of the list ``X``."""
    return {_as_2d(x).shape[1] for x in X}


def checked_series(X, n_channels, dtype=None):
    """Each series of the list ``X`` as ``(n_timepoints_i, n_channels)`` floats,
    finite and with ``n_channels`` channels.

    Parameters
    ----------
    X : list of ndarray
        Of shape ``(n_channels, n_timepoints_i)`` or ``(n_timepoints_i,)``.
    n_channels : int or None
        The channel count every series must have (that of a fitted model);
        None: that of ``X[0]`` (a first fit).
    dtype : dtype or None
        float32 when every series is float32, else float64, when None.

    Returns
    -------
    series : list of ndarray of shape (n_timepoints_i, n_channels)
    """
    if dtype is None:
        all32 = all(x.dtype == np.float32 for x in X)
        dtype = np.float32 if all32 else np.float64
    series = []
    fitted = n_channels is not None
    n_channels = n_channels if fitted else _as_2d(X[0]).shape[0]
    for i, x in enumerate(X):
        x = _as_2d(x)
        if x.shape[0] != n_channels:
            raise ValueError(
                f"X[{i}] has {x.shape[0]} channel(s) but the model was fitted on "
                f"series of {n_channels} channel(s)."
                if fitted
                else f"X[{i}] has {x.shape[0]} channel(s) but X[0] has "
                f"{n_channels}: the series of a fit must all have the same "
                "channels."
            )
        if x.dtype.kind not in "biuf":
            raise ValueError(
                f"X[{i}] has dtype {x.dtype}: series must hold real numbers."
            )
        if not np.isfinite(x).all():
            raise ValueError(
                f"X[{i}] holds NaN or infinity: series of unequal length are "
                "given at their own lengths, not padded with NaN. Drop the "
                "padding (x[:, ~np.isnan(x).any(axis=0)]) or impute the gaps."
            )
        series.append(check_array(x.T, dtype=dtype, order="C"))  # (T_i, C)
    return series


def groups_by_length(series):
    """``{n_timepoints: indices}`` of the series of each length."""
    lengths = np.array([len(x) for x in series])
    return {int(t): np.flatnonzero(lengths == t) for t in np.unique(lengths)}
