"""Fixtures and helpers shared by the estimator tests: regression images,
quiet fits, a small batch-normalised network, a real Ctrl-C and a spy on
the early-stopping split."""

import os
import signal
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import sklearn_xcnn._training as training
from sklearn_xcnn._core._network import build_spec
from sklearn_xcnn.utils._optional import missing_reason

# The network and regime of the 0.2 defaults: one 'valid' block of 8 filters,
# 64 hidden units, no batch norm or dropout, full batches of min(200, n) at a
# constant rate for at most 200 epochs. Tests written against that network (a
# hand-worked seed case, shapes by formula, MLP's stopping rule, bit-for-bit
# equalities that need full batches and no dropout) set it explicitly since
# the defaults changed (issue 21): CNNClassifier(**V02, ...).
V02 = dict(
    n_filters=8,
    hidden_units=(64,),
    padding="valid",
    batch_norm=False,
    dropout=0.0,
    batch_size="auto",
    learning_rate="constant",
    max_iter=200,
)


def needs(module):
    """``pytest.importorskip(module)``, skipping with a reason that names the
    optional extra which installs ``module``."""
    return pytest.importorskip(module, reason=missing_reason(module))


def fit_quietly(estimator, *args, **kwargs):
    """``estimator.fit``, ignoring the convergence warnings of short fits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(*args, **kwargs)


def small_bn_spec():
    """Two blocks with padding and batch norm on 8x7x2 images, 3 classes:
    small enough to split a batch of a few rows over parts."""
    return build_spec(
        (8, 7, 2), (3, 2), 3, 1, 2, "max", (5,), "relu", 3, "softmax",
        padding=1, batch_norm=True,
    )  # fmt: skip


def make_bars(n_samples, side=8, noise=0.05, random_state=0):
    """Images of one bar each, with its length and position as targets.

    A bar of ``length`` pixels (2 to ``side``), horizontal or vertical, starts
    at a random place of a ``side x side`` image; a little Gaussian noise is
    added.

    Returns
    -------
    X : ndarray of shape (n_samples, side * side)
        The flattened images.
    Y : ndarray of shape (n_samples, 2)
        ``length / side`` and the row of the bar's first pixel ``/ side``.
    """
    rng = np.random.RandomState(random_state)
    images = noise * rng.standard_normal((n_samples, side, side))
    Y = np.empty((n_samples, 2))
    for i in range(n_samples):
        length = rng.randint(2, side + 1)
        start = rng.randint(0, side - length + 1)
        other = rng.randint(0, side)
        if rng.rand() < 0.5:
            images[i, other, start : start + length] += 1.0
            row = other
        else:
            images[i, start : start + length, other] += 1.0
            row = start
        Y[i] = length / side, row / side
    return images.reshape(n_samples, -1), Y


@pytest.fixture(scope="session")
def bars():
    """300 8x8 bar images (flat rows of 64) and their (length, row) targets."""
    return make_bars(300, random_state=0)


@pytest.fixture
def sigint_after(monkeypatch):
    """``sigint_after(owner, name, n_calls, times=1)`` makes ``owner.name`` send
    ``times`` real SIGINTs to this process after its ``n_calls``-th call and
    returns the list of calls so far."""

    def install(owner, name, n_calls, times=1):
        original = getattr(owner, name)
        calls = []

        def patched(*args, **kwargs):
            result = original(*args, **kwargs)
            calls.append(1)
            if len(calls) == n_calls:
                for _ in range(times):
                    # never hit pytest itself with a Ctrl-C that fit does not catch
                    handler = signal.getsignal(signal.SIGINT)
                    assert handler is not signal.default_int_handler
                    os.kill(os.getpid(), signal.SIGINT)
            return result

        monkeypatch.setattr(owner, name, patched)
        return calls

    return install


@pytest.fixture
def held_out_spy(monkeypatch):
    """Record what early stopping holds out and scores.

    The returned dict gets ``rows`` (the held-out row indices), ``stratify``
    (what the split was stratified by), and per epoch ``flat`` (the weights
    scored) and ``score``.
    """
    record = {"flat": [], "score": []}
    split = training.train_test_split
    evaluate = training._Validation.evaluate

    def spy_split(*args, **kwargs):
        record["stratify"] = kwargs.get("stratify")
        return split(*args, **kwargs)

    def spy_evaluate(self, flat, *args):
        score, loss = evaluate(self, flat, *args)
        record["rows"] = self.rows
        record["flat"].append(flat.copy())
        record["score"].append(score)
        return score, loss

    monkeypatch.setattr(training, "train_test_split", spy_split)
    monkeypatch.setattr(training._Validation, "evaluate", spy_evaluate)
    return record
