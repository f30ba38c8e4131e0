"""Throughput of two skreg fits in two threads against the same two fits run
one after the other, now that the kernels release the GIL.

Run from anywhere (the skreg of this checkout is the one measured)::

    python benchmarks/bench_threads.py            # digits and synth20k, about a minute
    python benchmarks/bench_threads.py --quick    # fewer epochs

For each workload of the speed benchmark named below, it times two fits of
the same network in the main thread one after the other, with BLAS's thread
pool as it is (OpenBLAS uses every core), then in two threads started
together, where skreg gives BLAS one thread for the duration (see
``OneBlasThreadOffTheMainThread`` in skreg/_solvers.py). Throughput = serial
seconds / threaded seconds: 2.0 on 2 cores is perfect, 1.0 no gain. Every
threaded fit is compared bit for bit with its serial twin, and with the
same serial fit under one BLAS thread: OpenBLAS's sums can differ in the
last bits with its thread count (as in joblib's loky workers, which also
get one BLAS thread). It reports and never fails.
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
    """Best serial and threaded seconds, and whether the threaded fits equal
    the serial ones with BLAS as it is and with BLAS at one thread."""
    workload = WORKLOADS_BY_NAME[name]
    X, y, task = make_data(workload, quick)
    epochs = workload.epochs_for(quick)
    fit_skreg(workload, X[:64], y[:64], task, 1)  # compile or load the kernels
    best = {}
    for threaded in (False, True):
        runs = [two_fits(workload, X, y, task, epochs, threaded) for _ in range(repeat)]
        best[threaded] = min(runs, key=lambda run: run[0])
    with threadpool_limits(limits=1, user_api="blas"):
        _, one_blas_thread = two_fits(workload, X, y, task, epochs, threaded=False)
    threaded_models = best[True][1]
    return {
        "serial": best[False][0],
        "threads": best[True][0],
        "same as serial": all(map(same_networks, threaded_models, best[False][1])),
        "same as serial, 1 BLAS thread": all(map(same_networks, threaded_models, one_blas_thread)),
    }


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
    print(
        f"{'workload':<26}{'serial s':>10}{'threads s':>11}{'throughput':>12}"
        "  bit-identical to serial (BLAS as is / 1 BLAS thread)"
    )
    for name in args.only:
        r = measure(name, args.quick, args.repeat)
        same = "/".join("yes" if r[key] else "no" for key in list(r)[2:])
        print(
            f"{name:<26}{r['serial']:>10.2f}{r['threads']:>11.2f}"
            f"{r['serial'] / r['threads']:>11.2f}x  {same}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
