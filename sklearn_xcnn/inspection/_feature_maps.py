"""Every intermediate array of a fitted network, for a few samples."""

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils import Bunch

from .._classifier import probabilities
from .._core._activations import ACTIVATIONS
from .._core._conv import correlate_forward
from .._core._network import block_maps, block_offsets, fold_block, split_params
from .._core._norm import batch_norm_forward
from .._core._pad import pad_images
from .._core._pool import global_pool_forward, pool_forward
from .._docstrings import fill_doc
from ._estimator import resolve_network


def _filters_first(a):
    """Channels-last maps ``(n, H, W, F)`` as filters-first ``(n, F, H, W)``."""
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def _block_stages(x, weights, stats, block, activation, pooling):
    """Run one block in the plain order, keeping every stage.

    Parameters
    ----------
    x : ndarray of shape (n, H, W, C)
    weights : tuple
        ``(filters (F, C, kr, kc), intercepts (F,), scale (F,) or None)``,
        the scale for batch norm.
    stats : tuple or None
        ``(running_mean (F,), running_var (F,))`` with batch norm.

    Returns
    -------
    stages : Bunch
        ``padded``, ``(n, C, H + pads, W + pads)``, and ``correlation``,
        ``biased``, ``activated`` and ``pooled``, each ``(n, F, rows, cols)``.
    out : ndarray of shape (n, Hp, Wp, F)
        The block output, channels-last, for the next block.
    """
    w, b, scale = weights
    padded = pad_images(x, block.padding)  # (n, H + pads, W + pads, C)
    z, _ = correlate_forward(
        padded, w, block.stride, block.engine, False, dilation=block.dilation
    )
    if block.batch_norm:  # the intercept is the shift after normalising
        F = block.n_filters
        normed, _, _ = batch_norm_forward(z.reshape(-1, F), scale, b, stats)
        biased = normed.reshape(z.shape)  # (n, Ho, Wo, F)
    else:
        biased = z + b  # (n, Ho, Wo, F)
    activated = ACTIVATIONS[activation](biased.copy())  # in place on the copy
    if pooling is None:
        out = activated
    else:
        out, _ = pool_forward(activated, block.pool, pooling)  # (n, Hp, Wp, F)
    stages = Bunch(
        padded=_filters_first(padded),
        correlation=_filters_first(z),
        biased=_filters_first(biased),
        activated=_filters_first(activated),
        pooled=_filters_first(out),
    )
    return stages, out


def _compound_stages(x, params, stats, block, spec):
    """Run one compound block (a residual unit, an inception block) as it
    predicts, through the core (batch norm folded with the running
    ``stats``).

    Returns
    -------
    stages : Bunch
        ``input``, ``(n, C, H, W)``, ``activated``, ``(n, F, H, W)``, and
        ``pooled``, ``(n, F, Hp, Wp)``.
    out : ndarray of shape (n, Hp, Wp, F)
    """
    pairs, scales, folded = fold_block(*params, stats, block)
    activated, out = block_maps(x, (pairs, scales), folded, spec)
    stages = Bunch(
        kind=block.kind,
        input=_filters_first(x),
        activated=_filters_first(activated),
        pooled=_filters_first(out),
    )
    return stages, out


def run_blocks(network, x):
    """Run the blocks of a fitted ``network`` as it predicts: plain
    convolutional blocks in the plain order (see :func:`_block_stages`),
    compound blocks through the core (see :func:`_compound_stages`).

    Parameters
    ----------
    network : FittedNetwork
    x : ndarray of shape (n, H, W, C)
        Validated images; the parameters are used in their dtype.

    Returns
    -------
    blocks : list of Bunch
        The stages of each block, filters-first.
    out : ndarray of shape (n, Hp, Wp, F)
        The last block's output, channels-last (``x`` without blocks).
    groups : dict
        The parameters in ``x``'s dtype, by group (see ``split_params``).
    """
    spec = network.spec
    params = [p.astype(x.dtype, copy=False) for p in network.params]
    blocks = []
    for block, (pairs, scales, slots) in zip(spec.blocks, block_offsets(spec)):
        stats = network.stats[slice(*slots)]
        if block.kind == "conv":
            w, b = params[slice(*pairs)]
            scale = params[scales[0]] if block.batch_norm else None
            stages, x = _block_stages(
                x, (w, b, scale), stats[0], block, spec.activation, spec.pooling
            )
            stages.kind = "conv"
        else:
            block_params = (params[slice(*pairs)], params[slice(*scales)])
            stages, x = _compound_stages(x, block_params, stats, block, spec)
        blocks.append(stages)
    return blocks, x, split_params(params, spec)


