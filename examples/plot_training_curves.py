"""
=============================================
Training curves and early stopping
=============================================

During a fit :class:`~sklearn_xcnn.CNNClassifier` records the training loss
after every epoch in ``loss_curve_``. With ``early_stopping=True`` it also
holds out part of the training data and records the validation accuracy
(``validation_scores_``) and loss (``validation_loss_curve_``) after every
epoch; it stops once the accuracy has not improved for ``n_iter_no_change``
epochs and keeps the weights of the best epoch.
:class:`~sklearn_xcnn.inspection.LossCurveDisplay` draws the three curves.
"""

# %%
# Fit with early stopping
# -----------------------
# We train on the digits data set, scaled to [0, 1], holding out 20% of the
# training images for validation.
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_xcnn import CNNClassifier
from sklearn_xcnn.inspection import LossCurveDisplay

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, stratify=y, random_state=0
)

clf = CNNClassifier(
    n_filters=8,
    hidden_units=32,
    learning_rate_init=0.01,
    early_stopping=True,
    validation_fraction=0.2,
    n_iter_no_change=10,
    max_iter=200,
    image_shape=(8, 8),
    random_state=0,
)
clf.fit(X_train, y_train)
print(f"epochs run: {clf.n_iter_}")
print(f"best validation accuracy: {clf.best_validation_score_:.3f}")
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# The curves
# ----------
# The training loss keeps falling, while the validation loss levels off and
# the validation accuracy stops improving; the dotted line marks the epoch
# whose weights were kept. Training went on for ``n_iter_no_change`` more
# epochs to make sure no improvement followed.
display = LossCurveDisplay.from_estimator(clf)
display.ax_.set_title("CNNClassifier on digits", pad=30)
plt.show()

# %%
# Comparing learning rates
# ------------------------
# Displays draw on the axes they are given, so curves can be set side by
# side. A smaller ``learning_rate_init`` learns more slowly and needs more
# epochs before the validation accuracy stalls.
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True, layout="constrained")
for ax, rate in zip(axes, [0.01, 0.003]):
    model = clf.set_params(learning_rate_init=rate).fit(X_train, y_train)
    LossCurveDisplay.from_estimator(model, ax=ax)
    ax.set_title(f"learning_rate_init={rate}: {model.n_iter_} epochs", pad=30)
plt.show()
