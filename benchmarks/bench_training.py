"""Goals 1 and 2: training and inference speed against PyTorch and MLP.

Goal 1, digits (1797 flat 8x8 rows, float64): time per training epoch of the
reference network (8 filters 3x3, max pooling 2, 64 ReLU units, softmax, Adam
lr 1e-3, alpha 1e-4, batch 64) against the same network in plain PyTorch
(2 threads) and against ``MLPClassifier(hidden_layer_sizes=(64,))``. Goal:
ours <= 0.5x PyTorch.

Goal 2, MNIST-shaped synthetic data (20 000 28x28 images, float32): blocks of
16 and 32 filters 3x3, max pooling 2, 128 hidden units, batch 128. Goals:
training samples/s >= PyTorch's, inference samples/s >= 2x PyTorch's.

Goal 3 (issue 11), the same data and batch with the architecture options:
blocks of 16 and 32 filters 3x3 with ``padding="same"``, batch norm and max
pooling 2, dropout 0.3 on the input of each dense layer, 128 hidden units.
The same goals, against the same network in PyTorch (``BatchNorm2d``,
``Dropout``, ``padding=1``; inference in ``eval`` mode).

Epochs are timed through the public API: ``fit`` with ``max_iter=k`` (and a
stopping rule that cannot fire), divided by ``k``, so validation and set-up
count. Run ``python benchmarks/bench_training.py [--repeats 5]``.
"""

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

from _harness import (
    PLAIN,
    emit,
    fmt,
    interleave,
    machine,
    table,
    torch_note,
    torch_or_none,
)

SCRIPT = Path(__file__).resolve()
DIGITS = dict(filters=(8,), hidden=(64,), batch=64)
MNIST = dict(filters=(16, 32), hidden=(128,), batch=128)
# goal 3: 'same' padding, batch norm and dropout (options of issue 11)
MNIST_SBD = dict(MNIST, options=dict(padding="same", batch_norm=True, dropout=0.3))


def _ours(net, max_iter):
    from sklearn_xcnn import CNNClassifier

    return CNNClassifier(
        n_filters=net["filters"],
        kernel_size=3,
        pool_size=2,
        pooling="max",
        hidden_units=net["hidden"],
        batch_size=net["batch"],
        alpha=1e-4,
        learning_rate_init=1e-3,
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=10**6,
        random_state=0,
        **{**PLAIN, **net.get("options", {})},
    )


def _timed(func):
    """Wall-clock seconds of ``func()``; CPU seconds go to ``CPU_SECONDS``."""
    cpu, start = time.process_time(), time.perf_counter()
    func()
    wall = time.perf_counter() - start
    CPU_SECONDS.append(time.process_time() - cpu)
    return wall


CPU_SECONDS = []  # process CPU time of every timed call in this worker


def worker_g1_ours(epochs):
    from _data import load_digits_scaled

    X, y = load_digits_scaled()
    _ours(DIGITS, 1).fit(X, y)  # warm-up
    return [_timed(lambda: _ours(DIGITS, epochs).fit(X, y)) / epochs for _ in range(3)]


def worker_g1_mlp(epochs):
    from _data import load_digits_scaled
    from sklearn.neural_network import MLPClassifier

    X, y = load_digits_scaled()

    def mlp(k):
        return MLPClassifier(
            hidden_layer_sizes=(64,),
            batch_size=64,
            alpha=1e-4,
            learning_rate_init=1e-3,
            max_iter=k,
            tol=0.0,
            n_iter_no_change=10**6,
            random_state=0,
        )

    mlp(1).fit(X, y)
    return [_timed(lambda: mlp(epochs).fit(X, y)) / epochs for _ in range(3)]


