"""
============================================
Grid search over stride and pooling (digits)
============================================

:class:`~sklearn_xcnn.CNNClassifier` is an ordinary scikit-learn estimator,
so :class:`~sklearn.model_selection.GridSearchCV` can tune its architecture.
Here we compare the stride of the filters and the way feature maps are
pooled on the 8x8 images of :func:`~sklearn.datasets.load_digits`, and draw
the cross-validated accuracy of each combination as a heatmap.
"""

# %%
# Data
# ----
# Each row of ``X`` is an 8x8 image flattened row by row, the layout
# ``CNNClassifier`` expects (``image_shape=(8, 8)``). Pixel values run from 0
# to 16, so we scale them to [0, 1]. To keep the example quick we use 900 of
# the 1797 images.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_xcnn import CNNClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, train_size=900, stratify=y, random_state=0
)

# %%
# The search
# ----------
# With 3x3 filters an 8x8 image gives 6x6 feature maps at stride 1, 3x3 at
# stride 2 and 2x2 at stride 3; 2x2 pooling then halves them, rounding up
# (partial windows are kept). ``pooling=None`` feeds the feature maps to the
# dense layer unpooled. Every combination trains (Adam, one process) until a
# held-out tenth of its training rows stops improving (``early_stopping=True``),
# well before ``max_iter``.
param_grid = {"stride": [1, 2, 3], "pooling": ["max", "mean", "sum", None]}
cnn = CNNClassifier(
    n_filters=4,
    kernel_size=3,
    hidden_units=16,
    learning_rate_init=0.01,
    early_stopping=True,
    image_shape=(8, 8),
    random_state=0,
)
search = GridSearchCV(cnn, param_grid, cv=3)
search.fit(X_train, y_train)

print("best parameters:", search.best_params_)
print(f"best cross-validated accuracy: {search.best_score_:.3f}")
print(f"test accuracy of the refitted best model: {search.score(X_test, y_test):.3f}")

# %%
# Heatmap of the scores
# ---------------------
# ``cv_results_`` lists the combinations in the order of the grid; we
# arrange their mean test scores as strides x poolings.
strides = param_grid["stride"]
poolings = param_grid["pooling"]
scores = np.empty((len(strides), len(poolings)))
for params, score in zip(
    search.cv_results_["params"], search.cv_results_["mean_test_score"]
):
    scores[strides.index(params["stride"]), poolings.index(params["pooling"])] = score

fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
image = ax.imshow(scores, cmap="viridis")
for (i, j), score in np.ndenumerate(scores):
    color = "black" if score > scores.min() + 0.6 * np.ptp(scores) else "white"
    ax.text(j, i, f"{score:.3f}", ha="center", va="center", color=color)
ax.set_xticks(range(len(poolings)), labels=[str(p) for p in poolings])
ax.set_yticks(range(len(strides)), labels=strides)
ax.set_xlabel("pooling")
ax.set_ylabel("stride")
ax.set_title("Mean cross-validated accuracy (3 folds)")
fig.colorbar(image, ax=ax, label="accuracy")
plt.show()

# %%
# Larger strides skip positions, so the feature maps shrink and detail is
# lost: at stride 3 pooling leaves one number per filter, four numbers per
# image, too few to tell ten digits apart. On images this small, pooling can
# also cost accuracy: without it the dense layer sees
# all ``4 x 6 x 6 = 144`` values of the stride-1 feature maps instead of
# ``4 x 3 x 3 = 36``. Pooling pays off on larger images, where it makes the
# dense layer much smaller and the network tolerant to small shifts.
