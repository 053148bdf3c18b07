"""
=======================================================
What did it look at? Saliency maps and deletion curves
=======================================================

A fitted network says "X": which pixels made it say so? This example draws
three kinds of saliency map with
:class:`~sklearn_xcnn.inspection.SaliencyDisplay` (the gradient, integrated
gradients and Grad-CAM, see :ref:`saliency`) and checks each one with a
deletion curve: delete the most salient pixels first and watch the
probability of the answer fall, faster than in a random order if the map is
faithful. The same is done for a residual network, then on digits.
"""

# %%
# The X-or-not-X network
# ----------------------
# The network of :ref:`sphx_glr_auto_examples_plot_x_or_not_x.py`: four 3x3
# filters, 2x2 max pooling, three ReLU units, fitted by L-BFGS.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_xcnn import CNNClassifier
from sklearn_xcnn.datasets import make_x_or_not_x
from sklearn_xcnn.inspection import SaliencyDisplay, deletion_curve, saliency_maps

X, y = make_x_or_not_x(n_samples=400, noise=0.02, random_state=0)
labels = np.where(y == 1, "X", "Not X")
X_train, X_test, y_train, y_test = train_test_split(
    X, labels, stratify=labels, random_state=0
)
clf = CNNClassifier(
    n_filters=4, hidden_units=3, solver="lbfgs", alpha=1.0, max_iter=1000,
    random_state=7,
)  # fmt: skip
clf.fit(X_train, y_train)
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")
xs = X_test[(y_test == "X") & (clf.predict(X_test) == "X")]

# %%
# Three maps of the same X's
# --------------------------
# Each row is an X and its map for the class "X". The gradient (red: ink here
# would raise the probability, blue: it would lower it) is exactly zero on
# the two clean X's: all three hidden ReLU units are off (they detect the
# other shapes, with negative weights to the output), so the logit is the
# output's intercept, flat around the image. On the off-centre X it also
# lights up empty pixels, where ink would spoil the X. Integrated gradients
# follow the path from an empty image, on which the hidden units do fire:
# the strokes light up, and the map adds up to the change of the log-odds
# from the empty image. Grad-CAM, coarser and never negative, shows where
# the last block's filters saw evidence for "X" (none on the clean X's, for
# the same reason as the gradient). The right column is the deletion curve
# of all the correctly classified X's of the test set, with the area under
# it: the lower, the more faithful the map.
METHODS = ["gradient", "integrated_gradients", "grad_cam"]
for method in METHODS:
    curve = deletion_curve(clf, xs, target="X", method=method, random_state=0)
    maps = saliency_maps(clf, xs[:3], target="X", method=method)
    display = SaliencyDisplay(
        xs[:3].reshape(-1, 5, 5),
        maps,
        method=method,
        targets=["X"] * 3,
        scores=clf.predict_proba(xs[:3])[:, 1],
        deletion=curve,
    ).plot()
    display.figure_.suptitle(f"X-or-not-X: {method}")
    print(f"{method:>20}: area {curve.area:.3f} (random order {curve.random_area:.3f})")

# %%
# A residual network
# ------------------
# The same X's through a residual unit (see :ref:`block_kinds`): two paths
# of 4 filters, a 3x3 convolution with batch norm and a 1x1 convolution
# shortcut, added and activated, then pooled. Its maps keep the images' 5x5
# size ('same' padding), so Grad-CAM, which weighs the unit's activated
# output maps, has the image's own resolution: no interpolation. Integrated
# gradients light up the strokes again; Grad-CAM's map is fine but not
# sharp, warm on some background pixels too (it weighs whole maps, never a
# single pixel's own effect). Each method's deletion curve still falls far
# faster than the random order (areas printed below).
res = CNNClassifier(
    block="residual", n_filters=4, block_depth=1, hidden_units=3,
    learning_rate_init=0.01, max_iter=60, random_state=7,
)  # fmt: skip
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # 60 epochs suffice
    res.fit(X_train, y_train)
print(f"residual test accuracy: {res.score(X_test, y_test):.3f}")
res_xs = X_test[(y_test == "X") & (res.predict(X_test) == "X")]
for method in METHODS:
    curve = deletion_curve(res, res_xs, target="X", method=method, random_state=0)
    display = SaliencyDisplay(
        res_xs[:2].reshape(-1, 5, 5),
        saliency_maps(res, res_xs[:2], target="X", method=method),
        method=method,
        targets=["X"] * 2,
        scores=res.predict_proba(res_xs[:2])[:, 1],
        deletion=curve,
    ).plot()
    display.figure_.suptitle(f"X-or-not-X, residual unit: {method}")
    print(f"{method:>20}: area {curve.area:.3f} (random order {curve.random_area:.3f})")

# %%
# Handwritten digits
# ------------------
# The same on scikit-learn's 8x8 digits: a network of 8 filters and 32
# hidden units trained for 30 epochs, the maps of four held-out digits for
# their predicted class, and the deletion curves of 200 held-out digits.
digits, targets = load_digits(return_X_y=True)
digits = digits / 16
net = CNNClassifier(n_filters=8, hidden_units=32, max_iter=30, random_state=0)
net.fit(digits[:1200], targets[:1200])
print(f"digits test accuracy: {net.score(digits[1200:], targets[1200:]):.3f}")
held_out = digits[1200:1400]
for method in ["integrated_gradients", "grad_cam"]:
    curve = deletion_curve(net, held_out, method=method, random_state=0)
    display = SaliencyDisplay(
        held_out[:4].reshape(-1, 8, 8),
        saliency_maps(net, held_out[:4], method=method),
        method=method,
        targets=net.predict(held_out[:4]),
        scores=net.predict_proba(held_out[:4]).max(axis=1),
        deletion=curve,
    ).plot()
    display.figure_.suptitle(f"digits: {method}")
    print(f"{method:>20}: area {curve.area:.3f} (random order {curve.random_area:.3f})")
plt.show()
