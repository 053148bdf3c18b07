"""scikit-learn's estimator checks, with nothing skipped or marked to fail."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_xcnn import CNNClassifier


def _instances():
    return [
        CNNClassifier(),
        CNNClassifier(
            n_filters=3,
            hidden_units=8,
            pooling="mean",
            learning_rate_init=0.01,
            max_iter=50,
            random_state=0,
        ),
        CNNClassifier(
            n_filters=(4, 3),
            hidden_units=8,
            solver="lbfgs",
            max_iter=100,
            random_state=0,
        ),
    ]


@parametrize_with_checks(_instances())
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
