"""Fitting on series of unequal length, in batches that mix lengths (padded,
masked) or of one length each: what is learned (against cropping), the
ragged loss against series run one by one and against finite differences,
the bit-for-bit identity with the array path at one length, the batches
(which networks mix lengths, the padded images and their mask), splits over
threads and processes, and the family's fitting options on a ragged list.
The masked network itself is tested in tests/core/test_masked.py."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss

from sklearn_xcnn import _parallel, _processes
from sklearn_xcnn._core._loss import LOSSES
from sklearn_xcnn._core._network import (
    build_spec,
    forward,
    init_params,
    loss_and_grad,
    pack,
    unpack,
)
from sklearn_xcnn._ragged import Ragged, epoch_batches
from sklearn_xcnn._training import full_batch_loss_and_grad, predict_logits
from sklearn_xcnn.series import (
    FCNClassifier,
    FCNRegressor,
    InceptionTimeClassifier,
    ResNetClassifier,
)
from sklearn_xcnn.series._base import SeriesMixin

from ..conftest import fit_quietly

SMALL = dict(n_filters=(4, 3), kernel_size=(4, 3), max_iter=4, random_state=0)


def _bumps(n, seed, lengths=range(24, 73, 8)):
    """Univariate noisy series of random lengths, each holding one bump, up
    (class 1) or down (class 0), at a random place anywhere in it."""
    rng = np.random.RandomState(seed)
    y = rng.randint(2, size=n)
    X = []
    for label in y:
        T = rng.choice(list(lengths))
        x = 0.3 * rng.standard_normal((1, T))
        start = rng.randint(0, T - 4)
        x[0, start : start + 4] += (1.5 if label else -1.5) * np.r_[0.5, 1, 1, 0.5]
        X.append(x)
    return X, y


def _ragged(n=30, n_channels=2, lengths=(9, 14, 20), seed=0):
    """``n`` random series of the given lengths in turn, labels 0/1."""
    rng = np.random.RandomState(seed)
    X = [rng.standard_normal((n_channels, lengths[i % len(lengths)])) for i in range(n)]
    return X, (np.arange(n) // 2) % 2


def _fitted_arrays(est):
    names = ["filters_", "filter_intercepts_", "coefs_", "intercepts_"]
    arrays = [a for name in names for a in getattr(est, name)]
    if est.batch_norm_scales_ is not None:
        arrays += [*est.batch_norm_scales_, *est.batch_norm_means_]
        arrays += est.batch_norm_vars_
    return arrays


# ----------------------------------------------------------------- learning
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_learns_what_cropping_to_the_shortest_loses(solver):
    # the bump is anywhere in series of 24 to 72 points: cropped to 24 points,
    # about half of the series lose it
    X, y = _bumps(120, 0)
    X_test, y_test = _bumps(200, 1)
    params = dict(n_filters=(6, 6), kernel_size=(5, 3), random_state=0)
    params |= (
        dict(learning_rate_init=1e-2, max_iter=30)
        if solver == "adam"
        else dict(solver="lbfgs", max_iter=100)
    )
    whole = fit_quietly(FCNClassifier(**params), X, y)
    cropped = fit_quietly(FCNClassifier(**params), [x[:, :24] for x in X], y)
    accuracy = whole.score(X_test, y_test)
    assert accuracy > 0.95
    assert accuracy > cropped.score([x[:, :24] for x in X_test], y_test) + 0.1
    assert whole.n_timepoints_ == 72 and whole.n_features_in_ == 72
    assert_array_equal(whole.series_lengths_, np.arange(24, 73, 8))
    # an array of the longest length is predicted as an array
    long = [x for x in X_test if x.shape[1] == 72]
    assert_array_equal(whole.predict(np.stack(long)), whole.predict(long))


# ------------------------------------------------------ the ragged loss
def _spec(n_timepoints, batch_norm):
    return build_spec(
        (1, n_timepoints, 2), (3, 2), [(1, 3), (1, 2)], 1, 2, None, (4,), "tanh",
        3, "softmax", padding="same", batch_norm=batch_norm, global_pooling="mean",
    )  # fmt: skip


def _ragged_problem(batch_norm, lengths=(5, 9, 9, 7, 5, 9, 6)):
    rng = np.random.RandomState(0)
    series = [rng.standard_normal((1, t, 2)) for t in lengths]
    X = Ragged(series)
    X = X.with_specs([_spec(shape[1], batch_norm) for shape in X.image_shapes])
    spec = _spec(max(lengths), batch_norm)
    params = init_params(spec, rng, np.float64)
    if batch_norm:
        params[-2] = rng.uniform(0.5, 2, size=params[-2].shape)  # scales
    Y = np.eye(3)[rng.randint(3, size=len(lengths))]
    sw = rng.uniform(0.5, 2, size=len(lengths))
    return series, X, Y, sw, spec, params


def test_ragged_loss_is_the_loss_of_each_series_alone():
    # no padding: each series' loss is that of the series run on its own
    series, X, Y, sw, spec, params = _ragged_problem(batch_norm=False)
    alpha = 0.3
    loss, grads = full_batch_loss_and_grad(params, X, Y, spec, alpha, sw)
    losses, grad_sum = [], None
    for x, target, w in zip(series, Y, sw):
        alone = _spec(x.shape[1], False)
        logits = forward(params, x[None], alone)[0]
        losses.append(LOSSES[spec.loss](logits, target[None], None, "softmax")[0])
        g = pack(loss_and_grad(params, x[None], target[None], alone, 0.0)[1])
        grad_sum = w * g if grad_sum is None else grad_sum + w * g
    weights = [params[i].ravel() for i in (0, 2, 4, 6)]  # not the intercepts
    penalty = 0.5 * alpha * sum(w @ w for w in weights) / sw.sum()
    assert_allclose(loss, np.dot(sw, losses) / sw.sum() + penalty, rtol=1e-12)
    l2 = pack(loss_and_grad(params, series[0][None], Y[:1], _spec(5, False), 1.0)[1])
    l2 -= pack(loss_and_grad(params, series[0][None], Y[:1], _spec(5, False), 0.0)[1])
    assert_allclose(pack(grads), (grad_sum + alpha * l2) / sw.sum(), atol=1e-12)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_ragged_gradient_against_finite_differences(batch_norm):
    _, X, Y, sw, spec, params = _ragged_problem(batch_norm)
    shapes = [p.shape for p in params]
    flat = pack(params)

    def loss_at(theta):
        return full_batch_loss_and_grad(unpack(theta, shapes), X, Y, spec, 0.1, sw)[0]

    grad = pack(full_batch_loss_and_grad(params, X, Y, spec, 0.1, sw)[1])
    h = 1e-6
    numeric = np.empty_like(flat)
    for k in range(flat.size):
        step = np.zeros_like(flat)
        step[k] = h
        numeric[k] = (loss_at(flat + step) - loss_at(flat - step)) / (2 * h)
    assert np.linalg.norm(grad - numeric) < 1e-6 * np.linalg.norm(numeric)


def test_ragged_prediction_runs_each_series_alone():
    series, X, _, _, spec, params = _ragged_problem(batch_norm=False)
    rows = np.array([6, 0, 3, 2])
    logits = predict_logits(params, X, spec, rows=rows)
    for i, row in enumerate(rows):
        alone = forward(params, series[row][None], _spec(series[row].shape[1], False))
        assert_allclose(logits[i], alone[0][0], rtol=1e-12)


# ---------------------------------------------------------------- batches
def test_batches_hold_one_length_and_cover_every_row_once():
    series = [np.zeros((1, t, 1)) for t in (3, 5, 3, 4, 5, 5, 3, 3, 4, 5, 3)]
    X = Ragged(series)
    order = np.random.RandomState(0).permutation(len(series))
    batches = epoch_batches(X, order, None, 2)
    assert sorted(np.concatenate(batches)) == list(range(len(series)))
    for rows in batches:
        assert len(rows) <= 2 and len({series[i].shape for i in rows}) == 1
    # within a length, rows are taken in the epoch's order; batches are run in
    # the order of their first row
    rank = np.argsort(order)
    firsts = [rank[rows[0]] for rows in batches]
    assert firsts == sorted(firsts)
    for rows in batches:
        assert list(rank[rows]) == sorted(rank[rows])
    # training rows (early stopping) index into X
    train = np.array([1, 4, 5, 9, 10])
    batches = epoch_batches(X, np.array([4, 0, 3, 1, 2]), train, 2)
    # rows 10, 1, 9, 4, 5 in turn; row 10 is the only one of length 3
    assert [list(b) for b in batches] == [[10], [1, 9], [4, 5]]


def test_one_length_batches_are_the_array_batches():
    series = [np.full((1, 4, 1), i, dtype=float) for i in range(7)]
    order = np.random.RandomState(0).permutation(7)
    as_array = epoch_batches(np.stack(series), order, None, 3)
    ragged = epoch_batches(Ragged(series), order, None, 3)
    assert [list(b) for b in ragged] == [list(b) for b in as_array]


# ------------------------------------------------------- mixed batches
def _training_ragged(est, X, y):
    """The training collection a fit of ``est`` on ``(X, y)`` batches."""
    est = fit_quietly(clone(est).set_params(max_iter=1), X, y)
    X_checked = est._validate_xy(X, y, False)[0]
    return est._training_images(X_checked, est._network_spec())


@pytest.mark.parametrize(
    "est, mixes",
    [
        (FCNClassifier(**SMALL), True),
        (ResNetClassifier(n_filters=(3,), kernel_size=((4, 3, 2),)), True),
        (InceptionTimeClassifier(n_filters=(2,), kernel_size=4, n_networks=1), True),
        (FCNClassifier(**SMALL, pooling="max"), False),  # pools between blocks
        (FCNClassifier(**SMALL, stride=(1, 2)), False),  # a stride shortens
        (FCNClassifier(**SMALL, padding="valid"), False),  # 'valid' shortens
    ],
    ids=["fcn", "resnet", "inception", "pooling", "stride", "valid"],
)
def test_which_networks_mix_lengths(est, mixes):
    X, y = _ragged()
    if isinstance(est, InceptionTimeClassifier):  # an ensemble: its member's
        est = est._member_class().set_params(**est._member_params())
    ragged = _training_ragged(est, X, y)
    assert ragged.mix is mixes
    batches = epoch_batches(ragged, np.random.RandomState(0).permutation(30), None, 8)
    mixed = [len({X[i].shape[1] for i in rows}) > 1 for rows in batches]
    assert any(mixed) is mixes


def test_augmentation_batches_by_length():
    from sklearn_xcnn.augment import RandomJitter

    X, y = _ragged()
    assert not _training_ragged(FCNClassifier(**SMALL, augment=[RandomJitter()]),
                                X, y).mix  # fmt: skip


def test_mixed_batches_are_the_epoch_order_padded_with_their_mask():
    series = [np.random.RandomState(t).standard_normal((1, t, 2))
              for t in (3, 5, 3, 4, 5, 5, 3)]  # fmt: skip
    X = Ragged(series).mixing()
    order = np.random.RandomState(0).permutation(7)
    batches = epoch_batches(X, order, None, 3)
    assert [list(b) for b in batches] == [list(order[:3]), list(order[3:6]),
                                          list(order[6:])]  # fmt: skip
    rows = np.array([0, 4, 3])  # lengths 3, 5, 4
    images, spec, valid = X.take(rows)
    assert images.shape == (3, 1, 5, 2) and spec is None  # (no specs given)
    for i, row in enumerate(rows):
        T = series[row].shape[1]
        assert_array_equal(images[i, :, :T], series[row][0][None])
        assert_array_equal(images[i, :, T:], 0)
        assert_array_equal(valid[i, 0], np.arange(5) < T)
    # rows of one length: their images as they are, no mask
    images, _, valid = X.take(np.array([1, 5]))
    assert valid is None and images.shape == (2, 1, 5, 2)
    with pytest.raises(ValueError, match="mixes image shapes"):
        Ragged(series).take(rows)  # a collection batched by length


def test_mixed_batches_learn_series_of_as_many_lengths_as_series():
    # almost every series its own length: the batches mix lengths (batched
    # by length they would hold one series each)
    X, y = _bumps(64, 0, lengths=range(24, 88))
    X_test, y_test = _bumps(200, 1, lengths=range(24, 88))
    clf = FCNClassifier(
        n_filters=(6, 6),
        kernel_size=(5, 3),
        batch_size=16,
        learning_rate_init=1e-2,
        max_iter=30,
        random_state=0,
    )
    assert fit_quietly(clf, X, y).score(X_test, y_test) > 0.95


# ------------------------------------------------ one length: the array path
@pytest.mark.parametrize(
    "params",
    [
        dict(dropout=0.2, early_stopping=True, validation_fraction=0.2),
        dict(solver="lbfgs", max_iter=5),
        dict(batch_norm=False, keep_best_weights=True),
    ],
    ids=["adam_dropout_early_stopping", "lbfgs", "keep_best_weights"],
)
def test_the_ragged_path_at_one_length_is_the_3d_fit_bit_for_bit(params, monkeypatch):
    X, y = _ragged(lengths=(16,))
    X = np.stack(X)
    sw = np.random.RandomState(0).uniform(0.5, 2, size=len(X))
    params = {**SMALL, **params}
    expected = fit_quietly(FCNClassifier(**params), X, y, sample_weight=sw)
    monkeypatch.setattr(SeriesMixin, "_is_ragged", lambda self, X, reset: True)
    fcn = FCNClassifier(**params)
    got = fit_quietly(fcn, list(X), y, sample_weight=sw)
    assert isinstance(fcn._training_images(fcn._validate_xy(list(X), y, False)[0],
                                           fcn._network_spec()), Ragged)  # fmt: skip
    for a, b in zip(_fitted_arrays(got), _fitted_arrays(expected), strict=True):
        assert_array_equal(a, b)
    assert got.loss_curve_ == expected.loss_curve_
    assert_array_equal(got.predict_proba(X), expected.predict_proba(X))


def test_a_list_of_one_length_is_the_3d_fit():
    X, y = _ragged(lengths=(16,))
    a = fit_quietly(FCNClassifier(**SMALL), X, y)
    b = fit_quietly(FCNClassifier(**SMALL), np.stack(X), y)
    for p, q in zip(_fitted_arrays(a), _fitted_arrays(b), strict=True):
        assert_array_equal(p, q)
    assert_array_equal(a.series_lengths_, [16])


# ----------------------------------------------------- threads, processes
def test_ragged_fit_is_reproducible_across_thread_and_process_splits(monkeypatch):
    X, y = _ragged(n=48, lengths=(12, 20, 31))
    sw = np.random.RandomState(0).uniform(0.5, 2, size=len(X))

    def fit():
        clf = FCNClassifier(n_filters=(4, 3), kernel_size=(4, 3), batch_size=8,
                            dropout=0.2, max_iter=3, random_state=0,
                            early_stopping=True, validation_fraction=0.25)  # fmt: skip
        return fit_quietly(clf, X, y, sample_weight=sw)

    sequential = fit()
    assert _training_ragged(FCNClassifier(**SMALL), X, y).mix  # mixed batches
    monkeypatch.setattr(_parallel, "blas_threads", lambda: 2)
    monkeypatch.setattr(_parallel, "MIN_WORK_PER_THREAD", 1)
    with monkeypatch.context() as m:
        m.setattr(_processes, "acquire_pool", lambda *a: None)
        threaded, again = fit(), fit()
    fitted = [threaded, again, sequential]
    if _processes.AVAILABLE:  # on worker processes: what threads compute
        assert _processes.start_pool(1)
        used = []
        run = _processes.WorkerPool.run
        monkeypatch.setattr(
            _processes.WorkerPool, "run", lambda *a: used.append(1) or run(*a)
        )
        fitted.append(fit())
        assert used
    arrays = [_fitted_arrays(c) for c in fitted]
    for a, b, c, *on_processes in zip(*arrays):
        assert_array_equal(a, b)  # reproducible
        assert_allclose(a, c, rtol=1e-5, atol=1e-8)  # only rounding differs
        for d in on_processes:
            assert_array_equal(d, a)


# -------------------------------------------------------- fitting options
def test_integer_sample_weight_repeats_and_zero_drops_a_series():
    # L-BFGS without batch norm: the loss is the weighted mean over series
    X, y = _ragged(n=12)
    # tanh: no dead-unit revival, which looks at the first rows
    params = dict(
        SMALL, solver="lbfgs", batch_norm=False, activation="tanh", max_iter=15
    )
    sw = np.r_[2, 0, np.ones(10)]
    weighted = fit_quietly(FCNClassifier(**params), X, y, sample_weight=sw)
    repeated = fit_quietly(FCNClassifier(**params), [X[0], *X[2:], X[0]],
                           np.r_[y[0], y[2:], y[0]])  # fmt: skip
    for a, b in zip(_fitted_arrays(weighted), _fitted_arrays(repeated), strict=True):
        assert_allclose(a, b, rtol=1e-6, atol=1e-8)


def test_class_weight_is_a_sample_weight():
    X, y = _ragged()
    by_class = fit_quietly(FCNClassifier(**SMALL, class_weight={0: 3.0, 1: 1.0}), X, y)
    by_sample = fit_quietly(FCNClassifier(**SMALL), X, y,
                            sample_weight=np.where(y == 0, 3.0, 1.0))  # fmt: skip
    for a, b in zip(_fitted_arrays(by_class), _fitted_arrays(by_sample), strict=True):
        assert_array_equal(a, b)


def test_partial_fit_takes_a_ragged_list_per_call():
    X, y = _bumps(96, 0)
    clf = FCNClassifier(n_filters=(6, 6), kernel_size=(5, 3), batch_size=16,
                        learning_rate_init=1e-2, random_state=0)  # fmt: skip
    for epoch in range(15):
        for part in range(0, 96, 32):
            classes = [0, 1] if epoch == part == 0 else None
            clf.partial_fit(X[part : part + 32], y[part : part + 32], classes)
    assert clf.n_timepoints_ == max(x.shape[1] for x in X[:32])
    assert clf.score(*_bumps(100, 1)) > 0.9
    # another length only, as a list: fitted length by length
    clf.partial_fit([x[:, :30] for x in X[:8]], y[:8])
    with pytest.raises(ValueError, match=r"X\[1\] has 2 channel\(s\) but the model"):
        clf.partial_fit([X[0], np.ones((2, 30))], y[:2])


def test_warm_start_continues_on_a_ragged_list():
    X, y = _ragged()
    clf = fit_quietly(FCNClassifier(**SMALL, warm_start=True), X, y)
    first = clf.loss_curve_[:]
    fit_quietly(clf, X[::-1], y[::-1])
    assert clf.loss_curve_[: len(first)] == first
    assert len(clf.loss_curve_) == 2 * len(first)
    # a warm start on an array of the recorded length
    longest = np.stack([x for x in X if x.shape[1] == clf.n_timepoints_])
    fit_quietly(clf, longest, np.arange(len(longest)) % 2)


def test_regressor_and_float32_on_a_ragged_list():
    X, y = _ragged()
    X32 = [x.astype(np.float32) for x in X]
    reg = fit_quietly(FCNRegressor(**SMALL), X32, y * 1.0)
    assert reg.coefs_[0].dtype == np.float32
    assert reg.predict(X32).shape == (len(X),)


def test_augmentation_on_a_ragged_list():
    from sklearn_xcnn.augment import RandomJitter

    X, y = _ragged()
    clf = fit_quietly(FCNClassifier(**SMALL, augment=[RandomJitter()]), X, y)
    assert clf.predict(X).shape == (len(X),)


def test_a_failed_ragged_fit_leaves_the_model_as_it_was():
    X, y = _ragged()
    # 'valid' padding: a series shorter than the kernels has no output
    clf = fit_quietly(FCNClassifier(**SMALL, padding="valid"), X, y)
    before = [a.copy() for a in _fitted_arrays(clf)], clf.n_timepoints_
    with pytest.raises(ValueError, match="too short for this FCNClassifier"):
        clf.fit([*X[:-1], np.ones((2, 2))], y)
    for a, b in zip(_fitted_arrays(clf), before[0], strict=True):
        assert_array_equal(a, b)
    assert clf.n_timepoints_ == before[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(ValueError, match="only with global_pooling"):
            FCNClassifier(**SMALL, global_pooling=None).fit(X, y)


def test_augmentation_is_checked_against_the_shortest_series():
    from sklearn_xcnn.augment import RandomTimeShift

    X, y = _ragged()  # lengths 9, 14 and 20
    with pytest.raises(ValueError, match=r"augment\[0\] = RandomTimeShift"):
        FCNClassifier(**SMALL, augment=[RandomTimeShift(12)]).fit(X, y)


def _fcn_by_loops(clf, x):
    """``clf.predict_proba`` of one series ``x`` (C, T), computed cell by cell
    with 'same' padding around each whole kernel (before: ``(k - 1) // 2``
    zeros, after: the rest), batch norm's running statistics, ReLU, global
    mean pooling and the output layer."""
    from sklearn_xcnn._core._norm import BN_EPSILON

    a = np.asarray(x, dtype=float).T  # (T, C)
    T = a.shape[0]
    layers = zip(clf.filters_, clf.filter_intercepts_, clf.batch_norm_scales_,
                 clf.batch_norm_means_, clf.batch_norm_vars_)  # fmt: skip
    for w, b, scale, mean, var in layers:
        F, C, _, k = w.shape
        before = (k - 1) // 2
        padded = np.zeros((T + k - 1, C))
        padded[before : before + T] = a
        z = np.zeros((T, F))
        for t in range(T):
            for f in range(F):
                for j in range(k):
                    for c in range(C):
                        z[t, f] += w[f, c, 0, j] * padded[t + j, c]
        z = scale * (z - mean) / np.sqrt(var + BN_EPSILON) + b
        a = np.maximum(z, 0)
    logits = a.mean(axis=0) @ clf.coefs_[0] + clf.intercepts_[0]
    if clf.out_activation_ == "logistic":
        p = 1 / (1 + np.exp(-logits[0]))
        return np.array([1 - p, p])
    e = np.exp(logits - logits.max())
    return e / e.sum()


def test_series_shorter_than_the_kernels_keep_them_whole():
    """With 'same' padding the series estimators keep every kernel whole:
    a series shorter than a kernel reads zeros past its ends, as when the
    published networks pad every series to the longest. Every length fits
    and predicts with the same weights; the probabilities match a cell by
    cell computation."""
    X, y = _ragged(lengths=(2, 5, 7, 20))  # kernels of 8 and 5
    params = dict(n_filters=(3, 2), kernel_size=(8, 5), max_iter=3, random_state=0)
    clf = fit_quietly(FCNClassifier(**params), X, y)
    assert [w.shape[-1] for w in clf.filters_] == [8, 5]
    for x in [X[0], X[1], X[3], np.ones((2, 1)), np.arange(66.0).reshape(2, 33)]:
        assert_allclose(clf.predict_proba([x])[0], _fcn_by_loops(clf, x), rtol=1e-10)
    # an equal-length array shorter than the kernels: the same whole kernels
    short = np.stack([x[:, :2] for x in X])
    clf3 = fit_quietly(FCNClassifier(**params), short, y)
    assert [w.shape[-1] for w in clf3.filters_] == [8, 5]
    assert_allclose(clf3.predict_proba(short[:1])[0], _fcn_by_loops(clf3, short[0]),
                    rtol=1e-10)  # fmt: skip


def test_short_series_train_in_mixed_batches_as_alone():
    """Series shorter than the kernels join the padded, masked batches (one
    spec, the longest's, for every length), where they compute what they
    compute alone (``tests/core/test_masked.py``, the '-long' networks): the
    first epoch's loss in one mixed batch is the weighted mean of the
    series' losses run alone at the start."""
    X, y = _ragged(lengths=(2, 3, 7, 20))
    params = dict(SMALL, kernel_size=(8, 5), batch_size=len(X), shuffle=False,
                  batch_norm=False, alpha=0.0, max_iter=1)  # fmt: skip
    est = FCNClassifier(**params)
    ragged = _training_ragged(est, X, y)
    assert ragged.mix
    start = fit_quietly(clone(est).set_params(max_iter=1, learning_rate_init=1e-12),
                        X, y)  # fmt: skip
    alone = np.mean([log_loss([y[i]], start.predict_proba([x]), labels=[0, 1])
                     for i, x in enumerate(X)])  # fmt: skip
    assert_allclose(start.loss_curve_[0], alone, rtol=1e-6)
