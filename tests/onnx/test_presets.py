"""The ResNet and InceptionTime presets export: one network, and an ensemble
whose members' probabilities (predictions) the graph averages."""

import pytest

from ..conftest import needs

needs("onnx")
needs("onnxruntime")
needs("skl2onnx")

import numpy as np  # noqa: E402
from skl2onnx._supported_operators import sklearn_operator_name_map  # noqa: E402

from sklearn_xcnn import series  # noqa: E402
from sklearn_xcnn.onnx import to_onnx  # noqa: E402

from ._helpers import (  # noqa: E402
    TOL,
    assert_classifier_matches,
    fit_quietly,
    perturb_batch_norm,
    run,
    spread_logits,
)

PRESETS = ("ResNetClassifier", "ResNetRegressor", "InceptionTimeClassifier",
           "InceptionTimeRegressor")  # fmt: skip
# tiny versions of the published networks
SMALL = {
    "ResNet": dict(n_filters=(4, 6, 6), max_iter=2),
    "InceptionTime": dict(n_filters=3, kernel_size=8, n_networks=2, max_iter=2),
}


def _series(n, n_timepoints, seed=0):
    rng = np.random.RandomState(seed)
    return np.cumsum(rng.normal(size=(n, 2, n_timepoints)), axis=2).astype(np.float32)


def _fitted(name, X):
    cls = getattr(series, name)
    est = cls(**SMALL[name.replace("Classifier", "").replace("Regressor", "")],
              random_state=0)  # fmt: skip
    y = np.arange(len(X)) % 3 if name.endswith("Classifier") else X[:, 0, -1]
    est = fit_quietly(est, X, y)
    networks = getattr(est, "estimators_", [est])
    for seed, network in enumerate(networks):
        spread_logits(perturb_batch_norm(network, seed), X)
    return est


def test_every_series_estimator_is_registered():
    for name in series.__all__:
        assert getattr(series, name) in sklearn_operator_name_map, name


@pytest.mark.parametrize("name", PRESETS)
def test_preset_matches_on_every_length(name):
    X = _series(18, 24)
    est = _fitted(name, X)
    classifier = name.endswith("Classifier")
    onx = to_onnx(est, X[:1], **({"zipmap": False} if classifier else {}))
    # 37 and 5 points: longer than the training series, shorter than the
    # kernels (8, kept whole)
    for other in (X, _series(4, 37, seed=1), _series(3, 5, seed=2)):
        outputs = run(onx, other)
        if classifier:
            assert_classifier_matches(est, list(other), outputs)
        else:
            np.testing.assert_allclose(
                outputs["variable"][:, 0], est.predict(list(other)), rtol=TOL, atol=TOL
            )
