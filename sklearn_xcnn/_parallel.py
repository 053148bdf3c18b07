"""Running the parts of a batch at once, with BLAS kept to one thread each.

Most of a step of a small convolutional network is elementwise NumPy work
(patch copies, pooling, activations) that runs on one core, while only the
matrix products use BLAS threads. For batches with enough work, the rows are
split into parts computed at once, as many as BLAS may use threads, each
with BLAS single-threaded: on the worker processes of :mod:`._processes`
once they have started (they do not share the GIL), else on Python threads
(NumPy releases the GIL inside its loops, but a thread waits for it at
every call). A part is a call of a module-level function with keyword
arguments (see :meth:`PartRunner.run`), so that it can run in either.

The count follows BLAS's: limiting BLAS (``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS`` or ``threadpoolctl.threadpool_limits``) limits
the parts too, and with one BLAS thread everything runs in the calling
thread. Small batches are never split.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from . import _processes

# multiply-adds per thread below which splitting a batch does not pay
MIN_WORK_PER_THREAD = 8_000_000
# multiply-adds of a whole computation (a fit, a prediction) from which it
# starts the worker processes if they are not running (their start costs
# about a second of one core; a shorter computation runs on threads, or on
# workers that an earlier one started)
POOL_START_WORK = 2e10


def work_per_sample(spec):
    """Multiply-adds of one sample's forward pass through ``spec``."""
    work = 0
    for unit in (u for block in spec.blocks for u in block.conv_units):
        kr, kc = unit.kernel
        Ho, Wo = unit.conv_shape
        work += Ho * Wo * kr * kc * unit.in_shape[2] * unit.n_filters
    units = spec.layer_units
    return work + sum(a * b for a, b in zip(units[:-1], units[1:]))


