"""Issue 21: candidate starts against 0.2.0's (main's), in one run.

A start is the draw of the initial parameters (``sklearn_xcnn/_core/_init.py``)
and the dead-unit guard. The candidates are selected here, for the
benchmark only, by changing the private module constants of ``_init`` and
(for a calibrated output) wrapping the guard; no public parameter. Every
change of scale below is to the output layer of a classifier of plain blocks
that reads at least 64 units and is trained by Adam (every network here);
other networks keep a tenth of Glorot's bound. The candidates:

``main``
    0.2.0: the output layer at a tenth of Glorot's bound, every ReLU unit
    firing on fewer than half of the first 256 rows sign-flipped
    (``MIN_ACTIVE = 0.5``).
``half``
    last session's reverted start: the output at half of Glorot's bound.
``lr``
    the start ``_init.py`` now draws: the output at ``clip(LR_REF /
    learning_rate_init, 0.1, 0.5)`` of Glorot's bound (``LR_REF = 5e-4``:
    half at ``1e-3``, a sixth at the default ``3e-3``, a tenth from
    ``5e-3``): Adam moves each weight by about ``learning_rate_init`` per
    step whatever its gradient, so a small rate needs many steps to grow an
    output layer drawn small.
``lr1``
    the same rule with ``LR1_REF = 1e-3`` and a cap at Glorot's bound:
    all of it at ``1e-3``, half at ``2e-3``, a third at the default
    ``3e-3``, a tenth from ``1e-2``.
``calib``
    the output weights rescaled after the guard so that the logits of the
    first 256 rows have the standard deviation ``CALIB_STD``.
``noflip``
    a tenth, but only ReLU units firing on fewer than ``NOFLIP_ACTIVE`` of
    the first rows flipped (the issue: dropping the sign flips alone helped
    the 3-epoch fit on real MNIST).
``lr+noflip``
    both.

Parts (each prints a table; every model has ``random_state`` = the seed):

``small``
    the configuration "Where to start" recommends (``early_stopping=True,
    padding="same", dropout=0.2, learning_rate_init=0.01``) on 500 rows of
    8x8 digits, 500 rows of 28x28 digits and the 1347 rows of 8x8 digits
    (``docs/where_to_start_timings.py``'s data and split), test accuracy,
    mean [min-max] over the seeds.
``mnist3``
    ``bench_training.py``'s MNIST-shaped net (blocks of 16 and 32 filters,
    128 hidden units, Adam 1e-3, batch 128, alpha 1e-4), 3 epochs on 4 000
    synthetic 28x28 digit-like images, 1 000 held out, median [min-max];
    beside it the same network in PyTorch from PyTorch's own default
    initialisation (``torch.manual_seed(seed)`` before building it), trained
    as ``_torch_nets.TorchTwin`` trains.
``readme``
    the README task: ``load_digits``, ``MinMaxScaler``, 5-fold CV, the
    defaults and the README's ``clf``; mean over folds, then mean [min-max]
    over the seeds.
``mnist1d``
    MNIST-1D with issue 21's configuration, seed 0 (``--mnist1d-seeds``
    for more).

Run ``python benchmarks/bench_start.py`` (every part, every candidate, seeds
0-4; about an hour on 2 loaded cores), or e.g. ``--parts mnist3
--candidates main,lr --seeds 3``. Each line of raw results is also printed
as JSON (``RAW ...``) so that runs can be compared afterwards. Accuracies do
not depend on the machine's load; the script prints the load average anyway.
"""

import argparse
import contextlib
import json
import os
import statistics
import sys
import warnings
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "docs")]

CALIB_STD = 0.2
NOFLIP_ACTIVE = 0.02
LR1_REF = 1e-3
CANDIDATES = ("main", "half", "lr", "lr1", "calib", "noflip", "lr+noflip")
PARTS = ("small", "mnist3", "readme", "mnist1d")

