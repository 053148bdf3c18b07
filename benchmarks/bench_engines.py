"""Crossover of the correlation engines: im2col against SciPy.

For square images of several sizes and square kernels of several sizes, times
one forward and one backward pass (input and filter gradients) of a
convolutional layer with each engine, and prints which is faster next to what
``choose_engine`` (``algorithm="auto"``) picks. Timings are the minimum over
``--repeats`` rounds (the engines alternate inside each round). Run
``python benchmarks/bench_engines.py``.
"""

import argparse
import sys
import time

import numpy as np
from _harness import machine, table

from sklearn_xcnn._core._conv import (
    choose_engine,
    correlate_backward,
    correlate_forward,
)


def step(x, w, engine):
    """Forward and backward through one layer."""
    out, cache = correlate_forward(x, w, (1, 1), engine)
    correlate_backward(out, cache, need_dx=True)


def seconds(x, w, engine, budget=0.2):
    """Mean time of ``step`` over enough calls to fill ``budget`` seconds."""
    start, calls = time.perf_counter(), 0
    while True:
        step(x, w, engine)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed > budget:
            return elapsed / calls


def measure(size, kernel, n, channels, filters, dtype, repeats):
    rng = np.random.default_rng(0)
    x = rng.random((n, size, size, channels), dtype=np.float64).astype(dtype)
    w = rng.standard_normal((filters, channels, kernel, kernel)).astype(dtype)
    best = {"im2col": np.inf, "scipy": np.inf}
    for _ in range(repeats):
        for engine in best:
            best[engine] = min(best[engine], seconds(x, w, engine))
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="8,16,28,64,128")
    parser.add_argument("--kernels", default="3,5,7,11,15,21")
    parser.add_argument("--layers", default="1x8,8x16", help="CxF of each layer")
    parser.add_argument("--n", type=int, default=16, help="images per batch")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(machine())
    rows, disagree = [], 0
    for layer in args.layers.split(","):
        channels, filters = map(int, layer.split("x"))
        for size in map(int, args.sizes.split(",")):
            for kernel in map(int, args.kernels.split(",")):
                if kernel > size:
                    continue
                t = measure(
                    size, kernel, args.n, channels, filters, args.dtype, args.repeats
                )
                winner = min(t, key=t.get)
                auto = choose_engine((size, size, channels), (kernel, kernel))
                ok = auto == winner or max(t.values()) < 1.1 * min(t.values())
                disagree += not ok
                rows.append(
                    [
                        layer,
                        f"{size}x{size}",
                        f"{kernel}x{kernel}",
                        f"{t['im2col'] * 1e3:.3g}",
                        f"{t['scipy'] * 1e3:.3g}",
                        f"{t['scipy'] / t['im2col']:.2f}",
                        winner,
                        auto + ("" if ok else "  <-- differs"),
                    ]
                )
                print(*rows[-1], file=sys.stderr)
    print(
        f"\nForward + backward of one layer, batch {args.n}, {args.dtype}, "
        "minimum over rounds (ms)"
    )
    header = ["CxF", "image", "kernel", "im2col", "scipy", "scipy/im2col", "faster"]
    table(rows, [*header, "auto picks"])
    print(f"auto differs from the faster engine (by >10%) in {disagree} cases")


if __name__ == "__main__":
    sys.exit(main())
