"""Lists of the package's public estimators and displays, found by import.

The lists are built by importing every public module of :mod:`sklearn_xcnn`
(those whose dotted path has no part starting with an underscore) and reading
the names each one exports in ``__all__``. A module that needs an optional
extra which is not installed (:mod:`sklearn_xcnn.onnx` without ``onnx``) is
left out; it exports no estimator or display. A new estimator or display is found
as soon as a public module exports it: the common tests need no edit.
"""

import importlib
import inspect
import pkgutil

from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClusterMixin,
    RegressorMixin,
    TransformerMixin,
)

from ._optional import EXTRAS

__all__ = ["all_displays", "all_estimators"]

_PACKAGE = "sklearn_xcnn"

_TYPE_MIXINS = {
    "classifier": ClassifierMixin,
    "regressor": RegressorMixin,
    "transformer": TransformerMixin,
    "cluster": ClusterMixin,
}


def _public_modules():
    """The package and its public submodules, imported, sorted by name."""
    package = importlib.import_module(_PACKAGE)
    names = [_PACKAGE]
    for info in pkgutil.walk_packages(package.__path__, prefix=_PACKAGE + "."):
        parts = info.name.split(".")[1:]
        if any(part.startswith("_") or part == "tests" for part in parts):
            continue
        names.append(info.name)
    modules = []
    for name in sorted(names):
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            # an optional extra that is not installed; anything else is a bug
            if exc.name is None or exc.name.split(".")[0] not in EXTRAS:
                raise
    return modules


def _public_classes():
    """``{name: class}`` of every class a public module exports in ``__all__``
    and that belongs to this package."""
    classes = {}
    for module in _public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if (
                inspect.isclass(obj)
                and not name.startswith("_")
                and obj.__module__.split(".")[0] == _PACKAGE
            ):
                classes[name] = obj
    return classes


def all_estimators(type_filter=None):
    """The public estimator classes of sklearn-xcnn.

    An estimator is a class exported by a public module that derives from
    :class:`sklearn.base.BaseEstimator` and is not abstract; base classes such
    as ``BaseCNN`` live in private modules and are not listed.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "transformer", "cluster"}, \
list of those, or None, default=None
        Keep only the estimators of these kinds (those deriving from the
        matching scikit-learn mixin); ``None`` keeps all.

    Returns
    -------
    estimators : list of (str, type)
        ``(name, class)`` pairs, sorted by name.

    Examples
    --------
    >>> from sklearn_xcnn.utils.discovery import all_estimators
    >>> [name for name, _ in all_estimators()]  # doctest: +NORMALIZE_WHITESPACE
    ['CNNClassifier', 'CNNRegressor', 'FCNClassifier', 'FCNRegressor',
     'InceptionTimeClassifier', 'InceptionTimeRegressor', 'ResNetClassifier',
     'ResNetRegressor']
    >>> [name for name, _ in all_estimators(type_filter="regressor")]
    ['CNNRegressor', 'FCNRegressor', 'InceptionTimeRegressor', 'ResNetRegressor']
    """
    if type_filter is None:
        mixins = None
    else:
        kinds = [type_filter] if isinstance(type_filter, str) else list(type_filter)
        unknown = sorted(set(kinds) - set(_TYPE_MIXINS))
        if unknown:
            raise ValueError(
                f"type_filter must be None or any of {sorted(_TYPE_MIXINS)}; "
                f"got {unknown}."
            )
        mixins = tuple(_TYPE_MIXINS[kind] for kind in kinds)
    estimators = [
        (name, cls)
        for name, cls in _public_classes().items()
        if issubclass(cls, BaseEstimator)
        and not inspect.isabstract(cls)
        and (mixins is None or issubclass(cls, mixins))
    ]
    return sorted(estimators)


def all_displays():
    """The public Display classes of sklearn-xcnn.

    A display is a class exported by a public module whose name ends in
    ``Display`` (scikit-learn's naming rule for plotting classes).

    Returns
    -------
    displays : list of (str, type)
        ``(name, class)`` pairs, sorted by name.

    Examples
    --------
    >>> from sklearn_xcnn.utils.discovery import all_displays
    >>> [name for name, _ in all_displays()]
    ['FeatureMapDisplay', 'FilterDisplay', 'LossCurveDisplay', 'SaliencyDisplay']
    """
    return sorted(
        (name, cls)
        for name, cls in _public_classes().items()
        if name.endswith("Display")
    )
