"""Goal 3: memory of ``predict_proba`` and ``fit``, measured in fresh processes.

* ``predict_proba`` on 100 000 MNIST-shaped 28x28 images: peak resident memory
  (RSS) above what the process held just before the call, which already
  includes the input array. Goal: under 1 GiB.
* ``fit`` (one epoch, MNIST-shaped net, float32) for growing ``n_samples``:
  the peak above the data must not grow with ``n_samples``.

The peak is the larger of a 1 ms RSS sampler (psutil) and the kernel's
``ru_maxrss`` when it rose during the call. Run
``python benchmarks/bench_memory.py``.
"""

import argparse
import gc
import resource
import sys
import threading
import time
import warnings
from pathlib import Path

from _harness import emit, run_worker, table

SCRIPT = Path(__file__).resolve()
MIB = 2**20


class PeakRSS:
    """Context manager: ``extra`` = peak RSS during the block minus RSS before."""

    def __enter__(self):
        import psutil

        gc.collect()
        self._proc = psutil.Process()
        self.before = self._proc.memory_info().rss
        self._maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(0.001)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        if maxrss > self._maxrss_before:  # the lifetime peak was set in the block
            self.peak = max(self.peak, maxrss)
        self.extra = self.peak - self.before


def _model(max_iter=1, early_stopping=False):
    from sklearn_xcnn import CNNClassifier

    return CNNClassifier(
        n_filters=(16, 32),
        hidden_units=128,
        batch_size=128,
        max_iter=max_iter,
        early_stopping=early_stopping,
        random_state=0,
    )


def worker_predict(n_samples, dtype):
    from _data import make_mnist_like

    X_small, y_small = make_mnist_like(2000, dtype=dtype, seed=1)
    clf = _model().fit(X_small, y_small)
    clf.predict_proba(X_small[:256])
    X, _ = make_mnist_like(n_samples, dtype=dtype)
    with PeakRSS() as m:
        proba = clf.predict_proba(X)
    return {
        "input_mib": X.nbytes / MIB,
        "extra_mib": m.extra / MIB,
        "before_mib": m.before / MIB,
        "proba_dtype": str(proba.dtype),
    }


def worker_fit(n_samples, dtype, early_stopping=False):
    from _data import make_mnist_like

    X, y = make_mnist_like(n_samples, dtype=dtype)
    _model(1, early_stopping).fit(X[:256], y[:256])  # load code paths first
    with PeakRSS() as m:
        _model(1, early_stopping).fit(X, y)
    return {"input_mib": X.nbytes / MIB, "extra_mib": m.extra / MIB}


def worker_fit_early_stopping(n_samples, dtype):
    return worker_fit(n_samples, dtype, early_stopping=True)


WORKERS = {
    "predict": worker_predict,
    "fit": worker_fit,
    "fit-es": worker_fit_early_stopping,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-predict", type=int, default=100_000)
    parser.add_argument("--fit-sizes", default="2000,10000,50000")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("worker_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        warnings.simplefilter("ignore")
        n, dtype = args.worker_args
        emit(WORKERS[args.worker](int(n), dtype))
        return
    rows = []
    sizes = [int(n) for n in args.fit_sizes.split(",")]
    for dtype in ("float32", "float64"):
        runs = [
            run_worker(SCRIPT, "predict", args.n_predict, dtype)
            for _ in range(args.repeats)
        ]
        extra = max(r["extra_mib"] for r in runs)
        rows.append(
            [
                f"predict_proba {args.n_predict} x 28x28 {dtype}",
                f"{runs[0]['input_mib']:.0f}",
                f"{extra:.1f}",
                "yes" if extra < 1024 else "NO",
                f"output {runs[0]['proba_dtype']}",
            ]
        )
    for n, worker in [(n, w) for w in ("fit", "fit-es") for n in sizes]:
        runs = [run_worker(SCRIPT, worker, n, "float32") for _ in range(args.repeats)]
        extra = max(r["extra_mib"] for r in runs)
        what = "early_stopping" if worker == "fit-es" else "fit"
        rows.append(
            [
                f"{what} 1 epoch, n={n} float32",
                f"{runs[0]['input_mib']:.0f}",
                f"{extra:.1f}",
                "",
                "",
            ]
        )
    print("Goal 3: peak RSS above the memory held before the call (max of runs)")
    table(rows, ["call", "input MiB", "peak extra MiB", "< 1 GiB", "note"])


if __name__ == "__main__":
    sys.exit(main())
