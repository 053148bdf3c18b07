"""
=======================================
Deploying a pipeline with ONNX
=======================================

A fitted pipeline of a scaler and a :class:`~sklearn_xcnn.CNNClassifier` is
exported to ONNX with skl2onnx, run in onnxruntime, and its predictions are
compared with scikit-learn's: the same labels, and probabilities that agree
to float32 rounding. The export needs the ``onnx`` extra
(``pip install "sklearn-xcnn[onnx]"``).
"""

# %%
# A pipeline on the digits
# ------------------------
# The 8x8 digits, a :class:`~sklearn.preprocessing.MinMaxScaler` and a network
# of two blocks: 8 then 16 filters of 3x3, max pooling of 2x2 (the 6x6 maps of
# the first block pool to 3x3, the 1x1 maps of the second are pooled by a
# clipped 1x1 window), and 32 hidden units, trained with Adam until a held-out
# tenth of the training rows stops improving (``early_stopping=True``).
# float32 data gives float32 weights and a float32 graph input.
import time

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
import skl2onnx
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import sklearn_xcnn.onnx  # registers the converters with skl2onnx
from sklearn_xcnn import CNNClassifier

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
pipe = make_pipeline(
    MinMaxScaler(),
    CNNClassifier(
        n_filters=(8, 16), hidden_units=32, early_stopping=True, random_state=0
    ),
)
pipe.fit(X_train, y_train)
print(f"test accuracy: {pipe.score(X_test, y_test):.3f}")

# %%
# Export in one call
# ------------------
# Once :mod:`sklearn_xcnn.onnx` is imported, ``skl2onnx.to_onnx`` converts
# the whole pipeline; the sample row only sets the input's type and width.
# By default the probabilities come out as one dictionary per row (skl2onnx's
# ZipMap), like every classifier skl2onnx converts.
onx = skl2onnx.to_onnx(pipe, X_train[:1])
print("outputs:", [output.name for output in onx.graph.output])
print("nodes:", " ".join(node.op_type for node in onx.graph.node))

session = ort.InferenceSession(
    onx.SerializeToString(), providers=["CPUExecutionProvider"]
)
labels, dicts = session.run(None, {"X": X_test})
print("first row:", {k: round(v, 3) for k, v in dicts[0].items()})

# %%
# Probabilities as a tensor
# -------------------------
# :func:`sklearn_xcnn.onnx.to_onnx` passes converter options to every network
# of the pipeline; ``zipmap=False`` returns the probabilities as an
# ``(n_samples, n_classes)`` tensor, the fast choice for serving. The timings
# below are for this small network on a few hundred rows; see
# ``benchmarks/bench_onnx.py`` for the MNIST-shaped one.
onx = sklearn_xcnn.onnx.to_onnx(pipe, X_train[:1], zipmap=False)
session = ort.InferenceSession(
    onx.SerializeToString(), providers=["CPUExecutionProvider"]
)
onnx_labels, onnx_proba = session.run(None, {"X": X_test})
proba = pipe.predict_proba(X_test)


def best_ms(func, repeats=5):
    """Best wall-clock time of ``func()`` over a few calls, in ms."""
    func()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


onnx_ms = best_ms(lambda: session.run(None, {"X": X_test}))
our_ms = best_ms(lambda: pipe.predict_proba(X_test))
difference = np.abs(onnx_proba - proba)
print(f"identical labels: {np.array_equal(onnx_labels, pipe.predict(X_test))}")
print(f"largest probability difference: {difference.max():.1e}")
print(
    f"{len(X_test)} rows, best of 5: onnxruntime {onnx_ms:.1f} ms, "
    f"predict_proba {our_ms:.1f} ms"
)

# %%
# The two runtimes side by side
# -----------------------------
# Every probability of every test image, ours against onnxruntime's, falls on
# the diagonal. The largest difference per class is a few float32 rounding
# steps (the dashed line is ``np.finfo(np.float32).eps``, about 1.2e-7),
# accumulated through the layers: the two runtimes add the same products in
# different orders. The tests hold every exported architecture to 1e-5.
fig, (ax_scatter, ax_bar) = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
ax_scatter.scatter(proba.ravel(), onnx_proba.ravel(), s=4, alpha=0.4)
ax_scatter.plot([0, 1], [0, 1], color="gray", linewidth=0.8)
ax_scatter.set(
    xlabel="predict_proba (scikit-learn)",
    ylabel="onnxruntime",
    title="Probabilities of the test images",
)
ax_bar.bar(pipe.classes_, difference.max(axis=0), color="tab:orange")
ax_bar.axhline(np.finfo(np.float32).eps, color="gray", linestyle="--", linewidth=0.8)
ax_bar.set(
    xlabel="class",
    ylabel="max |difference|",
    xticks=pipe.classes_,
    title="Largest difference per class",
)
ax_bar.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
plt.show()
