"""Worker processes that compute parts of a batch outside the GIL.

Threads of one process split a batch poorly: every NumPy call takes and
gives back the GIL, and a small network makes hundreds of short calls per
batch, so the threads spend much of their time waiting for each other (on a
2-core machine two threads run a 64-row step of the MNIST-shaped network
only 1.5x faster than one, while two processes keep their full one-thread
speed; ``benchmarks/README.md`` has the figures). Processes do not share a
GIL, so a split batch runs its parts at full speed, at the price of copying
the parts' inputs and results through shared memory.

The mechanism, for :mod:`._parallel`:

* A :class:`WorkerPool` starts ``n`` worker processes (``python -c``, so the
  user's ``__main__`` is never imported again). Each is linked to the main
  process by two pipes, has one BLAS thread and ignores Ctrl-C (the main
  process handles it). A worker leaves when its pipe closes (the main
  process has ended) or when it has had nothing to do for
  :data:`IDLE_TIMEOUT` seconds.
* The pool starts in the background, for a computation long enough to
  repay the start (see :data:`._parallel.POOL_START_WORK`): its workers
  import the package while the main process goes on with threads, and it is
  used once every worker has said it is ready. It is kept between fits
  (:func:`acquire_pool`), like joblib's reusable executor, and used by one
  thread at a time.
* :meth:`WorkerPool.run` runs the first call in the calling thread and sends
  the others to the workers: a call is a function of this package and its
  keyword arguments, whose arrays travel through a shared-memory file (an
  :class:`_Arena`, under ``/dev/shm`` where it exists) and everything else
  pickled over the pipe. Results come back the same way.
* Parts of a batch-normalised batch exchange their statistics while they run
  (see :func:`._core._norm.batch_norm_forward`): each worker sends its sums
  to the main process, which combines them with its own part's exactly as
  :class:`._parallel.PartSums` does for threads and sends the result back.
  Where the parts meet, each side polls the pipe for up to :data:`SPIN`
  seconds before it sleeps: the other is due within microseconds, while
  waking a sleeping process takes tens of them.
Only POSIX systems use processes (:data:`AVAILABLE`); elsewhere, and with
``SKLEARN_XCNN_PROCESSES=0`` in the environment, batches are split over
threads as before. The arithmetic of a part is the same either way, so the
results do not depend on where a part ran.
"""

import atexit
import importlib
import mmap
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from typing import NamedTuple

import numpy as np

AVAILABLE = os.name == "posix" and os.environ.get("SKLEARN_XCNN_PROCESSES") != "0"
# seconds a worker waits for work before it leaves
IDLE_TIMEOUT = 300.0
_SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None
_ALIGN = 64
# seconds a part polls for the others where the parts of a batch meet
SPIN = 0.0005
_HEADER = struct.Struct("<Q")
_THIS_FILE = os.path.realpath(__file__)


class PartAborted(RuntimeError):
    """Another part of the batch failed while this one waited for its sums."""


class WorkerError(RuntimeError):
    """A worker process ended or answered out of turn."""


# ------------------------------------------------------------------ pipes
def _send(fd, message):
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd, size):
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other end of the pipe closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _recv(fd, spin=0.0):
    """The next message; with ``spin``, poll for up to that many seconds
    before sleeping on the pipe: at a point where the parts meet, the other
    side is due within microseconds, while waking a sleeping process takes
    tens of them (on a virtual machine, about 70)."""
    if spin:
        deadline = time.perf_counter() + spin
        while not select.select([fd], [], [], 0)[0]:
            if time.perf_counter() > deadline:
                break
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size))
    return pickle.loads(_read_exactly(fd, size))


# ---------------------------------------------------------- shared memory
class _Arena:
    """A shared-memory file that one side writes and the other maps.

    It grows by replacing the file; the reader unlinks each file once it
    has mapped it (:class:`_Mapped`), so files outlive neither side.
    """

    def __init__(self):
        self.path, self.buffer, self.size = None, None, 0
        self._unread = None  # a file the other side has not mapped yet

    def reserve(self, nbytes):
        """The buffer, grown to hold at least ``nbytes``."""
        if nbytes > self.size:
            size = max(nbytes, 2 * self.size, 1 << 20)
            fd, path = tempfile.mkstemp(prefix="sklearn-xcnn-", dir=_SHM_DIR)
            try:
                os.ftruncate(fd, size)
                buffer = mmap.mmap(fd, size)
            finally:
                os.close(fd)
            self._forget_unread()
            self.path, self.buffer, self.size, self._unread = path, buffer, size, path
        return self.buffer

    def sent(self):
        """The reader has mapped the current file (it unlinks it)."""
        self._unread = None

    def _forget_unread(self):
        if self._unread is not None:
            try:
                os.unlink(self._unread)
            except FileNotFoundError:
                pass
            self._unread = None

    def close(self):
        self._forget_unread()
        self.path, self.buffer, self.size = None, None, 0


