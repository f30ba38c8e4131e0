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
import dataclasses
import datetime
import gc
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# The directory that holds the skreg package measured: this checkout's, unless
# --skreg-from names another (say, a baseline checkout to compare against).
# Workers inherit it through SKREG_BENCH_FROM.
SKREG_FROM = os.path.abspath(os.environ.get("SKREG_BENCH_FROM") or os.path.dirname(HERE))
if SKREG_FROM not in sys.path:
    sys.path.insert(0, SKREG_FROM)

SYSTEMS = ("skreg", "sklearn", "torch")
HUGE_PATIENCE = 10**9  # n_iter_no_change: with tol=0 no system ever stops early
TORCH_THREADS = 2
MATMUL_N = 2048
WORKER_TIMEOUT = 3600


# --------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    name: str
    data: str  # key of DATASETS
    hidden: tuple
    batch_size: int
    epochs: int
    quick_epochs: int
    solver: str = "adam"
    learning_rate: float = 1e-3
    l2: float = 1e-4
    dtype: str = "float64"
    n_samples: int = 0  # 0: the data set's own size
    quick_samples: int = 0
    description: str = ""

    def epochs_for(self, quick):
        return self.quick_epochs if quick else self.epochs

    def samples_for(self, quick):
        return (self.quick_samples or self.n_samples) if quick else self.n_samples


WORKLOADS = [
    Workload(
        "digits-h100-b200",
        "digits",
        (100,),
        200,
        200,
        20,
        description="load_digits / 16, 1797 x 64, 10 classes",
    ),
    Workload(
        "digits-h100-b32",
        "digits",
        (100,),
        32,
        50,
        5,
        description="load_digits / 16, 1797 x 64, 10 classes",
    ),
    Workload(
        "synth20k-h256x256-b256",
        "synth20k",
        (256, 256),
        256,
        10,
        2,
        description="make_classification(20000, 100, n_informative=30, n_classes=5)",
    ),
    Workload(
        "reg20k-h128x64-sgd",
        "reg20k",
        (128, 64),
        200,
        20,
        3,
        solver="sgd",
        learning_rate=1e-2,
        description="make_regression(20000, 50, n_informative=20, noise=5), y / std(y); "
        "sgd, Nesterov momentum 0.9",
    ),
    Workload(
        "synth100k-h512x512-b512",
        "synth100k",
        (512, 512),
        512,
        2,
        1,
        quick_samples=25000,
        description="make_classification(100000, 200, n_informative=50, n_classes=10)",
    ),
    Workload(
        "synth100k-h512x512-b512-f32",
        "synth100k",
        (512, 512),
        512,
        2,
        1,
        dtype="float32",
        quick_samples=25000,
        description="the same in float32",
    ),
    Workload(
        "sparse20kx5000",
        "sparse",
        (100,),
        200,
        10,
        2,
        description="20000 x 5000 CSR, density 0.005, 5 classes",
    ),
]
WORKLOADS_BY_NAME = {w.name: w for w in WORKLOADS}
PREDICT = "predict"
FIRST_USE = "first-use"
ALL_NAMES = [w.name for w in WORKLOADS] + [PREDICT, FIRST_USE]


