"""Model quality on the README task: CV accuracy and fit time against MLP.

The README task is ``load_digits`` (1797 flat 8x8 rows),
``make_pipeline(MinMaxScaler(), clf)`` and ``cross_validate(..., cv=5)`` (five
unshuffled stratified folds), every model with ``random_state=0``. The rows of
the table are ``MLPClassifier()`` with its defaults, ``CNNClassifier`` with
its defaults, configurations that use the architecture options, and for each
of our networks its PyTorch twin (``_torch_nets.TorchCNNClassifier``: the
same layers, Glorot-uniform start, Adam, batch size, L2 penalty and stopping
rule; see its docstring for what differs).

Columns: accuracy, the mean over the five folds (the same in every round for
our models and MLP's, which are deterministic); the summed fit time of the
five folds (scoring excluded), median [min-max] over rounds; that time over
MLP's in the same round, median [min-max]; the fastest run over MLP's fastest
run; and the epochs per fold. With ``--seeds k``, also the accuracy with
``random_state`` 0 .. k-1, median [min-max] (seeds 1 .. k-1 untimed, after the
rounds), to show how much of a difference is the seed's. Each measurement
runs in a fresh process, the systems in an order that rotates each round (see
``_harness.py``).

Run ``python benchmarks/bench_quality.py [--repeats 5] [--configs a,b]``;
``--candidate 'name={"n_filters": 4}'`` adds a ``CNNClassifier`` configuration
(and ``--twins`` its PyTorch twin), ``--list`` prints the known ones.
"""

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

from _harness import (
    emit,
    fmt,
    interleave,
    machine,
    run_worker,
    table,
    torch_note,
    torch_or_none,
)

SCRIPT = Path(__file__).resolve()

# the configuration: two 'same'-padded blocks of 16 and 32 filters,
# max pooling, dropout 0.3 on a 64-unit dense layer
SAME_16_32 = dict(n_filters=(16, 32), padding="same", hidden_units=(64,), dropout=0.3)

# name -> (system, parameters); "ours" rows get a "torch-" twin when --twins
# is given or when listed in TWINS
CONFIGS = {
    "mlp": ("mlp", {}),
    "ours-default": ("ours", {}),
    # the README's cheap recipe: one padded block, dropout, a larger step
    "ours-same-drop": (
        "ours",
        dict(padding="same", dropout=0.2, learning_rate_init=0.01),
    ),
    "ours-same-16-32-drop": ("ours", SAME_16_32),
    # the README's configuration for accuracy (>= 0.97)
    "ours-same-16-32-drop-bn-128": (
        "ours",
        dict(SAME_16_32, batch_norm=True, hidden_units=(128,)),
    ),
}
TWINS = [name for name, (system, _) in CONFIGS.items() if system == "ours"]
DEFAULT_RUN = ["mlp", "ours-default", "torch-default", *TWINS[1:]]
DEFAULT_RUN += ["torch" + name[4:] for name in TWINS[1:]]

# CNNClassifier parameters the twin reproduces, with the value it needs
# (None: any value is passed on)
TWIN_PARAMS = {
    "n_filters": None,
    "hidden_units": None,
    "padding": None,
    "batch_norm": None,
    "dropout": None,
    "alpha": None,
    "batch_size": None,
    "learning_rate_init": None,
    "max_iter": None,
    "tol": None,
    "n_iter_no_change": None,
    "random_state": None,
    "kernel_size": 3,
    "stride": 1,
    "pool_size": 2,
    "pooling": "max",
    "activation": "relu",
    "solver": "adam",
    "early_stopping": False,
    "learning_rate": "constant",
    "global_pooling": None,
}


