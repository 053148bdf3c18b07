"""The start: the scale of each layer's draw, the output layer's by task,
and what it buys (first steps not cut tenfold), against computations made
here."""

import numpy as np
import pytest

from sklearn_xcnn._core import _init
from sklearn_xcnn._core._network import build_spec, init_params, loss_and_grad
from sklearn_xcnn._core._spec import n_weighted_params


def _spec(
    activation="relu", out_activation="softmax", n_outputs=10, hidden=128, **options
):
    """Two blocks of 16 and 32 filters on 28x28 images, 128 hidden units."""
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
    ends (for at least 100 draws), with the law's variance ``bound**2 / 3``."""
    assert np.abs(a).max() <= bound
    if a.size >= 100:
        assert np.abs(a).max() > 0.9 * bound
        assert a.var() == pytest.approx(bound**2 / 3, rel=0.2)


@pytest.mark.parametrize(
    "activation, factor", [("relu", 6), ("tanh", 6), ("identity", 6), ("logistic", 2)]
)
def test_hidden_layers_are_drawn_at_glorot_bound(activation, factor):
    spec = _spec(activation)
    params = init_params(spec, np.random.RandomState(0), np.float64)
    n_weighted = n_weighted_params(spec)
    assert n_weighted == 8  # two filter banks, the hidden and output layers
    for i in range(0, n_weighted - 2, 2):
        w, intercept = params[i], params[i + 1]
        fan_in, fan_out = _fans(w)
        bound = np.sqrt(factor / (fan_in + fan_out))
        _check_uniform(w, bound)
        _check_uniform(intercept, bound)


@pytest.mark.parametrize(
    "out_activation, n_outputs, options, scale",
    [
        ("softmax", 10, {}, 0.5),
        ("logistic", 1, {}, 0.5),
        ("softmax", 10, {"hidden": 64}, 0.5),
        ("softmax", 10, {"hidden": 63}, 0.1),
        ("logistic", 1, {"hidden": 3}, 0.1),
        ("softmax", 10, {"batch_norm": True}, 0.1),
        ("softmax", 10, {"batch_norm": [False, True]}, 0.1),
        ("softmax", 10, {"block": "residual"}, 0.1),
        ("identity", 3, {}, 0.1),
        ("identity", 3, {"batch_norm": True}, 0.1),
    ],
)
def test_output_layer_scale(out_activation, n_outputs, options, scale):
    """Half of Glorot's bound for a classifier of plain blocks whose output
    reads 64 units or more, a tenth for one with a normalised block or fewer
    units and for a regressor."""
    spec = _spec(out_activation=out_activation, n_outputs=n_outputs, **options)
    params = init_params(spec, np.random.RandomState(0), np.float64)
    w = params[n_weighted_params(spec) - 2]  # (hidden, n_outputs)
    hidden = options.get("hidden", 128)
    assert w.shape == (hidden, n_outputs)
    _check_uniform(w, scale * np.sqrt(6 / (hidden + n_outputs)))
    assert _init.output_scale(spec) == scale


def test_first_step_reaches_the_hidden_layers(monkeypatch):
    """The gradient of the hidden layers is proportional to the output
    weights: at half of Glorot's scale it is about five times that of the
    former tenth, while the starting loss stays within 2 % of ``log(10)``
    (nearly uniform probabilities). Same draws, only the output layer's scale
    differs."""
    spec = _spec()
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(64, 28, 28, 1))
    Y = np.eye(10)[rng.randint(10, size=64)]
    grads, losses = {}, {}
    for scale in (0.1, 0.5):
        monkeypatch.setitem(_init.OUTPUT_SCALE, "plain", scale)
        params = init_params(spec, np.random.RandomState(0), np.float64)
        losses[scale], g = loss_and_grad(params, X, Y, spec, alpha=0.0)[:2]
        grads[scale] = np.linalg.norm(g[0])  # the first filter bank
    assert grads[0.5] / grads[0.1] == pytest.approx(5, rel=0.2)
    assert losses[0.5] == pytest.approx(np.log(10), rel=0.02)