def make_data(workload, quick):
    """``(X, y, task)`` of a workload, X in the workload's dtype.

    ``task`` is "classification" (y integer labels) or "regression" (y float,
    unit variance).
    """
    from sklearn.datasets import load_digits, make_classification, make_regression

    n = workload.samples_for(quick)
    dtype = np.dtype(workload.dtype)
    if workload.data == "digits":
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
        task = "classification"
    elif workload.data == "synth20k":
        X, y = make_classification(n or 20000, 100, n_informative=30, n_classes=5, random_state=0)
        task = "classification"
    elif workload.data == "synth100k":
        X, y = make_classification(n or 100000, 200, n_informative=50, n_classes=10, random_state=0)
        task = "classification"
    elif workload.data == "reg20k":
        X, y = make_regression(n or 20000, 50, n_informative=20, noise=5, random_state=0)
        y = y / y.std()
        task = "regression"
    elif workload.data == "sparse":
        import scipy.sparse

        rng = np.random.RandomState(0)
        X = scipy.sparse.random(n or 20000, 5000, density=0.005, format="csr", random_state=rng)
        # Labels from a random linear model, so that there is something to learn.
        scores = X @ rng.standard_normal((5000, 5))
        y = np.argmax(scores, axis=1)
        task = "classification"
        return X.astype(dtype), y, task
    else:
        raise ValueError(workload.data)
    return np.ascontiguousarray(X, dtype=dtype), y, task


def layer_units(workload, X, y, task):
    n_out = len(np.unique(y)) if task == "classification" else 1
    if task == "classification" and n_out == 2:
        n_out = 1
    return [X.shape[1], *workload.hidden, n_out]


def n_weights(units):
    return sum(a * b for a, b in zip(units[:-1], units[1:], strict=True))


# --------------------------------------------------------------------------
# The three systems
# --------------------------------------------------------------------------


def fit_skreg(workload, X, y, task, epochs):
    from skreg import MLPClassifier, MLPRegressor

    cls = MLPClassifier if task == "classification" else MLPRegressor
    model = cls(**common_params(workload, epochs), l2=workload.l2)
    model.fit(X, y)
    return model, model.n_iter_


def fit_sklearn(workload, X, y, task, epochs):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    cls = MLPClassifier if task == "classification" else MLPRegressor
    model = cls(**common_params(workload, epochs), alpha=workload.l2)
    model.fit(X, y)
    return model, model.n_iter_


def common_params(workload, epochs):
    return dict(
        hidden_layer_sizes=workload.hidden,
        activation="relu",
        solver=workload.solver,
        batch_size=workload.batch_size,
        learning_rate="constant",
        learning_rate_init=workload.learning_rate,
        max_iter=epochs,
        shuffle=True,
        random_state=0,
        tol=0.0,
        n_iter_no_change=HUGE_PATIENCE,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
    )


