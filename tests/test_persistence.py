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
from sklearn_xcnn import CNNClassifier, CNNRegressor, ModelVersionWarning
from sklearn_xcnn._persistence import VERSION_KEY

from .conftest import needs

ROOT = Path(__file__).resolve().parents[1]
SAVING_DOC = ROOT / "docs" / "saving.rst"


# every test runs for both estimators; the classifier's assertions as before
ESTIMATORS = [CNNClassifier, CNNRegressor]
both_estimators = pytest.mark.parametrize(
    "cls", ESTIMATORS, ids=[cls.__name__ for cls in ESTIMATORS]
)


def _data(seed=0, cls=CNNClassifier):
    rng = np.random.RandomState(seed)
    X = rng.uniform(size=(40, 16))
    if cls is CNNRegressor:
        return X, np.c_[X.mean(axis=1), X[:, :4].sum(axis=1)]  # two outputs
    return X, np.arange(40) % 3


def _fit(cls=CNNClassifier, **params):
    defaults = {"n_filters": 2, "hidden_units": 4, "max_iter": 5, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(**{**defaults, **params}).fit(*_data(cls=cls))


def _outputs(model, X):
    """What the model predicts: probabilities, or values for a regressor."""
    return (
        model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)
    )


def _fitted_attributes(clf):
    return {k: v for k, v in vars(clf).items() if k.endswith("_") and k[0] != "_"}


def _assert_same_model(a, b):
    X, _ = _data(seed=1)
    np.testing.assert_array_equal(_outputs(a, X), _outputs(b, X))
    assert a.get_params() == b.get_params()
    attrs_a, attrs_b = _fitted_attributes(a), _fitted_attributes(b)
    assert attrs_a.keys() == attrs_b.keys()
    for name, value in attrs_a.items():
        if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            for x, y in zip(value, attrs_b[name]):
                np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_equal(value, attrs_b[name])


@both_estimators
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_pickle_round_trip(solver, cls):
    clf = _fit(cls, solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: no warning
        loaded = pickle.loads(pickle.dumps(clf))
    _assert_same_model(clf, loaded)
    assert not hasattr(loaded, VERSION_KEY)


@both_estimators
def test_pickle_stores_the_package_version(cls):
    state = _fit(cls).__getstate__()
    assert state[VERSION_KEY] == sklearn_xcnn.__version__


@both_estimators
def test_training_continues_identically_after_a_round_trip(cls):
    clf = _fit(cls, warm_start=True)
    loaded = pickle.loads(pickle.dumps(clf))
    for model in (clf, loaded):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(*_data(cls=cls))
        model.partial_fit(*_data(cls=cls))
    _assert_same_model(clf, loaded)


def _dumps_as(version, obj, dumps=pickle.dumps, monkeypatch=None):
    monkeypatch.setattr(sklearn_xcnn, "__version__", version)
    data = dumps(obj)
    monkeypatch.undo()
    return data


@both_estimators
def test_loading_a_pickle_from_another_version_warns(monkeypatch, cls):
    clf = _fit(cls)
    data = _dumps_as("0.0.1", clf, monkeypatch=monkeypatch)
    with pytest.warns(ModelVersionWarning, match="saved by sklearn-xcnn 0.0.1") as rec:
        loaded = pickle.loads(data)
    warning = rec[0].message
    assert warning.estimator_name == cls.__name__
    assert warning.saved_version == "0.0.1"
    assert warning.current_version == sklearn_xcnn.__version__
    _assert_same_model(clf, loaded)  # it warns, but loads


@both_estimators
def test_loading_a_pickle_without_a_version_warns(cls):
    clf = _fit(cls)
    state = clf.__getstate__()
    del state[VERSION_KEY]
    fresh = cls.__new__(cls)
    with pytest.warns(ModelVersionWarning, match="saved by sklearn-xcnn unknown"):
        fresh.__setstate__(state)


_LOAD_IN_CHILD = """
import pickle, sys
import joblib, numpy as np
path, method = sys.argv[1], sys.argv[2]
X = np.load(path + "/X.npy")
with open(path + "/model.pkl", "rb") as f:
    clf = pickle.load(f)
np.save(path + "/pickle.npy", getattr(clf, method)(X))
np.save(path + "/joblib.npy", getattr(joblib.load(path + "/model.joblib"), method)(X))
"""


@both_estimators
def test_pickle_and_joblib_round_trips_across_processes(tmp_path, cls):
    clf = _fit(cls, n_filters=(3, 2), pooling="mean", solver="sgd")
    method = "predict_proba" if cls is CNNClassifier else "predict"
    X, _ = _data(seed=1)
    np.save(tmp_path / "X.npy", X)
    with open(tmp_path / "model.pkl", "wb") as f:
        pickle.dump(clf, f)
    joblib.dump(clf, tmp_path / "model.joblib")
    subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", _LOAD_IN_CHILD, tmp_path]
        + [method],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        timeout=120,
    )
    expected = _outputs(clf, X)
    np.testing.assert_array_equal(np.load(tmp_path / "pickle.npy"), expected)
    np.testing.assert_array_equal(np.load(tmp_path / "joblib.npy"), expected)


# ------------------------------------------------------------------ skops
def _documented_untrusted_types():
    """The types that ``docs/saving.rst`` lists as this package's own."""
    return set(re.findall(r"``(sklearn_xcnn\.[\w.]+)``", SAVING_DOC.read_text()))


@both_estimators
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs", None])
def test_skops_untrusted_types_are_only_this_packages_own(solver, tmp_path, cls):
    sio = needs("skops.io")
    clf = cls() if solver is None else _fit(cls, solver=solver)
    path = tmp_path / "model.skops"
    sio.dump(clf, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert f"{cls.__module__}.{cls.__name__}" in untrusted
    assert all(t.startswith("sklearn_xcnn.") for t in untrusted), untrusted
    assert set(untrusted) <= _documented_untrusted_types()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelVersionWarning)
        loaded = sio.load(path, trusted=untrusted)
    if solver is not None:
        _assert_same_model(clf, loaded)


@both_estimators
def test_skops_refuses_untrusted_types_by_default(tmp_path, cls):
    sio = needs("skops.io")
    path = tmp_path / "model.skops"
    sio.dump(_fit(cls), path)
    with pytest.raises(Exception, match="[Uu]ntrusted types"):
        sio.load(path)


@both_estimators
def test_skops_file_from_another_version_warns(monkeypatch, cls):
    sio = needs("skops.io")
    data = _dumps_as("0.0.1", _fit(cls), dumps=sio.dumps, monkeypatch=monkeypatch)
    with pytest.warns(ModelVersionWarning, match="saved by sklearn-xcnn 0.0.1"):
        sio.loads(data, trusted=sio.get_untrusted_types(data=data))
