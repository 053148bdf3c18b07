"""Keeping an estimator's state safe: versioned pickles and fit snapshots.

Pickles (and skops files) of a :class:`~sklearn_xcnn.CNNClassifier` record the
sklearn-xcnn version that wrote them; loading one written by another version
warns with :class:`ModelVersionWarning`. A fit that fails puts back a deep
snapshot of the estimator taken before it started, so that nothing the fit
changed in place (the loss curve, the optimizer's moments, the random state)
survives the failure.
"""

import copy
import warnings

VERSION_KEY = "_sklearn_xcnn_version"


class ModelVersionWarning(UserWarning):
    """A model saved by another version of sklearn-xcnn was loaded.

    The fitted attributes a version stores, and what it does with them, may
    change between versions: the loaded model may fail or predict differently.

    Parameters
    ----------
    estimator_name : str
        Class of the loaded estimator.
    saved_version : str
        Version that saved the model (``"unknown"`` when none was stored).
    current_version : str
        Version installed now.

    Examples
    --------
    >>> from sklearn_xcnn import ModelVersionWarning
    >>> print(ModelVersionWarning("CNNClassifier", "0.0.1", "0.1.0"))
    This CNNClassifier was saved by sklearn-xcnn 0.0.1 and is loaded by
    sklearn-xcnn 0.1.0. ...
    """

    def __init__(self, estimator_name, saved_version, current_version):
        self.estimator_name = estimator_name
        self.saved_version = saved_version
        self.current_version = current_version

    def __str__(self):
        return (
            f"This {self.estimator_name} was saved by sklearn-xcnn "
            f"{self.saved_version} and is loaded by sklearn-xcnn "
            f"{self.current_version}. Its fitted attributes may not be what this "
            "version expects, so it may fail or predict differently. Refit it "
            f"with the installed version, or install sklearn-xcnn=="
            f"{self.saved_version} to use it."
        )


def installed_version():
    """The version of the installed sklearn-xcnn."""
    from . import __version__  # the package imports this module: import lazily

    return __version__


def versioned_state(state):
    """``state`` (a dict) with the installed version added under ``VERSION_KEY``."""
    return {**state, VERSION_KEY: installed_version()}


def check_state_version(state, estimator_name):
    """``state`` without ``VERSION_KEY``; warn when it names another version."""
    state = dict(state)
    saved = state.pop(VERSION_KEY, "unknown")
    current = installed_version()
    if saved != current:
        warnings.warn(ModelVersionWarning(estimator_name, saved, current), stacklevel=3)
    return state


def snapshot(estimator):
    """A deep copy of ``estimator.__dict__``, sharing the constructor parameters.

    The parameters belong to the user (a ``RandomState`` passed as
    ``random_state`` must stay the very object passed), everything else is
    copied so that in-place changes made by a fit cannot leak into it.
    """
    params = estimator.get_params(deep=False).values()
    memo = {id(value): value for value in params}
    return {key: _copy(value, memo) for key, value in estimator.__dict__.items()}


def _copy(value, memo):
    """Deep copy, fast for the (growing) lists of floats of the history."""
    if id(value) not in memo and isinstance(value, list):
        if all(type(item) is float for item in value):
            return list(value)
    return copy.deepcopy(value, memo)


def restore(estimator, state):
    """Put back a :func:`snapshot` of ``estimator``."""
    estimator.__dict__.clear()
    estimator.__dict__.update(state)
