"""Issue 22: the series estimators on UCR/UEA sets shipped inside aeon's wheel.

For every set and every series classifier that ``sklearn_xcnn.series`` holds
(``FCNClassifier``, and ``ResNetClassifier`` and ``InceptionTimeClassifier``
once they exist), one run prints the test accuracy (median [min-max] over the
seeds), the fit time, the epochs run, the published accuracy of the same
architecture, the accuracy of aeon's ``MiniRocketClassifier`` fitted in the
same run on the same split, and our difference to the published figure.

The sets are the standard train/test splits of the UCR 2018 and UEA 2018
archives as aeon's wheel ships them (``aeon/datasets/data``): nothing is
downloaded. Univariate: ``GunPoint``, ``ItalyPowerDemand``, ``ArrowHead``,
``OSULeaf``, ``ACSF1``; multivariate: ``BasicMotions``; unequal length:
``JapaneseVowels`` (12 channels), ``PickupGestureWiimoteZ``. A set of unequal
lengths is given to our estimators as aeon's list of ``(n_channels,
n_timepoints_i)`` arrays; where they cannot fit such a list, the row says
so. With 'same' padding, the presets' default, the kernels stay whole and a
series shorter than them (JapaneseVowels has two of 7 points, the ResNet's
first kernel spans 8; InceptionTime's kernels span 40) fits as it is. With
``padding="valid"`` such series are padded with zeros at their end to the
length ``fit`` asks for (and all series to the longest where the kernels,
cut to shorter training series, cannot take the longer test series), as the
published runs brought every series to one length; the row names how many
were padded. MiniRocket takes equal lengths only (``-`` on those rows).

aeon is needed for the data and MiniRocket; it is no dependency of the
package (not even of an extra the tests need). Install it apart and run::

    pip install --target /work/pkgs-aeon aeon   # keep only aeon, deprecated
    PYTHONPATH=$PWD:/work/pkgs-aeon python benchmarks/bench_series.py

Options: ``--quick`` (a smoke run: three small sets, test sets cut to 60
cases, 2 epochs; seconds, not a measurement), ``--sets``, ``--estimators``,
``--seeds`` (``random_state`` 0 .. n-1; ``--first-seed`` starts them
elsewhere), ``--params`` (a JSON dict of
parameters given to every one of our estimators: how the training regime of
``sklearn_xcnn/series/_regime.py`` was chosen; ``'{"n_jobs": 2}'`` with
``--estimators InceptionTime`` fits two of its networks at a time, and the
fit time is then wall clock on two cores), ``--dtype`` (``float64`` as
aeon loads, or ``float32``), ``--no-minirocket``, ``--json`` (write the
results to a file).
"""

import argparse
import importlib.util
import json
import os
import re
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

AEON_MISSING = (
    "needs aeon (for the shipped UCR/UEA sets and MiniRocket; benchmarks only, "
    "no dependency): pip install --target /work/pkgs-aeon aeon, then run with "
    "PYTHONPATH=$PWD:/work/pkgs-aeon"
)


class SeriesSet(NamedTuple):
    """A shipped data set and the published accuracy of each architecture."""

    name: str
    kind: str  # "univariate", "multivariate" or "unequal"
    published: dict  # estimator key -> published test accuracy (or None)


# Published test accuracies (fraction), by our estimator keys:
# * FCN and ResNet: dl-4-tsc (H. Ismail Fawaz et al., "Deep learning for time
#   series classification: a review", DMKD 2019), the repository's
#   results/results-ucr-128.csv (UCR 2018 archive, mean of its 5 runs) for the
#   univariate sets and results/results-mts.csv (Baydogan's MTS archive, same
#   JapaneseVowels split, mean of 10 runs) for JapaneseVowels; dl-4-tsc has no
#   BasicMotions.
# * InceptionTime: H. Ismail Fawaz et al., "InceptionTime: finding AlexNet for
#   time series classification", DMKD 2020, the repository's
#   results-InceptionTime-128.csv (UCR 2018, the ensemble of 5 networks) and,
#   for the UEA sets, results-mts.csv as first published there (commit
#   0d623a3, MultivariateTSCProblems).
# The unequal-length UCR sets were run there on series brought to one length.
SETS = {
    s.name: s
    for s in (
        SeriesSet(
            "GunPoint",
            "univariate",
            {"FCN": 1.0, "ResNet": 0.9907, "InceptionTime": 1.0},
        ),
        SeriesSet(
            "ItalyPowerDemand",
            "univariate",
            {"FCN": 0.9629, "ResNet": 0.9615, "InceptionTime": 0.9650},
        ),
        SeriesSet(
            "ArrowHead",
            "univariate",
            {"FCN": 0.8434, "ResNet": 0.8377, "InceptionTime": 0.8457},
        ),
        SeriesSet(
            "OSULeaf",
            "univariate",
            {"FCN": 0.9785, "ResNet": 0.9802, "InceptionTime": 0.9421},
        ),
        SeriesSet(
            "ACSF1",
            "univariate",
            {"FCN": 0.8980, "ResNet": 0.9160, "InceptionTime": 0.9200},
        ),
        SeriesSet(
            "BasicMotions",
            "multivariate",
            {"FCN": None, "ResNet": None, "InceptionTime": 1.0},
        ),
        SeriesSet(
            "JapaneseVowels",
            "unequal",
            {"FCN": 0.9930, "ResNet": 0.9916, "InceptionTime": 0.9919},
        ),
        SeriesSet(
            "PickupGestureWiimoteZ",
            "unequal",
            {"FCN": 0.7440, "ResNet": 0.7040, "InceptionTime": 0.7600},
        ),
    )
}
QUICK_SETS = ("GunPoint", "BasicMotions", "JapaneseVowels")
QUICK_TEST_CASES = 60
QUICK_MAX_ITER = 2