class TorchMLP:
    """The plain PyTorch loop a user would write for the same network.

    ``nn.Sequential`` of ``Linear`` + ``ReLU``, each layer's weights and biases
    drawn uniform in scikit-learn's Glorot bounds ``sqrt(6 / (fan_in +
    fan_out))`` (the values differ, the distribution is the same). The loss is
    the mean cross-entropy (or half the mean squared error) of the minibatch
    plus ``0.5 * l2 * sum(W**2) / batch_rows`` over the weight matrices,
    biases unpenalised: scikit-learn's objective, so ``weight_decay=0`` in the
    optimizer. Adam with scikit-learn's betas and epsilon, or SGD with
    Nesterov momentum 0.9. The rows are shuffled anew each epoch
    (``torch.randperm``) and cut into minibatches in that order, as
    scikit-learn does. Sparse input is densified one minibatch at a time.
    """

    def __init__(self, workload, units, task):
        import torch

        torch.set_num_threads(TORCH_THREADS)
        torch.manual_seed(0)
        self.torch = torch
        self.workload = workload
        self.task = task
        self.dtype = {"float64": torch.float64, "float32": torch.float32}[workload.dtype]
        layers, self.weights = [], []
        for i, (fan_in, fan_out) in enumerate(zip(units[:-1], units[1:], strict=True)):
            linear = torch.nn.Linear(fan_in, fan_out, dtype=self.dtype)
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            torch.nn.init.uniform_(linear.weight, -bound, bound)
            torch.nn.init.uniform_(linear.bias, -bound, bound)
            layers.append(linear)
            self.weights.append(linear.weight)
            if i < len(units) - 2:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        self.binary = task == "classification" and units[-1] == 1

    def fit(self, X, y, epochs):
        torch = self.torch
        wl = self.workload
        if wl.solver == "adam":
            optimizer = torch.optim.Adam(
                self.model.parameters(),
                lr=wl.learning_rate,
                betas=(0.9, 0.999),
                eps=1e-8,
                weight_decay=0.0,
            )
        else:
            optimizer = torch.optim.SGD(
                self.model.parameters(),
                lr=wl.learning_rate,
                momentum=0.9,
                nesterov=True,
                weight_decay=0.0,
            )
        sparse = not isinstance(X, np.ndarray)
        X_all = None if sparse else torch.from_numpy(X)
        if self.task == "classification":
            y_all = torch.from_numpy(np.unique(y, return_inverse=True)[1].astype(np.int64))
            if self.binary:
                y_all = y_all.to(self.dtype).reshape(-1, 1)
        else:
            y_all = torch.from_numpy(np.asarray(y, dtype=X.dtype).reshape(-1, 1))
        n = X.shape[0]
        batch = wl.batch_size
        generator = torch.Generator().manual_seed(0)
        self.model.train()
        for _ in range(epochs):
            order = torch.randperm(n, generator=generator)
            for start in range(0, n, batch):
                rows = order[start : start + batch]
                if sparse:
                    X_batch = torch.from_numpy(X[rows.numpy()].toarray())
                else:
                    X_batch = X_all[rows]
                y_batch = y_all[rows]
                output = self.model(X_batch)
                if self.task == "regression":
                    loss = 0.5 * torch.mean((output - y_batch) ** 2)
                elif self.binary:
                    loss = torch.nn.functional.binary_cross_entropy_with_logits(output, y_batch)
                else:
                    loss = torch.nn.functional.cross_entropy(output, y_batch)
                penalty = sum(w.pow(2).sum() for w in self.weights)
                loss = loss + 0.5 * wl.l2 * penalty / rows.shape[0]
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        return self

    def predict_proba(self, X):
        torch = self.torch
        self.model.eval()
        with torch.inference_mode():
            out = self.model(torch.from_numpy(X))
            if self.binary:
                p = torch.sigmoid(out)
                out = torch.cat([1 - p, p], dim=1)
            else:
                out = torch.softmax(out, dim=1)
        return out.numpy()


def fit_torch(workload, X, y, task, epochs):
    model = TorchMLP(workload, layer_units(workload, X, y, task), task)
    model.fit(X, y, epochs)
    return model, epochs


FITTERS = {"skreg": fit_skreg, "sklearn": fit_sklearn, "torch": fit_torch}


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------
# Memory
# --------------------------------------------------------------------------


def _status_kb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def reset_peak_rss():
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS.

    Returns the method name used by :func:`peak_rss_increase`.
    """
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        _status_kb("VmHWM")
        return "VmHWM"
    except OSError:
        return "ru_maxrss"


def current_rss():
    try:
        return _status_kb("VmRSS") * 1024
    except (OSError, KeyError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def peak_rss(method):
    if method == "VmHWM":
        return _status_kb("VmHWM") * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


MEMORY_RESOLUTION_MB = 0.1  # memory target: skreg's peak <= scikit-learn's, to this resolution
MEMORY_NOTE = (
    "peak memory: increase of the process's peak RSS during the first timed fit over its RSS "
    "just before it (after imports, data creation and the warm-up fit), each system in its own "
    "subprocess; the peak mark is reset through /proc/self/clear_refs (VmHWM). The memory "
    "targets also show the bytes allocated at the peak of one more fit (tracemalloc; NumPy "
    "and Numba allocations), which RSS can hide when a fit reuses heap freed earlier"
)


# --------------------------------------------------------------------------
# Other load on the machine
# --------------------------------------------------------------------------


def _cpu_ticks():
    """``(busy, steal)`` seconds of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    hz = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / hz, steal / hz


def _own_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime


