"""Batches split over threads or worker processes give what one call on all
rows gives."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_info

from sklearn_xcnn import CNNClassifier, _parallel, _processes
from sklearn_xcnn._core._network import build_spec, init_params, loss_and_grad
from sklearn_xcnn._training import (
    loss_and_grad_parts,
    predict_logits,
)

from .conftest import V02, small_bn_spec

needs_processes = pytest.mark.skipif(
    not _processes.AVAILABLE, reason="worker processes are POSIX-only"
)
MODES = [None, "threads", pytest.param("processes", marks=needs_processes)]


class _Split:
    """A runner of ``n`` parts on threads or worker processes (None: no
    runner, one call after the other)."""

    def __init__(self, mode, n, monkeypatch):
        self.mode, self.n = mode, n
        if mode == "threads":
            monkeypatch.setattr(_processes, "acquire_pool", lambda *a: None)
        if mode == "processes":
            assert _processes.start_pool(n - 1)

    def __enter__(self):
        if self.mode is None:
            self.runner = None
            return None
        self.context = _parallel.parallel(self.n)
        self.runner = self.context.__enter__()
        return self.runner

    def __exit__(self, *exc):
        if self.mode is None:
            return False
        if self.mode == "processes" and exc[0] is None:
            assert self.runner.pool is not None, "the processes were not used"
        return self.context.__exit__(*exc)


def _spec():
    return build_spec((8, 7, 2), (3, 2), 3, 1, 2, "max", (5,), "relu", 3, "softmax")


def test_work_per_sample_by_hand():
    spec = _spec()
    # block 1: 6x5 maps of 3x3x2 windows, 3 filters; pooled to 3x3x3
    # block 2: 1x1 maps (kernel clipped to 3x3) of 3x3x3 windows, 2 filters
    conv = 6 * 5 * 9 * 2 * 3 + 1 * 1 * 9 * 3 * 2
    dense = 2 * 5 + 5 * 3
    assert spec.layer_units == (2, 5, 3)
    assert _parallel.work_per_sample(spec) == conv + dense


@pytest.mark.parametrize(("n", "parts"), [(10, 3), (128, 2), (5, 4), (1, 2)])
def test_split_rows(n, parts):
    slices = _parallel.split_rows(n, parts)
    covered = np.concatenate([np.arange(n)[s] for s in slices])
    assert_array_equal(covered, np.arange(n))
    sizes = [s.stop - s.start for s in slices]
    assert max(sizes) - min(sizes) <= 1


def _batch(spec, weighted, rng):
    """Parameters, 11 images, one-hot targets and maybe sample weights."""
    params = init_params(spec, rng, np.float64)
    X = rng.normal(size=(11, 8, 7, 2))
    Y = np.eye(3)[rng.randint(3, size=11)]
    sw = rng.uniform(0.5, 2, size=11) if weighted else None
    return params, X, Y, sw


@pytest.mark.parametrize("into_buffer", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_parts_equal_one_call(weighted, mode, into_buffer, monkeypatch):
    spec = _spec()
    params, X, Y, sw = _batch(spec, weighted, np.random.RandomState(0))
    if weighted:
        sw[:4] = 0  # a part whose weights sum to zero
    loss, grads = loss_and_grad(params, X, Y, spec, 0.3, sw)
    parts = [slice(0, 4), slice(4, 8), slice(8, 11)]
    out = np.full(sum(p.size for p in params), np.nan) if into_buffer else None
    computed = []
    with _Split(mode, 2, monkeypatch) as runner:  # 3 parts, 2 at a time
        loss_p, grads_p = loss_and_grad_parts(
            params, X, Y, spec, 0.3, sw, parts, runner,
            out=out, computed=lambda: computed.append(1),
        )  # fmt: skip
    assert_allclose(loss_p, loss, rtol=1e-12)
    for g, gp in zip(grads, grads_p):
        assert_allclose(gp, g, rtol=1e-10, atol=1e-14)
        assert not into_buffer or np.shares_memory(gp, out)
    assert computed == [1]  # once, however many rounds the parts took
    if into_buffer:
        assert_array_equal(out, np.concatenate([g.ravel() for g in grads_p]))


def test_one_part_into_a_buffer():
    spec = _spec()
    params, X, Y, _ = _batch(spec, False, np.random.RandomState(2))
    loss, grads = loss_and_grad(params, X, Y, spec, 0.3)
    out = np.full(sum(p.size for p in params), np.nan)
    computed = []
    loss_p, grads_p = loss_and_grad_parts(
        params, X, Y, spec, 0.3, None, [slice(0, 11)], None,
        out=out, computed=lambda: computed.append(1),
    )  # fmt: skip
    assert loss_p == loss and computed == [1]
    for g, gp in zip(grads, grads_p):
        assert_array_equal(gp, g)
        assert np.shares_memory(gp, out)


def _force_threads(monkeypatch):
    monkeypatch.setattr(_parallel, "blas_threads", lambda: 2)
    monkeypatch.setattr(_parallel, "MIN_WORK_PER_THREAD", 1)


def test_threaded_predict_is_exact(monkeypatch):
    rng = np.random.RandomState(1)
    spec = _spec()
    params = init_params(spec, rng, np.float32)
    X = rng.normal(size=(300, 8, 7, 2)).astype(np.float32)
    expected = predict_logits(params, X, spec)
    _force_threads(monkeypatch)
    assert _parallel.n_parts(10**6) == 2
    assert_array_equal(predict_logits(params, X, spec), expected)


def _blas_counts():
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_parallel_limits_blas_inside_only():
    before = _blas_counts()
    with _parallel.parallel(2) as runner:
        assert runner is not None
        assert _blas_counts() == {1}
    assert _blas_counts() == before
    with _parallel.parallel(1) as runner:
        assert runner is None


def test_threaded_fit_matches_sequential_fit(monkeypatch):
    X, y = load_digits(return_X_y=True)
    X, y = X[:600] / 16, y[:600]

    def fit():
        # the 0.2 network and constant rate (conftest.V02), which the score
        # threshold is for; test_split_batch_norm_fit_... has batch norm
        network = dict(n_filters=4, hidden_units=16, batch_size=64, max_iter=10)
        return CNNClassifier(
            **{**V02, **network}, learning_rate_init=0.01, random_state=0
        ).fit(X, y)

    sequential = fit()
    _force_threads(monkeypatch)
    threaded, again = fit(), fit()
    assert threaded.score(X, y) > 0.9
    for a, b, c in zip(threaded._params(), again._params(), sequential._params()):
        assert_array_equal(a, b)  # reproducible
        assert_allclose(a, c, rtol=1e-6, atol=1e-9)  # only rounding differs


@pytest.mark.parametrize("weighted", [False, True, "zero part"])
@pytest.mark.parametrize("mode", MODES)
def test_batch_norm_parts_are_one_batch(weighted, mode, monkeypatch):
    # the parts of a batch-normalised mini-batch combine their statistics:
    # loss, gradients and batch statistics equal one call on all the rows
    rng = np.random.RandomState(0)
    spec = small_bn_spec()
    params, X, Y, sw = _batch(spec, bool(weighted), rng)
    params[-2] = rng.uniform(-2, 2, size=params[-2].shape)  # scales, some < 0
    if weighted == "zero part":
        sw[4:8] = 0  # left out of the statistics like any zero-weight row
    stats = []
    loss, grads = loss_and_grad(params, X, Y, spec, 0.3, sw, batch_stats=stats)
    parts = [slice(0, 4), slice(4, 8), slice(8, 11)]
    stats_p = []
    with _Split(mode, 3, monkeypatch) as runner:
        loss_p, grads_p = loss_and_grad_parts(
            params, X, Y, spec, 0.3, sw, parts, runner, batch_stats=stats_p
        )
    assert_allclose(loss_p, loss, rtol=1e-12)
    for g, gp in zip(grads, grads_p):
        assert_allclose(gp, g, rtol=1e-9, atol=1e-12)
    assert len(stats_p) == len(stats) == 2
    for (mean, var), (mean_p, var_p) in zip(stats, stats_p):
        assert_allclose(mean_p, mean, rtol=1e-12)
        assert_allclose(var_p, var, rtol=1e-12)
    # normalised part by part instead, the gradients would differ
    alone, _ = loss_and_grad_parts(params, X, Y, spec, 0.3, sw, parts, None)
    assert abs(alone - loss) > 1e-6


def test_batch_norm_part_failure_releases_the_others(monkeypatch):
    # a part that raises must not leave the others waiting for its sums
    from sklearn_xcnn._core import _network

    rng = np.random.RandomState(0)
    spec = small_bn_spec()
    params = init_params(spec, rng, np.float64)
    X, Y = rng.normal(size=(8, 8, 7, 2)), np.eye(3)[rng.randint(3, size=8)]
    original = _network.loss_and_grad

    def failing(params, X, *args, **kwargs):
        if X.shape[0] == 3:
            raise MemoryError("part 2")
        return original(params, X, *args, **kwargs)

    monkeypatch.setattr("sklearn_xcnn._training.loss_and_grad", failing)
    parts = [slice(0, 5), slice(5, 8)]
    with _Split("threads", 2, monkeypatch) as runner:
        with pytest.raises(MemoryError, match="part 2"):
            loss_and_grad_parts(
                params, X, Y, spec, 0.0, None, parts, runner, batch_stats=[]
            )


def test_split_batch_norm_fit_matches_sequential_fit(monkeypatch):
    X, y = load_digits(return_X_y=True)
    X, y = X[:600] / 16, y[:600]
    sw = np.random.RandomState(0).uniform(0.5, 2, size=600)

    def fit():
        # at the 0.2 regime's constant rate (conftest.V02), which the score
        # threshold is for
        network = dict(
            n_filters=4,
            hidden_units=16,
            padding="same",
            batch_norm=True,
            dropout=0.2,
            batch_size=64,
            max_iter=8,
        )
        clf = CNNClassifier(
            **{**V02, **network},
            random_state=0,
            early_stopping=True,  # restores the best weights and statistics
        )
        return clf.fit(X, y, sample_weight=sw)

    sequential = fit()
    _force_threads(monkeypatch)
    with monkeypatch.context() as m:
        m.setattr(_processes, "acquire_pool", lambda *a: None)
        threaded, again = fit(), fit()
    assert threaded.score(X, y) > 0.8
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
    # split batches draw the next batch's dropout masks ahead, on a thread:
    # the same draws in the same order as the sequential fit's
    states = [c._training.random_state.get_state() for c in fitted]
    for state in states[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(state, states[0]))
    arrays = [(*c._params(), *c.batch_norm_means_, *c.batch_norm_vars_) for c in fitted]
    for a, b, c, *on_processes in zip(*arrays):
        assert_array_equal(a, b)  # reproducible
        assert_allclose(a, c, rtol=1e-5, atol=1e-8)  # only rounding differs
        for d in on_processes:
            assert_array_equal(d, a)
