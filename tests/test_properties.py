"""Property-based tests over random architectures (hypothesis).

Every test draws an architecture (image of 1-12 x 1-12 pixels and 1-3
channels, 1-3 blocks, kernels 1-5, strides 1-3, pooling windows 1-3 of each
kind or none, 0-2 hidden layers, binary, multi-class or multilabel targets)
and checks a property that must hold for all of them. The examples are
derandomized so that every run, in CI too, draws the same ones.
"""

import math
import warnings

import numpy as np
import pytest
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from sklearn_xcnn import CNNClassifier
from sklearn_xcnn._core._conv import correlate_forward
from sklearn_xcnn._core._network import (
    build_spec,
    forward,
    init_params,
    init_stats,
    loss_and_grad,
    param_shapes,
)
from sklearn_xcnn._core._pool import pool_forward
from sklearn_xcnn.inspection import network_summary

from .conftest import needs

hypothesis = needs("hypothesis")
st = needs("hypothesis.strategies")
HealthCheck, given, settings = (
    hypothesis.HealthCheck,
    hypothesis.given,
    hypothesis.settings,
)

# derandomized: CI draws the same examples on every run; ~15 s in all on 2 cores
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

N_OUTPUTS = {"binary": 1, "multiclass": 3, "multilabel": 2}


def _sizes(low, high):
    """An int or a (rows, cols) pair of ints in ``[low, high]``."""
    one = st.integers(low, high)
    return st.one_of(one, st.tuples(one, one))


def _per_block_or_one(draw, n_blocks, strategy):
    """A list of one value per block, or one value for every block."""
    if draw(st.booleans()):
        return [draw(strategy) for _ in range(n_blocks)]
    return draw(strategy)


def _paddings(draw, kernels, n_blocks):
    """Padding kinds that every block accepts: explicit zeros fewer than the
    kernel's rows (columns) on each side."""
    kernel_list = kernels if isinstance(kernels, list) else [kernels] * n_blocks

    def one(kernel):
        kr, kc = _pair(kernel)
        kind = draw(st.sampled_from(["valid", "same", "int", "pair"]))
        if kind in ("valid", "same"):
            return kind
        if kind == "int":
            return draw(st.integers(0, min(kr, kc) - 1))
        return (draw(st.integers(0, kr - 1)), draw(st.integers(0, kc - 1)))

    if draw(st.booleans()):
        return [one(k) for k in kernel_list]
    kr = min(_pair(k)[0] for k in kernel_list)
    kc = min(_pair(k)[1] for k in kernel_list)
    return one((kr, kc))


@st.composite
def architectures(draw):
    """Keyword arguments of a random network and its problem."""
    n_blocks = draw(st.integers(1, 3))
    kernels = _per_block_or_one(draw, n_blocks, _sizes(1, 5))
    return {
        "image_shape": (
            draw(st.integers(1, 12)),
            draw(st.integers(1, 12)),
            draw(st.integers(1, 3)),
        ),
        "n_filters": tuple(draw(st.integers(1, 3)) for _ in range(n_blocks)),
        "kernel_size": kernels,
        "stride": _per_block_or_one(draw, n_blocks, _sizes(1, 3)),
        "padding": _paddings(draw, kernels, n_blocks),
        "pool_size": _per_block_or_one(draw, n_blocks, _sizes(1, 3)),
        "pooling": draw(st.sampled_from([None, "max", "mean", "sum"])),
        "global_pooling": draw(st.sampled_from([None, None, "mean", "max"])),
        "batch_norm": draw(st.booleans()),
        "hidden_units": tuple(draw(st.lists(st.integers(1, 4), max_size=2))),
        "activation": draw(st.sampled_from(["relu", "tanh", "logistic", "identity"])),
        "target": draw(st.sampled_from(["binary", "multiclass", "multilabel"])),
    }


