"""One kernel per convolution inside a compound block.

A residual unit whose convolutions have kernels of their own (the
time-series ResNet's 8, 5 and 3) and an inception module whose branch
kernels are given: the spec, the parameter shapes and the summary line,
the forward pass against ``scipy.signal`` (through the helpers of
``test_blocks``) and the gradients against central finite differences
(float64), both correlation engines.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_xcnn._core._network import forward, param_shapes
from sklearn_xcnn._core._summary import describe
from sklearn_xcnn._core._units import conv_kernels, is_per_conv

from .test_blocks import (
    ENGINES,
    _bn,
    _identity_spec,
    _maxpool3,
    _network_gradient_check,
    _random_params,
    _same,
    _spec,
)

RESNET_KERNELS = ((1, 8), (1, 5), (1, 3))


def test_is_per_conv_tells_a_tuple_of_kernels_from_one_kernel():
    assert not is_per_conv(3)
    assert not is_per_conv((3, 5))  # one (rows, cols) kernel
    assert is_per_conv(((1, 8), (1, 5), (1, 3)))
    assert is_per_conv(((3, 3),))


def test_conv_kernels():
    assert conv_kernels((2, 3), 3, "convs") == ((2, 3),) * 3
    assert conv_kernels(4, 2, "convs") == ((4, 4),) * 2
    assert conv_kernels(RESNET_KERNELS, 3, "convs") == RESNET_KERNELS
    with pytest.raises(ValueError, match=r"2 kernel\(s\) .* given for 3 convs"):
        conv_kernels(((1, 8), (1, 5)), 3, "convs")


def test_residual_spec_holds_one_kernel_per_convolution():
    spec = _spec((1, 20, 2), (4, 6), kernel_size=RESNET_KERNELS, block="residual",
                 block_depth=3)  # fmt: skip
    for block in spec.blocks:
        assert tuple(u.kernel for u in block.convs) == RESNET_KERNELS
        assert block.shortcut is None or block.shortcut.kernel == (1, 1)
    shapes = param_shapes(spec)
    # unit 0: 2 -> 4 channels, then 4 -> 4, then the 1x1 shortcut
    assert shapes[0:8:2] == [(4, 2, 1, 8), (4, 4, 1, 5), (4, 4, 1, 3), (4, 2, 1, 1)]
    names = [s.name for s in describe(spec)]
    assert "block 0: residual unit, 3 x 4 filters 1x8/1x5/1x3, shortcut 1x1 conv, " \
        "tanh" in names  # fmt: skip


def test_one_kernel_for_all_keeps_the_one_kernel_summary():
    spec = _spec((1, 20, 1), (4,), kernel_size=(1, 5), block="residual",
                 block_depth=2)  # fmt: skip
    assert "filters 1x5, shortcut" in describe(spec)[1].name


def test_per_block_lists_mix_kernel_forms():
    spec = _spec((6, 6, 1), (3, 3), kernel_size=[(3, (1, 3)), 2], block="residual",
                 block_depth=2)  # fmt: skip
    first, second = spec.blocks
    assert [u.kernel for u in first.convs] == [(3, 3), (1, 3)]
    assert [u.kernel for u in second.convs] == [(2, 2), (2, 2)]


def test_inception_branch_kernels_may_be_given():
    spec = _spec((1, 30, 2), (2,), kernel_size=((1, 9), (1, 4), (1, 2)),
                 block="inception", block_depth=2)  # fmt: skip
    for module in spec.blocks[0].modules:
        assert [u.kernel for u in module.branches] == [(1, 9), (1, 4), (1, 2)]
    assert "4 x 2 filters 1x9/1x4/1x2" in describe(spec)[1].name


@pytest.mark.parametrize(
    "kind, kernels, expected",
    [
        ("residual", RESNET_KERNELS, "for 2 convolutions of a residual unit"),
        ("inception", RESNET_KERNELS[:2], "for 3 parallel convolutions"),
    ],
)
def test_wrong_number_of_kernels_is_an_error(kind, kernels, expected):
    with pytest.raises(ValueError, match=expected):
        _spec((1, 20, 1), (2,), kernel_size=kernels, block=kind, block_depth=2)


def test_conv_block_takes_one_kernel():
    with pytest.raises(ValueError, match="'conv' block has one convolution"):
        _spec((1, 20, 1), (2,), kernel_size=RESNET_KERNELS)


# ------------------------------------------------------------ forward pass
@pytest.mark.parametrize("engine", ENGINES)
def test_residual_forward_with_per_conv_kernels_matches_scipy(engine):
    rng = np.random.RandomState(7)
    kernels = ((1, 5), (3, 1), (2, 2))
    spec = _identity_spec((4, 9, 2), (3,), kernel_size=kernels, block="residual",
                          block_depth=3, algorithm=engine)  # fmt: skip
    params = _random_params(spec, rng)
    x = rng.normal(size=(5, 4, 9, 2))
    logits, _ = forward(params, x, spec, keep_cache=True)
    relu = lambda z: np.maximum(z, 0)  # noqa: E731
    # params: [w0, b0, w1, b1, w2, b2, ws, bs, coefs, intercepts, 4 scales]
    w0, b0, w1, b1, w2, b2, ws, bs, coefs, intercepts = params[:10]
    assert [w.shape[2:] for w in (w0, w1, w2)] == list(kernels)
    scales = params[10:]
    h = relu(_bn(_same(x, w0), scales[0], b0))
    h = relu(_bn(_same(h, w1), scales[1], b1))
    main = _bn(_same(h, w2), scales[2], b2)
    short = _bn(_same(x, ws), scales[3], bs)
    out = relu(main + short).mean(axis=(1, 2))
    assert_allclose(logits, out @ coefs + intercepts, atol=1e-10)


@pytest.mark.parametrize("engine", ENGINES)
def test_inception_forward_with_given_branch_kernels_matches_scipy(engine):
    rng = np.random.RandomState(8)
    kernels = ((1, 7), (1, 4), (2, 1))
    spec = _identity_spec((3, 8, 1), (2,), kernel_size=kernels, block="inception",
                          block_depth=1, algorithm=engine)  # fmt: skip
    params = _random_params(spec, rng)
    x = rng.normal(size=(4, 3, 8, 1))
    logits, _ = forward(params, x, spec, keep_cache=True)
    relu = lambda z: np.maximum(z, 0)  # noqa: E731
    pairs, scales = params[:10], params[-5:]  # one channel: no bottleneck
    assert [w.shape[2:] for w in pairs[0:6:2]] == list(kernels)
    branches = [
        _bn(_same(x, pairs[2 * k]), scales[k], pairs[2 * k + 1]) for k in range(3)
    ]
    branches.append(_bn(_same(_maxpool3(x), pairs[6]), scales[3], pairs[7]))
    module = relu(np.concatenate(branches, axis=-1))
    short = _bn(_same(x, pairs[8]), scales[4], pairs[9])
    out = relu(module + short).mean(axis=(1, 2))
    coefs, intercepts = params[10:12]
    assert_allclose(logits, out @ coefs + intercepts, atol=1e-10)


# --------------------------------------------------------------- gradients
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "shape, n_filters, kernels, dilation",
    [
        ((1, 11, 2), (3,), ((1, 4), (1, 3), (1, 2)), 1),  # a series, shortcut conv
        ((4, 5, 2), (2,), ((3, 1), (2, 3), (1, 1)), 1),  # shortcut: batch norm
        ((1, 12, 1), (2,), ((1, 3), (1, 2), (1, 2)), 2),  # dilated
    ],
)
def test_residual_per_conv_gradients(engine, shape, n_filters, kernels, dilation):
    spec = _spec(shape, n_filters, kernel_size=kernels, block="residual",
                 block_depth=3, dilation=dilation, algorithm=engine)  # fmt: skip
    assert [u.kernel for u in spec.blocks[0].convs] == list(kernels)
    _network_gradient_check(spec, (4, *shape), seed=1)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("channels", [1, 2])
def test_inception_given_kernels_gradients(engine, channels):
    spec = _spec((1, 10, channels), (2,), kernel_size=((1, 5), (1, 3), (1, 1)),
                 block="inception", block_depth=1, algorithm=engine)  # fmt: skip
    _network_gradient_check(spec, (4, 1, 10, channels), seed=2)
