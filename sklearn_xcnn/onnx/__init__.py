"""Export fitted networks, alone or inside pipelines, to ONNX.

Importing this module registers converters for
:class:`~sklearn_xcnn.CNNClassifier`, :class:`~sklearn_xcnn.CNNRegressor`
and the series estimators of :mod:`sklearn_xcnn.series` with skl2onnx (the
``onnx`` extra: ``pip install sklearn-xcnn[onnx]``), so that
``skl2onnx.to_onnx`` converts them and any pipeline that holds them.
Importing :mod:`sklearn_xcnn` itself does not import skl2onnx.

The classifier's converter takes skl2onnx's classifier options ``zipmap``
(``True``, ``False`` or ``"columns"``) and ``nocl``; both converters take
``batch_norm`` (``"fold"``, the default, or ``"node"``). See the "Deploying"
page of the documentation for what the exported graph contains.
"""

from skl2onnx import to_onnx as _skl2onnx_to_onnx

from ._converters import (
    CLASSIFIER_OPTIONS,
    OPTIONS_BY_CLASS,
    REGRESSOR_OPTIONS,
    members_of,
    register_converters,
)
from ._series import series_initial_types

__all__ = ["to_onnx"]

register_converters()


def _options_by_model(options):
    """skl2onnx options keyed by estimator class, checked against the names
    each converter knows."""
    known = {**CLASSIFIER_OPTIONS, **REGRESSOR_OPTIONS}
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(
            f"Unknown option(s) {unknown}; the converters take {sorted(known)}."
        )
    for name, value in options.items():
        if value not in known[name]:
            raise ValueError(f"Option {name}={value!r} must be one of {known[name]}.")
    by_model = {}
    for cls, allowed in OPTIONS_BY_CLASS.items():
        chosen = {k: v for k, v in options.items() if k in allowed}
        if chosen:
            by_model[cls] = chosen
    return by_model


def to_onnx(model, X, *, target_opset=None, **options):
    """Convert a fitted network, or a pipeline holding networks, to ONNX.

    A thin wrapper around :func:`skl2onnx.to_onnx` that applies ``options``
    to every network estimator in ``model`` (:class:`~sklearn_xcnn.CNNClassifier`,
    :class:`~sklearn_xcnn.CNNRegressor`, the series estimators) and, for a
    3-D sample of series, leaves the time axis free when the graph allows it.
    Calling ``skl2onnx.to_onnx`` directly after ``import sklearn_xcnn.onnx``
    does the same, with options given skl2onnx's way and the sample's length
    fixed.

    Parameters
    ----------
    model : estimator
        A fitted :class:`~sklearn_xcnn.CNNClassifier`,
        :class:`~sklearn_xcnn.CNNRegressor`, series estimator of
        :mod:`sklearn_xcnn.series`, or a fitted pipeline (any model skl2onnx
        converts) that contains them.
    X : ndarray of shape (n_samples, n_features) or (n_samples, n_channels, \
            n_timepoints)
        Sample input; only its dtype and shape past the first axis are used.
        ``float32`` gives a float32 graph input, ``float64`` a double input
        that the graph casts to float32 on entry. A 3-D sample of series
        gives a free time axis where every series network of ``model`` ends
        in global pooling, with no pooling in its blocks and stride 1.
    target_opset : int, default=None
        ONNX opset (11 or later); skl2onnx's latest tested one by default.
    **options
        Converter options: ``zipmap`` (``True``, ``False`` or ``"columns"``;
        ``False`` returns the probabilities as a tensor) and ``nocl``
        (``True``: labels ``0 .. n_classes-1`` instead of the classes) for
        classifiers; ``batch_norm`` (``"fold"`` into the convolutions, or
        ``"node"`` for a ``BatchNormalization`` node) for both.

    Returns
    -------
    onx : onnx.ModelProto
        The ONNX model. A classifier's outputs are ``label`` and
        ``probabilities``, a regressor's ``variable`` (``(n, n_outputs)``).

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from sklearn_xcnn import CNNClassifier
    >>> from sklearn_xcnn.datasets import make_x_or_not_x
    >>> from sklearn_xcnn.onnx import to_onnx
    >>> X, y = make_x_or_not_x(n_samples=200, noise=0.05, random_state=0)
    >>> X = X.astype(np.float32)
    >>> pipe = make_pipeline(
    ...     MinMaxScaler(),
    ...     CNNClassifier(n_filters=4, hidden_units=(), solver="lbfgs", random_state=0),
    ... ).fit(X, y)
    >>> onx = to_onnx(pipe, X[:1], zipmap=False)
    >>> [output.name for output in onx.graph.output]
    ['label', 'probabilities']
    >>> session = ort.InferenceSession(
    ...     onx.SerializeToString(), providers=["CPUExecutionProvider"]
    ... )
    >>> label, proba = session.run(None, {"X": X})
    >>> bool(np.array_equal(label, pipe.predict(X)))
    True
    >>> bool(np.allclose(proba, pipe.predict_proba(X), atol=1e-5))
    True
    """
    initial_types = series_initial_types(model, X, members_of)
    return _skl2onnx_to_onnx(
        model,
        X if initial_types is None else None,
        initial_types=initial_types,
        target_opset=target_opset,
        options=_options_by_model(options),
    )
