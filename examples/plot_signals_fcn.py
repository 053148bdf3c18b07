"""
========================================
Classifying 1-D signals with an FCN
========================================

Time series are one-row images: a series of ``L`` steps is an image of shape
``(1, L)``, and every kernel, stride and pooling window then slides along
time only. The fully convolutional network (FCN) of the time-series
literature is three 'same'-padded blocks with batch normalisation and
kernels of 8, 5 and 3 steps, then global average pooling straight into the
output layer. Here it is one constructor call, on signals generated below,
set against a dense network (:class:`~sklearn.neural_network.MLPClassifier`)
that sees the same rows.
"""

# %%
# Signals
# -------
# Three kinds of event hide at a random time in noise: a short sine burst, a
# step up that comes back down, and a spike pair. Where the event sits varies
# from series to series, which a convolution does not mind and a dense layer
# has to learn position by position.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from sklearn_xcnn import CNNClassifier
from sklearn_xcnn.inspection import network_summary

L = 96
rng = np.random.RandomState(0)
n = 480
y = rng.randint(0, 3, size=n)
t = np.arange(L)
X = 0.4 * rng.normal(size=(n, L))
for i, label in enumerate(y):
    start = rng.randint(0, L - 24)
    if label == 0:  # a sine burst of 24 steps
        X[i, start : start + 24] += np.sin(np.arange(24) * 2 * np.pi / 8)
    elif label == 1:  # a plateau
        X[i, start : start + 24] += 1.0
    else:  # two spikes 6 steps apart
        X[i, [start + 9, start + 15]] += 3.0
names = ["burst", "plateau", "spikes"]

fig, axes = plt.subplots(3, 1, figsize=(7, 4.5), sharex=True)
for label, ax in enumerate(axes):
    for row in np.flatnonzero(y == label)[:2]:
        ax.plot(t, X[row], lw=1)
    ax.set_ylabel(names[label])
axes[-1].set_xlabel("step")
fig.suptitle("Two series of each class")
fig.tight_layout()

# %%
# The FCN, one constructor call
# -----------------------------
# ``image_shape=(1, L)`` says the rows are series (without it, a row of a
# perfect-square length such as 100 or 144 would be read as a square image,
# with a warning). Integer kernels are clipped to the one row, so
# ``kernel_size=[8, 5, 3]`` means 1x8, 1x5 and 1x3.
fcn = CNNClassifier(
    image_shape=(1, L),
    n_filters=(8, 16, 8),
    kernel_size=[8, 5, 3],
    padding="same",
    batch_norm=True,
    pooling=None,
    global_pooling="mean",
    hidden_units=(),
    learning_rate_init=0.01,
    # stop when 36 held-out series (a tenth) have not improved for 30 epochs:
    # so few give a noisy score, which needs the patience
    early_stopping=True,
    n_iter_no_change=30,
    random_state=0,
)
# before fitting, the summary needs the number of outputs: 3 classes here
print(network_summary(fcn, n_outputs=3))

# %%
# Against a dense network
# -----------------------
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
fcn.fit(X_train, y_train)
mlp = MLPClassifier(hidden_layer_sizes=(64,), early_stopping=True, random_state=0)
mlp.fit(X_train, y_train)
scores = {
    "FCN (CNNClassifier)": fcn.score(X_test, y_test),
    "MLPClassifier": mlp.score(X_test, y_test),
}
for name, score in scores.items():
    print(f"{name}: test accuracy {score:.3f}")

fig, ax = plt.subplots(figsize=(5, 2.5))
bars = ax.barh(list(scores), list(scores.values()), color=["C0", "C7"])
ax.bar_label(bars, fmt="%.3f", padding=3)
ax.set_xlim(0, 1.1)
ax.set_xlabel("test accuracy")
ax.set_title("Same series, same split")
fig.tight_layout()
plt.show()

# %%
# The FCN finds each event wherever it sits, since the same filters slide
# over every step and the global average forgets the position; the dense
# network must learn every position separately from 360 series.
