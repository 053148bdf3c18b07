"""The bad-input catalogue of ``docs/bad_input.rst``, one test per case.

Every bad input gets an error naming the problem, raised before any state
changes: a fit that fails on a fitted model leaves it predicting exactly as
before, and refitting it on good data gives the same model again.
"""

import copy
import tracemalloc
import warnings
from typing import NamedTuple

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import DataConversionWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from sklearn_xcnn import CNNClassifier, CNNRegressor, DivergenceError, _memory
from sklearn_xcnn._core._network import build_spec, forward, init_params, loss_and_grad
from sklearn_xcnn.augment import RandomShift
from sklearn_xcnn.inspection import feature_maps

from .conftest import fit_quietly, needs

# scikit-learn casts NaN labels to int while looking for the label type, and
# diverging fits overflow before they raise
pytestmark = [
    pytest.mark.filterwarnings("ignore:invalid value encountered in cast"),
    pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning"),
]

N, SIDE = 30, 4


def _X():
    return np.random.RandomState(0).uniform(size=(N, SIDE * SIDE))


def _y():
    return np.arange(N) % 2


def _with(value, where=(0, 0), X=None):
    X = _X() if X is None else X
    X[where] = value
    return X


class Case(NamedTuple):
    """A bad input: what to fit, what is raised and what the message says."""

    X: object
    y: object
    exception: type
    match: str
    params: dict = {}
    fit_params: dict = {}


def _crop(X, random_state):
    """An augmenter that returns images of another shape."""
    return X[:, 1:]


def _huge():
    # two 2000x2000 images (32 MB); a 1000x1000 im2col patch matrix needs TBs
    X = np.zeros((2, 2000 * 2000), dtype=np.float32)
    return X, np.array([0, 1])


