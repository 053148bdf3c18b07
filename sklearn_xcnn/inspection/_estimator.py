"""resolve_network: the network inside an estimator, a pipeline or a search.

Every function of :mod:`sklearn_xcnn.inspection` that takes an estimator
reads it through :func:`resolve_network`, so that a fitted pipeline, grid
search or target transformer is accepted wherever one of our estimators is.
"""

from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._base import BaseCNN
from ..utils._compat import BaseSearchCV

ACCEPTED = (
    "a CNNClassifier or CNNRegressor, a Pipeline whose last step is one, or a "
    "GridSearchCV, RandomizedSearchCV, HalvingGridSearchCV, "
    "HalvingRandomSearchCV or TransformedTargetRegressor around one"
)


def resolve_network(estimator, X=None, *, caller, allow_unfitted=False):
    """The convolutional estimator inside ``estimator``, and ``X`` as it sees it.

    Unwraps, as often as they are nested:

    - a :class:`~sklearn.pipeline.Pipeline`: its last step; ``X`` is passed
      through the ``transform`` of the steps before it (``"passthrough"``
      and ``None`` steps are skipped);
    - a search (``GridSearchCV``, ``RandomizedSearchCV``,
      ``HalvingGridSearchCV``, ``HalvingRandomSearchCV``): its
      ``best_estimator_``, so it must have been fitted with ``refit`` set;
    - a :class:`~sklearn.compose.TransformedTargetRegressor`: its fitted
      ``regressor_``. The network then works in the units of the
      *transformed* target: its predictions and losses are not
      inverse-transformed.

    Parameters
    ----------
    estimator : estimator
        A :class:`~sklearn_xcnn.CNNClassifier`,
        :class:`~sklearn_xcnn.CNNRegressor` (or any estimator built on
        their base class), or one of the wrappers above around one.

    X : array-like of shape (n_samples, n_features), default=None
        Samples as given to ``estimator.predict``; None when the caller
        needs no samples.

    caller : str
        Name of the calling function or method, for the messages.

    allow_unfitted : bool, default=False
        Whether an unfitted ``estimator`` is accepted. If so, an unfitted
        wrapper gives the estimator that fitting it would fit: a pipeline's
        last step, a search's ``estimator``, a target transformer's
        ``regressor``; ``X`` must then be None.

    Returns
    -------
    network_estimator : BaseCNN
        The (fitted, unless ``allow_unfitted``) convolutional estimator.

    X_for_network : array-like or None
        ``X`` after the steps before the network; None when ``X`` is None.

    Raises
    ------
    TypeError
        If ``estimator`` holds no convolutional estimator where one is
        expected; the message names what was found.
    sklearn.exceptions.NotFittedError
        If ``estimator`` (or what it wraps) is not fitted, or a search was
        fitted with ``refit=False``.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from sklearn_xcnn import CNNClassifier
    >>> from sklearn_xcnn.datasets import make_x_or_not_x
    >>> from sklearn_xcnn.inspection._estimator import resolve_network
    >>> X, y = make_x_or_not_x(n_samples=40, random_state=0)
    >>> pipe = make_pipeline(MinMaxScaler(feature_range=(-1, 1)),
    ...                      CNNClassifier(n_filters=2, hidden_units=2,
    ...                                    solver="lbfgs", random_state=0))
    >>> pipe = pipe.fit(X, y)
    >>> clf, X_scaled = resolve_network(pipe, X[:2], caller="example")
    >>> clf is pipe[-1], float(X_scaled.min())
    (True, -1.0)
    """
    network, steps = _unwrap(estimator, caller, allow_unfitted, where="")
    if X is not None:
        for step in steps:
            X = step.transform(X)
    return network, X


def _unwrap(estimator, caller, allow_unfitted, where):
    """``(network_estimator, transformers)``: the estimator inside, and the
    fitted steps that ``X`` goes through first, in order."""
    if isinstance(estimator, BaseCNN):
        _check_fitted(estimator, caller, allow_unfitted)
        return estimator, []
    if isinstance(estimator, Pipeline):
        return _unwrap_pipeline(estimator, caller, allow_unfitted, where)
    if isinstance(estimator, (BaseSearchCV, TransformedTargetRegressor)):
        inner, what = _inner(estimator, caller, allow_unfitted)
        inside = f"the {what} of a {type(estimator).__name__}"
        return _unwrap(inner, caller, allow_unfitted, _nest(inside, where))
    raise TypeError(
        f"{caller} takes {ACCEPTED}; got {_a(estimator)}{where}. "
        "(Other estimators have no convolutional network to show.)"
    )


def _unwrap_pipeline(pipe, caller, allow_unfitted, where):
    """A pipeline's network estimator and all the steps before it."""
    name, last = pipe.steps[-1]
    inside = f"the last step {name!r} of a Pipeline"
    if last is None or last == "passthrough":
        raise TypeError(f"{caller} takes {ACCEPTED}; got {last!r} as {inside}{where}.")
    _check_fitted(pipe, caller, allow_unfitted)  # named as the user gave it
    network, steps = _unwrap(last, caller, allow_unfitted, _nest(inside, where))
    before = [s for _, s in pipe.steps[:-1] if s is not None and s != "passthrough"]
    return network, before + steps


def _inner(estimator, caller, allow_unfitted):
    """``(estimator inside, its attribute name)`` of a search or a
    TransformedTargetRegressor; the template it fits when it is unfitted
    and ``allow_unfitted``."""
    search = isinstance(estimator, BaseSearchCV)
    fitted_name = "best_estimator_" if search else "regressor_"
    unfitted_name = "estimator" if search else "regressor"
    if allow_unfitted and not _is_fitted(estimator):
        inner = getattr(estimator, unfitted_name)
        if inner is None:  # TransformedTargetRegressor's default
            raise TypeError(
                f"{caller} takes {ACCEPTED}; got a TransformedTargetRegressor "
                "with regressor=None (a LinearRegression)."
            )
        return inner, unfitted_name
    _check_fitted(estimator, caller, allow_unfitted=False)
    if search and not hasattr(estimator, "best_estimator_"):
        raise NotFittedError(
            f"This {type(estimator).__name__} was fitted with refit=False, so it "
            f"holds no best_estimator_ for {caller}; fit it with refit=True, or "
            "pass a fitted estimator."
        )
    return getattr(estimator, fitted_name), fitted_name


def _is_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def _check_fitted(estimator, caller, allow_unfitted):
    if allow_unfitted:
        return
    check_is_fitted(
        estimator,
        msg=(
            f"This {type(estimator).__name__} instance is not fitted yet. Call "
            f"'fit' with appropriate arguments before {caller}."
        ),
    )


def _a(estimator):
    """``"a LogisticRegression"``, ``"an ElasticNet"``."""
    name = type(estimator).__name__
    return f"{'an' if name[:1] in 'AEIOU' else 'a'} {name}"


def _nest(inside, where):
    """Append ``inside`` to the path of wrappers ``where`` found so far."""
    return f" as {inside}" + (f", itself{where.removeprefix(' as')}" if where else "")
