"""First use: the wall time of fresh processes that import an estimator and
fit, with the normal (warm) Numba cache and with an empty (cold) one."""

import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import harness

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
    env = harness.worker_env({"NUMBA_CACHE_DIR": cache_dir} if cache_dir else None)
    code = FIRST_USE_TASKS[task](system)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=harness.WORKER_TIMEOUT,
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
        "skreg_from": harness.SKREG_FROM,
        # Kernels compiled at install time (a wheel built by pip install .)
        # make the cold cache load instead of compile: say which was measured.
        "prebuilt_kernels": os.path.isdir(
            os.path.join(harness.SKREG_FROM, "skreg", "_prebuilt_kernels")
        ),
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
