import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import NotFittedError

from sklearn_xcnn import CNNClassifier
from sklearn_xcnn.inspection import FilterDisplay

from .conftest import fit_quietly


def _display(constructor_name, clf, **kwargs):
    if constructor_name == "from_estimator":
        return FilterDisplay.from_estimator(clf, **kwargs)
    block = kwargs.pop("block", 0)
    display = FilterDisplay(
        clf.filters_[block], intercepts=clf.filter_intercepts_[block]
    )
    return display.plot(**kwargs)


@pytest.mark.parametrize("constructor_name", ["from_estimator", "init"])
def test_filter_display(pyplot, x_clf, constructor_name):
    display = _display(constructor_name, x_clf)
    filters = x_clf.filters_[0]  # (4, 1, 3, 3)
    assert display.ax_.shape == (1, 4)
    assert display.figure_ is display.ax_[0, 0].figure
    limit = np.abs(filters).max()
    assert display.vmax_ == pytest.approx(limit)
    for f in range(4):
        image = display.images_[0, f]
        assert_allclose(image.get_array(), filters[f, 0])
        low, high = image.get_clim()
        assert low == pytest.approx(-limit) and high == pytest.approx(limit)
        assert display.ax_[0, f].get_title() == f"filter {f}"
        bias = x_clf.filter_intercepts_[0][f]
        assert display.ax_[0, f].get_xlabel() == f"bias {bias:.2f}"
        written = [t.get_text() for t in display.texts_[0, f].ravel()]
        expected = [
            f"{v:.2f}" if abs(v) >= 0.005 else "0.00" for v in filters[f, 0].flat
        ]
        assert written == expected
    assert display.colorbar_ is not None
    assert display.colorbar_.ax.get_ylabel() == "weight"


def test_colour_limits_symmetric_for_one_signed_filter(pyplot):
    filters = np.array([[[0.5, 2.0], [-0.25, 1.0]]])  # all |w| <= 2, min -0.25
    display = FilterDisplay(filters).plot(colorbar=False)
    assert display.images_[0, 0].get_clim() == (-2.0, 2.0)
    assert display.colorbar_ is None
    assert display.ax_[0, 0].get_xlabel() == ""  # no intercepts given


def test_written_values_drop_the_sign_of_zero(pyplot):
    filters = np.array([[[-1e-4, 1.0], [0.5, -0.5]]])
    display = FilterDisplay(filters).plot()
    written = [t.get_text() for t in display.texts_[0, 0].ravel()]
    assert written == ["0.00", "1.00", "0.50", "-0.50"]
    display = FilterDisplay(filters).plot(values_format=".0%")
    assert display.texts_[0, 0][0, 0].get_text() == "0%"


@pytest.mark.parametrize("size, shown", [(4, True), (5, False)])
def test_values_written_on_small_kernels_only(pyplot, size, shown):
    display = FilterDisplay(np.ones((2, size, size))).plot()
    assert (display.texts_ is not None) == shown


def test_multichannel_filters_one_row_per_channel(pyplot):
    filters = np.random.RandomState(0).normal(size=(3, 2, 7, 7))
    display = FilterDisplay(filters).plot()
    assert display.ax_.shape == (2, 3)
    assert [a.get_ylabel() for a in display.ax_[:, 0]] == ["channel 0", "channel 1"]
    assert_allclose(display.images_[1, 2].get_array(), filters[2, 1])
    assert display.texts_ is None  # "auto" writes no values on 7x7 kernels
    shown = FilterDisplay(filters).plot(include_values=True, values_format=".1f")
    assert shown.texts_[0, 0].shape == (7, 7)


@pytest.mark.parametrize("block", [1, -1])
def test_later_block(pyplot, block):
    X = np.random.RandomState(0).uniform(size=(20, 64))
    clf = CNNClassifier(n_filters=(2, 3), hidden_units=3, max_iter=2)
    clf = fit_quietly(clf, X, np.arange(20) % 2)
    display = FilterDisplay.from_estimator(clf, block=block)
    assert display.ax_.shape == (2, 3)
    assert_allclose(display.images_[1, 2].get_array(), clf.filters_[1][2, 1])


def test_block_out_of_range(pyplot, x_clf):
    with pytest.raises(ValueError, match="block=1 is out of range"):
        FilterDisplay.from_estimator(x_clf, block=1)


def test_given_axes(pyplot, x_clf):
    figure, ax = pyplot.subplots()
    display = FilterDisplay.from_estimator(x_clf, ax=ax)
    assert display.figure_ is figure
    assert not ax.axison  # divided into four panels
    assert all(a.figure is figure for a in display.ax_.ravel())
    figure, axes = pyplot.subplots(2, 2)
    display = FilterDisplay.from_estimator(x_clf, ax=axes, colorbar=False)
    assert display.ax_.shape == (1, 4)
    assert display.ax_[0, 3] is axes[1, 1]
    with pytest.raises(ValueError, match="4 panels"):
        FilterDisplay.from_estimator(x_clf, ax=axes[0])


def test_not_fitted(pyplot):
    with pytest.raises(NotFittedError):
        FilterDisplay.from_estimator(CNNClassifier())


def test_bad_filter_shape(pyplot):
    with pytest.raises(ValueError, match="filters must have shape"):
        FilterDisplay(np.zeros((3, 3))).plot()


@pytest.mark.parametrize("call", ["from_estimator", "plot"])
def test_clear_error_without_matplotlib(monkeypatch, x_clf, call):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install sklearn-xcnn\[plot\]"):
        if call == "plot":
            FilterDisplay(x_clf.filters_[0]).plot()
        else:
            FilterDisplay.from_estimator(x_clf)


def test_regressor_filters(pyplot, x_reg):
    display = FilterDisplay.from_estimator(x_reg)
    assert display.ax_.shape == (1, 4)
    for f in range(4):
        assert_allclose(display.images_[0, f].get_array(), x_reg.filters_[0][f, 0])
        bias = x_reg.filter_intercepts_[0][f]
        assert display.ax_[0, f].get_xlabel() == f"bias {bias:.2f}"
