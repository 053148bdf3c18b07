"""Series of unequal length: mixed-length masked batches, batching by length,
and padding to the longest.

Three systems, each an ``FCNClassifier`` fitted for exactly ``--epochs``
epochs, measured in one run:

* **mixed**: fitted on the list of series as they are; the batches mix
  lengths, each padded at its end to its longest with the mask of valid
  steps that the network honours (the default, see the time-series chapter
  of the user guide);
* **by length**: the same list, batches of one length each (the former
  default; ``SeriesMixin._mix_lengths = False``);
* **padded**: every series padded with zeros at its end to the longest and
  fitted as one 3-D array, the usual workaround (generated tasks only).

Generated tasks (``--task``), univariate series of random lengths:
``bump``: noise (sd 0.3) holding one bump of 6 steps, up (class 1) or down
(class 0), at a random place anywhere in it; ``energy``: white noise of sd
0.7 (class 0) or 1.0 (class 1), a task where the zeros of padding dilute what
is measured (the series' energy) by the share of padding. ``--lengths``
distinct lengths are drawn from ``--shortest`` .. ``--longest``
(``--lengths 0``: every length in the range, one draw per series). The FCN
has ``n_filters=--filters`` (kernels 8/5/3, batch norm, global mean
pooling), Adam at ``1e-2``, batches of 16.

``--aeon NAME`` instead fits the FCN preset (published architecture and
training regime, ``max_iter=--epochs``) on a ragged UCR/UEA set that aeon's
wheel ships (``PickupGestureWiimoteZ``: 50 training series in 44 lengths,
29 to 361 steps; ``JapaneseVowels``), mixed against by length, beside the
published FCN accuracy (dl-4-tsc); needs aeon on the path (see
``bench_series.py``).

Printed, median [min-max] over ``--seeds`` seeds (data and model seed
together, systems alternating in order): seconds per epoch, held-out
accuracy, the ratios of seconds per epoch and the accuracy differences;
the padding waste of mixed batches (padded steps over valid steps, for the
epoch permutations of ``--seeds`` seeds; no sorting by length); for the
generated tasks, how much padding moves the predicted probabilities (each
model's mean |p(list) - p(padded)| on the held-out series, and the share of
predictions that change); the load average.

Run ``python benchmarks/bench_unequal.py [--task bump] [--train 200]
[--epochs 8] [--lengths 8]`` or ``PYTHONPATH=$PWD:/work/pkgs-aeon python
benchmarks/bench_unequal.py --aeon PickupGestureWiimoteZ --epochs 100``.
"""

import argparse
import os
import time
import warnings

import numpy as np
from _harness import fmt, machine, table
from sklearn.exceptions import ConvergenceWarning

from sklearn_xcnn._ragged import Ragged
from sklearn_xcnn.series import FCNClassifier
from sklearn_xcnn.series._base import SeriesMixin

# published FCN accuracy (dl-4-tsc, as in bench_series.py)
PUBLISHED_FCN = {"PickupGestureWiimoteZ": 0.744, "JapaneseVowels": 0.993}


def make_series(task, n, lengths, longest, random_state):
    """``n`` series of ``task`` and their labels; ``lengths`` to draw from,
    or None for any length up to ``longest``."""
    rng = np.random.RandomState(random_state)
    y = rng.randint(2, size=n)
    X = []
    bump = np.r_[0.5, 1, 1, 1, 1, 0.5]
    for label in y:
        T = rng.choice(lengths) if lengths is not None else rng.randint(8, longest + 1)
        if task == "energy":
            X.append((1.0 if label else 0.7) * rng.standard_normal((1, T)))
            continue
        x = 0.3 * rng.standard_normal((1, T))
        start = rng.randint(0, T - len(bump) + 1)
        x[0, start : start + len(bump)] += (1.5 if label else -1.5) * bump
        X.append(x)
    return X, y


def pad(X, longest):
    """The list ``X`` padded with zeros at the end to ``longest`` steps."""
    return np.stack([np.pad(x, ((0, 0), (0, longest - x.shape[1]))) for x in X])


def padding_waste(X, batch_size, seeds):
    """Padded steps over valid steps of the mixed batches of one epoch per
    seed (the epoch's permutation drawn as a fit draws it)."""
    ragged = Ragged([x[None] for x in X]).mixing()
    valid = sum(x.shape[-1] for x in X)
    wastes = []
    for seed in seeds:
        order = np.random.RandomState(seed).permutation(len(X))
        padded = 0
        for rows in ragged.batches(order, min(batch_size, len(X))):
            longest = max(X[i].shape[-1] for i in rows)
            padded += sum(longest - X[i].shape[-1] for i in rows)
        wastes.append(padded / valid)
    return wastes


def _timed_fit(clf, system, X, y):
    SeriesMixin._mix_lengths = system != "by length"
    try:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        return (time.perf_counter() - start) / clf.n_iter_
    finally:
        SeriesMixin._mix_lengths = True


def _fit(system, data, args, seed):
    X, y, X_test, y_test = data
    clf = FCNClassifier(
        n_filters=tuple(args.filters),
        learning_rate_init=1e-2,
        max_iter=args.epochs,
        n_iter_no_change=np.inf,
        random_state=seed,
    )
    listed = system != "padded"
    per_epoch = _timed_fit(clf, system, X if listed else pad(X, args.longest), y)
    padded_test = pad(X_test, args.longest)
    own = X_test if listed else padded_test
    # as a list: the longest training series may be shorter than --longest
    p_list, p_pad = clf.predict_proba(X_test), clf.predict_proba(list(padded_test))
    return dict(
        seconds=per_epoch,
        accuracy=clf.score(own, y_test),
        moved=float(np.abs(p_list - p_pad)[:, 1].mean()),
        flipped=float(np.mean(p_list.argmax(1) != p_pad.argmax(1))),
    )


