"""Concurrency: threads, joblib backends, memmapped inputs and Numba's cache.

* ``predict`` from 8 threads at once on one fitted model equals serial calls;
* fits under joblib's threading and loky backends equal serial fits;
* the kernels release the GIL: another thread runs Python while one of them
  computes; a fit off the main thread gives BLAS one thread, so that BLAS's
  own threads do not fight the fits';
* ``GridSearchCV(n_jobs=2)`` gives the ``cv_results_`` of ``n_jobs=1``, in
  processes and in threads;
* joblib's read-only memmapped inputs raise no error in the workers, and in a
  fresh interpreter with an empty Numba cache they compile no signature that
  writable inputs did not already compile.

What Numba guarantees itself (processes sharing one cache, a read-only
package falling back to the user-wide cache) is Numba's to test, not
skreg's. The signature count runs in a fresh interpreter that compiles from
scratch (``SKREG_PREBUILT_KERNELS=0``: kernels compiled at install time are
tested in ``test_prebuilt.py``), with ``NUMBA_OPT=0``: types, hence
signatures, do not depend on the optimisation level.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_info

import skreg
from skreg import MLPClassifier, MLPRegressor
from skreg._solvers import OneBlasThreadOffTheMainThread

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

REPO = pathlib.Path(skreg.__file__).resolve().parents[1]
SUBPROCESS_TIMEOUT = 1200  # seconds; a cold compile on a loaded 2-core machine

X_CLF, Y_CLF = make_classification(
    n_samples=600, n_features=12, n_informative=8, n_classes=3, random_state=0
)
X_REG, Y_REG = make_regression(n_samples=600, n_features=12, noise=1.0, random_state=0)
Y_REG = (Y_REG - Y_REG.mean()) / Y_REG.std()


def _assert_same_network(a, b):
    assert len(a.coefs_) == len(b.coefs_)
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        assert p.dtype == q.dtype
        assert_array_equal(p, q)


# ---------------------------------------------------------------------------
# Threads
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "Est, X, y",
    [(MLPClassifier, X_CLF, Y_CLF), (MLPRegressor, X_REG, Y_REG)],
    ids=["classifier", "regressor"],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predict_from_8_threads_equals_serial(Est, X, y, dtype):
    X = X.astype(dtype)
    est = Est(hidden_layer_sizes=(32, 16), max_iter=20, random_state=0).fit(X, y)
    methods = ["predict", "predict_proba"] if Est is MLPClassifier else ["predict"]
    # Each thread has its own rows (so that crossed buffers would show) and
    # all threads share the full matrix.
    parts = [X[i::8] for i in range(8)]
    serial = {(m, i): getattr(est, m)(part) for m in methods for i, part in enumerate(parts)}
    serial_full = {m: getattr(est, m)(X) for m in methods}
    barrier = threading.Barrier(8)

    def work(i):
        barrier.wait()
        out = []
        for _ in range(5):
            for m in methods:
                out.append(((m, i), getattr(est, m)(parts[i])))
                out.append((m, getattr(est, m)(X)))
        return out

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))
    n_checked = 0
    for out in results:
        for key, value in out:
            expected = serial[key] if isinstance(key, tuple) else serial_full[key]
            assert value.dtype == expected.dtype
            assert_array_equal(value, expected)
            n_checked += 1
    assert n_checked == 8 * 5 * 2 * len(methods)


def _models():
    return [
        MLPClassifier(
            hidden_layer_sizes=(16,),
            solver=solver,
            max_iter=15,
            random_state=seed,
            **({} if solver == "lbfgs" else {"l1": 1e-3, "dropout": 0.1}),
        )
        for solver in ("sgd", "adam", "lbfgs")
        for seed in (0, 1)
    ]


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_joblib_backends_fit_the_serial_networks(backend):
    models = _models()
    serial = [clone(m).fit(X_CLF, Y_CLF) for m in models]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        parallel = joblib.Parallel(n_jobs=2, backend=backend)(
            joblib.delayed(clone(m).fit)(X_CLF, Y_CLF) for m in models
        )
    assert len(parallel) == len(serial)
    for a, b in zip(parallel, serial, strict=True):
        _assert_same_network(a, b)
        assert_array_equal(a.predict_proba(X_CLF), b.predict_proba(X_CLF))


def test_kernels_release_the_gil():
    """While one thread spends about a second in a compiled kernel, the main
    thread keeps running Python: it is not waiting for the GIL."""
    rng = np.random.default_rng(0)
    model = MLPRegressor(hidden_layer_sizes=(512, 512), max_iter=1, random_state=0)
    model.fit(rng.normal(size=(50, 100)), rng.normal(size=50))
    X = rng.normal(size=(60_000, 100))
    window = {}

    def predict():
        window["start"] = time.perf_counter()
        model.predict(X)
        window["end"] = time.perf_counter()

    worker = threading.Thread(target=predict)
    samples = []
    worker.start()
    while worker.is_alive():
        time.sleep(0.001)  # then needs the GIL to go on
        samples.append(time.perf_counter())
    worker.join()
    # Leave out the Python around the kernel call (validation, the final
    # checks) at both ends of the window.
    margin = 0.2 * (window["end"] - window["start"])
    inside = [t for t in samples if window["start"] + margin < t < window["end"] - margin]
    assert window["end"] - window["start"] > 0.05, "too fast to tell: grow the network"
    # About one sample per millisecond when the GIL is free; none while the
    # kernel would hold it.
    assert len(inside) > 20, (len(inside), window)


def _blas_threads():
    return {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_fits_off_the_main_thread_give_blas_one_thread_until_the_last_ends():
    """BLAS's own threads would fight fits in threads: a fit off the main
    thread runs with one BLAS thread, and the limit lasts until the last such
    fit ends. In the main thread nothing changes."""
    original = _blas_threads()
    with OneBlasThreadOffTheMainThread():
        assert _blas_threads() == original
    inside, entered, release = [], threading.Barrier(2), threading.Event()

    def fit_context(wait):
        with OneBlasThreadOffTheMainThread():
            entered.wait()
            inside.append(_blas_threads())
            if wait:
                release.wait(timeout=60)

    first = threading.Thread(target=fit_context, args=(True,))
    second = threading.Thread(target=fit_context, args=(False,))
    first.start(), second.start()
    second.join()
    assert _blas_threads() == {path: 1 for path in original}  # the first still runs
    release.set()
    first.join()
    assert inside == [{path: 1 for path in original}] * 2
    assert _blas_threads() == original


def _fit_checking_memmap(est, X, y):
    """Runs in a loky worker: the inputs must arrive as read-only memmaps."""
    assert isinstance(X, np.memmap) and not X.flags.writeable, type(X)
    assert isinstance(y, np.memmap) and not y.flags.writeable, type(y)
    est.fit(X, y)
    if hasattr(est, "partial_fit"):
        est.partial_fit(X, y)
    return est, est.predict(X)


@pytest.mark.parametrize(
    "Est, X, y",
    [(MLPClassifier, X_CLF, Y_CLF), (MLPRegressor, X_REG, Y_REG)],
    ids=["classifier", "regressor"],
)
def test_joblib_memmapped_inputs_in_loky_workers(Est, X, y):
    """max_nbytes=0 makes joblib hand every array over as a read-only memmap."""
    models = [
        Est(hidden_layer_sizes=(8,), solver=s, max_iter=10, random_state=0)
        for s in ("sgd", "adam", "lbfgs")
    ]
    X_f = np.asfortranarray(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        results = joblib.Parallel(n_jobs=2, backend="loky", max_nbytes=0)(
            joblib.delayed(_fit_checking_memmap)(clone(m), data, y)
            for m in models
            for data in (X, X_f)
        )
    expected = []
    for m in models:
        ref = clone(m).fit(X, y)
        if hasattr(ref, "partial_fit"):
            ref.partial_fit(X, y)
        expected += [ref, ref]
    for (fitted, predicted), ref in zip(results, expected, strict=True):
        _assert_same_network(fitted, ref)
        assert_array_equal(predicted, ref.predict(X))


def _cv_scores(search):
    keys = sorted(k for k in search.cv_results_ if k.endswith("_test_score"))
    assert "mean_test_score" in keys and "split2_test_score" in keys
    return {k: np.asarray(search.cv_results_[k]) for k in keys}


@pytest.mark.parametrize(
    "backend, memmap",
    [("loky", False), ("loky", True), ("threading", False)],
    ids=["loky", "loky-memmap-everything", "threading"],
)
def test_grid_search_n_jobs_2_equals_n_jobs_1(backend, memmap):
    grid = {"l1": [0.0, 1e-2], "l2": [1e-4, 1e-1], "dropout": [0.0, 0.2]}
    est = MLPClassifier(
        hidden_layer_sizes=(16,), max_iter=20, learning_rate_init=0.01, random_state=0
    )
    serial = GridSearchCV(est, grid, cv=3, n_jobs=1).fit(X_CLF, Y_CLF)
    config = {"max_nbytes": 0} if memmap else {}
    with joblib.parallel_config(backend=backend, **config):
        parallel = GridSearchCV(est, grid, cv=3, n_jobs=2).fit(X_CLF, Y_CLF)
    a, b = _cv_scores(serial), _cv_scores(parallel)
    assert a.keys() == b.keys()
    for key in a:
        assert_array_equal(b[key], a[key], err_msg=key)
    assert parallel.best_params_ == serial.best_params_
    assert [p for p in parallel.cv_results_["params"]] == [p for p in serial.cv_results_["params"]]
    _assert_same_network(parallel.best_estimator_, serial.best_estimator_)


# ---------------------------------------------------------------------------
# Fresh interpreters
# ---------------------------------------------------------------------------


def _env(**extra):
    """The environment of a child interpreter that imports skreg from this
    checkout, with none of the parent's NUMBA_* settings, and that compiles
    the kernels rather than load those compiled at install time (these tests
    are about Numba's own cache)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NUMBA_")}
    env["SKREG_PREBUILT_KERNELS"] = "0"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env.update(extra)
    return env


def _run(code, env, cwd, **kwargs):
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        **kwargs,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("skreg-concurrency")
    yield path
    # Give write permission back (the read-only package test removes it).
    for dirpath, _, _ in os.walk(path):
        os.chmod(dirpath, 0o755)
    shutil.rmtree(path, ignore_errors=True)


_SIGNATURE_SCRIPT = """
    import json, pathlib, sys, warnings
    import joblib
    import numpy as np
    import numba
    import skreg
    from skreg import _kernels as k

    warnings.simplefilter("ignore")
    tmp = pathlib.Path(sys.argv[1])

    def signatures():
        return {name: sorted(str(sig) for sig in obj.signatures)
                for name, obj in sorted(vars(k).items()) if hasattr(obj, "signatures")}

    def memmap(array, name):
        joblib.dump(array, tmp / name)
        mapped = joblib.load(tmp / name, mmap_mode="r")
        assert isinstance(mapped, np.memmap) and not mapped.flags.writeable
        return mapped

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    targets = {
        "binary": (X[:, 0] > 0).astype(np.int64),
        "multiclass": rng.integers(0, 3, size=60),
        "multilabel": rng.integers(0, 2, size=(60, 2)),
        "regression": X @ [1.0, -2.0, 0.5, 0.0],
    }
    weights = rng.uniform(0.5, 2.0, size=60)

    def fit_all(X, targets, weights):
        for solver in ("sgd", "adam", "lbfgs"):
            options = [{}]
            if solver != "lbfgs":
                options.append(dict(l1=1e-3, dropout=0.2, early_stopping=True))
            for extra in options:
                common = dict(hidden_layer_sizes=(5,), max_iter=3, solver=solver, random_state=0,
                              **extra)
                for kind, y in targets.items():
                    Est = skreg.MLPRegressor if kind == "regression" else skreg.MLPClassifier
                    est = Est(**common).fit(X, y, sample_weight=weights)
                    est.predict(X)
                    if Est is skreg.MLPClassifier:
                        est.predict_proba(X)
                    if solver != "lbfgs" and not extra:
                        est.partial_fit(X, y, sample_weight=weights)

    for dtype in (np.float64, np.float32):
        fit_all(X.astype(dtype), targets, weights)
    writable = signatures()
    for dtype in (np.float64, np.float32):
        for order in "CF":
            X_mapped = memmap(
                np.asarray(X, dtype=dtype, order=order), f"X-{dtype.__name__}-{order}"
            )
            mapped_targets = {kind: memmap(y, f"y-{kind}") for kind, y in targets.items()}
            fit_all(X_mapped, mapped_targets, memmap(weights, "w"))
    memmapped = signatures()
    print(json.dumps({"writable": writable, "memmapped": memmapped,
                      "jit_disabled": bool(numba.config.DISABLE_JIT)}))
"""


def test_memmapped_inputs_compile_no_extra_signatures(workdir, record_property):
    """In a fresh interpreter with an empty cache (a kernel loaded from disk
    does not register its callees' signatures, so everything compiles here),
    fits, partial_fits and predictions on joblib's read-only memmaps (C and F
    order, float64 and float32; X, y and sample_weight all mapped) must
    reuse the signatures that writable arrays compiled."""
    env = _env(NUMBA_CACHE_DIR=str(workdir / "numba-cache"), NUMBA_OPT="0")
    result = _run(_SIGNATURE_SCRIPT.replace("sys.argv[1]", repr(str(workdir))), env, workdir)
    writable, memmapped = result["writable"], result["memmapped"]
    assert not result["jit_disabled"]
    assert writable["run_epoch"] and writable["predict_output"], writable
    counts = {name: len(sigs) for name, sigs in writable.items()}
    record_property("signatures_writable", counts)
    extra = {name: sorted(set(memmapped[name]) - set(writable[name])) for name in writable}
    extra = {name: sigs for name, sigs in extra.items() if sigs}
    record_property("extra_signatures_from_memmaps", {n: len(s) for n, s in extra.items()})
    print("signatures after writable float64 + float32 fits:", counts)
    print("extra signatures after memmapped fits:", {n: len(s) for n, s in extra.items()})
    assert not extra, "memmapped inputs compiled extra signatures:\n" + "\n".join(
        f"{name}:\n    " + "\n    ".join(sigs) for name, sigs in extra.items()
    )
