"""scikit-learn's estimator checks over every public estimator, with nothing
skipped, and one check marked to fail for augmented variants and for
dropout (the image estimators' defaults), which a test below runs again
without dropout.

The estimators come from :func:`sklearn_xcnn.utils.discovery.all_estimators`,
so a new public estimator is checked without editing this file: each is
checked with its defaults and with the variants below, which are applied to
every class alike through ``set_params``.

With augmentation, a sample of weight 3 gets one draw per epoch where three
copies of it get three: fitting with integer weights equals fitting on
repeated rows in expectation only, not to the 1e-7 that
``check_sample_weight_equivalence_on_dense_data`` asks, so that check is
expected to fail for the augmented variant. Dropout draws a mask per row
the same way, so the check is expected to fail where ``dropout > 0`` (the
defaults of ``CNNClassifier`` and ``CNNRegressor``) and runs again on the
same estimators with ``dropout=0``, as scikit-learn runs it for
``MLPClassifier`` with its deterministic solver.
"""

import inspect

import numpy as np
import pytest
from sklearn.base import BaseEstimator, is_classifier, is_regressor
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_xcnn
import sklearn_xcnn.inspection
import sklearn_xcnn.series
from sklearn_xcnn.augment import RandomJitter, RandomScaling
from sklearn_xcnn.utils import discovery
from sklearn_xcnn.utils.discovery import all_displays, all_estimators

# cheap variants that reach the other code paths: mean and sum pooling,
# 'same' padding, batch norm, stacked blocks, the L-BFGS and SGD solvers, the
# FFT engine, and the residual and inception block kinds with dilation
VARIANTS = [
    {},
    dict(
        n_filters=3,
        hidden_units=8,
        pooling="mean",
        padding="same",
        learning_rate_init=0.01,
        max_iter=200,
        random_state=0,
    ),
    dict(n_filters=(4, 3), hidden_units=8, solver="lbfgs", max_iter=50, random_state=0),
    dict(n_filters=3, hidden_units=8, batch_norm=True, max_iter=200, random_state=0),
    dict(
        n_filters=2,
        hidden_units=8,
        pooling="sum",
        solver="sgd",
        batch_size=32,
        max_iter=150,
        algorithm="scipy",
        random_state=0,
    ),
    # augmentation that suits any rows (the checks' data are not images)
    dict(
        n_filters=3,
        hidden_units=8,
        augment=[RandomScaling(0.05), RandomJitter(0.01)],
        max_iter=200,
        random_state=0,
    ),
    dict(
        block="residual",
        n_filters=3,
        block_depth=2,
        hidden_units=8,
        max_iter=200,
        random_state=0,
    ),
    dict(
        block=["conv", "inception"],
        n_filters=(3, 2),
        block_depth=1,
        padding="same",
        dilation=[1, 2],
        hidden_units=8,
        max_iter=200,
        random_state=0,
    ),
]

_AUGMENTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": (
        "augmentation draws once per row: a weight of k equals k copies of the "
        "row in expectation only"
    ),
}

_DROPOUT_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": (
        "dropout draws a mask per row: a weight of k equals k copies of the "
        "row in expectation only (test_sample_weight_equivalence_without_dropout "
        "runs the check on the same estimator with dropout=0)"
    ),
}


def _expected_failures(estimator):
    if estimator.augment:
        return _AUGMENTED_FAILURES
    if estimator.dropout > 0 and estimator.solver != "lbfgs":
        return _DROPOUT_FAILURES
    return {}


# the variants reach their code paths on small networks: no dropout, and no
# batch norm but where a variant asks for it (the defaults have both; the
# estimators' own defaults are checked as they are, with VARIANTS[0])
_SMALL_NETWORK = dict(batch_norm=False, dropout=0.0)


