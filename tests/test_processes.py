"""The worker processes that parts of a batch run on (POSIX only)."""

import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sklearn_xcnn import CNNClassifier, _parallel, _processes
from sklearn_xcnn._core._network import init_params
from sklearn_xcnn._training import part_loss_and_grad

from .conftest import small_bn_spec

pytestmark = pytest.mark.skipif(
    not _processes.AVAILABLE, reason="worker processes are POSIX-only"
)


def _calls(n_parts, bad=None, rows=4):
    """Calls of ``part_loss_and_grad`` on parts of one batch-normalised
    batch; part ``bad`` gets targets of the wrong width (its loss raises)."""
    rng = np.random.RandomState(0)
    spec = small_bn_spec()
    params = init_params(spec, rng, np.float64)
    params[-2] = rng.uniform(-2, 2, size=params[-2].shape)  # scales, some < 0
    calls = []
    for k in range(n_parts):
        X = rng.normal(size=(rows, 8, 7, 2))
        Y = np.eye(4 if k == bad else 3)[rng.randint(3, size=rows)]
        kwargs = dict(params=params, X=X, Y=Y, spec=spec, alpha=0.0,
                      sample_weight=rng.uniform(0.5, 2, size=rows), masks=None,
                      keep_stats=True)  # fmt: skip
        calls.append((part_loss_and_grad, kwargs))
    return calls


@pytest.fixture
def runner():
    """A runner of 3 parts on the shared pool of 2 workers."""
    assert _processes.start_pool(2)
    with _parallel.parallel(3) as runner:
        yield runner