@st.composite
def block_architectures(draw):
    """:func:`architectures` with block kinds (conv, residual, inception),
    their depths and dilations drawn too; compound blocks run at stride 1."""
    arch = draw(architectures())
    n_blocks = len(arch["n_filters"])
    kinds = st.sampled_from(["conv", "residual", "inception"])
    arch["block"] = _per_block_or_one(draw, n_blocks, kinds)
    arch["block_depth"] = _per_block_or_one(draw, n_blocks, st.integers(1, 2))
    arch["dilation"] = _per_block_or_one(draw, n_blocks, _sizes(1, 3))
    # dilation clips the taps of a kernel to the map (explicit zeros must stay
    # fewer than the taps): pad 'valid' or 'same'
    arch["padding"] = draw(st.sampled_from(["valid", "same"]))
    if arch["block"] != "conv" and not (
        isinstance(arch["block"], list) and set(arch["block"]) == {"conv"}
    ):
        arch["stride"] = 1
    return arch


BLOCK_OPTIONS = ("block", "block_depth", "dilation")


def _pair(value):
    return (value, value) if np.ndim(value) == 0 else tuple(value)


def _block_value(value, b):
    return value[b] if isinstance(value, list) else value


def _axis_padding(padding, size, kernel, stride):
    """Zeros ``(before, after)`` along one axis, from the documented rules."""
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        k = min(kernel, size)
        total = max((math.ceil(size / stride) - 1) * stride + k - size, 0)
        return (total // 2, total - total // 2)
    return (padding, padding)


def expected_shapes(arch):
    """``[(pads, (conv_rows, conv_cols), (out_rows, out_cols, F))]`` per block.

    The documented formulas: 'same' pads to ``ceil(n / s)`` outputs (kernels
    clipped to the input), explicit padding adds zeros on each side (kernels
    clipped to the padded input); a kernel of ``k`` rows over ``H`` padded
    rows gives ``(H - k) // s + 1`` rows; a pooling window is clipped to the
    feature map, giving ``ceil(rows / p)`` rows.
    """
    H, W, _ = arch["image_shape"]
    shapes = []
    for b, n_f in enumerate(arch["n_filters"]):
        pads, conv = [], []
        padding = _block_value(arch["padding"], b)
        paddings = _pair(padding) if not isinstance(padding, str) else (padding,) * 2
        for size, k, s, p in zip(
            (H, W),
            _pair(_block_value(arch["kernel_size"], b)),
            _pair(_block_value(arch["stride"], b)),
            paddings,
        ):
            before, after = _axis_padding(p, size, k, s)
            padded = size + before + after
            pads.append((before, after))
            k = min(k, size if p == "same" else padded)  # clipped
            conv.append((padded - k) // s + 1)
        out = list(conv)
        if arch["pooling"] is not None:
            pool = _pair(_block_value(arch["pool_size"], b))
            out = [math.ceil(c / min(p, c)) for c, p in zip(conv, pool)]
        shapes.append((tuple(pads), tuple(conv), (*out, n_f)))
        H, W = out
    return shapes


def make_spec(arch, algorithm="auto"):
    n_out = N_OUTPUTS[arch["target"]]
    return build_spec(
        arch["image_shape"],
        arch["n_filters"],
        arch["kernel_size"],
        arch["stride"],
        arch["pool_size"],
        arch["pooling"],
        arch["hidden_units"],
        arch["activation"],
        n_out,
        "softmax" if arch["target"] == "multiclass" else "logistic",
        algorithm,
        padding=arch["padding"],
        batch_norm=arch["batch_norm"],
        global_pooling=arch["global_pooling"],
        **{key: arch[key] for key in BLOCK_OPTIONS if key in arch},
    )


def make_targets(target, n, rng):
    """Labels ``y`` for the estimator and indicator targets ``Y`` for the core."""
    if target == "binary":
        y = np.arange(n) % 2
        return y, y[:, None].astype(float)
    if target == "multiclass":
        y = np.arange(n) % 3
        return y, np.eye(3)[y]
    y = rng.randint(0, 2, size=(n, 2))
    y[:2] = [[0, 1], [1, 0]]  # each label both present and absent
    return y, y.astype(float)


@settings(PROPERTY, max_examples=150)
@given(arch=architectures(), seed=st.integers(0, 2**16))
def test_shapes_follow_the_documented_formulas(arch, seed):
    rng = np.random.RandomState(seed)
    spec = make_spec(arch)
    expected = expected_shapes(arch)
    got = [(b.padding, b.conv_shape, b.out_shape) for b in spec.blocks]
    assert got == expected

    shapes = param_shapes(spec)
    channels = [arch["image_shape"][2], *arch["n_filters"][:-1]]
    for b, (n_f, c) in enumerate(zip(arch["n_filters"], channels)):
        H, W = spec.blocks[b].in_shape[:2]
        (t, bo), (le, r) = expected[b][0]
        padding = _block_value(arch["padding"], b)
        limit = (H, W) if padding == "same" else (H + t + bo, W + le + r)
        k = _pair(_block_value(arch["kernel_size"], b))
        kernel = tuple(min(a, s) for a, s in zip(k, limit))
        assert shapes[2 * b] == (n_f, c, *kernel)
    n_flat = arch["n_filters"][-1] if arch["global_pooling"] else None
    n_flat = n_flat or math.prod(expected[-1][2])
    assert shapes[2 * len(arch["n_filters"])][0] == n_flat
    if arch["batch_norm"]:
        assert shapes[-len(arch["n_filters"]) :] == [(f,) for f in arch["n_filters"]]

    # the arrays the core computes have those shapes too
    params = init_params(spec, rng, np.float64)
    x = rng.standard_normal((2, *arch["image_shape"]))
    for b, block in enumerate(spec.blocks):
        x = np.pad(x, ((0, 0), *expected[b][0], (0, 0)))
        z, _ = correlate_forward(x, params[2 * b], block.stride, "im2col")
        assert z.shape == (2, *expected[b][1], block.n_filters)
        x = z if block.pool is None else pool_forward(z, block.pool, arch["pooling"])[0]
        assert x.shape == (2, *expected[b][2])
    logits, _ = forward(
        params,
        rng.standard_normal((2, *arch["image_shape"])),
        spec,
        stats=init_stats(spec, np.float64),
    )
    assert logits.shape == (2, N_OUTPUTS[arch["target"]])


def _directional_check(params, grads, loss, rng, eps=1e-6):
    """Compare every gradient with central differences of ``loss``.

    For each parameter array: along a random direction (which involves every
    entry) and along one random coordinate.
    """
    for i, (p, g) in enumerate(zip(params, grads)):
        direction = rng.standard_normal(p.shape)
        coordinate = np.zeros(p.shape)
        coordinate.flat[rng.randint(p.size)] = 1.0
        for v in (direction, coordinate):
            p += eps * v
            up = loss()
            p -= 2 * eps * v
            down = loss()
            p += eps * v
            numeric = (up - down) / (2 * eps)
            analytic = float(np.sum(g * v))
            assert numeric == pytest.approx(analytic, rel=1e-5, abs=1e-8), f"param {i}"


@settings(PROPERTY, max_examples=120)
@given(
    arch=architectures(),
    seed=st.integers(0, 2**16),
    weighted=st.booleans(),
    alpha=st.sampled_from([0.0, 0.5]),
    algorithm=st.sampled_from(["im2col", "scipy"]),
)
def test_gradients_match_finite_differences(arch, seed, weighted, alpha, algorithm):
    _gradients_match(arch, seed, weighted, alpha, algorithm)


def _gradients_match(arch, seed, weighted, alpha, algorithm):
    """The network's gradients against central differences of its loss."""
    rng = np.random.RandomState(seed)
    spec = make_spec(arch, algorithm)
    params = init_params(spec, rng, np.float64)
    X = rng.standard_normal((3, *arch["image_shape"]))
    _, Y = make_targets(arch["target"], 3, rng)
    sw = rng.uniform(0.5, 2.0, size=3) if weighted else None

    def loss():
        return loss_and_grad(params, X, Y, spec, alpha, sw)[0]

    value, grads = loss_and_grad(params, X, Y, spec, alpha, sw)
    assert np.isfinite(value)
    assert [g.shape for g in grads] == [p.shape for p in params]
    _directional_check(params, grads, loss, rng)


@PROPERTY
@given(arch=architectures(), seed=st.integers(0, 2**16))
def test_correlation_engines_agree(arch, seed):
    _engines_agree(arch, seed)


def _engines_agree(arch, seed):
    """Forward passes, losses and gradients of both engines agree."""
    rng = np.random.RandomState(seed)
    spec_im2col, spec_scipy = make_spec(arch, "im2col"), make_spec(arch, "scipy")
    params = init_params(spec_im2col, rng, np.float64)
    X = rng.standard_normal((3, *arch["image_shape"]))
    _, Y = make_targets(arch["target"], 3, rng)
    stats = init_stats(spec_im2col, np.float64)
    np.testing.assert_allclose(
        forward(params, X, spec_im2col, stats=stats)[0],
        forward(params, X, spec_scipy, stats=stats)[0],
        rtol=1e-9,
        atol=1e-12,
    )
    loss_a, grads_a = loss_and_grad(params, X, Y, spec_im2col, 0.1)
    loss_b, grads_b = loss_and_grad(params, X, Y, spec_scipy, 0.1)
    assert loss_a == pytest.approx(loss_b, rel=1e-10)
    for a, b in zip(grads_a, grads_b):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-12)


def _fit(arch, seed, n=8):
    rng = np.random.RandomState(seed)
    X = rng.uniform(size=(n, math.prod(arch["image_shape"])))
    y, _ = make_targets(arch["target"], n, rng)
    params = {k: v for k, v in arch.items() if k != "target"}
    clf = CNNClassifier(
        **params, max_iter=2, learning_rate_init=0.05, random_state=seed
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return clf, X, rng


@PROPERTY
@given(arch=architectures(), seed=st.integers(0, 2**16))
def test_fitted_estimator_properties(arch, seed):
    clf, X, rng = _fit(arch, seed)
    expected = expected_shapes(arch)
    n_flat = arch["n_filters"][-1] if arch["global_pooling"] else None
    assert clf.coefs_[0].shape[0] == (n_flat or math.prod(expected[-1][2]))
    assert [f.shape[0] for f in clf.filters_] == list(arch["n_filters"])

    proba = clf.predict_proba(X)
    scores = clf.decision_function(X)
    assert np.all(np.isfinite(proba)) and np.all((proba >= 0) & (proba <= 1))
    if arch["target"] == "multilabel":
        np.testing.assert_allclose(proba, expit(scores), rtol=1e-12)
    else:
        assert proba.shape == (len(X), len(clf.classes_))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    if arch["target"] == "binary":
        np.testing.assert_allclose(proba[:, 1], expit(scores), rtol=1e-12)

    # a batch gives what its rows give one at a time
    rows = np.vstack([clf.predict_proba(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(rows, proba, rtol=1e-10, atol=1e-14)
    labels = [clf.predict(X[i : i + 1])[0] for i in range(len(X))]
    np.testing.assert_array_equal(np.asarray(labels), clf.predict(X))

    # and the other correlation engine gives the same probabilities
    other = "scipy" if clf.algorithm != "scipy" else "im2col"
    np.testing.assert_allclose(
        clf.set_params(algorithm=other).predict_proba(X), proba, rtol=1e-9, atol=1e-14
    )


# ------------------------------------------------------------- block kinds
@settings(PROPERTY, max_examples=25)
@given(
    arch=block_architectures(),
    seed=st.integers(0, 2**16),
    weighted=st.booleans(),
    algorithm=st.sampled_from(["im2col", "scipy"]),
)
def test_block_kinds_gradients_match_finite_differences(
    arch, seed, weighted, algorithm
):
    _gradients_match(arch, seed, weighted, 0.5, algorithm)


@settings(PROPERTY, max_examples=25)
@given(arch=block_architectures(), seed=st.integers(0, 2**16))
def test_block_kinds_engines_agree_and_fit(arch, seed):
    _engines_agree(arch, seed)
    clf, X, _ = _fit(arch, seed)
    proba = clf.predict_proba(X)
    assert np.all(np.isfinite(proba)) and np.all((proba >= 0) & (proba <= 1))
    summary = network_summary(clf)
    assert summary.n_params == sum(p.size for p in clf._params())