def blas_threads():
    """Threads BLAS may use now (1 when none is found)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - scikit-learn requires it
        return 1
    counts = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    return max(1, min(counts, default=1))


def n_parts(work):
    """Threads worth using for ``work`` multiply-adds (no BLAS query if 1)."""
    if work < 2 * MIN_WORK_PER_THREAD:
        return 1
    return max(1, min(blas_threads(), int(work // MIN_WORK_PER_THREAD)))


@contextmanager
def parallel(n, work=0.0, small_parts=False):
    """A :class:`PartRunner` for ``n`` parts with BLAS single-threaded, or
    None for 1; ``work`` is the multiply-adds of the computation it runs
    (see :data:`POOL_START_WORK`).

    ``small_parts`` says that ``n`` is 1 because each call is too small to
    split (a training batch under ``2 * MIN_WORK_PER_THREAD``): its matrix
    products are then too small for BLAS's threads too, and BLAS runs
    single-threaded in the calling thread. A second BLAS thread gains nothing
    on such products, and when another process holds a core it costs the
    most: the idle BLAS thread spins on the core the calling thread needs
    (seen on 8x8 digits at batches of 64: 1.5 s an epoch instead of 0.09).
    """
    from threadpoolctl import threadpool_limits

    if n <= 1:
        if small_parts:
            with threadpool_limits(1, user_api="blas"):
                yield None
        else:
            yield None
        return

    with threadpool_limits(1, user_api="blas"):
        with ThreadPoolExecutor(max_workers=n) as executor:
            runner = PartRunner(n, executor, work >= POOL_START_WORK)
            try:
                yield runner
            finally:
                runner.close()


def split_rows(n, parts):
    """``parts`` consecutive slices of nearly equal size covering ``n`` rows."""
    # np.linspace's bounds, in Python numbers (a call of np.linspace costs
    # more than a small batch's whole split)
    step = n / parts
    bounds = [round(k * step) for k in range(parts)] + [n]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def combine_slots(slots):
    """The total of the parts' weights and their weighted averages.

    ``slots`` holds ``(total, arrays)`` per part, in part order; every part
    (thread or process) gets the result of this one computation order.
    """
    grand = sum(t for t, _ in slots)
    out = []
    for k, first in enumerate(slots[0][1]):
        acc = None
        for t, arrays in slots:
            term = arrays[k] * (t / grand)
            acc = term if acc is None else acc + term
        out.append(acc.astype(first.dtype, copy=False))
    return grand, out


class PartSums:
    """Weighted averages across the parts of a batch running on threads.

    ``PartSums(n).combine(i)`` is the ``combine`` callable of part ``i`` (see
    :func:`._core._norm.batch_norm_forward`): each part passes its total
    weight and its averages, waits for the others, and gets the whole
    batch's total and averages (:func:`combine_slots`), identical in every
    part whatever the timing. A part that fails calls :meth:`abort`, which
    releases the others with a :class:`threading.BrokenBarrierError`.
    """

    def __init__(self, n_parts):
        self._barrier = threading.Barrier(n_parts)
        self._slots = [None] * n_parts

    def combine(self, index):
        """The ``combine`` callable of part ``index``."""

        def combine(total, arrays):
            self._slots[index] = (total, arrays)
            self._barrier.wait()
            result = combine_slots(self._slots)
            self._barrier.wait()  # every part has read the slots
            return result

        return combine

    def abort(self):
        self._barrier.abort()


# what a part raises when another part failed while it waited for the sums
_ABORTED = (threading.BrokenBarrierError, _processes.PartAborted)


class PartRunner:
    """Runs the parts of one batch at once: on the shared worker processes
    when they are ready, else on threads (see the module docstring).

    Parameters
    ----------
    n : int
        Parts at most (the calling thread computes one of them).
    executor : concurrent.futures.ThreadPoolExecutor
        ``n`` threads for when the processes are not ready.
    start_pool : bool, default=False
        Whether to start the worker processes if they are not running.
    """

    def __init__(self, n, executor, start_pool=False):
        self.n, self.executor, self.pool = n, executor, None
        self.start_pool = start_pool

    def _processes(self):
        if self.pool is None:
            self.pool = _processes.acquire_pool(self.n - 1, self.start_pool)
        return self.pool

    def run(self, calls, combined=False, computed=None):
        """``[func(**kwargs) for func, kwargs in calls]``, the calls at once.

        ``func`` must be a module-level function of this package. With
        ``combined``, the calls are the parts of one batch-normalised batch:
        each gets a ``combine`` argument that joins the parts' batch-norm
        sums (see :func:`._core._norm.batch_norm_forward`). If calls raise,
        the first error is raised that is not a part giving up because
        another failed. ``computed``, when given, is called once, as soon as
        this process has computed its part (on processes the workers may be
        finishing theirs; on threads, once all are done).
        """
        if len(calls) > self.n:
            raise ValueError(f"{len(calls)} parts for a runner of {self.n}")
        computed = _once(computed)
        if len(calls) == 1:
            func, kwargs = calls[0]
            results = [func(**kwargs)]
        elif (pool := self._processes()) is not None:
            try:
                results = pool.run(calls, combined, combine_slots, computed)
            except _processes.WorkerError:  # a worker died: threads take over
                self.close()
                results = self._run_threads(calls, combined)
        else:
            results = self._run_threads(calls, combined)
        computed()  # if the pool did not call it (or failed before it did)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            first = [e for e in failed if not isinstance(e, _ABORTED)]
            raise (first or failed)[0]
        return results

    def _run_threads(self, calls, combined):
        sums = PartSums(len(calls)) if combined else None

        def run(index):
            func, kwargs = calls[index]
            try:
                if sums is None:
                    return func(**kwargs)
                return func(**kwargs, combine=sums.combine(index))
            except BaseException as exc:  # noqa: BLE001 - raised by run()
                if sums is not None:
                    sums.abort()  # release the parts waiting for this one
                return exc

        return list(self.executor.map(run, range(len(calls))))

    def close(self):
        """Give the worker processes back for other fits."""
        _processes.release_pool(self.pool)
        self.pool = None


def _once(func):
    """``func`` (or nothing, for None) to be called at most once."""
    pending = [func] if func is not None else []

    def call():
        while pending:
            pending.pop()()

    return call


def run_parts(calls, runner, combined=False, computed=None):
    """The results of ``calls`` (``(func, kwargs)`` pairs, see
    :meth:`PartRunner.run`), in order.

    On ``runner``, ``runner.n`` calls at a time (the parts of one combined
    batch all at once); without, one after the other in this thread (then
    not combined: a combined batch is one call). ``computed``, when given,
    is called once, as soon as this process has computed its share of the
    calls (see :meth:`PartRunner.run`).
    """
    if combined and len(calls) > (1 if runner is None else runner.n):
        raise ValueError("the parts of one batch must run at once")
    if runner is None:
        results = [func(**kwargs) for func, kwargs in calls]
        if computed is not None:
            computed()
        return results
    results = []
    for start in range(0, len(calls), runner.n):
        last = start + runner.n >= len(calls)
        group = calls[start : start + runner.n]
        results += runner.run(group, combined, computed if last else None)
    return results
