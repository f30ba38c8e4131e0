"""The speed benchmark's measurements, each run by ``bench_fit.py --_worker``
in its own subprocess, and the machine's matrix-multiply peak."""

import dataclasses
import gc
import math
import statistics
import time
import tracemalloc

import numpy as np

from benchlib.harness import CpuMonitor, wait_until_idle
from benchlib.memory import current_rss, peak_rss, reset_peak_rss
from benchlib.speed_workloads import FITTERS, WORKLOADS_BY_NAME, layer_units, make_data, n_weights

MATMUL_N = 2048


def worker_fit(spec):
    workload = WORKLOADS_BY_NAME[spec["workload"]]
    system = spec["system"]
    quick = spec["quick"]
    repeat = spec["repeat"]
    epochs = workload.epochs_for(quick)
    X, y, task = make_data(workload, quick)
    fit = FITTERS[system]
    if system == "torch":
        import torch  # noqa: F401  (imported before the memory baseline)
    elif system == "skreg":
        import skreg  # noqa: F401
    else:
        import sklearn.neural_network  # noqa: F401

    # Warm-up: one epoch of a tiny network on a few rows of the same data, so
    # the same dtypes and input kind. For skreg it compiles or loads every
    # kernel the timed fits run (Numba compiles per dtype and layout, not per
    # size); it also warms up imports, BLAS threads and PyTorch's lazy
    # initialisation. Being tiny, its freed memory cannot pre-pay the timed
    # fit's: a full-size warm-up leaves heap the allocator hands out again,
    # and the first timed fit's peak RSS would hide it.
    warm = dataclasses.replace(
        workload, hidden=(2,) * len(workload.hidden), batch_size=min(16, workload.batch_size)
    )
    warm_rows = np.sort(np.random.RandomState(0).permutation(X.shape[0])[:64])
    try:
        fit(warm, X[warm_rows], y[warm_rows], task, 1)
    except TypeError as exc:
        if system == "skreg" and not isinstance(X, np.ndarray):
            return {"status": "skipped", "note": f"skreg does not accept sparse input yet ({exc})"}
        raise

    method = reset_peak_rss()
    before = current_rss()
    seconds, others = [], []
    n_iter = None
    memory = None
    for i in range(repeat):
        settle_in_worker(spec)
        monitor = CpuMonitor()
        start = time.perf_counter()
        model, n_iter = fit(workload, X, y, task, epochs)
        seconds.append(time.perf_counter() - start)
        others.append(monitor.stop())
        if i == 0:
            memory = max(0, peak_rss(method) - before)
        del model
        gc.collect()
    traced = None
    if system != "torch":
        # RSS does not count heap that freed memory left resident and a new
        # fit reuses, so also take the bytes allocated at the peak, from one
        # more (untimed) fit under tracemalloc, which sees NumPy's and Numba's
        # allocations but not PyTorch's.
        tracemalloc.start()
        model, _ = fit(workload, X, y, task, epochs)
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        del model
    result = {
        "status": "ok",
        "seconds": seconds,
        "others": others,
        "n_iter": int(n_iter),
        "memory_bytes": memory,
        "memory_method": method,
        "traced_bytes": traced,
    }
    if n_iter != epochs:
        result["note"] = f"ran {n_iter} epochs instead of {epochs}"
    if system == "torch" and not isinstance(X, np.ndarray):
        result["note"] = "PyTorch densifies each sparse minibatch"
    return result


def worker_predict(spec):
    """predict_proba on many rows, and single-row latency, of a digits model."""
    workload = WORKLOADS_BY_NAME["digits-h100-b200"]
    system = spec["system"]
    quick = spec["quick"]
    repeat = max(3, spec["repeat"])
    X, y, task = make_data(workload, quick)
    model, _ = FITTERS[system](workload, X, y, task, 2 if quick else 10)
    n_rows = 20000 if quick else 100000
    rng = np.random.RandomState(0)
    X_many = np.ascontiguousarray(X[rng.randint(0, X.shape[0], n_rows)])
    model.predict_proba(X_many[:10])  # warm-up (compiles skreg's predict kernel if needed)
    seconds, others = [], []
    for _ in range(repeat):
        settle_in_worker(spec)
        monitor = CpuMonitor()
        start = time.perf_counter()
        model.predict_proba(X_many)
        seconds.append(time.perf_counter() - start)
        others.append(monitor.stop())
    row = np.ascontiguousarray(X_many[:1])
    settle_in_worker(spec)
    monitor = CpuMonitor()
    for _ in range(50):
        model.predict_proba(row)
    n_calls = 300 if quick else 2000
    latencies = []
    for _ in range(n_calls):
        start = time.perf_counter()
        model.predict_proba(row)
        latencies.append(time.perf_counter() - start)
    return {
        "status": "ok",
        "n_rows": n_rows,
        "many_seconds": seconds,
        "others": others,
        "others_at_best": others[seconds.index(min(seconds))],
        "single_row_others": monitor.stop(),
        "single_row_seconds_median": statistics.median(latencies),
        "single_row_calls": n_calls,
    }