def _fit_aeon(system, data, args, seed):
    X, y, X_test, y_test = data
    clf = FCNClassifier(max_iter=args.epochs, random_state=seed)
    per_epoch = _timed_fit(clf, system, X, y)
    return dict(seconds=per_epoch, accuracy=clf.score(X_test, y_test))


def main_aeon(args):
    """Mixed against by length on a shipped ragged set."""
    from bench_series import load_set

    X, y, X_test, y_test = load_set(args.aeon)
    found = sorted({x.shape[-1] for x in X})
    systems = ["mixed", "by length"]
    runs = {s: [] for s in systems}
    loads = [os.getloadavg()[0]]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for seed in seeds:
        for system in systems if seed % 2 == 0 else systems[::-1]:
            run = _fit_aeon(system, (X, y, X_test, y_test), args, seed)
            runs[system].append(run)
            loads.append(os.getloadavg()[0])
            print(
                f"  seed {seed}, {system}: accuracy {run['accuracy']:.3f}, "
                f"{run['seconds']:.2f} s/epoch, load {loads[-1]:.1f}",
                flush=True,
            )
    print(
        f"{args.aeon}: {len(X)} training series in {len(found)} lengths "
        f"({found[0]}..{found[-1]}), {len(X_test)} held out; FCN preset, "
        f"{args.epochs} epochs, seeds {seeds[0]}..{seeds[-1]}: median [min-max]"
    )
    rows = [
        [s, fmt([r["seconds"] for r in runs[s]], " s"),
         fmt([r["accuracy"] for r in runs[s]])]
        for s in systems
    ]  # fmt: skip
    rows.append(["published FCN", "", f"{PUBLISHED_FCN.get(args.aeon, 'n/a')}"])
    table(rows, ["system", "s/epoch", "accuracy"])
    mixed, by = runs["mixed"], runs["by length"]
    ratio = [a["seconds"] / b["seconds"] for a, b in zip(mixed, by)]
    gain = [a["accuracy"] - b["accuracy"] for a, b in zip(mixed, by)]
    print(f"mixed / by length, s/epoch: {fmt(ratio, 'x')}")
    print(f"mixed - by length, accuracy: {fmt(gain)}")
    waste = padding_waste(X, 16, range(max(args.seeds, 5)))
    print(f"padding waste of mixed batches (padded / valid steps): {fmt(waste)}")
    print(f"load average during the runs: {fmt(loads)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aeon", default=None, help="a shipped ragged set")
    parser.add_argument("--first-seed", type=int, default=0, help="with --aeon")
    parser.add_argument("--task", choices=["bump", "energy"], default="bump")
    parser.add_argument("--train", type=int, default=200)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--shortest", type=int, default=40)
    parser.add_argument("--longest", type=int, default=200)
    parser.add_argument("--lengths", type=int, default=8, help="0: any length")
    parser.add_argument("--filters", type=int, nargs="+", default=[16, 32, 16])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    if args.aeon:
        return main_aeon(args)
    systems = ["mixed", "by length", "padded"]
    runs = {s: [] for s in systems}
    loads, wastes = [os.getloadavg()[0]], []
    for seed in range(args.seeds):
        rng = np.random.RandomState(seed)
        lengths = None
        if args.lengths:
            span = np.arange(args.shortest, args.longest + 1)
            lengths = np.sort(rng.choice(span, args.lengths - 1, replace=False))
            lengths = np.r_[lengths, args.longest]
        X, y = make_series(args.task, args.train, lengths, args.longest, seed)
        X_test, y_test = make_series(
            args.task, args.test, lengths, args.longest, 1000 + seed
        )
        data = (X, y, X_test, y_test)
        order = systems if seed % 2 == 0 else systems[::-1]
        wastes.append(padding_waste(X, 16, [seed])[0])
        for system in order:
            runs[system].append(_fit(system, data, args, seed))
            loads.append(os.getloadavg()[0])
    what = (
        f"{args.lengths} lengths in {args.shortest}..{args.longest}"
        if args.lengths
        else f"any length in 8..{args.longest}"
    )
    print(
        f"task {args.task}: {args.train} training and {args.test} held-out "
        f"series, {what}; "
        f"FCN {tuple(args.filters)}, {args.epochs} epochs, seeds 0..{args.seeds - 1}"
        ": median [min-max]"
    )
    rows = []
    for system in systems:
        r = runs[system]
        rows.append(
            [
                system,
                fmt([x["seconds"] for x in r], " s"),
                fmt([x["accuracy"] for x in r]),
                fmt([x["moved"] for x in r]),
                fmt([x["flipped"] for x in r]),
            ]
        )
    table(rows, ["system", "s/epoch", "accuracy", "|dp| padded", "flipped"])
    for name in ("by length", "padded"):
        mixed, other = runs["mixed"], runs[name]
        ratio = [a["seconds"] / b["seconds"] for a, b in zip(mixed, other)]
        gain = [a["accuracy"] - b["accuracy"] for a, b in zip(mixed, other)]
        print(f"mixed / {name}, s/epoch: {fmt(ratio, 'x')}")
        print(f"mixed - {name}, accuracy: {fmt(gain)}")
    print(f"padding waste of mixed batches (padded / valid steps): {fmt(wastes)}")
    print(f"load average during the runs: {fmt(loads)}")


if __name__ == "__main__":
    main()
