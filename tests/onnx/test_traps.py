"""Known ONNX traps, each with a test that would catch it.

* runtimes disagree on ``ceil_mode`` pooling with partial windows: the graph
  pads explicitly and never sets ``ceil_mode`` (and gives the same results
  with onnxruntime's node fusions on and off);
* a map padded with zeros before max pooling is wrong where the map is
  negative: the pad value is ``-inf``;
* ONNX has no sum pooling and ``LpPool(p=1)`` sums absolute values;
* channels-last rows need a transpose to NCHW before the first ``Conv``; a
  plain reshape is right for one channel only;
* onnxruntime's CPU ``Conv`` and ``AveragePool`` are float32 only: a float64
  input is cast on entry.

Where a trap can be shown, the test also edits the exported graph into the
wrong one and checks that the comparison with ``predict`` then fails, so the
data is known to be able to tell them apart.
"""

import pytest

from ..conftest import needs

needs("onnx")
needs("onnxruntime")
needs("skl2onnx")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from sklearn_xcnn import CNNRegressor  # noqa: E402

from ._helpers import TOL, export, fit_quietly, images, run  # noqa: E402

POOL_OPS = {"MaxPool", "AveragePool", "LpPool", "GlobalMaxPool", "GlobalAveragePool"}


def _negative_maps_regressor(pooling, image_shape=(7, 7, 1), **params):
    """An identity-activation regressor whose feature maps are all negative
    (inputs in [0, 1], filters and intercepts below zero), with partial
    pooling windows (5x5 maps, 2x2 windows)."""
    X = images(20, image_shape)
    settings = dict(
        n_filters=3,
        kernel_size=3,
        pool_size=2,
        pooling=pooling,
        activation="identity",
        hidden_units=(),
        solver="lbfgs",
        max_iter=3,
        image_shape=image_shape,
        random_state=0,
    )
    reg = fit_quietly(CNNRegressor(**{**settings, **params}), X, X[:, 0] - X[:, -1])
    reg.filters_[0][...] = -np.abs(reg.filters_[0]) - 0.05
    reg.filter_intercepts_[0][...] = -0.1
    return reg, X


def _matches(reg, X, onx, optimize=True):
    got = run(onx, X, optimize)["variable"][:, 0]
    return np.allclose(got, reg.predict(X), rtol=TOL, atol=TOL)


def _initializer(onx, prefix):
    (init,) = [i for i in onx.graph.initializer if i.name.startswith(prefix)]
    return init


def _replace_initializer(init, value):
    dtype = helper.tensor_dtype_to_np_dtype(init.data_type)
    init.CopyFrom(numpy_helper.from_array(np.asarray(value, dtype), init.name))


@pytest.mark.parametrize("pooling", ["max", "mean", "sum"])
def test_partial_windows_never_use_ceil_mode(pooling):
    reg, X = _negative_maps_regressor(pooling)
    onx = export(reg, X)
    for node in onx.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        assert attrs.get("ceil_mode", 0) == 0
        if node.op_type in POOL_OPS:  # every window is whole: no pads there
            assert not any(attrs.get("pads", [])) and "auto_pad" not in attrs
    assert "Pad" in [node.op_type for node in onx.graph.node]
    # onnxruntime may fuse a Pad into the next node: with and without fusions
    assert _matches(reg, X, onx, optimize=False)
    assert _matches(reg, X, onx, optimize=True)


def test_max_pooling_pads_with_minus_infinity():
    reg, X = _negative_maps_regressor("max")
    onx = export(reg, X)
    assert _matches(reg, X, onx)
    fill = _initializer(onx, "pool_fill")
    assert numpy_helper.to_array(fill) == -np.inf
    _replace_initializer(fill, 0.0)  # the trap: zeros win the edge windows
    assert not _matches(reg, X, onx)


@pytest.mark.parametrize("pooling", ["sum", "mean"])
def test_sum_pooling_keeps_the_sign(pooling):
    reg, X = _negative_maps_regressor(pooling)
    onx = export(reg, X)
    assert "LpPool" not in [node.op_type for node in onx.graph.node]
    assert _matches(reg, X, onx)
    # the trap: LpPool(p=1) instead of AveragePool sums |x|
    (pool,) = [n for n in onx.graph.node if n.op_type == "AveragePool"]
    pool.op_type = "LpPool"
    kept = [a for a in pool.attribute if a.name != "count_include_pad"]
    del pool.attribute[:]
    pool.attribute.extend([*kept, helper.make_attribute("p", 1)])
    factor = _initializer(onx, f"{pooling}_pool_factor")
    values = numpy_helper.to_array(factor)
    _replace_initializer(factor, values / 4)  # LpPool already sums
    assert not _matches(reg, X, onx)


def test_channels_last_rows_are_transposed_to_nchw():
    image_shape = (6, 5, 3)
    reg, X = _negative_maps_regressor(None, image_shape, activation="tanh")
    onx = export(reg, X)
    nodes = list(onx.graph.node)
    first_conv = next(i for i, n in enumerate(nodes) if n.op_type == "Conv")
    transpose = nodes[first_conv - 1]
    assert transpose.op_type == "Transpose"
    assert list(transpose.attribute[0].ints) == [0, 3, 1, 2]
    assert nodes[first_conv].input[0] == transpose.output[0]
    assert _matches(reg, X, onx)
    # the trap: reshape the rows straight to (n, C, H, W)
    H, W, C = image_shape
    _replace_initializer(_initializer(onx, "image_shape"), [-1, C, H, W])
    transpose.attribute[0].CopyFrom(helper.make_attribute("perm", [0, 1, 2, 3]))
    onnx.checker.check_model(onx, full_check=True)
    assert not _matches(reg, X, onx)


def test_one_channel_needs_no_transpose_but_gets_it():
    """With one channel the two layouts agree; the graph is the same anyway."""
    reg, X = _negative_maps_regressor("max", (5, 8, 1))
    onx = export(reg, X)
    assert [n.op_type for n in onx.graph.node][:3] == ["Reshape", "Transpose", "Conv"]
    assert _matches(reg, X, onx)


def _elem_types(onx):
    inferred = onnx.shape_inference.infer_shapes(onx, strict_mode=True).graph
    types = {i.name: i.data_type for i in inferred.initializer}
    for value in [*inferred.input, *inferred.value_info, *inferred.output]:
        types[value.name] = value.type.tensor_type.elem_type
    return types


@pytest.mark.parametrize("pooling", ["max", "mean", "sum", None])
def test_float64_input_reaches_conv_and_pools_as_float32(pooling):
    reg, _ = _negative_maps_regressor(pooling, (7, 7, 2))
    X64 = images(20, (7, 7, 2), seed=1, dtype=np.float64)
    onx = export(reg, X64)
    assert onx.graph.input[0].type.tensor_type.elem_type == TensorProto.DOUBLE
    types = _elem_types(onx)
    checked = 0
    for node in onx.graph.node:
        if node.op_type in {"Conv", "Pad", "Gemm"} | POOL_OPS:
            data = node.input[0]
            assert types[data] == TensorProto.FLOAT, (node.op_type, data)
            checked += 1
    assert checked >= 2  # Conv and Gemm at least
    got = run(onx, X64)["variable"][:, 0]  # onnxruntime accepts the graph
    np.testing.assert_allclose(got, reg.predict(X64), rtol=TOL, atol=TOL)
