"""The speed benchmark's printed report and its plot for the docs."""

import os

import numpy as np

from benchlib.first_use import FIRST_USE_TASKS
from benchlib.memory import MEMORY_NOTE
from benchlib.reporting import fmt, fmt_seconds, mb
from benchlib.speed_targets import fit_seconds, ratio
from benchlib.speed_workers import MATMUL_N
from benchlib.speed_workloads import SYSTEMS


def format_report(results):
    meta = results["meta"]
    v = meta["versions"]
    m = meta["machine"]
    lines = []
    add = lines.append
    add(
        f"skreg fit benchmark: the results of one {meta['mode']} run, {meta['date']}, on one "
        f"machine ({m['cores']} cores, {m['cpu']}; {m['platform']}); other machines differ"
    )
    add(
        f"python {v['python']}, numpy {v['numpy']}, scipy {v['scipy']}, scikit-learn "
        f"{v['scikit-learn']}, numba {v['numba']}, torch {v['torch'] or 'absent'}, skreg "
        f"{v['skreg']} ({v['skreg_path']}, git {v.get('skreg_git') or '?'})"
    )
    for b in v.get("blas", []):
        add(
            f"  {b['internal_api']} {b['version']} ({b.get('architecture')}, "
            f"{b['num_threads']} threads): {os.path.basename(b['filepath'] or '')}"
        )
    if m.get("OPENBLAS_CORETYPE") or m.get("OPENBLAS_L2_SIZE"):
        add(
            f"  NOTE: OPENBLAS_CORETYPE={m['OPENBLAS_CORETYPE']} OPENBLAS_L2_SIZE="
            f"{m['OPENBLAS_L2_SIZE']} are set; they can slow numpy's and scipy's OpenBLAS"
        )
    peak = meta["matmul_peak_gflops"]
    add(
        f"matmul peak (numpy {MATMUL_N}x{MATMUL_N} @ {MATMUL_N}x{MATMUL_N}, best of 10): "
        + ", ".join(f"{d} {g:.1f} GFLOP/s" for d, g in peak.items())
        + f" (load {fmt(meta.get('matmul_peak_others'))})"
    )
    add(
        f"fit times: best of {meta['repeat']} fits per system, compilation excluded (a 1-epoch "
        "warm-up fit of a tiny net on the same dtypes first); s/epoch = fit seconds / epochs, "
        "setup included"
    )
    add(f"{MEMORY_NOTE}")
    add(
        "GFLOP/s = 6 x weights x samples x epochs / fit seconds (dense-equivalent for sparse); "
        "%peak against the matmul peak of the same dtype"
    )
    add(
        "gemm-only: the same matrix products alone, per epoch (Numba np.dot, the BLAS skreg "
        "calls): a floor for skreg"
    )
    add(
        "load: CPU cores other processes kept busy during the reported fits (max over systems, "
        "from /proc/stat); above ~0.1 the row's timings are disturbed"
    )
    add("times: plain = seconds, m = milliseconds, u = microseconds")
    add("")
    header = (
        f"{'workload':<28}{'dtype':>8}{'epochs':>7}{'skreg':>9}{'sklearn':>9}{'torch':>9}"
        f"{'gemm':>9}{'sk/skl':>8}{'sk/torch':>9}{'sk/gemm':>8}{'GFLOP/s':>8}{'%peak':>6}"
        f"{'mem MB skreg/skl/torch':>24}{'load':>6}"
    )
    add("seconds per epoch")
    add(header)
    add("-" * len(header))
    notes = []
    for e in results["workloads"]:
        sys_ = e["systems"]
        per = {s: (fit_seconds(e, s) / e["epochs"] if fit_seconds(e, s) else None) for s in SYSTEMS}
        gemm = e.get("gemm_epoch_seconds")
        sk = sys_.get("skreg", {})
        share = sk.get("peak_share")
        mem = "/".join(mb(sys_.get(s, {}).get("memory_bytes")) for s in SYSTEMS)
        loads = [
            r.get("others_at_best") for r in sys_.values() if r.get("others_at_best") is not None
        ]
        load = max(loads) if loads else None
        add(
            f"{e['name']:<28}{e['dtype']:>8}{e['epochs']:>7}{fmt_seconds(per['skreg']):>9}"
            f"{fmt_seconds(per['sklearn']):>9}{fmt_seconds(per['torch']):>9}{fmt_seconds(gemm):>9}"
            f"{fmt(ratio(per['skreg'], per['sklearn'])):>8}"
            f"{fmt(ratio(per['skreg'], per['torch'])):>9}"
            f"{fmt(ratio(per['skreg'], gemm), '.1f'):>8}{fmt(sk.get('gflops'), '.1f'):>8}"
            f"{fmt(None if share is None else 100 * share, '.0f'):>6}{mem:>24}{fmt(load):>6}"
        )
        for s in SYSTEMS:
            note = sys_.get(s, {}).get("note")
            if note:
                notes.append(f"  {e['name']} / {s}: {note}")
    if notes:
        add("notes:")
        lines.extend(notes)
    pred = results.get("predict")
    if pred:
        add("")
        n_rows = next((p.get("n_rows") for p in pred.values() if p.get("n_rows")), "?")
        add(
            f"predict_proba of a digits model (hidden (100,)): {n_rows} rows (best of "
            f"{max(3, meta['repeat'])}), and 1 row (median latency over repeated calls)"
        )
        add(f"{'':<16}{'skreg':>10}{'sklearn':>10}{'torch':>10}{'sk/skl':>8}")
        many = {
            s: min(p["many_seconds"]) if p.get("status") == "ok" else None for s, p in pred.items()
        }
        one = {
            s: p["single_row_seconds_median"] if p.get("status") == "ok" else None
            for s, p in pred.items()
        }
        loads = [
            p["others_at_best"]
            for p in pred.values()
            if p.get("status") == "ok" and p.get("others_at_best") is not None
        ]
        loads_one = [
            p["single_row_others"]
            for p in pred.values()
            if p.get("status") == "ok" and p.get("single_row_others") is not None
        ]
        add(
            f"{f'{n_rows} rows':<16}"
            + "".join(f"{fmt_seconds(many.get(s)):>10}" for s in SYSTEMS)
            + f"{fmt(ratio(many.get('skreg'), many.get('sklearn'))):>8}"
            + (f"   load {max(loads):.2f}" if loads else "")
        )
        add(
            f"{'1 row':<16}"
            + "".join(f"{fmt_seconds(one.get(s)):>10}" for s in SYSTEMS)
            + f"{fmt(ratio(one.get('skreg'), one.get('sklearn'))):>8}"
            + (f"   load {max(loads_one):.2f}" if loads_one else "")
        )
        for s, p in pred.items():
            if p.get("status") != "ok":
                add(f"  {s}: {p.get('status')} {p.get('note', '')}")
    fu = results.get("first_use")
    if fu:
        add("")
        add(
            "first use: a fresh python process imports the estimator and fits iris, hidden (8,), "
            "5 epochs (fit), or runs a first GridSearchCV(n_jobs=2) of a StandardScaler + "
            "MLPClassifier pipeline, 4 candidates x 3 folds, on breast cancer (grid search);"
        )
        add(
            f"  process wall seconds (in-process from the first import), median of "
            f"{fu['warm_repeat']} (warm) / {fu['cold_repeat']} (cold) runs; cold = a new empty "
            f"NUMBA_CACHE_DIR; load {fmt(fu.get('others'))}"
        )
        if "skreg_from" in fu:
            kernels = (
                "its kernels compiled at install time (pip install .)"
                if fu["prebuilt_kernels"]
                else "no kernels compiled at install time (Numba compiles them on first use)"
            )
            add(f"  skreg from {fu['skreg_from']}, {kernels}")
        add(f"{'':<26}{'skreg':>16}{'sklearn':>16}{'difference':>12}")
        for task in FIRST_USE_TASKS:
            for cache in ("warm", "cold"):
                s, k = fu[task][cache]["skreg"], fu[task][cache]["sklearn"]
                add(
                    f"{task.replace('_', ' ') + ', ' + cache + ' cache':<26}"
                    f"{s['process_seconds']:>9.2f} ({s['in_process_seconds']:.2f})"
                    f"{k['process_seconds']:>9.2f} ({k['in_process_seconds']:.2f})"
                    f"{s['process_seconds'] - k['process_seconds']:>12.2f}"
                )
    add("")
    add("targets (from the performance issue; measured in this run)")
    width = max([len(t["label"]) for t in results["targets"]] + [20])
    for t in results["targets"]:
        measured = "-" if t["measured"] is None else f"{t['measured']:.3g}{t['unit']}"
        detail = f"  ({t['detail']})" if t["detail"] else ""
        add(f"  {t['label']:<{width}}  {measured:>8}  {t['goal']:<9} {t['status']}{detail}")
    counts = {s: sum(t["status"] == s for t in results["targets"]) for s in ("PASS", "MISS", "n/a")}
    add(f"  {counts['PASS']} PASS, {counts['MISS']} MISS, {counts['n/a']} n/a")
    return "\n".join(lines) + "\n"


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    work = results["workloads"]

    def disturbed(e):
        loads = [r.get("others_at_best") or 0.0 for r in e["systems"].values()]
        return max(loads, default=0.0) > 0.1

    names = [e["name"] + (" *" if disturbed(e) else "") for e in work]
    colors = {"skreg": "#1f77b4", "sklearn": "#ff7f0e", "torch": "#2ca02c"}
    labels = {"skreg": "skreg", "sklearn": "scikit-learn", "torch": "PyTorch"}
    fig, (ax_time, ax_ratio) = plt.subplots(
        1, 2, figsize=(13, 0.55 * len(names) + 2.2), sharey=True
    )
    y = np.arange(len(names))
    height = 0.26
    for i, s in enumerate(SYSTEMS):
        vals = [(fit_seconds(e, s) or np.nan) / e["epochs"] for e in work]
        ax_time.barh(y + (i - 1) * height, vals, height, color=colors[s], label=labels[s])
    ax_time.set_xscale("log")
    ax_time.set_xlabel("seconds per epoch (log scale, lower is better)")
    ax_time.set_yticks(y, names)
    ax_time.invert_yaxis()
    ax_time.legend(loc="lower right", fontsize=8)
    for i, other in enumerate(("sklearn", "torch")):
        vals = [ratio(fit_seconds(e, "skreg"), fit_seconds(e, other)) or np.nan for e in work]
        ax_ratio.barh(
            y + (i - 0.5) * height,
            vals,
            height,
            color=colors[other],
            label=f"skreg / {labels[other]}",
        )
    goals = {t["label"]: t["limit"] for t in results["targets"]}
    for j, _ in enumerate(names):
        for i, other in enumerate(("sklearn", "torch")):
            other_label = "scikit-learn" if other == "sklearn" else "PyTorch"
            limit = goals.get(f"{work[j]['name']}: skreg / {other_label} time")
            if limit is not None:
                yy = j + (i - 0.5) * height
                ax_ratio.plot([limit, limit], [yy - height / 2, yy + height / 2], color="k", lw=2)
    ax_ratio.axvline(1.0, color="grey", lw=0.8, ls="--")
    ax_ratio.set_xscale("log")
    ax_ratio.set_xlabel("time ratio (black ticks: targets; left of a tick meets it)")
    ax_ratio.legend(loc="lower right", fontsize=8)
    meta = results["meta"]
    fig.suptitle(
        f"skreg fit benchmark, {meta['mode']} run, {meta['date'][:10]}, "
        f"{meta['machine']['cores']} cores",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