class _Mapped:
    """The other side's arena, mapped by path (and then unlinked)."""

    def __init__(self):
        self.path, self.buffer = None, None

    def get(self, path):
        if path is not None and path != self.path:
            with open(path, "r+b") as file:
                self.buffer = mmap.mmap(file.fileno(), 0)
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            self.path = path
        return self.buffer


class _Ref(NamedTuple):
    """An array of a message, stored in the arena."""

    offset: int
    shape: tuple
    dtype: str


def _encode(obj, arena):
    """``obj`` with its arrays (in lists, tuples and dicts) copied into the
    arena and replaced by :class:`_Ref`; everything else travels pickled."""
    arrays = []
    encoded = _refs(obj, arrays)
    if arrays:
        last, offset = arrays[-1]
        buffer = arena.reserve(offset + last.nbytes)
        for a, offset in arrays:
            np.copyto(np.ndarray(a.shape, a.dtype, buffer, offset), a)
    return encoded


def _refs(obj, arrays):
    """``obj`` with its arrays replaced by references to consecutive aligned
    places, recorded as ``(array, offset)`` in ``arrays``. (A plain function:
    a nested one calling itself would be a reference cycle that keeps the
    arrays alive until the garbage collector runs.)"""
    if isinstance(obj, np.ndarray) and obj.dtype != object:
        offset = 0
        if arrays:
            last, start = arrays[-1]
            offset = start + -(-last.nbytes // _ALIGN) * _ALIGN
        arrays.append((obj, offset))
        return _Ref(offset, obj.shape, obj.dtype.str)
    if type(obj) in (list, tuple):
        return type(obj)(_refs(x, arrays) for x in obj)
    if type(obj) is dict:
        return {k: _refs(v, arrays) for k, v in obj.items()}
    return obj


def _decode(obj, buffer, copy):
    """Inverse of :func:`_encode`: arrays as views of ``buffer`` (or copies)."""
    if isinstance(obj, _Ref):
        view = np.ndarray(obj.shape, np.dtype(obj.dtype), buffer, obj.offset)
        return view.copy() if copy else view
    if type(obj) in (list, tuple):
        return type(obj)(_decode(x, buffer, copy) for x in obj)
    if type(obj) is dict:
        return {k: _decode(v, buffer, copy) for k, v in obj.items()}
    return obj


def _function_name(func):
    return f"{func.__module__}:{func.__qualname__}"


def _resolve(name):
    module, qualname = name.split(":")
    obj = importlib.import_module(module)
    for attr in qualname.split("."):
        obj = getattr(obj, attr)
    return obj


# ----------------------------------------------------------------- worker
def _worker_main(read_fd, write_fd, expected_file):
    """The loop of a worker process: run calls until told to stop, or until
    the main process has gone. A worker that imported another copy of the
    package than the main process's says so and leaves (the main process
    then computes on threads)."""
    try:
        if _THIS_FILE != expected_file:
            _send(write_fd, ("other package", _THIS_FILE))
            return
        _serve(read_fd, write_fd)
    except (EOFError, OSError):  # the main process closed the pipes
        pass


def _serve(read_fd, write_fd):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main's
    sys.stdout = sys.stderr  # the pipes alone carry messages
    warnings.simplefilter("ignore")  # warnings are the main process's
    np.seterr(all="ignore")  # overflows are found in the main process
    inputs, outputs = _Mapped(), _Arena()

    def combine(total, arrays):
        _send(write_fd, ("sums", total, arrays))
        message = _recv(read_fd, SPIN)
        if message[0] != "combined":
            raise PartAborted("another part of the batch failed")
        return message[1], message[2]

    try:
        _send(write_fd, ("ready", os.getpid()))
        while select.select([read_fd], [], [], IDLE_TIMEOUT)[0]:
            message = _recv(read_fd)
            if message[0] == "quit":
                break
            if message[0] != "call":
                continue  # an abort that came after this part had finished
            _, name, kwargs, path, combined, mapped = message
            if mapped:
                outputs.sent()
            reply = _call(name, kwargs, inputs, path, outputs, combined and combine)
            _send(write_fd, reply)
    finally:
        outputs.close()


def _call(name, kwargs, inputs, path, outputs, combine):
    """Run one call; the reply to send: its result, the error it raised, or
    ``"broken"`` when the shared memory failed (the main process then
    leaves the batch to threads). The call's arrays are freed on return, so
    that the next call reuses their memory (else it is allocated anew and
    faulted in)."""
    try:
        buffer = inputs.get(path)
    except OSError as exc:
        return ("broken", f"a worker could not map its inputs: {exc}")
    try:
        kwargs = _decode(kwargs, buffer, copy=False)
        if combine:
            kwargs["combine"] = combine
        result = _resolve(name)(**kwargs)
    except BaseException as exc:  # noqa: BLE001 - sent to the main process
        return ("error", _picklable(exc))
    try:
        return ("result", _encode(result, outputs), outputs.path)
    except OSError as exc:
        return ("broken", f"a worker could not store its results: {exc}")


def _picklable(exc):
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")


# ------------------------------------------------------------ main side
class _Worker:
    def __init__(self):
        worker_read, self.write_fd = os.pipe()
        self.read_fd, worker_write = os.pipe()
        package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        env["MKL_NUM_THREADS"] = "1"
        # glibc: keep freed memory for the next part instead of giving it
        # back to the system and faulting it in again at every call (which
        # made a worker 1.5x slower than the main process, whose heap has
        # grown past these sizes)
        env.setdefault("MALLOC_MMAP_THRESHOLD_", str(64 << 20))
        env.setdefault("MALLOC_TRIM_THRESHOLD_", str(256 << 20))
        # the worker imports this very package: from where it is installed,
        # or from this directory when only this process has it on its path
        # (not from the working directory, which ``-c`` would put first); it
        # checks that it did (see _worker_main)
        code = (
            f"import sys; d = {package_dir!r}; sys.path[:] = [p for p in sys.path "
            "if p]; d in sys.path or sys.path.insert(0, d); "
            "from sklearn_xcnn._processes import _worker_main; "
            f"_worker_main({worker_read}, {worker_write}, {_THIS_FILE!r})"
        )
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code],
                pass_fds=(worker_read, worker_write),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except BaseException:
            os.close(self.write_fd)
            os.close(self.read_fd)
            raise
        finally:
            os.close(worker_read)
            os.close(worker_write)
        self.ready = False
        self.inputs, self.outputs = _Arena(), _Mapped()
        self.out_path_new = False

    def poll_ready(self):
        if not self.ready and select.select([self.read_fd], [], [], 0)[0]:
            message = self.recv()
            if message[0] != "ready":
                raise WorkerError(f"a worker process said {message[0]!r} first")
            self.ready = True
        return self.ready

    def send(self, message):
        try:
            _send(self.write_fd, message)
        except OSError as exc:
            raise WorkerError(f"a worker process has gone: {exc}") from exc

    def recv(self, spin=0.0):
        try:
            return _recv(self.read_fd, spin)
        except (EOFError, OSError) as exc:
            code = self.process.poll()
            raise WorkerError(
                f"a worker process ended (exit code {code}) while computing "
                "part of a batch"
            ) from exc

    def submit(self, call):
        func, kwargs, combined = call
        try:
            encoded = _encode(kwargs, self.inputs)
        except OSError as exc:  # no shared memory to be had
            raise WorkerError(f"no shared memory for a worker's inputs: {exc}") from exc
        mapped, self.out_path_new = self.out_path_new, False
        self.send(("call", _function_name(func), encoded, self.inputs.path,
                   combined, mapped))  # fmt: skip

    def result(self, message):
        _, encoded, path = message
        if path != self.outputs.path:
            self.out_path_new = True
        return _decode(encoded, self.outputs.get(path), copy=True)

    def close_pipes(self):
        """Close this process's ends of the pipes (the worker then leaves)."""
        for fd in (self.write_fd, self.read_fd):
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self):
        self.close_pipes()
        try:
            self.process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.inputs.close()