FIT_CASES = {
    "nan_in_X": Case(_with(np.nan), _y(), ValueError, "Input X contains NaN"),
    "inf_in_X": Case(_with(np.inf), _y(), ValueError, "Input X contains infinity"),
    "nan_in_y": Case(_X(), np.r_[np.nan, _y()[1:]], ValueError, "Input y contains NaN"),
    "inf_in_y": Case(
        _X(), np.r_[np.inf, _y()[1:]], ValueError, "Input y contains infinity"
    ),
    "empty_X": Case(
        np.empty((0, 16)), np.empty(0), ValueError, r"Found array with 0 sample\(s\)"
    ),
    "no_features": Case(
        np.empty((N, 0)), _y(), ValueError, r"Found array with 0 feature\(s\)"
    ),
    "X_1d": Case(
        _X()[0],
        _y()[:16],
        ValueError,
        "Expected 2D array, got 1D array instead: X must be 2-D",
    ),
    "X_scalar": Case(
        np.float64(1.0), _y()[:1], ValueError, "Expected 2D array, got 0D array"
    ),
    "X_5d": Case(
        _X().reshape(N, 2, 2, 2, 2), _y(), ValueError, "got a 5-D array of shape"
    ),
    "ragged_rows": Case(
        [[0.0, 1.0, 2.0], [0.0, 1.0]],
        [0, 1],
        ValueError,
        "could not be read as a rectangular array",
    ),
    "ragged_images": Case(
        [[[0.0, 1.0], [2.0, 3.0]], [[0.0, 1.0], [2.0]]],
        [0, 1],
        ValueError,
        "could not be read as a rectangular array",
    ),
    "strings_in_X": Case(
        np.array([["a"] * 16] * N),
        _y(),
        ValueError,
        "X holds values that are not numbers",
    ),
    "strings_in_object_X": Case(
        _with("pixel", X=_X().astype(object)),
        _y(),
        ValueError,
        "X holds values that are not numbers",
    ),
    "objects_in_X": Case(
        _with({"a": 1}, X=_X().astype(object)),
        _y(),
        TypeError,
        "argument must be a string or a real number",
    ),
    "complex_X": Case(
        _X() + 1j, _y(), ValueError, "Complex data not supported: X has dtype complex"
    ),
    "sparse_X": Case(
        sp.csr_matrix(_X()), _y(), TypeError, "Sparse data was passed for X"
    ),
    "image_shape_wrong_size": Case(
        _X(),
        _y(),
        ValueError,
        r"image_shape=\(3, 3\) describes 9 values per image but X has 16 features",
        {"image_shape": (3, 3)},
    ),
    "image_shape_wrong_length": Case(
        _X(),
        _y(),
        ValueError,
        r"image_shape must be \(height, width\) or \(height, width, channels\)",
        {"image_shape": (4, 2, 2, 1)},
    ),
    "image_shape_zero": Case(
        _X(),
        _y(),
        ValueError,
        "image_shape must be a positive int",
        {"image_shape": (0, 16)},
    ),
    "image_shape_negative": Case(
        _X(),
        _y(),
        ValueError,
        "image_shape must be a positive int",
        {"image_shape": (-4, -4)},
    ),
    "image_shape_disagrees_with_images": Case(
        _X().reshape(N, 4, 4),
        _y(),
        ValueError,
        "drop image_shape or make them agree",
        {"image_shape": (2, 8)},
    ),
    "n_filters_zero": Case(
        _X(),
        _y(),
        ValueError,
        r"'n_filters' parameter of CNNClassifier must be an int in the range \[1",
        {"n_filters": 0},
    ),
    "n_filters_zero_in_tuple": Case(
        _X(),
        _y(),
        ValueError,
        r"n_filters must be a positive int or a sequence of .* got \(4, 0\)",
        {"n_filters": (4, 0)},
    ),
    "kernel_size_negative": Case(
        _X(), _y(), ValueError, "'kernel_size' parameter", {"kernel_size": -1}
    ),
    "kernel_size_float": Case(
        _X(), _y(), ValueError, "'kernel_size' parameter", {"kernel_size": 2.5}
    ),
    "kernel_size_three_values": Case(
        _X(),
        _y(),
        ValueError,
        r"kernel_size must be an int or a \(rows, cols\) pair",
        {"kernel_size": (3, 3, 3)},
    ),
    "stride_zero": Case(_X(), _y(), ValueError, "'stride' parameter", {"stride": 0}),
    "pool_size_zero": Case(
        _X(), _y(), ValueError, "'pool_size' parameter", {"pool_size": 0}
    ),
    "hidden_units_negative": Case(
        _X(),
        _y(),
        ValueError,
        "hidden_units must be a positive int",
        {"hidden_units": (8, -1)},
    ),
    "batch_size_zero": Case(
        _X(), _y(), ValueError, "'batch_size' parameter", {"batch_size": 0}
    ),
    "learning_rate_init_zero": Case(
        _X(),
        _y(),
        ValueError,
        "'learning_rate_init' parameter",
        {"learning_rate_init": 0.0},
    ),
    "learning_rate_schedule_unknown": Case(
        _X(), _y(), ValueError, "'learning_rate' parameter", {"learning_rate": "cos"}
    ),
    "plateau_factor_one": Case(
        _X(), _y(), ValueError, "'plateau_factor' parameter", {"plateau_factor": 1.0}
    ),
    "plateau_patience_zero": Case(
        _X(), _y(), ValueError, "'plateau_patience' parameter", {"plateau_patience": 0}
    ),
    "min_learning_rate_negative": Case(
        _X(),
        _y(),
        ValueError,
        "'min_learning_rate' parameter",
        {"min_learning_rate": -1e-3},
    ),
    "min_learning_rate_above_init": Case(
        _X(),
        _y(),
        ValueError,
        r"min_learning_rate=0\.1 is larger than learning_rate_init=0\.003: the "
        "'cosine' schedule lowers the rate",
        {"learning_rate": "cosine", "min_learning_rate": 0.1},
    ),
    "pooling_unknown": Case(
        _X(), _y(), ValueError, "'pooling' parameter", {"pooling": "median"}
    ),
    "per_block_list_too_long": Case(
        _X(),
        _y(),
        ValueError,
        r"kernel_size is a list of 2 value\(s\) but n_filters has 1 block",
        {"kernel_size": [3, 3]},
    ),
    "per_block_list_bad_entry": Case(
        _X(),
        _y(),
        ValueError,
        r"pool_size\[1\] must be a positive int",
        {"n_filters": (2, 2), "pool_size": [2, "a"]},
    ),
    "padding_negative": Case(
        _X(), _y(), ValueError, "'padding' parameter", {"padding": -1}
    ),
    "padding_unknown": Case(
        _X(), _y(), ValueError, "'padding' parameter", {"padding": "full"}
    ),
    "padding_negative_in_pair": Case(
        _X(),
        _y(),
        ValueError,
        r"padding must be 'valid', 'same', an int or a \(rows, cols\) pair",
        {"padding": (1, -2)},
    ),
    "padding_leaves_outputs_without_input": Case(
        _X(), _y(), ValueError, "nothing but padding", {"padding": 3}
    ),
    "dropout_one": Case(_X(), _y(), ValueError, "'dropout' parameter", {"dropout": 1}),
    "augment_negative_shift": Case(
        _X(),
        _y(),
        ValueError,
        r"augment\[0\] = RandomShift\(max_shift=-1\): The 'max_shift' parameter",
        {"augment": [RandomShift(-1)]},
    ),
    "augment_shift_leaves_nothing": Case(
        _X(),
        _y(),
        ValueError,
        r"augment\[0\] = RandomShift\(max_shift=4\): a shift of up to 4 pixel\(s\) "
        "along the rows of images with 4 rows can move an image out of its frame",
        {"augment": [RandomShift(4)]},
    ),
    "augment_unknown": Case(
        _X(),
        _y(),
        ValueError,
        r"augment\[0\] = 'shift' is not an augmenter: use one of sklearn_xcnn",
        {"augment": ["shift"]},
    ),
    "augment_not_a_list": Case(
        _X(), _y(), ValueError, "'augment' parameter", {"augment": RandomShift(1)}
    ),
    "augment_with_lbfgs": Case(
        _X(),
        _y(),
        ValueError,
        "augment needs solver='adam' or 'sgd'",
        {"augment": [RandomShift(1)], "solver": "lbfgs"},
    ),
    "augment_returns_another_shape": Case(
        _X(),
        _y(),
        ValueError,
        r"augment\[0\] = _crop returned an array of shape \(30, 3, 4, 1\) for a "
        r"batch of shape \(30, 4, 4, 1\)",
        {"augment": [_crop]},
    ),
    "batch_norm_not_a_bool": Case(
        _X(), _y(), ValueError, "'batch_norm' parameter", {"batch_norm": "yes"}
    ),
    "global_pooling_unknown": Case(
        _X(), _y(), ValueError, "'global_pooling' parameter", {"global_pooling": "sum"}
    ),
    "block_unknown": Case(_X(), _y(), ValueError, "'block' parameter", {"block": "x"}),
    "block_list_bad_entry": Case(
        _X(),
        _y(),
        ValueError,
        r"block\[1\] must be one of \('conv', 'residual', 'inception'\)",
        {"n_filters": (2, 2), "block": ["conv", "dense"]},
    ),
    "stride_on_a_compound_block": Case(
        _X(),
        _y(),
        ValueError,
        "block 0 is a 'residual' block, which runs at stride 1",
        {"block": "residual", "stride": 2},
    ),
    "block_depth_zero": Case(
        _X(), _y(), ValueError, "'block_depth' parameter", {"block_depth": 0}
    ),
    "dilation_zero": Case(
        _X(), _y(), ValueError, "'dilation' parameter", {"dilation": 0}
    ),
    "continuous_y": Case(
        _X(), np.linspace(0, 1, N), ValueError, "Unknown label type: continuous"
    ),
    "one_class": Case(
        _X(), np.zeros(N), ValueError, "the data contains only one class: 0.0"
    ),
    "y_wrong_length": Case(
        _X(), _y()[:-1], ValueError, "X has 30 samples but y has 29"
    ),
    "y_missing": Case(_X(), None, ValueError, "requires y to be passed"),
    "y_3d": Case(
        _X(), _y().reshape(N, 1, 1), ValueError, "y must be 1-D .* got a 3-D array"
    ),
    "sample_weight_negative": Case(
        _X(),
        _y(),
        ValueError,
        "Negative values in data passed to `sample_weight`",
        fit_params={"sample_weight": -np.ones(N)},
    ),
    "sample_weight_zero": Case(
        _X(),
        _y(),
        ValueError,
        "Sample weights must contain at least one non-zero number",
        fit_params={"sample_weight": np.zeros(N)},
    ),
    "sample_weight_wrong_length": Case(
        _X(),
        _y(),
        ValueError,
        r"sample_weight.shape == \(29,\), expected \(30,\)",
        fit_params={"sample_weight": np.ones(N - 1)},
    ),
    "sample_weight_nan": Case(
        _X(),
        _y(),
        ValueError,
        "Input sample_weight contains NaN",
        fit_params={"sample_weight": np.r_[np.nan, np.ones(N - 1)]},
    ),
    "class_weight_multilabel": Case(
        _X(),
        np.c_[_y(), 1 - _y()],
        ValueError,
        "class_weight is not supported for multilabel y",
        {"class_weight": "balanced"},
    ),
    "early_stopping_too_few_samples": Case(
        _X()[:3],
        _y()[:3],
        ValueError,
        "early_stopping could not hold out a validation set",
        {"early_stopping": True},
    ),
    "learning_rate_diverges": Case(
        _X(),
        _y(),
        DivergenceError,
        "Training diverged.*Try a smaller learning_rate_init",
        {"solver": "sgd", "learning_rate_init": 1e6, "max_iter": 30},
    ),
    "im2col_exhausts_memory": Case(
        *_huge(),
        MemoryError,
        "Not enough memory to train on batches of 2 image",
        {"kernel_size": 1000, "algorithm": "im2col"},
    ),
}


