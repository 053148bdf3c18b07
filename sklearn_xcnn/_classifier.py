"""CNNClassifier: the convolutional network for class labels."""

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
    unique_labels,
)

from ._base import BaseCNN
from ._core._loss import output_proba
from ._docstrings import fill_doc
from .utils._compat import StrOptions, _check_partial_fit_first_call, _fit_context


@fill_doc(default_dropout="0.3")
class CNNClassifier(ClassifierMixin, BaseCNN):
    """Convolutional neural network classifier.

    The network is ``[correlate -> + bias -> activation -> pool] * n_blocks ->
    flatten -> [dense -> activation] * n_hidden -> dense -> sigmoid/softmax``,
    trained on the log loss by back-propagation: the filters, the filter
    biases and the dense weights and biases are learned together.

    Rows of ``X`` are images, flattened row-major with channels last (the
    ``load_digits`` convention); ``image_shape`` says how to fold them back.
    ``X`` may also be given as images, ``(n_samples, height, width)`` or
    ``(n_samples, height, width, channels)``.

    Parameters
    ----------
    %(architecture_parameters)s

    %(training_parameters)s

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, ``{label: weight}``, multiplied into
        ``sample_weight``: weighting a rare class up raises its recall.
        ``"balanced"`` uses ``n_samples / (n_classes * np.bincount(y))``
        computed on the ``y`` given to ``fit``; ``partial_fit`` refuses it
        (pass a dict computed once for the whole stream).

    %(input_parameters)s

    %(augment_parameters)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    %(fitted_attributes)s

    n_outputs_ : int
        Output units: 1 for binary, ``n_classes`` otherwise.

    out_activation_ : str
        ``"logistic"`` (binary and multilabel) or ``"softmax"``.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : Dense network without convolutions.
    sklearn_xcnn.CNNRegressor : The same network for real-valued targets.

    Notes
    -----
    %(notes)s

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_xcnn import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = CNNClassifier(random_state=0)
    >>> clf.fit(X_train, y_train)
    CNNClassifier(random_state=0)
    >>> [f.shape for f in clf.filters_]  # two blocks: 16, then 32 filters 3x3
    [(16, 1, 3, 3), (32, 16, 3, 3)]
    >>> clf.max_iter_  # max_iter="auto": epochs for about 500 batches of 64
    23
    >>> clf.predict(X_test[:5])
    array([2, 8, 2, 6, 6])
    >>> y_test[:5]
    array([2, 8, 2, 6, 6])
    >>> print(f"{clf.score(X_test, y_test):.3f}")
    0.98...
    """

    _parameter_constraints: dict = {
        **BaseCNN._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    _loss = "log_loss"
    _loss_label = "log loss"
    _score_label = "accuracy"

    def __init__(
        self,
        n_filters=(16, 32),
        kernel_size=3,
        stride=1,
        pool_size=2,
        pooling="max",
        hidden_units=(128,),
        activation="relu",
        *,
        padding="same",
        global_pooling=None,
        dropout=0.3,
        batch_norm=True,
        block="conv",
        block_depth=3,
        dilation=1,
        solver="adam",
        alpha=1e-4,
        batch_size=64,
        learning_rate="cosine",
        learning_rate_init=3e-3,
        power_t=0.5,
        plateau_factor=0.5,
        plateau_patience=10,
        min_learning_rate=0.0,
        max_iter="auto",
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=0,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        keep_best_weights=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        class_weight=None,
        image_shape=None,
        algorithm="auto",
        augment=None,
    ):
        super().__init__(
            n_filters=n_filters,
            kernel_size=kernel_size,
            stride=stride,
            pool_size=pool_size,
            pooling=pooling,
            hidden_units=hidden_units,
            activation=activation,
            padding=padding,
            global_pooling=global_pooling,
            dropout=dropout,
            batch_norm=batch_norm,
            block=block,
            block_depth=block_depth,
            dilation=dilation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            plateau_factor=plateau_factor,
            plateau_patience=plateau_patience,
            min_learning_rate=min_learning_rate,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            keep_best_weights=keep_best_weights,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            image_shape=image_shape,
            algorithm=algorithm,
            augment=augment,
        )
        self.class_weight = class_weight

    # --------------------------------------------------------------- targets
    def _is_first_call(self, incremental, classes):
        if incremental and _check_partial_fit_first_call(self, classes):
            return True
        return super()._is_first_call(incremental, classes)

    def _encode_targets(self, y, first, incremental, classes):
        """Binary indicator matrix ``Y`` (n, n_outputs) for the labels ``y``."""
        check_classification_targets(y)
        multilabel = type_of_target(y) == "multilabel-indicator"
        if first:
            self._fit_label_binarizer(y, classes, multilabel)
        elif not incremental:  # a warm start
            self._check_same_classes(y, multilabel)
        elif (
            y.ndim == 1 and y.dtype.kind in "iuf" and self.classes_.dtype.kind in "iuf"
        ):
            # later calls (partial_fit loops): index the sorted classes
            # directly instead of re-deriving the target type
            return self._one_hot(y)
        elif not multilabel:
            self._check_seen(y)
        return self._label_binarizer.transform(y)

    def _fit_label_binarizer(self, y, classes, multilabel):
        if classes is not None:
            check_classification_targets(np.asarray(classes))
        self._label_binarizer = LabelBinarizer()
        if multilabel:
            # the columns are the labels: partial_fit's classes must name them
            n_labels = y.shape[1]
            if classes is not None and not np.array_equal(
                np.sort(np.asarray(classes)), np.arange(n_labels)
            ):
                raise ValueError(
                    f"y is a multilabel indicator matrix of {n_labels} columns, so "
                    f"classes must be [0, ..., {n_labels - 1}]; got "
                    f"{np.asarray(classes).tolist()}."
                )
            self._label_binarizer.fit(y)
        else:
            self._label_binarizer.fit(y if classes is None else classes)
        self.classes_ = self._label_binarizer.classes_
        if not multilabel and len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in "
                f"the data, but the data contains only one class: "
                f"{self.classes_.tolist()[0]!r}."
            )

    def _check_same_classes(self, y, multilabel):
        """A warm-started fit must see the classes of the first fit."""
        if multilabel:
            same = self._label_binarizer.y_type_ == "multilabel-indicator" and (
                y.shape[1] == len(self.classes_)
            )
            got = f"a multilabel y of {y.shape[1]} labels"
        else:
            labels = unique_labels(y)
            same = self._label_binarizer.y_type_ != "multilabel-indicator" and (
                set(labels.tolist()) == set(self.classes_.tolist())
            )
            got = f"classes {labels.tolist()}"
        if not same:
            raise ValueError(
                "warm_start can only be used where y has the same classes as in "
                f"the previous call to fit: it was fitted on classes "
                f"{self.classes_.tolist()}, and y has {got}. Set warm_start=False "
                "to fit a new model."
            )

    def _check_seen(self, y):
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels not seen in the first fit or in "
                f"`classes`: {unseen.tolist()}; known classes are "
                f"{self.classes_.tolist()}."
            )

    def _one_hot(self, y):
        """Indicator matrix of numeric labels ``y`` (n,) over ``classes_``."""
        classes = self.classes_
        index = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
        if np.any(classes[index] != y):
            self._check_seen(y)
        if len(classes) == 2:
            return (index == 1).astype(int)[:, None]
        Y = np.zeros((len(y), len(classes)), dtype=int)
        Y[np.arange(len(y)), index] = 1
        return Y

    def _task_sample_weight(self, y, incremental, dtype):
        """``class_weight`` as one weight per sample, or None."""
        if self.class_weight is None:
            return None
        if y.ndim > 1:
            raise ValueError("class_weight is not supported for multilabel y.")
        if incremental and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported with partial_fit; "
                "compute the weights once with "
                "sklearn.utils.class_weight.compute_class_weight('balanced', "
                "classes=classes, y=y) and pass them as a dict."
            )
        return compute_sample_weight(self.class_weight, y).astype(dtype)

    def _output_activation(self, Y):
        return (
            "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"
        )

    # -------------------------------------------------------- early stopping
    def _indicator_predictions(self, logits):
        """Predicted indicator matrix (n, n_outputs) from the logits."""
        if self.out_activation_ == "softmax":
            Y = np.zeros(logits.shape, dtype=bool)
            Y[np.arange(len(logits)), np.argmax(logits, axis=1)] = True
            return Y
        return logits > 0

    def _validation_score(self, logits, Y, sample_weight):
        """Accuracy: the share of samples whose every output is right."""
        correct = np.all(self._indicator_predictions(logits) == (Y > 0.5), axis=1)
        return np.average(correct, weights=sample_weight)

    def _stratify(self, Y):
        """Class of each sample for single-label targets; None for multilabel."""
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return None
        return Y[:, 0] if Y.shape[1] == 1 else np.argmax(Y, axis=1)

    # --------------------------------------------------------------- fitting
    @available_if(BaseCNN._check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch over the given data.

        Call it repeatedly on chunks of data that never fit in memory together:
        each call makes one pass in mini-batches, continuing from the current
        weights and optimizer state (``n_iter_`` grows by one). The first call
        draws the initial weights and needs ``classes``; labels outside them
        raise an error later. Only for ``"adam"`` and ``"sgd"``, and not with
        ``early_stopping=True`` (a :class:`ValueError`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, height, \
width) or (n_samples, height, width, channels)
            Training images.

        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a binary indicator matrix for multilabel.

        classes : array-like of shape (n_classes,), default=None
            All the classes that may appear in any call (for a multilabel
            indicator ``y`` of ``k`` columns, ``[0, ..., k - 1]``). Required on
            the first call, ignored afterwards.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss, times ``class_weight``.

        Returns
        -------
        self : CNNClassifier
            Updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    # ------------------------------------------------------------ prediction
    def _labels_from_logits(self, logits):
        if self.n_outputs_ == 1:
            return self.classes_[(logits[:, 0] > 0).astype(int)]
        if self.out_activation_ == "softmax":
            return self.classes_[np.argmax(logits, axis=1)]
        return (logits > 0).astype(int)

    @fill_doc
    def decision_function(self, X):
        """Logits of the output layer.

        Parameters
        ----------
        %(predict_X)s

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            For two classes, the logit of the second class (positive means
            ``classes_[1]``); otherwise one logit per class or label.
        """
        logits = self._logits(X)
        return logits[:, 0] if self.n_outputs_ == 1 else logits

    @fill_doc
    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        %(predict_X)s

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted classes (an indicator matrix for multilabel).
        """
        return self._labels_from_logits(self._logits(X))

    @fill_doc
    def predict_proba(self, X):
        """Probability estimates.

        Probabilities are floored at the smallest normal float of their dtype,
        so they are never exactly 0 and their logarithm stays finite.

        Parameters
        ----------
        %(predict_X)s

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities in the order of ``classes_`` (for multilabel,
            the probability of each label).
        """
        return probabilities(self._logits(X), self.n_outputs_, self.out_activation_)

    @fill_doc
    def predict_log_proba(self, X):
        """Logarithm of the probability estimates.

        Parameters
        ----------
        %(predict_X)s

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``np.log(predict_proba(X))``, always finite.
        """
        return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def probabilities(logits, n_outputs, out_activation):
    """What ``predict_proba`` returns for these logits, ``(n, n_classes)``:
    two columns for a single sigmoid, floored at the dtype's smallest normal
    number."""
    if n_outputs == 1:
        # 1 - sigmoid(z) == sigmoid(-z), without cancellation
        proba = np.hstack([expit(-logits), expit(logits)])
    else:
        proba = output_proba(logits, out_activation)
    return np.maximum(proba, np.finfo(proba.dtype).tiny, out=proba)
