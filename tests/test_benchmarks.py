"""Smoke tests of the quality suite's registry (benchmarks/bench_quality.py).

Nothing is timed: the tasks' data and the systems' parameters are checked,
and, when PyTorch is installed, that the twin computes our network.
"""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from sklearn_xcnn import CNNClassifier

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def suite():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("bench_quality")
    finally:
        sys.path.remove(str(BENCHMARKS))


TASK_NAMES = ["digits", "mnist-like", "mnist1d", "x-or-not-x", "signals"]


@pytest.mark.parametrize("name", TASK_NAMES)
def test_task_data_fit_its_image_shape(suite, name):
    if name == "mnist1d":
        pytest.importorskip(
            "mnist1d",
            reason="needs mnist1d, from the 'benchmarks' extra: "
            'pip install -e ".[benchmarks]"',
        )
    task = suite.TASKS[name]
    folds = task.load(True)
    assert len(folds) >= 1
    n_pixels = int(np.prod(task.base["image_shape"]))
    for X_train, y_train, X_test, y_test in folds:
        assert X_train.shape == (len(y_train), n_pixels)
        assert X_test.shape == (len(y_test), n_pixels)
        assert len(y_test) > 0
        assert np.isfinite(X_train).all()
        assert set(np.unique(y_test)) <= set(np.unique(y_train))
        assert len(np.unique(y_train)) >= 2


@pytest.mark.parametrize("name", TASK_NAMES)
def test_task_configurations_are_valid_parameters(suite, name):
    task = suite.TASKS[name]
    for system in suite.CNN_SYSTEMS:
        params = suite.cnn_params(task, system)
        if params is None:
            assert system == "ref"
            continue
        CNNClassifier(**params)._validate_params()  # raises on a bad value


def test_worker_names_skip_what_does_not_apply(suite):
    names = suite.worker_names(
        ["mnist1d", "digits"], ["ref", "svc", "torch-ref"], 2, ["fit", "curve"], {}
    )
    # mnist1d has no reference network; SVC has no epochs to curve
    assert names == [
        "mnist1d|svc|fit|0",
        "mnist1d|svc|fit|1",
        "digits|ref|fit|0",
        "digits|ref|fit|1",
        "digits|ref|curve|0",
        "digits|ref|curve|1",
        "digits|svc|fit|0",
        "digits|svc|fit|1",
        "digits|torch-ref|fit|0",
        "digits|torch-ref|fit|1",
        "digits|torch-ref|curve|0",
        "digits|torch-ref|curve|1",
    ]


def test_make_signals_classes_have_their_shapes(suite):
    from _data import make_signals

    X, y = make_signals(300, length=64, noise=0.0, seed=1)
    assert X.shape == (300, 64) and set(y) == {0, 1, 2}
    # without noise a square wave takes two opposite values, a sine or a
    # sawtooth many; all stay within their amplitude (<= 1.5)
    for row, label in zip(X, y):
        n_values = len(np.unique(np.round(np.abs(row), 5)))
        assert (n_values == 1) == (label == 1)
    assert np.abs(X).max() <= 1.5 + 1e-6


@pytest.mark.parametrize(
    "name, system",
    [("x-or-not-x", "best"), ("mnist-like", "best"), ("signals", "best")],
)
def test_twin_starts_where_ours_starts(suite, name, system):
    """The twin's network, loaded with our initial parameters, gives our
    predicted probabilities (binary: logistic output; batch norm, dropout
    and 'same' padding in eval mode)."""
    torch = pytest.importorskip(
        "torch",
        reason="needs torch, which the benchmarks compare with (never a dependency)",
    )
    from _torch_nets import load_params, net_from_spec, our_start

    X, y = suite.TASKS[name].load(True)[0][:2]
    X, y = X[:120], y[:120]
    params = dict(suite.cnn_params(suite.TASKS[name], system), random_state=0)
    est, images, _, spec, start = our_start(params, X, y)
    net = net_from_spec(spec, torch.float32 if X.dtype == np.float32 else torch.float64)
    load_params(net, start)
    net.eval()
    with torch.no_grad():
        logits = net(
            torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
        )
    logits = logits.numpy().astype(np.float64)
    ours = est.predict_proba(X)
    if spec.out_activation == "logistic":
        theirs = 1 / (1 + np.exp(-logits[:, 0]))
        ours = ours[:, 1]
    else:
        theirs = np.exp(logits - logits.max(axis=1, keepdims=True))
        theirs /= theirs.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(theirs, ours, atol=1e-5)


def test_pytorch_start_systems_run_the_same_network(suite):
    """``pytorch-ref`` is the twin of ``ref``: the same parameters, only the
    start differs (PyTorch's own), so it applies where ``ref`` does."""
    task = suite.TASKS["mnist-like"]
    assert suite.cnn_params(task, "pytorch-ref") == suite.cnn_params(task, "ref")
    names = suite.worker_names(["mnist1d", "digits"], ["pytorch-ref"], 1, ["curve"], {})
    assert names == ["digits|pytorch-ref|curve|0"]


def test_twin_from_pytorch_start_differs_from_ours(suite):
    """``start="torch"`` keeps PyTorch's own draws (reproducible from the
    seed), ``start="ours"`` loads ours: the first layers differ."""
    torch = pytest.importorskip(
        "torch",
        reason="needs torch, which the benchmarks compare with (never a dependency)",
    )
    from _torch_nets import TorchTwin

    X, y = suite.TASKS["x-or-not-x"].load(True)[0][:2]
    params = dict(suite.cnn_params(suite.TASKS["x-or-not-x"], "best"))
    params.update(random_state=0, max_iter=1, tol=0.0)

    def first_weights(start):
        torch.manual_seed(123)  # the twin reseeds: this must not matter
        twin = TorchTwin(dict(params, max_iter=0), start=start).fit(X, y)
        conv = next(m for m in twin.net_ if isinstance(m, torch.nn.Conv2d))
        return conv.weight.detach().numpy().copy()

    ours, theirs = first_weights("ours"), first_weights("torch")
    assert not np.allclose(ours, theirs)
    np.testing.assert_array_equal(theirs, first_weights("torch"))
    fan_in = np.prod(theirs.shape[1:])
    assert np.abs(theirs).max() <= 1 / np.sqrt(fan_in)  # PyTorch's default bound
    with pytest.raises(ValueError, match="start"):
        TorchTwin(params, start="zeros")
