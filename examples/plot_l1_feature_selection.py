"""
=============================
Feature selection with L1
=============================

The ``l1`` penalty of :class:`skreg.MLPClassifier` drives weights to exactly
zero. When every first-layer weight of an input feature is zero, the network
no longer reads that feature: it has been selected out. This example trains
on a synthetic problem whose informative features are known, and watches the
zeros and the surviving features as ``l1`` grows.
"""

# %%
# A problem with 5 informative features among 30
# ----------------------------------------------
# :func:`~sklearn.datasets.make_classification` with ``shuffle=False`` puts the
# 5 informative features first (columns 0-4); the other 25 are pure noise.
# Standardizing matters: the penalty treats every weight alike, so the inputs
# should be on one scale.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier

N_INFORMATIVE = 5
X, y = make_classification(
    n_samples=600,
    n_features=30,
    n_informative=N_INFORMATIVE,
    n_redundant=0,
    n_repeated=0,
    shuffle=False,
    class_sep=1.2,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# %%
# Zeros and surviving features as ``l1`` grows
# --------------------------------------------
# One network per ``l1`` value, with ``l2=0`` so that L1 acts alone. A feature
# survives while at least one of its first-layer weights (a row of
# ``coefs_[0]``) is non-zero.


def fit_mlp(**penalties):
    model = MLPClassifier(
        hidden_layer_sizes=(16,),
        solver="sgd",
        learning_rate_init=0.1,
        max_iter=500,
        random_state=0,
        **penalties,
    )
    # A few fits stop at max_iter; the comparison does not need convergence.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X_train, y_train)


def zero_share(model):
    weights = np.concatenate([coef.ravel() for coef in model.coefs_])
    return np.mean(weights == 0.0)


def surviving_features(model):
    return np.flatnonzero(np.any(model.coefs_[0] != 0.0, axis=1))


l1_values = [0.0, 0.3, 1.0, 2.0, 4.0, 8.0, 16.0]
models = {l1: fit_mlp(l1=l1, l2=0.0) for l1 in l1_values}

print(f"{'l1':>5} {'zero weights':>13} {'features kept':>14} {'test accuracy':>14}")
for l1, model in models.items():
    print(
        f"{l1:>5g} {zero_share(model):>13.1%} {len(surviving_features(model)):>14d}"
        f" {model.score(X_test, y_test):>14.3f}"
    )

# %%
# Without a penalty no weight is exactly zero. As ``l1`` grows, more weights
# vanish, then whole rows: the noise features drop out first. At the largest
# value the penalty outweighs every data gradient and the whole network is
# zero, which predicts a single class.
fig, (ax_zeros, ax_features) = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
ax_zeros.plot(l1_values, [100 * zero_share(models[l1]) for l1 in l1_values], "o-")
ax_zeros.set(ylabel="weights exactly zero (%)", title="Zero weights")
ax_features.plot(l1_values, [len(surviving_features(models[l1])) for l1 in l1_values], "o-")
ax_features.axhline(N_INFORMATIVE, color="gray", linestyle="--", label="informative features")
ax_features.set(ylabel="features kept", title="Surviving input features")
ax_features.legend()
for ax in (ax_zeros, ax_features):
    # Logarithmic above 0.3, linear below, so that l1=0 has a place.
    ax.set_xscale("symlog", linthresh=0.3)
    ax.set_xticks(l1_values, [f"{l1:g}" for l1 in l1_values])
    ax.set_xlabel("l1")
fig.tight_layout()

# %%
# Which features survive
# ----------------------
# At ``l1=8`` the surviving features are exactly the informative ones, and
# the test accuracy is the best of the range. ``feature_importances_`` (each
# feature's share of the first layer's absolute weight) is exactly 0 for the
# others, so :class:`~sklearn.feature_selection.SelectFromModel` can use the
# fitted model as it is (``prefit=True``). Its default threshold, the mean
# importance, also drops features that L1 kept but that the network barely
# uses; a tiny threshold keeps every feature with a non-zero weight.
selected_model = models[8.0]
print("surviving features:", surviving_features(selected_model))
print("their importances:", selected_model.feature_importances_[:N_INFORMATIVE].round(3))
for threshold in ["mean", 1e-12]:
    selector = SelectFromModel(selected_model, prefit=True, threshold=threshold)
    print(
        f"SelectFromModel(threshold={threshold!r}) keeps:", np.flatnonzero(selector.get_support())
    )

# %%
# The kept columns carry the signal: a logistic regression on them does about
# as well as one on all 30 columns.
for name, columns in {
    "all 30 features": slice(None),
    "kept features": selector.get_support(),
}.items():
    logistic = LogisticRegression().fit(X_train[:, columns], y_train)
    print(
        f"logistic regression on {name}: "
        f"test accuracy {logistic.score(X_test[:, columns], y_test):.3f}"
    )

# %%
# The first-layer weights
# -----------------------
# Each row is an input feature, each column a hidden unit; exact zeros are
# gray. Without a penalty every weight is in use. With ``l1=8`` only the rows
# of the informative features (0-4) keep weights, and even there most hidden
# units are switched off. ``l2`` of the same strength shrinks the weights but
# leaves none at zero: it cannot select features.
l2_model = fit_mlp(l1=0.0, l2=8.0)
panels = {"no penalty": models[0.0], "l2=8": l2_model, "l1=8": selected_model}
limit = max(np.abs(model.coefs_[0]).max() for model in panels.values())
colormap = plt.get_cmap("RdBu_r").copy()
colormap.set_bad("lightgray")

fig, axes = plt.subplots(1, 3, figsize=(10, 5), sharey=True)
for ax, (name, model) in zip(axes, panels.items(), strict=True):
    first_layer = np.ma.masked_equal(model.coefs_[0], 0.0)
    image = ax.imshow(first_layer, cmap=colormap, vmin=-limit, vmax=limit, aspect="auto")
    ax.set(title=f"{name}: {zero_share(model):.0%} zeros", xlabel="hidden unit")
axes[0].set_ylabel("input feature")
fig.colorbar(image, ax=axes, label="weight (gray: exactly 0)")

print(
    f"l2=8: {zero_share(l2_model):.1%} zero weights, "
    f"test accuracy {l2_model.score(X_test, y_test):.3f}"
)

# %%
# How skreg gets exact zeros: a plain gradient step on ``|w|`` overshoots zero
# and oscillates around it. skreg's 'sgd' and 'adam' use the pseudo-gradient
# of OWL-QN and clip a step that would cross zero to exactly ``0.0``; a weight
# stays at zero while its data gradient is smaller than the penalty. See
# :ref:`l1-regularization` in the user guide.