class WorkerPool:
    """Worker processes for parts of a batch; see the module docstring."""

    def __init__(self, n_workers):
        self.workers = [_Worker() for _ in range(n_workers)]
        self.broken = False

    @property
    def n_workers(self):
        return len(self.workers)

    def ready(self):
        """Whether every worker has started (never blocks)."""
        if self.broken:
            return False
        try:
            return all([w.poll_ready() for w in self.workers])
        except WorkerError:
            self.broken = True
            return False

    def wait_ready(self, timeout=60.0):
        """Block until every worker has started; False when one failed."""
        for w in self.workers:
            if not (w.ready or select.select([w.read_fd], [], [], timeout)[0]):
                return False
        return self.ready()

    def run(self, calls, combined, combine_slots, computed=None):
        """Run ``calls`` (``(func, kwargs)`` pairs): the first here, the
        others on the workers. Returns their results, or the exception each
        raised. With ``combined`` the calls get a ``combine`` argument that
        joins their batch-norm sums through ``combine_slots(slots)``.
        ``computed`` is called once the first has returned, before the
        workers' results are collected."""
        remote = self.workers[: len(calls) - 1]
        try:
            for worker, (func, kwargs) in zip(remote, calls[1:]):
                worker.submit((func, kwargs, combined))
        except WorkerError:
            self.broken = True
            raise
        hub = _Hub(remote, combine_slots)
        func, kwargs = calls[0]
        try:
            local = func(**kwargs, combine=hub.combine) if combined else func(**kwargs)
        except BaseException as exc:  # noqa: BLE001 - returned like the others'
            local = exc
        if computed is not None:
            computed()
        try:
            remote_results = hub.finish()
        except WorkerError:
            self.broken = True
            raise
        broken = [kind for kind, _ in hub.results if kind == "broken"]
        if broken:
            self.broken = True
            raise next(value for kind, value in hub.results if kind == "broken")
        return [local, *remote_results]

    def close(self):
        for w in self.workers:
            try:
                w.send(("quit",))
            except WorkerError:
                pass
        for w in self.workers:
            w.close()
        self.broken = True


