"""The heap settings a fit makes (glibc), against a recording ``mallopt``."""

import sys

import numpy as np
import pytest

from sklearn_xcnn import CNNClassifier, _memory

from .conftest import fit_quietly


@pytest.fixture
def mallopt(monkeypatch):
    """A fake glibc ``mallopt`` that records its calls; the module as if it
    had not set the thresholds yet."""
    calls = []

    def fake(param, value):
        calls.append((param, value))
        return 1

    monkeypatch.setattr(_memory, "_glibc_mallopt", lambda: fake)
    monkeypatch.setattr(_memory, "_HEAP_SET", None)
    monkeypatch.setattr(_memory, "_HEAP_TRIM", 0)
    monkeypatch.setattr(_memory, "_HEAP_MALLOPT", None)
    for name in ("SKLEARN_XCNN_MALLOC", *_memory._USER_SETTINGS):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_sets_both_thresholds_once(mallopt):
    assert _memory.steady_heap()
    assert mallopt == [(-3, 32 << 20), (-1, 64 << 20)]  # M_MMAP_, M_TRIM_
    assert _memory.steady_heap()
    assert len(mallopt) == 2


def test_trim_threshold_follows_the_batch_up_to_its_cap(mallopt):
    MiB = 1 << 20
    assert _memory.steady_heap(10 * MiB)  # below the floor: the floor
    assert mallopt == [(-3, 32 * MiB), (-1, 64 * MiB)]
    assert _memory.steady_heap(100 * MiB)
    assert mallopt[-1] == (-1, 100 * MiB)
    assert _memory.steady_heap(80 * MiB)  # never lowered
    assert _memory.steady_heap()
    assert len(mallopt) == 3
    assert _memory.steady_heap(10_000 * MiB)
    assert mallopt[-1] == (-1, 256 * MiB)
    assert _memory.steady_heap(20_000 * MiB)
    assert len(mallopt) == 4


def test_a_refused_raise_keeps_the_threshold_set(mallopt, monkeypatch):
    assert _memory.steady_heap()
    monkeypatch.setattr(_memory, "_HEAP_MALLOPT", lambda p, v: 0)
    assert _memory.steady_heap(100 << 20)
    assert _memory._HEAP_TRIM == 64 << 20


def test_fit_keeps_one_batch_in_the_heap(mallopt, monkeypatch):
    from sklearn_xcnn import _base

    needs = []

    def recorded(spec, n_rows, itemsize):
        needs.append(_memory.check_training_memory(spec, n_rows, itemsize))
        return 100 << 20  # as if a batch took 100 MiB

    monkeypatch.setattr(_base, "check_training_memory", recorded)
    rng = np.random.RandomState(0)
    X, y = rng.uniform(size=(20, 25)), np.arange(20) % 2
    clf = CNNClassifier(n_filters=2, hidden_units=(3,), max_iter=2, random_state=0)
    fit_quietly(clf, X, y)
    assert (-1, 100 << 20) in mallopt
    # the estimate is the batch's: 20 rows (batch_size="auto") of this net
    spec = clf._network_spec()
    per_image = _memory.bytes_per_image(spec, 8, training=True)
    assert 20 * per_image < needs[0] < 20 * per_image + 10_000


@pytest.mark.parametrize(
    "setting",
    [("SKLEARN_XCNN_MALLOC", "0"), ("MALLOC_TRIM_THRESHOLD_", "131072"),
     ("MALLOC_MMAP_THRESHOLD_", "131072")],
)  # fmt: skip
def test_opt_out_and_the_users_own_settings(mallopt, monkeypatch, setting):
    monkeypatch.setenv(*setting)
    assert not _memory.steady_heap()
    assert mallopt == []


def test_other_c_libraries_are_left_alone(monkeypatch):
    monkeypatch.setattr(_memory, "_glibc_mallopt", lambda: None)
    monkeypatch.setattr(_memory, "_HEAP_SET", None)
    monkeypatch.delenv("SKLEARN_XCNN_MALLOC", raising=False)
    assert not _memory.steady_heap()


def test_a_refused_setting_is_reported(mallopt, monkeypatch):
    monkeypatch.setattr(_memory, "_glibc_mallopt", lambda: lambda p, v: 0)
    assert not _memory.steady_heap()


def test_fit_and_predict_set_the_heap(mallopt):
    rng = np.random.RandomState(0)
    X, y = rng.uniform(size=(20, 25)), np.arange(20) % 2
    clf = CNNClassifier(n_filters=2, hidden_units=(3,), max_iter=2, random_state=0)
    fit_quietly(clf, X, y)
    assert len(mallopt) == 2
    _memory._HEAP_SET = None  # as in a process that only loads a model
    clf.predict(X)
    assert len(mallopt) == 4


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc on Linux")
def test_finds_glibc_on_linux():
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("not glibc")
    mallopt = _memory._glibc_mallopt()
    assert mallopt is not None
    assert mallopt(_memory._M_TRIM_THRESHOLD, _memory.TRIM_THRESHOLD) == 1