def twin_params(params):
    """The ``TorchCNNClassifier`` parameters of a ``CNNClassifier`` config.

    Raises ValueError when the twin cannot reproduce a parameter.
    """
    out = {}
    for key, value in params.items():
        if key not in TWIN_PARAMS:
            raise ValueError(f"the PyTorch twin has no equivalent of {key}")
        if TWIN_PARAMS[key] is not None:
            if value != TWIN_PARAMS[key]:
                raise ValueError(f"the PyTorch twin needs {key}={TWIN_PARAMS[key]!r}")
            continue
        out[key] = value
    if "n_filters" in out and isinstance(out["n_filters"], int):
        out["n_filters"] = (out["n_filters"],)
    if "hidden_units" in out and isinstance(out["hidden_units"], int):
        out["hidden_units"] = (out["hidden_units"],)
    padding = out.pop("padding", "valid")
    if padding not in ("valid", "same", 0, 1):
        raise ValueError(f"the PyTorch twin has no padding={padding!r}")
    out["padding"] = 1 if padding in ("same", 1) else 0
    return out


def all_configs(candidates, twins):
    """Known and candidate configurations, with the PyTorch twins added."""
    configs = dict(CONFIGS)
    configs.update({name: ("ours", p) for name, p in candidates.items()})
    for name in [*TWINS, *(candidates if twins else [])]:
        system, params = configs[name]
        configs["torch" + name.removeprefix("ours")] = ("torch", params)
    return configs


def _model(system, params):
    if system == "mlp":
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier(**{"random_state": 0, **params})
    if system == "ours":
        from sklearn_xcnn import CNNClassifier

        return CNNClassifier(**{"random_state": 0, **params})
    from _torch_nets import TorchCNNClassifier

    return TorchCNNClassifier(**{"random_state": 0, **twin_params(params)})


def run_config(system, params):
    """Five-fold CV of one configuration on the README task."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    X, y = load_digits(return_X_y=True)
    pipe = make_pipeline(MinMaxScaler(), _model(system, params))
    warm = make_pipeline(MinMaxScaler(), _model(system, dict(params, max_iter=2)))
    warm.fit(X[:400], y[:400])  # lazy imports, thread pools, caches
    cpu, start = time.process_time(), time.perf_counter()
    cv = cross_validate(pipe, X, y, cv=5, return_estimator=True)
    wall = time.perf_counter() - start
    return {
        "scores": cv["test_score"].tolist(),
        "accuracy": float(np.mean(cv["test_score"])),
        "fit_time": float(np.sum(cv["fit_time"])),
        "wall": wall,
        "cpu": time.process_time() - cpu,
        "n_iter": [int(est[-1].n_iter_) for est in cv["estimator"]],
    }


def run_seeds(system, params, seeds):
    """CV accuracy of one configuration with ``random_state`` 1 .. seeds-1."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    X, y = load_digits(return_X_y=True)
    out = []
    for seed in range(1, seeds):
        model = _model(system, {**params, "random_state": seed})
        scores = cross_val_score(make_pipeline(MinMaxScaler(), model), X, y, cv=5)
        out.append(float(np.mean(scores)))
    return out


def _describe(system, params):
    if system == "mlp":
        return "MLPClassifier() defaults"
    text = ", ".join(f"{k}={v!r}" for k, v in params.items()) or "defaults"
    return ("CNNClassifier: " if system == "ours" else "PyTorch twin: ") + text


