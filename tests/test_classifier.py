"""CNNClassifier as a scikit-learn estimator: the guarantees of the estimator issue."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_xcnn import CNNClassifier
from sklearn_xcnn._core._conv import correlate_forward
from sklearn_xcnn._core._pool import pool_forward
from sklearn_xcnn.datasets import make_x_or_not_x

from .conftest import V02, needs


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    return X[:300] / 16, y[:300]


def _small(**kw):
    params = dict(n_filters=3, hidden_units=16, max_iter=15, random_state=0)
    params.update(kw)
    return CNNClassifier(**params)


def _params(clf):
    return clf.filters_ + clf.filter_intercepts_ + clf.coefs_ + clf.intercepts_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_digits_accuracy_with_defaults(digits):
    """The acceptance figure: default settings reach >= 0.98 on digits."""
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    clf = CNNClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.98


def test_fitted_attributes(small_digits):
    X, y = small_digits
    # the 0.2 network's 'valid' blocks, whose shapes are worked out below
    clf = _small(
        **{**V02, "n_filters": (4, 3), "hidden_units": (8, 5), "max_iter": 3}
    ).fit(X, y)
    assert clf.image_shape_ == (8, 8, 1)
    assert clf.n_features_in_ == 64
    assert_array_equal(clf.classes_, np.arange(10))
    # 8x8 -> conv 6x6 -> pool 3x3 -> conv 1x1 -> pool 1x1
    assert [f.shape for f in clf.filters_] == [(4, 1, 3, 3), (3, 4, 3, 3)]
    assert [b.shape for b in clf.filter_intercepts_] == [(4,), (3,)]
    assert [c.shape for c in clf.coefs_] == [(3, 8), (8, 5), (5, 10)]
    assert [b.shape for b in clf.intercepts_] == [(8,), (5,), (10,)]
    assert clf.n_outputs_ == 10
    assert clf.out_activation_ == "softmax"
    assert clf.n_iter_ == 3 == len(clf.loss_curve_)
    assert clf.t_ == 3 * len(X)
    assert clf.loss_ == clf.loss_curve_[-1]


def test_flatten_order_is_filters_rows_cols(small_digits):
    """coefs_[0] rows follow the pooled maps flattened as filters x rows x cols."""
    X, y = small_digits
    # the plain 'valid' block of 0.2 (no batch norm), written out below
    clf = _small(
        **{**V02, "n_filters": 3, "hidden_units": (5,), "max_iter": 2},
        activation="identity",
    ).fit(X, y)
    images = X[:4].reshape(4, 8, 8, 1)
    z, _ = correlate_forward(images, clf.filters_[0], (1, 1), "scipy")
    pooled, _ = pool_forward(z + clf.filter_intercepts_[0], (2, 2), "max")
    flat = pooled.transpose(0, 3, 1, 2).reshape(4, -1)  # (n, F, rows, cols)
    hidden = flat @ clf.coefs_[0] + clf.intercepts_[0]
    logits = hidden @ clf.coefs_[1] + clf.intercepts_[1]
    assert_allclose(clf.decision_function(X[:4]), logits, rtol=1e-10)


def test_binary_sigmoid_output():
    X, y = make_x_or_not_x(60, random_state=0)
    clf = CNNClassifier(
        n_filters=4, hidden_units=3, solver="lbfgs", max_iter=50, random_state=0
    )
    clf.fit(X, y)
    assert clf.out_activation_ == "logistic"
    assert clf.n_outputs_ == 1
    assert clf.coefs_[-1].shape == (3, 1)
    assert clf.decision_function(X).shape == (60,)
    proba = clf.predict_proba(X)
    assert proba.shape == (60, 2)
    assert_allclose(proba[:, 1], 1 / (1 + np.exp(-clf.decision_function(X))))


def test_multilabel_indicator():
    rng = np.random.RandomState(0)
    X = rng.rand(40, 16)
    Y = np.column_stack([X[:, 0] > 0.5, X[:, 5] > 0.5, X[:, :8].sum(1) > 4]).astype(int)
    clf = _small(max_iter=30).fit(X, Y)
    assert clf.out_activation_ == "logistic"
    assert clf.predict(X).shape == (40, 3)
    assert set(np.unique(clf.predict(X))) <= {0, 1}
    assert clf.predict_proba(X).shape == (40, 3)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_random_state_bit_for_bit(small_digits):
    X, y = small_digits
    a = _small().fit(X, y)
    b = _small().fit(X, y)
    for p, q in zip(_params(a), _params(b)):
        assert_array_equal(p, q)
    c = _small(random_state=1).fit(X, y)
    assert not np.array_equal(a.filters_[0], c.filters_[0])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_clone_params_and_pickle(small_digits):
    X, y = small_digits
    clf = _small(n_filters=(3, 2), kernel_size=(3, 2), image_shape=(8, 8))
    assert clone(clf).get_params() == clf.get_params()
    clf.set_params(stride=2, pooling="sum")
    assert clf.stride == 2 and clf.pooling == "sum"
    clf.fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert_array_equal(restored.predict(X), clf.predict(X))
    assert not hasattr(clone(clf), "coefs_")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_dataframe_input_keeps_feature_names(small_digits):
    pd = needs("pandas")
    X, y = small_digits
    df = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    clf = _small(max_iter=2).fit(df, pd.Series(y))
    assert_array_equal(clf.feature_names_in_, df.columns)
    assert_array_equal(clf.predict(df), _small(max_iter=2).fit(X, y).predict(X))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
def test_input_dtypes(small_digits, dtype):
    X, y = small_digits
    Xd = (X * 16).astype(dtype)
    clf = _small(max_iter=2).fit(Xd, y)
    expected = np.float32 if dtype == np.float32 else np.float64
    assert clf.filters_[0].dtype == expected
    assert clf.coefs_[0].dtype == expected
    assert clf.predict_proba(Xd).dtype == expected


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_readonly_memmap_input(small_digits, tmp_path):
    X, y = small_digits
    path = tmp_path / "X.npy"
    np.save(path, X)
    X_mm = np.load(path, mmap_mode="r")
    assert not X_mm.flags.writeable
    clf = _small(max_iter=2).fit(X_mm, y)
    assert_array_equal(clf.predict(X_mm), _small(max_iter=2).fit(X, y).predict(X))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_image_input_3d_and_4d(small_digits):
    X, y = small_digits
    flat = _small(max_iter=2).fit(X, y)
    images = _small(max_iter=2).fit(X.reshape(-1, 8, 8), y)
    assert images.image_shape_ == (8, 8, 1)
    assert_array_equal(images.predict_proba(X.reshape(-1, 8, 8)), flat.predict_proba(X))
    # flat rows work on a model fitted on images, and the other way round
    assert_array_equal(images.predict(X), flat.predict(X))
    rgb = np.repeat(X.reshape(-1, 8, 8, 1), 3, axis=3)
    clf = _small(max_iter=2).fit(rgb, y)
    assert clf.image_shape_ == (8, 8, 3)
    assert clf.filters_[0].shape == (3, 3, 3, 3)
    assert clf.n_features_in_ == 192
    # rows of channels-last pixels with image_shape give the same model
    rows = _small(max_iter=2, image_shape=(8, 8, 3)).fit(rgb.reshape(len(X), -1), y)
    assert_array_equal(rows.predict_proba(rgb), clf.predict_proba(rgb))


def test_image_shape_defaults():
    rng = np.random.RandomState(0)
    y = np.array([0, 1] * 5)
    clf = _small(max_iter=1).fit(rng.rand(10, 49), y)
    assert clf.image_shape_ == (7, 7, 1)
    clf = _small(max_iter=1).fit(rng.rand(10, 10), y)
    assert clf.image_shape_ == (1, 10, 1)  # not a square: a 1-D signal
    assert clf.filters_[0].shape == (3, 1, 1, 3)  # kernel clipped to one row
    clf = _small(max_iter=1).fit(rng.rand(10, 1), y)
    assert clf.image_shape_ == (1, 1, 1)


@pytest.mark.parametrize(
    ("image_shape", "match"),
    [
        ((8, 7), r"image_shape=\(8, 7\) describes 56 values per image but X has 64"),
        ((4, 4, 3), "describes 48 values"),
        ((8, 8, 1, 1), r"image_shape must be \(height, width\)"),
        ((0, 8), "image_shape must be a positive int"),
    ],
)
def test_image_shape_mismatch(small_digits, image_shape, match):
    X, y = small_digits
    with pytest.raises(ValueError, match=match):
        _small(image_shape=image_shape).fit(X, y)


def test_image_shape_disagrees_with_image_input(small_digits):
    X, y = small_digits
    with pytest.raises(ValueError, match=r"X holds images of shape \(8, 8, 1\)"):
        _small(image_shape=(4, 16)).fit(X.reshape(-1, 8, 8), y)


def test_other_image_shape_at_predict(small_digits):
    X, y = small_digits
    clf = _small(max_iter=1).fit(X.reshape(-1, 8, 8), y)
    with pytest.raises(ValueError, match=r"fitted on images of shape \(8, 8, 1\)"):
        clf.predict(X.reshape(-1, 4, 16))
    with pytest.raises(ValueError, match="X has 63 features"):
        clf.predict(X[:, :63])


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.full((4, 9), np.nan), "NaN"),
        (np.full((4, 9), np.inf), "infinity"),
        (np.arange(4.0), "Expected 2D array, got 1D array"),
        (np.zeros((4, 2, 2, 2, 2)), "got a 5-D array"),
    ],
)
def test_bad_X(X, match):
    with pytest.raises(ValueError, match=match):
        _small().fit(X, [0, 1, 0, 1])


def test_sparse_X_is_refused_clearly():
    X = sparse.random(4, 9, density=0.5, format="csr", random_state=0)
    with pytest.raises(TypeError, match="Sparse data was passed"):
        _small().fit(X, [0, 1, 0, 1])


def test_single_class():
    with pytest.raises(ValueError, match="at least 2 classes.*only one class: 1"):
        _small().fit(np.random.RandomState(0).rand(5, 9), [1] * 5)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"pooling": "median"}, "pooling"),
        ({"activation": "gelu"}, "activation"),
        ({"solver": "rmsprop"}, "solver"),
        ({"algorithm": "fft"}, "algorithm"),
        ({"n_filters": 0}, "n_filters"),
        ({"stride": -1}, "stride"),
        ({"alpha": -1.0}, "alpha"),
    ],
)
def test_unknown_options_raise_invalid_parameter(params, name):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        _small(**params).fit(np.random.RandomState(0).rand(4, 9), [0, 1, 0, 1])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_filters": (4, 0)}, "n_filters must be a positive int"),
        ({"kernel_size": (3, 3, 3)}, r"kernel_size must be an int or a \(rows, cols\)"),
        ({"hidden_units": (8, -2)}, "hidden_units must be a positive int"),
    ],
)
def test_bad_sequence_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        _small(**params).fit(np.random.RandomState(0).rand(4, 9), [0, 1, 0, 1])


def test_no_hidden_layer_and_no_pooling(small_digits):
    X, y = small_digits
    clf = _small(hidden_units=(), pooling=None, max_iter=30, learning_rate_init=0.01)
    clf.fit(X, y)
    # 'same' padding (the default since issue 21) keeps the 8x8 maps
    assert clf.padding == "same"
    assert [c.shape for c in clf.coefs_] == [(3 * 8 * 8, 10)]
    assert clf.score(X, y) > 0.8


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("pooling", ["max", "mean", "sum"])
@pytest.mark.parametrize("stride", [1, 2])
def test_engines_give_the_same_model(small_digits, pooling, stride):
    X, y = small_digits
    a = _small(pooling=pooling, stride=stride, algorithm="im2col", max_iter=3).fit(X, y)
    b = _small(pooling=pooling, stride=stride, algorithm="scipy", max_iter=3).fit(X, y)
    for p, q in zip(_params(a), _params(b)):
        assert_allclose(p, q, rtol=1e-7, atol=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_pipeline_cross_val_and_parallel_grid_search(small_digits):
    """The estimator issue's snippet, on a slice of digits to stay quick."""
    X, y = small_digits
    clf = _small(max_iter=10, learning_rate_init=0.01, batch_size=32)
    scores = cross_val_score(make_pipeline(MinMaxScaler(), clf), X, y, cv=3)
    assert scores.mean() > 0.8
    grid = {"stride": [1, 2], "pooling": ["max", "mean", "sum"]}
    search = GridSearchCV(clf, grid, cv=3, n_jobs=2).fit(X, y)
    serial = GridSearchCV(clf, grid, cv=3, n_jobs=1).fit(X, y)
    assert search.best_params_ == serial.best_params_
    assert_allclose(
        search.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