def _set_checking_parameters(estimator, variant):
    """``estimator`` with ``variant`` set, made cheap enough for the checks.

    The presets of :mod:`sklearn_xcnn.series` default to published
    architectures (hundreds of filters, hundreds of epochs of small steps):
    for the checks their layers keep at most 4 filters, and they train in
    full batches (``batch_size="auto"``) at a rate of ``1e-2`` for at most
    200 epochs, unless the variant says otherwise. Full batches, because in
    mini-batches of 16 a repeated row and a weighted one land in different
    batches, so ``check_sample_weight_equivalence`` could not hold for any
    mini-batch learner. A variant's int ``n_filters`` is the count of each of
    the preset's layers; a tuple keeps the preset's first kernel lengths.
    Nothing else changes: every check runs the preset's own code.
    """
    if estimator.__module__.startswith("sklearn_xcnn.series"):
        preset = estimator.get_params()
        n_filters = variant.get("n_filters", 4)
        if np.ndim(n_filters) == 0:
            n_filters = tuple(min(n, n_filters) for n in preset["n_filters"])
        small = {
            "n_filters": n_filters,
            "kernel_size": _preset_kernels(preset, len(n_filters), variant),
            "batch_size": "auto",
            "learning_rate_init": 1e-2,
            "max_iter": 200,
        }
        if "n_networks" in preset:
            # an ensemble: two networks of one inception module show the mean
            n_filters = n_filters[:1]
            small.update(n_filters=n_filters, n_networks=2, block_depth=1)
            small["kernel_size"] = _preset_kernels(preset, 1, variant)
        variant = {**small, **variant, "n_filters": n_filters}
        if variant.get("solver") == "sgd":
            # half that rate with SGD: with momentum on sum pooling 1e-2 is at
            # the edge of stability, and under the presets' cosine schedule
            # it diverged in check_regressor_multioutput
            variant["learning_rate_init"] = 5e-3
    elif variant:
        variant = {**_SMALL_NETWORK, **variant}
    return estimator.set_params(**variant)


def _preset_kernels(preset, n_layers, variant):
    """The preset's kernel lengths of its first ``n_layers`` layers (one for
    all where it has one); where the variant changes the block kinds, each
    layer's first length (a tuple of lengths per convolution fits only the
    preset's own kind and depth)."""
    kernels = preset["kernel_size"]
    if np.ndim(kernels) == 0:
        return kernels
    kernels = tuple(kernels[:n_layers])
    if "block" in variant:
        kernels = tuple(k if np.ndim(k) == 0 else k[0] for k in kernels)
    return kernels


# The series presets are the image estimators with other defaults (same
# code): besides their own defaults they are checked with the L-BFGS, the SGD
# (sum pooling, FFT engine), the augmented and the residual variants, which
# keeps the checks' share of CI's time down.
SERIES_VARIANTS = [0, 2, 4, 5, 6]


# The presets of compound blocks cost two to three FCNs a fit. ResNet is
# checked with its defaults and the L-BFGS variant; InceptionTime, which fits
# two networks (of one inception module each, for the checks) per fit, with
# its defaults only: its networks are the code checked everywhere else, and
# the ensemble's own code does not depend on the solver. The other paths
# (SGD, the FFT engine, augmentation) are checked above for the image
# estimators and the FCN.
COMPOUND_VARIANTS = [0, 2]


def _variants(cls):
    if "n_networks" in cls().get_params():
        return [VARIANTS[0]]
    if cls().get_params().get("block") in ("residual", "inception"):
        return [VARIANTS[i] for i in COMPOUND_VARIANTS]
    if cls.__module__.startswith("sklearn_xcnn.series"):
        return [VARIANTS[i] for i in SERIES_VARIANTS]
    return VARIANTS


def _instances():
    return [
        _set_checking_parameters(cls(), variant)
        for _, cls in all_estimators()
        for variant in _variants(cls)
    ]


