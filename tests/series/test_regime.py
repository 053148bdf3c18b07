"""The training regime of the series presets (sklearn_xcnn/series/_regime.py):
every preset takes it as its defaults, and its docstring states the defaults
its signature has."""

import ast
import inspect
import math
import re

import pytest

from sklearn_xcnn import series
from sklearn_xcnn.series._regime import TRAINING

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
    assert {name: defaults[name] for name in TRAINING} == TRAINING


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