def worker_gemm(spec):
    """Seconds per epoch of the matrix products alone, the same BLAS skreg uses.

    Per minibatch, in a Numba loop with ``np.dot(a, b, out)`` (the calls
    skreg's kernels make): the forward ``A_l @ W_l`` for every layer, the
    weight gradients ``A_l.T @ delta_l`` and the back-propagated
    ``delta_l @ W_l.T`` for every layer but the first. Contiguous row slices,
    no activations, no optimizer: a floor for skreg's epoch time.
    """
    from numba import njit

    workload = WORKLOADS_BY_NAME[spec["workload"]]
    quick = spec["quick"]
    X, y, task = make_data(workload, quick)
    if not isinstance(X, np.ndarray):
        return {"status": "skipped", "note": "sparse"}
    units = np.array(layer_units(workload, X, y, task), dtype=np.int64)
    rng = np.random.RandomState(0)
    params = rng.uniform(-0.05, 0.05, n_weights(list(units))).astype(X.dtype)
    units_total = int(units[1:].sum())
    acts = np.zeros(workload.batch_size * units_total, dtype=X.dtype)
    deltas = np.ones_like(acts) * 1e-3
    grads = np.zeros_like(params)

    @njit(cache=False)
    def gemm_epoch(X, params, grads, units, acts, deltas, batch):
        n = X.shape[0]
        n_layers = units.shape[0] - 1
        for start in range(0, n, batch):
            rows = min(batch, n - start)
            Xb = X[start : start + rows]
            w_off = 0
            a_off = 0
            for layer in range(n_layers):
                fi, fo = units[layer], units[layer + 1]
                W = params[w_off : w_off + fi * fo].reshape((fi, fo))
                Z = acts[a_off : a_off + rows * fo].reshape((rows, fo))
                if layer == 0:
                    np.dot(Xb, W, Z)
                else:
                    prev = acts[a_off - rows * fi : a_off].reshape((rows, fi))
                    np.dot(prev, W, Z)
                w_off += fi * fo
                a_off += rows * fo
            for layer in range(n_layers - 1, -1, -1):
                fi, fo = units[layer], units[layer + 1]
                w_off -= fi * fo
                a_off -= rows * fo
                W = params[w_off : w_off + fi * fo].reshape((fi, fo))
                G = grads[w_off : w_off + fi * fo].reshape((fi, fo))
                D = deltas[a_off : a_off + rows * fo].reshape((rows, fo))
                if layer == 0:
                    np.dot(Xb.T, D, G)
                else:
                    prev = acts[a_off - rows * fi : a_off].reshape((rows, fi))
                    np.dot(prev.T, D, G)
                    prev_delta = deltas[a_off - rows * fi : a_off].reshape((rows, fi))
                    np.dot(D, W.T, prev_delta)

    gemm_epoch(X, params, grads, units, acts, deltas, workload.batch_size)  # compile
    seconds = []
    for _ in range(max(3, spec["repeat"])):
        start = time.perf_counter()
        gemm_epoch(X, params, grads, units, acts, deltas, workload.batch_size)
        seconds.append(time.perf_counter() - start)
    return {"status": "ok", "epoch_seconds": seconds}


def settle_in_worker(spec):
    """Between a worker's repeats, wait (as --wait-idle asks) for a quiet machine."""
    if spec.get("wait_idle", 0) > 0:
        wait_until_idle(min(spec["wait_idle"], 60), lambda msg: None)


WORKERS = {"fit": worker_fit, "predict": worker_predict, "gemm": worker_gemm}


def matmul_peak(dtype, repeat=10):
    """Best GFLOP/s of numpy's ``A @ B`` on MATMUL_N x MATMUL_N matrices."""
    rng = np.random.default_rng(0)
    a = rng.random((MATMUL_N, MATMUL_N)).astype(dtype)
    b = rng.random((MATMUL_N, MATMUL_N)).astype(dtype)
    c = np.empty_like(a)
    np.dot(a, b, out=c)
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        np.dot(a, b, out=c)
        best = min(best, time.perf_counter() - start)
    return 2.0 * MATMUL_N**3 / best / 1e9
