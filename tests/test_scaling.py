"""Searches in parallel (joblib processes, a Dask cluster) and out-of-core fits.

Each recipe of docs/scaling.rst lives in docs/scaling_recipes.py and has a
test here named after it; the others compare ``n_jobs=2`` with ``n_jobs=1``.
"""

import importlib.util
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from joblib import Parallel, cpu_count, delayed
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import (
    RandomizedSearchCV,
    cross_val_score,
    train_test_split,
)
from threadpoolctl import threadpool_info

from sklearn_xcnn import CNNClassifier

from .conftest import V02, needs

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

_RECIPES_PATH = Path(__file__).resolve().parents[1] / "docs" / "scaling_recipes.py"


def _load_recipes():
    spec = importlib.util.spec_from_file_location("scaling_recipes", _RECIPES_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


recipes = _load_recipes()

# few epochs and rows: the searches test agreement, not accuracy
SEARCH_ITER = 5


@pytest.fixture(scope="module")
def digits_small():
    X, y = load_digits(return_X_y=True)
    return X[:240] / 16, y[:240]


@pytest.fixture(scope="module")
def digits_split():
    """1200 training rows (3 chunks of 400) and 597 test rows, float32."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    return train_test_split(X, y, train_size=1200, random_state=0)


@pytest.fixture(scope="module")
def sequential_search(digits_small):
    """The grid search of the recipes run in this process: the reference."""
    return recipes.search_on_local_processes(
        *digits_small, n_jobs=1, max_iter=SEARCH_ITER
    )


def _assert_same_search(search, reference):
    assert search.best_params_ == reference.best_params_
    for key in reference.cv_results_:
        if key.endswith("test_score"):
            np.testing.assert_array_equal(
                search.cv_results_[key], reference.cv_results_[key], err_msg=key
            )


# ---------------------------------------------------------- local processes
def test_search_on_local_processes(digits_small, sequential_search):
    search = recipes.search_on_local_processes(
        *digits_small, n_jobs=2, max_iter=SEARCH_ITER
    )
    _assert_same_search(search, sequential_search)
    # the scores vary with the parameters, so equal results are not trivial
    assert len(np.unique(sequential_search.cv_results_["mean_test_score"])) > 1


def test_search_with_one_blas_thread(digits_small, sequential_search):
    before = [pool["num_threads"] for pool in threadpool_info()]
    search = recipes.search_with_one_blas_thread(*digits_small, max_iter=SEARCH_ITER)
    _assert_same_search(search, sequential_search)
    assert [pool["num_threads"] for pool in threadpool_info()] == before


def _blas_threads():
    return os.getpid(), [
        p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"
    ]


def test_loky_workers_do_not_oversubscribe():
    # what the page promises: each of the n_jobs workers gets
    # cpu_count // n_jobs BLAS threads at most
    results = Parallel(n_jobs=2)(delayed(_blas_threads)() for _ in range(4))
    limit = max(1, cpu_count() // 2)
    assert all(os.getpid() != pid for pid, _ in results)
    assert all(n <= limit for _, threads in results for n in threads)


def test_randomized_search_n_jobs(digits_small):
    distributions = {"stride": [1, 2], "pooling": ["max", "mean", "sum"]}
    clf = CNNClassifier(
        n_filters=4, hidden_units=32, max_iter=SEARCH_ITER, random_state=0
    )
    searches = [
        RandomizedSearchCV(
            clf, distributions, n_iter=3, cv=3, n_jobs=n_jobs, random_state=0
        ).fit(*digits_small)
        for n_jobs in (1, 2)
    ]
    assert searches[0].cv_results_["params"] == searches[1].cv_results_["params"]
    _assert_same_search(searches[1], searches[0])


def test_cross_val_score_n_jobs(digits_small):
    clf = CNNClassifier(
        n_filters=4, hidden_units=32, max_iter=SEARCH_ITER, random_state=0
    )
    scores = [cross_val_score(clf, *digits_small, cv=3, n_jobs=n) for n in (1, 2)]
    np.testing.assert_array_equal(scores[1], scores[0])


# -------------------------------------------------------------- Dask cluster
@pytest.fixture
def dask_client():
    """A client of the recipe's local cluster, closed after the test.

    Function scope: while a client is open it is Dask's default scheduler,
    which would slow down the ``compute`` calls of the other tests.
    """
    needs("distributed")
    cluster, client = recipes.start_local_cluster(n_workers=2)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_search_on_dask_cluster(digits_small, sequential_search, dask_client):
    from distributed import get_task_stream

    workers = dask_client.scheduler_info()["workers"]
    addresses = set(workers)
    assert len(workers) == 2
    assert all(w["nthreads"] == 1 for w in workers.values())
    assert all(address.startswith("tcp://127.0.0.1:") for address in workers)
    # the nanny starts each worker process with one BLAS thread
    blas = dask_client.run(_blas_threads)
    assert all(n == 1 for _, threads in blas.values() for n in threads)
    with get_task_stream(dask_client) as stream:
        search = recipes.search_on_dask_cluster(
            *digits_small, dask_client, max_iter=SEARCH_ITER
        )
    _assert_same_search(search, sequential_search)
    # the fits ran as tasks on the cluster's workers (joblib may batch them)
    assert stream.data
    # (against the workers seen before the search: the scheduler's identity,
    # which scheduler_info() returns, can be refreshed late on a loaded machine)
    assert {task["worker"] for task in stream.data} <= addresses


# -------------------------------------------------------------- out of core
N_EPOCHS = 100
# chunked training shuffles within a chunk, not over all rows, so it ends
# near the in-memory fit, not on it: within 2 points (12 of 597 test images)
TOLERANCE = 0.02


def _network(max_iter=N_EPOCHS):
    # the 0.2 regime's constant rate (conftest.V02): a cosine over max_iter
    # epochs would anneal over max_iter partial_fit calls, a third of the
    # chunked runs' (3 chunks an epoch), and in memory it stops on the
    # training loss before its N_EPOCHS
    network = dict(n_filters=4, hidden_units=32, batch_size=200, max_iter=max_iter)
    return CNNClassifier(**{**V02, **network}, random_state=0)


@pytest.fixture(scope="module")
def in_memory_accuracy(digits_split):
    """Accuracy of ``fit`` on all the training rows in memory."""
    X_train, X_test, y_train, y_test = digits_split
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = _network().fit(X_train, y_train)
    assert clf.n_iter_ == N_EPOCHS  # same number of epochs as the chunked runs
    return clf.score(X_test, y_test)


@pytest.fixture(scope="module")
def memmap_model(digits_split, tmp_path_factory):
    X_train, _, y_train, _ = digits_split
    path = tmp_path_factory.mktemp("memmap") / "X_train.dat"
    shape = recipes.write_memmap(path, X_train)
    assert shape == X_train.shape
    classes = np.unique(y_train)
    return recipes.partial_fit_memmap(
        _network(), path, shape, y_train, classes, chunk_rows=400, n_epochs=N_EPOCHS
    )


def test_partial_fit_memmap(digits_split, memmap_model, in_memory_accuracy):
    _, X_test, _, y_test = digits_split
    # one partial_fit call (one epoch over its chunk) per chunk and epoch
    assert memmap_model.n_iter_ == 3 * N_EPOCHS
    assert in_memory_accuracy > 0.85
    assert abs(memmap_model.score(X_test, y_test) - in_memory_accuracy) <= TOLERANCE


def _assert_same_network(clf, other):
    assert clf.n_iter_ == other.n_iter_
    for a, b in zip(clf._params(), other._params()):
        np.testing.assert_array_equal(a, b)


def _dask_arrays(digits_split):
    da = needs("dask.array")
    X_train, _, y_train, _ = digits_split
    X = da.from_array(X_train, chunks=(400, 16))  # blocks split the columns too
    return X, da.from_array(y_train, chunks=400)


def test_partial_fit_dask_blocks(digits_split, memmap_model, in_memory_accuracy):
    X, y = _dask_arrays(digits_split)
    classes = np.unique(digits_split[2])
    clf = recipes.partial_fit_dask_blocks(_network(), X, y, classes, n_epochs=N_EPOCHS)
    _, X_test, _, y_test = digits_split
    assert abs(clf.score(X_test, y_test) - in_memory_accuracy) <= TOLERANCE
    # the same chunks in the same order as the memmap: the same network
    _assert_same_network(clf, memmap_model)


def test_incremental_dask_ml(digits_split, memmap_model, in_memory_accuracy):
    needs("dask_ml")
    X, y = _dask_arrays(digits_split)
    X = X.rechunk({1: -1})  # Incremental needs whole rows in each block
    classes = np.unique(digits_split[2])
    model = recipes.incremental_dask_ml(_network(), X, y, classes, n_epochs=N_EPOCHS)
    _, X_test, _, y_test = digits_split
    assert abs(model.score(X_test, y_test) - in_memory_accuracy) <= TOLERANCE
    # Incremental calls partial_fit on the blocks in order: the plain loop
    _assert_same_network(model.estimator_, memmap_model)
