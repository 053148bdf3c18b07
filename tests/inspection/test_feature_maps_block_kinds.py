"""feature_maps of the compound block kinds and of dilated blocks, against a
forward assembled by hand from the fitted attributes: 'same' correlations
through ``scipy.signal.correlate``, batch norm with the running statistics,
the inception pool branch and the pooling by loops. Both engines."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.signal import correlate

from sklearn_xcnn import CNNClassifier, CNNRegressor
from sklearn_xcnn.inspection import feature_maps

from .conftest import fit_quietly
from .test_feature_maps import _naive_pool

ENGINES = ["im2col", "scipy"]
BN_EPS = 1e-5


def _same(x, w, dilation=(1, 1)):
    """'Same' correlation of ``x`` (n, H, W, C) with ``w`` (F, C, kr, kc),
    the odd zero at the bottom or right, by scipy.signal.correlate."""
    n, H, W, C = x.shape
    F, _, kr, kc = w.shape
    er, ec = dilation[0] * (kr - 1) + 1, dilation[1] * (kc - 1) + 1
    wd = np.zeros((F, C, er, ec))
    wd[:, :, :: dilation[0], :: dilation[1]] = w
    t, left = (er - 1) // 2, (ec - 1) // 2
    padded = np.zeros((n, H + er - 1, W + ec - 1, C))
    padded[:, t : t + H, left : left + W] = x
    out = np.zeros((n, H, W, F))
    for s in range(n):
        for f in range(F):
            for c in range(C):
                out[s, :, :, f] += correlate(padded[s, :, :, c], wd[f, c], "valid")
    return out


def _maxpool3(x):
    """3x3 max at stride 1 around each cell, off-edge cells left out."""
    out = np.empty_like(x)
    for i, j in np.ndindex(x.shape[1:3]):
        window = x[:, max(i - 1, 0) : i + 2, max(j - 1, 0) : j + 2]
        out[:, i, j] = window.max(axis=(1, 2))
    return out


class _Fitted:
    """Hands out a fitted estimator's convolutions and batch norms in the
    documented order (``filters_``, ``batch_norm_scales_``, ...)."""

    def __init__(self, est):
        self.convs = list(zip(est.filters_, est.filter_intercepts_))
        self.norms = list(
            zip(est.batch_norm_scales_, est.batch_norm_means_, est.batch_norm_vars_)
        )

    def conv(self):
        return self.convs.pop(0)

    def bn(self, z, shift):
        scale, mean, var = self.norms.pop(0)
        return scale * (z - mean) / np.sqrt(var + BN_EPS) + shift


def _residual(x, fitted, depth, dilation, act):
    h = x
    for i in range(depth):
        w, b = fitted.conv()
        h = fitted.bn(_same(h, w, dilation), b)
        if i < depth - 1:
            h = act(h)
    if x.shape[3] == h.shape[3]:  # batch norm alone, no shift
        short = fitted.bn(x, 0.0)
    else:
        w, b = fitted.conv()
        short = fitted.bn(_same(x, w), b)
    return act(h + short)


def _inception(x, fitted, depth, dilation, act):
    h = x
    for _ in range(depth):
        inner = h
        if h.shape[3] > 1:  # the bottleneck: a 1x1 conv with a plain bias
            w, b = fitted.conv()
            inner = _same(h, w) + b
        branches = []
        for _ in range(3):
            w, b = fitted.conv()
            branches.append(fitted.bn(_same(inner, w, dilation), b))
        w, b = fitted.conv()
        branches.append(fitted.bn(_same(_maxpool3(h), w), b))
        h = act(np.concatenate(branches, axis=-1))
    w, b = fitted.conv()
    return act(h + fitted.bn(_same(x, w), b))


def _check_blocks(est, X, kinds, depth, dilations):
    """Each block's stages against the hand forward, chained block by block."""
    stages = feature_maps(est, X)
    fitted = _Fitted(est)
    x = X.reshape(len(X), *est.image_shape_)
    for b, (kind, d) in enumerate(zip(kinds, dilations)):
        block = stages.blocks[b]
        assert block.kind == kind
        assert_allclose(block.input, x.transpose(0, 3, 1, 2), atol=1e-12)
        build = _residual if kind == "residual" else _inception
        activated = build(x, fitted, depth, (d, d), np.tanh)
        assert_allclose(block.activated, activated.transpose(0, 3, 1, 2), atol=1e-10)
        pool = (est.pool_size, est.pool_size)
        x = _naive_pool(activated.transpose(0, 3, 1, 2), pool, est.pooling)
        assert_allclose(block.pooled, x, atol=1e-10)
        x = x.transpose(0, 2, 3, 1)
    assert not fitted.convs and not fitted.norms  # every parameter was used
    return stages


