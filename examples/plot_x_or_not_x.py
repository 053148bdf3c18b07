"""
=======================================
Is it an X? A small CNN, step by step
=======================================

This example follows one image through a small convolutional network, the
way an illustrated introduction to CNNs would: 3x3 filters slide over the
image one pixel at a time, each filter's bias is added, a ReLU keeps the
positive part (the *feature map*), 2x2 max pooling shrinks each map (partial
windows at the edge included), the pooled maps are flattened into a small
dense network, and a sigmoid turns its output into the probability that the
image is an X. Finally we compute the image's log loss by hand.
"""

# %%
# X's and other shapes
# --------------------
# :func:`~sklearn_xcnn.datasets.make_x_or_not_x` draws 5x5 black-and-white
# images: X's (centred, wonky or off-centre) and other shapes (rings, pluses,
# bars, L's, blobs). A few pixels are flipped at random (``noise``). We name the
# classes so that ``"X"`` sorts last: the sigmoid of a binary network gives the
# probability of the second class, ``classes_[1]``.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from sklearn_xcnn import CNNClassifier
from sklearn_xcnn.datasets import make_x_or_not_x
from sklearn_xcnn.inspection import FeatureMapDisplay, FilterDisplay, feature_maps

X, y = make_x_or_not_x(n_samples=400, noise=0.02, random_state=0)
labels = np.where(y == 1, "X", "Not X")
X_train, X_test, y_train, y_test = train_test_split(
    X, labels, stratify=labels, random_state=0
)

fig, axes = plt.subplots(2, 8, figsize=(8, 2.6), layout="constrained")
for ax, image, label in zip(axes.ravel(), X_train, y_train):
    ax.imshow(image.reshape(5, 5), cmap="gray_r")
    ax.set_title(label, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Training images (1 = black)")

# %%
# The network
# -----------
# Four 3x3 filters at stride 1 turn a 5x5 image into four 3x3 feature maps;
# 2x2 max pooling (keeping the partial windows at the edge) leaves four 2x2
# maps, 16 numbers, which feed three ReLU units and one sigmoid output. L-BFGS
# suits such a small data set; ``alpha`` keeps the weights small so that the
# probabilities stay honest.
clf = CNNClassifier(
    n_filters=4,
    kernel_size=3,
    stride=1,
    pool_size=2,
    pooling="max",
    hidden_units=3,
    activation="relu",
    solver="lbfgs",
    alpha=1.0,
    max_iter=1000,
    random_state=7,
)
clf.fit(X_train, y_train)
print(f"classes: {clf.classes_}, output: {clf.out_activation_}")
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# What the filters learned
# ------------------------
# Each filter is a 3x3 grid of weights. Red weights reward black pixels under
# them, blue weights penalise them; white is zero (the colour scale is
# symmetric about zero). Training found these filters on its own, starting
# from random ones.
FilterDisplay.from_estimator(clf)
plt.show()

# %%
# One image through the network
# -----------------------------
# Most X's get a probability of nearly 100%. To see some doubt, take the test
# X with the lowest probability above 95%. Each row below shows one filter,
# its feature map (correlation with the image, plus the bias, through the
# ReLU) and the max-pooled map; the title gives the network's verdict.
p_test = clf.predict_proba(X_test)[:, 1]  # P("X"), the second class
candidates = np.flatnonzero((y_test == "X") & (p_test > 0.95))
image = X_test[candidates[np.argmin(p_test[candidates])]]
display = FeatureMapDisplay.from_estimator(clf, image)
plt.show()
# sphinx_gallery_thumbnail_number = 3

# %%
# The same numbers, by hand
# -------------------------
# :func:`~sklearn_xcnn.inspection.feature_maps` returns every stage as arrays.
# Maps are filters-first, ``(n_samples, n_filters, rows, cols)``.
stages = feature_maps(clf, image.reshape(1, -1))
block = stages.blocks[0]
w, b = clf.filters_[0][0, 0], clf.filter_intercepts_[0][0]  # filter 0
pixels = image.reshape(5, 5)

# the top-left cell of filter 0's map: the filter times the top-left 3x3 window
by_hand = np.sum(pixels[0:3, 0:3] * w)
network = block.correlation[0, 0, 0, 0]
print(f"correlation[0, 0]: by hand {by_hand:.3f}, network {network:.3f}")
np.set_printoptions(precision=2, suppress=True)
print("filter 0 correlation:\n", block.correlation[0, 0])
print(f"plus the bias {b:.2f}:\n", block.biased[0, 0])
print("after the ReLU (feature map):\n", block.activated[0, 0])
print("max-pooled over 2x2 windows (partial at the edge):\n", block.pooled[0, 0])

# %%
# Flattening, the dense layers and the sigmoid
# --------------------------------------------
# The four pooled 2x2 maps are flattened filter by filter, row by row, into
# the 16 inputs of the dense network, in the order of the rows of
# ``coefs_[0]``.
flat = stages.flattened[0]
hidden = np.maximum(flat @ clf.coefs_[0] + clf.intercepts_[0], 0)
logit = hidden @ clf.coefs_[1][:, 0] + clf.intercepts_[1][0]
p_x = 1 / (1 + np.exp(-logit))
print("flattened:", flat)
print("hidden units:", hidden, "(network:", stages.hidden[0][0], ")")
print(f"logit {logit:.3f} -> sigmoid {p_x:.3f}")
print(f"The network says: {p_x:.0%} {clf.classes_[1]}")

# %%
# Log loss
# --------
# The log loss of one image is minus the log of the probability given to its
# true class. Here the image is an X, so it is ``-log(P(X))``; scikit-learn's
# :func:`~sklearn.metrics.log_loss` agrees.
by_hand = -np.log(p_x)
sklearn_value = log_loss(["X"], stages.proba, labels=clf.classes_)
print(f"log loss: by hand {by_hand:.4f}, sklearn {sklearn_value:.4f}")
print(
    f"mean log loss on the test set: {log_loss(y_test, clf.predict_proba(X_test)):.3f}"
)
