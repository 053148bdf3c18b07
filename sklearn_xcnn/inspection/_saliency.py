"""Saliency maps: which input pixels a fitted network's output hangs on.

Every method differentiates one number per sample, the *target output*: a
classifier's logit for the class ``target`` (minus the single logit for the
negative class of a binary classifier), or a regressor's output ``target``.
The gradients come from the core's backward pass
(``backward(..., input_grad=True)``) run on the network as it predicts:
batch norm folded with its running statistics, no dropout. Every block
kind is covered: plain (dilated or not) convolutional blocks, residual
units and inception blocks.
"""

from numbers import Integral

import numpy as np
from scipy.integrate import trapezoid
from scipy.ndimage import zoom
from sklearn.base import is_classifier
from sklearn.utils import Bunch, check_random_state

from .._classifier import probabilities
from .._core._network import (
    backward,
    fold_network,
    forward,
    n_conv_params,
    network_block_maps,
)
from .._core._pool import pool_backward, pool_forward
from .._docstrings import fill_doc
from .._training import batch_slices
from ._estimator import resolve_network

METHODS = ("gradient", "integrated_gradients", "grad_cam")

# rows sent through the network at once
_CHUNK = 128


def _network_and_images(estimator, X, caller):
    """The network estimator, its fitted network and ``X`` as validated
    images ``(n, H, W, C)``."""
    estimator, X = resolve_network(estimator, X, caller=caller)
    network = estimator._fitted_network()
    return estimator, network, estimator._validate_images(X, reset=False)


def _target_weights(estimator, logits, target):
    """Which output each sample's target is.

    Returns
    -------
    weights : ndarray of shape (n, n_outputs)
        ``sum(weights * logits, axis=1)`` is each sample's target output.
    column : ndarray of shape (n,)
        The target's column in ``predict_proba`` (classifier) or in the
        outputs (regressor).
    """
    n, k = logits.shape
    weights = np.zeros_like(logits)
    if not is_classifier(estimator):
        target = 0 if target is None else target
        if not isinstance(target, Integral) or not 0 <= target < k:
            raise ValueError(
                f"target={target!r} is not an output of {type(estimator).__name__}, "
                f"which has {k} output(s): pass an integer from 0 to {k - 1}."
            )
        column = np.full(n, int(target))
    elif target is None:  # the predicted class (the likeliest label)
        column = (logits[:, 0] > 0).astype(int) if k == 1 else logits.argmax(axis=1)
    else:
        classes = estimator.classes_.tolist()
        if target not in classes:
            raise ValueError(
                f"target={target!r} is not a class of {type(estimator).__name__}: "
                f"its classes are {classes}."
            )
        column = np.full(n, classes.index(target))
    if k == 1 and is_classifier(estimator):  # the negative class: minus the logit
        weights[:, 0] = np.where(column == 1, 1.0, -1.0)
    else:
        weights[np.arange(n), column] = 1.0
    return weights, column


def _target_scores(estimator, spec, logits, column):
    """The target's probability (classifier) or output (regressor), (n,)."""
    rows = np.arange(logits.shape[0])
    if is_classifier(estimator):
        proba = probabilities(logits, spec.layer_units[-1], spec.out_activation)
        return proba[rows, column]
    return logits[rows, column]


def _logits(folded, spec, images):
    """The predicted logits, ``(n, n_outputs)``, in chunks of rows."""
    parts = [
        forward(folded, images[s], spec)[0] for s in batch_slices(len(images), _CHUNK)
    ]
    return np.concatenate(parts)


def _input_gradient(folded, spec, images, weights):
    """``d sum(weights * logits) / d images``, ``(n, H, W, C)``."""
    out = np.empty_like(images)
    for s in batch_slices(len(images), _CHUNK):
        _, caches = forward(folded, images[s], spec, keep_cache=True)
        out[s] = backward(weights[s], folded, caches, spec, input_grad=True)[1]
    return out


