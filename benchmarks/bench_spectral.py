"""An inception module's three parallel convolutions: through one spectrum
of their input (``sklearn_xcnn/_core/_spectral.py``) against each on the
engine ``algorithm="auto"`` gives it (the FFT engine for 24 taps or more,
pairs of taps below), issue 22.

Both paths are the library's own (``_core._layers.units_forward`` and
``units_backward``, the second with the spectral path switched off), on
the same batch: the forward pass and both gradients (training) and the
forward pass alone with batch norm folded (prediction), for the
InceptionTime preset's kernels (40, 20, 10) on a bottleneck of 32 or 64
channels, batch 16, series of 256 and 1 460 points, float32, one thread.
It prints the median time of ``--repeats`` alternating rounds, the ratio,
and the largest difference between the two paths' outputs relative to
their scale. Run ``python benchmarks/bench_spectral.py [--quick]``.
"""

import argparse
import time

import numpy as np
from _harness import machine, table
from threadpoolctl import threadpool_limits

import sklearn_xcnn._core._layers as layers
from sklearn_xcnn._core._kinds import Context
from sklearn_xcnn._core._units import conv_unit

CASES = [  # (series, length, channels)
    (16, 256, 32),
    (16, 1460, 32),
    (16, 256, 64),
]
KERNELS = (40, 20, 10)


def _module(n, T, C, dtype, seed=0):
    """Three 'same' units on ``(n, 1, T, C)`` maps with batch norm, their
    parameters, the maps and an output gradient."""
    rng = np.random.default_rng(seed)
    shape = (1, T, C)
    units = [conv_unit(shape, C, (1, k), "same", ("auto", True)) for k in KERNELS]
    params = []
    for k in KERNELS:
        w = (rng.standard_normal((C, C, 1, k)) / np.sqrt(C * k)).astype(dtype)
        b, scale = np.zeros(C, dtype), np.ones(C, dtype)
        stats = (np.zeros(C, dtype), np.ones(C, dtype))
        params.append((w, b, scale, stats))
    x = rng.standard_normal((n, *shape)).astype(dtype)
    grads = [rng.standard_normal((n, 1, T, C)).astype(dtype) for _ in KERNELS]
    return units, params, x, grads


def _context(train):
    return Context(keep_cache=train, stats=None, batch_stats=None, weights=None,
                   combine=None)  # fmt: skip


def _step(units, params, x, grads, train):
    if not train:
        return layers.units_forward(x, params, units, _context(False))[0]
    training = [(w, b, scale, None) for w, b, scale, _ in params]
    outs, cache = layers.units_forward(x, training, units, _context(True))
    layers.units_backward(grads, cache, True)
    return outs


def _timed(spectral, *step):
    """CPU seconds and outputs of ``_step(*step)`` with the spectral path on
    or off."""
    real = layers.use_spectral
    if not spectral:
        layers.use_spectral = lambda *args: False
    try:
        start = time.process_time()
        out = _step(*step)
        return time.process_time() - start, out
    finally:
        layers.use_spectral = real


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="one small case, 2 rounds")
    args = parser.parse_args(argv)
    cases, repeats = (CASES, args.repeats) if not args.quick else ([(4, 64, 8)], 2)
    print(machine())
    rows = []
    with threadpool_limits(1):
        for n, T, C in cases:
            units, params, x, grads = _module(n, T, C, np.float32)
            assert any(u.engine == "scipy" for u in units)
            for train in (True, False):
                times = {True: [], False: []}
                outs = {}
                for r in range(repeats):
                    for spectral in (r % 2 == 0, r % 2 == 1):
                        seconds, outs[spectral] = _timed(
                            spectral, units, params, x, grads, train
                        )
                        times[spectral].append(seconds)
                scale = max(np.abs(o).max() for o in outs[False])
                error = max(
                    np.abs(a - b).max() for a, b in zip(outs[True], outs[False])
                )
                each, one = np.median(times[False]), np.median(times[True])
                rows.append([
                    f"{n} x {T}, {C} ch", "train" if train else "predict",
                    f"{1e3 * each:.1f} ms", f"{1e3 * one:.1f} ms",
                    f"{each / one:.2f}x", f"{error / scale:.1e}",
                ])  # fmt: skip
    table(rows, ["maps", "pass", "each alone", "one spectrum", "faster",
                 "difference"])  # fmt: skip


if __name__ == "__main__":
    main()