def _outputs(estimator, spec, logits):
    """What the estimator's prediction method returns for these logits (n, k):
    ``("proba", predict_proba)`` for a classifier, ``("predictions",
    predict)`` for a regressor."""
    n_outputs = spec.layer_units[-1]
    if is_classifier(estimator):
        return "proba", probabilities(logits, n_outputs, spec.out_activation)
    # a regressor with one output was fitted on a 1-D y and predicts 1-D
    return "predictions", logits[:, 0] if n_outputs == 1 else logits


@fill_doc
def feature_maps(estimator, X):
    """Compute every stage of a fitted convolutional network.

    The network of a fitted :class:`~sklearn_xcnn.CNNClassifier` or
    :class:`~sklearn_xcnn.CNNRegressor` is re-run step by step in the order
    of its definition, ``pad -> correlate -> + bias (or batch norm) ->
    activation -> pool`` for each plain convolutional block (a residual
    unit or an inception block gives its input, its activated maps and
    their pooling), then flatten (or
    global pooling), the hidden layers and the output layer, keeping every
    intermediate array. Batch norm uses the running statistics and dropout
    does nothing, as in prediction. (For max pooling the estimator
    itself pools before adding the bias, an equal but faster order.) The
    network is the one that was fitted: changing ``pooling`` or any other
    architecture parameter with ``set_params`` afterwards changes nothing
    here, as it changes nothing in ``predict``.

    All arrays are held in memory at once: meant for a few images.

    Parameters
    ----------
    %(inspected_images)s

    Returns
    -------
    stages : :class:`~sklearn.utils.Bunch`
        With the following keys. Maps are *filters-first*,
        ``(n_samples, n_filters, rows, cols)``: ``maps[i, f]`` is the 2-D map
        of filter ``f`` for sample ``i``, ready for ``imshow``.

        images : ndarray of shape (n_samples, channels, height, width)
            The validated input, channels-first.
        blocks : list of Bunch
            One per block ``b``, each with ``kind``, the block kind
            (``"conv"``, ``"residual"`` or ``"inception"``). A plain
            convolutional block (``"conv"``) has

            - ``padded``, shape ``(n_samples, C, H', W')``: the block's input
              with its padding of zeros (``H' = H`` without padding);
            - ``correlation``, shape ``(n_samples, F, Ho, Wo)``: the padded
              input correlated with each filter, before the bias, with
              ``Ho = (H' - kr) // stride + 1`` (likewise ``Wo``);
            - ``biased``: ``correlation`` plus the filter's intercept; with
              batch norm, ``scale * (correlation - running_mean) /
              sqrt(running_var + eps) + intercept``;
            - ``activated``: the activation applied to ``biased``, the
              feature maps;
            - ``pooled``, shape ``(n_samples, F, ceil(Ho / pr), ceil(Wo / pc))``:
              ``activated`` pooled over windows of ``pool_size``, partial
              windows included; equal to ``activated`` when ``pooling=None``.

            A residual unit or an inception block (see :ref:`block_kinds`)
            has

            - ``input``, shape ``(n_samples, C, H, W)``: the block's input;
            - ``activated``, shape ``(n_samples, F, H, W)``: its feature
              maps, the activation of its main path plus its shortcut (``F =
              n_filters`` for a residual unit, ``4 * n_filters`` for an
              inception block, whose maps come in four groups of
              ``n_filters``: the three kernels' branches, then the pool
              branch); they are what Grad-CAM weighs;
            - ``pooled``: as for a plain block.
        flattened : ndarray of shape (n_samples, n_flat)
            The input of the first dense layer: the last block's pooled maps
            flattened as filters x rows x cols, the order of the rows of
            ``coefs_[0]``; with ``global_pooling``, the mean or maximum of
            each of those maps, ``(n_samples, F)``.
        hidden : list of ndarray
            The activations of each hidden layer, ``(n_samples, units)``.
        logits : ndarray of shape (n_samples, n_outputs)
            The output layer's values before any output activation: for a
            classifier the input of the sigmoid or softmax
            (:meth:`~sklearn_xcnn.CNNClassifier.decision_function`), for a
            regressor the predictions themselves.
        proba : ndarray of shape (n_samples, n_classes)
            Classifiers only: the class probabilities, as
            :meth:`~sklearn_xcnn.CNNClassifier.predict_proba`.
        predictions : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Regressors only: the predicted values, as
            :meth:`~sklearn_xcnn.CNNRegressor.predict` (1-D for a model fitted
            on a 1-D ``y``); under a TransformedTargetRegressor, the network's
            predictions of the transformed target (not inverse-transformed).

    Raises
    ------
    TypeError
        If ``estimator`` holds no convolutional network.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn import CNNClassifier
    >>> from sklearn_xcnn.datasets import make_x_or_not_x
    >>> from sklearn_xcnn.inspection import feature_maps
    >>> X, y = make_x_or_not_x(n_samples=60, random_state=0)
    >>> clf = CNNClassifier(n_filters=4, hidden_units=3, padding="valid",
    ...                     batch_norm=False, solver="lbfgs",
    ...                     random_state=1).fit(X, y)
    >>> stages = feature_maps(clf, X[:2])
    >>> stages.blocks[0].correlation.shape  # 5x5 images, 3x3 filters
    (2, 4, 3, 3)
    >>> stages.blocks[0].pooled.shape  # 2x2 windows, partial ones kept
    (2, 4, 2, 2)
    >>> stages.flattened.shape
    (2, 16)
    >>> stages.hidden[0].shape
    (2, 3)
    >>> bool((stages.proba == clf.predict_proba(X[:2])).all())
    True

    A residual unit's feature maps are those of the sum of its main path
    and its shortcut, after the activation:

    >>> res = CNNClassifier(block="residual", n_filters=3, block_depth=2,
    ...                     hidden_units=3, solver="lbfgs", max_iter=30,
    ...                     random_state=0)
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # 30 iterations do not converge
    ...     res = res.fit(X, y)
    >>> stages = feature_maps(res, X[:2])
    >>> stages.blocks[0].kind, stages.blocks[0].activated.shape
    ('residual', (2, 3, 5, 5))
    >>> bool(np.allclose(stages.proba, res.predict_proba(X[:2])))
    True

    A regressor's stages end in its predictions:

    >>> from sklearn_xcnn import CNNRegressor
    >>> ink = X.mean(axis=1)  # the share of black pixels of each image
    >>> reg = CNNRegressor(n_filters=2, hidden_units=3, solver="lbfgs",
    ...                    random_state=0).fit(X, ink)
    >>> stages = feature_maps(reg, X[:2])
    >>> "proba" in stages, stages.predictions.shape
    (False, (2,))
    >>> bool(np.allclose(stages.predictions, reg.predict(X[:2])))
    True
    """
    estimator, X = resolve_network(estimator, X, caller="feature_maps")
    network = estimator._fitted_network()  # as fitted, whatever set_params did
    spec = network.spec
    x = estimator._validate_images(X, reset=False)  # (n, H, W, C)
    images = _filters_first(x)
    blocks, x, groups = run_blocks(network, x)
    if spec.global_pooling is not None:
        flattened, _ = global_pool_forward(x, spec.global_pooling)  # (n, F)
    else:
        flattened = _filters_first(x).reshape(x.shape[0], -1)  # (n, F*Hp*Wp)
    a, hidden = flattened, []
    dense = [p for pair in zip(groups["coefs"], groups["intercepts"]) for p in pair]
    for i in range(0, len(dense) - 2, 2):
        a = ACTIVATIONS[spec.activation](a @ dense[i] + dense[i + 1])
        hidden.append(a)
    logits = a @ dense[-2] + dense[-1]  # (n, n_outputs)
    name, outputs = _outputs(estimator, spec, logits)
    return Bunch(
        images=images,
        blocks=blocks,
        flattened=flattened,
        hidden=hidden,
        logits=logits,
        **{name: outputs},
    )