WHERE_TO_START = dict(
    early_stopping=True, padding="same", dropout=0.2, learning_rate_init=0.01
)
README_CLF = dict(padding="same", dropout=0.2, learning_rate_init=0.01)
MNIST_NET = dict(
    image_shape=(28, 28),
    n_filters=(16, 32),
    hidden_units=(128,),
    batch_size=128,
    learning_rate_init=1e-3,
    alpha=1e-4,
    kernel_size=3,
    pool_size=2,
    pooling="max",
    padding="valid",
    max_iter=3,
    tol=0.0,
    n_iter_no_change=10**6,
)
MNIST1D = dict(
    image_shape=(1, 40),
    n_filters=(32, 32, 32),
    hidden_units=(128,),
    learning_rate_init=2e-3,
    batch_size=100,
    max_iter=80,
)


# ------------------------------------------------------------ the candidates
def _calibrated(revive):
    """The guard, then the output weights rescaled so that the first rows'
    logits have standard deviation ``CALIB_STD``."""
    from sklearn_xcnn._core._network import forward, n_weighted_params

    def wrapped(params, X, spec, sample_weight=None):
        revive(params, X, spec, sample_weight)
        if spec.out_activation == "identity":
            return params
        with np.errstate(all="ignore"):
            logits, _ = forward(params, X, spec)
        w = params[n_weighted_params(spec) - 2]
        std = (logits - params[n_weighted_params(spec) - 1]).std()
        if np.isfinite(std) and std > 0:
            w *= CALIB_STD / std
        return params

    return wrapped


_PATCHES = {  # candidate -> constants of _init to change
    "main": dict(MAX_OUTPUT_SCALE=0.1),
    "half": dict(LR_REF=np.inf),
    "lr": {},
    "lr1": dict(LR_REF=LR1_REF, MAX_OUTPUT_SCALE=1.0),
    "calib": dict(MAX_OUTPUT_SCALE=0.1),
    "noflip": dict(MAX_OUTPUT_SCALE=0.1, MIN_ACTIVE=NOFLIP_ACTIVE),
    "lr+noflip": dict(MIN_ACTIVE=NOFLIP_ACTIVE),
}


@contextlib.contextmanager
def use_start(candidate):
    """Fits inside this context start as ``candidate`` says."""
    from sklearn_xcnn import _base
    from sklearn_xcnn._core import _init

    patch = _PATCHES[candidate]
    saved = {name: getattr(_init, name) for name in patch}
    guard = _base.revive_dead_units
    for name, value in patch.items():
        setattr(_init, name, value)
    if candidate == "calib":
        _base.revive_dead_units = _calibrated(guard)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(_init, name, value)
        _base.revive_dead_units = guard


def start_key(candidate, params, X, y):
    """The start ``CNNClassifier(**params)`` draws for ``X, y`` as
    ``candidate`` (its bytes): two candidates with the same key fit the same
    (a fit is deterministic from its start and ``random_state``)."""
    from sklearn_xcnn import CNNClassifier

    with use_start(candidate), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = CNNClassifier(**params)
        images, y = est._validate_xy(X, y, True)
        Y = est._encode_targets(y, True, False, None).astype(images.dtype)
        weights = est._sample_weight(images, y, None, False, images.dtype)
        est._initialize(images, Y, images.dtype, weights)
        return b"".join(p.tobytes() for p in est._params())


_FITS = {}  # (start, parameters, data) -> accuracy


def fit_score(candidate, params, X, y, X_test, y_test, data=""):
    """Test accuracy of ``CNNClassifier(**params)`` started as ``candidate``
    says; a fit from a start already fitted (``start_key``) on the same
    ``data`` is not run again."""
    from sklearn_xcnn import CNNClassifier

    key = start_key(candidate, params, X, y), repr(sorted(params.items())), data
    if key not in _FITS:
        with use_start(candidate), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = CNNClassifier(**params).fit(X, y)
            _FITS[key] = model.score(X_test, y_test)
    return _FITS[key]


# ------------------------------------------------------------------- parts
def part_small(candidate, seed):
    from where_to_start_timings import digits

    out = {}
    for side, n in ((8, 500), (28, 500), (8, None)):
        X, X_test, y, y_test = digits(side)
        X, y = X[:n], y[:n]
        params = dict(WHERE_TO_START, random_state=seed)
        row = f"{side}x{side} {len(X)} rows"
        out[row] = fit_score(candidate, params, X, y, X_test, y_test, row)
    return out


def _mnist_data():
    from _data import make_mnist_like

    X, y = make_mnist_like(5000)
    return X[:4000], y[:4000], X[4000:], y[4000:]