class CpuMonitor:
    """CPU cores that other processes kept busy while a measurement ran.

    ``stop()`` returns ``(all busy CPU time - this process's CPU time) / wall
    time``, in cores: about 0 on a quiet machine, up to the core count when
    another job competes for every core and the timing is worth little.
    Returns None where /proc/stat is missing.
    """

    def __init__(self):
        try:
            self.busy, self.steal = _cpu_ticks()
        except OSError:
            self.busy = None
        self.own = _own_cpu()
        self.start = time.perf_counter()

    def stop(self):
        if self.busy is None:
            return None
        wall = time.perf_counter() - self.start
        busy, _steal = _cpu_ticks()
        other = (busy - self.busy) - (_own_cpu() - self.own)
        return max(0.0, other / max(wall, 1e-9))


def wait_until_idle(timeout, log, threshold=0.15):
    """Wait, at most ``timeout`` seconds, for a second with less than
    ``threshold`` cores busy; returns the load seen last."""
    deadline = time.perf_counter() + timeout
    waited = False
    while True:
        monitor = CpuMonitor()
        time.sleep(1.0)
        load = monitor.stop()
        if load is None or load < threshold or time.perf_counter() > deadline:
            if waited:
                log(f"  (machine load now {load:.2f} cores)")
            return load
        if not waited:
            log(f"  waiting for other jobs to finish ({load:.2f} cores busy) ...")
            waited = True


# --------------------------------------------------------------------------
# Workers (each runs in its own subprocess)
# --------------------------------------------------------------------------


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


def worker_main(spec_json, out_path):
    spec = json.loads(spec_json)
    warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter is the point here
    try:
        result = WORKERS[spec["kind"]](spec)
    except Exception as exc:  # reported in the table, never fatal
        import traceback

        traceback.print_exc()
        result = {"status": "error", "note": f"{type(exc).__name__}: {exc}"}
    with open(out_path, "w") as f:
        json.dump(result, f)


def run_worker(spec, env=None):
    with tempfile.TemporaryDirectory(prefix="skreg-bench-") as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [sys.executable, os.path.abspath(__file__), "--_worker", json.dumps(spec), out]
        proc = subprocess.run(
            cmd, env=env or worker_env(), capture_output=True, text=True, timeout=WORKER_TIMEOUT
        )
        if proc.returncode != 0 or not os.path.exists(out):
            last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no output"
            sys.stderr.write(proc.stderr)
            return {"status": "error", "note": f"worker exited {proc.returncode}: {last}"}
        with open(out) as f:
            result = json.load(f)
        if result.get("status") == "error" and proc.stderr:
            sys.stderr.write(proc.stderr)
        return result


def worker_env(extra=None):
    env = dict(os.environ)
    env["SKREG_BENCH_FROM"] = SKREG_FROM
    env["PYTHONPATH"] = SKREG_FROM + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    env.update(extra or {})
    return env


# --------------------------------------------------------------------------
# Machine figures: matrix-multiply peak, first use
# --------------------------------------------------------------------------


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


FIRST_USE_CODE = """
import time, warnings
start = time.perf_counter()
from sklearn.datasets import load_iris
from {module} import MLPClassifier
X, y = load_iris(return_X_y=True)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
print(time.perf_counter() - start)
"""
# The second first-use task: a first grid search, whose two workers each
# need the kernels (issue: "a cold first grid search within its warm time
# + 5 s").
GRID_SEARCH_CODE = """
import time, warnings
start = time.perf_counter()
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from {module} import MLPClassifier
X, y = load_breast_cancer(return_X_y=True)
mlp = MLPClassifier(solver="sgd", learning_rate_init=0.01, early_stopping=True,
                    validation_fraction=0.2, n_iter_no_change=20, random_state=0)
grid = {{"mlpclassifier__{l2}": [1e-4, 0.1], "mlpclassifier__learning_rate_init": [0.01, 0.03]}}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    GridSearchCV(make_pipeline(StandardScaler(), mlp), grid, cv=3, n_jobs=2).fit(X, y)
print(time.perf_counter() - start)
"""
FIRST_USE_MODULES = {"skreg": "skreg", "sklearn": "sklearn.neural_network"}
FIRST_USE_TASKS = {
    "fit": lambda system: FIRST_USE_CODE.format(module=FIRST_USE_MODULES[system]),
    "grid_search": lambda system: GRID_SEARCH_CODE.format(
        module=FIRST_USE_MODULES[system], l2="l2" if system == "skreg" else "alpha"
    ),
}