# our estimator keys -> class names in sklearn_xcnn.series
ESTIMATORS = {
    "FCN": "FCNClassifier",
    "ResNet": "ResNetClassifier",
    "InceptionTime": "InceptionTimeClassifier",
}


# ------------------------------------------------------------------- data
def aeon_data_dir():
    """aeon's folder of shipped data sets, or None when aeon is missing."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def load_set(name, dtype=np.float64):
    """``(X_train, y_train, X_test, y_test)`` of a shipped set.

    ``X`` is a 3-D array ``(n_cases, n_channels, n_timepoints)``, or a list
    of ``(n_channels, n_timepoints_i)`` arrays for unequal lengths. Raises
    ``ModuleNotFoundError`` naming aeon when it is not installed.
    """
    folder = aeon_data_dir()
    if folder is None:
        raise ModuleNotFoundError(AEON_MISSING, name="aeon")
    from aeon.datasets import load_from_ts_file

    parts = []
    for split in ("TRAIN", "TEST"):
        X, y = load_from_ts_file(str(folder / name / f"{name}_{split}.ts"))
        if isinstance(X, np.ndarray):
            X = X.astype(dtype)
        else:
            X = [np.asarray(x, dtype=dtype) for x in X]
        parts += [X, np.asarray(y)]
    return tuple(parts)


def cut(X, y, n):
    """The first ``n`` cases of each class in turn, up to ``n`` in all
    (a stratified cut for ``--quick``)."""
    order = np.lexsort((np.arange(len(y)), _rank_in_class(y)))
    keep = np.sort(order[:n])
    X = X[keep] if isinstance(X, np.ndarray) else [X[i] for i in keep]
    return X, y[keep]


def _rank_in_class(y):
    """Each case's position among the cases of its class (0, 1, ...)."""
    rank = np.empty(len(y), dtype=int)
    for label in np.unique(y):
        where = np.flatnonzero(y == label)
        rank[where] = np.arange(len(where))
    return rank


def lengths(X):
    """``(shortest, longest)`` series of ``X``."""
    if isinstance(X, np.ndarray):
        return X.shape[-1], X.shape[-1]
    found = [x.shape[-1] for x in X]
    return min(found), max(found)


# ------------------------------------------------------------- estimators
def available_estimators():
    """Our keys whose class ``sklearn_xcnn.series`` holds, in table order."""
    import sklearn_xcnn.series as series

    return [key for key, name in ESTIMATORS.items() if hasattr(series, name)]


def make_estimator(key, seed, params):
    import sklearn_xcnn.series as series

    return getattr(series, ESTIMATORS[key])(random_state=seed, **params)


def fit_ours(key, seed, params, data):
    """Fit one of our estimators: a result dict, or ``{"refused": why}``
    where ``fit`` refuses a list of series of unequal length.

    A list holding series too short for the network's kernels (with
    'valid' padding ``fit`` refuses them and names the length they need; with
    'same' padding the kernels stay whole and nothing is refused) is fitted
    and scored again
    with those series, train and test, padded with zeros at their end to that
    length; if the network then refuses the longer test series (its kernels
    were cut to the training series, shorter than the kernels), every series
    is padded to the longest of train and test. The published runs brought
    every series to one length. The result says how many series were padded
    and to what length (``"padded"``)."""
    X_train, y_train, X_test, y_test = data
    try:
        return _fit_scored(make_estimator(key, seed, params), data)
    except ValueError as error:
        if isinstance(X_train, np.ndarray):
            raise
        needed = _needed_length(str(error))
        if needed is None:
            return {"refused": refusal(str(error))}
    try:
        return _fit_padded(key, seed, params, data, needed)
    except ValueError as error:
        if "does not fit" not in str(error):
            raise
    longest = max(lengths(X_train)[1], lengths(X_test)[1])
    return _fit_padded(key, seed, params, data, longest)


