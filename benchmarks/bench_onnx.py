"""Inference of the exported pipeline in onnxruntime against ``predict_proba``.

The pipeline is ``MinMaxScaler -> CNNClassifier`` with the MNIST-shaped
network of goal 2 (blocks of 16 and 32 filters 3x3, max pooling 2, 128 hidden
units), fitted for one epoch on 2 048 of the 20 000 synthetic 28x28 images
(``random_state=0``, so every worker fits the same model). Each worker then
predicts the probabilities of all 20 000 float32 images:

* ``ours``: ``pipeline.predict_proba(X)``;
* ``onnxruntime``: the pipeline exported with ``skl2onnx.to_onnx`` (after
  ``import sklearn_xcnn.onnx``, ``zipmap=False``) run by onnxruntime's CPU
  provider with 2 intra-op threads, on the best of chunks of 128, 1 024 or all
  rows.

Export and session creation are not timed; each figure is the best of three
timed calls after a warm-up, in a fresh process, rounds interleaved (see
``_harness.py``). Run ``python benchmarks/bench_onnx.py [--repeats 5]``.
"""

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

from _harness import emit, fmt, interleave, machine, summary, table

SCRIPT = Path(__file__).resolve()
N_SAMPLES = 20_000
N_FIT = 2_048


def _fitted_pipeline(X, y):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    from sklearn_xcnn import CNNClassifier

    clf = CNNClassifier(
        n_filters=(16, 32),
        kernel_size=3,
        pool_size=2,
        pooling="max",
        hidden_units=(128,),
        batch_size=128,
        max_iter=1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return make_pipeline(MinMaxScaler(), clf).fit(X[:N_FIT], y[:N_FIT])


def _best_rate(func, n):
    func()  # warm-up
    return max(n / _timed(func) for _ in range(3))


def _timed(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def worker_ours(n_samples):
    from _data import make_mnist_like

    X, y = make_mnist_like(n_samples)
    pipe = _fitted_pipeline(X, y)
    return {"rate": _best_rate(lambda: pipe.predict_proba(X), n_samples)}


def worker_onnxruntime(n_samples):
    import numpy as np
    import onnxruntime as ort
    import skl2onnx
    from _data import make_mnist_like

    import sklearn_xcnn.onnx  # noqa: F401  (registers the converters)

    X, y = make_mnist_like(n_samples)
    pipe = _fitted_pipeline(X, y)
    clf = pipe[-1]
    onx = skl2onnx.to_onnx(pipe, X[:1], options={id(clf): {"zipmap": False}})
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(
        onx.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )

    def predict(chunk):
        parts = [
            session.run(["probabilities"], {"X": X[s : s + chunk]})[0]
            for s in range(0, n_samples, chunk)
        ]
        return np.concatenate(parts)

    rates = {c: _best_rate(lambda c=c: predict(c), n_samples) for c in (128, 1024)}
    rates[n_samples] = _best_rate(lambda: predict(n_samples), n_samples)
    best = max(rates, key=rates.get)
    diff = float(np.abs(predict(best) - pipe.predict_proba(X)).max())
    return {"rate": rates[best], "chunk": best, "max_abs_diff": diff}


def _rates(values):
    """``median [min-max]/s`` of samples/s, thousands spaced as in the README."""
    med, lo, hi = (f"{v:,.0f}".replace(",", " ") for v in summary(values))
    return f"{med} [{lo}-{hi}]/s"


WORKERS = {"ours": worker_ours, "onnxruntime": worker_onnxruntime}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-samples", type=int, default=N_SAMPLES)
    parser.add_argument("--worker", choices=WORKERS)
    parser.add_argument("args", nargs="*", type=int)
    args = parser.parse_args()
    if args.worker:
        emit(WORKERS[args.worker](*args.args))
        return
    print(machine())
    names = list(WORKERS)
    results, loads = interleave(SCRIPT, names, args.repeats, args.n_samples)
    ours = [r["rate"] for r in results["ours"]]
    ort_rates = [r["rate"] for r in results["onnxruntime"]]
    ratios = [o / p for o, p in zip(ort_rates, ours)]
    chunks = sorted({r["chunk"] for r in results["onnxruntime"]})
    diff = max(r["max_abs_diff"] for r in results["onnxruntime"])
    print(
        f"\nMNIST-shaped pipeline, {args.n_samples} float32 images, "
        f"{args.repeats} rounds, load average {min(loads):.2f}-{max(loads):.2f}"
    )
    table(
        [
            ["ours: predict_proba", _rates(ours), ""],
            ["onnxruntime (2 threads)", _rates(ort_rates), fmt(ratios, "x", digits=2)],
        ],
        ["system", "samples/s, median [min-max]", "onnxruntime / ours"],
    )
    print(f"onnxruntime's best chunk(s): {chunks}; max |proba difference| {diff:.2g}")
    print(f"median ratio {statistics.median(ratios):.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
