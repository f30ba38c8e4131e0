"""Feature selection: skreg's group lasso (``group_l1``) against LassoNet.

Two tasks with 5 informative features among 50, 1,500 rows, 3 seeds, the
same train/test split and hidden width (32,) for every method:

* ``classification``: ``make_classification(1500, 50, n_informative=5,
  n_redundant=0, shuffle=False, flip_y=0.05)``, accuracy;
* ``friedman1``: ``make_friedman1(1500, 50, noise=1.0)``, R².

Methods, each cross-validated on 3 folds of the training set:

* ``lassonet``: ``LassoNetClassifierCV`` / ``LassoNetRegressorCV`` (its own
  path and choice of lambda);
* ``skreg-grid``: ``GridSearchCV`` over ``group_l1``, each candidate an
  independent fit from random weights;
* ``skreg-path``: per fold, the lasso-path recipe (a dense fit, then one
  warm-started fit per increasing ``group_l1``), scored after each step; the
  best mean score picks the penalty, or (``skreg-path-1se``) the largest
  penalty within one standard error of the best (Hastie et al., Elements of
  Statistical Learning, 7.10); then the path on the whole training set.

Per task and method it reports the recall of the informative features among
the kept ones, the features kept, the test score and the fit seconds (mean
over the seeds), checks the targets of the feature-selection issue against
LassoNet, prints one table and writes it as JSON and text. Numba's compile
is excluded (a warm-up fit runs first); timings are wall seconds on whatever
cores torch and BLAS use by default.

    pip install ".[bench]"
    python benchmarks/bench_feature_selection.py            # 3 seeds, ~5 minutes (LassoNet's)
    python benchmarks/bench_feature_selection.py --seeds 1
    # after a change to skreg: LassoNet's rows from the committed run
    python benchmarks/bench_feature_selection.py --lassonet-from benchmarks/feature_selection.json
"""

import argparse
import json
import os
import time
import warnings

import numpy as np
from benchlib.harness import versions
from sklearn.base import clone
from sklearn.datasets import make_classification, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, check_cv, train_test_split
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier, MLPRegressor

N_INFORMATIVE = 5
HIDDEN = (32,)
PENALTIES = [1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0]
# momentum SGD with minibatches of 100; each step of a path trains 100
# epochs (a warm start keeps the no-improvement count, so the patience is
# infinite and max_iter is the budget of each step).
SKREG = dict(hidden_layer_sizes=HIDDEN, solver="sgd", learning_rate_init=0.01, batch_size=100)
PATH_STEP = dict(max_iter=100, n_iter_no_change=np.inf)
HERE = os.path.dirname(os.path.abspath(__file__))


