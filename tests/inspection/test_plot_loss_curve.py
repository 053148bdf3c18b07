import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import NotFittedError

from sklearn_xcnn import CNNClassifier, CNNRegressor
from sklearn_xcnn.inspection import LossCurveDisplay


def _display(constructor_name, estimator, **labels):
    """The loss-curve display of an early-stopped ``estimator``, from the
    estimator or from its curves (with the axis ``labels`` given)."""
    if constructor_name == "from_estimator":
        return LossCurveDisplay.from_estimator(estimator)
    return LossCurveDisplay(
        estimator.loss_curve_,
        validation_loss_curve=estimator.validation_loss_curve_,
        validation_scores=estimator.validation_scores_,
        **labels,
    ).plot()


@pytest.mark.parametrize("constructor_name", ["from_estimator", "init"])
def test_loss_curve_with_validation(pyplot, early_stopping_clf, constructor_name):
    clf = early_stopping_clf
    display = _display(constructor_name, clf)
    n = len(clf.loss_curve_)
    for key, values in [
        ("loss", clf.loss_curve_),
        ("validation_loss", clf.validation_loss_curve_),
        ("validation_score", clf.validation_scores_),
    ]:
        x, y = display.lines_[key].get_data()
        assert_allclose(x, np.arange(1, n + 1))
        assert_allclose(y, values)
    assert display.lines_["validation_score"].axes is display.score_ax_
    assert display.best_epoch_ == int(np.argmax(clf.validation_scores_)) + 1
    assert display.ax_.get_xlabel() == "epoch"
    assert display.ax_.get_ylabel() == "log loss"
    assert display.figure_ is display.ax_.figure
    labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert labels == ["training loss", "validation loss", "validation accuracy"]


def test_loss_curve_lbfgs(pyplot, x_clf):
    _, ax = pyplot.subplots()
    display = LossCurveDisplay.from_estimator(x_clf, ax=ax, log_scale=True)
    assert display.ax_ is ax
    assert list(display.lines_) == ["loss"]
    assert display.score_ax_ is None and display.best_epoch_ is None
    assert ax.get_xlabel() == "iteration"
    assert ax.get_yscale() == "log"


@pytest.mark.parametrize("estimator", [CNNClassifier(), CNNRegressor()])
def test_not_fitted(pyplot, estimator):
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(estimator)


@pytest.mark.parametrize("constructor_name", ["from_estimator", "init"])
def test_regressor_curves_name_its_loss_and_score(
    pyplot, early_stopping_reg, constructor_name
):
    reg = early_stopping_reg
    names = {"loss_label": "squared error / 2", "score_label": "R^2"}
    display = _display(constructor_name, reg, **names)
    assert display.ax_.get_ylabel() == "squared error / 2"
    assert display.score_ax_.get_ylabel() == "validation R^2"
    labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert labels == ["training loss", "validation loss", "validation R^2"]
    _, scores = display.lines_["validation_score"].get_data()
    assert_allclose(scores, reg.validation_scores_)
    assert display.best_epoch_ == int(np.argmax(reg.validation_scores_)) + 1


@pytest.mark.parametrize(
    "fixture, loss_label, score_label",
    [
        ("early_stopping_clf", "log loss", "accuracy"),
        ("early_stopping_reg", "squared error / 2", "R^2"),
    ],
)
def test_from_estimator_takes_the_labels_of_the_estimator(
    pyplot, request, fixture, loss_label, score_label
):
    estimator = request.getfixturevalue(fixture)
    assert (estimator._loss_label, estimator._score_label) == (loss_label, score_label)
    display = LossCurveDisplay.from_estimator(estimator)
    assert (display.loss_label, display.score_label) == (loss_label, score_label)
    assert display.ax_.get_ylabel() == loss_label


def test_regressor_without_validation(pyplot, x_reg):
    display = LossCurveDisplay.from_estimator(x_reg)
    assert display.ax_.get_ylabel() == "squared error / 2"
    assert display.score_ax_ is None and list(display.lines_) == ["loss"]
    _, losses = display.lines_["loss"].get_data()
    assert_allclose(losses, x_reg.loss_curve_)


def test_clear_error_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="LossCurveDisplay.plot requires matplotlib"):
        LossCurveDisplay([1.0, 0.5]).plot()
