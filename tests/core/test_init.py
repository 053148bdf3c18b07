"""The start: initial scales per activation, the output layer, and the guard
against dead ReLU units, each against a computation made here."""

import numpy as np
import pytest

from sklearn_xcnn._core import _init
from sklearn_xcnn._core._network import build_spec, init_params
from sklearn_xcnn._core._spec import n_weighted_params


def _spec(activation="relu", out_activation="softmax", n_outputs=10, **kw):
    """Two blocks of 16 and 32 filters on 28x28 images, 128 hidden units."""
    return build_spec(
        (28, 28, 1),
        (16, 32),
        3,
        1,
        2,
        "max",
        (128,),
        activation,
        n_outputs,
        out_activation,
        "im2col",
        **kw,
    )


def _fans(w):
    if w.ndim == 4:  # (F, C, kr, kc)
        F, C, kr, kc = w.shape
        return C * kr * kc, F * kr * kc
    return w.shape  # (n_in, n_out)


def _check_uniform(w, bound):
    """``w`` looks drawn from U(-bound, bound): inside it, reaching near its
    ends, with the variance ``bound**2 / 3`` of that law (to 15 %)."""
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.9 * bound
    assert w.var() == pytest.approx(bound**2 / 3, rel=0.15)


@pytest.mark.parametrize(
    "activation, bound",
    [
        ("relu", lambda fan_in, fan_out: np.sqrt(6 / fan_in)),  # He
        ("tanh", lambda fan_in, fan_out: np.sqrt(6 / (fan_in + fan_out))),  # Glorot
        ("identity", lambda fan_in, fan_out: np.sqrt(6 / (fan_in + fan_out))),
        ("logistic", lambda fan_in, fan_out: np.sqrt(2 / (fan_in + fan_out))),
    ],
)
def test_hidden_layers_are_drawn_at_the_bound_of_their_activation(activation, bound):
    spec = _spec(activation)
    params = init_params(spec, np.random.RandomState(0), np.float64)
    n_weighted = n_weighted_params(spec)
    for i in range(0, n_weighted - 2, 2):  # the filters and the hidden layer
        w, intercept = params[i], params[i + 1]
        _check_uniform(w, bound(*_fans(w)))
        assert not intercept.any()  # intercepts start at zero


@pytest.mark.parametrize(
    "out_activation, n_outputs, task",
    [("softmax", 10, "classification"), ("identity", 3, "regression")],
)
def test_output_layer_is_glorot_scaled_by_its_task(out_activation, n_outputs, task):
    spec = _spec(out_activation=out_activation, n_outputs=n_outputs)
    params = init_params(spec, np.random.RandomState(0), np.float64)
    w = params[n_weighted_params(spec) - 2]  # (128, n_outputs)
    assert w.shape == (128, n_outputs)
    glorot = np.sqrt(6 / (128 + n_outputs))
    scale = _init.OUTPUT_SCALE[task]
    assert 0 < scale <= 1
    assert np.abs(w).max() <= glorot * scale
    assert np.abs(w).max() > 0.9 * glorot * scale


def test_he_start_keeps_the_signal_through_relu_layers():
    """He's bound keeps the mean square of the pre-activations about constant
    through a stack of ReLU layers (each cuts half of its input's energy and
    the weights' variance ``2 / fan_in`` restores it); Glorot's bound halves
    it at every layer. Computed here by plain matrix products."""
    rng = np.random.RandomState(0)
    x = rng.normal(size=(2000, 256))
    energy = {}
    for name, bound in [("he", np.sqrt(6 / 256)), ("glorot", np.sqrt(6 / 512))]:
        z = x
        for _ in range(6):
            w = rng.uniform(-bound, bound, size=(256, 256))
            z = np.maximum(z, 0) @ w  # (2000, 256)
        energy[name] = np.mean(z**2) / np.mean(x**2)
    assert 0.5 < energy["he"] < 2
    assert energy["glorot"] < 0.1
    spec = build_spec((1, 256), (), 1, 1, 1, None, (256,) * 6, "relu", 1, "identity")
    params = init_params(spec, rng, np.float64)
    z = x
    for i in range(0, 12, 2):
        z = np.maximum(z, 0) @ params[i] + params[i + 1]
    assert 0.5 < np.mean(z**2) / np.mean(x**2) < 2