def report(configs, names, raw, seeds=None):
    """Print the quality table; ``raw[name]`` holds one result per round,
    ``seeds[name]`` the accuracies with other seeds."""
    mlp = [r["fit_time"] for r in raw["mlp"]] if "mlp" in raw else None
    rows = []
    for name in names:
        runs = raw[name]
        acc = [r["accuracy"] for r in runs]
        times = [r["fit_time"] for r in runs]
        acc_text = f"{statistics.median(acc):.4f}"
        if max(acc) - min(acc) > 1e-9:
            acc_text += f" [{min(acc):.4f}-{max(acc):.4f}]"
        ratio = fastest = ""
        if mlp is not None:
            ratio = fmt([t / m for t, m in zip(times, mlp)], "x", digits=2)
            fastest = f"{min(times) / min(mlp):.2f}x"
        epochs = statistics.mean(statistics.mean(r["n_iter"]) for r in runs)
        row = [name, acc_text, fmt(times, " s"), ratio, fastest, f"{epochs:.0f}"]
        if seeds:
            row.append(fmt([statistics.median(acc), *seeds[name]], digits=4))
        rows.append(row)
    header = ["config", "CV accuracy", "fit time (5 folds)", "/MLP per round"]
    header += ["fastest/fastest", "epochs/fold"]
    if seeds:
        header.append(f"accuracy, seeds 0-{len(seeds[names[0]])}")
    table(rows, header)
    print()
    for name in names:
        print(f"{name}: {_describe(*configs[name])}")
    print()
    for name in names:
        folds = " ".join(f"{s:.4f}" for s in raw[name][0]["scores"])
        print(f"{name} folds (round 1): {folds}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--configs", help="comma-separated names (default: all)")
    parser.add_argument(
        "--candidate",
        action="append",
        default=[],
        metavar='NAME={"param": value}',
        help="a CNNClassifier configuration to add (JSON parameters)",
    )
    parser.add_argument("--twins", action="store_true", help="twins of candidates")
    parser.add_argument("--list", action="store_true", help="print the configs")
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="also report the accuracy over random_state 0 .. SEEDS-1 (untimed)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("worker_arg", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        warnings.simplefilter("ignore")
        payload = json.loads(args.worker_arg)
        name, _, seeds = args.worker.partition("@seeds")
        system, params = payload["configs"][name]
        if system == "torch":
            torch_or_none()  # before NumPy/SciPy/scikit-learn, see README
        for key in ("n_filters", "hidden_units"):  # JSON lists -> tuples
            if isinstance(params.get(key), list):
                params[key] = tuple(params[key])
        if seeds:
            emit(run_seeds(system, params, int(seeds)))
        else:
            emit(run_config(system, params))
        return
    candidates = {}
    for text in args.candidate:
        name, _, params = text.partition("=")
        candidates["ours-" + name.removeprefix("ours-")] = json.loads(params)
    configs = all_configs(candidates, args.twins)
    if args.list:
        for name, config in configs.items():
            print(f"{name}: {_describe(*config)}")
        return
    has_torch = not torch_note()
    if args.configs:
        names = [*args.configs.split(","), *candidates]
        if args.twins:
            names += ["torch" + name[4:] for name in candidates]
    else:
        names = [*DEFAULT_RUN, *(n for n in configs if n not in DEFAULT_RUN)]
        names = [n for n in names if n in configs]
    names = _available(names, configs, has_torch)
    print(machine())
    payload = json.dumps({"configs": configs})
    raw, loads = interleave(SCRIPT, names, args.repeats, payload)
    print(
        f"\nREADME task (load_digits, MinMaxScaler, 5-fold CV), {args.repeats} rounds"
    )
    print(f"load average during the runs: {min(loads):.2f}-{max(loads):.2f}")
    seeds = None
    if args.seeds > 1:
        seeds = {
            name: run_worker(SCRIPT, f"{name}@seeds{args.seeds}", payload)
            for name in names
        }
    report(configs, names, raw, seeds)


def _available(names, configs, has_torch):
    """Drop what cannot run here (no torch; options this version lacks)."""
    from sklearn_xcnn import CNNClassifier

    known = CNNClassifier().get_params()
    kept = []
    for name in names:
        system, params = configs[name]
        if system == "torch" and not has_torch:
            print(f"skipping {name}: {torch_note()}")
            continue
        missing = [k for k in params if system != "mlp" and k not in known]
        if missing:
            print(f"skipping {name}: this CNNClassifier has no {', '.join(missing)}")
            continue
        kept.append(name)
    return kept


if __name__ == "__main__":
    sys.exit(main())
