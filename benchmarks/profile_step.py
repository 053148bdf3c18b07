"""Profile one mini-batch step (loss and gradient, Adam update) of both nets.

Prints cProfile's top functions by own time for the digits reference net
(float64, batch 64) and the MNIST-shaped net (float32, batch 128), training
step and inference forward pass, with BLAS on one thread: the work of one
thread (the estimator runs large batches as two such halves in parallel, see
``sklearn_xcnn/_parallel.py``). Matrix products are counted in the calling
function's own time. Run ``python benchmarks/profile_step.py``.
"""

import argparse
import cProfile
import io
import pstats
import sys
import time
import warnings

import numpy as np
from _data import load_digits_scaled, make_mnist_like
from _harness import machine
from threadpoolctl import threadpool_limits

from sklearn_xcnn import CNNClassifier
from sklearn_xcnn._core._network import forward, loss_and_grad, pack
from sklearn_xcnn._optimizers import OPTIMIZERS


def _setup(X, y, filters, hidden, batch):
    clf = CNNClassifier(
        n_filters=filters,
        hidden_units=hidden,
        batch_size=batch,
        max_iter=1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X[: 4 * batch], y[: 4 * batch])
    spec, params = clf._network_spec(), clf._params()
    Xb = X[:batch].reshape(batch, *clf.image_shape_)
    Yb = np.eye(10, dtype=X.dtype)[y[:batch]]
    flat = pack(params)
    optimizer = OPTIMIZERS[clf.solver].from_estimator(clf, flat.size, flat.dtype)

    def train():
        _, grads = loss_and_grad(params, Xb, Yb, spec, 1e-4)
        optimizer.update_params(flat, pack(grads))

    def infer():
        forward(params, Xb, spec)

    return train, infer


def profile(name, func, calls, top):
    for _ in range(5):
        func()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    per_call = sorted(times)[calls // 2]
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        func()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    print(f"\n=== {name}: {per_call * 1e3:.2f} ms per call (median wall, unprofiled)")
    print("\n".join(lines[3:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    with threadpool_limits(1, user_api="blas"):
        run(args)


def run(args):
    print(machine())
    X, y = load_digits_scaled()
    train, infer = _setup(X, y, (8,), (64,), 64)
    profile("digits train step (float64, batch 64)", train, args.calls, args.top)
    X, y = make_mnist_like(2048)
    train, infer = _setup(X, y, (16, 32), (128,), 128)
    profile("MNIST train step (float32, batch 128)", train, args.calls, args.top)
    profile("MNIST inference forward (float32, 128 rows)", infer, args.calls, args.top)


if __name__ == "__main__":
    sys.exit(main())
