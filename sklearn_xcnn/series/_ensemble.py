"""Ensembles of independently trained networks of one preset, averaged.

:class:`NetworkEnsemble` holds ``n_networks`` fitted single-network
estimators in ``estimators_`` (instances of the subclass's
``_member_class``, built with the ensemble's own parameters less
``n_networks``) and averages their probabilities or predictions, as
InceptionTime does. It owns only the mechanics:

* seeds: member ``i`` is fitted with the ``i``-th int drawn from
  ``random_state``, so the first members do not depend on ``n_networks``;
* atomicity: members are fitted (or, for ``warm_start`` and ``partial_fit``,
  copies of them are updated) before any is stored, so a failed fit leaves a
  fitted ensemble as it was;
* names: an error a member raises names the ensemble's class, not the
  member's;
* parallelism: with ``n_jobs``, the members are fitted at once by joblib
  (each member's fit is the same computation wherever it runs);
* warnings: a member's warnings are raised again at the user's line (a
  worker process's would not reach the caller's filters at all).

Validation of parameters and data is the members' (the ensemble validates
its parameters with the members' constraints plus ``n_networks`` and
``n_jobs``).
"""

import copy
import os
import warnings
from contextlib import contextmanager
from numbers import Integral

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from ..utils._compat import Interval, _fit_context

# attributes the ensemble shows of its first member after fitting
_SHARED_ATTRIBUTES = (
    "classes_",
    "n_features_in_",
    "feature_names_in_",
    "n_channels_",
    "n_timepoints_",
    "series_lengths_",
)

N_NETWORKS_CONSTRAINT = [Interval(Integral, 1, None, closed="left")]
N_JOBS_CONSTRAINT = [
    Interval(Integral, None, -1, closed="right"),
    Interval(Integral, 1, None, closed="left"),
    None,
]

# stack depth from _run_members to the user's line: it <- _fit_members or
# _partial_fit_members <- fit/partial_fit <- the _fit_context wrapper <- the
# user's line
_WARNING_STACKLEVEL = 5


def member_seeds(random_state, n_networks):
    """``n_networks`` int seeds drawn in turn from ``random_state``."""
    return check_random_state(random_state).randint(
        np.iinfo(np.int32).max, size=n_networks
    )


def _fit_member(member, method, X, y, kwargs, caller=None):
    """``member.method(X, y, **kwargs)``: ``(member, warnings)``, with the
    warnings it raised recorded (to be raised again at the user's line),
    except on a thread of the ``caller`` process, where recording is not
    safe and they are raised as they come."""
    if caller == os.getpid():
        getattr(member, method)(X, y, **kwargs)
        return member, []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(member, method)(X, y, **kwargs)
    return member, caught


def _stochastic_solver(ensemble):
    """``partial_fit`` exists for the stochastic solvers, as for a member."""
    if ensemble.solver == "lbfgs":
        raise AttributeError("partial_fit is only available for stochastic solvers")
    return True