def first_use_once(system, cache_dir=None, task="fit"):
    """Wall seconds of a fresh interpreter that runs a first-use task: import
    and fit iris, or a first grid search (``FIRST_USE_TASKS``).

    Returns ``(process_seconds, in_process_seconds)``: the first counts the
    interpreter's start, the second starts at the first import.
    """
    env = worker_env({"NUMBA_CACHE_DIR": cache_dir} if cache_dir else None)
    code = FIRST_USE_TASKS[task](system)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return wall, float(proc.stdout.strip().splitlines()[-1])


def measure_first_use(quick, log, settle=lambda: None):
    """First-use figures with the normal (warm) Numba cache and a cold one:
    ``result[task][cache][system]`` for each of ``FIRST_USE_TASKS``."""
    warm_repeat = 3 if quick else 5
    cold_repeat = 1 if quick else 3
    result = {
        "warm_repeat": warm_repeat,
        "cold_repeat": cold_repeat,
        "skreg_from": SKREG_FROM,
        # Kernels compiled at install time (a wheel built by pip install .)
        # make the cold cache load instead of compile: say which was measured.
        "prebuilt_kernels": os.path.isdir(os.path.join(SKREG_FROM, "skreg", "_prebuilt_kernels")),
    }
    for task in FIRST_USE_TASKS:
        result[task] = {"warm": {}, "cold": {}}
        for system in FIRST_USE_MODULES:
            first_use_once(system, task=task)  # fills the normal cache and the OS file cache
        for cache, repeat in (("warm", warm_repeat), ("cold", cold_repeat)):
            for system in FIRST_USE_MODULES:
                runs = []
                for _ in range(repeat):
                    settle()
                    if cache == "warm":
                        runs.append(first_use_once(system, task=task))
                        continue
                    with tempfile.TemporaryDirectory(prefix="skreg-bench-numba-") as cache_dir:
                        runs.append(first_use_once(system, cache_dir, task))
                summary = result[task][cache][system] = summarise_first_use(runs)
                log(
                    f"  first use, {task}, {cache} cache, {system}: "
                    f"{summary['process_seconds']:.2f} s"
                )
    return result


def summarise_first_use(runs):
    return {
        "process_seconds": statistics.median(r[0] for r in runs),
        "in_process_seconds": statistics.median(r[1] for r in runs),
        "runs": [list(r) for r in runs],
    }


def versions():
    import numba
    import scipy
    import sklearn
    import threadpoolctl

    import skreg

    info = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "numba": numba.__version__,
        "skreg": getattr(skreg, "__version__", "?"),
        "skreg_path": os.path.dirname(skreg.__file__),
        "skreg_git": git_state(os.path.dirname(os.path.dirname(skreg.__file__))),
    }
    try:
        import scipy.linalg  # noqa: F401  (loads scipy's BLAS, the one Numba's np.dot calls)

        info["blas"] = [
            {
                k: d.get(k)
                for k in (
                    "prefix",
                    "internal_api",
                    "version",
                    "architecture",
                    "num_threads",
                    "filepath",
                )
            }
            for d in threadpoolctl.threadpool_info()
            if d.get("user_api") == "blas"
        ]
    except Exception:  # informational only
        info["blas"] = []
    if torch_available():
        import torch

        info["torch"] = torch.__version__
        info["torch_threads_in_benchmark"] = TORCH_THREADS
    else:
        info["torch"] = None
    return info


