"""Saving and loading: pickle, joblib and skops, in and across processes."""

import os
import pickle
import re
import subprocess
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import sklearn_xcnn
from sklearn_xcnn import CNNClassifier, ModelVersionWarning
from sklearn_xcnn._persistence import VERSION_KEY

ROOT = Path(__file__).resolve().parents[1]
SAVING_DOC = ROOT / "docs" / "saving.rst"


def _data(seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(size=(40, 16))
    return X, np.arange(40) % 3


def _fit(**params):
    defaults = {"n_filters": 2, "hidden_units": 4, "max_iter": 5, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return CNNClassifier(**{**defaults, **params}).fit(*_data())


def _fitted_attributes(clf):
    return {k: v for k, v in vars(clf).items() if k.endswith("_") and k[0] != "_"}


def _assert_same_model(a, b):
    X, _ = _data(seed=1)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.get_params() == b.get_params()
    attrs_a, attrs_b = _fitted_attributes(a), _fitted_attributes(b)
    assert attrs_a.keys() == attrs_b.keys()
    for name, value in attrs_a.items():
        if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            for x, y in zip(value, attrs_b[name]):
                np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_equal(value, attrs_b[name])


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_pickle_round_trip(solver):
    clf = _fit(solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: no warning
        loaded = pickle.loads(pickle.dumps(clf))
    _assert_same_model(clf, loaded)
    assert not hasattr(loaded, VERSION_KEY)


def test_pickle_stores_the_package_version():
    state = _fit().__getstate__()
    assert state[VERSION_KEY] == sklearn_xcnn.__version__


def test_training_continues_identically_after_a_round_trip():
    clf = _fit(warm_start=True)
    loaded = pickle.loads(pickle.dumps(clf))
    for model in (clf, loaded):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(*_data())
        model.partial_fit(*_data())
    _assert_same_model(clf, loaded)


def _dumps_as(version, obj, dumps=pickle.dumps, monkeypatch=None):
    monkeypatch.setattr(sklearn_xcnn, "__version__", version)
    data = dumps(obj)
    monkeypatch.undo()
    return data


def test_loading_a_pickle_from_another_version_warns(monkeypatch):
    clf = _fit()
    data = _dumps_as("0.0.1", clf, monkeypatch=monkeypatch)
    with pytest.warns(ModelVersionWarning, match="saved by sklearn-xcnn 0.0.1") as rec:
        loaded = pickle.loads(data)
    warning = rec[0].message
    assert warning.estimator_name == "CNNClassifier"
    assert warning.saved_version == "0.0.1"
    assert warning.current_version == sklearn_xcnn.__version__
    _assert_same_model(clf, loaded)  # it warns, but loads


def test_loading_a_pickle_without_a_version_warns():
    clf = _fit()
    state = clf.__getstate__()
    del state[VERSION_KEY]
    fresh = CNNClassifier.__new__(CNNClassifier)
    with pytest.warns(ModelVersionWarning, match="saved by sklearn-xcnn unknown"):
        fresh.__setstate__(state)


_LOAD_IN_CHILD = """
import pickle, sys
import joblib, numpy as np
path = sys.argv[1]
X = np.load(path + "/X.npy")
with open(path + "/model.pkl", "rb") as f:
    clf = pickle.load(f)
np.save(path + "/pickle.npy", clf.predict_proba(X))
np.save(path + "/joblib.npy", joblib.load(path + "/model.joblib").predict_proba(X))
"""


def test_pickle_and_joblib_round_trips_across_processes(tmp_path):
    clf = _fit(n_filters=(3, 2), pooling="mean", solver="sgd")
    X, _ = _data(seed=1)
    np.save(tmp_path / "X.npy", X)
    with open(tmp_path / "model.pkl", "wb") as f:
        pickle.dump(clf, f)
    joblib.dump(clf, tmp_path / "model.joblib")
    subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", _LOAD_IN_CHILD, tmp_path],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        timeout=120,
    )
    expected = clf.predict_proba(X)
    np.testing.assert_array_equal(np.load(tmp_path / "pickle.npy"), expected)
    np.testing.assert_array_equal(np.load(tmp_path / "joblib.npy"), expected)


# ------------------------------------------------------------------ skops
def _documented_untrusted_types():
    """The types that ``docs/saving.rst`` lists as this package's own."""
    return set(re.findall(r"``(sklearn_xcnn\.[\w.]+)``", SAVING_DOC.read_text()))


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs", None])
def test_skops_untrusted_types_are_only_this_packages_own(solver, tmp_path):
    sio = pytest.importorskip("skops.io")
    clf = CNNClassifier() if solver is None else _fit(solver=solver)
    path = tmp_path / "model.skops"
    sio.dump(clf, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert "sklearn_xcnn._classifier.CNNClassifier" in untrusted
    assert all(t.startswith("sklearn_xcnn.") for t in untrusted), untrusted
    assert set(untrusted) <= _documented_untrusted_types()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelVersionWarning)
        loaded = sio.load(path, trusted=untrusted)
    if solver is not None:
        _assert_same_model(clf, loaded)


def test_skops_refuses_untrusted_types_by_default(tmp_path):
    sio = pytest.importorskip("skops.io")
    path = tmp_path / "model.skops"
    sio.dump(_fit(), path)
    with pytest.raises(Exception, match="[Uu]ntrusted types"):
        sio.load(path)


def test_skops_file_from_another_version_warns(monkeypatch):
    sio = pytest.importorskip("skops.io")
    data = _dumps_as("0.0.1", _fit(), dumps=sio.dumps, monkeypatch=monkeypatch)
    with pytest.warns(ModelVersionWarning, match="saved by sklearn-xcnn 0.0.1"):
        sio.loads(data, trusted=sio.get_untrusted_types(data=data))
