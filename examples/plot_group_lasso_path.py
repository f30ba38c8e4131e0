"""
=====================================
A group-lasso path: choosing features
=====================================

``group_l1`` penalises each input feature's row of first-layer weights as one
group, so a strong enough penalty removes whole features: their rows become
exactly 0.0. This example walks the path the scikit-learn way, as the lasso
path examples do for linear models: a dense fit first, then a sequence of
increasing penalties with ``warm_start=True``, each fit starting from the
last. Along the path it records the features kept and the validation score,
draws one against the other, and picks a model.
"""

# %%
# Five informative features among fifty
# -------------------------------------
# ``make_friedman1`` computes its target from the first five columns only,
# ``10 sin(pi x0 x1) + 20 (x2 - 0.5)**2 + 10 x3 + 5 x4``, plus noise; the other
# 45 columns are noise. The data is split into training, validation (for
# choosing the penalty) and test rows.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skreg import MLPRegressor

X, y = make_friedman1(n_samples=2000, n_features=50, noise=1.0, random_state=0)
X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.5, random_state=0)
X_val, X_test, y_val, y_test = train_test_split(X_rest, y_rest, test_size=0.5, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_val, X_test = (scaler.transform(part) for part in (X_train, X_val, X_test))
mean, std = y_train.mean(), y_train.std()
y_train, y_val, y_test = ((part - mean) / std for part in (y_train, y_val, y_test))
informative = np.arange(5)

# %%
# The path
# --------
# A warm start keeps the no-improvement count, as in scikit-learn, so each
# step gets a fixed budget: ``n_iter_no_change=np.inf`` and 100 epochs. The
# first fit has no penalty: the network learns every feature it can use
# before the penalty starts to remove them (a feature penalised from random
# weights can be removed before it is learnt).
model = MLPRegressor(
    hidden_layer_sizes=(32,),
    solver="sgd",
    learning_rate_init=0.01,
    batch_size=100,
    max_iter=100,
    n_iter_no_change=np.inf,
    warm_start=True,
    random_state=0,
)
penalties = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0]
path = []
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for group_l1 in penalties:
        model.set_params(group_l1=group_l1).fit(X_train, y_train)
        row_norms = np.linalg.norm(model.coefs_[0], axis=1)
        path.append(
            {
                "group_l1": group_l1,
                "row_norms": row_norms,
                "kept": np.flatnonzero(row_norms > 0),
                "validation": model.score(X_val, y_val),
                "squared_errors": (model.predict(X_val) - y_val) ** 2,
                "test": model.score(X_test, y_test),
            }
        )

print(f"{'group_l1':>8} {'features kept':>14} {'informative kept':>17} {'validation R²':>14}")
for step in path:
    print(
        f"{step['group_l1']:>8g} {len(step['kept']):>14} "
        f"{np.isin(informative, step['kept']).sum():>15}/5 {step['validation']:>14.3f}"
    )

# %%
# Features kept against validation score
# --------------------------------------
# Left: each feature's row norm along the path, the informative ones in
# colour; the noise rows fall to exactly zero first. Right: the picture of
# the lasso-path examples and of LassoNet's path, the validation score
# against the number of features kept.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
norms = np.array([step["row_norms"] for step in path])
steps = np.arange(len(penalties))
for feature in range(norms.shape[1]):
    is_informative = feature in informative
    left.plot(
        steps,
        norms[:, feature],
        color=f"C{feature}" if is_informative else "0.7",
        linewidth=2 if is_informative else 0.8,
        label=f"x{feature}" if is_informative else None,
        zorder=3 if is_informative else 1,
    )
left.set_xticks(steps, [f"{p:g}" for p in penalties])
left.set_xlabel("group_l1 (one warm-started fit each)")
left.set_ylabel("norm of the feature's first-layer row")
left.legend(title="informative", fontsize="small")

kept = [len(step["kept"]) for step in path]
validation = [step["validation"] for step in path]
right.plot(kept, validation, "o-")
for step, n_kept, score in zip(path, kept, validation, strict=True):
    right.annotate(
        f"{step['group_l1']:g}",
        (n_kept, score),
        textcoords="offset points",
        xytext=(4, -10),
        fontsize="small",
    )
right.set_xscale("log")
right.set_xlabel("features kept (log scale)")
right.set_ylabel("validation R²")
fig.tight_layout()

# %%
# Picking a model
# ---------------
# The validation score is flat over a wide range of penalties, and the best
# one is only an estimate. The one-standard-error rule (Hastie et al.,
# *Elements of Statistical Learning*, 7.10) takes the sparsest model whose
# score is within one standard error of the best; for R² on one validation
# set, that error is the standard error of the mean squared error over the
# validation rows, divided by the targets' variance. The test scores were
# recorded along the path; to keep a chosen network, refit the path up to
# its penalty.
best = max(path, key=lambda step: step["validation"])
errors = best["squared_errors"]
standard_error = errors.std(ddof=1) / np.sqrt(errors.shape[0]) / y_val.var()
chosen = [step for step in path if step["validation"] >= best["validation"] - standard_error][-1]
for name, step in (("best validation score", best), ("one standard error", chosen)):
    print(
        f"{name}: group_l1={step['group_l1']:g}, {len(step['kept'])} features "
        f"{step['kept'].tolist()}, validation R² {step['validation']:.3f}, "
        f"test R² {step['test']:.3f}"
    )
print(f"without the penalty: 50 features, test R² {path[0]['test']:.3f}")

# %%
# Both choices keep every informative feature and score far above the
# unpenalised network, which overfits its 45 noise features. The noise rows
# that survive small penalties carry tiny norms (left panel); a larger
# penalty removes them for a small cost in R², which the validation data
# says is not worth paying here. The feature-selection benchmark
# (``benchmarks/bench_feature_selection.py``) chooses the penalty of such a
# path by 3-fold cross-validation instead of one validation set.
