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

A second table does the same for a ResNet-shaped series classifier (three
residual units of three convolutions, 64/128/128 filters, batch norm, 'same'
padding, global mean pooling) on 512 univariate random-walk series of
length 128, fitted for one epoch on 64 of them; the graph takes the
``(n, 1, 128)`` series with a free time axis (``sklearn_xcnn.onnx.to_onnx``):
``ResNetClassifier`` with its published defaults (kernels 8, 5 and 3 in each
unit).

Export and session creation are not timed; each figure is the best of three
timed calls after a warm-up, in a fresh process, rounds interleaved (see
``_harness.py``). Run ``python benchmarks/bench_onnx.py [--repeats 5]
[--only mnist|resnet]``.
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
N_SERIES, SERIES_LENGTH, N_SERIES_FIT = 512, 128, 64


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


def _series(n_series):
    """Univariate random walks ``(n, 1, SERIES_LENGTH)`` (float32), labels by
    trend."""
    import numpy as np

    rng = np.random.RandomState(0)
    X = np.cumsum(rng.normal(size=(n_series, 1, SERIES_LENGTH)), axis=2)
    y = (X[:, 0, -1] > X[:, 0, 0]).astype(int)
    return X.astype(np.float32), y


def _fitted_resnet(X, y):
    from sklearn.exceptions import ConvergenceWarning

    from sklearn_xcnn import series

    clf = series.ResNetClassifier(max_iter=1, batch_size=16, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X[:N_SERIES_FIT], y[:N_SERIES_FIT])


def worker_ours_resnet(n_series):
    X, y = _series(n_series)
    clf = _fitted_resnet(X, y)
    return {"rate": _best_rate(lambda: clf.predict_proba(X), n_series)}


def worker_onnxruntime_resnet(n_series):
    import numpy as np
    import onnxruntime as ort

    from sklearn_xcnn.onnx import to_onnx

    X, y = _series(n_series)
    clf = _fitted_resnet(X, y)
    onx = to_onnx(clf, X[:1], zipmap=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(
        onx.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )

    def predict():
        return session.run(["probabilities"], {"X": X})[0]

    diff = float(np.abs(predict() - clf.predict_proba(X)).max())
    return {"rate": _best_rate(predict, n_series), "max_abs_diff": diff}


def _rates(values):
    """``median [min-max]/s`` of samples/s, thousands spaced as in the README."""
    med, lo, hi = (f"{v:,.0f}".replace(",", " ") for v in summary(values))
    return f"{med} [{lo}-{hi}]/s"


WORKERS = {
    "ours": worker_ours,
    "onnxruntime": worker_onnxruntime,
    "ours_resnet": worker_ours_resnet,
    "onnxruntime_resnet": worker_onnxruntime_resnet,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-samples", type=int, default=N_SAMPLES)
    parser.add_argument("--only", choices=("mnist", "resnet"))
    parser.add_argument("--worker", choices=WORKERS)
    parser.add_argument("args", nargs="*", type=int)
    args = parser.parse_args()
    if args.worker:
        emit(WORKERS[args.worker](*args.args))
        return
    print(machine())
    if args.only in (None, "mnist"):
        _mnist_table(args.repeats, args.n_samples)
    if args.only in (None, "resnet"):
        _resnet_table(args.repeats)


def _mnist_table(repeats, n_samples):
    results, loads = interleave(SCRIPT, ["ours", "onnxruntime"], repeats, n_samples)
    ours = [r["rate"] for r in results["ours"]]
    ort_rates = [r["rate"] for r in results["onnxruntime"]]
    ratios = [o / p for o, p in zip(ort_rates, ours)]
    chunks = sorted({r["chunk"] for r in results["onnxruntime"]})
    diff = max(r["max_abs_diff"] for r in results["onnxruntime"])
    print(
        f"\nMNIST-shaped pipeline, {n_samples} float32 images, "
        f"{repeats} rounds, load average {min(loads):.2f}-{max(loads):.2f}"
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


def _resnet_table(repeats):
    names = ["ours_resnet", "onnxruntime_resnet"]
    results, loads = interleave(SCRIPT, names, repeats, N_SERIES)
    ours = [r["rate"] for r in results["ours_resnet"]]
    ort_rates = [r["rate"] for r in results["onnxruntime_resnet"]]
    ratios = [o / p for o, p in zip(ort_rates, ours)]
    diff = max(r["max_abs_diff"] for r in results["onnxruntime_resnet"])
    print(
        f"\nResNet-shaped series classifier, {N_SERIES} float32 series of length "
        f"{SERIES_LENGTH}, {repeats} rounds, load average "
        f"{min(loads):.2f}-{max(loads):.2f}"
    )
    table(
        [
            ["ours: predict_proba", _rates(ours), ""],
            ["onnxruntime (2 threads)", _rates(ort_rates), fmt(ratios, "x", digits=2)],
        ],
        ["system", "series/s, median [min-max]", "onnxruntime / ours"],
    )
    print(f"max |proba difference| {diff:.2g}")


if __name__ == "__main__":
    main()
