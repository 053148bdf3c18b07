"""Every intermediate array of a fitted network, for a few samples."""

import numpy as np
from scipy.special import expit
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted

from .._core._activations import ACTIVATIONS
from .._core._conv import correlate_forward
from .._core._loss import output_proba
from .._core._pool import pool_forward


def _filters_first(a):
    """Channels-last maps ``(n, H, W, F)`` as filters-first ``(n, F, H, W)``."""
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def _block_stages(x, w, b, block, activation, pooling):
    """Run one block in the plain order, keeping every stage.

    Parameters
    ----------
    x : ndarray of shape (n, H, W, C)
    w : ndarray of shape (F, C, kr, kc)
    b : ndarray of shape (F,)

    Returns
    -------
    stages : Bunch
        ``correlation``, ``biased``, ``activated`` and ``pooled``, each
        ``(n, F, rows, cols)``.
    out : ndarray of shape (n, Hp, Wp, F)
        The block output, channels-last, for the next block.
    """
    z, _ = correlate_forward(x, w, block.stride, block.engine, keep_cache=False)
    biased = z + b  # (n, Ho, Wo, F)
    activated = ACTIVATIONS[activation](biased.copy())  # in place on the copy
    if pooling is None:
        out = activated
    else:
        out, _ = pool_forward(activated, block.pool, pooling)  # (n, Hp, Wp, F)
    stages = Bunch(
        correlation=_filters_first(z),
        biased=_filters_first(biased),
        activated=_filters_first(activated),
        pooled=_filters_first(out),
    )
    return stages, out


def _probabilities(logits, n_outputs, out_activation):
    """What ``predict_proba`` returns for these logits, ``(n, n_classes)``."""
    if n_outputs == 1:
        proba = np.hstack([expit(-logits), expit(logits)])
    else:
        proba = output_proba(logits, out_activation)
    return np.maximum(proba, np.finfo(proba.dtype).tiny, out=proba)


def feature_maps(estimator, X):
    """Compute every stage of a fitted :class:`~sklearn_xcnn.CNNClassifier`.

    The network is re-run step by step in the order of its definition,
    ``correlate -> + bias -> activation -> pool`` for each convolutional
    block, then flatten, the hidden layers and the output layer, keeping
    every intermediate array. (For max pooling the estimator itself pools
    before adding the bias, an equal but faster order; ``proba`` here equals
    :meth:`~sklearn_xcnn.CNNClassifier.predict_proba`.)

    All arrays are held in memory at once: meant for a few images.

    Parameters
    ----------
    estimator : CNNClassifier
        A fitted estimator.

    X : array-like of shape (n_samples, n_features), (n_samples, height, \
width) or (n_samples, height, width, channels)
        Images, given as to :meth:`~sklearn_xcnn.CNNClassifier.predict`.

    Returns
    -------
    stages : :class:`~sklearn.utils.Bunch`
        With the following keys. Maps are *filters-first*,
        ``(n_samples, n_filters, rows, cols)``: ``maps[i, f]`` is the 2-D map
        of filter ``f`` for sample ``i``, ready for ``imshow``.

        images : ndarray of shape (n_samples, channels, height, width)
            The validated input, channels-first.
        blocks : list of Bunch
            One per convolutional block ``b``, each with

            - ``correlation``, shape ``(n_samples, F, Ho, Wo)``: the input
              correlated with each filter, before the bias, with
              ``Ho = (H - kr) // stride + 1`` (likewise ``Wo``);
            - ``biased``: ``correlation`` plus the filter's intercept;
            - ``activated``: the activation applied to ``biased``, the
              feature maps;
            - ``pooled``, shape ``(n_samples, F, ceil(Ho / pr), ceil(Wo / pc))``:
              ``activated`` pooled over windows of ``pool_size``, partial
              windows included; equal to ``activated`` when ``pooling=None``.
        flattened : ndarray of shape (n_samples, n_flat)
            The last block's pooled maps, flattened as filters x rows x cols,
            the order of the rows of ``coefs_[0]``.
        hidden : list of ndarray
            The activations of each hidden layer, ``(n_samples, units)``.
        logits : ndarray of shape (n_samples, n_outputs)
            The output layer before the sigmoid or softmax
            (:meth:`~sklearn_xcnn.CNNClassifier.decision_function`).
        proba : ndarray of shape (n_samples, n_classes)
            The class probabilities, as
            :meth:`~sklearn_xcnn.CNNClassifier.predict_proba`.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    Examples
    --------
    >>> from sklearn_xcnn import CNNClassifier
    >>> from sklearn_xcnn.datasets import make_x_or_not_x
    >>> from sklearn_xcnn.inspection import feature_maps
    >>> X, y = make_x_or_not_x(n_samples=60, random_state=0)
    >>> clf = CNNClassifier(n_filters=4, hidden_units=3, solver="lbfgs",
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
    """
    check_is_fitted(estimator)
    x = estimator._validate_images(X, reset=False)  # (n, H, W, C)
    spec = estimator._network_spec()
    params = [p.astype(x.dtype, copy=False) for p in estimator._params()]
    images = _filters_first(x)
    blocks = []
    for i, block in enumerate(spec.blocks):
        w, b = params[2 * i : 2 * i + 2]
        stages, x = _block_stages(x, w, b, block, spec.activation, spec.pooling)
        blocks.append(stages)
    flattened = _filters_first(x).reshape(x.shape[0], -1)  # (n, F*Hp*Wp)
    a, hidden = flattened, []
    dense = params[2 * len(spec.blocks) :]
    for i in range(0, len(dense) - 2, 2):
        a = ACTIVATIONS[spec.activation](a @ dense[i] + dense[i + 1])
        hidden.append(a)
    logits = a @ dense[-2] + dense[-1]  # (n, n_outputs)
    proba = _probabilities(logits, estimator.n_outputs_, spec.out_activation)
    return Bunch(
        images=images,
        blocks=blocks,
        flattened=flattened,
        hidden=hidden,
        logits=logits,
        proba=proba,
    )