def git_state(directory):
    """``commit`` (plus ``+changes`` when the work tree differs) of a checkout, or None."""
    try:
        commit = subprocess.run(
            ["git", "-C", directory, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", directory, "status", "--porcelain", "--", "skreg"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return commit.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
    }


# --------------------------------------------------------------------------
# Targets (from the performance issue); the script reports, never fails
# --------------------------------------------------------------------------


@dataclass
class Target:
    label: str
    goal: str
    measured: float | None
    limit: float
    higher_is_better: bool = False
    unit: str = ""
    detail: str = ""
    status: str = field(default="")

    def __post_init__(self):
        if self.measured is None or (
            isinstance(self.measured, float) and math.isnan(self.measured)
        ):
            self.status = "n/a"
        elif self.higher_is_better:
            self.status = "PASS" if self.measured >= self.limit else "MISS"
        else:
            self.status = "PASS" if self.measured <= self.limit else "MISS"


def fit_seconds(entry, system):
    res = entry["systems"].get(system, {})
    return min(res["seconds"]) if res.get("status") == "ok" else None


def ratio(a, b):
    return a / b if a is not None and b else None


def evaluate_targets(results):
    targets = []
    work = {e["name"]: e for e in results["workloads"]}

    def time_ratio(name, other, limit):
        if name not in work:
            return
        e = work[name]
        r = ratio(fit_seconds(e, "skreg"), fit_seconds(e, other))
        other_label = "scikit-learn" if other == "sklearn" else "PyTorch"
        targets.append(Target(f"{name}: skreg / {other_label} time", f"<= {limit:g}", r, limit))

    time_ratio("digits-h100-b200", "sklearn", 0.25)
    time_ratio("digits-h100-b32", "sklearn", 0.2)
    time_ratio("synth20k-h256x256-b256", "sklearn", 0.45)
    time_ratio("synth20k-h256x256-b256", "torch", 0.8)
    time_ratio("reg20k-h128x64-sgd", "sklearn", 0.3)
    if "synth100k-h512x512-b512" in work:
        e = work["synth100k-h512x512-b512"]
        share = e["systems"].get("skreg", {}).get("peak_share")
        targets.append(
            Target(
                "synth100k-h512x512-b512: skreg share of float64 matmul peak",
                ">= 70%",
                None if share is None else 100 * share,
                70.0,
                higher_is_better=True,
                unit="%",
            )
        )
    time_ratio("synth100k-h512x512-b512", "torch", 1.0)
    time_ratio("synth100k-h512x512-b512-f32", "torch", 1.0)
    if "synth100k-h512x512-b512" in work and "synth100k-h512x512-b512-f32" in work:
        speedup = ratio(
            fit_seconds(work["synth100k-h512x512-b512"], "skreg"),
            fit_seconds(work["synth100k-h512x512-b512-f32"], "skreg"),
        )
        targets.append(
            Target(
                "synth100k: skreg float64 time / skreg float32 time",
                ">= 1.7",
                speedup,
                1.7,
                higher_is_better=True,
            )
        )
    time_ratio("sparse20kx5000", "sklearn", 0.15)
    pred = results.get("predict")
    if pred:
        s, k = pred.get("skreg", {}), pred.get("sklearn", {})
        ok = s.get("status") == "ok" and k.get("status") == "ok"
        targets.append(
            Target(
                f"predict_proba, {s.get('n_rows', k.get('n_rows', '?'))} rows: "
                "skreg / scikit-learn time",
                "<= 0.5",
                ratio(min(s["many_seconds"]), min(k["many_seconds"])) if ok else None,
                0.5,
            )
        )
        targets.append(
            Target(
                "predict_proba, 1 row: skreg / scikit-learn latency",
                "<= 0.8",
                ratio(s["single_row_seconds_median"], k["single_row_seconds_median"])
                if ok
                else None,
                0.8,
            )
        )
    for e in results["workloads"]:
        s = e["systems"].get("skreg", {})
        k = e["systems"].get("sklearn", {})
        ok = s.get("status") == "ok" and k.get("status") == "ok"
        # RSS readings of small fits differ by a few pages from run to run:
        # compare at MEMORY_RESOLUTION_MB, and show the ratio for information.
        excess = (s["memory_bytes"] - k["memory_bytes"]) / 2**20 if ok else None
        detail = (
            f"{mb(s['memory_bytes'])} vs {mb(k['memory_bytes'])} MB, ratio "
            f"{s['memory_bytes'] / max(k['memory_bytes'], 1):.2f}"
            if ok
            else s.get("note", "") or k.get("note", "")
        )
        if ok and s.get("traced_bytes") is not None and k.get("traced_bytes") is not None:
            detail += f"; allocated at peak {mb(s['traced_bytes'])} vs {mb(k['traced_bytes'])} MB"
        targets.append(
            Target(
                f"{e['name']}: skreg - scikit-learn peak memory",
                f"<= {MEMORY_RESOLUTION_MB:g} MB",
                excess,
                MEMORY_RESOLUTION_MB,
                unit=" MB",
                detail=detail,
            )
        )
    fu = results.get("first_use")
    if fu:
        fit = fu["fit"]
        s, k = fit["warm"]["skreg"]["process_seconds"], fit["warm"]["sklearn"]["process_seconds"]
        targets.append(
            Target(
                "first use, warm Numba cache: skreg - scikit-learn seconds",
                "<= 0.5 s",
                s - k,
                0.5,
                unit="s",
                detail=f"{s:.2f} s vs {k:.2f} s",
            )
        )
        targets.append(
            Target(
                "first use, cold Numba cache: skreg seconds",
                "<= 5 s",
                fit["cold"]["skreg"]["process_seconds"],
                5.0,
                unit="s",
            )
        )
        grid = fu["grid_search"]
        cold, warm = (grid[c]["skreg"]["process_seconds"] for c in ("cold", "warm"))
        targets.append(
            Target(
                "first grid search, cold - warm Numba cache: skreg seconds",
                "<= 5 s",
                cold - warm,
                5.0,
                unit="s",
                detail=f"{cold:.2f} s vs {warm:.2f} s; scikit-learn "
                f"{grid['warm']['sklearn']['process_seconds']:.2f} s",
            )
        )
    return targets


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def mb(n):
    return f"{n / 2**20:.1f}" if n is not None else "-"


def fmt_seconds(x):
    if x is None:
        return "-"
    if x >= 1:
        return f"{x:.2f}"
    if x >= 1e-3:
        return f"{x * 1e3:.1f}m"
    return f"{x * 1e6:.0f}u"


def fmt(x, spec=".2f"):
    return "-" if x is None else format(x, spec)


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


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main(argv=None):
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
    args = parser.parse_args(argv)
    if args._worker:
        worker_main(*args._worker)
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

    global SKREG_FROM
    if args.skreg_from:
        SKREG_FROM = os.path.abspath(args.skreg_from)
        sys.path.insert(0, SKREG_FROM)
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

    results = {
        "meta": {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full",
            "repeat": repeat,
            "machine": machine(),
            "versions": versions(),
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
                {
                    "kind": "fit",
                    "workload": wl.name,
                    "system": system,
                    "quick": args.quick,
                    "repeat": repeat,
                    "wait_idle": args.wait_idle,
                }
            )
            entry["systems"][system] = res
        settle()
        gemm = run_worker(
            {"kind": "gemm", "workload": wl.name, "quick": args.quick, "repeat": repeat}
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
                {
                    "kind": "predict",
                    "system": system,
                    "quick": args.quick,
                    "repeat": repeat,
                    "wait_idle": args.wait_idle,
                }
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
