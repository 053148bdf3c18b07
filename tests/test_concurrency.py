"""Several threads predicting with one fitted model at once."""

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_xcnn import CNNClassifier
from sklearn_xcnn._training import PREDICT_CHUNK


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.RandomState(0)
    X, y = rng.uniform(size=(60, 36)), np.arange(60) % 3
    clf = CNNClassifier(
        n_filters=(4, 3), kernel_size=2, hidden_units=8, max_iter=5, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


@pytest.mark.parametrize("algorithm", ["im2col", "scipy"])
def test_threads_predict_like_a_single_thread(fitted, algorithm):
    clf = fitted.set_params(algorithm=algorithm)
    rng = np.random.RandomState(1)
    # batches of different sizes, some spanning several prediction chunks
    batches = [rng.uniform(size=(n, 36)) for n in (1, 7, PREDICT_CHUNK + 3, 300)]
    expected = [clf.predict_proba(X) for X in batches]
    jobs = [i % len(batches) for i in range(48)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: clf.predict_proba(batches[i]), jobs))
    for i, proba in zip(jobs, results):
        np.testing.assert_array_equal(proba, expected[i])


def test_threads_mixing_prediction_methods(fitted):
    rng = np.random.RandomState(2)
    batches = [rng.uniform(size=(n, 36)) for n in (50, 9)]
    methods = ["predict", "predict_proba", "predict_log_proba", "decision_function"]
    jobs = [(m, i) for m in methods for i in range(len(batches))] * 5
    expected = {(m, i): getattr(fitted, m)(batches[i]) for m, i in set(jobs)}
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda job: getattr(fitted, job[0])(batches[job[1]]), jobs)
        )
    for job, result in zip(jobs, results):
        np.testing.assert_array_equal(result, expected[job])
