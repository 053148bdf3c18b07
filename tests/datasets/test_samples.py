import itertools

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_xcnn.datasets import make_x_or_not_x
from sklearn_xcnn.datasets._samples import _NOT_X_KINDS, _X_KINDS, _generate

CENTRED_X_5 = np.array(
    [
        [1, 0, 0, 0, 1],
        [0, 1, 0, 1, 0],
        [0, 0, 1, 0, 0],
        [0, 1, 0, 1, 0],
        [1, 0, 0, 0, 1],
    ]
)


def _x_at(size, width, top, left):
    """Written independently of the module: an X as a (size, size) int array."""
    image = np.zeros((size, size), dtype=int)
    for i in range(width):
        image[top + i, left + i] = 1
        image[top + i, left + width - 1 - i] = 1
    return image


def _sideways_moves(image):
    """Every image made by moving one black pixel one column onto a white pixel."""
    size = image.shape[0]
    for row, col in zip(*np.nonzero(image)):
        for target in (col - 1, col + 1):
            if 0 <= target < size and not image[row, target]:
                moved = image.copy()
                moved[row, col], moved[row, target] = 0, 1
                yield moved


def _all_x_variants(size):
    """Bytes of every centred, wonky (1 or 2 moves) and off-centre X of ``size``."""
    centred = _x_at(size, size, 0, 0)
    variants = {centred.tobytes()}
    for once in _sideways_moves(centred):
        variants.add(once.tobytes())
        variants.update(twice.tobytes() for twice in _sideways_moves(once))
    for width in (size - 1, size - 2):
        for top, left in itertools.product(range(size - width + 1), repeat=2):
            variants.add(_x_at(size, width, top, left).tobytes())
    return variants


@pytest.mark.parametrize("return_images", [False, True])
def test_shapes_dtypes_and_values(return_images):
    X, y = make_x_or_not_x(
        n_samples=30, size=6, return_images=return_images, random_state=0
    )
    expected_shape = (30, 6, 6) if return_images else (30, 36)
    assert X.shape == expected_shape
    assert X.dtype == np.float64
    assert y.shape == (30,)
    assert y.dtype == np.int64
    assert set(np.unique(X)) <= {0.0, 1.0}
    assert set(np.unique(y)) == {0, 1}


def test_flat_rows_are_raveled_images():
    X, _ = make_x_or_not_x(n_samples=10, random_state=3)
    images, _ = make_x_or_not_x(n_samples=10, return_images=True, random_state=3)
    np.testing.assert_array_equal(X, images.reshape(10, 25))


@pytest.mark.parametrize("n_samples", [2, 3, 11, 100])
def test_classes_are_balanced(n_samples):
    _, y = make_x_or_not_x(n_samples=n_samples, random_state=0)
    assert y.sum() == n_samples // 2


def test_samples_are_shuffled():
    _, y = make_x_or_not_x(n_samples=100, random_state=0)
    assert not np.array_equal(y, np.sort(y))
    assert not np.array_equal(y, np.sort(y)[::-1])


def test_random_state_reproducibility():
    X1, y1 = make_x_or_not_x(n_samples=50, noise=0.1, random_state=42)
    X2, y2 = make_x_or_not_x(n_samples=50, noise=0.1, random_state=42)
    X3, y3 = make_x_or_not_x(n_samples=50, noise=0.1, random_state=43)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_random_state_instance_is_used():
    rng = np.random.RandomState(0)
    X1, _ = make_x_or_not_x(n_samples=20, random_state=rng)
    X2, _ = make_x_or_not_x(n_samples=20, random_state=rng)
    assert not np.array_equal(X1, X2)


def test_centred_x_pattern_appears_without_noise():
    images, y = make_x_or_not_x(n_samples=30, return_images=True, random_state=0)
    matches = [np.array_equal(image, CENTRED_X_5) for image in images]
    assert any(matches)
    assert np.all(y[matches] == 1)


def test_size_7():
    images, y = make_x_or_not_x(
        n_samples=31, size=7, return_images=True, random_state=0
    )
    assert images.shape == (31, 7, 7)
    assert y.sum() == 15
    centred = _x_at(7, 7, 0, 0)
    assert any(np.array_equal(image, centred) for image in images)


@pytest.mark.parametrize("size", [5, 6, 7])
def test_x_and_not_x_never_coincide(size):
    images, y, _ = _generate(600, size, np.random.RandomState(size))
    variants = _all_x_variants(size)
    images = images.astype(int)
    for image in images[y == 1]:
        assert image.tobytes() in variants
    for image in images[y == 0]:
        assert image.tobytes() not in variants


def test_all_kinds_appear_in_near_equal_numbers():
    _, y, kinds = _generate(601, 5, np.random.RandomState(0))
    assert set(kinds[y == 1]) == set(_X_KINDS)
    assert set(kinds[y == 0]) == set(_NOT_X_KINDS)
    _, x_counts = np.unique(kinds[y == 1], return_counts=True)
    _, not_x_counts = np.unique(kinds[y == 0], return_counts=True)
    assert x_counts.max() - x_counts.min() <= 1
    assert not_x_counts.max() - not_x_counts.min() <= 1


def test_x_kinds_match_their_description():
    size = 7
    images, y, kinds = _generate(300, size, np.random.RandomState(0))
    centred = _x_at(size, size, 0, 0)
    for image, kind in zip(images.astype(int), kinds):
        n_different = np.sum(image != centred)
        if kind == "centred":
            assert n_different == 0
        elif kind == "wonky":
            assert n_different in (2, 4)
            assert image.sum() == centred.sum()
        elif kind == "off_centre":
            assert image.sum() < centred.sum()
            assert not np.array_equal(image, np.flip(image, axis=(0, 1)))


def test_noise_one_flips_every_pixel():
    X0, y0 = make_x_or_not_x(n_samples=40, noise=0.0, random_state=7)
    X1, y1 = make_x_or_not_x(n_samples=40, noise=1.0, random_state=7)
    np.testing.assert_array_equal(y0, y1)
    np.testing.assert_array_equal(X1, 1.0 - X0)


def test_noise_flips_the_expected_fraction_of_pixels():
    X0, _ = make_x_or_not_x(n_samples=2000, noise=0.0, random_state=0)
    X1, _ = make_x_or_not_x(n_samples=2000, noise=0.2, random_state=0)
    assert np.mean(X0 != X1) == pytest.approx(0.2, abs=0.01)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"n_samples": 1}, "n_samples"),
        ({"n_samples": 10.0}, "n_samples"),
        ({"size": 4}, "size"),
        ({"size": 5.5}, "size"),
        ({"noise": -0.1}, "noise"),
        ({"noise": 1.5}, "noise"),
        ({"return_images": "yes"}, "return_images"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_invalid_parameters(params, name):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        make_x_or_not_x(**params)
