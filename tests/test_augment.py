"""Augmentation: the augmenters against scipy.ndimage and plain arrays, their
draws, and what ``fit`` augments (training batches only, reproducibly,
split over threads or processes or not)."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import ndimage
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

import sklearn_xcnn._base as base
from sklearn_xcnn import CNNClassifier, CNNRegressor, _parallel, _processes
from sklearn_xcnn.augment import (
    Augmenter,
    RandomFlip,
    RandomJitter,
    RandomRotation,
    RandomScaling,
    RandomShift,
    RandomTimeShift,
)
from sklearn_xcnn.augment._images import rotate_images

from .conftest import fit_quietly, needs
from .test_persistence import _documented_untrusted_types

ALL = [
    RandomShift(2),
    RandomShift((0, 1)),
    RandomFlip(),
    RandomRotation(20),
    RandomTimeShift(2),
    RandomScaling(0.2),
    RandomJitter(0.1),
]


def _images(n=64, shape=(7, 6, 2), seed=0, dtype=np.float64):
    return np.random.RandomState(seed).uniform(size=(n, *shape)).astype(dtype)


# ------------------------------------------------------------ augmenters
@pytest.mark.parametrize("augmenter", ALL, ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_augmenters_keep_shape_and_dtype_and_leave_the_batch(augmenter, dtype):
    X = _images(dtype=dtype)
    before = X.copy()
    out = augmenter.transform_batch(X, np.random.RandomState(0))
    assert out.shape == X.shape and out.dtype == dtype
    assert_array_equal(X, before)
    assert not np.shares_memory(out, X)
    assert not np.array_equal(out, X)  # it did something
    same = augmenter(X, np.random.RandomState(0))  # calling is transform_batch
    assert_array_equal(same, out)


def _shift_found(original, shifted, limits):
    """The ``(rows, cols)`` shift whose ``scipy.ndimage.shift`` of ``original``
    (H, W, C) is ``shifted``; fails unless exactly one is."""
    found = [
        (dr, dc)
        for dr in range(-limits[0], limits[0] + 1)
        for dc in range(-limits[1], limits[1] + 1)
        if np.array_equal(
            ndimage.shift(original, (dr, dc, 0), order=0, mode="constant", cval=0.0),
            shifted,
        )
    ]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    "augmenter, limits",
    [(RandomShift(2), (2, 2)), (RandomShift((1, 3)), (1, 3)), (RandomShift(0), (0, 0))],
    ids=repr,
)
def test_random_shift_is_scipy_shift_of_a_drawn_whole_pixel_shift(augmenter, limits):
    X = _images(n=300)
    out = augmenter.transform_batch(X, np.random.RandomState(1))
    shifts = [_shift_found(x, o, limits) for x, o in zip(X, out)]
    # every shift in the range is drawn, uniformly (300 draws over at most 35)
    counts = np.bincount(
        [(dr + limits[0]) * (2 * limits[1] + 1) + dc + limits[1] for dr, dc in shifts]
    )
    assert len(counts) == (2 * limits[0] + 1) * (2 * limits[1] + 1)
    assert counts.min() > 0
    assert counts.max() < 4 * 300 / len(counts)


def test_random_time_shift_shifts_signals_along_time_only():
    X = _images(n=200, shape=(1, 12, 3))
    out = RandomTimeShift(3).transform_batch(X, np.random.RandomState(2))
    shifts = {_shift_found(x, o, (0, 3)) for x, o in zip(X, out)}
    assert shifts == {(0, dc) for dc in range(-3, 4)}
    # it draws what RandomShift((0, k)) draws
    same = RandomShift((0, 3)).transform_batch(X, np.random.RandomState(2))
    assert_array_equal(out, same)


@pytest.mark.parametrize("angle", [0.0, 7.5, -13.0, 90.0, 31.0, -180.0])
@pytest.mark.parametrize("shape", [(7, 6, 2), (8, 8, 1), (2, 5, 1)])
def test_rotation_is_scipy_rotate(angle, shape):
    X = _images(n=3, shape=shape)
    out = rotate_images(X, [angle] * 3)
    for x, o in zip(X, out):
        expected = ndimage.rotate(
            x, angle, reshape=False, order=1, mode="grid-constant", cval=0.0
        )
        assert_allclose(o, expected, atol=1e-12)


def test_random_rotation_draws_uniform_angles_per_image():
    X = _images(n=400, shape=(9, 9, 1))
    out = RandomRotation(15).transform_batch(X, np.random.RandomState(3))
    # the documented draw: uniform in [-15, 15], one per image, in order
    angles = np.random.RandomState(3).uniform(-15, 15, size=400)
    assert abs(angles.mean()) < 1.5 and 14 < np.abs(angles).max() <= 15
    for x, o, a in zip(X[:20], out[:20], angles):
        expected = ndimage.rotate(x, a, reshape=False, order=1, mode="grid-constant")
        assert_allclose(o, expected, atol=1e-12)


def test_random_rotation_turns_counter_clockwise_as_shown():
    X = np.zeros((1, 5, 5, 1))
    X[0, 0, 2] = 1.0  # top middle
    out = rotate_images(X, [90.0])[0, :, :, 0]
    assert out[2, 0] == pytest.approx(1.0) and out.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("axis", [0, 1])
def test_random_flip_mirrors_a_share_p_of_the_images(axis):
    X = _images(n=1000, shape=(4, 5, 2))
    out = RandomFlip(axis=axis, p=0.3).transform_batch(X, np.random.RandomState(4))
    mirrored = np.flip(X, axis=1 + axis)
    flipped = np.array([np.array_equal(o, m) for o, m in zip(out, mirrored)])
    kept = np.array([np.array_equal(o, x) for o, x in zip(out, X)])
    assert np.all(flipped ^ kept)
    assert 0.25 < flipped.mean() < 0.35
    never = RandomFlip(axis=axis, p=0.0).transform_batch(X, np.random.RandomState(4))
    always = RandomFlip(axis=axis, p=1.0).transform_batch(X, np.random.RandomState(4))
    assert_array_equal(never, X)
    assert_array_equal(always, mirrored)


def test_random_scaling_multiplies_each_signal_by_one_normal_factor():
    X = _images(n=2000, shape=(1, 6, 2)) + 0.5
    out = RandomScaling(0.2).transform_batch(X, np.random.RandomState(5))
    ratio = out / X
    factors = ratio[:, 0, 0, 0]
    assert_allclose(ratio, np.broadcast_to(factors[:, None, None, None], X.shape))
    assert abs(factors.mean() - 1) < 0.02 and abs(factors.std() - 0.2) < 0.02


def test_random_jitter_adds_independent_normal_noise():
    X = _images(n=500, shape=(1, 20, 2))
    noise = RandomJitter(0.1).transform_batch(X, np.random.RandomState(6)) - X
    assert abs(noise.mean()) < 0.005 and abs(noise.std() - 0.1) < 0.005
    flat = noise.reshape(500, -1)
    # neighbouring values and neighbouring images are uncorrelated
    assert abs(np.corrcoef(flat[:, 0], flat[:, 1])[0, 1]) < 0.15
    assert abs(np.corrcoef(flat[:-1, 0], flat[1:, 0])[0, 1]) < 0.15


@pytest.mark.parametrize("augmenter", [RandomShift(2), RandomRotation(20)], ids=repr)
def test_draws_are_per_image(augmenter):
    """The same image many times over comes out in many different ways, and
    an image's draw does not depend on where in the batch it is."""
    X = np.repeat(_images(n=1, shape=(8, 8, 1)), 200, axis=0)
    out = augmenter.transform_batch(X, np.random.RandomState(7)).reshape(200, -1)
    assert len(np.unique(out, axis=0)) >= 20
    # consecutive images are drawn independently
    centre = out @ np.arange(64)  # one number per image: its weighted mass
    assert abs(np.corrcoef(centre[:-1], centre[1:])[0, 1]) < 0.25


