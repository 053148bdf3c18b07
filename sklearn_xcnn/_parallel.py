"""Running parts of a batch on threads, with BLAS kept to one thread each.

Most of a step of a small convolutional network is elementwise NumPy work
(patch copies, pooling, activations) that runs on one core, while only the
matrix products use BLAS threads. For batches with enough work, the rows are
split into parts computed on as many Python threads as BLAS may use (NumPy
releases the GIL inside its loops), each calling BLAS single-threaded.

The thread count follows BLAS's: limiting BLAS (``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS`` or ``threadpoolctl.threadpool_limits``) limits
these threads too, and with one BLAS thread everything runs in the calling
thread. Small batches never start threads.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

# multiply-adds per thread below which splitting a batch does not pay
MIN_WORK_PER_THREAD = 8_000_000


def work_per_sample(spec):
    """Multiply-adds of one sample's forward pass through ``spec``."""
    work = 0
    for block in spec.blocks:
        kr, kc = block.kernel
        Ho, Wo = block.conv_shape
        work += Ho * Wo * kr * kc * block.in_shape[2] * block.n_filters
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
def thread_pool(n_threads):
    """An executor of ``n_threads`` with BLAS single-threaded, or None for 1."""
    if n_threads <= 1:
        yield None
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        with ThreadPoolExecutor(max_workers=n_threads) as executor:
            yield executor


def split_rows(n, parts):
    """``parts`` consecutive slices of nearly equal size covering ``n`` rows."""
    bounds = np.linspace(0, n, parts + 1).round().astype(int)
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def map_parts(func, items, executor):
    """``[func(item) for item in items]``, on ``executor`` when given."""
    if executor is None or len(items) == 1:
        return [func(item) for item in items]
    return list(executor.map(func, items))


class PartSums:
    """Weighted averages across the parts of a batch running on threads.

    ``PartSums(n).combine(i)`` is the ``combine`` callable of part ``i`` (see
    :func:`._core._norm.batch_norm_forward`): each part passes its total
    weight and its averages, waits for the others, and gets the whole
    batch's total and averages. Every part sums the same numbers in the
    same order, so all of them get identical results, whatever the timing.
    A part that fails calls :meth:`abort`, which releases the others with a
    :class:`threading.BrokenBarrierError`.
    """

    def __init__(self, n_parts):
        self._barrier = threading.Barrier(n_parts)
        self._slots = [None] * n_parts

    def combine(self, index):
        """The ``combine`` callable of part ``index``."""

        def combine(total, arrays):
            self._slots[index] = (total, arrays)
            self._barrier.wait()
            grand = sum(t for t, _ in self._slots)
            out = []
            for k in range(len(arrays)):
                acc = None
                for t, parts in self._slots:
                    term = parts[k] * (t / grand)
                    acc = term if acc is None else acc + term
                out.append(acc.astype(arrays[k].dtype, copy=False))
            self._barrier.wait()  # every part has read the slots
            return grand, out

        return combine

    def abort(self):
        self._barrier.abort()