def _torch_setup(net_cfg, X, y, image_size, dtype_name):
    torch = torch_or_none()
    from _torch_nets import make_net, make_optimizer

    torch.manual_seed(0)
    dtype = getattr(torch, dtype_name)
    Xt = torch.from_numpy(X.reshape(-1, 1, image_size, image_size)).to(dtype)
    yt = torch.from_numpy(y).long()
    options = dict(net_cfg.get("options", {}))
    if "padding" in options:  # 3x3 at stride 1: "same" is one pixel a side
        options["padding"] = {"same": 1, "valid": 0}[options["padding"]]
    net = make_net(
        image_size, net_cfg["filters"], net_cfg["hidden"], 10, dtype, **options
    )
    opt = make_optimizer(net, 1e-3, 1e-4, net_cfg["batch"])
    return net, opt, Xt, yt


def worker_g1_torch(epochs):
    from _data import load_digits_scaled
    from _torch_nets import train_epoch

    X, y = load_digits_scaled()
    net, opt, Xt, yt = _torch_setup(DIGITS, X, y, 8, "float64")
    train_epoch(net, opt, Xt, yt, 64)  # warm-up

    def run():
        for _ in range(epochs):
            train_epoch(net, opt, Xt, yt, 64)

    return [_timed(run) / epochs for _ in range(3)]


def _wait_for_workers():
    """Let the worker processes that a split batch runs on finish starting
    (a one-time cost of the first large fit of a session, about a second,
    which the warm-up fit pays here as PyTorch's warm-up pays its own)."""
    try:
        from sklearn_xcnn import _parallel, _processes
    except ImportError:  # the code of an earlier round: threads only
        return
    _processes.start_pool(_parallel.blas_threads() - 1)


def _mnist_ours(net, n_samples):
    from _data import make_mnist_like

    X, y = make_mnist_like(n_samples)
    clf = _ours(net, 1).fit(X[:1024], y[:1024])  # warm-up
    _wait_for_workers()
    train = n_samples / _timed(lambda: _ours(net, 1).fit(X, y))
    clf = _ours(net, 1).fit(X[:2048], y[:2048])
    clf.predict_proba(X[:256])
    infer = [n_samples / _timed(lambda: clf.predict_proba(X)) for _ in range(3)]
    return {"train": train, "infer": statistics.median(infer)}


def _mnist_torch(net_cfg, n_samples):
    from _data import make_mnist_like
    from _torch_nets import predict_proba, train_epoch

    X, y = make_mnist_like(n_samples)
    net, opt, Xt, yt = _torch_setup(net_cfg, X, y, 28, "float32")
    train_epoch(net, opt, Xt[:1024], yt[:1024], 128)  # warm-up
    train = n_samples / _timed(lambda: train_epoch(net, opt, Xt, yt, 128))
    infer = {}
    for chunk in (128, 1024, n_samples):
        predict_proba(net, Xt[:2048], chunk)
        infer[chunk] = max(
            n_samples / _timed(lambda c=chunk: predict_proba(net, Xt, c))
            for _ in range(3)
        )
    best = max(infer, key=infer.get)
    return {"train": train, "infer": infer[best], "infer_chunk": best}


WORKERS = {
    "g1-ours": worker_g1_ours,
    "g1-torch": worker_g1_torch,
    "g1-mlp": worker_g1_mlp,
    "g2-ours": lambda n: _mnist_ours(MNIST, n),
    "g2-torch": lambda n: _mnist_torch(MNIST, n),
    "g3-ours": lambda n: _mnist_ours(MNIST_SBD, n),
    "g3-torch": lambda n: _mnist_torch(MNIST_SBD, n),
}


def _ratios(a, b):
    """Per-round ratios a[i] / b[i] (runs of one round ran back to back)."""
    return [x / y for x, y in zip(a, b)]


def _cpu_per_epoch(runs, epochs):
    """Median CPU seconds per epoch of each run (3 timed fits of ``epochs``)."""
    return [statistics.median(r["cpu"]) / epochs for r in runs]


