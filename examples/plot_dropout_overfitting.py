"""
=============================
Dropout against overfitting
=============================

A network with far more weights than training points can thread its curve
through every noisy point: the training error keeps falling while the error
on new data rises. Dropout switches off each hidden unit with probability
``p`` for each sample of each minibatch, so no unit can count on any other
being there; the network has to learn a function that many of its thinned
sub-networks agree on, which is smoother. This example fits 40 noisy points
of a sine curve with and without ``dropout`` and follows both errors epoch by
epoch.
"""

# %%
# A small noisy data set
# ----------------------
# 40 training points of ``sin(x)`` plus Gaussian noise of standard deviation
# 0.3, and 500 test points from the same distribution. No model can do
# better than the noise: a test mean squared error of 0.09.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import mean_squared_error

from skreg import MLPRegressor

NOISE = 0.3
rng = np.random.RandomState(0)
X_train = rng.uniform(-3, 3, size=(40, 1))
y_train = np.sin(X_train).ravel() + rng.normal(scale=NOISE, size=40)
X_test = rng.uniform(-3, 3, size=(500, 1))
y_test = np.sin(X_test).ravel() + rng.normal(scale=NOISE, size=500)

# %%
# Training, one epoch at a time
# -----------------------------
# Two hidden layers of 128 units (about 17,000 weights for 40 points), Adam,
# no L2 penalty. ``partial_fit`` runs one epoch per call, so the errors can
# be measured after each epoch on the full network (prediction uses every
# unit). ``random_state`` is a ``RandomState`` instance rather than an int: an
# int would replay the same random numbers in every ``partial_fit`` call (as
# in scikit-learn), so each epoch would see the same shuffle and the same
# dropout masks.
N_EPOCHS = 400


def train(dropout):
    model = MLPRegressor(
        hidden_layer_sizes=(128, 128),
        dropout=dropout,
        l2=0.0,
        batch_size=10,
        learning_rate_init=0.003,
        random_state=np.random.RandomState(0),
    )
    errors = {"train": [], "test": []}
    for _ in range(N_EPOCHS):
        model.partial_fit(X_train, y_train)
        errors["train"].append(mean_squared_error(y_train, model.predict(X_train)))
        errors["test"].append(mean_squared_error(y_test, model.predict(X_test)))
    return model, errors


runs = {"no dropout": train(0.0), "dropout=0.5": train(0.5)}

for name, (_, errors) in runs.items():
    last = slice(-100, None)  # average the last 100 epochs: single epochs are noisy
    print(
        f"{name:>12}: last 100 epochs' mean squared error: train "
        f"{np.mean(errors['train'][last]):.3f}, test {np.mean(errors['test'][last]):.3f}; "
        f"best test {min(errors['test']):.3f} at epoch {int(np.argmin(errors['test'])) + 1}"
    )

# %%
# Training and test error
# -----------------------
# Without dropout the training error keeps falling while the test error
# climbs away from the noise floor: the network fits the noise. With dropout
# the training error stays higher, closer to the noise, and the test error
# stays lower.
fig, ax = plt.subplots(figsize=(8, 4.5))
epochs = np.arange(1, N_EPOCHS + 1)
for color, (name, (_, errors)) in zip(["C0", "C1"], runs.items(), strict=True):
    ax.plot(epochs, errors["train"], color=color, linestyle="--", label=f"{name}, train")
    ax.plot(epochs, errors["test"], color=color, label=f"{name}, test")
ax.axhline(NOISE**2, color="gray", linestyle=":", label="noise level (best possible test)")
ax.set(xlabel="epoch", ylabel="mean squared error", ylim=(0, 0.25))
ax.legend(ncol=2)
fig.tight_layout()

# %%
# The learned functions
# ---------------------
# The same story in the input space: without dropout the curve bends towards
# single noisy points; with dropout it stays closer to the sine.
grid = np.linspace(-3, 3, 500).reshape(-1, 1)
fig, ax = plt.subplots(figsize=(8, 4.5))
ax.scatter(X_train, y_train, color="black", s=15, label="training points")
ax.plot(grid, np.sin(grid), color="gray", linestyle=":", label="sin(x)")
for color, (name, (model, _)) in zip(["C0", "C1"], runs.items(), strict=True):
    ax.plot(grid, model.predict(grid), color=color, label=name)
ax.set(xlabel="x", ylabel="y")
ax.legend()
fig.tight_layout()
