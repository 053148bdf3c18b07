"""Warnings point at the user's own line (``stacklevel``), for every call and
estimator that warns."""

import warnings

import numpy as np
import pytest

from sklearn_xcnn import CNNClassifier, CNNRegressor

from .conftest import V02

X = np.random.RandomState(0).uniform(size=(30, 16))
y = np.arange(30) % 2


def _caught(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()  # the line the warnings must name
    return caught


@pytest.mark.parametrize(
    "call",
    [
        # the max_iter ConvergenceWarning: the 0.2 regime's constant rate (a
        # cosine that ran its whole span ends without one, by design)
        lambda: CNNClassifier(
            **{**V02, "n_filters": 2, "hidden_units": 2, "max_iter": 1}
        ).fit(X, y),
        lambda: CNNClassifier(
            n_filters=2, hidden_units=2, max_iter=1, solver="lbfgs"
        ).fit(X, y),
        lambda: CNNRegressor(n_filters=2, hidden_units=2, max_iter=1).fit(
            X, y[:, None].astype(float)
        ),
        lambda: CNNClassifier(n_filters=2, hidden_units=2, max_iter=1).fit(
            np.tile(X, (1, 7))[:, :100], y
        ),
        lambda: CNNClassifier(n_filters=2, hidden_units=2, max_iter=1).fit(
            np.random.RandomState(0).uniform(size=(30, 3, 5, 5)), y
        ),
    ],
    ids=["convergence", "lbfgs", "column-y", "square-guess", "channels-first"],
)
def test_warnings_name_the_callers_file(call):
    caught = _caught(call)
    assert caught, "expected a warning"
    for w in caught:
        assert w.filename == __file__, (w.filename, str(w.message))
