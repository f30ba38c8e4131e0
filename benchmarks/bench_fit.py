"""Time skreg against scikit-learn's MLP and a plain PyTorch loop on the same work.

Run from anywhere (the skreg of this checkout is the one measured)::

    python benchmarks/bench_fit.py            # full run, several minutes on 2 cores
    python benchmarks/bench_fit.py --quick    # fewer epochs and rows, about 1-2 minutes
    python benchmarks/bench_fit.py --only digits-h100-b200 predict --repeat 5

Every system trains the same network on the same data with the same solver,
batch size, learning rate, L2 strength and number of epochs (``tol=0`` and a
huge ``n_iter_no_change``, so every system runs every epoch). Each
(workload, system) pair runs in a fresh subprocess, which isolates the systems
from each other and gives each fit a clean peak-memory reading. Inside it, a
1-epoch warm-up fit on a slice of the same data and dtypes compiles (or loads)
skreg's Numba kernels, so no fit timing includes compilation; first use of a
fresh process, compilation included, is timed separately.

The script reports and never fails on a missed target. It prints the table,
writes it as JSON (``--json``) and as text (``--txt``), and can draw it as a
PNG for the docs (``--plot``, needs matplotlib). PyTorch is optional (the
``bench`` extra installs it); without it the PyTorch column is skipped with a
note.
"""

import argparse
import datetime
import json
import os
import sys
from dataclasses import asdict

import numpy as np
from benchlib import harness
from benchlib.first_use import measure_first_use
from benchlib.harness import CpuMonitor, machine, run_worker, versions, wait_until_idle, worker_main
from benchlib.memory import MEMORY_NOTE
from benchlib.speed_report import format_report, plot
from benchlib.speed_targets import evaluate_targets
from benchlib.speed_workers import WORKERS, matmul_peak
from benchlib.speed_workloads import (
    SYSTEMS,
    TORCH_THREADS,
    WORKLOADS,
    layer_units,
    make_data,
    n_weights,
    torch_available,
)

