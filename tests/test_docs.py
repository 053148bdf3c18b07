"""The docs stay true: the API reference lists every public name, and the
README's and the front pages' code runs as written, printing the figures they
quote, without a single warning."""

import contextlib
import importlib
import io
import pkgutil
import re
import warnings
from pathlib import Path

import pytest

import sklearn_xcnn
from sklearn_xcnn.utils._optional import EXTRAS, missing_reason

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


# ------------------------------------------------------------ API reference
def public_modules(path=sklearn_xcnn.__path__, prefix="sklearn_xcnn"):
    """Names of the package's modules with no private part, found on disk
    (nothing is imported, so a module of a missing extra is found too): a
    new public subpackage is picked up by itself."""
    names = [prefix]
    for info in pkgutil.iter_modules(path, prefix + "."):
        if info.name.rpartition(".")[2].startswith("_"):
            continue
        if info.ispkg:
            sub = [str(Path(info.module_finder.path) / info.name.rpartition(".")[2])]
            names += public_modules(sub, info.name)
        else:
            names.append(info.name)
    return names


def documented_names(path=DOCS / "api.rst"):
    """``{module: [names]}`` of the ``autosummary`` entries of the API page,
    under the ``currentmodule`` before them."""
    documented, module, listing = {}, None, False
    for line in path.read_text().splitlines():
        if match := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = match[1]
        elif line.startswith(".. autosummary::"):
            listing = True
        elif listing and (match := re.match(r" {3}([A-Za-z_]\w*)$", line)):
            documented.setdefault(module, []).append(match[1])
        elif line and not line.startswith(" "):
            listing = False
    return documented


def _import_or_skip(name):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:  # a module of an optional extra (onnx)
        if exc.name is None or exc.name.split(".")[0] not in EXTRAS:
            raise
        pytest.skip(f"{name} {missing_reason(exc.name)}")


def test_public_modules_are_found():
    found = public_modules()
    for name in ("sklearn_xcnn.datasets", "sklearn_xcnn.inspection"):
        assert name in found
    assert not [name for name in found if "._" in name]


@pytest.mark.parametrize("name", public_modules())
def test_api_reference_lists_each_public_module_all(name):
    module = _import_or_skip(name)
    if not hasattr(module, "__all__"):
        # a package that only holds public modules (sklearn_xcnn.utils)
        assert not [
            n
            for n in vars(module)
            if not n.startswith("_")
            and getattr(vars(module)[n], "__module__", "") == name
        ]
        return
    public = sorted(n for n in module.__all__ if not n.startswith("__"))
    assert sorted(documented_names().get(name, [])) == public, (
        f"docs/api.rst must list exactly {name}.__all__"
    )


def test_api_reference_documents_only_public_modules():
    assert set(documented_names()) <= set(public_modules())


# ------------------------------------------------------ code in the pages
def python_blocks(text):
    """The fenced ```python blocks of a Markdown text."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def rst_code_blocks(text):
    """The ``.. code-block:: python`` blocks of a reStructuredText page."""
    blocks = []
    for body in re.findall(
        r"^\.\. code-block:: python\n\n((?: {4}.*\n|\n)+)", text, flags=re.M
    ):
        blocks.append("\n".join(line[4:] for line in body.splitlines()))
    return blocks


def quoted_figures(block):
    """The figure each ``print(...)  # 0.967`` line of ``block`` quotes
    (None for a print that quotes none), in order."""
    figures = []
    for line in block.splitlines():
        if line.startswith("print("):
            match = re.search(r"#.*?(\d+\.\d+)", line)
            figures.append(match[1] if match else None)
    return figures


def run_blocks(blocks, where):
    """Run ``blocks`` one after the other in one namespace, any warning an
    error, and check that each print shows the figure it quotes."""
    namespace = {"__name__": "__main__"}
    for i, block in enumerate(blocks):
        out = io.StringIO()
        with warnings.catch_warnings(), contextlib.redirect_stdout(out):
            warnings.simplefilter("error")
            exec(compile(block, f"{where}, block {i}", "exec"), namespace)
        printed = out.getvalue().splitlines()
        figures = quoted_figures(block)
        assert len(printed) == len(figures), (where, i, printed)
        for shown, figure in zip(printed, figures):
            if figure is not None:
                decimals = len(figure.split(".")[1])
                value = float(re.findall(r"-?\d+\.\d+", shown)[-1])
                assert f"{value:.{decimals}f}" == figure, (where, i, shown, figure)


@pytest.mark.slow
def test_readme_runs_as_written_without_warnings():
    run_blocks(python_blocks((ROOT / "README.md").read_text()), "README.md")


@pytest.mark.slow
def test_index_runs_as_written_without_warnings():
    blocks = rst_code_blocks((DOCS / "index.rst").read_text())
    assert blocks, "the quick start must be a code-block"
    run_blocks(blocks, "index.rst")


def test_quoted_figures_are_read_from_print_lines():
    block = "x = 1  # 2.5\nprint(a)  # 0.967\nprint(b)\nprint(c)  # R^2, about 0.94\n"
    assert quoted_figures(block) == ["0.967", None, "0.94"]
    text = "intro\n\n.. code-block:: python\n\n    a = 1\n\n    print(a)\n\nafter\n"
    assert rst_code_blocks(text) == ["a = 1\n\nprint(a)\n"]
    assert python_blocks("```python\nb = 2\n```\n```bash\nls\n```\n") == ["b = 2\n"]