def _fit(cls, shape, **params):
    X = np.random.RandomState(0).uniform(-1, 1, (30, int(np.prod(shape))))
    y = np.arange(30) % 3 if cls is CNNClassifier else X[:, :10].mean(axis=1)
    est = cls(hidden_units=3, activation="tanh", image_shape=shape, max_iter=4,
              random_state=0, **params)  # fmt: skip
    return fit_quietly(est, X, y), X[:3]


@pytest.mark.parametrize("engine", ENGINES)
def test_residual_units_match_a_forward_by_hand(engine):
    # block 0 changes the channels (a 1x1 conv shortcut), block 1 keeps them
    # (batch norm alone as the shortcut); block 1 is dilated
    clf, X = _fit(CNNClassifier, (6, 7, 2), block="residual", n_filters=(3, 3),
                  block_depth=2, dilation=[1, 2], algorithm=engine)  # fmt: skip
    stages = _check_blocks(clf, X, ["residual"] * 2, 2, [1, 2])
    assert_allclose(stages.proba, clf.predict_proba(X), rtol=1e-10)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("channels", [1, 2])
def test_inception_blocks_match_a_forward_by_hand(engine, channels):
    # one channel: the first module has no bottleneck, the second has one
    reg, X = _fit(CNNRegressor, (5, 6, channels), block="inception", n_filters=2,
                  kernel_size=4, block_depth=2, pooling="mean",
                  algorithm=engine)  # fmt: skip
    stages = _check_blocks(reg, X, ["inception"], 2, [1])
    assert stages.blocks[0].activated.shape == (3, 8, 5, 6)  # 4 x 2 maps
    assert_allclose(stages.predictions, reg.predict(X), rtol=1e-10)


@pytest.mark.parametrize("engine", ENGINES)
def test_dilated_plain_block_matches_a_forward_by_hand(engine):
    # a plain block: bias without batch norm (no longer the default)
    clf, X = _fit(CNNClassifier, (7, 8, 2), n_filters=(3, 2), dilation=[2, (1, 3)],
                  padding="same", batch_norm=False, algorithm=engine)  # fmt: skip
    stages = feature_maps(clf, X)
    x = X.reshape(3, 7, 8, 2)
    for b, d in enumerate([(2, 2), (1, 3)]):
        block = stages.blocks[b]
        assert block.kind == "conv"
        z = _same(x, clf.filters_[b], d)
        assert_allclose(block.correlation, z.transpose(0, 3, 1, 2), atol=1e-10)
        biased = z + clf.filter_intercepts_[b]
        assert_allclose(block.biased, biased.transpose(0, 3, 1, 2), atol=1e-10)
        x = _naive_pool(np.tanh(block.biased), (2, 2), "max")
        assert_allclose(block.pooled, x, atol=1e-12)
        x = x.transpose(0, 2, 3, 1)
    assert_allclose(stages.proba, clf.predict_proba(X), rtol=1e-10)


def test_mixed_network_stages_equal_prediction():
    # a plain block, then a residual unit, then an inception block: each
    # block takes its own filters from the flat list
    clf, X = _fit(CNNClassifier, (6, 6, 1), block=["conv", "residual", "inception"],
                  n_filters=(2, 3, 1), padding="same", batch_norm=True,
                  block_depth=1, pool_size=[1, 2, 1])  # fmt: skip
    stages = feature_maps(clf, X)
    assert [b.kind for b in stages.blocks] == ["conv", "residual", "inception"]
    assert stages.blocks[1].input.shape == (3, 2, 6, 6)
    assert stages.blocks[2].activated.shape == (3, 4, 3, 3)
    assert_allclose(stages.proba, clf.predict_proba(X), rtol=1e-10)