# ------------------------------------------------------- scikit-learn API
def test_augmenter_params_clone_and_repr():
    shift = RandomShift(max_shift=(1, 2))
    assert shift.get_params() == {"max_shift": (1, 2)}
    assert repr(shift) == "RandomShift(max_shift=(1, 2))"
    copy = clone(shift)
    assert copy is not shift and copy.max_shift == shift.max_shift
    assert shift.set_params(max_shift=3) is shift and shift.max_shift == 3
    with pytest.raises(ValueError, match="Invalid parameter 'max_degrees'"):
        shift.set_params(max_degrees=3)
    assert RandomFlip(p=0.2).get_params() == {"axis": 1, "p": 0.2}


def test_estimator_clone_and_get_params_keep_the_augmenters():
    augment = [RandomShift(1), RandomFlip(p=0.1)]
    clf = CNNClassifier(augment=augment)
    assert clf.get_params()["augment"] is augment
    cloned = clone(clf)
    assert [repr(a) for a in cloned.augment] == [repr(a) for a in augment]
    assert all(a is not b for a, b in zip(cloned.augment, augment))
    assert "augment=[RandomShift(max_shift=1)" in repr(clf)


def _digits(n=300):
    X, y = load_digits(return_X_y=True)
    return X[:n] / 16, y[:n]