def report_goal1(raw, has_torch, epochs):
    names = ["g1-ours", "g1-torch", "g1-mlp"] if has_torch else ["g1-ours", "g1-mlp"]
    labels = {
        "g1-ours": "CNNClassifier (NumPy)",
        "g1-torch": "same net, PyTorch 2 threads",
        "g1-mlp": "MLPClassifier((64,))",
    }
    wall = {n: [statistics.median(r["result"]) for r in raw[n]] for n in names}
    cpu = {n: _cpu_per_epoch(raw[n], epochs) for n in names}
    rows = []
    for n in names:
        rows.append([labels[n], fmt(wall[n], " ms", 1e3), fmt(cpu[n], " ms", 1e3)])
    print("\nGoal 1: digits, time per training epoch (float64, batch 64)")
    table(rows, ["system", "wall s/epoch median [min-max]", "CPU s/epoch"])
    if has_torch:
        ratio = fmt(_ratios(wall["g1-ours"], wall["g1-torch"]), "x", digits=2)
        print(f"ours/PyTorch wall time per epoch: {ratio} (goal <= 0.5)")
    ratio = fmt(_ratios(wall["g1-ours"], wall["g1-mlp"]), "x", digits=2)
    print(f"ours/MLPClassifier wall time per epoch: {ratio}")


def report_goal2(raw, has_torch, goal_name="g2"):
    rows = []
    for what, goal in (("train", ">=1"), ("infer", ">=2")):
        o = [r["result"][what] for r in raw[f"{goal_name}-ours"]]
        row = [what, fmt(o, "/s", digits=4), "", ""]
        if has_torch:
            t = [r["result"][what] for r in raw[f"{goal_name}-torch"]]
            row[2] = fmt(t, "/s", digits=4)
            row[3] = fmt(_ratios(o, t), f"x (goal {goal})", digits=2)
        rows.append(row)
    title = {
        "g2": "Goal 2: MNIST-shaped 28x28",
        "g3": "Goal 3: MNIST-shaped 28x28, 'same' padding, batch norm, dropout 0.3",
    }[goal_name]
    print(f"\n{title}, samples per second (float32, batch 128)")
    table(rows, ["figure", "ours", "PyTorch 2 threads", "ours/torch"])
    if has_torch:
        chunks = sorted({r["result"]["infer_chunk"] for r in raw[f"{goal_name}-torch"]})
        print(f"(PyTorch inference: best of chunks 128/1024/all; best was {chunks})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10, help="goal 1 epochs per fit")
    parser.add_argument("--n-samples", type=int, default=20_000, help="goals 2-3")
    parser.add_argument("--goal", choices=["1", "2", "3", "all"], default="all")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("worker_arg", nargs="?", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        warnings.simplefilter("ignore")
        if "torch" in args.worker:
            # import torch before NumPy/SciPy/scikit-learn, as a PyTorch user
            # would: loaded after them, its OpenMP runtime ran several times
            # slower on this machine
            torch_or_none()
        result = WORKERS[args.worker](args.worker_arg)
        emit({"result": result, "cpu": CPU_SECONDS})
        return
    has_torch = not torch_note()
    print(machine())
    if not has_torch:
        print(torch_note())
    torch_names = lambda g: [f"{g}-torch"] if has_torch else []  # noqa: E731
    if args.goal in ("1", "all"):
        names = ["g1-ours", *torch_names("g1"), "g1-mlp"]
        res, loads = interleave(SCRIPT, names, args.repeats, args.epochs)
        report_goal1(res, has_torch, args.epochs)
        print(f"load average during the runs: {min(loads):.2f}-{max(loads):.2f}")
    if args.goal in ("2", "all"):
        names = ["g2-ours", *torch_names("g2")]
        res, loads = interleave(SCRIPT, names, args.repeats, args.n_samples)
        report_goal2(res, has_torch)
        print(f"load average during the runs: {min(loads):.2f}-{max(loads):.2f}")
    if args.goal in ("3", "all"):
        if "batch_norm" not in _ours(MNIST, 1).get_params():
            print("\nGoal 3 skipped: this CNNClassifier has no batch_norm/padding")
            return
        names = ["g3-ours", *torch_names("g3")]
        res, loads = interleave(SCRIPT, names, args.repeats, args.n_samples)
        report_goal2(res, has_torch, "g3")
        print(f"load average during the runs: {min(loads):.2f}-{max(loads):.2f}")


if __name__ == "__main__":
    sys.exit(main())
