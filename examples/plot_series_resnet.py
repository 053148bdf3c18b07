"""
==========================================
Classifying time series with a ResNet
==========================================

:class:`~sklearn_xcnn.series.ResNetClassifier` is the residual network of
the time-series literature (Wang, Yan and Oates, 2017): three residual units
of three convolutions with kernels of 8, 5 and 3 steps, batch norm, a
shortcut around each unit, then global mean pooling into the output layer.
It reads series the way aeon holds them, an array ``(n_cases, n_channels,
n_timepoints)``. Here it classifies generated series, and we look at what the
filters of its first convolution respond to.
"""

# %%
# Series
# ------
# Three kinds of event hide at a random time in noise: a sine burst, a
# plateau, and a pair of spikes. Where the event sits varies from series to
# series.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from sklearn_xcnn.inspection import network_summary
from sklearn_xcnn.series import ResNetClassifier

L = 96
rng = np.random.RandomState(0)
n = 300
y = rng.randint(0, 3, size=n)
X = 0.4 * rng.normal(size=(n, 1, L))  # aeon's layout: one channel
for i, label in enumerate(y):
    start = rng.randint(0, L - 24)
    if label == 0:  # a sine burst of 24 steps
        X[i, 0, start : start + 24] += np.sin(np.arange(24) * 2 * np.pi / 8)
    elif label == 1:  # a plateau
        X[i, 0, start : start + 24] += 1.0
    else:  # two spikes 6 steps apart
        X[i, 0, [start + 9, start + 15]] += 3.0
names = ["burst", "plateau", "spikes"]

fig, axes = plt.subplots(3, 1, figsize=(7, 4.5), sharex=True)
for label, ax in enumerate(axes):
    for row in np.flatnonzero(y == label)[:2]:
        ax.plot(X[row, 0], lw=1)
    ax.set_ylabel(names[label])
axes[-1].set_xlabel("time step")
fig.suptitle("Two series of each class")
fig.tight_layout()

# %%
# The ResNet
# ----------
# The published network has 64, 128 and 128 filters per unit; a quarter of
# that is plenty for three kinds of event and trains in seconds. The kernel
# lengths stay the published ones: ``kernel_size`` holds one entry per unit,
# each the lengths of the unit's three convolutions.
clf = ResNetClassifier(
    n_filters=(16, 32, 32),
    kernel_size=((8, 5, 3), (8, 5, 3), (8, 5, 3)),
    max_iter=10,
    random_state=0,
)
print(network_summary(clf, image_shape=(1, L, 1), n_outputs=3))

X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
clf.fit(X_train, y_train)
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")
for label, name in enumerate(names):
    mask = y_test == label
    print(f"  {name:8s} {np.mean(clf.predict(X_test[mask]) == label):.3f}")

# %%
# What the first filters respond to
# ---------------------------------
# ``filters_[0]`` holds the first convolution of unit 0, of shape
# ``(16, 1, 1, 8)``: sixteen kernels of 8 steps (the unit's other
# convolutions follow, then its shortcut). Each is drawn below, and
# beside them how strongly it responds to each class: the largest
# correlation of the filter with a series (where along the series does not
# matter, as after the global pooling), averaged over the test series of the
# class and standardised per filter.
kernels = clf.filters_[0][:, 0, 0, :]  # (16, 8)
responses = np.array(
    [[np.correlate(x[0], k, mode="valid").max() for k in kernels] for x in X_test]
)  # (n_test, 16)
responses = (responses - responses.mean(axis=0)) / responses.std(axis=0)
by_class = np.array([responses[y_test == c].mean(axis=0) for c in range(3)])

fig = plt.figure(figsize=(9, 4.5))
grid = fig.add_gridspec(4, 8)
for f, kernel in enumerate(kernels):
    ax = fig.add_subplot(grid[f // 4, f % 4])
    ax.plot(kernel, color="C0")
    ax.axhline(0, color="0.7", lw=0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"filter {f}", fontsize=7)
ax = fig.add_subplot(grid[:, 4:])
image = ax.imshow(by_class.T, cmap="RdBu_r", vmin=-1.5, vmax=1.5, aspect="auto")
ax.set_xticks(range(3), names)
ax.set_yticks(range(len(kernels)))
ax.set_ylabel("filter")
ax.set_title("mean standardised response")
fig.colorbar(image, ax=ax)
fig.suptitle("First convolution of the first residual unit")
fig.tight_layout()
plt.show()

# %%
# The spikes, the largest values in these series, drive most of the first
# filters; the few that prefer the burst or the plateau are those whose shape
# follows an oscillation or a level step. One convolution sees only 8 steps:
# the later convolutions and units combine these answers over longer spans,
# and the shortcut lets each unit pass its input on where it has nothing to
# add.