def make_task(name, seed):
    """Standardized train/test data (and y for the regression)."""
    if name == "classification":
        X, y = make_classification(
            1500,
            50,
            n_informative=N_INFORMATIVE,
            n_redundant=0,
            shuffle=False,
            flip_y=0.05,
            random_state=seed,
        )
    else:
        X, y = make_friedman1(1500, 50, noise=1.0, random_state=seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    if name == "friedman1":
        mean, std = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def skreg_estimator(task, seed, **params):
    Est = MLPClassifier if task == "classification" else MLPRegressor
    return Est(**SKREG, random_state=seed, **params)


def fit_path(estimator, X, y, penalties, X_val=None, y_val=None):
    """The dense fit, then a warm-started fit per penalty; the validation
    score after each step if validation data is given."""
    model = clone(estimator).set_params(warm_start=True, group_l1=0.0).fit(X, y)
    scores = []
    for penalty in penalties:
        model.set_params(group_l1=penalty).fit(X, y)
        if X_val is not None:
            scores.append(model.score(X_val, y_val))
    return model, scores


def one_standard_error_choice(fold_scores):
    """The largest penalty whose mean score is within one standard error of
    the best mean score."""
    mean = fold_scores.mean(axis=0)
    best = int(np.argmax(mean))
    standard_error = fold_scores[:, best].std(ddof=1) / np.sqrt(fold_scores.shape[0])
    return max(i for i in range(len(mean)) if mean[i] >= mean[best] - standard_error)


def run_skreg_path(task, X, y, seed):
    """Both path choices from one cross-validation; each one's seconds are
    the cross-validation's plus its final path's."""
    estimator = skreg_estimator(task, seed, **PATH_STEP)
    start = time.perf_counter()
    folds = check_cv(3, y, classifier=task == "classification").split(X, y)
    fold_scores = np.array(
        [
            fit_path(estimator, X[train], y[train], PENALTIES, X[val], y[val])[1]
            for train, val in folds
        ]
    )
    cv_seconds = time.perf_counter() - start
    results = {}
    for method, choice in (
        ("skreg-path", int(np.argmax(fold_scores.mean(axis=0)))),
        ("skreg-path-1se", one_standard_error_choice(fold_scores)),
    ):
        start = time.perf_counter()
        model, _ = fit_path(estimator, X, y, PENALTIES[: choice + 1])
        seconds = cv_seconds + time.perf_counter() - start
        kept = np.flatnonzero(np.any(model.coefs_[0] != 0, axis=1))
        results[method] = (model, kept, seconds, {"group_l1": PENALTIES[choice]})
    return results


def run_skreg_grid(task, X, y, seed):
    start = time.perf_counter()
    search = GridSearchCV(
        skreg_estimator(task, seed, max_iter=300), {"group_l1": PENALTIES}, cv=3
    ).fit(X, y)
    seconds = time.perf_counter() - start
    model = search.best_estimator_
    kept = np.flatnonzero(np.any(model.coefs_[0] != 0, axis=1))
    return {"skreg-grid": (model, kept, seconds, search.best_params_)}


def run_lassonet(task, X, y, seed):
    from lassonet import LassoNetClassifierCV, LassoNetRegressorCV

    Est = LassoNetClassifierCV if task == "classification" else LassoNetRegressorCV
    start = time.perf_counter()
    model = Est(hidden_dims=HIDDEN, cv=3, random_state=seed, torch_seed=seed, verbose=0).fit(X, y)
    seconds = time.perf_counter() - start
    kept = np.flatnonzero(np.asarray(model.best_selected_))
    return {"lassonet": (model, kept, seconds, {"lambda": float(model.best_lambda_)})}


METHODS = ["lassonet", "skreg-grid", "skreg-path", "skreg-path-1se"]
RUNNERS = [run_lassonet, run_skreg_grid, run_skreg_path]
TARGETS = [  # (what, method's mean against LassoNet's mean)
    ("recall", "recall >= LassoNet's", lambda ours, theirs: ours >= theirs),
    ("kept", "features kept <= LassoNet's + 2", lambda ours, theirs: ours <= theirs + 2),
    ("score", "test score >= LassoNet's - 0.01", lambda ours, theirs: ours >= theirs - 0.01),
    ("seconds", "fit seconds <= 0.1 x LassoNet's", lambda ours, theirs: ours <= 0.1 * theirs),
]


def warm_up():
    """Compile (or load) the kernels the timed fits use, outside the timings."""
    X, y = make_classification(200, 10, random_state=0)
    for Est, target in ((MLPClassifier, y), (MLPRegressor, y.astype(float))):
        model = Est(**SKREG, max_iter=2, random_state=0, group_l1=1.0)
        model.fit(X, target).score(X, target)


def measure(tasks, seeds, lassonet_rows=None):
    """Every method's rows; LassoNet's taken from ``lassonet_rows`` (a
    previous run's) where given, since no change to skreg changes them."""
    rows = []
    for task in tasks:
        for seed in seeds:
            X_train, X_test, y_train, y_test = make_task(task, seed)
            if lassonet_rows is not None:
                rows += [r for r in lassonet_rows if (r["task"], r["seed"]) == (task, seed)]
            for runner in RUNNERS:
                if lassonet_rows is not None and runner is run_lassonet:
                    continue
                for method, (model, kept, seconds, chosen) in runner(
                    task, X_train, y_train, seed
                ).items():
                    rows.append(
                        {
                            "task": task,
                            "seed": seed,
                            "method": method,
                            "chosen": chosen,
                            "kept": int(len(kept)),
                            "kept_features": kept.tolist(),
                            "recall": float(np.isin(np.arange(N_INFORMATIVE), kept).mean()),
                            "score": float(model.score(X_test, y_test)),
                            "seconds": seconds,
                        }
                    )
                    print(
                        f"  {task} seed {seed} {method}: {rows[-1]['kept']} kept, recall "
                        f"{rows[-1]['recall']:.2f}, score {rows[-1]['score']:.3f}, "
                        f"{seconds:.1f} s",
                        flush=True,
                    )
    return rows


def summarize(rows, tasks):
    summary = {}
    for task in tasks:
        for method in METHODS:
            mine = [r for r in rows if r["task"] == task and r["method"] == method]
            summary[task, method] = {
                key: float(np.mean([r[key] for r in mine]))
                for key in ("recall", "kept", "score", "seconds")
            }
            summary[task, method]["range_kept"] = (
                min(r["kept"] for r in mine),
                max(r["kept"] for r in mine),
            )
    return summary


def report(summary, tasks, n_seeds, header):
    lines = [
        header,
        f"feature selection, mean over {n_seeds} seed(s); 5 informative features of 50",
        f"{'task':<15}{'method':<16}{'recall':>7}{'kept':>7}{'(range)':>9}{'score':>7}{'fit s':>8}",
    ]
    lines.append("-" * len(lines[-1]))
    for task in tasks:
        for method in METHODS:
            s = summary[task, method]
            low, high = s["range_kept"]
            lines.append(
                f"{task:<15}{method:<16}{s['recall']:>7.3f}{s['kept']:>7.2f}"
                f"{f'({low}-{high})':>9}{s['score']:>7.3f}{s['seconds']:>8.2f}"
            )
    lines += ["", "targets against LassoNet (means over the seeds)"]
    passed = 0
    checked = 0
    for method in METHODS[1:]:
        for task in tasks:
            theirs = summary[task, "lassonet"]
            for key, text, meets in TARGETS:
                ours = summary[task, method][key]
                ok = meets(ours, theirs[key])
                passed += ok
                checked += 1
                lines.append(
                    f"  {method:<15}{task:<15}{text:<34}{ours:>8.3f} vs {theirs[key]:>8.3f}"
                    f"  {'PASS' if ok else 'MISS'}"
                )
    lines.append(f"  {passed} of {checked} PASS")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument("--json", default=os.path.join(HERE, "feature_selection.json"))
    parser.add_argument("--txt", default=None, help="default: the JSON path with .txt")
    parser.add_argument(
        "--lassonet-from",
        default=None,
        metavar="JSON",
        help="take LassoNet's rows from this earlier run instead of fitting it again",
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    import torch

    software = versions(extra=("lassonet",))
    machine = {
        "date": time.strftime("%Y-%m-%d"),
        "python": software["python"],
        "cpus": os.cpu_count(),
        "skreg": software["skreg"],
        "numba": software["numba"],
        "torch": software["torch"],
        "torch_threads": torch.get_num_threads(),
        "lassonet": software["lassonet"],
    }
    tasks = ["classification", "friedman1"]
    seeds = list(range(args.seeds))
    lassonet_rows = None
    if args.lassonet_from:
        with open(args.lassonet_from) as f:
            earlier = json.load(f)
        lassonet_rows = [r for r in earlier["runs"] if r["method"] == "lassonet"]
        machine["lassonet_rows_from"] = (
            f"{os.path.basename(args.lassonet_from)} of {earlier['machine']['date']}"
        )
    header = " ".join(f"{key} {value}" for key, value in machine.items())
    warm_up()
    rows = measure(tasks, seeds, lassonet_rows)
    summary = summarize(rows, tasks)
    text = report(summary, tasks, len(seeds), header)
    print(text)
    result = {
        "machine": machine,
        "settings": {
            "penalties": PENALTIES,
            "skreg": {**SKREG, **PATH_STEP, "n_iter_no_change": "inf"},
            "hidden": HIDDEN,
        },
        "runs": rows,
        "summary": [{"task": t, "method": m, **s} for (t, m), s in summary.items()],
    }
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1)
    with open(args.txt or os.path.splitext(args.json)[0] + ".txt", "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