def _estimator(**params):
    defaults = {"n_filters": 2, "hidden_units": 4, "max_iter": 3, "random_state": 0}
    return CNNClassifier(**{**defaults, **params})


@pytest.fixture(scope="module")
def fitted():
    return fit_quietly(_estimator(), _X(), _y())


@pytest.mark.parametrize("case", FIT_CASES.values(), ids=FIT_CASES.keys())
def test_fit_rejects_bad_input(case):
    clf = _estimator(**case.params)
    with pytest.raises(case.exception, match=case.match):
        fit_quietly(clf, case.X, case.y, **case.fit_params)
    assert not hasattr(clf, "coefs_")  # nothing half-fitted is left behind


def _fitted_state(clf):
    X = _X()
    return clf.predict_proba(X), clf.n_iter_, list(clf.loss_curve_), clf.t_


def _assert_same_state(a, b):
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1:] == b[1:]


@pytest.mark.parametrize("case", FIT_CASES.values(), ids=FIT_CASES.keys())
def test_failed_fit_leaves_a_fitted_model_intact(case, fitted):
    clf = copy.deepcopy(fitted)
    before = _fitted_state(clf)
    good_params = clf.get_params()
    clf.set_params(**case.params)
    with pytest.raises(case.exception, match=case.match):
        fit_quietly(clf, case.X, case.y, **case.fit_params)
    _assert_same_state(_fitted_state(clf), before)
    # and it is still usable: refitting on good data gives the same model
    fit_quietly(clf.set_params(**good_params), _X(), _y())
    _assert_same_state(_fitted_state(clf), before)


def test_failed_warm_start_fit_restores_loss_curve_and_optimizer():
    clf = fit_quietly(
        _estimator(solver="sgd", learning_rate_init=0.01, max_iter=5), _X(), _y()
    )
    before = _fitted_state(clf)
    velocity = clf._optimizer.velocity.copy()
    clf.set_params(warm_start=True, learning_rate_init=1e6, max_iter=50)
    with pytest.raises(DivergenceError):
        fit_quietly(clf, _X(), _y())
    _assert_same_state(_fitted_state(clf), before)
    np.testing.assert_array_equal(clf._optimizer.velocity, velocity)


def test_failed_fit_keeps_the_users_random_state_object():
    rs = np.random.RandomState(0)
    clf = _estimator(random_state=rs)
    with pytest.raises(ValueError):
        clf.fit(_X(), np.zeros(N))
    assert clf.random_state is rs


FITTED_ARRAYS = (
    "filters_", "filter_intercepts_", "coefs_", "intercepts_",
    "batch_norm_scales_", "batch_norm_means_", "batch_norm_vars_",
)  # fmt: skip


@pytest.mark.parametrize("cls", [CNNClassifier, CNNRegressor])
def test_lbfgs_trains_without_dropout(cls):
    """No longer an error (issue 21): L-BFGS needs the same loss at every
    evaluation, so it trains without dropout, as it ignores batch_size. A fit
    with dropout=0.5 equals, bit for bit, the same fit with dropout=0."""
    y = _y() if cls is CNNClassifier else _y_real()
    params = dict(n_filters=2, hidden_units=4, solver="lbfgs", max_iter=20,
                  random_state=0)  # fmt: skip
    dropped = fit_quietly(cls(**params, dropout=0.5), _X(), y)
    plain = fit_quietly(cls(**params, dropout=0.0), _X(), y)
    assert dropped.dropout == 0.5  # the parameter is kept as given
    assert dropped.n_iter_ == plain.n_iter_ > 1
    assert dropped.loss_curve_ == plain.loss_curve_
    for name in FITTED_ARRAYS:
        a, b = getattr(dropped, name), getattr(plain, name)
        assert len(a) == len(b)
        for p, q in zip(a, b):
            np.testing.assert_array_equal(p, q)
    X = _X()
    predict = dropped.predict_proba if cls is CNNClassifier else dropped.predict
    other = plain.predict_proba if cls is CNNClassifier else plain.predict
    np.testing.assert_array_equal(predict(X), other(X))