# ------------------------------------------------------- the dead-unit guard
def _dense_net(n_in=6, n_hidden=5):
    return build_spec((1, n_in), (), 1, 1, 1, None, (n_hidden,), "relu", 1, "identity")


def test_guard_flips_exactly_the_units_dead_on_the_first_rows():
    spec = _dense_net()
    rng = np.random.RandomState(0)
    X = rng.uniform(0.1, 1, size=(200, 1, 6, 1))  # positive pixels
    params = init_params(spec, rng, np.float64)
    w, b = params[0], params[1]  # (6, 5), (5,)
    w[:, 0] = -np.abs(w[:, 0])  # unit 0 is dead on every row
    w[:, 1] = np.abs(w[:, 1])  # unit 1 fires on every row
    top = np.sort(X[:, 0, :, 0] @ w[:, 1])[-2:]
    b[1] = -top.mean()  # ...on exactly one row with this intercept
    before = [p.copy() for p in params]
    z_before = X[:, 0, :, 0] @ w + b  # (200, 5)
    _init.revive_dead_units(params, X, spec)
    share = (z_before > 0).mean(axis=0)
    weak = share < _init.MIN_ACTIVE
    assert share[1] == 1 / 200
    assert weak[0] and weak[1] and not weak.all()
    for unit in range(5):
        sign = -1 if weak[unit] else 1
        np.testing.assert_array_equal(params[0][:, unit], sign * before[0][:, unit])
        assert params[1][unit] == sign * before[1][unit]
    z_after = X[:, 0, :, 0] @ params[0] + params[1]
    assert np.all(z_after[:, 0] > 0)  # the dead unit now fires on every row
    for p, q in zip(params[2:], before[2:]):  # the output layer is untouched
        np.testing.assert_array_equal(p, q)


def test_guard_reads_a_filter_as_firing_on_a_row_where_it_fires_anywhere():
    """A filter that fires on a single pixel of every image (a detector of a
    rare pattern) is alive: it gets gradient from every image."""
    spec = build_spec((5, 5, 1), (2,), 3, 1, 2, "max", (3,), "relu", 1, "identity")
    X = np.zeros((50, 5, 5, 1))
    X[:, 2, 2, 0] = 1.0  # one lit pixel in the middle of each image
    params = init_params(spec, np.random.RandomState(0), np.float64)
    params[0][:] = 0.0
    params[0][0, 0, 1, 1] = 1.0  # filter 0 fires on one map cell of each image
    params[0][1, 0, 1, 1] = -1.0  # filter 1 never fires
    params[1][:] = -0.5
    _init.revive_dead_units(params, X, spec)
    assert params[0][0, 0, 1, 1] == 1.0 and params[1][0] == -0.5  # left alone
    assert params[0][1, 0, 1, 1] == 1.0 and params[1][1] == 0.5  # flipped


def test_guard_changes_nothing_on_a_network_without_dead_units():
    """On the MNIST-shaped network and images of strokes (few lit pixels) the
    guard leaves the drawn parameters as they are: it costs nothing there."""
    spec = _spec()
    rng = np.random.RandomState(0)
    X = np.zeros((64, 28, 28, 1))
    for image in X:
        r, c = rng.randint(4, 24, size=2)
        image[r - 3 : r + 3, c, 0] = 1.0  # a short vertical stroke
    for seed in range(3):
        params = init_params(spec, np.random.RandomState(seed), np.float32)
        before = [p.copy() for p in params]
        _init.revive_dead_units(params, X.astype(np.float32), spec)
        for p, q in zip(params, before):
            np.testing.assert_array_equal(p, q)
