"""Throughput of two skreg fits in two threads against the same two fits run
one after the other, now that the kernels release the GIL.

Run from anywhere (the skreg of this checkout is the one measured)::

    python benchmarks/bench_threads.py            # digits and synth20k, about 2 minutes
    python benchmarks/bench_threads.py --quick    # fewer epochs

For each workload of the speed benchmark named below, it times two fits of
the same network serially and then in two threads started together, first
with BLAS's own thread pool as it is (OpenBLAS uses both cores on its own)
and then limited to one thread with ``threadpoolctl``, as scikit-learn does
where its own threads would fight BLAS's. Throughput = serial seconds /
threaded seconds: 2.0 on 2 cores is perfect, 1.0 no gain. Every threaded fit
is checked bit for bit against its serial twin. It reports and never fails.
"""

import argparse
import sys
import threading
import time

import numpy as np
from benchlib.harness import machine, versions  # first: puts the measured skreg on sys.path
from benchlib.speed_workloads import WORKLOADS_BY_NAME, fit_skreg, make_data
from threadpoolctl import threadpool_limits

WORKLOADS = ("digits-h100-b200", "synth20k-h256x256-b256")


def two_fits(workload, X, y, task, epochs, threaded):
    """Seconds for two fits, and the two models."""
    models = [None, None]

    def fit(i):
        models[i] = fit_skreg(workload, X, y, task, epochs)[0]

    start = time.perf_counter()
    if threaded:
        threads = [threading.Thread(target=fit, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        fit(0)
        fit(1)
    return time.perf_counter() - start, models


def same_networks(a, b):
    pairs = zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True)
    return all(np.array_equal(p, q) for p, q in pairs)


def measure(name, quick, repeat):
    workload = WORKLOADS_BY_NAME[name]
    X, y, task = make_data(workload, quick)
    epochs = workload.epochs_for(quick)
    fit_skreg(workload, X[:64], y[:64], task, 1)  # compile or load the kernels
    rows = []
    for blas in ("as is", "1 thread"):
        limits = threadpool_limits(1, user_api="blas") if blas == "1 thread" else None
        try:
            best = {}
            for threaded in (False, True):
                runs = [two_fits(workload, X, y, task, epochs, threaded) for _ in range(repeat)]
                best[threaded] = min(runs, key=lambda run: run[0])
            identical = all(
                same_networks(a, b) for a, b in zip(best[False][1], best[True][1], strict=True)
            )
        finally:
            if limits is not None:
                limits.restore_original_limits()
        rows.append((name, blas, best[False][0], best[True][0], identical))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and rows")
    parser.add_argument("--repeat", type=int, default=3, help="timings per case, best kept (3)")
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    args = parser.parse_args(argv)
    info, host = versions(), machine()
    print(
        f"two fits in two threads against two in a row; {host['cores']} cores ({host['cpu']}); "
        f"skreg {info['skreg_git']}, numpy {info['numpy']}, numba {info['numba']}"
    )
    print(f"{'workload':<26}{'BLAS':<10}{'serial s':>10}{'threads s':>11}{'throughput':>12}  same")
    for name in args.only:
        for workload, blas, serial, threaded, identical in measure(name, args.quick, args.repeat):
            print(
                f"{workload:<26}{blas:<10}{serial:>10.2f}{threaded:>11.2f}"
                f"{serial / threaded:>11.2f}x  {'yes' if identical else 'NO'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
