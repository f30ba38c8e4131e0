"""``python -m skreg``: compare the four regularizers on scikit-learn's digits.

Prints, for each setting, the test accuracy, the share of weights that are
exactly zero, the epochs run and the fit time.
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skreg import MLPClassifier

SETTINGS = {
    "none": dict(l2=0.0),
    "l2=1e-1": dict(l2=1e-1),
    "l1=1e-1": dict(l2=0.0, l1=1e-1),
    "dropout=0.3": dict(l2=0.0, dropout=0.3),
    "early_stopping": dict(l2=0.0, early_stopping=True),
    "all four": dict(l2=1e-2, l1=1e-2, dropout=0.2, early_stopping=True),
}


def main():
    # Short demo fits stop at max_iter on purpose; their warnings are noise here.
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.5, stratify=y, random_state=0
    )
    print(
        f"digits: {X_train.shape[0]} train / {X_test.shape[0]} test rows, "
        f"{X.shape[1]} features; MLPClassifier(hidden_layer_sizes=(128,), max_iter=150)"
    )
    start = time.perf_counter()
    MLPClassifier(hidden_layer_sizes=(2,), max_iter=1).fit(X_train[:10], y_train[:10]).predict(
        X_test
    )
    print(
        f"compiling or loading the kernels: {time.perf_counter() - start:.1f} s "
        "(cached after the first run)"
    )
    header = f"{'setting':<16}{'test acc':>10}{'zero weights':>14}{'epochs':>8}{'fit s':>8}"
    print(header)
    print("-" * len(header))
    for name, params in SETTINGS.items():
        model = MLPClassifier(hidden_layer_sizes=(128,), max_iter=150, random_state=0, **params)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        weights = np.concatenate([c.ravel() for c in model.coefs_])
        print(
            f"{name:<16}{model.score(X_test, y_test):>10.3f}"
            f"{np.mean(weights == 0.0):>14.1%}{model.n_iter_:>8d}{seconds:>8.2f}"
        )


if __name__ == "__main__":
    main()
