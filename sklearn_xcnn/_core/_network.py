"""The whole network: architecture, initialisation, forward and backward.

A network is described by a :class:`NetworkSpec` and its parameters by a flat
list in a fixed order::

    [filters_0, filter_intercepts_0, ..., filters_B, filter_intercepts_B,
     coefs_0, intercepts_0, ..., coefs_L, intercepts_L]

with ``filters_b`` of shape ``(F, C, kr, kc)``, ``filter_intercepts_b`` of
shape ``(F,)``, ``coefs_l`` of shape ``(n_in, n_out)`` and ``intercepts_l``
of shape ``(n_out,)``. The last dense layer is the output layer.

A convolutional block is ``pool(act(correlate(x, w) + b))``. For max pooling
the block computes the equal ``act(maxpool(correlate(x, w)) + b)`` instead:
the bias is one number per filter and every activation is non-decreasing, so
taking the maximum first gives the same map while the bias and the activation
touch only the pooled cells. The correlation then returns its output in pool
order (one contiguous block per offset inside the pooling window), so the
maximum is elementwise over contiguous blocks.
"""

from typing import NamedTuple

import numpy as np

from ._activations import ACTIVATIONS, DERIVATIVES
from ._conv import (
    choose_engine,
    conv_output_size,
    correlate_backward,
    correlate_forward,
)
from ._loss import DEFAULT_LOSS, LOSSES
from ._pool import (
    max_pool_ordered,
    max_pool_ordered_backward,
    pool_backward,
    pool_forward,
    pool_output_size,
)


class BlockSpec(NamedTuple):
    """One convolutional block, with every size resolved."""

    in_shape: tuple  # (H, W, C) of the block input
    n_filters: int
    kernel: tuple  # (kr, kc), clipped to the input
    stride: tuple  # (sr, sc)
    conv_shape: tuple  # (Ho, Wo) of the feature maps
    pool: tuple | None  # (pr, pc), clipped to the feature maps, or None
    out_shape: tuple  # (Hp, Wp, F) of the block output
    engine: str  # "im2col" or "scipy"


class NetworkSpec(NamedTuple):
    """Architecture of a network, everything needed besides the parameters."""

    blocks: tuple  # of BlockSpec
    pooling: str | None  # "max", "mean", "sum" or None
    activation: str
    layer_units: tuple  # (n_flat, *hidden_units, n_outputs)
    out_activation: str  # "logistic", "softmax" or "identity"
    loss: str  # a key of LOSSES: "log_loss" or "squared_error"


def _pair(value):
    return (value, value) if np.ndim(value) == 0 else tuple(int(v) for v in value)


def build_spec(
    image_shape,
    n_filters,
    kernel_size,
    stride,
    pool_size,
    pooling,
    hidden_units,
    activation,
    n_outputs,
    out_activation,
    algorithm="auto",
    *,
    loss=None,
):
    """Resolve every size of a network for images of ``image_shape``.

    Kernels and pooling windows larger than the map they slide over are
    clipped to it, so any image of at least one pixel fits.

    Parameters
    ----------
    image_shape : (int, int, int)
        ``(H, W, C)``.
    n_filters : tuple of int
        Filters of each block.
    kernel_size, stride, pool_size : int or (int, int)
    pooling : {"max", "mean", "sum"} or None
    hidden_units : tuple of int
    activation : str
    n_outputs : int
    out_activation : {"logistic", "softmax", "identity"}
    algorithm : {"auto", "im2col", "scipy"}, default="auto"
    loss : {"log_loss", "squared_error"} or None, default=None
        The training loss (see :data:`._loss.LOSSES`); ``None`` takes the one
        that goes with ``out_activation``.

    Returns
    -------
    spec : NetworkSpec
    """
    blocks = []
    shape = tuple(image_shape)
    for n_f in n_filters:
        H, W, C = shape
        kernel = tuple(min(k, s) for k, s in zip(_pair(kernel_size), (H, W)))
        strides = _pair(stride)
        conv = tuple(conv_output_size(*a) for a in zip((H, W), kernel, strides))
        if pooling is None:
            pool, out = None, conv
        else:
            pool = tuple(min(p, s) for p, s in zip(_pair(pool_size), conv))
            out = tuple(pool_output_size(*a) for a in zip(conv, pool))
        engine = (
            choose_engine(shape, kernel, strides) if algorithm == "auto" else algorithm
        )
        blocks.append(
            BlockSpec(shape, n_f, kernel, strides, conv, pool, (*out, n_f), engine)
        )
        shape = (*out, n_f)
    units = (int(np.prod(shape)), *hidden_units, n_outputs)
    loss = DEFAULT_LOSS[out_activation] if loss is None else loss
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; use one of {tuple(LOSSES)}")
    return NetworkSpec(tuple(blocks), pooling, activation, units, out_activation, loss)


