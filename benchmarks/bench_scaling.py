"""Goal 4: fit time per sample from 2 000 to 50 000 samples (within 20%).

One epoch of the MNIST-shaped network (16 and 32 filters 3x3, max pooling 2,
128 hidden units, batch 128, float32) is timed through ``fit(max_iter=1)`` in
fresh processes, the sizes in a rotating order, ``--repeats`` times. Small
sizes repeat the fit inside the process so that each timing covers at least
10 000 samples. Run ``python benchmarks/bench_scaling.py``.
"""

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

from _harness import emit, fmt, interleave, machine, table

SCRIPT = Path(__file__).resolve()


def worker(n_samples):
    from _data import make_mnist_like

    from sklearn_xcnn import CNNClassifier

    X, y = make_mnist_like(n_samples)

    def model():
        return CNNClassifier(
            n_filters=(16, 32),
            hidden_units=128,
            batch_size=128,
            max_iter=1,
            random_state=0,
        )

    model().fit(X[:512], y[:512])  # warm-up
    reps = max(1, -(-10_000 // n_samples))
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        model().fit(X, y)
        times.append((time.perf_counter() - start) / n_samples)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,5000,20000,50000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("worker_arg", nargs="?", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        warnings.simplefilter("ignore")
        emit(worker(int(args.worker)))
        return
    print(machine())
    sizes = [int(s) for s in args.sizes.split(",")]
    names = [str(n) for n in sizes]
    res, loads = interleave(SCRIPT, names, args.repeats)
    base = statistics.median(res[names[0]])
    rows = []
    for name in names:
        rel = [t / base for t in res[name]]
        rows.append([name, fmt(res[name], " us", 1e6), fmt(rel, "x", digits=2)])
    print("\nGoal 4: fit time per sample, one epoch (goal: within 20% across sizes)")
    table(rows, ["n_samples", "time/sample median [min-max]", f"vs n={names[0]}"])
    meds = [statistics.median(res[n]) for n in names]
    print(f"max/min of the medians: {max(meds) / min(meds):.2f} (goal <= 1.20)")
    print(f"load average during the runs: {min(loads):.2f}-{max(loads):.2f}")


if __name__ == "__main__":
    sys.exit(main())
