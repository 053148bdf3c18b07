"""CNNRegressor: the convolutional network for real-valued targets."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils import check_array
from sklearn.utils.metaestimators import available_if

from ._base import BaseCNN
from ._docstrings import fill_doc
from .utils._compat import _fit_context


@fill_doc(default_dropout="0.1")
class CNNRegressor(RegressorMixin, BaseCNN):
    """Convolutional neural network regressor.

    The network is ``[correlate -> + bias -> activation -> pool] * n_blocks ->
    flatten -> [dense -> activation] * n_hidden -> dense``, with identity
    output units, trained on half the mean squared error (averaged over the
    samples and the outputs, as in
    :class:`~sklearn.neural_network.MLPRegressor`) plus the L2 penalty, by
    back-propagation. It suits questions asked of images and signals whose
    answer is a number: how thick is a stroke, how long is a bar, at what
    angle does it lie.

    Rows of ``X`` are images, flattened row-major with channels last (the
    ``load_digits`` convention); ``image_shape`` says how to fold them back.
    ``X`` may also be given as images, ``(n_samples, height, width)`` or
    ``(n_samples, height, width, channels)``. The targets are used as given:
    like any neural network it trains best on targets of order 1 (scale
    others, e.g. with
    :class:`~sklearn.compose.TransformedTargetRegressor`).

    Parameters
    ----------
    %(architecture_parameters)s

    %(training_parameters)s

    %(input_parameters)s

    %(augment_parameters)s

    Attributes
    ----------
    %(fitted_attributes)s

    n_outputs_ : int
        Number of outputs: 1 for a 1-D ``y``, else ``y.shape[1]``.

    out_activation_ : str
        ``"identity"``.

    See Also
    --------
    sklearn.neural_network.MLPRegressor : Dense network without convolutions.
    sklearn_xcnn.CNNClassifier : The same network for class labels.

    Notes
    -----
    %(notes)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn import CNNRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(size=(300, 6, 6))  # 300 images of 6x6 pixels
    >>> y = X[:, 2:4, 2:4].mean(axis=(1, 2))  # brightness of the centre
    >>> reg = CNNRegressor(n_filters=4, hidden_units=16, pooling=None,
    ...                    solver="lbfgs", random_state=0).fit(X[:200], y[:200])
    >>> reg.filters_[0].shape
    (4, 1, 3, 3)
    >>> reg.predict(X[200:203]).shape
    (3,)
    >>> print(f"{reg.score(X[200:], y[200:]):.3f}")
    0.98...
    """

    _loss = "squared_error"
    _loss_label = "squared error / 2"
    _score_label = "R^2"

    # --------------------------------------------------------------- targets
    def _encode_targets(self, y, first, incremental, classes):
        """Real targets as a float matrix ``Y`` (n, n_outputs)."""
        try:
            y = check_array(
                y, ensure_2d=False, dtype=(np.float64, np.float32), input_name="y"
            )
        except ValueError as exc:
            if "could not convert" not in str(exc):
                raise
            raise ValueError(
                f"{type(self).__name__} needs numeric targets, but y holds values "
                f"that are not numbers ({exc}). For class labels use "
                "CNNClassifier."
            ) from exc
        Y = y.reshape(len(y), -1)
        if first:
            self._y_ndim = y.ndim
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} output(s) but {type(self).__name__} was "
                f"fitted on {self.n_outputs_}; set warm_start=False (or call fit "
                "instead of partial_fit) to fit a new model."
            )
        return Y

    def _output_activation(self, Y):
        return "identity"

    def _validation_score(self, logits, Y, sample_weight):
        """R^2 of the held-out rows, averaged uniformly over the outputs."""
        return r2_score(Y, logits, sample_weight=sample_weight)

    def _stratify(self, Y):
        """Regression holds out a random split."""
        return None

    # --------------------------------------------------------------- fitting
    @available_if(BaseCNN._check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch over the given data.

        Call it repeatedly on chunks of data that never fit in memory together:
        each call makes one pass in mini-batches, continuing from the current
        weights and optimizer state (``n_iter_`` grows by one). The first call
        draws the initial weights. Only for ``"adam"`` and ``"sgd"``, and not
        with ``early_stopping=True`` (a :class:`ValueError`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, height, \
width) or (n_samples, height, width, channels)
            Training images.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss.

        Returns
        -------
        self : CNNRegressor
            Updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    # ------------------------------------------------------------ prediction
    @fill_doc
    def predict(self, X):
        """Predict the targets.

        Parameters
        ----------
        %(predict_X)s

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values, 1-D when the model was fitted on a 1-D ``y``.
        """
        out = self._logits(X)
        return out[:, 0] if self._y_ndim == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