@parametrize_with_checks(_instances(), expected_failed_checks=_expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# --------------------------------------------------------------- discovery
def _exported_classes(*modules):
    return {
        name: getattr(module, name)
        for module in modules
        for name in module.__all__
        if inspect.isclass(getattr(module, name))
    }


def test_all_estimators_finds_the_exported_estimators():
    exported = _exported_classes(
        sklearn_xcnn, sklearn_xcnn.inspection, sklearn_xcnn.series
    )
    expected = {
        name: cls for name, cls in exported.items() if issubclass(cls, BaseEstimator)
    }
    assert dict(all_estimators()) == expected
    assert {"CNNClassifier", "CNNRegressor"} <= set(expected)
    names = [name for name, _ in all_estimators()]
    assert names == sorted(names)
    assert "BaseCNN" not in names  # the base class lives in a private module


@pytest.mark.parametrize(
    "type_filter, test",
    [("classifier", is_classifier), ("regressor", is_regressor)],
)
def test_all_estimators_type_filter(type_filter, test):
    found = all_estimators(type_filter=type_filter)
    assert found
    assert all(test(cls()) for _, cls in found)
    others = [cls for name, cls in all_estimators() if name not in dict(found)]
    assert not any(test(cls()) for cls in others)
    both = all_estimators(type_filter=["classifier", "regressor"])
    assert len(both) == len(all_estimators(type_filter="classifier")) + len(
        all_estimators(type_filter="regressor")
    )
    assert all_estimators(type_filter="transformer") == []
    with pytest.raises(ValueError, match="type_filter must be None or any of"):
        all_estimators(type_filter="clusterer")


def test_all_displays_finds_the_exported_displays():
    exported = _exported_classes(sklearn_xcnn.inspection)
    expected = {name: cls for name, cls in exported.items() if name.endswith("Display")}
    assert dict(all_displays()) == expected
    assert len(expected) == 4


def test_a_new_public_class_is_found_without_editing_anything(monkeypatch):
    """An estimator or display that a public module starts to export is
    listed, whichever public module exports it."""

    class NewEstimator(BaseEstimator):
        pass

    class NewDisplay:
        pass

    for cls in (NewEstimator, NewDisplay):
        monkeypatch.setattr(cls, "__module__", "sklearn_xcnn.datasets._new")
    datasets = sklearn_xcnn.datasets
    monkeypatch.setattr(datasets, "NewEstimator", NewEstimator, raising=False)
    monkeypatch.setattr(datasets, "NewDisplay", NewDisplay, raising=False)
    monkeypatch.setattr(datasets, "__all__", [*datasets.__all__, "NewEstimator"])
    assert ("NewEstimator", NewEstimator) in all_estimators()
    assert "NewDisplay" not in dict(all_displays())  # not exported yet
    monkeypatch.setattr(datasets, "__all__", [*datasets.__all__, "NewDisplay"])
    assert ("NewDisplay", NewDisplay) in all_displays()
    assert "NewDisplay" not in dict(all_estimators())  # not an estimator


def test_private_modules_are_not_walked():
    names = [module.__name__ for module in discovery._public_modules()]
    assert "sklearn_xcnn" in names and "sklearn_xcnn.inspection" in names
    assert not any(part.startswith("_") for n in names for part in n.split("."))


@pytest.mark.parametrize(
    "estimator",
    [cls() for _, cls in all_estimators() if cls().get_params().get("dropout", 0) > 0],
    ids=lambda est: type(est).__name__,
)
def test_sample_weight_equivalence_without_dropout(estimator):
    """The check that dropout fails (see _DROPOUT_FAILURES) holds for the
    estimator's defaults otherwise: weights are counts of rows, with batch
    norm, batches of 64 and the cosine schedule (as scikit-learn runs it for
    MLPClassifier with its deterministic solver)."""
    from sklearn.utils.estimator_checks import (
        check_sample_weight_equivalence_on_dense_data,
    )

    estimator.set_params(dropout=0.0, random_state=0)
    check_sample_weight_equivalence_on_dense_data(type(estimator).__name__, estimator)
