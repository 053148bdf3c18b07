"""The optional extras: what names them, what skips without them, and the
README's set-up commands that CI runs."""

import importlib
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from sklearn_xcnn.utils import _optional, discovery
from sklearn_xcnn.utils._optional import (
    EXTRAS,
    first_missing,
    missing_reason,
    source_needs,
)

ROOT = Path(__file__).resolve().parents[2]


def test_every_extra_named_exists_in_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    for extra in set(EXTRAS.values()):
        assert f"\n{extra} = [" in text, extra


def test_test_extra_brings_every_optional_extra():
    """The README's test command runs the whole suite: the ``test`` extra
    includes every extra that a test or doctest may need."""
    text = (ROOT / "pyproject.toml").read_text()
    test_extra = text[
        text.index("\ntest = [") : text.index("]\n", text.index("\ntest = ["))
    ]
    for extra in set(EXTRAS.values()) - {"test"}:
        assert extra in test_extra.split("sklearn-xcnn[")[1].split("]")[0], extra


def test_missing_reason_names_module_and_extra():
    assert missing_reason("skops.io") == (
        "needs skops, from the 'persistence' extra: pip install -e \".[persistence]\""
    )
    assert (
        missing_reason("nonexistent_pkg")
        == "needs nonexistent_pkg, which is not installed"
    )


@pytest.mark.parametrize(
    "source, expected",
    [
        (">>> import numpy as np", []),
        (">>> from onnxruntime import InferenceSession", ["onnxruntime"]),
        (">>> import sklearn_xcnn.onnx", ["onnx", "onnxruntime", "skl2onnx"]),
        (">>> disp = FilterDisplay.from_estimator(clf)", ["matplotlib"]),
        (">>> ax = disp.plot()", ["matplotlib"]),
        (">>> import dask.array as da\n>>> import tqdm", ["dask", "tqdm"]),
        ("text that mentions import onnx mid-line", []),
    ],
)
def test_source_needs(source, expected):
    assert source_needs(source) == expected


def test_first_missing(monkeypatch):
    monkeypatch.setattr(_optional, "is_installed", lambda m: m != "skops")
    assert first_missing(["numpy", "skops", "tqdm"]) == "skops"
    assert first_missing(["numpy"]) is None


def _import_failing_with(missing):
    real = importlib.import_module

    def fake(name, *args, **kwargs):
        if name == "sklearn_xcnn.onnx":
            raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)
        return real(name, *args, **kwargs)

    return fake


def test_discovery_leaves_out_a_module_whose_extra_is_missing(monkeypatch):
    monkeypatch.setattr(importlib, "import_module", _import_failing_with("skl2onnx"))
    names = [m.__name__ for m in discovery._public_modules()]
    assert "sklearn_xcnn.onnx" not in names
    assert [n for n, _ in discovery.all_estimators()] == [
        "CNNClassifier",
        "CNNRegressor",
        "FCNClassifier",
        "FCNRegressor",
        "InceptionTimeClassifier",
        "InceptionTimeRegressor",
        "ResNetClassifier",
        "ResNetRegressor",
    ]


def test_discovery_reports_a_missing_module_that_is_no_extra(monkeypatch):
    """A broken import inside the package is a bug, not a missing extra."""
    monkeypatch.setattr(importlib, "import_module", _import_failing_with("nope"))
    with pytest.raises(ModuleNotFoundError, match="nope"):
        discovery._public_modules()


def _readme_command(which):
    out = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "readme_command.py"), which],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_ci_reads_the_readme_set_up_commands():
    """``.ci/run`` runs exactly the README's two commands."""
    assert _readme_command("demo") == "pip install . && python -m sklearn_xcnn"
    assert _readme_command("test") == 'pip install -e ".[test]" && pytest'
    ci = (ROOT / ".ci" / "run").read_text()
    assert "readme_command.py demo" in ci and "readme_command.py test" in ci


def test_ci_reader_refuses_an_ambiguous_readme():
    module = runpy.run_path(str(ROOT / ".ci" / "readme_command.py"))
    text = "## Set up\n```bash\npytest\n```\n```bash\npytest -x\n```\n## Next\n"
    blocks = module["set_up_commands"](text)
    assert blocks == ["pytest", "pytest -x"]


def test_tests_skip_through_needs():
    """A test that skips for a missing package names the extra that brings
    it: ``needs(module)``, not a bare ``pytest.importorskip(module)``
    (the benchmark tests skip for torch, no extra, with their own reason)."""
    own = {"conftest.py", "test_benchmarks.py", "test_bench_blocks.py"}
    own.add(Path(__file__).name)
    bare = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "pytest.importorskip(" in line and path.name not in own
    ]
    assert not bare, f"use tests.conftest.needs: {bare}"
