"""The augmenter base class and what ``fit`` does with ``augment``.

An augmenter is a small object whose parameters are stored unchanged by
``__init__`` (so that :func:`~sklearn.base.clone`, ``get_params`` and a grid
search over ``augment`` work as for estimators) and whose
:meth:`Augmenter.transform_batch` returns new images drawn from a batch.
Any callable ``augmenter(X, random_state) -> X`` does the same job.
"""

import inspect

import numpy as np

from ..utils._compat import validate_parameter_constraints


class Augmenter:
    """Base class of the augmenters of :mod:`sklearn_xcnn.augment`.

    A subclass stores its ``__init__`` arguments unchanged under their own
    names, lists their constraints in ``_parameter_constraints`` (as
    scikit-learn's estimators do) and supplies
    ``_transform_batch(X, random_state)``, which :meth:`transform_batch`
    calls; it may supply ``_check_image_shape(image_shape)`` too, which
    :meth:`check` calls once the constraints hold, to refuse images it
    cannot augment. Calling an augmenter calls :meth:`transform_batch`, so
    an augmenter is also a callable ``augmenter(X, random_state)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_xcnn.augment import Augmenter
    >>> class Brighten(Augmenter):
    ...     _parameter_constraints = {"amount": [float]}
    ...     def __init__(self, amount=0.1):
    ...         self.amount = amount
    ...     def _transform_batch(self, X, random_state):
    ...         return X + self.amount * random_state.random_sample((len(X), 1, 1, 1))
    >>> Brighten(amount=0.2)
    Brighten(amount=0.2)
    >>> images = np.zeros((2, 3, 3, 1))
    >>> Brighten().transform_batch(images, np.random.RandomState(0)).shape
    (2, 3, 3, 1)
    """

    _parameter_constraints: dict = {}

    @classmethod
    def _param_names(cls):
        """Names of the ``__init__`` parameters, in order."""
        signature = inspect.signature(cls.__init__)
        return [
            name
            for name, p in signature.parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self, deep=True):
        """The parameters of this augmenter.

        Parameters
        ----------
        deep : bool, default=True
            Unused: an augmenter holds no nested objects. Kept for
            scikit-learn's :func:`~sklearn.base.clone`.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set parameters of this augmenter.

        Parameters
        ----------
        **params : dict
            New parameter values, by name.

        Returns
        -------
        self : Augmenter
            This augmenter.
        """
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for augmenter {self!r}. Valid "
                    f"parameters are: {valid!r}."
                )
            setattr(self, name, value)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __call__(self, X, random_state):
        return self.transform_batch(X, random_state)

    def check(self, image_shape):
        """Check the parameters, and that they can augment such images.

        ``fit`` calls it before training.

        Parameters
        ----------
        image_shape : tuple of (int, int, int)
            ``(height, width, channels)`` of the images to augment.

        Raises
        ------
        ValueError
            When a parameter is invalid, or cannot augment such images.
        """
        validate_parameter_constraints(
            self._parameter_constraints, self.get_params(), type(self).__name__
        )
        self._check_image_shape(tuple(image_shape))

    def _check_image_shape(self, image_shape):
        """Refuse images of ``image_shape`` that this augmenter cannot augment."""

    def transform_batch(self, X, random_state):
        """Augmented copies of the images ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, height, width, channels)
            A training batch; left unchanged.
        random_state : numpy.random.RandomState
            Generator to draw from, once per image.

        Returns
        -------
        X_new : ndarray of shape (n_samples, height, width, channels)
            The augmented images, of the dtype of ``X``.
        """
        return self._transform_batch(X, random_state)

    def _transform_batch(self, X, random_state):
        raise NotImplementedError(
            f"{type(self).__name__} must supply _transform_batch(X, random_state)."
        )


def check_augment(augment, image_shape, solver):
    """The augmenters of the ``augment`` parameter, checked for images of
    ``image_shape``: a list, empty when there are none.

    Raises a :class:`ValueError` naming the entry that cannot augment.
    """
    augmenters = list(augment or ())
    if augmenters and solver == "lbfgs":
        raise ValueError(
            "augment needs solver='adam' or 'sgd': L-BFGS needs the same loss at "
            "every evaluation, while augmentation draws new images for each "
            "batch. Set augment=None to use solver='lbfgs'."
        )
    for k, augmenter in enumerate(augmenters):
        if isinstance(augmenter, Augmenter):
            try:
                augmenter.check(image_shape)
            except ValueError as exc:
                raise ValueError(f"augment[{k}] = {_name(augmenter)}: {exc}") from exc
        elif not _takes_two_arguments(augmenter):
            raise ValueError(
                f"augment[{k}] = {_name(augmenter)} is not an augmenter: use one of "
                "sklearn_xcnn.augment (RandomShift, RandomFlip, ...) or a "
                "callable augmenter(X, random_state) returning images of the "
                "shape of X (n_samples, height, width, channels)."
            )
    return augmenters


def _name(augmenter):
    """How errors name an augmenter: its repr, or a function's name."""
    if isinstance(augmenter, Augmenter) or not hasattr(augmenter, "__qualname__"):
        return repr(augmenter)
    return augmenter.__qualname__


def _takes_two_arguments(func):
    """Whether ``func`` can be called as ``func(X, random_state)``."""
    if not callable(func):
        return False
    try:
        inspect.signature(func).bind(None, None)
    except TypeError:
        return False
    except ValueError:  # no signature to read (some builtins): trust it
        return True
    return True


def augment_batch(augmenters, X, random_state):
    """The batch ``X`` (n, H, W, C) through each augmenter in turn.

    The augmenters get a copy, so that one that writes into its input cannot
    change the training data; what each returns must keep the shape of ``X``,
    and is cast to its dtype.
    """
    dtype, shape = X.dtype, X.shape
    X = np.array(X, copy=True)
    for k, augmenter in enumerate(augmenters):
        out = np.asarray(augmenter(X, random_state))
        if out.shape != shape:
            raise ValueError(
                f"augment[{k}] = {_name(augmenter)} returned an array of shape "
                f"{out.shape} for a batch of shape {shape}: an augmenter must "
                "return images of the shape it is given."
            )
        X = np.ascontiguousarray(out, dtype=dtype)
    return X
