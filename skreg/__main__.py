"""``python -m skreg``: what each regularizer does on a task that overfits.

The task: 500 training rows of ``make_classification`` with 100 features, of
which 8 carry the signal and 92 are noise, and 10% of the labels flipped. An
unregularized network (hidden (128,), SGD with momentum) fits the training
set perfectly and the test set far worse. For each setting the demo prints
the train and test accuracy, their gap, the input features the network still
reads (a feature is dropped when its whole first-layer row is zero), the
share of weights that are exactly zero, the epochs run and the fit time.
Every number is computed when it runs.

``python -m skreg --compile`` instead compiles every kernel into Numba's
cache (``NUMBA_CACHE_DIR``, else ``__pycache__``) and exits: for a Docker
image or a CI cache whose first fit should not compile.
"""

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skreg import MLPClassifier

N_TRAIN = 500
N_FEATURES = 100
N_INFORMATIVE = 8
FLIPPED_LABELS = 0.1
NETWORK = dict(
    hidden_layer_sizes=(128,),
    solver="sgd",
    learning_rate_init=0.01,
    batch_size=32,
    max_iter=300,
    l2=0.0,
    random_state=0,
)
EARLY_STOPPING = dict(early_stopping=True, validation_fraction=0.2, n_iter_no_change=20)
ALL_BUT_EARLY_STOPPING = dict(
    l2=0.3, l1=0.02, group_l1=0.5, dropout=0.2, input_dropout=0.1, max_norm=1.0
)
SETTINGS = {
    "none": {},
    "l2=1": dict(l2=1.0),
    "l1=0.02": dict(l1=0.02),
    "group_l1=2": dict(group_l1=2.0),
    "dropout=0.2": dict(dropout=0.2),
    "input_dropout=0.1": dict(input_dropout=0.1),
    "max_norm=0.5": dict(max_norm=0.5),
    "early_stopping": EARLY_STOPPING,
    "all but early stop": ALL_BUT_EARLY_STOPPING,
    "all seven": {**ALL_BUT_EARLY_STOPPING, **EARLY_STOPPING},
}


def overfitting_task(random_state=0):
    """Train and test splits of the demo's noisy, mostly irrelevant data."""
    X, y = make_classification(
        n_samples=N_TRAIN + 2000,
        n_features=N_FEATURES,
        n_informative=N_INFORMATIVE,
        n_redundant=0,
        flip_y=FLIPPED_LABELS,
        random_state=random_state,
    )
    return train_test_split(X, y, train_size=N_TRAIN, stratify=y, random_state=random_state)


def compare(X_train, X_test, y_train, y_test):
    """One row of figures per setting of :data:`SETTINGS`."""
    rows = []
    for name, params in SETTINGS.items():
        model = MLPClassifier(**{**NETWORK, **params})
        start = time.perf_counter()
        with warnings.catch_warnings():
            # Fits that run to max_iter are part of the comparison, not a problem.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        weights = np.concatenate([c.ravel() for c in model.coefs_])
        train, test = model.score(X_train, y_train), model.score(X_test, y_test)
        rows.append(
            dict(
                setting=name,
                train=train,
                test=test,
                gap=train - test,
                features=int(np.count_nonzero(np.any(model.coefs_[0] != 0.0, axis=1))),
                zero_share=float(np.mean(weights == 0.0)),
                epochs=model.n_iter_,
                seconds=seconds,
            )
        )
    return rows


def report(rows):
    """The table, then which settings narrowed the gap and beat ``none`` on test."""
    header = (
        f"{'setting':<20}{'train':>7}{'test':>7}{'gap':>7}{'features':>10}"
        f"{'zero w':>8}{'epochs':>8}{'fit s':>7}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['setting']:<20}{r['train']:>7.3f}{r['test']:>7.3f}{r['gap']:>7.3f}"
            f"{r['features']:>10d}{r['zero_share']:>8.1%}{r['epochs']:>8d}{r['seconds']:>7.2f}"
        )
    none, others = rows[0], rows[1:]
    verdicts = {
        "narrower gap than none": [r for r in others if r["gap"] < none["gap"]],
        "wider gap than none": [r for r in others if r["gap"] >= none["gap"]],
        "better test accuracy than none": [r for r in others if r["test"] > none["test"]],
    }
    for verdict, chosen in verdicts.items():
        lines.append(f"{verdict}: {', '.join(r['setting'] for r in chosen) or '-'}")
    return "\n".join(lines)


def compile_into_numba_cache():
    """Compile (or load) every kernel signature fits and predictions use, and
    say how many were compiled into Numba's cache."""
    from skreg import _build_kernels, _kernels

    start = time.perf_counter()
    _build_kernels.compile_kernels()
    dispatchers = [obj for obj in vars(_kernels).values() if hasattr(obj, "stats")]
    loaded = sum(len(d.stats.cache_hits) for d in dispatchers)
    compiled = sum(len(d.stats.cache_misses) for d in dispatchers)
    print(
        f"skreg's kernels: {compiled} signatures compiled into Numba's cache "
        f"({_kernels.run_epoch.stats.cache_path}), {loaded} already cached or prebuilt; "
        f"{time.perf_counter() - start:.1f} s"
    )


def main(argv=()):
    parser = argparse.ArgumentParser(
        prog="python -m skreg",
        description="What each regularizer does on a task that overfits.",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="compile every kernel into Numba's cache and exit (for images and CI)",
    )
    if parser.parse_args(list(argv)).compile:
        compile_into_numba_cache()
        return
    start = time.perf_counter()
    X_train, X_test, y_train, y_test = overfitting_task()
    print(
        f"make_classification: {N_TRAIN} train / {X_test.shape[0]} test rows, "
        f"{N_FEATURES} features ({N_INFORMATIVE} informative), "
        f"{FLIPPED_LABELS:.0%} of labels flipped"
    )
    shown = {k: v for k, v in NETWORK.items() if k not in ("l2", "random_state")}
    print(f"MLPClassifier({', '.join(f'{k}={v!r}' for k, v in shown.items())})")
    compile_start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm_up = MLPClassifier(hidden_layer_sizes=(2,), solver="sgd", max_iter=1)
        warm_up.fit(X_train[:10], y_train[:10]).predict(X_test[:1])
    print(
        f"compiling or loading the kernels: {time.perf_counter() - compile_start:.1f} s "
        "(cached after the first run)"
    )
    print(report(compare(X_train, X_test, y_train, y_test)))
    print(f"total {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
