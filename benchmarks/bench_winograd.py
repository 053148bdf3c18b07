"""Wider Winograd transforms against the pairs of taps, for one series
convolution (a trial, not shipped: ``benchmarks/README.md``, "Tried and
left: Winograd's F(3, 3) and F(4, 4) in place of the pairs").

``sklearn_xcnn/_core/_pairs.py`` correlates a series with a kernel by pairs
of taps, Winograd's F(2, 2): 3/4 of the direct multiply-adds. Minimal
filtering F(m, m) over groups of ``m`` taps needs ``(2m - 1) / m**2`` of
them (F(3, 3): 5/9, F(4, 4): 7/16), at the price of transforms: each group
of ``m`` output cells reads ``2m - 1`` input cells, mixed by ``B.T``; each
group of taps is mixed by ``G``; the ``2m - 1`` products are mixed back by
``A.T`` (Toom-Cook on the points given, the last one at infinity). Groups of
taps start ``m`` cells apart, so every group reads the same transformed
input, shifted by whole tiles, and its products add up before one inverse
transform. The transforms here run as matrix products (at memory speed).

For kernels of 8, 5 and 3 taps on 64 series of 256 cells, 128 channels in and
128 filters out (the ResNet preset's widest convolutions), it prints each
method's time (best of ``--repeats``, one thread) and its float32 error
against float64, relative to the output's largest magnitude. Run ``python
benchmarks/bench_winograd.py [--quick]``.
"""

import argparse
import time
from fractions import Fraction

import numpy as np
from _harness import machine, table
from scipy.linalg.blas import get_blas_funcs
from threadpoolctl import threadpool_limits

from sklearn_xcnn._core._gemm import gemm_add
from sklearn_xcnn._core._pairs import _pairs_in_groups

# the finite points of each transform (the last point is at infinity)
POINTS = {
    "F(3, 3)": (3, (0, 1, -1, 2)),
    "F(4, 4)": (4, (0, 1, -1, 2, -2, Fraction(1, 2))),
}


def _poly(roots):
    """Coefficients (lowest first) of the product of ``x - root``."""
    coef = [Fraction(1)]
    for root in roots:
        coef = [Fraction(0), *coef]
        for i in range(len(coef) - 1):
            coef[i] -= root * coef[i + 1]
    return coef


def toom_cook(m, r, points):
    """``(AT, G, BT)`` of F(m, r) on ``points`` (m + r - 2 finite ones, then
    infinity), exact, as float64 arrays: ``AT @ ((G @ w) * (BT @ d))`` is the
    correlation of ``d`` (m + r - 1 cells) with ``w`` (r taps)."""
    points = [Fraction(p) for p in points]
    n = m + r - 1
    if len(points) != n - 1:
        raise ValueError(f"F({m}, {r}) needs {n - 1} finite points")
    AT = [[Fraction(0)] * n for _ in range(m)]
    G = [[Fraction(0)] * r for _ in range(n)]
    BT = [[Fraction(0)] * n for _ in range(n)]
    for k, p in enumerate(points):
        others = points[:k] + points[k + 1 :]
        norm = np.prod([p - q for q in others], dtype=object)
        for i in range(m):
            AT[i][k] = p**i
        for q in range(r):
            G[k][q] = p**q / norm
        BT[k][: n - 1] = _poly(others)
    AT[m - 1][n - 1] = G[n - 1][r - 1] = Fraction(1)
    BT[n - 1] = _poly(points)
    return tuple(np.array(M, dtype=float) for M in (AT, G, BT))


def winograd_correlate(x, taps, transforms, group_entries=2**19):
    """Valid correlation of series ``x`` (n, T, C) with ``taps`` (kc, C, F)
    by F(m, m) over groups of ``m`` taps (the kernel padded with zero taps),
    a cache-sized group of series at a time: ``(n, T - kc + 1, F)``."""
    AT, G, BT = (M.astype(x.dtype) for M in transforms)
    m, P = AT.shape
    n, T, C = x.shape
    kc, _, F = taps.shape
    groups = -(-kc // m)
    padded = np.zeros((groups * m, C, F), dtype=taps.dtype)
    padded[:kc] = taps
    U = np.einsum("pq,gqcf->gpcf", G, padded.reshape(groups, m, C, F))
    Wo = T - kc + 1
    Q = -(-Wo // m) + groups  # tiles laid out per series (the reach included)
    out = np.empty((n, Wo, F), dtype=x.dtype)
    gemm = get_blas_funcs("gemm", (x,))
    step = max(1, group_entries // (Q * m * max(C, F)))
    full = Wo // m
    for s in range(0, n, step):
        xs = x[s : s + step]
        g = len(xs)
        rows = g * Q
        tiles = np.zeros((rows + groups, m, C), dtype=x.dtype)
        cells = min(T, Q * m)
        tiles[:rows].reshape(g, Q * m, C)[:, :cells] = xs[:, :cells]
        D = np.empty((P, rows + groups - 1, C), dtype=x.dtype)
        for j in range(P):  # cell j of each tile's window of 2m - 1
            D[j] = tiles[j // m : j // m + rows + groups - 1, j % m]
        V = (BT @ D.reshape(P, -1)).reshape(D.shape)
        M = np.empty((P, rows, F), dtype=x.dtype)
        for k in range(P):
            for t in range(groups):
                gemm_add(gemm, V[k, t : t + rows], U[t, k], M[k], float(t > 0))
        Y = (AT @ M.reshape(P, -1)).reshape(m, g, Q, F)
        o = out[s : s + step]
        o[:, : full * m].reshape(g, full, m, F)[...] = Y[:, :, :full].transpose(
            1, 2, 0, 3
        )
        for a in range(Wo - full * m):
            o[:, full * m + a] = Y[a, :, full]
    return out


def _best(func, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def _kernel_rows(kc, n, length, C, F, repeats, rng):
    """The table's rows for a kernel of ``kc`` taps: each method's time and
    float32 error."""
    x = rng.standard_normal((n, length + kc - 1, C)).astype(np.float32)
    taps = (rng.standard_normal((kc, C, F)) / np.sqrt(C * kc)).astype(np.float32)
    x64, taps64 = x.astype(np.float64), taps.astype(np.float64)
    exact = sum(x64[:, q : q + length] @ taps64[q] for q in range(kc))
    scale = np.abs(exact).max()
    out = np.empty((n, 1, length, F), dtype=np.float32)
    methods = {"pairs": lambda: _pairs_in_groups(x[:, None], taps, out)[:, 0]}
    for name, (m, points) in POINTS.items():
        transforms = toom_cook(m, m, points)
        methods[name] = lambda t=transforms: winograd_correlate(x, taps, t)
    rows = []
    with threadpool_limits(1):
        for name, func in methods.items():
            error = np.abs(func() - exact).max() / scale
            seconds = _best(func, repeats)
            rows.append((kc, name, f"{seconds * 1e3:.1f} ms", f"{error:.1e}"))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smoke run (seconds)")
    args = parser.parse_args()
    print(machine())
    n, length, C, F = (4, 32, 16, 16) if args.quick else (64, 256, 128, 128)
    print(f"{n} series of {length} cells, {C} channels, {F} filters, float32")
    rng = np.random.default_rng(0)
    rows = []
    for kc in (8, 5, 3):
        rows += _kernel_rows(kc, n, length, C, F, args.repeats, rng)
    table(rows, ("taps", "method", "time", "float32 error"))


if __name__ == "__main__":
    main()