def param_shapes(spec):
    """Shapes of the parameters, in the documented order."""
    shapes = []
    for block in spec.blocks:
        C = block.in_shape[2]
        shapes += [(block.n_filters, C, *block.kernel), (block.n_filters,)]
    for n_in, n_out in zip(spec.layer_units[:-1], spec.layer_units[1:]):
        shapes += [(n_in, n_out), (n_out,)]
    return shapes


PARAM_GROUPS = ("filters", "filter_intercepts", "coefs", "intercepts")


def split_params(params, spec):
    """The flat parameter list as named groups.

    Returns
    -------
    groups : dict of str to list of ndarray
        ``filters`` and ``filter_intercepts`` (one per block), ``coefs`` and
        ``intercepts`` (one per dense layer), the keys of
        :data:`PARAM_GROUPS`.
    """
    n_conv = n_conv_params(spec)
    return {
        "filters": list(params[0:n_conv:2]),
        "filter_intercepts": list(params[1:n_conv:2]),
        "coefs": list(params[n_conv::2]),
        "intercepts": list(params[n_conv + 1 :: 2]),
    }


def join_params(groups):
    """Inverse of :func:`split_params`: the flat list in the documented order."""
    conv = zip(groups["filters"], groups["filter_intercepts"])
    dense = zip(groups["coefs"], groups["intercepts"])
    return [a for pair in conv for a in pair] + [a for pair in dense for a in pair]


def init_params(spec, random_state, dtype):
    """Draw initial parameters, Glorot-uniform as in scikit-learn's MLP.

    Weights and intercepts of a layer are drawn from ``U(-b, b)`` with
    ``b = sqrt(factor / (fan_in + fan_out))``, ``factor`` being 2 for the
    logistic activation and 6 otherwise. For a filter bank the fans are
    ``C * kr * kc`` and ``F * kr * kc``.

    Parameters
    ----------
    spec : NetworkSpec
    random_state : numpy.random.RandomState
    dtype : numpy dtype

    Returns
    -------
    params : list of ndarray
    """
    factor = 2.0 if spec.activation == "logistic" else 6.0
    params = []
    for w_shape, b_shape in zip(*[iter(param_shapes(spec))] * 2):
        if len(w_shape) == 4:
            F, C, kr, kc = w_shape
            fan_in, fan_out = C * kr * kc, F * kr * kc
        else:
            fan_in, fan_out = w_shape
        bound = np.sqrt(factor / (fan_in + fan_out))
        params.append(random_state.uniform(-bound, bound, w_shape).astype(dtype))
        params.append(random_state.uniform(-bound, bound, b_shape).astype(dtype))
    return params


def n_conv_params(spec):
    """Number of entries in ``params`` that belong to convolutional blocks."""
    return 2 * len(spec.blocks)


def _block_forward(x, w, b, block, spec, keep_cache):
    """One block: ``(n, H, W, C) -> (n, Hp, Wp, F)`` and its cache."""
    act = ACTIVATIONS[spec.activation]
    if spec.pooling == "max":
        # correlate in pool order: the max is taken over contiguous blocks
        z, conv_cache = correlate_forward(
            x, w, block.stride, block.engine, keep_cache, pool_order=block.pool
        )
        layout = (x.shape[0], *block.conv_shape, *block.pool)
        a, argmax = max_pool_ordered(z, layout, keep_cache)
        a = act(np.add(a, b, out=a))
        return a, ((conv_cache, a, (argmax, layout)) if keep_cache else None)
    z, conv_cache = correlate_forward(x, w, block.stride, block.engine, keep_cache)
    a = act(np.add(z, b, out=z))
    pool_cache = None
    if spec.pooling is not None:
        pooled, pool_cache = pool_forward(a, block.pool, spec.pooling)
        return pooled, ((conv_cache, a, pool_cache) if keep_cache else None)
    return a, ((conv_cache, a, None) if keep_cache else None)


def _block_backward(d, cache, spec, need_dx):
    """Back through one block: returns ``(dx, dw, db)``."""
    conv_cache, a_act, pool_cache = cache
    derivative = DERIVATIVES[spec.activation]
    if spec.pooling in ("mean", "sum"):
        d = pool_backward(d, pool_cache)
    d = derivative(a_act, d)
    db = d.sum(axis=(0, 1, 2))
    if spec.pooling == "max":
        d = max_pool_ordered_backward(d, *pool_cache)
    dx, dw = correlate_backward(d, conv_cache, need_dx)
    return dx, dw, db


