"""Look inside a fitted network: every intermediate array, and pictures of them.

:func:`network_summary` lists the stages of a network with their shapes and
parameter counts, before or after fitting. :func:`feature_maps` returns each
stage of the network for some images as arrays; :func:`saliency_maps` which
pixels its output hangs on, and :func:`deletion_curve` how faithful those
maps are. The Display classes draw
them with matplotlib (the ``plot`` extra, ``pip install
sklearn-xcnn[plot]``), in scikit-learn's style: build one with
``from_estimator``, or from computed arrays and call ``plot``. Wherever
they take a fitted estimator they also take a fitted pipeline ending in one,
a refitted search or a TransformedTargetRegressor around one, and show the
network inside.
"""

from ._feature_maps import feature_maps
from ._plot.feature_maps import FeatureMapDisplay
from ._plot.filters import FilterDisplay
from ._plot.loss_curve import LossCurveDisplay
from ._plot.saliency import SaliencyDisplay
from ._saliency import deletion_curve, saliency_maps
from ._summary import NetworkSummary, network_summary

__all__ = [
    "FeatureMapDisplay",
    "FilterDisplay",
    "LossCurveDisplay",
    "NetworkSummary",
    "SaliencyDisplay",
    "deletion_curve",
    "feature_maps",
    "network_summary",
    "saliency_maps",
]