def _fit_padded(key, seed, params, data, length):
    X_train, y_train, X_test, y_test = data
    X_train, padded_train = pad_short(X_train, length)
    X_test, padded_test = pad_short(X_test, length)
    result = _fit_scored(
        make_estimator(key, seed, params), (X_train, y_train, X_test, y_test)
    )
    return {**result, "padded": (padded_train + padded_test, length)}


def _fit_scored(clf, data):
    from sklearn.exceptions import ConvergenceWarning

    X_train, y_train, X_test, y_test = data
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    return {
        "accuracy": float(clf.score(X_test, y_test)),
        "fit_time": fit_time,
        "epochs": _epochs(clf),
        "load": os.getloadavg()[0],
    }


def _needed_length(message):
    """The series length a "too short" refusal of ``fit`` asks for, or None
    for any other refusal."""
    found = re.search(r"too short .* need series of at least (\d+)", message)
    return int(found.group(1)) if found else None


def pad_short(X, length):
    """``(X', n)``: the list ``X`` with every series shorter than ``length``
    padded with zeros at its end to ``length``, and how many were."""
    out, n = [], 0
    for x in X:
        if x.shape[-1] < length:
            x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, length - x.shape[-1])])
            n += 1
        out.append(x)
    return out, n


def refusal(message):
    """The table's short words for ``fit``'s refusal ``message``."""
    if "unequal" in message:
        return "not supported yet"
    return "refused: " + message.split(". ")[0].split(", ")[0]


def _epochs(clf):
    """Epochs of a fitted network (the sum over an ensemble's members)."""
    n_iter = getattr(clf, "n_iter_", None)
    if n_iter is not None:
        return int(np.sum(n_iter))
    members = getattr(clf, "estimators_", None) or ()
    return int(sum(getattr(m, "n_iter_", 0) for m in members)) or None


def fit_minirocket(seed, data):
    """aeon's MiniRocketClassifier on an equal-length split; None otherwise."""
    X_train, y_train, X_test, y_test = data
    if not isinstance(X_train, np.ndarray):
        return None
    from aeon.classification.convolution_based import MiniRocketClassifier

    clf = MiniRocketClassifier(random_state=seed)
    start = time.perf_counter()
    clf.fit(X_train.astype(np.float64), y_train)
    fit_time = time.perf_counter() - start
    accuracy = float(np.mean(clf.predict(X_test.astype(np.float64)) == y_test))
    return {
        "accuracy": accuracy,
        "fit_time": fit_time,
        "epochs": None,
        "load": os.getloadavg()[0],
    }


# ------------------------------------------------------------------- run
def run(args):
    """Fit everything asked; ``{set: {system: [result per seed]}}``."""
    results = {}
    for name in args.sets:
        data = load_set(name, np.dtype(args.dtype).type)
        if args.quick:
            data = (*data[:2], *cut(data[2], data[3], QUICK_TEST_CASES))
        results[name] = {}
        for key in args.estimators:
            runs = [fit_ours(key, seed, args.params, data) for seed in args.seeds]
            results[name][key] = runs
            _progress(name, key, runs)
        if not args.no_minirocket:
            runs = [fit_minirocket(seed, data) for seed in args.seeds]
            results[name]["MiniRocket"] = runs
            _progress(name, "MiniRocket", runs)
    return results


def _progress(name, key, runs):
    done = [r for r in runs if r is not None and "accuracy" in r]
    text = ", ".join(
        f"{r['accuracy']:.4f} in {r['fit_time']:.1f} s"
        + (f" ({r['epochs']} epochs)" if r["epochs"] else "")
        + f", load {r['load']:.2f}"
        for r in done
    )
    print(f"  {name} {key}: {text or 'not run'}", file=sys.stderr, flush=True)


def spread(values, digits=4):
    """``median [min-max]`` of numbers; a single value alone."""
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} [{min(values):.{digits}f}-{max(values):.{digits}f}]"


def rows(results):
    """The table's rows: one per set and system."""
    out = []
    for name, systems in results.items():
        rocket = systems.get("MiniRocket")
        rocket_acc = _median(rocket, "accuracy")
        for key, runs in systems.items():
            out.append(_row(SETS[name], key, runs, rocket_acc))
    return out


def _median(runs, field):
    if not runs or runs[0] is None or field not in runs[0]:
        return None
    return statistics.median(r[field] for r in runs)


