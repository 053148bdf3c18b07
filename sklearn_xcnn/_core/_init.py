"""Initial parameters, and a start on which every ReLU unit learns.

:func:`init_params` draws weights and intercepts Glorot-uniform as
scikit-learn's MLP does: ``U(-b, b)`` with ``b = sqrt(factor / (fan_in +
fan_out))``, ``factor`` being 2 for the logistic activation and 6 otherwise
(for a filter bank the fans are ``C * kr * kc`` and ``F * kr * kc``;
:func:`weight_bound`). The output layer is drawn at a share of that scale
(:func:`output_scale`), small, so that a fresh network predicts nearly
uniform probabilities (or values near zero) and the first steps do not start
from confident mistakes: a tenth, except for a classifier of plain blocks
whose output layer reads at least ``WIDE`` units and which Adam trains. Adam
moves every weight by about its learning rate per step, whatever the
gradient, so at a small rate an output layer drawn at a tenth takes many
steps to grow and slows the first epochs; that classifier's output is drawn
at ``LR_REF / learning_rate_init`` of Glorot's scale, within a tenth and
half (half at ``1e-3``, a sixth at the default ``3e-3``, a tenth from
``5e-3``). Batch-norm scales start at one.

A ReLU unit whose pre-activation is negative on every sample receives no
gradient and never recovers; one that fires on a few samples only is not far
from it. :func:`revive_dead_units` runs a first batch of training images
through the freshly drawn network, layer by layer, and flips the sign of the
weights and intercept of each ReLU unit (filter or hidden unit) that fires on
fewer than half of that batch: the flipped unit fires exactly where it was
negative, so on more than half. The weights keep their drawn magnitudes
(nothing grows with the scale of the data) and their distribution, which is
symmetric about zero.

A regression network starts its output intercepts at the mean of the
targets (:func:`start_at_the_mean`).
"""

import numpy as np

from ._activations import ACTIVATIONS
from ._conv import correlate_forward
from ._kinds import BLOCK_KINDS, Context
from ._norm import batch_norm_forward
from ._pad import pad_images
from ._pool import global_pool_forward, pool_forward
from ._spec import block_offsets, n_conv_params, n_weighted_params, param_shapes

# scale of the output layer's initial weights, relative to Glorot's: at
# least OUTPUT_SCALE, at most MAX_OUTPUT_SCALE (see output_scale)
OUTPUT_SCALE = 0.1
MAX_OUTPUT_SCALE = 0.5
# an Adam rate at which the output scale is 1; it falls as 1 / rate
LR_REF = 5e-4
# the least number of units an output layer reads for a rate-dependent scale
WIDE = 64
# a ReLU unit firing on fewer than this share of the first batch is moved so
# that it fires on about half of it
MIN_ACTIVE = 0.5


def _fans(shape):
    if len(shape) == 4:
        F, C, kr, kc = shape
        return C * kr * kc, F * kr * kc
    return shape


def weight_bound(activation, fan_in, fan_out):
    """Half-width ``b`` of the uniform draw ``U(-b, b)`` of a layer whose
    units apply ``activation``: Glorot's ``sqrt(6 / (fan_in + fan_out))``,
    with 2 instead of 6 for the logistic activation (scikit-learn's MLP)."""
    factor = 2.0 if activation == "logistic" else 6.0
    return np.sqrt(factor / (fan_in + fan_out))


def output_scale(spec, learning_rate=None):
    """The output layer's share of Glorot's bound.

    ``min(MAX_OUTPUT_SCALE, max(OUTPUT_SCALE, LR_REF / learning_rate))``
    for a classifier of plain blocks (no batch norm, no compound block)
    whose output layer reads at least ``WIDE`` units, trained by Adam at
    ``learning_rate``; ``OUTPUT_SCALE`` (a tenth) for any other network:
    a regressor, normalised or narrow networks (measured in issue 21: a
    larger share slowed a residual classifier and a 6-unit multilabel one),
    and other solvers (``learning_rate=None``).

    Parameters
    ----------
    spec : NetworkSpec
    learning_rate : float or None, default=None
        Adam's ``learning_rate_init``; None for the other solvers.

    Returns
    -------
    scale : float
    """
    normalised = any(b.kind != "conv" or b.batch_norm for b in spec.blocks)
    if (
        learning_rate is None
        or spec.out_activation == "identity"
        or normalised
        or spec.layer_units[-2] < WIDE
    ):
        return OUTPUT_SCALE
    return min(MAX_OUTPUT_SCALE, max(OUTPUT_SCALE, LR_REF / learning_rate))


def init_params(spec, random_state, dtype, learning_rate=None):
    """Draw initial parameters (see the module docstring).

    Parameters
    ----------
    spec : NetworkSpec
    random_state : numpy.random.RandomState
    dtype : numpy dtype
    learning_rate : float or None, default=None
        Adam's ``learning_rate_init`` (None for the other solvers), for the
        output layer's scale (:func:`output_scale`).

    Returns
    -------
    params : list of ndarray
    """
    shapes = param_shapes(spec)
    n_weighted = n_weighted_params(spec)
    params = []
    for i in range(0, n_weighted, 2):
        w_shape, b_shape = shapes[i], shapes[i + 1]
        bound = weight_bound(spec.activation, *_fans(w_shape))
        if i == n_weighted - 2:  # the output layer
            bound *= output_scale(spec, learning_rate)
        params.append(random_state.uniform(-bound, bound, w_shape).astype(dtype))
        params.append(random_state.uniform(-bound, bound, b_shape).astype(dtype))
    params += [np.ones(shape, dtype=dtype) for shape in shapes[n_weighted:]]
    return params


