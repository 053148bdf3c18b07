"""Wall time of searches and cross-validation with ``n_jobs=1`` and ``n_jobs=2``.

Run from the repository root::

    python benchmarks/bench_parallel.py [--max-iter 30] [--repeats 3]

For each of ``GridSearchCV``, ``RandomizedSearchCV`` and ``cross_val_score`` on
the digits data it times

- ``n_jobs=1`` as is (BLAS may use every core inside the one process),
- ``n_jobs=1`` under ``threadpool_limits(1, "blas")``,
- ``n_jobs=2`` with joblib's default ``loky`` processes,
- ``n_jobs=2`` with loky processes whose fits raise BLAS back to 2 threads
  each: the oversubscription (4 threads on 2 cores) that loky's limit avoids,
- ``n_jobs=2`` with the ``threading`` backend, as is and with one BLAS thread,

checks that every run gives the same scores as the first, and prints the
BLAS/OpenMP thread pools seen in the main process and inside the loky
workers. Each variant runs ``--repeats`` times, interleaved with the others so
that a burst of load on the machine hits every variant alike; the best (least
disturbed), the median and the first run are shown: the first ``n_jobs=2``
loky run of a fresh process also pays for starting the workers.

Last, it times one fit of the default network with all BLAS threads and with
one, on idle cores and while another process keeps one core busy.
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed, parallel_backend
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_val_score
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sklearn_xcnn import CNNClassifier  # noqa: E402

PARAM_GRID = {"stride": [1, 2], "pooling": ["max", "mean"]}
PARAM_DISTRIBUTIONS = {
    "stride": [1, 2],
    "pooling": ["max", "mean", "sum"],
    "kernel_size": [2, 3],
}


def thread_pools():
    """``(pid, [(library, threads), ...])`` of the calling process."""
    pools = [(p["internal_api"], p["num_threads"]) for p in threadpool_info()]
    return os.getpid(), pools


def fit_and_report(X, y):
    """Fit a small network, then report the thread pools (run in a worker)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        CNNClassifier(n_filters=2, hidden_units=8, max_iter=1).fit(X[:50], y[:50])
    return thread_pools()


class OversubscribedCNN(CNNClassifier):
    """CNNClassifier whose fit uses 2 BLAS threads whatever the worker's limit."""

    def fit(self, X, y, sample_weight=None):
        with threadpool_limits(limits=2, user_api="blas"):
            return super().fit(X, y, sample_weight)


def make_tasks(est):
    """The three timed calls, each ``(n_jobs, X, y) -> test scores``."""

    def grid(n_jobs, X, y):
        search = GridSearchCV(est, PARAM_GRID, cv=3, n_jobs=n_jobs).fit(X, y)
        return search.cv_results_["mean_test_score"]

    def randomized(n_jobs, X, y):
        search = RandomizedSearchCV(
            est, PARAM_DISTRIBUTIONS, n_iter=4, cv=3, n_jobs=n_jobs, random_state=0
        ).fit(X, y)
        return search.cv_results_["mean_test_score"]

    def cross_val(n_jobs, X, y):
        return cross_val_score(est, X, y, cv=4, n_jobs=n_jobs)

    return {
        "GridSearchCV": grid,
        "RandomizedSearchCV": randomized,
        "cross_val": cross_val,
    }


# name: (n_jobs, joblib backend, BLAS limit in this process, oversubscribe)
VARIANTS = {
    "n_jobs=1": (1, None, None, False),
    "n_jobs=1, 1 BLAS thread": (1, None, 1, False),
    "n_jobs=2 loky": (2, "loky", None, False),
    "n_jobs=2 loky, 2 BLAS threads each": (2, "loky", None, True),
    "n_jobs=2 threading": (2, "threading", None, False),
    "n_jobs=2 threading, 1 BLAS thread": (2, "threading", 1, False),
}