class _Hub:
    """The main process's side of one run: combines the workers' sums with
    its own part's and collects the workers' results."""

    def __init__(self, workers, combine_slots):
        self.workers, self.combine_slots = workers, combine_slots
        self.results = [None] * len(workers)
        self.failed = False

    def combine(self, total, arrays):
        slots = [(total, arrays)]
        waiting = []
        for i, w in enumerate(self.workers):
            if self.results[i] is not None:
                continue
            message = w.recv(SPIN)
            if message[0] == "sums":
                slots.append((message[1], message[2]))
                waiting.append(w)
            else:
                self.results[i] = self._final(w, message)
        if len(waiting) < len(self.workers):
            for w in waiting:
                w.send(("abort",))
            raise PartAborted("another part of the batch failed")
        grand, out = self.combine_slots(slots)
        for w in waiting:
            w.send(("combined", grand, out))
        return grand, out

    def _final(self, worker, message):
        worker.inputs.sent()  # the worker has mapped (and unlinked) its file
        if message[0] == "result":
            return ("ok", worker.result(message))
        if message[0] == "error":
            return ("error", message[1])
        if message[0] == "broken":
            return ("broken", WorkerError(message[1]))
        raise WorkerError(f"a worker process sent {message[0]!r} out of turn")

    def finish(self):
        """The workers' results; answers sums still waiting with an abort
        (the main part ended without asking for them)."""
        for i, w in enumerate(self.workers):
            while self.results[i] is None:
                message = w.recv(SPIN)
                if message[0] == "sums":
                    w.send(("abort",))
                    continue
                self.results[i] = self._final(w, message)
        return [value for _, value in self.results]


# --------------------------------------------------------- the shared pool
_POOL = None
_POOL_LOCK = threading.Lock()  # guards _POOL
_IN_USE = threading.Lock()  # held by the thread running on the pool


def acquire_pool(n_workers, start=True):
    """The shared pool of ``n_workers`` for this thread, or None.

    None when processes are not available, when another thread is using
    the pool, or while it is starting; with ``start``, it is started if
    there is none (a computation too short to repay the workers' start
    only uses a pool that is ready). Give the pool back with
    :func:`release_pool`.
    """
    global _POOL
    if not AVAILABLE or n_workers < 1 or not _IN_USE.acquire(blocking=False):
        return None
    with _POOL_LOCK:
        try:
            pool = _shared_pool(n_workers, start)
            if pool is not None and pool.ready():
                return pool
        except OSError:  # no processes can be started here: threads do
            _POOL = None
        _IN_USE.release()
        return None


def _shared_pool(n_workers, start):
    """The shared pool of ``n_workers`` (under ``_POOL_LOCK``): a broken one,
    or one of another size, is closed; with ``start`` a missing one is
    started."""
    global _POOL
    if _POOL is not None and (_POOL.broken or _POOL.n_workers != n_workers):
        _POOL.close()
        _POOL = None
    if _POOL is None and start:
        _POOL = WorkerPool(n_workers)
    return _POOL


def release_pool(pool):
    if pool is not None:
        _IN_USE.release()


def shutdown():
    """Stop the shared pool's workers (also done at exit)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None:
            _POOL.close()
            _POOL = None


def _forget_pool_after_fork():
    """In a child forked from this process: the pool's workers are the
    parent's, so drop them (closing only this copy of the pipes) and start
    afresh when needed."""
    global _POOL, _POOL_LOCK, _IN_USE
    if _POOL is not None:
        for w in _POOL.workers:
            w.close_pipes()
    _POOL = None
    _POOL_LOCK, _IN_USE = threading.Lock(), threading.Lock()


atexit.register(shutdown)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def start_pool(n_workers, timeout=60.0):
    """Start the shared pool of ``n_workers`` now and wait until it is
    ready; returns whether it is (for tests and benchmarks)."""
    if not AVAILABLE:
        return False
    with _POOL_LOCK:
        return _shared_pool(n_workers, start=True).wait_ready(timeout)