def _integrated_gradients(folded, spec, images, weights, baseline, n_steps):
    """The midpoint rule of ``n_steps`` on the straight path from
    ``baseline`` to the images, times ``images - baseline``."""
    diff = images - baseline
    total = np.zeros_like(images)
    for k in range(n_steps):
        alpha = (k + 0.5) / n_steps
        total += _input_gradient(folded, spec, baseline + alpha * diff, weights)
    return diff * total / n_steps


def _activated_gradient(folded, spec, activated, weights):
    """The gradient of the target output with respect to the last block's
    activated maps ``(n, Ho, Wo, F)``: through its pooling, then the
    dense layers as a network without blocks (whose input gradient is the
    gradient at the pooled maps)."""
    block = spec.blocks[-1]
    pooled, pool_cache = activated, None
    if spec.pooling is not None:
        pooled, pool_cache = pool_forward(activated, block.pool, spec.pooling)
    head = spec._replace(blocks=())
    dense = folded[n_conv_params(spec) :]
    _, caches = forward(dense, pooled, head, keep_cache=True)
    d_pooled = backward(weights, dense, caches, head, input_grad=True)[1]
    return d_pooled if pool_cache is None else pool_backward(d_pooled, pool_cache)


def _grad_cam(folded, spec, images, weights):
    """Grad-CAM of the last block, upsampled to the images, ``(n, H, W, C)``.

    The last block's activated maps (of a residual unit or an inception
    block: the activation of its main path plus its shortcut) come from the
    core as it predicts (see :func:`.._core._network.block_maps`)."""
    if not spec.blocks:
        raise ValueError(
            "method='grad_cam' needs a convolutional block, and the estimator "
            "has none (n_filters=()); use method='gradient' instead."
        )
    activated = network_block_maps(folded, images, spec)[-1][0]  # (n, Ho, Wo, F)
    alphas = _activated_gradient(folded, spec, activated, weights).mean(axis=(1, 2))
    cam = np.maximum(np.einsum("nhwf,nf->nhw", activated, alphas), 0)
    return np.repeat(_upsample(cam, images.shape[1:3])[..., None], images.shape[3], 3)


def _upsample(maps, shape):
    """Maps ``(n, Ho, Wo)`` brought to ``shape`` (H, W) by bilinear
    interpolation whose corner cells land on the corner pixels
    (``scipy.ndimage.zoom`` of order 1)."""
    n, Ho, Wo = maps.shape
    factors = (1, shape[0] / Ho, shape[1] / Wo)
    out = zoom(maps, factors, order=1, grid_mode=False)
    return np.maximum(out, 0)  # exact already; guards rounding below zero


def _check_options(method, n_steps):
    if method not in METHODS:
        raise ValueError(
            f"method={method!r} is not a saliency method; use one of {METHODS}."
        )
    if isinstance(n_steps, bool) or not isinstance(n_steps, Integral) or n_steps < 1:
        raise ValueError(f"n_steps={n_steps!r} must be a positive integer.")


def _baseline(baseline, image_shape, dtype):
    """The baseline as ``(H, W, C)`` (or a scalar array)."""
    value = np.asarray(baseline, dtype=dtype)
    if value.ndim == 0:
        return value
    if value.size == int(np.prod(image_shape)):
        return value.reshape(image_shape)
    raise ValueError(
        f"baseline must be a number or one image of shape {tuple(image_shape)} "
        f"(height, width, channels); got an array of shape {value.shape}."
    )


def _prepare(estimator, X, target, caller, baseline=0.0):
    """What every method needs: a Bunch with the images, the folded
    network, the target weights and columns and the baseline."""
    estimator, network, images = _network_and_images(estimator, X, caller)
    params = [p.astype(images.dtype, copy=False) for p in network.params]
    folded, spec = fold_network(params, network.spec, network.stats)
    logits = _logits(folded, spec, images)
    weights, column = _target_weights(estimator, logits, target)
    return Bunch(
        estimator=estimator,
        images=images,
        folded=folded,
        spec=spec,
        weights=weights,
        column=column,
        scores=_target_scores(estimator, spec, logits, column),
        baseline=_baseline(baseline, images.shape[1:], images.dtype),
    )