class NetworkEnsemble(BaseEstimator):
    """Base of the averaged ensembles of networks; not for direct use.

    A subclass sets ``_member_class`` (a single-network estimator whose
    parameters are the ensemble's less ``n_networks``) and puts
    :class:`~sklearn.base.ClassifierMixin` or
    :class:`~sklearn.base.RegressorMixin` first in its bases.
    """

    _member_class = None

    # ---------------------------------------------------------------- members
    def _member_params(self):
        params = self.get_params(deep=False)
        del params["n_networks"], params["n_jobs"], params["random_state"]
        return params

    def _members(self, previous):
        """The members to fit: copies of ``previous`` ones where given (they
        continue from their weights), new ones for the rest; each with the
        ensemble's parameters and its own seed."""
        params = self._member_params()
        seeds = member_seeds(self.random_state, self.n_networks)
        previous = previous or []
        members = []
        for i, seed in enumerate(seeds):
            member = (
                copy.deepcopy(previous[i])
                if i < len(previous)
                else self._member_class()
            )
            members.append(member.set_params(**params, random_state=int(seed)))
        return members

    @contextmanager
    def _named_errors(self):
        """Re-raise a member's error naming the ensemble's class."""
        member, own = self._member_class.__name__, type(self).__name__
        try:
            yield
        except (ValueError, TypeError) as exc:
            if member not in str(exc):
                raise
            try:
                renamed = type(exc)(str(exc).replace(member, own))
            except Exception:  # an exception type with other arguments
                raise exc from None
            raise renamed from exc

    def _adopt(self, members):
        """Store fitted ``members`` and show the first one's shared
        attributes (dropping those of an earlier fit it lacks)."""
        self.estimators_ = members
        self.n_iter_ = max(member.n_iter_ for member in members)
        for name in _SHARED_ATTRIBUTES:
            if hasattr(members[0], name):
                setattr(self, name, getattr(members[0], name))
            elif name in vars(self):
                delattr(self, name)
        return self

    # ---------------------------------------------------------------- fitting
    def _run_members(self, members, method, X, y, **kwargs):
        """Call ``method`` of every member, ``n_jobs`` at a time, and return
        the members it fitted (copies, from worker processes); their
        warnings are raised at the user's line."""
        n_jobs = self.n_jobs
        if n_jobs is not None and n_jobs > 0:
            n_jobs = min(n_jobs, len(members))
        with self._named_errors():
            if effective_n_jobs(n_jobs) == 1:
                results = [_fit_member(m, method, X, y, kwargs) for m in members]
            else:
                results = Parallel(n_jobs=n_jobs)(
                    delayed(_fit_member)(m, method, X, y, kwargs, os.getpid())
                    for m in members
                )
        for _, caught in results:
            for record in caught:
                warnings.warn(
                    record.message, record.category, stacklevel=_WARNING_STACKLEVEL
                )
        return [member for member, _ in results]

    def _fit_members(self, X, y, sample_weight):
        previous = getattr(self, "estimators_", None) if self.warm_start else None
        members = self._members(previous)
        members = self._run_members(members, "fit", X, y, sample_weight=sample_weight)
        return self._adopt(members)

    def _partial_fit_members(self, X, y, **kwargs):
        members = self._members(getattr(self, "estimators_", None))
        return self._adopt(self._run_members(members, "partial_fit", X, y, **kwargs))

    # ------------------------------------------------------------- prediction
    def _average(self, method, X):
        """The mean of the members' ``method(X)``."""
        check_is_fitted(self)
        with self._named_errors():
            total = getattr(self.estimators_[0], method)(X)
            for member in self.estimators_[1:]:
                total = total + getattr(member, method)(X)
        return total / len(self.estimators_)

    def __sklearn_tags__(self):
        # the members' tags: what the ensemble accepts is what they accept
        member = self._member_class().set_params(**self._member_params())
        return member.__sklearn_tags__()


_FIT_PARAMETERS = """\
        Parameters
        ----------
        X : array-like of shape (n_cases, n_timepoints) or \
(n_cases, n_channels, n_timepoints), or list of ndarray
            Training series in aeon's layouts.

        y : array-like of shape (n_cases,) or (n_cases, n_outputs)
            Targets.
"""

_SAMPLE_WEIGHT = """\
        sample_weight : array-like of shape (n_cases,), default=None
            Weights of the series, given to every network."""

_PREDICT_PARAMETERS = """\
        Parameters
        ----------
        X : array-like of shape (n_cases, n_timepoints) or \
(n_cases, n_channels, n_timepoints), or list of ndarray
            Series in aeon's layouts (a list may hold series of lengths the
            networks never saw)."""


def _doc(text):
    """Put the shared parameter descriptions into a method's docstring."""

    def decorate(method):
        method.__doc__ = text.format(
            fit=_FIT_PARAMETERS, sample_weight=_SAMPLE_WEIGHT,
            predict=_PREDICT_PARAMETERS,
        )  # fmt: skip
        return method

    return decorate


