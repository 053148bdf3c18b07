"""Series of unequal length: batching by length against padding to the longest.

Generated tasks (``--task``), univariate series of random lengths:
``bump``: noise (sd 0.3) holding one bump of 6 steps, up (class 1) or down
(class 0), at a random place anywhere in it; ``energy``: white noise of sd
0.7 (class 0) or 1.0 (class 1), a task where the zeros of padding dilute what
is measured (the series' energy) by the share of padding. ``--lengths``
distinct lengths are drawn from ``--shortest`` .. ``--longest``
(``--lengths 0``: every length in the range, one draw per series). Two
systems, each an ``FCNClassifier`` with ``n_filters=--filters`` (kernels
8/5/3, batch norm, global mean pooling), Adam at ``1e-2``, batches of 16,
exactly ``--epochs`` epochs:

* **by length**: fitted on the list of series as they are (batches of one
  length each, see the time-series chapter of the user guide);
* **padded**: every series padded with zeros at its end to the longest and
  fitted as one 3-D array, the usual workaround.

Printed, median [min-max] over ``--seeds`` seeds (data and model seed
together, systems alternating in order): seconds per epoch, held-out
accuracy (each system on its own input: the list, or the padded array), the
ratio by-length / padded of seconds per epoch and the accuracy difference,
all measured in one run; and how much padding moves the predicted
probabilities: each model's mean |p(list) - p(padded)| on the held-out
series, and the share of predictions that change.

Run ``python benchmarks/bench_unequal.py [--task bump] [--train 200]
[--epochs 8] [--lengths 8]``.
"""

import argparse
import os
import time
import warnings

import numpy as np
from _harness import fmt, machine, table
from sklearn.exceptions import ConvergenceWarning

from sklearn_xcnn.series import FCNClassifier


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


def _fit(system, data, args, seed):
    X, y, X_test, y_test = data
    clf = FCNClassifier(
        n_filters=tuple(args.filters),
        learning_rate_init=1e-2,
        max_iter=args.epochs,
        n_iter_no_change=np.inf,
        random_state=seed,
    )
    given = X if system == "by length" else pad(X, args.longest)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(given, y)
    per_epoch = (time.perf_counter() - start) / clf.n_iter_
    padded_test = pad(X_test, args.longest)
    own = X_test if system == "by length" else padded_test
    # as a list: the longest training series may be shorter than --longest
    p_list, p_pad = clf.predict_proba(X_test), clf.predict_proba(list(padded_test))
    return dict(
        seconds=per_epoch,
        accuracy=clf.score(own, y_test),
        moved=float(np.abs(p_list - p_pad)[:, 1].mean()),
        flipped=float(np.mean(p_list.argmax(1) != p_pad.argmax(1))),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    systems = ["by length", "padded"]
    runs = {s: [] for s in systems}
    loads = [os.getloadavg()[0]]
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
    by, padded = runs["by length"], runs["padded"]
    ratio = [a["seconds"] / b["seconds"] for a, b in zip(by, padded)]
    gain = [a["accuracy"] - b["accuracy"] for a, b in zip(by, padded)]
    print(f"by length / padded, s/epoch: {fmt(ratio, 'x')}")
    print(f"by length - padded, accuracy: {fmt(gain)}")
    print(f"load average during the runs: {fmt(loads)}")


if __name__ == "__main__":
    main()
