"""Learning-rate schedules with Adam on the digits: the same epochs, three
schedules.

``load_digits`` scaled to [0, 1], a stratified 75/25 split (``random_state=0``),
the default ``CNNClassifier`` trained for exactly ``--epochs`` epochs
(``n_iter_no_change=np.inf``) from ``learning_rate_init=--lr`` with
``learning_rate`` "constant", "plateau" (``plateau_patience=--patience``) and
"cosine", ``random_state`` 0 .. k-1.
Prints, per schedule, the median [min-max] over the seeds of the last
epoch's training loss, the held-out accuracy and the fit time.

Run ``python benchmarks/bench_schedules.py [--epochs 30] [--seeds 3] [--lr 3e-3]``.
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_xcnn import CNNClassifier

SCHEDULES = ("constant", "plateau", "cosine")


def _fit(schedule, seed, args, data):
    X_train, X_test, y_train, y_test = data
    clf = CNNClassifier(
        learning_rate=schedule,
        learning_rate_init=args.lr,
        plateau_patience=args.patience,
        max_iter=args.epochs,
        n_iter_no_change=np.inf,
        random_state=seed,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return clf.loss_curve_[-1], clf.score(X_test, y_test), seconds


def _summary(values, spec):
    med = statistics.median(values)
    return f"{med:{spec}} [{min(values):{spec}}-{max(values):{spec}}]"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--lr", type=float, default=3e-3, help="learning_rate_init")
    args = parser.parse_args()
    X, y = load_digits(return_X_y=True)
    data = train_test_split(X / 16, y, test_size=0.25, stratify=y, random_state=0)
    print(
        f"{args.epochs} epochs, learning_rate_init={args.lr}, seeds 0.."
        f"{args.seeds - 1}: median [min-max]"
    )
    print(f"{'schedule':10} {'training loss':>26} {'accuracy':>22} {'fit s':>18}")
    for schedule in SCHEDULES:
        runs = [_fit(schedule, seed, args, data) for seed in range(args.seeds)]
        loss, acc, secs = zip(*runs)
        print(
            f"{schedule:10} {_summary(loss, '.5f'):>26} {_summary(acc, '.4f'):>22}"
            f" {_summary(secs, '.1f'):>18}"
        )


if __name__ == "__main__":
    main()
