"""network_summary: the stages of a network with their shapes and sizes."""

from sklearn.utils.validation import check_is_fitted

from .._core._network import build_spec
from .._core._summary import describe, format_stages
from .._input import as_int_tuple
from ._estimator import resolve_network


class NetworkSummary:
    """The stages of a network, each with its output shape and parameters.

    Returned by :func:`network_summary`; ``print`` it for a table.

    Parameters
    ----------
    stages : list of tuple
        ``(name, shape, n_params)`` per stage, from the input to the output.

    Attributes
    ----------
    stages : list of tuple
        As given.
    n_params : int
        Learned numbers in all.

    Examples
    --------
    >>> from sklearn_xcnn import CNNClassifier
    >>> from sklearn_xcnn.inspection import network_summary
    >>> clf = CNNClassifier(n_filters=2, hidden_units=(), padding="valid",
    ...                     batch_norm=False, dropout=0.0)
    >>> summary = network_summary(clf, image_shape=(4, 4))
    >>> [stage.shape for stage in summary.stages]
    [(4, 4, 1), (2, 2, 2), (1, 1, 2), (2,), (1,)]
    >>> summary.n_params
    23
    """

    def __init__(self, stages):
        self.stages = stages
        self.n_params = sum(stage.n_params for stage in stages)

    def __str__(self):
        return format_stages(self.stages)

    def __repr__(self):
        return f"NetworkSummary({len(self.stages)} stages, {self.n_params} params)"


def network_summary(estimator, *, image_shape=None, n_outputs=None):
    """List every stage of a network with its output shape and parameters.

    A fitted estimator is described as fitted. An unfitted one is described
    as ``fit`` would build it for images of ``image_shape`` and ``n_outputs``
    output units, so a network can be read before it is trained. Before
    fitting the classes are unknown: without ``n_outputs`` the summary
    assumes **one** output unit, a sigmoid for a classifier (two classes),
    so pass ``n_outputs=n_classes`` to see the softmax output of a
    multiclass classifier (``n_outputs=n_targets`` for a regressor).

    Parameters
    ----------
    estimator : estimator
        A CNNClassifier or CNNRegressor, or a pipeline, search or
        TransformedTargetRegressor around one (see
        :ref:`inspecting_pipelines`), fitted or not. An unfitted search is
        described by its ``estimator``, whatever its grid would change.

    image_shape : (int, int) or (int, int, int), default=None
        ``(height, width[, channels])`` of the images, for an unfitted
        estimator (its ``image_shape`` parameter when None).

    n_outputs : int, default=None
        Output units, for an unfitted estimator (a fitted one has its own):
        the number of classes of a classifier of three or more classes
        (softmax), or of target columns of a regressor. None means 1: a
        binary classifier (one sigmoid unit) or a single-output regressor.

    Returns
    -------
    summary : NetworkSummary
        Print it for a table; ``summary.stages`` holds the rows.

    Raises
    ------
    ValueError
        If the estimator is unfitted and no image shape is known.
    TypeError
        If ``estimator`` holds no convolutional network.

    Examples
    --------
    The seed network, 5x5 images, 4 filters 3x3, max pooling and 3 ReLU
    units, before fitting:

    >>> from sklearn_xcnn import CNNClassifier
    >>> from sklearn_xcnn.inspection import network_summary
    >>> clf = CNNClassifier(n_filters=4, kernel_size=3, hidden_units=3,
    ...                     padding="valid", batch_norm=False, dropout=0.0)
    >>> print(network_summary(clf, image_shape=(5, 5)))
    stage                                   output  parameters
    ----------------------------------------------------------
    input                                    5x5x1           0
    block 0: correlate 4 filters 3x3, relu   3x3x4          40
    block 0: max pool 2x2                    2x2x4           0
    flatten                                     16           0
    dense, relu                                  3          51
    output, sigmoid (n_outputs=1 assumed)        1           4
    ----------------------------------------------------------
    total                                                   95
    """
    estimator, _ = resolve_network(
        estimator, caller="network_summary", allow_unfitted=True
    )
    try:
        check_is_fitted(estimator)
    except Exception:
        stages = list(describe(_unfitted_spec(estimator, image_shape, n_outputs)))
        if n_outputs is None:  # say what was assumed, on the line it shapes
            last = stages[-1]
            stages[-1] = last._replace(name=f"{last.name} (n_outputs=1 assumed)")
        return NetworkSummary(stages)
    return NetworkSummary(describe(estimator._fitted_network().spec))


def _unfitted_spec(estimator, image_shape, n_outputs):
    # the series estimators have no image_shape: their series give the shape
    if image_shape is None:
        image_shape = getattr(estimator, "image_shape", None)
    shape = image_shape
    if shape is None:
        raise ValueError(
            f"This {type(estimator).__name__} is not fitted: pass image_shape="
            "(height, width[, channels]) to describe the network it would build."
        )
    shape = as_int_tuple(shape, "image_shape")
    shape = shape if len(shape) == 3 else (*shape, 1)
    n_outputs = 1 if n_outputs is None else int(n_outputs)
    if estimator._loss == "squared_error":
        out_activation = "identity"
    else:
        out_activation = "logistic" if n_outputs == 1 else "softmax"
    return build_spec(
        shape,
        **estimator._architecture_params(),
        n_outputs=n_outputs,
        out_activation=out_activation,
    )
