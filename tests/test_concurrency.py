"""Concurrency: threads, joblib backends, memmapped inputs and Numba's cache.

* ``predict`` from 8 threads at once on one fitted model equals serial calls;
* fits under joblib's threading and loky backends equal serial fits;
* the kernels release the GIL: another thread runs Python while one of them
  computes; a fit off the main thread gives BLAS one thread, so that BLAS's
  own threads do not fight the fits';
* ``GridSearchCV(n_jobs=2)`` gives the ``cv_results_`` of ``n_jobs=1``, in
  processes and in threads;
* joblib's read-only memmapped inputs raise no error in the workers (that
  they compile no new signature is tested by the signature probe of
  ``tests/kernels/test_signature_budget.py``).

What Numba guarantees itself (processes sharing one cache, a read-only
package falling back to the user-wide cache) is Numba's to test, not
skreg's.
"""

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

from skreg import MLPClassifier, MLPRegressor
from skreg._solvers import OneBlasThreadOffTheMainThread

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


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
