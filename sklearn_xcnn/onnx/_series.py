"""The input of the series estimators' graphs, and the time axis.

A series estimator (:mod:`sklearn_xcnn.series`) reads equal-length series as
aeon holds them and runs its network on images ``(n, 1, T, C)`` channels
last, which is ``(n, C, 1, T)`` in ONNX's NCHW. So the graph takes:

* ``(n, n_channels, n_timepoints)``, aeon's ``numpy3D``: one ``Reshape`` to
  ``(n, C, 1, T)`` adds the unit row axis, with nothing transposed;
* ``(n, n_timepoints)``, univariate series (``numpy2D``, as a pipeline's
  transformers pass them on): the same ``Reshape``, with one channel.

The time axis may be left free (``None`` in the input type; :func:`to_onnx
<sklearn_xcnn.onnx.to_onnx>` does so for a 3-D sample), or fixed at another
length than the model's ``n_timepoints_`` (the longest it was fitted on),
when the graph does not depend on the length: the network ends in global
pooling, its blocks do not pool and every convolution has stride 1 (its
padding, 'same' or not, is then the same for every length). The graph
computes what the estimator predicts for series of every length the
estimator accepts; it does not refuse series shorter than the network's
kernels, which the estimator does.
"""

import numpy as np
from sklearn.pipeline import Pipeline

from ..series._base import SeriesMixin


def is_series_estimator(est):
    """Whether ``est`` reads series (a :class:`SeriesMixin` estimator)."""
    return isinstance(est, SeriesMixin)


def series_maps(g, x, est):
    """The float32 series ``x``, ``(n, C, T)`` or ``(n, T)``, as the maps
    ``(n, C, 1, T)`` of ``est``'s network."""
    shape = g.const("series_shape", [0, est.n_channels_, 1, -1], np.int64)
    return g.node("Reshape", [x, shape], hint="series_nchw")  # (n, C, 1, T)


def any_length(spec):
    """Whether the network's graph is the same for every series length:
    global pooling, no pooling in the blocks, every convolution at stride 1."""
    if spec.global_pooling is None:
        return False
    for block in spec.blocks:
        if spec.pooling is not None and block.pool is not None:
            return False
        if any(tuple(unit.stride) != (1, 1) for unit in block.conv_units):
            return False
    return True


def check_series_input(shape, est, networks, name):
    """Refuse an input type ``shape`` that ``est`` cannot read (ValueError).

    Parameters
    ----------
    shape : list
        The input's shape, ``None`` or a name where unknown.
    est : estimator
        A series estimator (an ensemble's first member).
    networks : list of FittedNetwork
        The networks that read the input (several for an ensemble), all
        fitted on ``est``'s layout.
    name : str
        The exported model's class, named in the errors.
    """
    C, T = est.n_channels_, est.n_timepoints_
    if len(shape) == 3:
        channels, length = shape[1], shape[2]
        if isinstance(channels, int) and channels != C:
            raise ValueError(
                f"{name} was fitted on series of {C} channel(s) but its ONNX "
                f"input (n, n_channels, n_timepoints) has {channels}."
            )
    elif len(shape) == 2:
        length = shape[1]
        if C != 1:
            raise ValueError(
                f"{name} was fitted on series of {C} channels: its ONNX input "
                "must be 3-D (n, n_channels, n_timepoints); a 2-D input holds "
                "univariate series."
            )
    else:
        raise ValueError(
            f"{name} takes ONNX inputs (n, n_channels, n_timepoints) or (n, "
            f"n_timepoints) for univariate series; got a {len(shape)}-D input."
        )
    if length == T or all(any_length(n.spec) for n in networks):
        return
    raise ValueError(
        f"{name} was fitted on series of {T} time points and its graph "
        "takes that length only (another length, or a free time axis, needs "
        "global pooling, no pooling in the blocks and stride 1); its ONNX input "
        f"has {length!r} time points."
    )


def _estimators_in(model):
    """``model`` and, for a pipeline, its steps (recursively)."""
    if isinstance(model, Pipeline):
        return [e for _, step in model.steps for e in _estimators_in(step)]
    return [model]


def series_initial_types(model, X, members):
    """The input type of a 3-D sample ``X`` with a free time axis, when
    every series network in ``model`` allows it, else None (skl2onnx then
    guesses the type from ``X``, fixing the length).

    ``members(est)`` returns the single-network estimators of ``est`` (the
    estimator itself, or an ensemble's members; empty for other models).
    """
    from skl2onnx.algebra.type_helper import guess_initial_types

    if getattr(X, "ndim", None) != 3:
        return None
    networks = [m for est in _estimators_in(model) for m in members(est)]
    networks = [m for m in networks if is_series_estimator(m)]
    if not networks or not all(any_length(m._fitted_network().spec) for m in networks):
        return None
    ((name, guessed),) = guess_initial_types(X, None)
    return [(name, type(guessed)([None, X.shape[1], None]))]
