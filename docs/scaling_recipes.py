"""Recipes of the "Scaling out" page (docs/scaling.rst).

The page shows these functions with ``literalinclude``; tests/test_scaling.py
runs each of them, so the code on the page is the code that is tested.
"""

import numpy as np
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_limits

from sklearn_xcnn import CNNClassifier

PARAM_GRID = {"stride": [1, 2], "pooling": ["max", "mean"]}


def search_on_local_processes(X, y, n_jobs=2, max_iter=30):
    """Grid search whose fits run in ``n_jobs`` worker processes."""
    clf = CNNClassifier(n_filters=4, hidden_units=32, max_iter=max_iter, random_state=0)
    # joblib's default "loky" backend starts worker processes and caps the
    # BLAS/OpenMP threads of each at cpu_count // n_jobs: no oversubscription.
    search = GridSearchCV(clf, PARAM_GRID, cv=3, n_jobs=n_jobs)
    return search.fit(X, y)


def search_with_one_blas_thread(X, y, max_iter=30):
    """Sequential grid search with BLAS held to one thread."""
    clf = CNNClassifier(n_filters=4, hidden_units=32, max_iter=max_iter, random_state=0)
    search = GridSearchCV(clf, PARAM_GRID, cv=3, n_jobs=1)
    # The network multiplies many small matrices, for which starting BLAS
    # threads costs more than it saves; the limit is lifted on exit.
    with threadpool_limits(limits=1, user_api="blas"):
        search.fit(X, y)
    return search


def start_local_cluster(n_workers=2):
    """A Dask cluster of ``n_workers`` processes on this machine, and its client.

    On a real cluster, connect instead with
    ``Client("tcp://scheduler-address:8786")``.
    """
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    return cluster, Client(cluster)


def search_on_dask_cluster(X, y, client, max_iter=30):
    """Grid search whose fits run as tasks on the Dask cluster of ``client``."""
    clf = CNNClassifier(n_filters=4, hidden_units=32, max_iter=max_iter, random_state=0)
    search = GridSearchCV(clf, PARAM_GRID, cv=3)
    # every fit of every candidate and fold becomes a task on the workers;
    # the final refit on all of X runs here.
    with parallel_backend("dask", client=client):
        search.fit(X, y)
    return search


def write_memmap(path, X):
    """Store ``X`` (n_samples, n_features) on disk as a float32 memmap."""
    X_disk = np.memmap(path, dtype=np.float32, mode="w+", shape=X.shape)
    X_disk[:] = X
    X_disk.flush()
    return X_disk.shape


def partial_fit_memmap(clf, path, shape, y, classes, chunk_rows=400, n_epochs=40):
    """Train ``clf`` on the memmap at ``path``, one chunk of rows at a time.

    ``shape`` is (n_samples, n_features) and ``y`` (n_samples,) the labels.
    Only the current chunk is read into memory. Store the rows in random
    order: each ``partial_fit`` call shuffles its own chunk only.
    """
    X_disk = np.memmap(path, dtype=np.float32, mode="r", shape=shape)
    for _ in range(n_epochs):
        for start in range(0, shape[0], chunk_rows):
            stop = start + chunk_rows
            # one partial_fit call is one epoch over the chunk
            clf.partial_fit(X_disk[start:stop], y[start:stop], classes=classes)
    return clf


def partial_fit_dask_blocks(clf, X, y, classes, n_epochs=40):
    """Train ``clf`` on Dask arrays one block of rows at a time.

    ``X`` (n_samples, n_features) and ``y`` (n_samples,) are Dask arrays
    chunked along the rows alike; each block is computed, used, and dropped.
    """
    import dask

    X = X.rechunk({1: -1})  # whole rows in each block
    for _ in range(n_epochs):
        for i in range(X.numblocks[0]):
            X_block, y_block = dask.compute(X.blocks[i], y.blocks[i])
            clf.partial_fit(X_block, y_block, classes=classes)
    return clf


def incremental_dask_ml(clf, X, y, classes, n_epochs=40):
    """The same loop through ``dask_ml.wrappers.Incremental``."""
    from dask_ml.wrappers import Incremental

    model = Incremental(clf, scoring="accuracy", shuffle_blocks=False)
    for _ in range(n_epochs):
        # one pass over the blocks, one partial_fit call per block
        model.partial_fit(X, y, classes=classes)
    return model