# ------------------------------------------------------------ partial_fit
def test_partial_fit_needs_classes_first():
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        _estimator().partial_fit(_X(), _y())


def test_partial_fit_rejects_unseen_labels(fitted):
    clf = copy.deepcopy(fitted)
    before = _fitted_state(clf)
    with pytest.raises(ValueError, match=r"y contains labels not seen .*\[2\]"):
        clf.partial_fit(_X(), np.arange(N) % 3)
    _assert_same_state(_fitted_state(clf), before)


# ------------------------------------------------------------- prediction
PREDICT_CASES = {
    "n_features_mismatch": (
        np.ones((3, 9)),
        ValueError,
        "X has 9 features, but CNNClassifier is expecting 16 features as input",
    ),
    "image_shape_mismatch": (
        np.ones((3, 2, 8)),
        ValueError,
        r"X holds images of shape \(2, 8, 1\) .* fitted on images of shape \(4, 4, 1\)",
    ),
    "nan_in_X": (_with(np.nan), ValueError, "Input X contains NaN"),
    "X_1d": (_X()[0], ValueError, "Reshape your data"),
    "empty_X": (np.empty((0, 16)), ValueError, r"Found array with 0 sample\(s\)"),
    "sparse_X": (sp.csr_matrix(_X()), TypeError, "Sparse data was passed for X"),
    "complex_X": (_X() + 1j, ValueError, "Complex data not supported"),
    "outputs_overflow": (
        np.full((2, 16), np.finfo(np.float64).max),
        ValueError,
        "The network's outputs overflowed to inf or NaN for 2 of 2 sample",
    ),
}


def test_predict_rejects_other_feature_names():
    pd = needs("pandas")
    columns = [f"pixel_{i}" for i in range(16)]
    clf = fit_quietly(_estimator(), pd.DataFrame(_X(), columns=columns), _y())
    renamed = pd.DataFrame(_X(), columns=[c.upper() for c in columns])
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict(renamed)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        np.testing.assert_array_equal(clf.predict(_X()), clf.predict(renamed.values))


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function"])
@pytest.mark.parametrize(
    "X, exception, match", PREDICT_CASES.values(), ids=PREDICT_CASES.keys()
)
def test_predict_rejects_bad_input(fitted, method, X, exception, match):
    before = _fitted_state(fitted)
    with pytest.raises(exception, match=match):
        getattr(fitted, method)(X)
    _assert_same_state(_fitted_state(fitted), before)


def test_predict_before_fit():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        _estimator().predict(_X())


def test_predict_refuses_an_image_that_cannot_fit_in_memory(fitted, monkeypatch):
    monkeypatch.setattr(_memory, "available_memory", lambda: 10)
    with pytest.raises(MemoryError, match="Not enough memory to predict one image"):
        fitted.predict(_X())


def test_predict_chunks_rows_to_working_memory(fitted):
    import sklearn

    from sklearn_xcnn._training import PREDICT_CHUNK

    X = np.random.RandomState(1).uniform(size=(PREDICT_CHUNK + 5, 16))
    expected = fitted.predict_proba(X)
    spec = fitted._network_spec(fitted=True)
    per_image = _memory.bytes_per_image(spec, 8, training=False)
    assert _memory.predict_chunk_rows(spec, 8, PREDICT_CHUNK) == PREDICT_CHUNK
    with sklearn.config_context(working_memory=3 * per_image / 2**20):
        assert _memory.predict_chunk_rows(spec, 8, PREDICT_CHUNK) == 3
        np.testing.assert_allclose(fitted.predict_proba(X), expected, rtol=1e-12)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(
    "shape, kernel, pooling, algorithm",
    [
        ((48, 48, 3), 5, "max", "im2col"),
        ((64, 64, 1), 3, None, "im2col"),
        ((100, 100, 1), 15, "max", "scipy"),
    ],
)
def test_memory_estimate_is_close_to_the_measured_peak(
    shape, kernel, pooling, algorithm, training
):
    rng = np.random.RandomState(0)
    units = (16,)
    spec = build_spec(
        shape, (8, 4), kernel, 1, 2, pooling, units, "relu", 3, "softmax", algorithm
    )
    params = init_params(spec, rng, np.float64)
    n = 10
    X, Y = rng.standard_normal((n, *shape)), np.eye(3)[np.arange(n) % 3]
    tracemalloc.start()
    try:
        if training:
            loss_and_grad(params, X, Y, spec, 0.0)
        else:
            forward(params, X, spec)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    estimate = n * _memory.bytes_per_image(spec, 8, training)
    assert peak / 2.5 <= estimate <= 4 * peak


# ---------------------------------------------- accepted, with documented handling
def test_kernel_and_pool_larger_than_the_image_are_clipped():
    clf = fit_quietly(_estimator(kernel_size=10, pool_size=7), _X(), _y())
    assert clf.filters_[0].shape == (2, 1, SIDE, SIDE)  # clipped to 4x4
    assert clf.coefs_[0].shape == (2 * 1 * 1, 4)  # a 1x1 map per filter
    assert np.all(np.isfinite(clf.predict_proba(_X())))


@pytest.mark.parametrize(
    "X",
    [
        _X() > 0.5,
        (_X() * 255).astype(np.uint8),
        _X().astype(np.float16),
        _X().astype(object),
        _X().astype(str),
    ],
    ids=["bool", "uint8", "float16", "object_numbers", "numeric_strings"],
)
def test_numeric_inputs_of_other_dtypes_are_converted_to_float64(X):
    clf = fit_quietly(_estimator(), X, _y())
    expected = fit_quietly(_estimator(), np.asarray(X, dtype=np.float64), _y())
    np.testing.assert_array_equal(clf.predict_proba(X), expected.predict_proba(X))
    assert clf.coefs_[0].dtype == np.float64


