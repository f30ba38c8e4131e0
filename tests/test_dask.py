"""Scale-out on Dask (the ``dask`` extra): grid search and Incremental.

One ``distributed.LocalCluster`` of 2 worker processes (1 thread each), bound
to 127.0.0.1 only, is started for this module and closed by the fixture's
finalizer. Before it starts, the kernels the workers need are compiled (or
loaded) once in this process, so the workers load them from the shared Numba
cache instead of compiling them twice; each worker then imports skreg and
loads them before anything is timed.

* ``GridSearchCV`` under ``joblib.parallel_backend("dask")`` must give the
  ``best_params_`` and every cross-validated score of ``n_jobs=1``;
* ``dask_ml.wrappers.Incremental(skreg.MLPClassifier(...))`` trains with
  ``partial_fit`` on a dask array of 30 chunks: without block shuffling it
  trains exactly the network of sequential in-memory ``partial_fit`` calls,
  and with shuffling its held-out accuracy is within 0.03 of an in-memory
  ``fit`` with the same number of steps.

The timings and accuracies are printed (``pytest -s``) and recorded as
properties (``--junitxml``); nothing asserts a timing.
"""

import contextlib
import io
import os
import pathlib
import re
import time
import warnings

import dask.array as da
import joblib
import psutil
import pytest
from dask_ml.wrappers import Incremental
from distributed import Client, LocalCluster, get_task_stream
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split

import skreg
from skreg import MLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X, Y = make_classification(
    n_samples=4000, n_features=20, n_informative=10, n_classes=3, random_state=0
)
X_TRAIN, X_TEST, Y_TRAIN, Y_TEST = train_test_split(X, Y, test_size=1000, random_state=0)
CHUNK = 100  # rows per dask chunk: 30 chunks of training data
SCALING_DOC = pathlib.Path(skreg.__file__).resolve().parents[1] / "doc" / "scaling.rst"


def _listening_addresses(pids):
    addresses = set()
    for pid in pids:
        for conn in psutil.Process(pid).net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN:
                addresses.add(conn.laddr.ip)
    return addresses


def _python_blocks(path):
    """The code of each ``.. code-block:: python`` directive of an rst page."""
    blocks = re.findall(
        r"^\.\. code-block:: python\n\n((?:   .*\n|\s*\n)+)", path.read_text(), flags=re.M
    )
    return ["\n".join(line[3:] for line in block.splitlines()) for block in blocks]


def test_scaling_page_code_runs(tmp_path, monkeypatch):
    """doc/scaling.rst's blocks, in order: a grid search on its own loopback
    LocalCluster, Incremental on a dask array, and skops.io.

    Runs first, before this module's cluster is started."""
    _warm_up()
    blocks = _python_blocks(SCALING_DOC)
    assert len(blocks) == 3
    assert "LocalCluster(" in blocks[0] and 'host="127.0.0.1"' in blocks[0]
    monkeypatch.chdir(tmp_path)  # the skops block writes model.skops
    namespace = {}
    printed = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(printed):
        warnings.simplefilter("ignore", ConvergenceWarning)
        for block in blocks:
            exec(compile(block, str(SCALING_DOC), "exec"), namespace)
    lines = printed.getvalue().splitlines()
    assert lines[0].startswith("{") and "'l1'" in lines[0], lines
    assert 0.8 < float(lines[1]) <= 1.0, lines
    # The model saved with skops and loaded with the documented trust list
    # is the one Incremental trained.
    loaded, trained = namespace["clf"], namespace["inc"].estimator_
    assert loaded is not trained
    assert_array_equal(
        loaded.predict_proba(namespace["X_test"]), trained.predict_proba(namespace["X_test"])
    )
    assert (tmp_path / "model.skops").exists()


@pytest.fixture(scope="module")
def client():
    # Compile (or load) the kernels the workers use once here, so that the
    # workers find them in the shared Numba cache.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _warm_up()

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    try:
        client = Client(cluster)
        try:
            client.wait_for_workers(2, timeout=120)
            worker_pids = set(client.run(os.getpid).values())
            # Import skreg and load the kernels in each worker before any
            # timing: a worker's first task would otherwise pay for them.
            client.run(_warm_up)
            yield client
        finally:
            client.close()
    finally:
        cluster.close()
    # The worker processes have exited.
    alive = [
        pid
        for pid in worker_pids
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]
    assert not alive, f"worker processes still running after close: {alive}"


def _warm_up():
    warm = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    warm.fit(X_TRAIN[:50], Y_TRAIN[:50]).partial_fit(X_TRAIN[:50], Y_TRAIN[:50])
    return warm.score(X_TEST[:50], Y_TEST[:50])