def _on_threads(calls, combined, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(_processes, "acquire_pool", lambda *a: None)
        with _parallel.parallel(len(calls)) as threads:
            return threads.run(calls, combined)


def _assert_same(a, b):
    """Nested results equal bit for bit."""
    if isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        assert_array_equal(a, b)
    else:
        assert a == b


def test_encode_decode_round_trip():
    arena = _processes._Arena()
    try:
        obj = {
            "a": np.arange(12.0).reshape(3, 4)[:, ::2],  # not contiguous
            "b": [np.float32(1.5), (np.arange(3, dtype=np.uint8), None)],
            "c": "text",
            "d": np.zeros((0, 5), dtype=np.float32),
        }
        encoded = _processes._encode(obj, arena)
        assert isinstance(encoded["a"], _processes._Ref)
        back = _processes._decode(encoded, arena.buffer, copy=True)
        _assert_same(back["a"], obj["a"])
        _assert_same(back["b"][1][0], obj["b"][1][0])
        assert back["b"][0] == 1.5 and back["b"][1][1] is None
        assert back["c"] == "text" and back["d"].shape == (0, 5)
    finally:
        arena.close()


@pytest.mark.parametrize("combined", [False, True])
def test_processes_compute_what_threads_compute(runner, combined, monkeypatch):
    calls = _calls(3)
    computed = []
    on_processes = runner.run(calls, combined, lambda: computed.append(1))
    assert runner.pool is not None
    assert computed == [1]  # once, when the main process's part was done
    _assert_same(on_processes, _on_threads(calls, combined, monkeypatch))
    # combined, the parts share one batch's statistics; not, each its own
    stats = [result[2] for result in on_processes]
    same = all(np.array_equal(s[0][0], stats[0][0][0]) for s in stats)
    assert same == combined


@pytest.mark.parametrize("combined", [False, True])
@pytest.mark.parametrize("bad", [0, 1, 2])  # the main process's part, a worker's
def test_a_failing_part_raises_its_error_and_the_pool_goes_on(runner, combined, bad):
    with pytest.raises(ValueError, match="broadcast|shape"):
        runner.run(_calls(3, bad=bad), combined)
    assert not runner.pool.broken
    # the pipes are in step: the next batch runs and is right
    calls = _calls(3)
    again = runner.run(calls, combined)
    assert runner.pool is not None
    _assert_same(again, runner.run(calls, combined))


def test_workers_ignore_ctrl_c_and_leave_no_files(runner):
    runner.run(_calls(3), True)
    pool = runner.pool
    for w in pool.workers:
        os.kill(w.process.pid, signal.SIGINT)
    time.sleep(0.2)
    assert all(w.process.poll() is None for w in pool.workers)
    _assert_same(runner.run(_calls(3), True), runner.run(_calls(3), True))
    # each side unlinks the other's file once it has mapped it
    for w in pool.workers:
        assert not os.path.exists(w.inputs.path)
        assert not os.path.exists(w.outputs.path)


def test_one_thread_at_a_time_uses_the_pool(runner):
    runner.run(_calls(3), False)
    assert runner.pool is not None
    other = []
    thread = threading.Thread(target=lambda: other.append(_processes.acquire_pool(2)))
    thread.start()
    thread.join()
    assert other == [None]  # the other thread computes on threads


def test_only_long_computations_start_the_workers(monkeypatch):
    _processes.shutdown()
    monkeypatch.setattr(_parallel, "blas_threads", lambda: 2)
    monkeypatch.setattr(_parallel, "MIN_WORK_PER_THREAD", 1)
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        # the default cosine runs its whole span in the 2 epochs: it ends
        # there without a ConvergenceWarning, by design (issue 21)
        warnings.simplefilter("error", ConvergenceWarning)
        CNNClassifier(n_filters=2, hidden_units=4, max_iter=2).fit(X[:200], y[:200])
    assert _processes._POOL is None  # too short to repay a start: threads
    with _parallel.parallel(2, work=_parallel.POOL_START_WORK) as runner:
        calls = [(_parallel.split_rows, dict(n=4, parts=2))] * 2
        assert runner.run(calls) == [[slice(0, 2), slice(2, 4)]] * 2
    assert _processes._POOL is not None  # started, for the next ones
    assert _processes._POOL.wait_ready()


@pytest.mark.filterwarnings("ignore:.*fork:DeprecationWarning")  # Python 3.12+
def test_a_forked_child_starts_its_own_workers():
    assert _processes.start_pool(1)
    parent = _processes._POOL
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's workers are not its own
        ok = _processes._POOL is None and _processes.start_pool(1)
        os.write(write, b"1" if ok else b"0")
        _processes.shutdown()
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.waitpid(pid, 0)
    os.close(read)
    # the parent's pool still answers
    assert _processes._POOL is parent and parent.ready()
    with _parallel.parallel(2) as runner:
        calls = [(_parallel.split_rows, dict(n=4, parts=2))] * 2
        assert runner.run(calls) == [[slice(0, 2), slice(2, 4)]] * 2
        assert runner.pool is parent


def test_workers_leave_when_the_main_process_goes():
    pool = _processes.WorkerPool(1)  # not the shared pool
    assert pool.wait_ready()
    worker = pool.workers[0]
    worker.close_pipes()  # as if this process had ended
    assert worker.process.wait(timeout=10) == 0


def _kill_a_worker(pool, monkeypatch):
    pool.workers[1].process.kill()
    pool.workers[1].process.wait()


def _no_shared_memory(pool, monkeypatch):
    for w in pool.workers:  # the next inputs need a larger file...
        w.inputs.size = 0

    def no_room(*args, **kwargs):  # ...which cannot be had
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_processes.tempfile, "mkstemp", no_room)


def _lose_the_inputs(pool, monkeypatch):  # a worker cannot map them
    pool.workers[1].inputs.path = "/nonexistent/sklearn-xcnn-inputs"


@pytest.mark.parametrize("combined", [False, True])
@pytest.mark.parametrize(
    "breakage", [_kill_a_worker, _no_shared_memory, _lose_the_inputs]
)
def test_a_broken_pool_leaves_the_batch_to_threads(breakage, combined, monkeypatch):
    calls = _calls(3)
    expected = _on_threads(calls, combined, monkeypatch)
    assert _processes.start_pool(2)
    with _parallel.parallel(3) as runner:
        runner.run(calls, combined)
        pool = runner.pool
        computed = []
        with monkeypatch.context() as m:
            breakage(pool, m)
            result = runner.run(calls, combined, lambda: computed.append(1))
            _assert_same(result, expected)
        assert pool.broken and runner.pool is None
        assert computed == [1]  # once, whether before the breakage or after
    # a new pool replaces it
    assert _processes.start_pool(2)
    assert _processes._POOL is not pool


def test_a_worker_with_another_copy_of_the_package_is_not_used(monkeypatch):
    monkeypatch.setattr(_processes, "_THIS_FILE", "/elsewhere/_processes.py")
    pool = _processes.WorkerPool(1)  # its worker finds the real file
    try:
        assert not pool.wait_ready()
        assert pool.broken
    finally:
        pool.close()
