"""Fit times and accuracies of the "Where to start" page (where_to_start.rst).

Run it as a script (``python docs/where_to_start_timings.py``); it prints one
line per data set and model: rows trained on, seconds to fit, epochs run and
the accuracy on held-out rows, and the machine's load average (processes
wanting a core) after the fit. Importing it does nothing.
"""

import os
import time
import warnings

import numpy as np
from scipy.ndimage import zoom
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from sklearn_xcnn import CNNClassifier


def digits(side):
    """Digits as ``side`` x ``side`` images in [0, 1], split 75/25."""
    X, y = load_digits(return_X_y=True)
    X = X / 16  # (n, 64)
    if side != 8:
        images = zoom(X.reshape(-1, 8, 8), (1, side / 8, side / 8), order=1)
        X = np.clip(images, 0, 1).reshape(len(X), -1)  # (n, side * side)
    return train_test_split(X, y, test_size=0.25, random_state=0)


def signals(n=1600, length=96):
    """Three kinds of event at a random time in noise (as in the gallery's
    FCN example), split 75/25."""
    rng = np.random.RandomState(0)
    y = rng.randint(0, 3, size=n)
    X = 0.4 * rng.normal(size=(n, length))
    for i, label in enumerate(y):
        start = rng.randint(0, length - 24)
        if label == 0:
            X[i, start : start + 24] += np.sin(np.arange(24) * 2 * np.pi / 8)
        elif label == 1:
            X[i, start : start + 24] += 1.0
        else:
            X[i, [start + 9, start + 15]] += 3.0
    return train_test_split(X, y, test_size=0.25, random_state=0)


# the network of 0.2's defaults: one 'valid' block of 8 filters, 64 hidden
# units, full batches at a constant rate until the training loss stalls
V02 = dict(n_filters=8, hidden_units=(64,), padding="valid", batch_norm=False,
           dropout=0.0, batch_size="auto", learning_rate="constant",
           max_iter=200)  # fmt: skip

MODELS = {
    "MLPClassifier (reference)": lambda: MLPClassifier(random_state=0),
    "defaults": lambda: CNNClassifier(random_state=0),
    "defaults, max_iter=50": lambda: CNNClassifier(max_iter=50, random_state=0),
    "defaults, n_filters=(8, 16)": lambda: CNNClassifier(
        n_filters=(8, 16), random_state=0
    ),
    "defaults, stride=2": lambda: CNNClassifier(stride=2, random_state=0),
    "defaults, early_stopping=True": lambda: CNNClassifier(
        early_stopping=True, random_state=0
    ),
    "0.2's defaults (one block, no batch norm)": lambda: CNNClassifier(
        **V02, random_state=0
    ),
}

# the fully convolutional network of the gallery's FCN example
FCN = {
    "image_shape": (1, 96), "n_filters": (8, 16, 8), "kernel_size": [8, 5, 3],
    "padding": "same", "batch_norm": True, "pooling": None,
    "global_pooling": "mean", "hidden_units": (),
}  # fmt: skip

SIGNAL_MODELS = {
    "MLPClassifier (reference)": lambda: MLPClassifier(random_state=0),
    "defaults, image_shape=(1, 96)": lambda: CNNClassifier(
        image_shape=(1, 96), random_state=0
    ),
    "FCN": lambda: CNNClassifier(**FCN, learning_rate_init=0.01, random_state=0),
}

RUNS = [
    ("digits 8x8", lambda: digits(8), [500, None], MODELS),
    ("digits 28x28", lambda: digits(28), [500, None], MODELS),
    ("signals 1x96", signals, [None], SIGNAL_MODELS),
]


def measure(model, X, y, X_test, y_test):
    """Seconds to fit, epochs run, held-out accuracy and whether it stopped
    at max_iter."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    capped = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return seconds, model.n_iter_, model.score(X_test, y_test), capped


TABLE_HEAD = """\
.. list-table:: {title}
   :header-rows: 1
   :widths: 10 45 12 18 12

   * - rows
     - model
     - fit (s)
     - epochs
     - accuracy
"""


def main(out=None):
    """Print one line per fit; with ``out``, also write the tables there
    (``docs/where_to_start_figures.txt``, which the page includes), each
    titled with the range of the load average during its fits."""
    tables = []
    for name, load, sizes, models in RUNS:
        X_train, X_test, y_train, y_test = load()
        rows, loads = "", []
        for size in sizes:
            for label, make in models.items():
                seconds, epochs, acc, capped = measure(
                    make(), X_train[:size], y_train[:size], X_test, y_test
                )
                n = len(X_train[:size])
                loads.append(os.getloadavg()[0])
                epochs = f"{epochs}{' (max_iter)' if capped else ''}"
                print(
                    f"{name} | {n} rows | {label} | {seconds:.1f} s | {epochs}"
                    f" | {acc:.3f} | load {loads[-1]:.1f}",
                    flush=True,
                )
                cells = [n, label, f"{seconds:.1f}", epochs, f"{acc:.3f}"]
                rows += "   * - " + "\n     - ".join(map(str, cells)) + "\n"
        title = f"{name} (load {min(loads):.0f} to {max(loads):.0f})"
        tables.append(TABLE_HEAD.format(title=title) + rows)
    if out:
        with open(out, "w") as f:
            f.write("\n".join(tables))


if __name__ == "__main__":
    import sys

    main(*sys.argv[1:])
