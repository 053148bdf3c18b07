"""Fixtures of the inspection tests: pyplot and small fitted networks."""

import numpy as np
import pytest

from sklearn_xcnn import CNNClassifier, CNNRegressor
from sklearn_xcnn.datasets import make_x_or_not_x

from ..conftest import V02, fit_quietly, needs  # noqa: F401  (for the tests here)


@pytest.fixture
def pyplot():
    """matplotlib.pyplot on the Agg backend; closes every figure afterwards."""
    matplotlib = needs("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(scope="session")
def x_data():
    """200 X-or-not-X images (flat rows of 25 pixels) with "X"/"not X" labels."""
    X, y = make_x_or_not_x(n_samples=200, random_state=0)
    return X, np.where(y == 1, "X", "not X")


@pytest.fixture(scope="session")
def x_clf(x_data):
    """The walk-through network: 4 3x3 filters, max pooling, 3 hidden units
    (the 0.2 network: 'valid' 3x3 maps of 5x5 images, no batch norm)."""
    clf = CNNClassifier(
        **{**V02, "n_filters": 4, "hidden_units": 3}, solver="lbfgs", random_state=1
    )
    return fit_quietly(clf, *x_data)


# a short Adam fit with early stopping, so that it records validation curves
EARLY_STOPPING = dict(
    n_filters=2,
    hidden_units=4,
    early_stopping=True,
    learning_rate_init=0.01,
    max_iter=12,
    random_state=0,
)


@pytest.fixture(scope="session")
def early_stopping_clf(x_data):
    """The classifier fitted with EARLY_STOPPING."""
    return fit_quietly(CNNClassifier(**EARLY_STOPPING), *x_data)


@pytest.fixture(scope="session")
def ink_data(x_data):
    """The X-or-not-X images with a real target: the share of black pixels."""
    X = x_data[0]
    return X, X.mean(axis=1)


@pytest.fixture(scope="session")
def x_reg(ink_data):
    """A regressor with the walk-through architecture, fitted by L-BFGS."""
    reg = CNNRegressor(
        **{**V02, "n_filters": 4, "hidden_units": 3}, solver="lbfgs", random_state=1
    )
    return fit_quietly(reg, *ink_data)


@pytest.fixture(scope="session")
def early_stopping_reg(ink_data):
    """The regressor fitted with EARLY_STOPPING."""
    return fit_quietly(CNNRegressor(**EARLY_STOPPING), *ink_data)