def _maps(setup, method, n_steps):
    """The saliency maps ``(n, H, W, C)`` of a :func:`_prepare` Bunch."""
    args = setup.folded, setup.spec, setup.images, setup.weights
    if method == "gradient":
        return _input_gradient(*args)
    if method == "integrated_gradients":
        return _integrated_gradients(*args, setup.baseline, n_steps)
    return _grad_cam(*args)


def _target_labels(setup):
    """Each sample's target: a class label or an output index, (n,)."""
    if is_classifier(setup.estimator):
        return setup.estimator.classes_[setup.column]
    return setup.column


@fill_doc
def saliency_maps(
    estimator, X, *, target=None, method="gradient", baseline=0.0, n_steps=50
):
    """Compute how much each input pixel moves a fitted network's output.

    The differentiated output is the *target output* of each sample, before
    any output activation: for a classifier the logit of the class
    ``target`` (by default each sample's predicted class), for a regressor
    the output ``target`` (by default 0). A binary classifier has a single
    logit ``z``, the log-odds of ``classes_[1]``: its target output is ``z``
    for ``classes_[1]`` and ``-z`` for ``classes_[0]``, the log-odds of that
    class, so that a positive map always means "more of the target". A
    multilabel classifier's target is a label index (by default the label
    of highest logit). The network is the one that predicts: batch norm
    with its running statistics, no dropout. Every block kind is covered
    (plain, dilated, residual units, inception blocks).

    Parameters
    ----------
    %(inspected_images)s

    target : class label, int or None, default=None
        A class of ``classes_`` (classifier) or an output index (regressor)
        for every sample; ``None`` takes each sample's predicted class
        (classifier) or output 0 (regressor).

    method : {"gradient", "integrated_gradients", "grad_cam"}, \
default="gradient"
        - ``"gradient"``: the gradient of the target output with respect to
          each pixel of each channel.
        - ``"integrated_gradients"``: ``(x - baseline)`` times the mean
          gradient along the straight path from ``baseline`` to ``x``, by
          the midpoint rule with ``n_steps`` points. The maps of a sample sum
          to ``f(x) - f(baseline)`` (completeness) up to the rule's error,
          which shrinks as ``1 / n_steps**2`` for smooth activations (tanh,
          logistic: about 0.1% of ``f(x) - f(baseline)`` at the default 50
          steps on X-or-not-X) and is exact for a linear network; ReLU and
          max pooling put kinks on the path, whose error shrinks only as
          ``1 / n_steps`` (up to 25% at 50 steps and 1% at 1000 on the
          X-or-not-X network of the example). Check it by comparing the
          sums with the outputs, and raise ``n_steps`` if needed.
        - ``"grad_cam"``: the last block's activated feature maps ``A_f``
          (after the activation, before pooling; for a residual unit or an
          inception block, the activation of the sum of its main path and
          its shortcut, the maps that leave the block), weighted by
          the mean over their cells of the target output's gradient with
          respect to them, ``alpha_f``, summed over the filters and passed
          through a ReLU: ``max(sum_f alpha_f * A_f, 0)``. That map is
          brought to the image's height and width by bilinear interpolation
          with the corner cells on the corner pixels
          (``scipy.ndimage.zoom(order=1)``), and repeated over the channels.

    baseline : float or array-like of shape (height, width, channels), \
default=0.0
        The starting point of ``"integrated_gradients"``: the image "with
        nothing in it" (zeros, the background of black-on-white pictures
        stored as ink).

    n_steps : int, default=50
        Number of path points of ``"integrated_gradients"``.

    Returns
    -------
    maps : ndarray of shape (n_samples, height, width, channels)
        One map per sample, in the dtype of the network's computation.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        For a ``target`` the estimator does not have, an unknown ``method``
        or images of another shape than those fitted on.

    See Also
    --------
    deletion_curve : How faithful the maps are.
    SaliencyDisplay : Images beside their maps.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn import CNNClassifier
    >>> from sklearn_xcnn.datasets import make_x_or_not_x
    >>> from sklearn_xcnn.inspection import saliency_maps
    >>> X, y = make_x_or_not_x(n_samples=200, random_state=0)
    >>> clf = CNNClassifier(n_filters=4, hidden_units=3, solver="lbfgs",
    ...                     random_state=1).fit(X, y)
    >>> maps = saliency_maps(clf, X[:3])
    >>> maps.shape  # one 5x5 map with one channel per image
    (3, 5, 5, 1)

    Integrated gradients share out the change of the target's log-odds
    between the baseline and the image (here within 10%: this ReLU network
    with max pooling has kinks on the path):

    >>> ig = saliency_maps(clf, X[:3], method="integrated_gradients",
    ...                    n_steps=200)
    >>> z = clf.decision_function(X[:3]) - clf.decision_function(0 * X[:3])
    >>> sign = np.where(clf.predict(X[:3]) == clf.classes_[1], 1, -1)
    >>> bool(np.allclose(ig.sum(axis=(1, 2, 3)), sign * z, rtol=0.1))
    True
    """
    _check_options(method, n_steps)
    setup = _prepare(estimator, X, target, "saliency_maps", baseline)
    return _maps(setup, method, n_steps)


