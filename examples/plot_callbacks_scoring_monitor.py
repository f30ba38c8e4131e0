"""
=========================================
Watching every epoch with ScoringMonitor
=========================================

scikit-learn 1.9's callbacks (:mod:`sklearn.callback`) reach each epoch of a
skreg network: :class:`~sklearn.callback.ScoringMonitor` scores the network
as it stands after every epoch, on its training data and on any data its
scoring function is given. Here it records the training and validation
accuracy of the same network under a weak and a strong L2 penalty, on a
problem with noisy labels, without refitting anything.
"""

# %%
# A noisy classification problem
# ------------------------------
# 20% of the labels are flipped at random: a large network that is barely
# penalised learns them, and its validation accuracy falls while its
# training accuracy still climbs.
import warnings

import matplotlib.pyplot as plt
from sklearn.callback import ScoringMonitor
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier

X, y = make_classification(
    n_samples=600, n_features=20, n_informative=5, n_redundant=5, flip_y=0.2, random_state=0
)
X_train, X_val, y_train, y_val = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)

# %%
# A scoring function that also sees the validation data
# -----------------------------------------------------
# ScoringMonitor calls its scoring with each epoch's network and the data
# the epoch trained on. A function returning a dict adds any other data:
# here the held-out validation set, which training never sees.


def train_and_validation_accuracy(network, X, y):
    return {"train": network.score(X, y), "validation": network.score(X_val, y_val)}


# %%
# Two penalties, one monitor each
# -------------------------------
# Each epoch's network is a copy of that epoch's weights (not of the data),
# made only because the monitor asks for it; the fits themselves are exactly
# those without a callback.
settings = {"l2=1e-4 (weak)": 1e-4, "l2=3 (strong)": 3.0}
logs = {}
for name, l2 in settings.items():
    monitor = ScoringMonitor(scoring=train_and_validation_accuracy)
    network = MLPClassifier(hidden_layer_sizes=(64, 64), l2=l2, max_iter=100, random_state=0)
    network.set_callbacks(monitor)
    with warnings.catch_warnings():
        # 100 epochs is the budget on purpose, converged or not.
        warnings.simplefilter("ignore", ConvergenceWarning)
        network.fit(X_train, y_train)
    # One row per task: the fit itself, then one per epoch.
    logs[name] = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]
    last = logs[name][-1]
    print(
        f"{name}: after {network.n_iter_} epochs, train accuracy {last['train']:.3f}, "
        f"validation accuracy {last['validation']:.3f}"
    )

# %%
# The curves
# ----------
# With the weak penalty the gap between training and validation accuracy
# keeps widening: the network memorises the flipped labels. The strong
# penalty keeps the two curves together and the validation accuracy higher.
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, (name, rows) in zip(axes, logs.items(), strict=True):
    epochs = [row["task_id"] + 1 for row in rows]
    ax.plot(epochs, [row["train"] for row in rows], label="training")
    ax.plot(epochs, [row["validation"] for row in rows], label="validation")
    ax.set_title(name)
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
axes[0].set_ylabel("accuracy")
axes[0].legend()
fig.tight_layout()
plt.show()
