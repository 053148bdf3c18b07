"""Issue 22, "Speed": series networks with residual and inception blocks
against their PyTorch twins, training and prediction samples/s.

Three networks, built by ``FCNClassifier`` (the series preset) from its
parameters, and their twins built from the same ``NetworkSpec``
(``_torch_blocks.py``: ``Conv1d``/``BatchNorm1d`` on ``(n, C, T)``):

* ``resnet-preset``: the network ``ResNetClassifier`` builds, three
  residual units of three convolutions of kernels 8, 5 and 3, 64/128/128
  filters, batch norm, 'same' padding, global mean pooling; float32 and
  float64;
* ``resnet``: the same with every convolution of kernel ``--resnet-kernel``
  (default 8), the shape measured before per-convolution kernels existed;
  float32 and float64;
* ``inception``: two inception blocks of three modules (depth 6, a shortcut
  every third module), 32 filters per branch, kernels 40/20/10, bottleneck
  32, global mean pooling (one network of the InceptionTime ensemble);
* ``fcn``: 128/256/128 filters, kernels 8/5/3, batch norm, global mean pooling.

Series of ``--length`` points (default 256), one channel, three classes.
Training: Adam at 1e-3, batch 16, ``--epochs`` epochs through the public
``fit`` (with ``warm_start`` after a first, untimed epoch: validation counts,
the first fit's set-up does not) against the twin's epochs over the same
data started from our initial parameters; prediction:
``predict_proba`` against the twin in ``eval`` mode under
``inference_mode`` (best of chunks of 256 or all rows). Each figure is the
best of 3 calls in a fresh process; systems are interleaved in a rotating
order, ``--repeats`` rounds; ratios are taken within a round, then the
median [min-max] over rounds is printed with the load average. With
``--threads 1`` the samples per second of CPU time are printed too: on a
machine loaded by others they move far less than wall-clock figures. Before the
timings, a worker checks that each twin's logits equal ours at the start
(eval and training mode).

Run ``python benchmarks/bench_blocks.py [--repeats 3] [--threads 2]
[--nets resnet-preset,resnet,inception,fcn]``.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

from _harness import (
    emit,
    fmt,
    interleave,
    limit_threads,
    machine,
    table,
    torch_note,
    torch_or_none,
)

SCRIPT = Path(__file__).resolve()
NETS = {
    "resnet-preset": dict(
        n_filters=(64, 128, 128),
        kernel_size=((8, 5, 3),) * 3,
        block="residual",
        block_depth=3,
    ),
    "resnet": dict(n_filters=(64, 128, 128), block="residual", block_depth=3),
    "inception": dict(
        n_filters=(32, 32), kernel_size=40, block="inception", block_depth=3
    ),
    "fcn": dict(n_filters=(128, 256, 128), kernel_size=(8, 5, 3)),
}
DTYPES = {"resnet-preset": ("float32", "float64"),
          "resnet": ("float32", "float64"), "inception": ("float32",),
          "fcn": ("float32",)}  # fmt: skip
TRAINING = dict(
    solver="adam",
    learning_rate="constant",
    learning_rate_init=1e-3,
    batch_size=16,
    alpha=0.0,
    tol=0.0,
    n_iter_no_change=10**6,
    random_state=0,
)


def _config(net, kernel):
    cfg = dict(NETS[net])
    if net == "resnet":
        cfg["kernel_size"] = kernel
    return cfg


def _data(n, length, dtype, seed=0):
    import numpy as np

    rng = np.random.RandomState(seed)
    y = np.arange(n) % 3
    t = np.linspace(0, 1, length)
    phase = rng.uniform(0, 1, size=(n, 1))
    X = np.sin(2 * np.pi * ((y[:, None] + 2) * t + phase))
    X += 0.3 * rng.normal(size=X.shape)
    return X[:, None, :].astype(dtype), y


def _ours(cfg, max_iter):
    from sklearn_xcnn.series import FCNClassifier

    return FCNClassifier(**cfg, **TRAINING, max_iter=max_iter)


def _timed(func):
    """``(wall, cpu)`` seconds of ``func()``: the CPU time of this process
    (with one thread, a figure that other sessions' load hardly changes)."""
    cpu, start = time.process_time(), time.perf_counter()
    func()
    return time.perf_counter() - start, time.process_time() - cpu


def _best(func, calls=3):
    """Shortest ``(wall, cpu)`` seconds over ``calls`` calls of ``func``."""
    times = [_timed(func) for _ in range(calls)]
    return min(t[0] for t in times), min(t[1] for t in times)


def _rates(n, seconds):
    """Samples per second, wall clock and CPU."""
    return {"wall": n / seconds[0], "cpu": n / seconds[1]}


def _start(cfg, X, y):
    """Our estimator's starting point (see ``_torch_nets.our_start``)."""
    est = _ours(cfg, 1)
    images, y = est._validate_xy(X, y, True)
    Y = est._encode_targets(y, True, False, None).astype(images.dtype)
    weights = est._sample_weight(images, y, None, False, images.dtype)
    est._initialize(images, Y, images.dtype, weights)
    return images, est._network_spec(), est._params()


def worker_ours(net, dtype, n_train, n_pred, length, epochs, kernel):
    from bench_training import _wait_for_workers

    cfg = _config(net, kernel)
    X, y = _data(max(n_train, n_pred), length, dtype)
    X, y, Xp = X[:n_train], y[:n_train], X[:n_pred]
    clf = _ours(cfg, 1).fit(X, y)  # warm-up, and the start of the timed fit
    _wait_for_workers()
    # further epochs through the public fit (warm start): validation counts,
    # the set-up of a first fit does not (the twin's is not timed either;
    # on 64 series it is a third of an epoch)
    clf.set_params(warm_start=True, max_iter=epochs)
    train = _rates(n_train * epochs, _timed(lambda: clf.fit(X, y)))
    clf.predict_proba(Xp[:32])
    infer = _rates(n_pred, _best(lambda: clf.predict_proba(Xp)))
    return {"train": train, "infer": infer}


def _twin(cfg, X, y):
    import torch
    from _torch_blocks import is_series, load_start, to_torch_input, twin_from_spec

    images, spec, start = _start(cfg, X, y)
    dtype = torch.float32 if images.dtype.name == "float32" else torch.float64
    twin = twin_from_spec(spec, dtype)
    load_start(twin, start)
    return twin, to_torch_input(images, is_series(spec)), images, spec, start


def worker_torch(net, dtype, n_train, n_pred, length, epochs, kernel):
    import torch
    from _torch_nets import predict_proba, train_epoch

    cfg = _config(net, kernel)
    X, y = _data(max(n_train, n_pred), length, dtype)
    twin, Xt, _, _, _ = _twin(cfg, X, y)
    yt = torch.from_numpy(y).long()
    optimizer = torch.optim.Adam(twin.parameters(), lr=TRAINING["learning_rate_init"])
    train_epoch(twin, optimizer, Xt[:32], yt[:32], 16)  # warm-up

    def epochs_():
        for _ in range(epochs):
            train_epoch(twin, optimizer, Xt[:n_train], yt[:n_train], 16)

    train = _rates(n_train * epochs, _timed(epochs_))
    infer = []
    for chunk in (256, n_pred):
        predict_proba(twin, Xt[:32], chunk)
        infer.append(
            _rates(n_pred, _best(lambda c=chunk: predict_proba(twin, Xt[:n_pred], c)))
        )
    return {"train": train, "infer": max(infer, key=lambda r: r["wall"])}


def worker_check(nets, length, kernel):
    """Largest relative difference of the twins' logits from ours at the
    start, in eval and in training mode (batch statistics)."""
    import numpy as np
    import torch

    from sklearn_xcnn._core._network import forward, init_stats

    out = {}
    for net in nets.split(","):
        for dtype in DTYPES[net]:
            X, y = _data(16, length, dtype, seed=1)
            twin, Xt, images, spec, start = _twin(_config(net, kernel), X, y)
            diffs = []
            for train in (False, True):
                twin.train(train)
                with torch.no_grad():
                    theirs = twin(Xt).numpy()
                stats = None if train else init_stats(spec, images.dtype)
                ours, _ = forward(start, images, spec, train, stats=stats)
                diffs.append(float(np.abs(ours - theirs).max() / np.abs(theirs).max()))
            out[f"{net} {dtype}"] = diffs
    return out


def _ratios(a, b):
    return [x / y for x, y in zip(a, b)]


def report(raw, nets, has_torch, clock):
    """The table of samples/s by ``clock`` ("wall" or "cpu")."""
    rows = []
    for net in nets:
        for dtype in DTYPES[net]:
            for what, goal in (("train", ">= 1"), ("infer", ">= 2")):
                o = [r["result"][what][clock] for r in raw[f"{net}:{dtype}:ours"]]
                row = [f"{net} {dtype}", what, fmt(o, "/s", digits=4), "", ""]
                if has_torch:
                    t = [r["result"][what][clock] for r in raw[f"{net}:{dtype}:torch"]]
                    row[3] = fmt(t, "/s", digits=4)
                    row[4] = fmt(_ratios(o, t), "x", digits=2)
                    row[4] += f" (goal {goal})" if net.startswith("resnet") else ""
                rows.append(row)
    table(rows, ["network", "figure", "ours", "PyTorch twin", "ours/twin"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--nets", default="resnet-preset,resnet,inception,fcn")
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--n-train", type=int, default=128)
    parser.add_argument("--n-pred", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--resnet-kernel", type=int, default=8)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = (args.n_train, args.n_pred, args.length, args.epochs, args.resnet_kernel)
    if args.worker:
        warnings.simplefilter("ignore")
        if args.worker != "check":
            net, dtype, system = args.worker.split(":")
            if system == "torch":
                torch_or_none(args.threads)  # before NumPy, as a PyTorch user
                result = worker_torch(net, dtype, *sizes)
            else:
                result = worker_ours(net, dtype, *sizes)
        else:
            torch_or_none(args.threads)
            result = worker_check(args.nets, args.length, args.resnet_kernel)
        emit({"result": result})
        return
    limit_threads(args.threads)
    has_torch = not torch_note()
    nets = args.nets.split(",")
    print(machine())
    print(
        f"{args.threads} thread(s) per system; series of {args.length}, batch 16, "
        f"{args.n_train} series x {args.epochs} epoch(s) trained, {args.n_pred} "
        f"predicted; resnet-preset kernels 8/5/3 in each unit, resnet kernel "
        f"{args.resnet_kernel} in every convolution"
    )
    extra = ["--threads", args.threads, "--nets", args.nets, "--length", args.length,
             "--n-train", args.n_train, "--n-pred", args.n_pred, "--epochs",
             args.epochs, "--resnet-kernel", args.resnet_kernel]  # fmt: skip
    if not has_torch:
        print(torch_note())
    else:
        check, _ = interleave(SCRIPT, ["check"], 1, *extra)
        for name, (eval_diff, train_diff) in check["check"][0]["result"].items():
            print(
                f"twin == ours at the start, {name}: max relative difference of "
                f"the logits {eval_diff:.1e} (eval), {train_diff:.1e} (training)"
            )
    systems = ["ours", "torch"] if has_torch else ["ours"]
    names = [f"{net}:{d}:{s}" for net in nets for d in DTYPES[net] for s in systems]
    raw, loads = interleave(SCRIPT, names, args.repeats, *extra)
    print("\nSamples per second, wall clock (median [min-max] over rounds)")
    report(raw, nets, has_torch, "wall")
    if args.threads == 1:
        print("\nSamples per second of CPU time (one thread each)")
        report(raw, nets, has_torch, "cpu")
    print(f"load average during the runs: {min(loads):.2f}-{max(loads):.2f}")


if __name__ == "__main__":
    sys.exit(main())