def run_variant(tasks, tname, variant, X, y):
    n_jobs, backend, blas, oversubscribe = VARIANTS[variant]
    task = tasks[oversubscribe][tname]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with threadpool_limits(limits=blas, user_api="blas"):
            start = time.perf_counter()
            if backend is None:
                scores = task(n_jobs, X, y)
            else:
                with parallel_backend(backend, n_jobs=n_jobs):
                    scores = task(n_jobs, X, y)
            return time.perf_counter() - start, scores


def _spin():
    while True:
        pass


@contextmanager
def busy_core(busy):
    """Keep one core busy with a spinning process while the block runs."""
    if not busy:
        yield
        return
    spinner = multiprocessing.get_context("spawn").Process(target=_spin, daemon=True)
    spinner.start()
    time.sleep(0.5)
    try:
        yield
    finally:
        spinner.terminate()
        spinner.join()


def bench_single_fit(X, y, max_iter, repeats, busy):
    """Seconds of one default-architecture fit per BLAS thread limit."""
    limits = {"all BLAS threads": None, "1 BLAS thread": 1}
    times = {name: [] for name in limits}
    with busy_core(busy):
        for _ in range(repeats):
            for name, limit in limits.items():
                clf = CNNClassifier(max_iter=max_iter, random_state=0)
                with (
                    warnings.catch_warnings(),
                    threadpool_limits(limit, user_api="blas"),
                ):
                    warnings.simplefilter("ignore")
                    start = time.perf_counter()
                    clf.fit(X, y)
                    times[name].append(time.perf_counter() - start)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-iter", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-filters", type=int, default=4)
    parser.add_argument("--hidden-units", type=int, default=32)
    parser.add_argument(
        "--skip-single-fit", action="store_true", help="skip the single-fit timing"
    )
    args = parser.parse_args()
    X, y = load_digits(return_X_y=True)
    X = X / 16
    print(f"cpu_count={os.cpu_count()}, load average {os.getloadavg()}")
    print("main process thread pools:", thread_pools())
    params = {
        "n_filters": args.n_filters,
        "hidden_units": args.hidden_units,
        "max_iter": args.max_iter,
        "random_state": 0,
    }
    tasks = {
        False: make_tasks(CNNClassifier(**params)),
        True: make_tasks(OversubscribedCNN(**params)),
    }
    times = {(t, v): [] for t in tasks[False] for v in VARIANTS}
    reference = {}
    for _ in range(args.repeats):
        for tname in tasks[False]:
            for variant in VARIANTS:
                seconds, scores = run_variant(tasks, tname, variant, X, y)
                times[tname, variant].append(seconds)
                ref = reference.setdefault(tname, scores)
                if not np.array_equal(ref, scores):
                    print(f"MISMATCH {tname} {variant}: {scores} != {ref}")
    workers = Parallel(n_jobs=2)(delayed(fit_and_report)(X, y) for _ in range(4))
    print("loky worker thread pools:", sorted(set(map(repr, workers))))
    print(
        f"\nwall time of {args.repeats} runs (s), CNNClassifier(n_filters="
        f"{args.n_filters}, hidden_units={args.hidden_units}, max_iter="
        f"{args.max_iter}) on digits"
    )
    for tname in tasks[False]:
        print(f"{tname}: mean test scores {np.round(reference[tname], 4)}")
        for variant in VARIANTS:
            runs = times[tname, variant]
            print(
                f"  {variant:34s} best {min(runs):6.2f}"
                f"  median {statistics.median(runs):6.2f}  first {runs[0]:6.2f}"
            )
    if not args.skip_single_fit:
        for busy in (False, True):
            print(
                f"\none fit of CNNClassifier(max_iter={args.max_iter}) (defaults), s"
                + (", another process spinning on one core" if busy else "")
            )
            runs_by_limit = bench_single_fit(X, y, args.max_iter, args.repeats, busy)
            for name, runs in runs_by_limit.items():
                print(
                    f"  {name:34s} best {min(runs):6.2f}"
                    f"  median {statistics.median(runs):6.2f}"
                )
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
