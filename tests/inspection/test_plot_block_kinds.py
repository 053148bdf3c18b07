"""FeatureMapDisplay, FilterDisplay and SaliencyDisplay on networks with
residual units, inception blocks and dilation: each block index is a block
(not a convolution), a compound block shows its activated output maps without
a filter column, and FilterDisplay picks any convolution of a block."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_xcnn import CNNClassifier, CNNRegressor
from sklearn_xcnn.inspection import (
    FeatureMapDisplay,
    FilterDisplay,
    SaliencyDisplay,
    feature_maps,
    saliency_maps,
)

from .conftest import fit_quietly

SHAPE = (6, 6, 1)


@pytest.fixture(scope="module")
def mixed():
    """A plain block, a residual unit (two convolutions and a 1x1 conv
    shortcut) and an inception block of one module (a bottleneck, three
    kernels, the pool branch and the shortcut), fitted briefly."""
    X = np.random.RandomState(0).uniform(size=(30, 36))
    clf = CNNClassifier(
        block=["conv", "residual", "inception"], n_filters=(2, 3, 1),
        block_depth=[1, 2, 1], padding="same", pool_size=[1, 2, 1],
        hidden_units=3, image_shape=SHAPE, max_iter=3, random_state=0,
    )  # fmt: skip
    return fit_quietly(clf, X, np.arange(30) % 2), X


def test_feature_map_display_of_a_plain_block_in_a_mixed_network(pyplot, mixed):
    clf, X = mixed
    display = FeatureMapDisplay.from_estimator(clf, X[0], block=0)
    assert display.ax_.shape == (2, 3)  # filter, feature map, pooled (1x1)
    assert_array_equal(display.filters, clf.filters_[0])
    assert display.ax_[0, 0].get_title() == "filter"


@pytest.mark.parametrize(
    "block, kind, n_maps", [(1, "residual", 3), (-1, "inception", 4)]
)
def test_feature_map_display_of_a_compound_block(pyplot, mixed, block, kind, n_maps):
    clf, X = mixed
    display = FeatureMapDisplay.from_estimator(clf, X[0], block=block)
    stages = feature_maps(clf, X[:1]).blocks[block]
    assert display.filters is None and display.intercepts is None
    assert display.ax_.shape == (n_maps, 2)  # the output maps and their pooling
    assert_allclose(display.images_[0, 0].get_array(), stages.activated[0, 0])
    assert_allclose(display.images_[-1, 1].get_array(), stages.pooled[0, -1])
    assert display.ax_[0, 0].get_title() == f"{kind} output\n(relu)"
    assert display.ax_[0, 0].get_ylabel() == "map 0"
    assert display.vmax_[0] is None and len(display.colorbars_) == 1
    assert display.vmax_[1] == pytest.approx(
        np.abs(np.r_[stages.activated.ravel(), stages.pooled.ravel()]).max()
    )


def test_feature_map_display_block_out_of_range(pyplot, mixed):
    clf, X = mixed
    with pytest.raises(
        ValueError, match="block=3 is out of range: the estimator has 3"
    ):
        FeatureMapDisplay.from_estimator(clf, X[0], block=3)


@pytest.mark.parametrize(
    "block, convolution, index",
    [
        (0, 0, 0),  # the plain block's one convolution
        (1, 0, 1),  # the residual unit's first convolution
        (1, 1, 2),  # ... its second
        (1, -1, 3),  # ... its shortcut's 1x1 convolution
        (2, 0, 4),  # the inception block's bottleneck (3 input channels)
        (2, 1, 5),  # ... its first kernel
        (-1, -1, 9),  # ... its shortcut
    ],
)
def test_filter_display_picks_a_convolution_of_a_block(
    pyplot, mixed, block, convolution, index
):
    clf, _ = mixed
    assert len(clf.filters_) == 10  # 1 + (2 + 1) + (1 + 3 + 1 + 1)
    display = FilterDisplay.from_estimator(clf, block=block, convolution=convolution)
    assert_array_equal(display.filters, clf.filters_[index])
    assert_array_equal(display.intercepts, clf.filter_intercepts_[index])


def test_filter_display_of_a_plain_block_has_one_convolution(pyplot, mixed):
    clf, _ = mixed
    with pytest.raises(
        ValueError, match=r"convolution=1 is out of range: block 0 \('conv'\)"
    ):
        FilterDisplay.from_estimator(clf, convolution=1)


def test_dilated_filters_are_drawn_with_their_taps(pyplot):
    X = np.random.RandomState(1).uniform(size=(20, 49))
    reg = CNNRegressor(n_filters=2, dilation=2, padding="same", hidden_units=2,
                       max_iter=2, random_state=0)  # fmt: skip
    reg = fit_quietly(reg, X, X.mean(axis=1))
    display = FilterDisplay.from_estimator(reg)
    assert display.images_[0, 0].get_array().shape == (3, 3)  # taps, not span
    maps = FeatureMapDisplay.from_estimator(reg, X[0])
    assert maps.images_[0, 1].get_array().shape == (7, 7)  # 'same' padding


@pytest.mark.parametrize("method", ["gradient", "integrated_gradients", "grad_cam"])
def test_saliency_display_of_a_compound_network(pyplot, mixed, method):
    clf, X = mixed
    display = SaliencyDisplay.from_estimator(clf, X[:2], method=method, n_steps=5)
    expected = saliency_maps(clf, X[:2], method=method, n_steps=5)
    assert_allclose(display.maps, expected)
