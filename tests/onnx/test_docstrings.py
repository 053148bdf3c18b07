"""numpydoc validation of the public functions of sklearn_xcnn.onnx."""

import pytest

from ..conftest import needs

needs("skl2onnx")
needs("onnxruntime")
numpydoc_validate = needs("numpydoc.validate")

import sklearn_xcnn.onnx  # noqa: E402

from ..test_docstrings import CHECKED  # noqa: E402


@pytest.mark.parametrize("name", sklearn_xcnn.onnx.__all__)
def test_docstring(name):
    result = numpydoc_validate.validate(f"sklearn_xcnn.onnx.{name}")
    errors = [(code, msg) for code, msg in result["errors"] if code in CHECKED]
    assert not errors, f"{name}: {errors}"
    assert "Examples\n" in getattr(sklearn_xcnn.onnx, name).__doc__