def _deletion_scores(setup, order, per_step):
    """The target scores ``(n, n_points)`` while the pixels are replaced by
    the baseline in ``order`` ``(n, H * W)``, ``per_step`` at a time."""
    n, H, W, C = setup.images.shape
    current = setup.images.reshape(n, H * W, C).copy()
    fill = np.broadcast_to(setup.baseline, (H, W, C)).reshape(H * W, C)
    rows = np.arange(n)[:, None]
    scores = [setup.scores]
    for start in range(0, H * W, per_step):
        pixels = order[:, start : start + per_step]  # (n, per_step)
        current[rows, pixels] = fill[pixels]
        logits = _logits(setup.folded, setup.spec, current.reshape(n, H, W, C))
        scores.append(_target_scores(setup.estimator, setup.spec, logits, setup.column))
    return np.stack(scores, axis=1)


def _ranking(maps, shape, rng):
    """Pixels from the largest map value (summed over the channels) down,
    ``(n, H * W)``; ties in a random order drawn from ``rng``."""
    n, H, W, C = shape
    maps = np.asarray(maps, dtype=float)
    if len(maps) != n or maps.size not in (n * H * W * C, n * H * W):
        raise ValueError(
            f"maps must have the shape of the images, {(n, H, W, C)} (or without "
            f"the channels, or flat like X); got {maps.shape}."
        )
    relevance = maps.reshape(n, H * W, -1).sum(axis=2)
    shuffled = np.argsort(rng.rand(n, H * W), axis=1)  # (n, H * W)
    ranked = np.take_along_axis(relevance, shuffled, axis=1)
    by_value = np.argsort(-ranked, axis=1, kind="stable")
    return np.take_along_axis(shuffled, by_value, axis=1)


