"""Shared helpers: interleaved runs in fresh processes, summaries, tables.

Each measurement runs in its own Python process (``script --worker NAME``)
that prints one JSON line; the parent runs the systems in a rotating order,
``repeats`` times, so that a load burst on the shared machine hits every
system alike. Figures are reported as median with min-max over the runs.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))


# 0.2's plain network and regime, which the PyTorch twins of
# bench_training.py and bench_quality.py's reference networks build: since
# issue 21 the estimator's defaults are 'same' padding, batch norm, dropout
# 0.3 and a cosine schedule, so the benchmarks pin these
PLAIN = dict(padding="valid", batch_norm=False, dropout=0.0, learning_rate="constant")


def torch_or_none(threads=2):
    """The ``torch`` module set to ``threads`` threads, or None when not
    importable."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def torch_note():
    """A line saying why PyTorch figures are missing, or ``""``."""
    try:
        import importlib.util

        found = importlib.util.find_spec("torch") is not None
    except ValueError:
        found = False
    if found:
        return ""
    return (
        "note: PyTorch is not importable, its columns are skipped "
        "(pip install torch==2.13.0 for the CPU build)."
    )


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_threads(threads):
    """Make the worker processes started from now on use ``threads`` BLAS and
    OpenMP threads (ours splits its batches into as many parts)."""
    os.environ.update({name: str(threads) for name in THREAD_VARIABLES})


def run_worker(script, name, *args, timeout=1800):
    """Run ``script --worker name args`` in a fresh process; its JSON result."""
    cmd = [sys.executable, str(script), "--worker", name, *map(str, args)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker {name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def interleave(script, names, repeats, *args):
    """Run every worker ``repeats`` times, rotating the order each round.

    Returns ``{name: [result, ...]}`` and the load averages seen.
    """
    results = {name: [] for name in names}
    loads = [os.getloadavg()[0]]
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            results[name].append(run_worker(script, name, *args))
            loads.append(os.getloadavg()[0])
        print(f"  round {r + 1}/{repeats} done", file=sys.stderr)
    return results, loads


def summary(values):
    """``(median, min, max)`` of a list of numbers."""
    return statistics.median(values), min(values), max(values)


def fmt(values, unit="", scale=1.0, digits=3):
    """``median [min-max] unit`` of a list of numbers."""
    med, lo, hi = (v * scale for v in summary(values))
    return f"{med:.{digits}g} [{lo:.{digits}g}-{hi:.{digits}g}]{unit}"


def table(rows, header):
    """Print rows of strings as an aligned text table."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def cpu_name(path="/proc/cpuinfo"):
    """The processor's model name as Linux gives it (its vendor where no
    model is named, by ``sklearn_xcnn._core._gemm.cpu_vendor``), else
    ``platform.processor()`` or the architecture.

    ``platform.processor()`` is empty on Linux, so figures measured on
    different machines (an AMD EPYC, an Intel Xeon) would otherwise all
    say ``x86_64``; the products' rules depend on the vendor.
    """
    from sklearn_xcnn._core._gemm import cpu_vendor

    try:
        with open(path, encoding="ascii", errors="replace") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return cpu_vendor(path) or platform.processor() or platform.machine()


def machine():
    """One line describing the machine, BLAS threads and load."""
    import numpy as np

    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(
            f"{i['internal_api']} {i['num_threads']} threads" for i in threadpool_info()
        )
    except ImportError:
        blas = "threadpoolctl not installed"
    return (
        f"{os.cpu_count()} cores ({cpu_name()}, {platform.machine()}), "
        f"Python {platform.python_version()}, "
        f"NumPy {np.__version__} [{blas}], load average "
        f"{os.getloadavg()[0]:.2f}, {time.strftime('%Y-%m-%d %H:%M')}"
    )


def emit(result):
    """Print a worker's result as the JSON line the parent reads."""
    print(json.dumps(result))
