"""
=====================================
Regression with early stopping
=====================================

The diabetes data set has 442 patients, 10 features and a target that
measures disease progression one year later; it is small and noisy, so a
network trained to convergence learns its noise. This example fits
:class:`skreg.MLPRegressor` with and without early stopping, scales the
target as well as the features, and compares both with a linear baseline.
"""

# %%
# Data and models
# ---------------
# Features are standardized in a :class:`~sklearn.pipeline.Pipeline`. The
# target (values from 25 to 346) is standardized too, by
# :class:`~sklearn.compose.TransformedTargetRegressor`, which also maps the
# predictions back: a squared-error network learns faster on a target of
# unit scale. The validation score that early stopping watches is the R² of
# the held-out 20%.
import warnings

import matplotlib.pyplot as plt
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import MLPRegressor, TrainingCurveDisplay

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)


def scaled_mlp(**params):
    network = MLPRegressor(hidden_layer_sizes=(64,), l2=0.0, max_iter=500, random_state=0, **params)
    return TransformedTargetRegressor(
        regressor=make_pipeline(StandardScaler(), network), transformer=StandardScaler()
    )


models = {
    "MLP, early stopping": scaled_mlp(
        early_stopping=True, validation_fraction=0.2, n_iter_no_change=20
    ),
    "MLP, 500 epochs": scaled_mlp(),
    "ridge regression": make_pipeline(StandardScaler(), RidgeCV()),
}
with warnings.catch_warnings():
    # The 500-epoch network stops at max_iter on purpose.
    warnings.simplefilter("ignore", ConvergenceWarning)
    for model in models.values():
        model.fit(X_train, y_train)

for name, model in models.items():
    print(
        f"{name:>20}: R² train {model.score(X_train, y_train):.3f}, "
        f"test {model.score(X_test, y_test):.3f}"
    )

# %%
# The network trained for 500 epochs fits the training set closely and
# predicts new patients poorly. Early stopping ends training long before,
# keeps the weights of the epoch with the best validation R², and does about
# as well as the linear model, the best one can expect on this data.
early = models["MLP, early stopping"].regressor_[-1]
print(
    f"early stopping: {early.n_iter_} epochs, best validation R² {early.best_validation_score_:.3f}"
)

# %%
# Training curves
# ---------------
# :class:`~skreg.TrainingCurveDisplay` accepts the fitted pipeline and draws
# its last step. The loss is that of the standardized target.
display = TrainingCurveDisplay.from_estimator(models["MLP, early stopping"].regressor_)
print(f"best epoch: {display.best_epoch}")

# %%
# Predictions on the test set
# ---------------------------
# Points on the diagonal are perfect predictions.
fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharex=True, sharey=True)
for ax, (name, model) in zip(axes, models.items(), strict=True):
    ax.scatter(y_test, model.predict(X_test), s=12, alpha=0.7)
    ax.plot([y.min(), y.max()], [y.min(), y.max()], color="gray", linestyle="--")
    ax.set(title=f"{name}\ntest R² {model.score(X_test, y_test):.2f}", xlabel="true target")
axes[0].set_ylabel("predicted target")
fig.tight_layout()
