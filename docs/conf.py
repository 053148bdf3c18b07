"""Sphinx configuration of the sklearn-xcnn documentation.

Build with warnings as errors (see ``docs/README.md``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build needs no network: intersphinx is deliberately not used, so
references to scikit-learn, NumPy or SciPy objects render as plain text.
"""

import os
import re
import sys
from pathlib import Path

# Document the package from this checkout, installed or not.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Same environment as the test suite (see the root conftest.py).
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import sklearn_xcnn

# -- Project ------------------------------------------------------------------
project = "sklearn-xcnn"
author = "sklearn-xcnn developers"
copyright = "sklearn-xcnn developers, BSD-3-Clause"
release = sklearn_xcnn.__version__
version = ".".join(release.split(".")[:2])

# -- General ------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "README.md", "Thumbs.db", ".DS_Store"]
default_role = "literal"
pygments_style = "sphinx"

# -- autodoc / autosummary / numpydoc -----------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
# Methods are listed by the class template, not by numpydoc (which would
# otherwise try to build a second toctree of them).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# "X : array-like of shape (n, m)" must not be turned into cross-references.
numpydoc_xref_param_type = False

# -- sphinx-gallery -----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    # a string, as sphinx-gallery's own default, so that "-D plot_gallery=0"
    # (a string) overrides it without a type warning, which -W would make fatal
    "plot_gallery": "True",
    # Each example starts from matplotlib's defaults (the documented default).
    "reset_modules": ("matplotlib", "seaborn"),
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("sklearn_xcnn",),
    # Only this package is linked from the code; no inventories are fetched.
    "reference_url": {"sklearn_xcnn": None},
    "remove_config_comments": True,
    "min_reported_time": 1,
    "within_subsection_order": "FileNameSortKey",
}

# -- HTML ---------------------------------------------------------------------
try:
    import pydata_sphinx_theme  # noqa: F401
except ImportError:
    html_theme = "alabaster"
    html_theme_options = {}
else:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_with_keys": False,
        "show_toc_level": 2,
        "header_links_before_dropdown": 5,
    }
    # Only the API and the gallery have sub-pages worth a left sidebar.
    html_sidebars = {
        page: []
        for page in (
            "index",
            "install",
            "where_to_start",
            "user_guide",
            "saving",
            "deploying",
            "scaling",
            "bad_input",
            "faq",
            "whats_new",
        )
    }
html_title = f"sklearn-xcnn {release}"
html_show_sourcelink = False


# -- Docstrings inherited from scikit-learn ------------------------------------
# ``score``, ``set_params``, ``set_fit_request``... come from scikit-learn and
# link to its glossary and user guide with :ref: and :term:, which cannot
# resolve without intersphinx. Keep their text, drop the link.
_CROSS_DOC_ROLE = re.compile(r":(?:ref|term):`([^`<]*?)\s*(?:<([^`>]*)>)?`")


def _plain_cross_doc_roles(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("sklearn."):
        return
    text = "\n".join(lines)
    text = _CROSS_DOC_ROLE.sub(lambda m: m.group(1) or m.group(2), text)
    lines[:] = text.split("\n")


def setup(app):
    app.connect("autodoc-process-docstring", _plain_cross_doc_roles)
