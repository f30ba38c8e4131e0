"""
=======================================================
Early stopping on the most recent data of a time series
=======================================================

A random ``validation_fraction`` split assumes the rows are exchangeable. In a
time series they are not: neighbouring rows share their noise, so a random
validation row has near-twins in the training data, and a network that
memorises the training noise also "predicts" the validation rows. Early
stopping on such a split stops late and promises a score the future will not
give.

Passing the most recent part of the history as ``X_val, y_val`` makes early
stopping judge the network as it will be used: on data that comes after
everything it trained on. This example compares the two splits, draws both
training and validation losses with :class:`skreg.TrainingCurveDisplay`, and
scores both models on the future.
"""

# %%
# A series with slowly wandering features and noise
# -------------------------------------------------
# The six features and the noise follow AR(1) processes, so neighbouring rows
# are alike. The first 2,400 steps are the history we train on, the last 600
# the future we will be scored on.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skreg import MLPRegressor, TrainingCurveDisplay

N_STEPS, N_HISTORY, N_RECENT = 3000, 2400, 480


def autoregressive(rng, n_steps, phi, n_series):
    """AR(1) series with unit variance: x[t] = phi * x[t - 1] + noise."""
    shocks = rng.normal(scale=np.sqrt(1 - phi**2), size=(n_steps, n_series))
    series = np.empty((n_steps, n_series))
    series[0] = rng.normal(size=n_series)
    for step in range(1, n_steps):
        series[step] = phi * series[step - 1] + shocks[step]
    return series


def make_series(seed):
    rng = np.random.RandomState(seed)
    X = autoregressive(rng, N_STEPS, 0.9, 6)
    noise = autoregressive(rng, N_STEPS, 0.99, 1)[:, 0]
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] + 0.8 * noise
    scaler = StandardScaler().fit(X[:N_HISTORY])
    X = scaler.transform(X)
    return X[:N_HISTORY], y[:N_HISTORY], X[N_HISTORY:], y[N_HISTORY:]


network = dict(
    hidden_layer_sizes=(128, 128),
    l2=0.0,
    learning_rate_init=3e-3,
    max_iter=400,
    n_iter_no_change=20,
    early_stopping=True,
    random_state=0,
)


def fit_both(X_history, y_history):
    """Early stopping on a random 20% of the history, and on its last 20%
    (the estimator then trains on the 80% before it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        random_split = MLPRegressor(**network, validation_fraction=0.2).fit(X_history, y_history)
        cut = N_HISTORY - N_RECENT
        most_recent = MLPRegressor(**network).fit(
            X_history[:cut], y_history[:cut], X_val=X_history[cut:], y_val=y_history[cut:]
        )
    return random_split, most_recent


X_history, y_history, X_future, y_future = make_series(seed=0)
random_split, most_recent = fit_both(X_history, y_history)

# %%
# The training curves
# -------------------
# Both displays show the training loss and the validation loss on one axis,
# and the validation R² on the other. On the random split the validation loss
# follows the training loss down for a long time: the network's memorised
# noise carries over to the validation rows' twins. On the most recent data
# the validation loss bottoms out early and turns up, and training stops.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
TrainingCurveDisplay.from_estimator(random_split, ax=axes[0], name="random 20% of the history")
TrainingCurveDisplay.from_estimator(most_recent, ax=axes[1], name="most recent 20% (X_val)")
fig.tight_layout()

# %%
# What each promises, and what the future gives
# ---------------------------------------------
# The validation R² is what early stopping believed; the future R² is what
# the model scores on the 600 steps after the history. Five series (seeds),
# so that the comparison does not rest on one draw.
print(f"{'seed':>4} {'split':>12} {'epochs':>7} {'validation R²':>14} {'future R²':>10}")
optimism = {"random": [], "most recent": []}
future = {"random": [], "most recent": []}
for seed in range(5):
    X_history, y_history, X_future, y_future = make_series(seed)
    for name, model in zip(("random", "most recent"), fit_both(X_history, y_history), strict=True):
        score = model.score(X_future, y_future)
        optimism[name].append(model.best_validation_score_ - score)
        future[name].append(score)
        print(
            f"{seed:>4} {name:>12} {model.n_iter_:>7} {model.best_validation_score_:>14.3f} "
            f"{score:>10.3f}"
        )
for name in optimism:
    print(f"{name}: validation R² above the future's by {np.mean(optimism[name]):.3f} on average")
better = np.sum(np.array(future["most recent"]) > np.array(future["random"]))
print(f"stopping on the most recent data scored better on the future in {better} of 5 series")

# %%
# The random split's validation score is far above what the future gives:
# it measures how well the network remembers the recent past, not how well
# it predicts. The most recent data gives an estimate closer to the future
# score, and stops training in fewer epochs. The future score itself need not
# gain on every series: the model that stopped on recent data trained on 480
# fewer steps, the most recent ones. A common last step is to refit on the
# whole history for the number of epochs early stopping chose.