def forward(params, X, spec, keep_cache=False):
    """Run the network up to the output logits.

    Parameters
    ----------
    params : list of ndarray
        In the documented order.
    X : ndarray of shape (n, H, W, C)
    spec : NetworkSpec
    keep_cache : bool, default=False
        Keep what :func:`backward` needs.

    Returns
    -------
    logits : ndarray of shape (n, n_outputs)
    cache : list or None
    """
    caches = []
    a = X
    n_conv = n_conv_params(spec)
    for i, block in enumerate(spec.blocks):
        a, cache = _block_forward(
            a, *params[2 * i : 2 * i + 2], block, spec, keep_cache
        )
        caches.append(cache)
    # flatten as filters x rows x cols, the documented order of coefs_[0]
    a = a.transpose(0, 3, 1, 2).reshape(a.shape[0], -1)  # (n, F*Hp*Wp)
    dense = params[n_conv:]
    act = ACTIVATIONS[spec.activation]
    for i in range(0, len(dense), 2):
        caches.append(a)
        z = a @ dense[i]
        z += dense[i + 1]
        a = z if i == len(dense) - 2 else act(z)
    return a, (caches if keep_cache else None)


def backward(delta, params, caches, spec):
    """Gradients of every parameter given the gradient at the logits.

    Parameters
    ----------
    delta : ndarray of shape (n, n_outputs)
    params : list of ndarray
    caches : list
        From :func:`forward` with ``keep_cache=True``.
    spec : NetworkSpec

    Returns
    -------
    grads : list of ndarray
        Same order and shapes as ``params``.
    """
    n_conv = n_conv_params(spec)
    n_blocks = len(spec.blocks)
    grads = [None] * len(params)
    derivative = DERIVATIVES[spec.activation]
    for i in range(len(params) - 2, n_conv - 2, -2):
        a_in = caches[n_blocks + (i - n_conv) // 2]  # (n, n_in)
        grads[i] = a_in.T @ delta
        grads[i + 1] = delta.sum(axis=0)
        if i > n_conv or n_blocks:
            delta = delta @ params[i].T
            if i > n_conv:
                delta = derivative(a_in, delta)
    if n_blocks == 0:
        return grads
    Hp, Wp, F = spec.blocks[-1].out_shape
    d = delta.reshape(-1, F, Hp, Wp).transpose(0, 2, 3, 1)  # (n, Hp, Wp, F)
    d = np.ascontiguousarray(d)
    for b in range(n_blocks - 1, -1, -1):
        d, grads[2 * b], grads[2 * b + 1] = _block_backward(d, caches[b], spec, b > 0)
    return grads


def loss_and_grad(params, X, Y, spec, alpha, sample_weight=None):
    """Regularised loss and its gradient for one batch.

    The loss is ``spec.loss`` (the weighted mean log loss or half the mean
    squared error, see :mod:`._loss`) plus
    ``0.5 * alpha * ||weights||^2 / sum(sample_weight)``, where the weights are
    the filters and dense coefficients (not the intercepts), as in
    scikit-learn's MLP.

    Parameters
    ----------
    params : list of ndarray
    X : ndarray of shape (n, H, W, C)
    Y : ndarray of shape (n, n_outputs)
        Binary indicator targets, or real targets for the squared error.
    spec : NetworkSpec
    alpha : float
    sample_weight : ndarray of shape (n,) or None

    Returns
    -------
    loss : float
    grads : list of ndarray
    """
    logits, caches = forward(params, X, spec, keep_cache=True)
    loss, delta = LOSSES[spec.loss](logits, Y, sample_weight, spec.out_activation)
    grads = backward(delta, params, caches, spec)
    total = X.shape[0] if sample_weight is None else sample_weight.sum()
    return add_l2_penalty(params, loss, grads, alpha, total)


def add_l2_penalty(params, loss, grads, alpha, total):
    """Add ``0.5 * alpha * ||weights||^2 / total`` to ``loss`` and its
    gradient to ``grads`` (in place); intercepts are not penalised.

    Returns
    -------
    loss : float
    grads : list of ndarray
    """
    if alpha == 0:
        return loss, grads
    scale = alpha / total
    for i in range(0, len(params), 2):  # weights sit at even positions
        w = params[i].ravel()
        loss += 0.5 * scale * float(w @ w)
        grads[i] += scale * params[i]
    return loss, grads


def pack(arrays, out=None):
    """Concatenate arrays into one flat vector (``out`` if given)."""
    if out is None:
        return np.concatenate([a.ravel() for a in arrays])
    start = 0
    for a in arrays:
        out[start : start + a.size] = a.ravel()
        start += a.size
    return out


def unpack(flat, shapes):
    """Views of ``flat`` with the given shapes (inverse of :func:`pack`)."""
    arrays, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        arrays.append(flat[start : start + size].reshape(shape))
        start += size
    return arrays