HERE = os.path.dirname(os.path.abspath(__file__))
PREDICT = "predict"
FIRST_USE = "first-use"
ALL_NAMES = [w.name for w in WORKLOADS] + [PREDICT, FIRST_USE]


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer epochs and rows, shorter first-use runs (about 1-2 minutes)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        choices=ALL_NAMES,
        help="run only these: " + ", ".join(ALL_NAMES),
    )
    parser.add_argument(
        "--systems",
        nargs="+",
        choices=SYSTEMS,
        default=list(SYSTEMS),
        help="systems to time (default: all; torch is skipped when absent)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="fits per (workload, system), best one reported (default 3, 1 with --quick)",
    )
    parser.add_argument(
        "--json",
        metavar="PATH",
        help="write the results as JSON (default benchmarks/results.json for a "
        "full run, benchmarks/results-quick.json otherwise)",
    )
    parser.add_argument(
        "--txt",
        metavar="PATH",
        help="write the printed report too (default: the JSON path with .txt)",
    )
    parser.add_argument("--plot", metavar="PATH", help="draw the fit table as a PNG (matplotlib)")
    parser.add_argument(
        "--skreg-from",
        metavar="DIR",
        help="measure the skreg package found in DIR (default: this checkout), "
        "e.g. a baseline checkout to compare a change against",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each measurement, wait up to SECONDS for other jobs on the "
        "machine to go quiet (default 0: don't wait)",
    )
    parser.add_argument(
        "--from-json",
        metavar="PATH",
        help="measure nothing: print (and --plot, --txt) the results saved in PATH",
    )
    parser.add_argument("--_worker", nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args._worker:
        worker_main(*args._worker, WORKERS)
        return 0

    if args.from_json:
        with open(args.from_json) as f:
            results = json.load(f)
        results["targets"] = [asdict(t) for t in evaluate_targets(results)]
        report = format_report(results)
        print(report, end="")
        if args.txt:
            with open(args.txt, "w") as f:
                f.write(report)
        if args.plot:
            plot(results, args.plot)
        return 0

    if args.skreg_from:
        harness.use_skreg_from(args.skreg_from)
    repeat = args.repeat or (1 if args.quick else 3)
    names = args.only or ALL_NAMES
    full = not args.quick and args.only is None and set(args.systems) == set(SYSTEMS)
    json_path = args.json or os.path.join(HERE, "results.json" if full else "results-quick.json")
    txt_path = args.txt or os.path.splitext(json_path)[0] + ".txt"

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    systems = list(args.systems)
    torch_note = None
    if "torch" in systems and not torch_available():
        systems.remove("torch")
        torch_note = (
            "PyTorch is not installed: its column is skipped "
            "(pip install 'skreg[bench]' or torch==2.13.0 to include it)"
        )
        log(torch_note)

    software = versions()
    if software["torch"] is not None:
        software["torch_threads_in_benchmark"] = TORCH_THREADS
    results = {
        "meta": {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full",
            "repeat": repeat,
            "machine": machine(),
            "versions": software,
            "memory_method": MEMORY_NOTE,
            "notes": [torch_note] if torch_note else [],
        },
        "workloads": [],
    }

    def settle():
        if args.wait_idle > 0:
            wait_until_idle(args.wait_idle, log)

    log("measuring the matmul peak ...")
    settle()
    monitor = CpuMonitor()
    results["meta"]["matmul_peak_gflops"] = {
        "float64": matmul_peak(np.float64),
        "float32": matmul_peak(np.float32),
    }
    results["meta"]["matmul_peak_others"] = monitor.stop()

    for wl in WORKLOADS:
        if wl.name not in names:
            continue
        epochs = wl.epochs_for(args.quick)
        entry = {
            "name": wl.name,
            "description": wl.description,
            "dtype": wl.dtype,
            "hidden": list(wl.hidden),
            "solver": wl.solver,
            "batch_size": wl.batch_size,
            "learning_rate": wl.learning_rate,
            "l2": wl.l2,
            "epochs": epochs,
            "systems": {},
        }
        for system in SYSTEMS:
            if system not in systems:
                entry["systems"][system] = {
                    "status": "skipped",
                    "note": torch_note or "not selected",
                }
                continue
            log(f"{wl.name}: {system} ...")
            settle()
            res = run_worker(
                __file__,
                {
                    "kind": "fit",
                    "workload": wl.name,
                    "system": system,
                    "quick": args.quick,
                    "repeat": repeat,
                    "wait_idle": args.wait_idle,
                },
            )
            entry["systems"][system] = res
        settle()
        gemm = run_worker(
            __file__, {"kind": "gemm", "workload": wl.name, "quick": args.quick, "repeat": repeat}
        )
        entry["gemm_epoch_seconds"] = (
            min(gemm["epoch_seconds"]) if gemm.get("status") == "ok" else None
        )
        # Size figures from the data the workers used.
        X, y, task = make_data(wl, args.quick)
        units = layer_units(wl, X, y, task)
        entry.update(
            n_samples=int(X.shape[0]),
            n_features=int(X.shape[1]),
            layer_units=units,
            n_weights=n_weights(units),
        )
        del X, y
        flops = 6.0 * entry["n_weights"] * entry["n_samples"] * epochs
        entry["flops"] = flops
        for res in entry["systems"].values():
            if res.get("status") == "ok":
                best = min(res["seconds"])
                res["others_at_best"] = res["others"][res["seconds"].index(best)]
                res["seconds_per_epoch"] = best / epochs
                res["gflops"] = flops / best / 1e9
                res["peak_share"] = res["gflops"] / results["meta"]["matmul_peak_gflops"][wl.dtype]
        results["workloads"].append(entry)

    if PREDICT in names:
        results["predict"] = {}
        for system in SYSTEMS:
            if system not in systems:
                results["predict"][system] = {"status": "skipped"}
                continue
            log(f"predict: {system} ...")
            settle()
            results["predict"][system] = run_worker(
                __file__,
                {
                    "kind": "predict",
                    "system": system,
                    "quick": args.quick,
                    "repeat": repeat,
                    "wait_idle": args.wait_idle,
                },
            )

    if FIRST_USE in names:
        log("first use ...")
        settle()
        monitor = CpuMonitor()
        results["first_use"] = measure_first_use(args.quick, log, settle)
        results["first_use"]["others"] = monitor.stop()

    results["targets"] = [asdict(t) for t in evaluate_targets(results)]
    report = format_report(results)
    sys.stderr.flush()
    print(report, end="", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
    with open(json_path, "w") as f:
        json.dump(results, f, indent=1)
    with open(txt_path, "w") as f:
        f.write(report)
    log(f"wrote {json_path} and {txt_path}")
    if args.plot:
        try:
            plot(results, args.plot)
            log(f"wrote {args.plot}")
        except ImportError:
            log("matplotlib is not installed: no plot (pip install 'skreg[bench]')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