class EnsembleClassifierMixin(ClassifierMixin):
    """fit, partial_fit and prediction of an averaged ensemble of classifiers."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True  # as its members
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    @_doc("""Fit every network of the ensemble.

{fit}
{sample_weight}

        Returns
        -------
        self : object
            The fitted ensemble.
        """)
    def fit(self, X, y, sample_weight=None):
        return self._fit_members(X, y, sample_weight)

    @available_if(_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    @_doc("""Take one epoch of every network on a batch of series.

{fit}
        classes : array-like of shape (n_classes,), default=None
            Every class, required on the first call.

{sample_weight}

        Returns
        -------
        self : object
            The updated ensemble.
        """)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        return self._partial_fit_members(
            X, y, classes=classes, sample_weight=sample_weight
        )

    @_doc("""Probability estimates: the mean of the networks'.

{predict}

        Returns
        -------
        proba : ndarray of shape (n_cases, n_classes)
            Class probabilities in the order of ``classes_``.
        """)
    def predict_proba(self, X):
        return self._average("predict_proba", X)

    @_doc("""Logits of the averaged probabilities.

        Not the mean of the networks' logits: the logit (log-odds) of the
        probabilities that ``predict_proba`` gives, so that the largest
        score is the predicted class.

{predict}

        Returns
        -------
        scores : ndarray of shape (n_cases,) or (n_cases, n_classes)
            For two classes, ``log(p1 / p0)`` (positive means
            ``classes_[1]``); for a multilabel ``y``, the log-odds of each
            label; otherwise ``log(p)`` of each class.
        """)
    def decision_function(self, X):
        proba = self.predict_proba(X)
        first = self.estimators_[0]
        if first.n_outputs_ == 1:  # two classes
            return np.log(proba[:, 1]) - np.log(proba[:, 0])
        if first.out_activation_ == "logistic":  # multilabel
            return np.log(proba) - np.log1p(-np.minimum(proba, 1 - 1e-16))
        return np.log(proba)

    @_doc("""Logarithm of the averaged probability estimates.

{predict}

        Returns
        -------
        log_proba : ndarray of shape (n_cases, n_classes)
            ``np.log(predict_proba(X))``.
        """)
    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    @_doc("""Predict class labels: the class of highest averaged probability.

{predict}

        Returns
        -------
        y : ndarray of shape (n_cases,) or (n_cases, n_labels)
            Predicted classes (an indicator matrix for multilabel, each label
            where its averaged probability exceeds 0.5).
        """)
    def predict(self, X):
        proba = self.predict_proba(X)
        first = self.estimators_[0]
        if first.out_activation_ == "logistic" and first.n_outputs_ > 1:
            return (proba > 0.5).astype(int)  # multilabel: each label alone
        return self.classes_[np.argmax(proba, axis=1)]


class EnsembleRegressorMixin(RegressorMixin):
    """fit, partial_fit and prediction of an averaged ensemble of regressors."""

    @_fit_context(prefer_skip_nested_validation=True)
    @_doc("""Fit every network of the ensemble.

{fit}
{sample_weight}

        Returns
        -------
        self : object
            The fitted ensemble.
        """)
    def fit(self, X, y, sample_weight=None):
        return self._fit_members(X, y, sample_weight)

    @available_if(_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    @_doc("""Take one epoch of every network on a batch of series.

{fit}
{sample_weight}

        Returns
        -------
        self : object
            The updated ensemble.
        """)
    def partial_fit(self, X, y, sample_weight=None):
        return self._partial_fit_members(X, y, sample_weight=sample_weight)

    @_doc("""Predict targets: the mean of the networks' predictions.

{predict}

        Returns
        -------
        y : ndarray of shape (n_cases,) or (n_cases, n_outputs)
            Predicted values.
        """)
    def predict(self, X):
        return self._average("predict", X)