@fill_doc
def deletion_curve(
    estimator,
    X,
    *,
    target=None,
    method="gradient",
    maps=None,
    baseline=0.0,
    n_steps=50,
    pixels_per_step=None,
    random_state=None,
):
    """Delete the most salient pixels first and track the target's score.

    A saliency map can look right and mean nothing. The deletion curve tests
    it: pixels are replaced by the ``baseline``, the most salient first (the
    largest map values, summed over the channels, so the pixels that push
    the target output up), and the target's probability (classifier; the
    class fixed at the start) or output (regressor) is recorded after each
    step; the same in a random order gives the curve to beat. A faithful map
    makes its curve fall sooner, so its area (under the mean curve, over the
    deleted fraction from 0 to 1) is smaller than the random order's.

    Parameters
    ----------
    %(inspected_images)s

    target : class label, int or None, default=None
        See :func:`saliency_maps`.

    method : {"gradient", "integrated_gradients", "grad_cam"}, \
default="gradient"
        The saliency method that ranks the pixels, unless ``maps`` is given.

    maps : array-like of shape (n_samples, height, width, channels), \
default=None
        Precomputed maps that rank the pixels instead of ``method`` (also
        accepted without the channels, or flat like ``X``).

    baseline : float or array-like of shape (height, width, channels), \
default=0.0
        What a deleted pixel becomes (and the start of integrated
        gradients).

    n_steps : int, default=50
        Path points of ``"integrated_gradients"``.

    pixels_per_step : int or None, default=None
        Pixels deleted between two points of the curve; ``None`` takes
        ``ceil(height * width / 64)``, one at a time up to 8x8 images.

    random_state : int, RandomState instance or None, default=None
        Draws the random order, and the order of pixels whose map values
        tie (a map that is flat somewhere ranks those pixels at random).

    Returns
    -------
    curve : :class:`~sklearn.utils.Bunch`
        With the following keys.

        fractions : ndarray of shape (n_points,)
            Share of the pixels deleted, from 0 to 1.
        scores : ndarray of shape (n_samples, n_points)
            The target's score of each sample, the most salient pixels
            deleted first.
        random_scores : ndarray of shape (n_samples, n_points)
            The same in a random order of the pixels.
        area, random_area : float
            Areas under the mean of ``scores`` and of ``random_scores``
            over ``fractions`` (trapezoid rule).
        method : str or None
            The ranking method (None for given ``maps``).

    See Also
    --------
    saliency_maps : The maps that rank the pixels.

    Examples
    --------
    >>> from sklearn_xcnn import CNNClassifier
    >>> from sklearn_xcnn.datasets import make_x_or_not_x
    >>> from sklearn_xcnn.inspection import deletion_curve
    >>> X, y = make_x_or_not_x(n_samples=200, random_state=0)
    >>> clf = CNNClassifier(n_filters=4, hidden_units=3, solver="lbfgs",
    ...                     random_state=1).fit(X, y)
    >>> curve = deletion_curve(clf, X[y == 1][:20], method="grad_cam",
    ...                        random_state=0)
    >>> curve.scores.shape  # 20 images, 0 to 25 pixels deleted
    (20, 26)
    >>> bool(curve.area < curve.random_area)
    True
    """
    _check_options(method, n_steps)
    setup = _prepare(estimator, X, target, "deletion_curve", baseline)
    shape = setup.images.shape
    rng = check_random_state(random_state)
    shuffled = np.argsort(rng.rand(shape[0], shape[1] * shape[2]), axis=1)
    if maps is None:
        maps = _maps(setup, method, n_steps)
    else:
        method = None  # the given maps rank the pixels
    order = _ranking(maps, shape, rng)
    n_pixels = shape[1] * shape[2]
    per_step = -(-n_pixels // 64) if pixels_per_step is None else pixels_per_step
    if isinstance(per_step, bool) or not isinstance(per_step, Integral) or per_step < 1:
        raise ValueError(f"pixels_per_step={per_step!r} must be a positive integer.")
    scores = _deletion_scores(setup, order, per_step)
    random_scores = _deletion_scores(setup, shuffled, per_step)
    counts = np.minimum(np.arange(scores.shape[1]) * per_step, n_pixels)
    fractions = counts / n_pixels
    return Bunch(
        fractions=fractions,
        scores=scores,
        random_scores=random_scores,
        area=float(trapezoid(scores.mean(axis=0), fractions)),
        random_area=float(trapezoid(random_scores.mean(axis=0), fractions)),
        method=method,
    )
