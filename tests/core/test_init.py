"""The start: the scale of each layer's draw, the output layer's by network
and Adam's rate (issue 21), against computations made here."""

import warnings

import numpy as np
import pytest

from sklearn_xcnn import CNNClassifier, CNNRegressor
from sklearn_xcnn._core import _init
from sklearn_xcnn._core._network import build_spec, init_params
from sklearn_xcnn._core._spec import n_weighted_params


def _spec(
    activation="relu", out_activation="softmax", n_outputs=10, hidden=128, **options
):
    """Two blocks of 16 and 32 filters on 28x28 images, ``hidden`` units."""
    return build_spec(
        (28, 28, 1),
        (16, 32),
        3,
        1,
        2,
        "max",
        (hidden,),
        activation,
        n_outputs,
        out_activation,
        "im2col",
        **options,
    )


def _fans(w):
    if w.ndim == 4:  # (F, C, kr, kc)
        F, C, kr, kc = w.shape
        return C * kr * kc, F * kr * kc
    return w.shape  # (n_in, n_out)


def _check_uniform(a, bound):
    """``a`` looks drawn from U(-bound, bound): inside it, reaching near its
    ends, with the law's variance ``bound**2 / 3``."""
    assert np.abs(a).max() <= bound
    if a.size >= 100:
        assert np.abs(a).max() > 0.9 * bound
        assert a.var() == pytest.approx(bound**2 / 3, rel=0.2)


@pytest.mark.parametrize(
    "activation, factor", [("relu", 6), ("tanh", 6), ("identity", 6), ("logistic", 2)]
)
@pytest.mark.parametrize("learning_rate", [None, 1e-3])
def test_hidden_layers_are_drawn_at_glorot_bound(activation, factor, learning_rate):
    spec = _spec(activation)
    params = init_params(spec, np.random.RandomState(0), np.float64, learning_rate)
    n_weighted = n_weighted_params(spec)
    assert n_weighted == 8  # two filter banks, the hidden and output layers
    for i in range(0, n_weighted - 2, 2):
        w, intercept = params[i], params[i + 1]
        fan_in, fan_out = _fans(w)
        bound = np.sqrt(factor / (fan_in + fan_out))
        assert _init.weight_bound(activation, fan_in, fan_out) == pytest.approx(bound)
        _check_uniform(w, bound)
        _check_uniform(intercept, bound)


def _expected_scale(learning_rate):
    """The documented rule for a wide plain classifier, written out: half
    up to ``1e-3``, ``5e-4 / rate`` between, a tenth from ``5e-3``."""
    if learning_rate <= 1e-3:
        return 0.5
    if learning_rate >= 5e-3:
        return 0.1
    return 5e-4 / learning_rate


@pytest.mark.parametrize("learning_rate", [1e-5, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 0.1])
def test_output_scale_falls_with_adams_rate(learning_rate):
    spec = _spec()
    scale = _init.output_scale(spec, learning_rate)
    assert scale == pytest.approx(_expected_scale(learning_rate), rel=1e-12)
    params = init_params(spec, np.random.RandomState(0), np.float64, learning_rate)
    w, intercept = params[n_weighted_params(spec) - 2 :]  # (128, 10), (10,)
    bound = scale * np.sqrt(6 / (128 + 10))
    _check_uniform(w, bound)
    assert np.abs(intercept).max() <= bound


@pytest.mark.parametrize(
    "out_activation, n_outputs, options",
    [
        ("softmax", 10, {"hidden": 63}),  # narrow
        ("logistic", 1, {"hidden": 3}),
        ("softmax", 10, {"batch_norm": True}),  # normalised
        ("softmax", 10, {"batch_norm": [False, True]}),
        ("softmax", 10, {"block": "residual"}),  # compound
        ("identity", 3, {}),  # a regressor
    ],
)
def test_other_networks_keep_a_tenth(out_activation, n_outputs, options):
    spec = _spec(out_activation=out_activation, n_outputs=n_outputs, **options)
    for learning_rate in (None, 1e-5, 1e-3, 1e-2):
        assert _init.output_scale(spec, learning_rate) == 0.1
    params = init_params(spec, np.random.RandomState(0), np.float64, 1e-3)
    w = params[n_weighted_params(spec) - 2]
    _check_uniform(w, 0.1 * np.sqrt(6 / sum(w.shape)))


def test_wide_classifiers_qualify_from_64_units_and_one_output():
    for out_activation, n_outputs in (("softmax", 10), ("logistic", 1)):
        spec = _spec(out_activation=out_activation, n_outputs=n_outputs, hidden=64)
        assert _init.output_scale(spec, 1e-3) == 0.5
    assert _init.output_scale(_spec(), None) == 0.1  # sgd, lbfgs


def test_the_rate_rescales_the_same_draws():
    """Deterministic from ``random_state``: two rates draw the same numbers,
    only the output layer's (weights and intercepts) scaled by the ratio of
    the scales."""
    spec = _spec()
    slow = init_params(spec, np.random.RandomState(3), np.float64, 1e-3)
    fast = init_params(spec, np.random.RandomState(3), np.float64, 1e-2)
    n_weighted = n_weighted_params(spec)
    for i, (a, b) in enumerate(zip(slow, fast)):
        if i < n_weighted - 2:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, 5 * b, rtol=1e-12)


def _start(estimator, X, y):
    """The output weights of a fit that cannot move them (a rate of 1e-12,
    one epoch)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.set_params(learning_rate_init=1e-12, max_iter=1).fit(X, y)
    return estimator.coefs_[-1]


@pytest.mark.parametrize("solver, scale", [("adam", 0.5), ("sgd", 0.1)])
def test_estimators_pass_adams_rate(solver, scale):
    """``fit`` draws the output layer by the rule of its solver (a rate of
    1e-12 is far below ``1e-3``: half for Adam) and a regressor a tenth."""
    rng = np.random.RandomState(0)
    X, y = rng.uniform(size=(40, 36)), np.arange(40) % 3
    # plain blocks: batch norm (the default since issue 21) draws at a tenth
    params = dict(
        n_filters=2, hidden_units=64, batch_norm=False, solver=solver, random_state=0
    )
    w = _start(CNNClassifier(**params), X, y)
    bound = np.sqrt(6 / (64 + 3))
    assert scale * 0.8 * bound < np.abs(w).max() <= scale * bound * (1 + 1e-6)
    w = _start(CNNRegressor(**params), X, y.astype(float))
    assert np.abs(w).max() <= 0.1 * np.sqrt(6 / (64 + 1)) * (1 + 1e-6)


@pytest.mark.parametrize("block", ["conv", "residual"])
def test_revival_weighs_batch_norm_statistics_like_repeated_rows(block):
    """With batch norm before the dense layer, the start's look at the first
    rows normalises with weighted statistics: integer weights (zeros
    included) give the same network as the rows repeated. With unweighted
    statistics the hidden units flipped differed, and one epoch later the
    weights were 0.25 apart (scikit-learn's sample-weight check's data)."""
    rng = np.random.RandomState(42)
    X, y = rng.rand(15, 30), rng.randint(0, 3, size=15)
    weights = rng.randint(0, 5, size=15)
    params = dict(
        block=block, block_depth=2, dropout=0.0, max_iter=1, shuffle=False,
        image_shape=(5, 6), random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weighted = CNNClassifier(**params).fit(X, y, sample_weight=weights)
        copies = CNNClassifier(**params).fit(
            np.repeat(X, weights, axis=0), np.repeat(y, weights)
        )
    for a, b in zip(
        weighted.coefs_ + weighted.filters_, copies.coefs_ + copies.filters_
    ):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
