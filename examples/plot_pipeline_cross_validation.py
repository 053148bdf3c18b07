"""
=============================================
A CNN in a pipeline, with cross-validation
=============================================

Because :class:`~sklearn_xcnn.CNNClassifier` follows the scikit-learn API, it
can be the last step of a :class:`~sklearn.pipeline.Pipeline` and be
evaluated with :func:`~sklearn.model_selection.cross_val_score` like any
other classifier. Here we scale the pixels of the digits data set with a
:class:`~sklearn.preprocessing.MinMaxScaler` and compare the network, fold by
fold, with a dense :class:`~sklearn.neural_network.MLPClassifier` of the
same hidden size.
"""

# %%
# Two pipelines
# -------------
# The scaler maps each pixel to [0, 1], the range the network trains best
# on. The scaled rows are still 8x8 images flattened row by row, which
# ``image_shape=(8, 8)`` tells the network. ``padding="same"`` keeps the maps
# 8x8 (the edge pixels count as much as the centre ones) and ``dropout=0.2``
# drops a fifth of the dense layer's inputs at each step while training.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from sklearn_xcnn import CNNClassifier

X, y = load_digits(return_X_y=True)

cnn = make_pipeline(
    MinMaxScaler(),
    CNNClassifier(
        n_filters=6,
        kernel_size=3,
        pooling="max",
        hidden_units=32,
        padding="same",
        dropout=0.2,
        learning_rate_init=0.01,
        early_stopping=True,
        image_shape=(8, 8),
        random_state=0,
    ),
)
mlp = make_pipeline(
    MinMaxScaler(),
    MLPClassifier(
        hidden_layer_sizes=32,
        learning_rate_init=0.01,
        early_stopping=True,
        random_state=0,
    ),
)
print(cnn)

# %%
# Cross-validation
# ----------------
# Both pipelines are refitted on each of five stratified folds; the scaler
# learns its ranges on the training part of each fold only. Both stop when a
# held-out tenth of their training part stops improving (``early_stopping``).
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
scores = {
    "CNNClassifier": cross_val_score(cnn, X, y, cv=cv),
    "MLPClassifier": cross_val_score(mlp, X, y, cv=cv),
}
for name, fold_scores in scores.items():
    print(f"{name}: {fold_scores.mean():.3f} +/- {fold_scores.std():.3f}")

# %%
# Fold by fold
# ------------
# Each line joins the accuracies of the two models on the same fold.
fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
positions = np.arange(len(scores))
for fold in range(cv.get_n_splits()):
    ax.plot(positions, [s[fold] for s in scores.values()], "o-", color="0.7")
ax.errorbar(
    positions,
    [s.mean() for s in scores.values()],
    yerr=[s.std() for s in scores.values()],
    fmt="s",
    color="C3",
    capsize=6,
    label="mean +/- std",
)
ax.set_xticks(positions, labels=list(scores))
ax.set_xlim(-0.5, len(scores) - 0.5)
ax.set_ylabel("accuracy")
ax.set_title("5-fold cross-validation on digits")
ax.legend(loc="lower right")
plt.show()

# %%
# On these tiny, centred 8x8 images, shuffled into folds, the two models are
# close (the network is ahead by under a point on average). The
# network's filters are shared by every position of the image, which matters
# more on larger images, where objects can appear anywhere.
