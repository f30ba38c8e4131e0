"""
==============
Early stopping
==============

With ``early_stopping=True`` an estimator holds out ``validation_fraction`` of
its training data, scores that split after every epoch, stops once the score
has not improved by ``tol`` for ``n_iter_no_change`` epochs, and keeps the
weights of its best epoch. :class:`skreg.TrainingCurveDisplay` draws the
training loss, the validation scores and that best epoch.
"""

# %%
# A noisy classification problem
# -------------------------------
# 20% of the labels are flipped at random, so a large network that trains
# long enough learns the noise and its accuracy on new data falls.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier, TrainingCurveDisplay

X, y = make_classification(
    n_samples=800, n_features=20, n_informative=5, n_redundant=5, flip_y=0.2, random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

network = dict(hidden_layer_sizes=(128, 128), l2=0.0, random_state=0)

# %%
# Training curves with early stopping
# -----------------------------------
# 20% of the training set is held out for validation. ``n_iter_no_change=30``
# and ``max_iter=300`` let training run well past the best epoch, so that the
# display shows what happens after it: the training loss keeps falling while
# the validation accuracy drifts down.
early = MLPClassifier(
    early_stopping=True, validation_fraction=0.2, n_iter_no_change=30, max_iter=300, **network
).fit(X_train, y_train)

display = TrainingCurveDisplay.from_estimator(early, name="early_stopping=True")
print(
    f"stopped after {early.n_iter_} epochs; best validation accuracy "
    f"{early.best_validation_score_:.3f} at epoch {display.best_epoch}, "
    f"whose weights the model keeps"
)

# %%
# What restoring the best weights is worth
# ----------------------------------------
# The same network trained for the same number of epochs without early
# stopping keeps its last weights (it even trains on all the training rows,
# not 80% of them); the early-stopped model keeps those of the best epoch.
# Their accuracy on the test set, which neither saw:
with warnings.catch_warnings():
    # Stopping at max_iter is the point of this comparison.
    warnings.simplefilter("ignore", ConvergenceWarning)
    last = MLPClassifier(max_iter=early.n_iter_, tol=0.0, n_iter_no_change=np.inf, **network)
    last.fit(X_train, y_train)
print(f"early stopping, best epoch's weights: test accuracy {early.score(X_test, y_test):.3f}")
print(f"no early stopping, last epoch's weights: test accuracy {last.score(X_test, y_test):.3f}")

# %%
# Patience
# --------
# ``n_iter_no_change`` is how many epochs without an improvement of at least
# ``tol`` training waits before it stops. A short patience saves epochs but
# may stop before a later, better epoch; a long one spends epochs after the
# best one, which are thrown away. Note also how noisy the validation
# accuracy is: the validation split has only 120 rows, and a better
# validation score need not mean a better test score.
fig, axes = plt.subplots(3, 1, figsize=(7, 10), sharex=True)
for ax, patience in zip(axes, [5, 15, 30], strict=True):
    model = MLPClassifier(
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=patience,
        max_iter=300,
        **network,
    ).fit(X_train, y_train)
    shown = TrainingCurveDisplay.from_estimator(model, ax=ax, name=f"n_iter_no_change={patience}")
    print(
        f"n_iter_no_change={patience:>2}: {model.n_iter_:>3} epochs, best epoch "
        f"{shown.best_epoch:>3}, test accuracy {model.score(X_test, y_test):.3f}"
    )
fig.tight_layout()