def _row(dataset, key, runs, rocket_acc):
    name = "MiniRocket (aeon)" if key == "MiniRocket" else key
    padded = runs[0].get("padded") if runs[0] else None
    if padded:
        name += f" ({padded[0]} series padded to {padded[1]})"
    head = [dataset.name, dataset.kind, name]
    published = dataset.published.get(key)
    if runs[0] is None or "refused" in runs[0]:
        reason = runs[0]["refused"] if runs[0] else "equal lengths only"
        return [*head, reason, "-", "-", _fmt(published), _fmt(rocket_acc), "-"]
    accuracy = [r["accuracy"] for r in runs]
    times = [r["fit_time"] for r in runs]
    epochs = [r["epochs"] for r in runs if r["epochs"] is not None]
    diff = "-"
    if published is not None:
        diff = f"{100 * (statistics.median(accuracy) - published):+.1f}"
    return [
        *head,
        spread(accuracy),
        spread(times, 1) + " s",
        spread(epochs, 0) if epochs else "-",
        _fmt(published),
        _fmt(rocket_acc) if key != "MiniRocket" else "-",
        diff,
    ]


def _fmt(value):
    return "-" if value is None else f"{value:.4f}"


HEADER = [
    "set",
    "kind",
    "estimator",
    "accuracy",
    "fit time",
    "epochs",
    "published",
    "MiniRocket",
    "ours-published (points)",
]


def print_table(table_rows):
    widths = [
        max(len(str(r[i])) for r in [HEADER, *table_rows]) for i in range(len(HEADER))
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(HEADER, widths))
    print(line)
    print("-" * len(line))
    for r in table_rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def print_means(results):
    """Mean accuracy of each estimator over the sets where both it and the
    published figure have one, beside that published mean."""
    for key in [k for k in ESTIMATORS if any(k in s for s in results.values())]:
        pairs = [
            (_median(systems[key], "accuracy"), SETS[name].published.get(key))
            for name, systems in results.items()
            if key in systems
        ]
        pairs = [
            (ours, pub) for ours, pub in pairs if ours is not None and pub is not None
        ]
        if pairs:
            ours = statistics.mean(p[0] for p in pairs)
            pub = statistics.mean(p[1] for p in pairs)
            print(
                f"{key}: mean accuracy {ours:.4f} over {len(pairs)} set(s), "
                f"published {pub:.4f}, difference {100 * (ours - pub):+.1f} points"
            )


# ------------------------------------------------------------------- main
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (seconds)")
    parser.add_argument("--sets", help="comma-separated names (default: all)")
    parser.add_argument(
        "--estimators", help="comma-separated: FCN,ResNet,InceptionTime"
    )
    parser.add_argument("--seeds", type=int, default=1, help="random_state 0..n-1")
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seeds start here (default 0)"
    )
    parser.add_argument("--params", default="{}", help="JSON parameters for ours")
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--no-minirocket", action="store_true")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    default_sets = QUICK_SETS if args.quick else tuple(SETS)
    args.sets = args.sets.split(",") if args.sets else list(default_sets)
    unknown = [s for s in args.sets if s not in SETS]
    if unknown:
        parser.error(f"unknown set(s) {unknown}; known: {', '.join(SETS)}")
    found = available_estimators()
    if args.estimators:
        args.estimators = args.estimators.split(",")
        missing = [k for k in args.estimators if k not in found]
        if missing:
            parser.error(f"{missing} not in sklearn_xcnn.series; there: {found}")
    else:
        args.estimators = found
    args.seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    args.params = json.loads(args.params)
    if args.quick:
        args.params = {**args.params, "max_iter": QUICK_MAX_ITER}
    return args


def describe(args):
    from _harness import machine

    print(machine())
    print(f"estimators: {', '.join(args.estimators)}; seeds {args.seeds}; {args.dtype}")
    if args.params:
        print(f"parameters: {json.dumps(args.params)}")
    if args.quick:
        print(
            f"--quick: max_iter={QUICK_MAX_ITER}, test sets cut to "
            f"{QUICK_TEST_CASES} cases; a smoke run, not a measurement"
        )
    for name in args.sets:
        print(f"{name}: {SETS[name].kind}")


def main(argv=None):
    args = parse_args(argv)
    if aeon_data_dir() is None:
        print(AEON_MISSING)
        return 1
    describe(args)
    loads = [os.getloadavg()[0]]
    start = time.perf_counter()
    results = run(args)
    loads.append(os.getloadavg()[0])
    print(
        f"load average at start and end: {loads[0]:.2f}, {loads[1]:.2f}; "
        f"{time.perf_counter() - start:.0f} s in all"
    )
    print()
    print_table(rows(results))
    print()
    print_means(results)
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
