"""
=====================================================
Tuning the regularizers with GridSearchCV
=====================================================

skreg's penalties are ordinary hyperparameters, so scikit-learn's model
selection tunes them like any other. This example searches ``l1`` and ``l2``
together, an elastic-net-style combination, and then one dropout rate per
hidden layer, with :class:`~sklearn.model_selection.GridSearchCV` over a
:class:`~sklearn.pipeline.Pipeline`, and draws the cross-validated scores as
heatmaps.
"""

# %%
# A problem that needs regularization
# -----------------------------------
# 400 samples, 50 features of which 5 are informative, 5% of the labels
# flipped: an unregularized network has plenty of room to fit noise.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier

X, y = make_classification(
    n_samples=400, n_features=50, n_informative=5, n_redundant=0, flip_y=0.05, random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

# %%
# L1 and L2 together
# ------------------
# In a pipeline, a step's parameters are named ``<step>__<parameter>``.
# ``l1`` and ``l2`` share one scale, so one grid of values serves both.
# Some fits stop at ``max_iter``; their warnings are silenced to keep the
# output short.
pipeline = make_pipeline(
    StandardScaler(),
    MLPClassifier(hidden_layer_sizes=(64,), learning_rate_init=0.01, max_iter=200, random_state=0),
)
l1_values = [0.0, 0.3, 1.0, 3.0, 10.0]
l2_values = [0.0, 0.3, 1.0, 3.0, 10.0]
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    penalty_search = GridSearchCV(
        pipeline, {"mlpclassifier__l1": l1_values, "mlpclassifier__l2": l2_values}, cv=3
    ).fit(X_train, y_train)

penalty_scores = penalty_search.cv_results_["mean_test_score"].reshape(
    len(l1_values), len(l2_values)
)
print("best:", penalty_search.best_params_)
print(
    f"cross-validated accuracy: no penalty {penalty_scores[0, 0]:.3f}, "
    f"best {penalty_search.best_score_:.3f}"
)
print(f"test accuracy of the refitted best pipeline: {penalty_search.score(X_test, y_test):.3f}")

# %%
# One dropout rate per hidden layer
# ---------------------------------
# ``dropout`` takes a float for every hidden layer or a tuple with one rate
# per layer, so the grid lists tuples.
rates = [0.0, 0.25, 0.5]
deep_pipeline = make_pipeline(
    StandardScaler(),
    MLPClassifier(
        hidden_layer_sizes=(32, 32), learning_rate_init=0.003, max_iter=200, random_state=0
    ),
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    dropout_search = GridSearchCV(
        deep_pipeline,
        {"mlpclassifier__dropout": [(first, second) for first in rates for second in rates]},
        cv=3,
    ).fit(X_train, y_train)

dropout_scores = dropout_search.cv_results_["mean_test_score"].reshape(len(rates), len(rates))
print("best:", dropout_search.best_params_)
print(
    f"cross-validated accuracy: no dropout {dropout_scores[0, 0]:.3f}, "
    f"best {dropout_search.best_score_:.3f}"
)
print(f"test accuracy of the refitted best pipeline: {dropout_search.score(X_test, y_test):.3f}")

# %%
# The scores
# ----------
# Left: a moderate amount of both penalties does best, and accuracy
# collapses to chance once ``l1`` is large enough to zero the whole network.
# Right: the dropout rates matter less on this problem than the penalties.


def heatmap(ax, scores, row_values, column_values, row_name, column_name, title):
    image = ax.imshow(scores, cmap="viridis", vmin=0.5, vmax=1.0, origin="lower")
    ax.set_xticks(range(len(column_values)), [f"{v:g}" for v in column_values])
    ax.set_yticks(range(len(row_values)), [f"{v:g}" for v in row_values])
    ax.set(xlabel=column_name, ylabel=row_name, title=title)
    best_row, best_column = np.unravel_index(np.argmax(scores), scores.shape)
    for (row, column), score in np.ndenumerate(scores):
        bold = (row, column) == (best_row, best_column)
        ax.text(
            column,
            row,
            f"{score:.2f}",
            ha="center",
            va="center",
            color="black" if score > 0.8 else "white",
            fontweight="bold" if bold else "normal",
        )
    return image


fig, (ax_penalties, ax_dropout) = plt.subplots(1, 2, figsize=(12, 4.5))
heatmap(ax_penalties, penalty_scores, l1_values, l2_values, "l1", "l2", "MLP (64,): l1 and l2")
image = heatmap(
    ax_dropout,
    dropout_scores,
    rates,
    rates,
    "dropout of hidden layer 1",
    "dropout of hidden layer 2",
    "MLP (32, 32): dropout per layer",
)
colorbar = fig.colorbar(image, ax=[ax_penalties, ax_dropout], label="mean cross-validated accuracy")