def test_column_vector_y_warns_and_is_raveled():
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        clf = fit_quietly(_estimator(), _X(), _y()[:, None])
    assert clf.predict(_X()).shape == (N,)


def _channels_first_X():
    # 30 RGB images of 5x5 pixels, channels first: (n, C, H, W)
    return np.random.RandomState(0).uniform(size=(N, 3, 5, 5))


def test_channels_first_images_warn_naming_both_readings():
    X = _channels_first_X()
    both_readings = (
        r"X holds images of shape \(3, 5, 5\), read as 3x5 images with 5 "
        r"channels .* If they are 5x5 images with 3 channel\(s\) first .* pass "
        r"image_shape=\(5, 5, 3\) .* pass image_shape=\(3, 5, 5\) to confirm"
    )
    with pytest.warns(UserWarning, match=both_readings):
        clf = fit_quietly(_estimator(), X, _y())
    assert clf.image_shape_ == (3, 5, 5)  # never a silent guess, but no error


@pytest.mark.parametrize(
    "image_shape, reading", [((5, 5, 3), (5, 5, 3)), ((3, 5, 5), (3, 5, 5))]
)
def test_image_shape_says_which_order_channels_come_in(image_shape, reading):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        clf = fit_quietly(
            _estimator(image_shape=image_shape), _channels_first_X(), _y()
        )
    assert clf.image_shape_ == reading


def test_images_in_the_other_channel_order_at_predict():
    X = _channels_first_X()  # (n, C, H, W)
    last = X.transpose(0, 2, 3, 1)  # (n, H, W, C)
    clf = fit_quietly(_estimator(image_shape=(5, 5, 3)), X, _y())
    with pytest.raises(ValueError, match=r"fitted on channels-first images of shape"):
        clf.predict(last)
    clf = fit_quietly(_estimator(), last, _y())
    with pytest.raises(ValueError, match=r"look channels first: pass X.transpose"):
        clf.predict(X)


def test_no_blocks_or_no_hidden_layer_are_allowed():
    clf = fit_quietly(_estimator(n_filters=(), hidden_units=()), _X(), _y())
    assert clf.filters_ == [] and len(clf.coefs_) == 1


def test_set_params_after_fit_does_not_change_predictions(fitted):
    clf = copy.deepcopy(fitted)
    before = clf.predict_proba(_X())
    clf.set_params(pooling="mean", activation="tanh", kernel_size=2, n_filters=0)
    np.testing.assert_array_equal(clf.predict_proba(_X()), before)


# ------------------------------------------------------------- the regressor
def _y_real():
    return np.linspace(0.0, 1.0, N)


# the cases of FIT_CASES that concern X, the parameters, y's shape or the
# weights apply to the regressor alike (its messages name CNNRegressor)
CLASSIFICATION_ONLY = {"continuous_y", "one_class", "class_weight_multilabel"}
SHARED_CASES = {
    name: case._replace(match=case.match.replace("CNNClassifier", "CNNRegressor"))
    for name, case in FIT_CASES.items()
    if name not in CLASSIFICATION_ONLY
}

REGRESSOR_FIT_CASES = {
    "strings_in_y": Case(
        _X(), np.array(["a"] * N), ValueError, "could not convert string to float"
    ),
    "none_in_object_y": Case(
        _X(),
        np.array([None, *_y_real()[1:]], dtype=object),
        ValueError,
        "Input y contains NaN",
    ),
    "nan_in_multioutput_y": Case(
        _X(),
        np.c_[_y_real(), np.r_[np.nan, _y_real()[1:]]],
        ValueError,
        "Input y contains NaN",
    ),
    "inf_in_multioutput_y": Case(
        _X(),
        np.c_[np.r_[_y_real()[:-1], -np.inf], _y_real()],
        ValueError,
        "Input y contains infinity",
    ),
    "complex_y": Case(_X(), _y_real() + 1j, ValueError, "Complex data not supported"),
    # no stratification to fail: the random split holds out too few to score
    "early_stopping_too_few_samples": Case(
        _X()[:3],
        _y_real()[:3],
        ValueError,
        r"early_stopping held out only 1 sample\(s\) of 3",
        {"early_stopping": True},
    ),
    "learning_rate_diverges_on_large_targets": Case(
        _X(),
        1e3 * _y_real(),
        DivergenceError,
        "Training diverged.*Try a smaller learning_rate_init",
        {"solver": "sgd", "learning_rate_init": 1.0, "max_iter": 30},
    ),
}


def _regressor(**params):
    defaults = {"n_filters": 2, "hidden_units": 4, "max_iter": 3, "random_state": 0}
    return CNNRegressor(**{**defaults, **params})


@pytest.fixture(scope="module")
def fitted_regressor():
    return fit_quietly(_regressor(), _X(), _y_real())


ALL_REGRESSOR_CASES = {**SHARED_CASES, **REGRESSOR_FIT_CASES}


@pytest.mark.parametrize(
    "case", ALL_REGRESSOR_CASES.values(), ids=ALL_REGRESSOR_CASES.keys()
)
def test_regressor_fit_rejects_bad_input(case):
    reg = _regressor(**case.params)
    with pytest.raises(case.exception, match=case.match):
        fit_quietly(reg, case.X, case.y, **case.fit_params)
    assert not hasattr(reg, "coefs_")


def _regressor_state(reg):
    return reg.predict(_X()), reg.n_iter_, list(reg.loss_curve_), reg.t_