def test_cluster_listens_on_loopback_only(client):
    info = client.scheduler_info()
    assert client.scheduler.address.startswith("tcp://127.0.0.1:")
    workers = info["workers"]
    assert len(workers) == 2
    assert all(address.startswith("tcp://127.0.0.1:") for address in workers)
    assert all(w["nthreads"] == 1 for w in workers.values())
    worker_pids = set(client.run(os.getpid).values())
    assert len(worker_pids) == 2  # two processes, not threads of this one
    pids = {psutil.Process().pid} | {p.pid for p in psutil.Process().children(recursive=True)}
    assert worker_pids <= pids
    assert _listening_addresses(pids) == {"127.0.0.1"}


def test_grid_search_on_dask_equals_n_jobs_1(client, record_property):
    grid = {"l1": [0.0, 1e-2], "l2": [1e-4, 1e-1], "dropout": [0.0, 0.2]}
    est = MLPClassifier(
        hidden_layer_sizes=(64,), max_iter=30, learning_rate_init=0.01, random_state=0
    )
    X_grid, y_grid = X_TRAIN, Y_TRAIN

    start = time.perf_counter()
    serial = GridSearchCV(est, grid, cv=3, n_jobs=1).fit(X_grid, y_grid)
    serial_seconds = time.perf_counter() - start

    start = time.perf_counter()
    with get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        on_dask = GridSearchCV(est, grid, cv=3, n_jobs=-1).fit(X_grid, y_grid)
    dask_seconds = time.perf_counter() - start

    record_property("grid_seconds_n_jobs_1", round(serial_seconds, 2))
    record_property("grid_seconds_dask", round(dask_seconds, 2))
    print(
        f"\nGridSearchCV, 8 candidates x 3 folds: n_jobs=1 {serial_seconds:.2f} s, "
        f"dask (2 workers) {dask_seconds:.2f} s"
    )

    # The fits really ran on the cluster, on both workers.
    used = {task["worker"] for task in stream.data}
    assert used == set(client.scheduler_info()["workers"]), used

    assert on_dask.best_params_ == serial.best_params_
    assert on_dask.cv_results_["params"] == serial.cv_results_["params"]
    keys = [k for k in serial.cv_results_ if k.endswith("test_score")]
    assert "split2_test_score" in keys
    for key in keys:
        assert_array_equal(on_dask.cv_results_[key], serial.cv_results_[key], err_msg=key)
    assert on_dask.best_score_ == serial.best_score_
    assert_array_equal(on_dask.predict_proba(X_TEST), serial.predict_proba(X_TEST))


def _dask_training_data():
    dX = da.from_array(X_TRAIN, chunks=(CHUNK, X_TRAIN.shape[1]))
    dy = da.from_array(Y_TRAIN, chunks=CHUNK)
    assert dX.numblocks == (30, 1)
    return dX, dy


PARAMS = dict(hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0)


def test_incremental_without_shuffling_equals_in_memory_partial_fit(client):
    dX, dy = _dask_training_data()
    inc = Incremental(MLPClassifier(**PARAMS), shuffle_blocks=False)
    for _ in range(2):
        inc.partial_fit(dX, dy, classes=[0, 1, 2])
    ref = MLPClassifier(**PARAMS)
    for _ in range(2):
        for start in range(0, X_TRAIN.shape[0], CHUNK):
            rows = slice(start, start + CHUNK)
            ref.partial_fit(X_TRAIN[rows], Y_TRAIN[rows], classes=[0, 1, 2])
    fitted = inc.estimator_
    assert isinstance(fitted, MLPClassifier)
    assert fitted.t_ == ref.t_ == 2 * X_TRAIN.shape[0]
    for a, b in zip(fitted.coefs_ + fitted.intercepts_, ref.coefs_ + ref.intercepts_, strict=True):
        assert_array_equal(a, b)
    # Incremental predicts blockwise on dask arrays too.
    predicted = inc.predict(da.from_array(X_TEST, chunks=(250, X_TEST.shape[1]))).compute()
    assert_array_equal(predicted, ref.predict(X_TEST))


def test_incremental_scores_close_to_in_memory_fit(client, record_property):
    passes = 5
    dX, dy = _dask_training_data()
    inc = Incremental(MLPClassifier(**PARAMS), shuffle_blocks=True, random_state=0)
    for _ in range(passes):
        inc.partial_fit(dX, dy, classes=[0, 1, 2])
    # The same number of Adam steps in memory: 30 minibatches of 100 per epoch.
    in_memory = MLPClassifier(**PARAMS, batch_size=CHUNK, max_iter=passes).fit(X_TRAIN, Y_TRAIN)
    assert inc.estimator_.t_ == in_memory.t_ == passes * X_TRAIN.shape[0]

    incremental_score = inc.score(X_TEST, Y_TEST)
    in_memory_score = in_memory.score(X_TEST, Y_TEST)
    record_property("incremental_accuracy", incremental_score)
    record_property("in_memory_accuracy", in_memory_score)
    print(
        f"\nheld-out accuracy after {passes} passes: Incremental on 30 dask chunks "
        f"{incremental_score:.4f}, in-memory fit {in_memory_score:.4f}"
    )
    assert in_memory_score > 0.85
    assert abs(incremental_score - in_memory_score) <= 0.03
