"""numpydoc validation of every public object and method."""

import inspect

import pytest

import sklearn_xcnn
from sklearn_xcnn import augment, datasets, inspection, series
from sklearn_xcnn.utils import discovery

from .conftest import needs

numpydoc_validate = needs("numpydoc.validate")

# signature vs Parameters, missing sections and types, summary line, Returns
CHECKED = {"GL08", "PR01", "PR02", "PR03", "PR04", "PR06", "RT01", "SS01", "SS03"}


def _public_names():
    names = []
    for module in (sklearn_xcnn, augment, datasets, inspection, series, discovery):
        for name in module.__all__:
            if name.startswith("__"):
                continue
            obj = getattr(module, name)
            names.append(f"{module.__name__}.{name}")
            if inspect.isclass(obj) and not issubclass(obj, Warning | Exception):
                names += [
                    f"{module.__name__}.{name}.{attr}"
                    for attr, value in vars(obj).items()
                    if not attr.startswith("_")
                    and (callable(value) or isinstance(value, classmethod))
                ]
    return names


@pytest.mark.parametrize("name", _public_names())
def test_docstring(name):
    result = numpydoc_validate.validate(name)
    errors = [(code, msg) for code, msg in result["errors"] if code in CHECKED]
    assert not errors, f"{name}: {errors}"


def test_every_public_object_has_examples():
    for module in (sklearn_xcnn, augment, datasets, inspection, series, discovery):
        for name in module.__all__:
            obj = getattr(module, name)
            if name.startswith("__") or issubclass_safe(obj, Warning | Exception):
                continue
            assert "Examples\n" in (obj.__doc__ or ""), f"{name} has no Examples"


def issubclass_safe(obj, classes):
    return inspect.isclass(obj) and issubclass(obj, classes)