def _revive(z, weights, w, intercept):
    """Flip the sign of the units whose pre-activations ``z`` (m, F) (the
    intercepts included) are positive on less than ``MIN_ACTIVE`` of the
    rows' ``weights`` (m,): their weights ``w`` (unit along the first axis
    for filters, the last for coefficients) and ``intercept`` (F,), in place.
    A flipped unit fires where it was negative."""
    active = weights @ (z > 0) / weights.sum()
    weak = active < MIN_ACTIVE
    if weak.any():
        intercept[weak] *= -1
        if w.ndim == 4:  # filters (F, C, kr, kc)
            w[weak] *= -1
        else:  # coefficients (n_in, F)
            w[:, weak] *= -1
    return weak


def revive_dead_units(params, X, spec, sample_weight=None):
    """Move the intercepts of ReLU units that are dead on ``X`` (in place).

    Blocks with batch norm are left alone: their maps are centred on the
    batch, so no unit can be dead on all of it; so are the compound blocks,
    normalised throughout.

    Parameters
    ----------
    params : list of ndarray
        Freshly drawn, in the core's order; intercepts are changed in place.
    X : ndarray of shape (n, H, W, C)
        A first batch of training images.
    spec : NetworkSpec
    sample_weight : ndarray of shape (n,) or None, default=None
        Weights of the rows in the shares and medians (rows of weight 0 are
        ignored, integer weights count as repeated rows).

    Returns
    -------
    params : list of ndarray
    """
    weights = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    if spec.activation != "relu" or not weights.sum() > 0:
        return params
    relu = ACTIVATIONS["relu"]
    a = X
    for block, offsets in zip(spec.blocks, block_offsets(spec)):
        if block.kind != "conv":  # normalised throughout: run it as it is
            a = _compound_forward(a, params, block, spec, offsets, weights)
            continue
        (start, _), _, _ = offsets
        w, bias = params[start], params[start + 1]
        z, _ = correlate_forward(
            pad_images(a, block.padding),
            w,
            block.stride,
            block.engine,
            False,
            dilation=block.dilation,
        )
        if not block.batch_norm:
            cells = np.repeat(weights, z.shape[1] * z.shape[2])
            flat = z.reshape(-1, block.n_filters)
            flat += bias
            weak = _revive(flat, cells, w, bias)
            flat[:, weak] *= -1  # z + bias of the flipped units
            a = relu(z)
        else:  # batch statistics at the start: centred, unit variance
            # (weighted as in training, so that weights count repeated rows)
            scale = params[offsets[1][0]]
            cells = np.repeat(weights, z.shape[1] * z.shape[2])
            normed, _, _ = batch_norm_forward(
                z.reshape(-1, block.n_filters), scale, bias, weights=cells
            )
            a = relu(normed.reshape(z.shape))
        if spec.pooling is not None:
            a, _ = pool_forward(a, block.pool, spec.pooling, keep_argmax=False)
    if spec.global_pooling is not None:
        a, _ = global_pool_forward(a, spec.global_pooling)
    else:
        a = a.transpose(0, 3, 1, 2).reshape(a.shape[0], -1)
    dense = params[n_conv_params(spec) : n_weighted_params(spec)]
    for i in range(0, len(dense) - 2, 2):  # hidden layers; the output is linear
        _revive(a @ dense[i] + dense[i + 1], weights, dense[i], dense[i + 1])
        a = relu(a @ dense[i] + dense[i + 1])
    return params


def _compound_forward(a, params, block, spec, offsets, weights):
    """A compound block in training mode (batch statistics weighted by the
    rows' ``weights``)."""
    pairs, scales, _ = offsets
    ctx = Context(True, None, None, weights, None)
    block_params = (params[slice(*pairs)], params[slice(*scales)])
    out, _ = BLOCK_KINDS[block.kind].forward(a, block_params, block, spec, ctx)
    return out


def start_at_the_mean(params, Y, spec, sample_weight=None):
    """Set the output intercepts of a regression network to the (weighted)
    mean of its targets ``Y`` (n, n_outputs), to two significant digits, in
    place.

    The output layer starts small, so a fresh regression network predicts
    about its intercepts: starting them at the mean spares the first epochs
    a walk from 0 to targets far from 0. Networks with other outputs are
    left alone.

    Returns
    -------
    params : list of ndarray
    """
    if spec.out_activation != "identity" or Y.shape[0] == 0:
        return params
    intercepts = params[n_weighted_params(spec) - 1]
    if sample_weight is not None and not sample_weight.sum() > 0:
        return params
    mean = np.average(Y, axis=0, weights=sample_weight)
    # two significant digits are all a start needs, and they make the start
    # the same whether rows are weighted or repeated (their means differ in
    # the last bits)
    intercepts[...] = [float(f"{value:.2g}") for value in mean]
    return params
