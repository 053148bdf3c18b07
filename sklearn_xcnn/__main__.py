"""Demo: ``python -m sklearn_xcnn`` trains a CNN on the digits and reports accuracy."""

import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_xcnn import CNNClassifier, __version__


def main():
    """Fit the default CNNClassifier on 75% of digits and score the rest."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    print(f"sklearn-xcnn {__version__}: 8x8 digits, {len(X_train)} train images")
    clf = CNNClassifier(random_state=0)
    print(clf)
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    print(f"trained {clf.n_iter_} epochs in {seconds:.1f} s")
    print(f"learned filters: {[f.shape for f in clf.filters_]}")
    print(f"test accuracy: {clf.score(X_test, y_test):.4f}")


if __name__ == "__main__":
    main()
