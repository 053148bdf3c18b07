"""The training regime of the series presets (sklearn_xcnn/series/_regime.py):
every preset takes it as its defaults, and its docstring states the defaults
its signature has."""

import ast
import inspect
import math
import re

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_xcnn import series
from sklearn_xcnn.series import _regime
from sklearn_xcnn.series._base import SeriesMixin
from sklearn_xcnn.series._regime import PUBLISHED_RATE_TRAINING, TRAINING, auto_max_iter

from ..conftest import fit_quietly

PRESETS = [getattr(series, name) for name in series.__all__]

# "    name : type, default=value" lines of a numpydoc Parameters section
_ENTRY = re.compile(r"^(\w+) : [^\n]*\bdefault=([^\n]+)$", re.M)
_NAMED = {"np.inf": math.inf}


def documented_defaults(cls):
    """``{parameter: default}`` as the class docstring states them."""
    found = {}
    for name, text in _ENTRY.findall(inspect.cleandoc(cls.__doc__)):
        text = text.strip()
        found[name] = _NAMED[text] if text in _NAMED else ast.literal_eval(text)
    return found


def signature_defaults(cls):
    return {
        name: parameter.default
        for name, parameter in inspect.signature(cls).parameters.items()
    }


@pytest.mark.parametrize("cls", PRESETS, ids=lambda cls: cls.__name__)
def test_presets_take_the_regime(cls):
    defaults = signature_defaults(cls)
    regime = TRAINING if cls.__name__.startswith("FCN") else PUBLISHED_RATE_TRAINING
    assert {name: defaults[name] for name in regime} == regime


def test_published_rate_differs_by_the_first_rate_only():
    differ = {k for k in TRAINING if TRAINING[k] != PUBLISHED_RATE_TRAINING[k]}
    assert differ == {"learning_rate_init"}
    assert PUBLISHED_RATE_TRAINING["learning_rate_init"] == 1e-3


@pytest.mark.parametrize("cls", PRESETS, ids=lambda cls: cls.__name__)
def test_docstring_states_the_signature_defaults(cls):
    documented = documented_defaults(cls)
    defaults = signature_defaults(cls)
    assert sorted(documented) == sorted(defaults)
    wrong = {
        name: (documented[name], value)
        for name, value in defaults.items()
        if documented[name] != value
    }
    assert not wrong, f"docstring vs signature: {wrong}"


def test_documented_defaults_reads_the_entries():
    """The reader above sees a wrong default (the check can fail)."""

    class Fake:
        """Fake.

        Parameters
        ----------
        batch_size : int or "auto", default=32
            Text.

        padding : "same" or int, default="same"
            Text.

        n_iter_no_change : int or np.inf, default=np.inf
            Text.
        """

    assert documented_defaults(Fake) == {
        "batch_size": 32,
        "padding": "same",
        "n_iter_no_change": math.inf,
    }


# ------------------------------------------------------------ max_iter="auto"
def _epochs_by_counting(n_samples, batch_size, steps, low, high):
    """Epochs of whole passes until ``steps`` batches have run, counted
    batch by batch, then held within ``[low, high]``."""
    size = min(200, n_samples) if batch_size == "auto" else batch_size
    done = epochs = 0
    while done < steps:
        epochs += 1
        for _ in range(0, n_samples, size):
            done += 1
    return min(high, max(low, epochs))


@pytest.mark.parametrize(
    "n_samples, batch_size, expected",
    [
        (36, 16, 334),  # ArrowHead: 3 batches an epoch
        (50, 16, 250),  # GunPoint: 4
        (67, 16, 200),  # ItalyPowerDemand: 5
        (200, 16, 100),  # OSULeaf: 13 batches, 77 epochs, raised to 100
        (10, 16, 500),  # one batch: 1 000 epochs, cut to 500
        (100, "auto", 500),  # "auto" batches are min(200, n): one batch
    ],
)
def test_auto_max_iter_hand_worked(n_samples, batch_size, expected):
    assert auto_max_iter(n_samples, batch_size) == expected
    steps, epochs = _regime.AUTO_STEPS, _regime.AUTO_EPOCHS
    assert _epochs_by_counting(n_samples, batch_size, steps, *epochs) == expected


@pytest.mark.parametrize("n_samples", [1, 7, 16, 17, 33, 145, 1000, 5000])
@pytest.mark.parametrize("batch_size", [1, 8, 16, 64, "auto"])
def test_auto_max_iter_counts_the_steps(n_samples, batch_size):
    steps, epochs = _regime.AUTO_STEPS, _regime.AUTO_EPOCHS
    expected = _epochs_by_counting(n_samples, batch_size, steps, *epochs)
    assert auto_max_iter(n_samples, batch_size) == expected


@pytest.fixture
def few_auto_steps(monkeypatch):
    """``max_iter="auto"`` aiming at 6 steps within 2..10 epochs."""
    monkeypatch.setattr(SeriesMixin, "_auto_steps", 6)
    monkeypatch.setattr(SeriesMixin, "_auto_epochs", (2, 10))


def _series(n_samples=40, length=12):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n_samples, 1, length))
    y = np.arange(n_samples) % 2
    X[y == 1, 0, ::2] += 1.0
    return X, y


def test_auto_max_iter_resolved_in_fit(few_auto_steps):
    """40 series in batches of 16 are 3 steps an epoch: 2 epochs, the
    cosine spans those 2, the parameter stays "auto"."""
    X, y = _series()
    clf = series.FCNClassifier(
        n_filters=(2,), kernel_size=3, n_iter_no_change=math.inf, random_state=0
    )
    assert clf.max_iter == "auto"
    fit_quietly(clf, X, y)
    assert clf.max_iter_ == 2 and clf.n_iter_ == 2
    assert clf.get_params()["max_iter"] == "auto"
    first, second = clf.learning_rate_curve_
    assert first == pytest.approx(1e-2)
    assert second == pytest.approx(1e-2 * (1 + math.cos(math.pi / 2)) / 2)

    fit_quietly(clf.set_params(batch_size=8), X, y)  # 5 steps an epoch
    assert clf.max_iter_ == 2
    fit_quietly(clf.set_params(batch_size=40), X, y)  # 1 step: 6 epochs
    assert clf.max_iter_ == 6 == clf.n_iter_


def test_int_max_iter_is_recorded(few_auto_steps):
    X, y = _series()
    clf = series.ResNetClassifier(
        n_filters=(2,), kernel_size=((3, 3, 3),), max_iter=3, random_state=0
    )
    fit_quietly(clf, X, y)
    assert clf.max_iter_ == 3 == clf.n_iter_


def test_inception_time_members_resolve_auto(few_auto_steps):
    X, y = _series()
    clf = series.InceptionTimeClassifier(
        n_filters=2, kernel_size=4, block_depth=1, n_networks=2, random_state=0
    )
    fit_quietly(clf, X, y)
    assert [m.max_iter_ for m in clf.estimators_] == [2, 2]


def test_max_iter_auto_only(few_auto_steps):
    X, y = _series()
    with pytest.raises(InvalidParameterError, match="max_iter"):
        series.FCNClassifier(max_iter="automatic").fit(X, y)