def _small(**params):
    defaults = dict(n_filters=2, hidden_units=8, max_iter=3, random_state=0)
    return CNNClassifier(**{**defaults, **params})


def test_grid_search_over_augment():
    X, y = _digits(200)
    grid = GridSearchCV(
        _small(max_iter=2),
        {"augment": [None, [RandomShift(1)], [RandomRotation(10), RandomJitter()]]},
        cv=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 3
    assert grid.best_estimator_.augment is not None or grid.best_params_ == {
        "augment": None
    }


@pytest.mark.parametrize("cls", [CNNClassifier, CNNRegressor])
def test_pickle_keeps_the_augmenters_and_the_model(cls):
    X, y = _digits(120)
    model = fit_quietly(
        cls(n_filters=2, hidden_units=4, max_iter=2, random_state=0,
            augment=[RandomShift((1, 2)), RandomRotation(5.0)]),
        X, y,
    )  # fmt: skip
    loaded = pickle.loads(pickle.dumps(model))
    assert repr(loaded.augment) == repr(model.augment)
    assert_array_equal(loaded.predict(X), model.predict(X))


def test_skops_keeps_the_augmenters(tmp_path):
    sio = needs("skops.io")
    X, y = _digits(120)
    augment = [RandomShift(1), RandomFlip(p=0.2), RandomRotation(), RandomJitter(),
               RandomScaling()]  # fmt: skip
    model = fit_quietly(_small(augment=augment), X, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert "sklearn_xcnn.augment._images.RandomShift" in untrusted
    assert all(t.startswith("sklearn_xcnn.") for t in untrusted), untrusted
    assert set(untrusted) <= _documented_untrusted_types()  # docs/saving.rst
    loaded = sio.load(path, trusted=untrusted)
    assert repr(loaded.augment) == repr(model.augment)
    assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


# ----------------------------------------------------------- what fit does
class _Record(Augmenter):
    """Changes nothing and keeps a copy of every batch it is given."""

    def __init__(self):
        self.batches = []

    def _transform_batch(self, X, random_state):
        self.batches.append(X.copy())
        return X


def _ids(n):
    """Images of 8x8 whose first pixel is their row number: rows are told
    apart by it whatever the augmentation after the recorder."""
    X, y = _digits(n)
    X = X.copy()
    X[:, 0] = np.arange(n) / 1000
    return X, y


def test_only_training_batches_are_augmented(held_out_spy):
    X, y = _ids(200)
    record = _Record()
    clf = fit_quietly(
        _small(early_stopping=True, n_iter_no_change=50, max_iter=3, batch_size=32,
               augment=[record]),
        X, y,
    )  # fmt: skip
    held_out = set(held_out_spy["rows"])
    seen = np.concatenate([b[:, 0, 0, 0] for b in record.batches])
    seen = np.round(seen * 1000).astype(int)
    training = set(range(200)) - held_out
    assert len(held_out) == 20 and not held_out & set(seen)
    # each epoch sees every training row once, in batches of 32
    assert len(seen) == 3 * 180 and set(seen) == training
    assert [len(b) for b in record.batches[:6]] == [32] * 5 + [20]
    # scoring and predicting do not augment
    calls = len(record.batches)
    clf.predict(X), clf.predict_proba(X), clf.score(X, y)
    assert len(record.batches) == calls


def test_the_start_sees_the_rows_as_given(monkeypatch):
    X, y = _digits(100)
    record, started = _Record(), []
    revive = base.revive_dead_units

    def spy(params, X_start, *args):
        started.append((X_start.copy(), len(record.batches)))
        return revive(params, X_start, *args)

    monkeypatch.setattr(base, "revive_dead_units", spy)
    fit_quietly(_small(augment=[RandomJitter(1.0), record]), X, y)
    ((X_start, calls_before),) = started
    assert calls_before == 0
    assert_array_equal(X_start.reshape(100, -1), X)


def test_partial_fit_augments_its_epoch():
    X, y = _digits(100)
    record = _Record()
    clf = _small(batch_size=50, augment=[RandomShift(1), record])
    clf.partial_fit(X, y, classes=np.arange(10))
    clf.partial_fit(X, y)
    assert len(record.batches) == 4
    first, second = record.batches[0], record.batches[2]
    assert not np.array_equal(first, second)  # new draws in each call


def test_augmented_fits_are_reproducible_and_draw_anew_each_epoch():
    X, y = _digits(150)

    def fit(seed, augment):
        record = _Record()
        clf = fit_quietly(
            _small(random_state=seed, shuffle=False, batch_size=150,
                   augment=None if augment is None else [*augment, record]),
            X, y,
        )  # fmt: skip
        return clf, record.batches

    a, batches_a = fit(0, [RandomShift(1), RandomRotation(10)])
    b, batches_b = fit(0, [RandomShift(1), RandomRotation(10)])
    c, batches_c = fit(1, [RandomShift(1), RandomRotation(10)])
    plain, _ = fit(0, None)
    for pa, pb in zip(a._params(), b._params()):
        assert_array_equal(pa, pb)
    for ba, bb in zip(batches_a, batches_b):
        assert_array_equal(ba, bb)
    assert not np.array_equal(batches_a[0], batches_c[0])  # another seed
    assert not np.array_equal(batches_a[0], batches_a[1])  # another epoch
    assert not np.array_equal(a.coefs_[0], plain.coefs_[0])


def test_no_augmentation_changes_nothing():
    X, y = _digits(150)
    default = fit_quietly(_small(), X, y)
    for augment in (None, [], ()):
        other = fit_quietly(_small(augment=augment), X, y)
        for p, q in zip(default._params(), other._params()):
            assert_array_equal(p, q)


def _force_split(monkeypatch):
    monkeypatch.setattr(_parallel, "blas_threads", lambda: 2)
    monkeypatch.setattr(_parallel, "MIN_WORK_PER_THREAD", 1)


@pytest.mark.parametrize(
    "mode",
    [
        "threads",
        pytest.param(
            "processes",
            marks=pytest.mark.skipif(
                not _processes.AVAILABLE, reason="worker processes are POSIX-only"
            ),
        ),
    ],
)
def test_augmentation_does_not_depend_on_the_split(mode, monkeypatch):
    """The batches a split fit trains on are those of a fit in one call,
    bit for bit, dropout masks drawn ahead on a thread included."""
    X, y = _digits(300)

    def fit():
        record = _Record()
        clf = fit_quietly(
            _small(n_filters=4, hidden_units=16, batch_size=64, max_iter=3,
                   dropout=0.2, augment=[RandomShift(1), RandomRotation(10), record]),
            X, y,
        )  # fmt: skip
        return clf, record.batches

    one, batches = fit()
    _force_split(monkeypatch)
    used = []
    acquire = _processes.acquire_pool
    if mode == "threads":
        monkeypatch.setattr(_processes, "acquire_pool", lambda *a: None)
    else:
        assert _processes.start_pool(1)

        def spy(*args):
            pool = acquire(*args)
            used.append(pool is not None)
            return pool

        monkeypatch.setattr(_processes, "acquire_pool", spy)
    split, split_batches = fit()
    again, _ = fit()
    if mode == "processes":
        assert any(used), "the worker processes were not used"
    assert len(split_batches) == len(batches) == 15
    for a, b in zip(split_batches, batches):
        assert_array_equal(a, b)
    for a, b, c in zip(split._params(), again._params(), one._params()):
        assert_array_equal(a, b)  # reproducible
        assert_allclose(a, c, rtol=1e-5, atol=1e-7)  # only rounding differs


def test_regressor_augments_too():
    X, y = _digits(150)
    record = _Record()
    reg = fit_quietly(
        CNNRegressor(n_filters=2, hidden_units=4, max_iter=2, random_state=0,
                     augment=[RandomJitter(0.05), record]),
        X, y.astype(float),
    )  # fmt: skip
    # every training batch of each epoch: batches of 64 (the default since
    # issue 21) split 150 rows into 64, 64 and 22
    assert [len(batch) for batch in record.batches] == [64, 64, 22] * 2
    assert reg.predict(X).shape == (150,)


def _brighten(X, random_state):
    """A user-written augmenter: a random brightness per image."""
    return X + random_state.uniform(0, 0.1, size=(len(X), 1, 1, 1))


def test_a_callable_augmenter_works():
    X, y = _digits(150)
    clf = fit_quietly(_small(augment=[_brighten, RandomShift(1)]), X, y)
    assert clf.score(X, y) > 0.1
    assert_array_equal(clf.predict(X), pickle.loads(pickle.dumps(clf)).predict(X))


@pytest.mark.parametrize(
    "augment, match",
    [
        ([lambda X: X], r"augment\[0\] = .* is not an augmenter"),
        ([RandomShift(1), 3], r"augment\[1\] = 3 is not an augmenter"),
        ([RandomShift(-1)], r"augment\[0\] = RandomShift.*'max_shift' parameter"),
        ([RandomShift((1, -1))], "max_shift must be a non-negative int or a"),
        ([RandomShift((1, 2, 3))], "max_shift must be a non-negative int or a"),
        ([RandomTimeShift(8)], "leaving nothing"),
        ([RandomFlip(axis=2)], "'axis' parameter of RandomFlip"),
        ([RandomFlip(p=1.5)], "'p' parameter of RandomFlip"),
        ([RandomRotation(200)], "'max_degrees' parameter of RandomRotation"),
        ([RandomScaling(-0.1)], "'sigma' parameter of RandomScaling"),
        ([RandomJitter("a")], "'sigma' parameter of RandomJitter"),
    ],
)
def test_bad_augmenters_are_refused_before_training(augment, match):
    X, y = _digits(60)
    clf = _small(augment=augment)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_rotation_refuses_signals():
    X = np.random.RandomState(0).uniform(size=(20, 12))  # one-row signals
    with pytest.raises(ValueError, match="single row or column and cannot be rot"):
        _small(augment=[RandomRotation(5)]).fit(X, np.arange(20) % 2)
    fit_quietly(_small(augment=[RandomTimeShift(3), RandomScaling()]), X,
                np.arange(20) % 2)  # fmt: skip
