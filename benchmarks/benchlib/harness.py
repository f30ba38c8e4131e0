"""What every benchmark needs around its measurements: the skreg measured,
versions and machine, other load on the CPUs, and worker subprocesses.

Importing this module puts the directory of the skreg measured first on
``sys.path`` (before anything imports skreg), so import it before skreg.
"""

import importlib.metadata
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

# The directory that holds the skreg package measured: this checkout's, unless
# --skreg-from names another (say, a baseline checkout to compare against).
# Workers inherit it through SKREG_BENCH_FROM.
SKREG_FROM = os.path.abspath(
    os.environ.get("SKREG_BENCH_FROM")
    or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
)
if SKREG_FROM not in sys.path:
    sys.path.insert(0, SKREG_FROM)

WORKER_TIMEOUT = 3600


def use_skreg_from(directory):
    """Measure the skreg package in ``directory`` from now on (--skreg-from),
    in this process and in the workers it starts."""
    global SKREG_FROM
    SKREG_FROM = os.path.abspath(directory)
    sys.path.insert(0, SKREG_FROM)


# --------------------------------------------------------------------------
# Versions and machine
# --------------------------------------------------------------------------


def versions(extra=()):
    """Versions of Python, the numerical stack, skreg (with its path and git
    state), the BLAS libraries loaded and PyTorch (None when absent); then
    those of the distributions named in ``extra`` that are installed."""
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
    try:
        import torch
    except ImportError:
        info["torch"] = None
    else:
        info["torch"] = torch.__version__
    for name in extra:
        try:
            info[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
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
# Workers: a script re-run as ``script --_worker SPEC_JSON OUT_PATH``
# --------------------------------------------------------------------------


def worker_main(spec_json, out_path, workers):
    """The worker side: run ``workers[spec["kind"]](spec)`` and write its result
    dict as JSON to ``out_path``; an exception becomes an "error" result."""
    spec = json.loads(spec_json)
    warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter is the point here
    try:
        result = workers[spec["kind"]](spec)
    except Exception as exc:  # reported in the table, never fatal
        import traceback

        traceback.print_exc()
        result = {"status": "error", "note": f"{type(exc).__name__}: {exc}"}
    with open(out_path, "w") as f:
        json.dump(result, f)


def run_worker(script, spec, env=None):
    """Run ``spec`` in a fresh subprocess of ``script`` (which hands
    ``--_worker`` to :func:`worker_main`) and return its result dict."""
    with tempfile.TemporaryDirectory(prefix="skreg-bench-") as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [sys.executable, os.path.abspath(script), "--_worker", json.dumps(spec), out]
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