@pytest.mark.parametrize(
    "case", REGRESSOR_FIT_CASES.values(), ids=REGRESSOR_FIT_CASES.keys()
)
def test_failed_regressor_fit_leaves_a_fitted_model_intact(case, fitted_regressor):
    reg = copy.deepcopy(fitted_regressor)
    before = _regressor_state(reg)
    good_params = reg.get_params()
    reg.set_params(**case.params)
    with pytest.raises(case.exception, match=case.match):
        fit_quietly(reg, case.X, case.y, **case.fit_params)
    _assert_same_state(_regressor_state(reg), before)
    fit_quietly(reg.set_params(**good_params), _X(), _y_real())
    _assert_same_state(_regressor_state(reg), before)


@pytest.mark.parametrize("method", ["partial_fit", "warm_start"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_regressor_refuses_another_number_of_outputs(method, n_outputs):
    y2 = np.c_[_y_real(), 1 - _y_real()]
    reg = _regressor()
    if method == "partial_fit":
        reg.partial_fit(_X(), y2)
    else:
        fit_quietly(reg.set_params(warm_start=True), _X(), y2)
    before = _regressor_state(reg)
    y = _y_real() if n_outputs == 1 else np.c_[y2, _y_real()]
    match = rf"y has {n_outputs} output\(s\) but CNNRegressor was fitted on 2"
    with pytest.raises(ValueError, match=match):
        if method == "partial_fit":
            reg.partial_fit(_X(), y)
        else:
            reg.fit(_X(), y)
    _assert_same_state(_regressor_state(reg), before)


@pytest.mark.parametrize(
    "y",
    [_y_real() > 0.5, np.arange(N), np.array([str(v) for v in _y_real()])],
    ids=["bool", "int", "numeric_strings"],
)
def test_regressor_targets_of_other_dtypes_are_converted_to_float64(y):
    reg = fit_quietly(_regressor(), _X(), y)
    expected = fit_quietly(_regressor(), _X(), np.asarray(y, dtype=np.float64))
    np.testing.assert_array_equal(reg.predict(_X()), expected.predict(_X()))
    assert reg.predict(_X()).dtype == np.float64


# ------------------------------------------------------------- inspection
ACCEPTED = (
    "feature_maps takes a CNNClassifier or CNNRegressor, a Pipeline whose "
    "last step is one, or a GridSearchCV, RandomizedSearchCV, "
    "HalvingGridSearchCV, HalvingRandomSearchCV or TransformedTargetRegressor "
    "around one; got "
)
INSPECTION_CASES = {
    "another_estimator": (
        lambda: LogisticRegression().fit(_X(), _y()),
        TypeError,
        ACCEPTED + "a LogisticRegression. ",
    ),
    "pipeline_ending_in_another_estimator": (
        lambda: make_pipeline(MinMaxScaler(), LogisticRegression()).fit(_X(), _y()),
        TypeError,
        ACCEPTED + "a LogisticRegression as the last step 'logisticregression' "
        "of a Pipeline. ",
    ),
    "unfitted_pipeline": (
        lambda: make_pipeline(MinMaxScaler(), _estimator()),
        NotFittedError,
        "This Pipeline instance is not fitted yet. Call 'fit' with appropriate "
        "arguments before feature_maps.",
    ),
    "search_without_refit": (
        lambda: fit_quietly(
            GridSearchCV(_estimator(), {"alpha": [1e-4]}, cv=2, refit=False),
            _X(),
            _y(),
        ),
        NotFittedError,
        "This GridSearchCV was fitted with refit=False, so it holds no "
        "best_estimator_ for feature_maps; fit it with refit=True, or pass a "
        "fitted estimator.",
    ),
}


@pytest.mark.parametrize(
    "make, exception, start", INSPECTION_CASES.values(), ids=INSPECTION_CASES.keys()
)
def test_inspection_rejects_other_estimators(make, exception, start):
    with pytest.raises(exception) as info:
        feature_maps(make(), _X()[:2])
    assert str(info.value).startswith(start)


# ------------------------------------------------------- saliency maps
def _saliency(**kwargs):
    from sklearn_xcnn.inspection import saliency_maps

    return lambda est: saliency_maps(est, kwargs.pop("X", _X()[:3]), **kwargs)


def _deletion(**kwargs):
    from sklearn_xcnn.inspection import deletion_curve

    return lambda est: deletion_curve(est, _X()[:3], random_state=0, **kwargs)


SALIENCY_CASES = {
    "target_not_a_class": (
        _saliency(target=7),
        ValueError,
        r"target=7 is not a class of CNNClassifier: its classes are \[0, 1\]",
    ),
    "unknown_method": (
        _saliency(method="lime"),
        ValueError,
        "method='lime' is not a saliency method; use one of",
    ),
    "n_steps_zero": (
        _saliency(method="integrated_gradients", n_steps=0),
        ValueError,
        "n_steps=0 must be a positive integer",
    ),
    "baseline_of_another_shape": (
        _saliency(method="integrated_gradients", baseline=np.zeros(5)),
        ValueError,
        r"baseline must be a number or one image of shape \(4, 4, 1\)",
    ),
    "images_of_another_shape": (
        _saliency(X=np.ones((3, 2, 8))),
        ValueError,
        r"X holds images of shape \(2, 8, 1\) .* fitted on images of shape \(4, 4, 1\)",
    ),
    "n_features_mismatch": (
        _saliency(X=np.ones((3, 9))),
        ValueError,
        "X has 9 features, but CNNClassifier is expecting 16 features as input",
    ),
    "deletion_maps_of_another_shape": (
        _deletion(maps=np.ones((3, 5))),
        ValueError,
        r"maps must have the shape of the images, \(3, 4, 4, 1\)",
    ),
    "pixels_per_step_zero": (
        _deletion(pixels_per_step=0),
        ValueError,
        "pixels_per_step=0 must be a positive integer",
    ),
}


@pytest.mark.parametrize(
    "call, exception, match", SALIENCY_CASES.values(), ids=SALIENCY_CASES.keys()
)
def test_saliency_rejects_bad_input(fitted, call, exception, match):
    before = _fitted_state(fitted)
    with pytest.raises(exception, match=match):
        call(fitted)
    _assert_same_state(_fitted_state(fitted), before)


def test_saliency_of_an_unfitted_or_foreign_estimator():
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(NotFittedError, match="not fitted yet"):
        _saliency()(_estimator())
    with pytest.raises(TypeError, match="saliency_maps takes a CNNClassifier or"):
        _saliency()(LogisticRegression().fit(_X(), _y()))


def test_saliency_target_not_an_output_of_the_regressor(fitted_regressor):
    with pytest.raises(ValueError, match=r"target=1 is not an output of CNNRegressor"):
        _saliency(target=1)(fitted_regressor)


def test_grad_cam_needs_a_convolutional_block():
    clf = fit_quietly(_estimator(n_filters=()), _X(), _y())
    with pytest.raises(ValueError, match="method='grad_cam' needs a convolutional"):
        _saliency(method="grad_cam")(clf)


def test_filter_display_convolution_out_of_range():
    # a residual unit of two convolutions and a 1x1 conv shortcut holds 3
    needs("matplotlib").use("Agg")
    from sklearn_xcnn.inspection import FilterDisplay

    clf = fit_quietly(_estimator(block="residual", block_depth=2), _X(), _y())
    with pytest.raises(
        ValueError,
        match=r"FilterDisplay.from_estimator: convolution=3 is out of range: "
        r"block 0 \('residual'\) holds 3 convolution\(s\)\.",
    ):
        FilterDisplay.from_estimator(clf, convolution=3)


# -------------------------------------------------------------- series
def _series_data(n_channels=2, n_timepoints=24):
    X = np.random.RandomState(0).standard_normal((N, n_channels, n_timepoints))
    return X, _y()


def _fcn(**params):
    from sklearn_xcnn.series import FCNClassifier

    small = dict(n_filters=(3, 2), kernel_size=(4, 3), max_iter=2, random_state=0)
    return FCNClassifier(**{**small, **params})


def _series_state(clf):
    proba = clf.predict_proba(_series_data()[0])
    return proba, clf.n_iter_, list(clf.loss_curve_), clf.t_


@pytest.fixture(scope="module")
def fitted_fcn():
    return fit_quietly(_fcn(), *_series_data())


def _rng_list(*shapes):
    rng = np.random.RandomState(1)
    return [rng.standard_normal(shape) for shape in shapes]


SERIES_FIT_CASES = {
    "unequal_lengths_without_global_pooling": Case(
        _rng_list((2, 20), (2, 24)) * 15,
        _y(),
        ValueError,
        "FCNClassifier fits series of unequal length only with global_pooling",
        params=dict(global_pooling=None),
    ),
    "nan_in_ragged_list": Case(
        _rng_list((2, 20), (2, 24)) * 14
        + [np.ones((2, 20)), np.r_[np.ones((1, 31)), np.full((1, 31), np.nan)]],
        _y(),
        ValueError,
        r"X\[29\] holds NaN or infinity: series of unequal length are given",
    ),
    "channels_differ_in_ragged_list": Case(
        _rng_list((2, 20), (2, 24)) * 14 + _rng_list((2, 20), (1, 24)),
        _y(),
        ValueError,
        r"X\[29\] has 1 channel\(s\) but X\[0\] has 2: the series of a fit",
    ),
    # 'valid' padding: a series shorter than the kernels has no output
    # ('same' padding keeps the kernels whole: every length fits)
    "series_too_short_in_ragged_list": Case(
        _rng_list((2, 20), (2, 24)) * 14 + _rng_list((2, 20), (2, 2)),
        _y(),
        ValueError,
        r"X\[29\] has 2 time point\(s\): too short for this FCNClassifier, "
        "whose kernels need series of at least 6",
        params=dict(padding="valid"),
    ),
    "X_4d": Case(np.ones((N, 1, 24, 2)), _y(), ValueError, "got a 4-D array of shape"),
    "list_of_3d": Case(
        _rng_list(*[(1, 2, 24)] * N), _y(), ValueError, "a list element has shape"
    ),
    "kernel_size_per_layer": Case(
        *_series_data(),
        ValueError,
        r"kernel_size holds 3 value\(s\) but n_filters has 2 layer\(s\)",
        params=dict(kernel_size=(8, 5, 3)),
    ),
}


@pytest.mark.parametrize("case", SERIES_FIT_CASES.values(), ids=SERIES_FIT_CASES.keys())
def test_series_fit_rejects_bad_input(case, fitted_fcn):
    with pytest.raises(case.exception, match=case.match):
        _fcn(**case.params).fit(case.X, case.y)
    clf = copy.deepcopy(fitted_fcn).set_params(**case.params)
    before = _series_state(clf)
    with pytest.raises(case.exception, match=case.match):
        clf.fit(case.X, case.y)
    _assert_same_state(_series_state(clf), before)


SERIES_PREDICT_CASES = {
    "channels_mismatch": (
        np.ones((3, 3, 24)),
        r"X holds series of 3 channel\(s\) but FCNClassifier was fitted on series "
        r"of 2 channel\(s\)",
    ),
    "univariate_for_multivariate": (
        np.ones((3, 48)),
        r"X holds series of 1 channel\(s\) but FCNClassifier was fitted on",
    ),
    "list_channels_mismatch": (
        _rng_list((2, 24), (1, 30)),
        r"X\[1\] has 1 channel\(s\) but the model was fitted on series of 2",
    ),
    "array_of_another_length": (
        np.ones((3, 2, 15)),
        "X has 30 features, but FCNClassifier is expecting 48 features as input: "
        r"series of 15 time point\(s\)",
    ),
    "nan_in_list": (
        [np.ones((2, 20)), np.r_[np.ones((1, 31)), np.full((1, 31), np.nan)]],
        r"X\[1\] holds NaN or infinity",
    ),
}


@pytest.mark.parametrize(
    "X, match", SERIES_PREDICT_CASES.values(), ids=SERIES_PREDICT_CASES.keys()
)
def test_series_predict_rejects_bad_input(fitted_fcn, X, match):
    before = _series_state(fitted_fcn)
    with pytest.raises(ValueError, match=match):
        fitted_fcn.predict(X)
    _assert_same_state(_series_state(fitted_fcn), before)


def test_series_too_short_for_valid_padding_are_refused():
    clf = fit_quietly(_fcn(padding="valid"), *_series_data())
    before = _series_state(clf)
    with pytest.raises(
        ValueError,
        match=r"A series of 2 time point\(s\) is too short for this "
        "FCNClassifier: its kernels need at least 6",
    ):
        clf.predict(_rng_list((2, 24), (2, 2)))
    _assert_same_state(_series_state(clf), before)
    # 'same' padding keeps the kernels whole: a series of 2 points predicts
    fitted = fit_quietly(_fcn(), *_series_data())
    assert fitted.predict(_rng_list((2, 24), (2, 2))).shape == (2,)


def test_series_longer_than_kernels_cut_at_fit_are_refused():
    """Fitted with 'valid' padding on series shorter than its kernels (cut
    to them), a network takes no longer series: a clear error, not a
    StopIteration."""
    clf = _fcn(kernel_size=8, padding="valid").fit(_rng_list(*[(2, 5)] * 6),
                                                   [0, 1] * 3)  # fmt: skip
    assert clf.filters_[0].shape[-2:] == (1, 5)  # the kernel of 8, cut to 5
    with pytest.raises(
        ValueError,
        match=r"A series of 7 time point\(s\) does not fit"
        r" this FCNClassifier: it was fitted on series of at most 5",
    ):
        clf.predict(_rng_list((2, 5), (2, 7)))


def test_series_without_global_pooling_take_only_the_training_length():
    X, y = _series_data()
    clf = fit_quietly(_fcn(global_pooling=None, hidden_units=4), X, y)
    assert clf.predict(list(X[:2])).shape == (2,)
    with pytest.raises(ValueError, match="was fitted without global_pooling, so"):
        clf.predict(list(X[:2, :, :20]))


# ------------------------------------ per-convolution kernels and the presets
def _resnet(**params):
    from sklearn_xcnn.series import ResNetClassifier

    return ResNetClassifier(**{"n_filters": (3, 2), "max_iter": 2, **params})


def _inception_time(**params):
    from sklearn_xcnn.series import InceptionTimeClassifier

    small = dict(n_filters=2, kernel_size=6, block_depth=1, n_networks=2, max_iter=2)
    return InceptionTimeClassifier(**{**small, **params})


PRESET_CASES = {
    "resnet_kernels_per_convolution_count": (
        _resnet,
        dict(kernel_size=((8, 5), (8, 5))),
        ValueError,
        r"kernel_size=\(\(8, 5\), \(8, 5\)\) gives block 0 2 kernels, one per "
        "convolution, but it is a residual unit of block_depth=3 convolutions",
    ),
    "image_kernels_per_convolution_on_conv": (
        lambda **p: _estimator(**p),
        dict(kernel_size=((1, 3), (1, 2))),
        ValueError,
        r"kernel_size must be an int or a \(rows, cols\) pair, got .*: block 0 is "
        "a 'conv' block",
    ),
    "inception_branch_kernels_count": (
        _inception_time,
        dict(kernel_size=((4, 2),)),
        ValueError,
        r"an inception module of 3 parallel convolutions: give 3 kernels",
    ),
    "n_networks_zero": (
        _inception_time,
        dict(n_networks=0),
        ValueError,  # InvalidParameterError
        "'n_networks' parameter of InceptionTimeClassifier must be an int in the range",
    ),
    "n_jobs_zero": (
        _inception_time,
        dict(n_jobs=0),
        ValueError,  # InvalidParameterError
        r"'n_jobs' parameter of InceptionTimeClassifier must be an int in the range "
        r"\(-inf, -1\], an int in the range \[1, inf\) or None. Got 0",
    ),
}


@pytest.mark.parametrize(
    "make, params, exception, match", PRESET_CASES.values(), ids=PRESET_CASES.keys()
)
def test_presets_and_kernels_reject_bad_parameters(make, params, exception, match):
    X = _series_data()[0] if make in (_resnet, _inception_time) else _X()
    with pytest.raises(exception, match=match):
        make(**params).fit(X, _y())


# ------------------------------------------------------ ONNX export of series
ONNX_SERIES_CASES = {
    "free_time_axis_without_global_pooling": (
        dict(global_pooling=None, hidden_units=4),
        [None, 2, None],
        "FCNClassifier was fitted on series of 24 time points and its graph "
        "takes that length only",
    ),
    "another_channel_count": (
        {},
        [None, 3, 24],
        r"FCNClassifier was fitted on series of 2 channel\(s\) but its ONNX "
        r"input \(n, n_channels, n_timepoints\) has 3",
    ),
    "2d_input_for_several_channels": (
        {},
        [None, 48],
        "FCNClassifier was fitted on series of 2 channels: its ONNX input must be 3-D",
    ),
}


@pytest.mark.parametrize(
    "params, shape, match", ONNX_SERIES_CASES.values(), ids=ONNX_SERIES_CASES.keys()
)
def test_series_onnx_export_rejects_input_types(params, shape, match):
    skl2onnx = needs("skl2onnx")
    needs("onnxruntime")
    from skl2onnx.common.data_types import FloatTensorType

    import sklearn_xcnn.onnx  # noqa: F401  (registers the converters)

    clf = fit_quietly(_fcn(**params), *_series_data())
    with pytest.raises(ValueError, match=match):
        skl2onnx.to_onnx(clf, initial_types=[("X", FloatTensorType(shape))])