def part_mnist3(candidate, seed):
    X, y, X_test, y_test = _mnist_data()
    params = dict(MNIST_NET, random_state=seed)
    if candidate == "pytorch":
        return {"3 epochs": pytorch_start(params, X, y, X_test, y_test)}
    return {"3 epochs": fit_score(candidate, params, X, y, X_test, y_test, "m3")}


def pytorch_start(params, X, y, X_test, y_test):
    """The twin of ``_torch_nets`` from PyTorch's own initialisation."""
    import _torch_nets
    import torch

    torch.set_num_threads(1)
    twin = _torch_nets.TorchTwin(params)
    build, load = _torch_nets.net_from_spec, _torch_nets.load_params

    def seeded_build(spec, dtype):
        torch.manual_seed(params["random_state"])
        return build(spec, dtype)

    _torch_nets.net_from_spec = seeded_build
    _torch_nets.load_params = lambda net, start: None  # keep PyTorch's start
    try:
        twin.fit(X, y)
    finally:
        _torch_nets.net_from_spec, _torch_nets.load_params = build, load
    return float(np.mean(twin.predict(X_test) == y_test))


def part_readme(candidate, seed):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import StratifiedKFold

    X, y = load_digits(return_X_y=True)
    out = {}
    for name, extra in (("defaults", {}), ("clf", README_CLF)):
        params = dict(extra, random_state=seed)
        scores = []
        for fold, (train, test) in enumerate(StratifiedKFold(5).split(X, y)):
            lo, hi = X[train].min(axis=0), X[train].max(axis=0)
            span = np.where(hi > lo, hi - lo, 1.0)  # MinMaxScaler's rule

            def scale(a, lo=lo, span=span):
                return (a - lo) / span

            scores.append(
                fit_score(
                    candidate, params, scale(X[train]), y[train], scale(X[test]),
                    y[test], f"readme {fold}",
                )
            )  # fmt: skip
        out[f"README {name}"] = float(np.mean(scores))
    return out


def part_mnist1d(candidate, seed):
    from _data import load_mnist1d

    X, y, X_test, y_test = load_mnist1d()
    params = dict(MNIST1D, random_state=seed)
    return {"MNIST-1D": fit_score(candidate, params, X, y, X_test, y_test, "1d")}


PART_FUNCS = {
    "small": part_small,
    "mnist3": part_mnist3,
    "readme": part_readme,
    "mnist1d": part_mnist1d,
}


# ------------------------------------------------------------------ report
def _summary(values, centre):
    mid = statistics.median(values) if centre == "median" else np.mean(values)
    if len(values) == 1:
        return f"{mid:.4f}"
    return f"{mid:.4f} [{min(values):.4f}-{max(values):.4f}]"


def report(raw, part, candidates):
    """One table per part: rows = the part's rows, columns = candidates."""
    centre = "median" if part == "mnist3" else "mean"
    rows = sorted({row for (p, _, _), res in raw.items() if p == part for row in res})
    print(f"\n{part} ({centre} [min-max] over seeds)")
    for row in rows:
        cells = []
        for cand in candidates:
            values = [
                res[row] for (p, c, _), res in raw.items() if (p, c) == (part, cand)
            ]
            if values:
                cells.append(f"{cand}: {_summary(values, centre)}")
        print(f"  {row:<22} " + " | ".join(cells))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--mnist1d-seeds", default="0", help="comma-separated random_state values"
    )
    args = parser.parse_args(argv)
    candidates = args.candidates.split(",")
    parts = args.parts.split(",")
    unknown = set(candidates) - set(CANDIDATES) | set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown candidates or parts: {sorted(unknown)}")
    raw = {}
    for part in parts:
        seeds = range(args.seeds)
        if part == "mnist1d":
            seeds = [int(seed) for seed in args.mnist1d_seeds.split(",")]
        columns = candidates + (["pytorch"] if part == "mnist3" else [])
        for seed in seeds:
            for cand in columns:
                res = PART_FUNCS[part](cand, seed)
                raw[part, cand, seed] = res
                record = dict(part=part, candidate=cand, seed=seed, result=res)
                load = os.getloadavg()[0]
                print(f"RAW {json.dumps(record)} load {load:.1f}", flush=True)
        report(raw, part, columns)


if __name__ == "__main__":
    main()
