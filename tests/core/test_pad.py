"""Padding: 'same' sizes as Keras defines them, explicit zeros, and the crop
that undoes a pad (its gradient)."""

import math

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_xcnn._core._pad import (
    crop_padding,
    pad_images,
    padded_shape,
    resolve_padding,
    same_padding,
)


def _keras_same(n, k, s):
    """'same' padding written from its definition: the output has ceil(n / s)
    cells and the last window must end inside the padded axis."""
    out = math.ceil(n / s)
    needed = (out - 1) * s + k  # cells the windows span
    total = max(needed - n, 0)
    before = total // 2
    return before, total - before


@pytest.mark.parametrize("n", range(1, 12))
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("s", [1, 2, 3])
def test_same_padding_gives_ceil_n_over_s_outputs(n, k, s):
    before, after = same_padding(n, k, s)
    assert (before, after) == _keras_same(n, k, s)
    assert after - before in (0, 1)  # the odd cell at the bottom / right
    padded = n + before + after
    if padded >= k:
        assert (padded - k) // s + 1 == math.ceil(n / s)


def test_five_by_five_x_with_same_padding_keeps_five_by_five():
    pads = resolve_padding("same", (5, 5), (3, 3), (1, 1))
    assert pads == ((1, 1), (1, 1))
    assert padded_shape((5, 5), pads) == (7, 7)  # (7 - 3) // 1 + 1 = 5


def test_even_kernel_puts_the_odd_cell_last():
    assert resolve_padding("same", (4, 6), (2, 4), (1, 1)) == ((0, 1), (1, 2))


@pytest.mark.parametrize(
    "padding, expected",
    [("valid", ((0, 0), (0, 0))), (2, ((2, 2), (2, 2))), ((1, 3), ((1, 1), (3, 3)))],
)
def test_explicit_padding(padding, expected):
    assert resolve_padding(padding, (5, 5), (3, 3), (1, 1)) == expected


def test_pad_images_matches_numpy_pad_and_crop_undoes_it():
    x = np.random.RandomState(0).normal(size=(2, 3, 4, 2))
    pads = ((1, 2), (0, 3))
    padded = pad_images(x, pads)
    assert_array_equal(padded, np.pad(x, ((0, 0), *pads, (0, 0))))
    assert_array_equal(crop_padding(padded, pads), x)
    assert pad_images(x, ((0, 0), (0, 0))) is x
