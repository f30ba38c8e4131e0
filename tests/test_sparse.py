"""Sparse input: formats, sparse == dense, parity with scikit-learn, kernels, memory.

skreg validates sparse X to CSR and reads minibatch rows in place: the first
layer's product and its weight gradient run in compiled sparse kernels
(``skreg._kernels.input_product`` / ``input_transpose_product``), so X is
never densified.

* Every scipy.sparse container (CSR, CSC, COO; ``*_matrix`` and ``*_array``)
  is accepted by fit, partial_fit, predict and predict_proba.
* A sparse fit equals the dense fit of the same data up to summation order
  (``rtol=1e-9``; float32: ``rtol=1e-4``), for sgd, adam, lbfgs, with early
  stopping and with sample weights.
* A sparse fit equals scikit-learn's fit on the same sparse data
  (``rtol=1e-6``, ``atol=1e-10``); the largest deviation is printed at the
  end of the session (tests/conftest.py).
* Memory: ``tracemalloc`` sees NumPy's allocations and, with this Numba, the
  allocations made inside compiled kernels too (Numba's runtime allocates
  through Python's raw allocator, which tracemalloc traces; checked by
  ``test_tracemalloc_sees_numpy_and_numba_allocations``). So the traced peak
  of a fit bounds what skreg, its kernels and NumPy allocate during the fit;
  allocations made by C code through plain ``malloc`` (none in skreg's sgd
  and adam paths) would not be counted.
"""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from _kernel_helpers import (
    OPTIMIZER_HYPERPARAMETERS,
    full_batch_loss_and_gradient,
    make_settings,
    make_targets,
)
from _parity import DeviationLog, estimators, fit_quietly
from numba import njit
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import neural_network as sk_nn
from sklearn.utils import get_tags

import skreg
from skreg import _kernels as k
from skreg._layout import NetworkLayout, kernel_input, read_only_view

DENSE_RTOL = 1e-9
DENSE_ATOL = 1e-12
_DEVIATIONS = DeviationLog("sparse parity")

CONTAINERS = [sp.csr_matrix, sp.csr_array, sp.csc_matrix, sp.csc_array, sp.coo_matrix, sp.coo_array]
CONTAINER_IDS = [c.__name__ for c in CONTAINERS]


# ---------------------------------------------------------------------------
# Data: sparse-ish, with an all-zero row and an all-zero column
# ---------------------------------------------------------------------------


def _make_data():
    rng = np.random.default_rng(0)
    n, d = 61, 12
    X = rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.3)
    X[5] = 0.0
    X[:, 7] = 0.0
    w = rng.normal(size=d)
    score = X @ w
    tasks = {
        "binary": ("classifier", X, (score > 0).astype(int)),
        "multiclass": ("classifier", X, np.digitize(score, np.quantile(score, [0.33, 0.66]))),
        "multilabel": (
            "classifier",
            X,
            np.column_stack([score > 0, X[:, 0] > 0, X[:, 1] < 0]).astype(int),
        ),
        "regression": ("regressor", X, score / score.std()),
        "multioutput": ("regressor", X, np.column_stack([score, X[:, 2] - X[:, 3]]) / score.std()),
    }
    return tasks


TASKS = _make_data()
TASK_NAMES = list(TASKS)
assert np.sum(TASKS["binary"][1] != 0) < 0.35 * TASKS["binary"][1].size


BASE = dict(hidden_layer_sizes=(7, 5), random_state=3, batch_size=16, max_iter=8)
SOLVER_PARAMS = {
    "sgd": dict(solver="sgd", learning_rate_init=0.05),
    "adam": dict(solver="adam", learning_rate_init=0.02),
    "lbfgs": dict(solver="lbfgs"),
}


def _assert_same_model(a, b, X_pred, label, **kwargs):
    """Weights, training history and predictions of two fitted models agree."""
    _DEVIATIONS.assert_same_model(a, b, X_pred, label, **kwargs)


# ---------------------------------------------------------------------------
# 1. Tags
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("Est", [skreg.MLPClassifier, skreg.MLPRegressor])
def test_tags_say_sparse_is_supported(Est):
    assert get_tags(Est()).input_tags.sparse is True
    assert get_tags(Est(solver="lbfgs")).input_tags.sparse is True


# ---------------------------------------------------------------------------
# 2. Every container, every method
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("container", CONTAINERS, ids=CONTAINER_IDS)
@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_every_container_fit_predict(task, container):
    kind, X, y = TASKS[task]
    Est, _ = estimators(kind)
    X_sparse = container(X)
    copy = X_sparse.copy()
    dense = fit_quietly(Est(**BASE, **SOLVER_PARAMS["adam"]), X, y)
    sparse = fit_quietly(Est(**BASE, **SOLVER_PARAMS["adam"]), X_sparse, y)
    _assert_same_model(
        sparse,
        dense,
        X,
        f"{container.__name__}-{task}",
        rtol=DENSE_RTOL,
        atol=DENSE_ATOL,
        record=False,
    )
    # Predicting on the sparse input equals predicting on the dense one, with
    # either model.
    if kind == "classifier":
        assert_array_equal(sparse.predict(X_sparse), dense.predict(X))
        assert_allclose(sparse.predict_proba(X_sparse), dense.predict_proba(X), rtol=1e-12)
        assert_allclose(dense.predict_proba(X_sparse), dense.predict_proba(X), rtol=1e-12)
        assert_allclose(
            sparse.predict_log_proba(X_sparse), np.log(dense.predict_proba(X)), rtol=1e-9
        )
    else:
        assert_allclose(sparse.predict(X_sparse), dense.predict(X), rtol=1e-12, atol=1e-14)
        assert_allclose(dense.predict(X_sparse), dense.predict(X), rtol=1e-12, atol=1e-14)
    assert sparse.score(X_sparse, y) == pytest.approx(dense.score(X, y), rel=1e-12)
    # The caller's matrix is untouched (not converted or sorted in place).
    assert type(X_sparse) is container
    assert (X_sparse != copy).nnz == 0


@pytest.mark.parametrize("container", CONTAINERS, ids=CONTAINER_IDS)
@pytest.mark.parametrize("task", ["binary", "multioutput"])
def test_every_container_partial_fit(task, container):
    kind, X, y = TASKS[task]
    Est, _ = estimators(kind)
    classes = {"classes": np.unique(y)} if kind == "classifier" else {}
    params = dict(BASE, **SOLVER_PARAMS["sgd"])
    dense, sparse = Est(**params), Est(**params)
    for call, rows in enumerate([slice(0, 25), slice(25, 61), slice(0, 61)]):
        kwargs = classes if call == 0 else {}
        dense.partial_fit(X[rows], y[rows], **kwargs)
        sparse.partial_fit(container(X[rows]), y[rows], **kwargs)
    _assert_same_model(
        sparse,
        dense,
        X,
        f"partial_fit-{container.__name__}-{task}",
        rtol=DENSE_RTOL,
        atol=DENSE_ATOL,
        record=False,
    )
    X_sparse = container(X)
    if kind == "classifier":
        assert_allclose(sparse.predict_proba(X_sparse), dense.predict_proba(X), rtol=1e-12)
    else:
        assert_allclose(sparse.predict(X_sparse), dense.predict(X), rtol=1e-12, atol=1e-14)


def test_mixed_sparse_and_dense_partial_fit_calls():
    kind, X, y = TASKS["regression"]
    params = dict(BASE, **SOLVER_PARAMS["adam"])
    dense, mixed = skreg.MLPRegressor(**params), skreg.MLPRegressor(**params)
    for call, rows in enumerate([slice(0, 25), slice(25, 61), slice(0, 61)]):
        dense.partial_fit(X[rows], y[rows])
        mixed.partial_fit(sp.csr_matrix(X[rows]) if call % 2 == 0 else X[rows], y[rows])
    _assert_same_model(mixed, dense, X, "mixed", rtol=DENSE_RTOL, atol=DENSE_ATOL, record=False)


def test_non_canonical_csr_and_coo_with_duplicates():
    """Unsorted column indices, explicit zeros and duplicate entries (which a
    sparse matrix sums) give the fit of the matrix they represent."""
    _, X, y = TASKS["regression"]
    rng = np.random.default_rng(1)
    rows, cols = np.nonzero(X)
    values = X[rows, cols]
    # Split every value in two duplicate entries, add explicit zeros, shuffle.
    part = rng.uniform(0.2, 0.8, size=values.shape)
    zeros_r = rng.integers(0, X.shape[0], 20)
    zeros_c = rng.integers(0, X.shape[1], 20)
    r = np.concatenate([rows, rows, zeros_r])
    c = np.concatenate([cols, cols, zeros_c])
    v = np.concatenate([values * part, values * (1 - part), np.zeros(20)])
    order = rng.permutation(len(v))
    coo = sp.coo_matrix((v[order], (r[order], c[order])), shape=X.shape)
    # A CSR built from raw arrays keeps the unsorted, duplicated entries.
    csr_order = np.lexsort((rng.random(len(v)), r))  # sorted by row only
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=X.shape[0]))])
    csr = sp.csr_matrix((v[csr_order], c[csr_order], indptr), shape=X.shape)
    assert not csr.has_canonical_format
    assert_allclose(csr.toarray(), X, rtol=1e-12, atol=1e-15)
    dense = fit_quietly(skreg.MLPRegressor(**BASE, **SOLVER_PARAMS["sgd"]), X, y)
    for X_sparse in (coo, csr):
        model = fit_quietly(skreg.MLPRegressor(**BASE, **SOLVER_PARAMS["sgd"]), X_sparse, y)
        _assert_same_model(
            model, dense, X, "non-canonical", rtol=DENSE_RTOL, atol=DENSE_ATOL, record=False
        )
        assert_allclose(dense.predict(X_sparse), dense.predict(X), rtol=1e-12, atol=1e-14)


def test_sparse_predict_in_several_chunks():
    """More rows than the prediction chunk (4096): chunked sparse prediction
    equals dense prediction, all-zero rows included."""
    rng = np.random.default_rng(2)
    X = sp.random(5000, 30, density=0.1, format="csr", random_state=rng)
    X = sp.vstack([X, sp.csr_matrix((3, 30))]).tocsr()
    model = fit_quietly(
        skreg.MLPClassifier(hidden_layer_sizes=(6,), max_iter=2, random_state=0),
        X[:300],
        (X[:300].sum(axis=1).A1 > 1.4).astype(int),
    )
    assert_allclose(model.predict_proba(X), model.predict_proba(X.toarray()), rtol=1e-12)
    assert_allclose(
        model.predict_proba(X[-3:])[0], model.predict_proba(np.zeros((1, 30)))[0], rtol=1e-12
    )


# ---------------------------------------------------------------------------
# 3. Sparse fit == dense fit
# ---------------------------------------------------------------------------

DENSE_CASES = [
    pytest.param(solver, es, sw, id=f"{solver}{'-es' if es else ''}{'-sw' if sw else ''}")
    for solver in ["sgd", "adam", "lbfgs"]
    for es in ([False, True] if solver != "lbfgs" else [False])
    for sw in [False, True]
]


def _sample_weight(n):
    rng = np.random.RandomState(42)
    sw = rng.uniform(0.2, 3.0, size=n)
    sw[[3, 10, 27]] = 0.0
    return sw


@pytest.mark.parametrize("solver, early_stopping, weighted", DENSE_CASES)
@pytest.mark.parametrize("task", TASK_NAMES)
def test_sparse_fit_equals_dense_fit(task, solver, early_stopping, weighted):
    kind, X, y = TASKS[task]
    Est, _ = estimators(kind)
    params = dict(
        BASE,
        **SOLVER_PARAMS[solver],
        early_stopping=early_stopping,
        validation_fraction=0.2,
        max_iter=12,
    )
    sw = _sample_weight(X.shape[0]) if weighted else None
    dense = fit_quietly(Est(**params), X, y, sample_weight=sw)
    sparse = fit_quietly(Est(**params), sp.csr_matrix(X), y, sample_weight=sw)
    _assert_same_model(
        sparse, dense, X, f"dense-{solver}-{task}", rtol=DENSE_RTOL, atol=DENSE_ATOL, record=False
    )


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("task", ["multiclass", "multioutput"])
def test_sparse_float32_fit_equals_dense_float32_fit(task, solver):
    kind, X, y = TASKS[task]
    Est, _ = estimators(kind)
    X32 = X.astype(np.float32)
    params = dict(BASE, **SOLVER_PARAMS[solver])
    dense = fit_quietly(Est(**params), X32, y)
    sparse = fit_quietly(Est(**params), sp.csr_matrix(X32), y)
    assert all(c.dtype == np.float32 for c in sparse.coefs_ + sparse.intercepts_)
    for a, b in zip(
        sparse.coefs_ + sparse.intercepts_, dense.coefs_ + dense.intercepts_, strict=True
    ):
        assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    out = (
        sparse.predict_proba(sp.csr_matrix(X32))
        if kind == "classifier"
        else sparse.predict(sp.csr_matrix(X32))
    )
    assert out.dtype == np.float32
    ref = dense.predict_proba(X32) if kind == "classifier" else dense.predict(X32)
    assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------
# 4. Sparse skreg == sparse scikit-learn
# ---------------------------------------------------------------------------


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize(
    "container", [sp.csr_matrix, sp.csc_array], ids=["csr_matrix", "csc_array"]
)
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("task", TASK_NAMES)
def test_sparse_parity_with_sklearn(task, solver, container):
    kind, X, y = TASKS[task]
    Ours, Theirs = estimators(kind)
    params = dict(BASE, **SOLVER_PARAMS[solver])
    X_sparse = container(X)
    ours = fit_quietly(Ours(l2=1e-3, **params), X_sparse, y)
    theirs = fit_quietly(Theirs(alpha=1e-3, **params), X_sparse, y)
    _assert_same_model(ours, theirs, X_sparse, f"sparse-parity-{solver}-{task}")


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_sparse_parity_with_sklearn_early_stopping_and_sample_weight(task, solver):
    kind, X, y = TASKS[task]
    Ours, Theirs = estimators(kind)
    params = dict(
        BASE, **SOLVER_PARAMS[solver], early_stopping=True, validation_fraction=0.2, max_iter=10
    )
    sw = _sample_weight(X.shape[0])
    X_sparse = sp.csr_array(X)
    ours = fit_quietly(Ours(l2=1e-3, **params), X_sparse, y, sample_weight=sw)
    theirs = fit_quietly(Theirs(alpha=1e-3, **params), X_sparse, y, sample_weight=sw)
    _assert_same_model(ours, theirs, X_sparse, f"sparse-parity-es-sw-{solver}-{task}")


@pytest.mark.parametrize("task", ["multilabel", "regression"])
def test_sparse_partial_fit_parity_with_sklearn(task):
    kind, X, y = TASKS[task]
    Ours, Theirs = estimators(kind)
    params = dict(BASE, **SOLVER_PARAMS["adam"])
    ours, theirs = Ours(l2=1e-3, **params), Theirs(alpha=1e-3, **params)
    for call, rows in enumerate([slice(0, 25), slice(25, 61), slice(10, 50)]):
        kwargs = {"classes": [0, 1, 2]} if kind == "classifier" and call == 0 else {}
        ours.partial_fit(sp.csr_matrix(X[rows]), y[rows], **kwargs)
        theirs.partial_fit(sp.csr_matrix(X[rows]), y[rows], **kwargs)
        _assert_same_model(ours, theirs, sp.csr_matrix(X), f"sparse-partial_fit-{task}-{call}")


# ---------------------------------------------------------------------------
# 5. Kernels: the CSR pair and the dense pair give the same results
# ---------------------------------------------------------------------------


def _kernel_csr(dtype=np.float64):
    """A CSR matrix with empty rows, unsorted indices and a duplicate entry."""
    rng = np.random.default_rng(10)
    n, d = 9, 6
    dense = rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.5)
    dense[[2, 6]] = 0.0  # empty rows
    csr = sp.csr_matrix(dense)
    # Reverse the entries of every row (unsorted indices) and split the first
    # stored value of row 0 in two duplicate entries.
    data, indices, indptr = [], [], [0]
    for i in range(n):
        lo, hi = csr.indptr[i], csr.indptr[i + 1]
        row_data = list(csr.data[lo:hi][::-1])
        row_idx = list(csr.indices[lo:hi][::-1])
        if i == 0 and row_data:
            half = row_data[0] / 2
            row_data = [half, *row_data[1:], half]
            row_idx = [row_idx[0], *row_idx[1:], row_idx[0]]
        data += row_data
        indices += row_idx
        indptr.append(len(data))
    X = sp.csr_matrix(
        (np.array(data, dtype=dtype), np.array(indices), np.array(indptr)), shape=(n, d)
    )
    assert not X.has_canonical_format
    assert_allclose(X.toarray(), dense.astype(dtype), rtol=1e-6)
    return X, X.toarray()


ROWS = np.array([4, 0, 2, 4, 8, 6, 1, 4], dtype=np.int64)  # out of order, repeated, empty rows
# No sparse values after input dropout: the products read the CSR data.
NO_DROPPED = {dtype: np.empty(0, dtype=dtype) for dtype in (np.float64, np.float32)}
DTYPES = [
    pytest.param(np.float64, 1e-12, id="float64"),
    pytest.param(np.float32, 1e-5, id="float32"),
]


@pytest.mark.parametrize("dtype, rtol", DTYPES)
def test_input_product_on_csr_minibatch(dtype, rtol):
    X, dense = _kernel_csr(dtype)
    rng = np.random.default_rng(11)
    coef = rng.normal(size=(X.shape[1], 4)).astype(dtype)
    no_dense, X_csr = kernel_input(X)
    assert no_dense.shape == (0, X.shape[1])
    out = np.full((len(ROWS), 4), np.nan, dtype=dtype)
    k.input_product(no_dense, X_csr, ROWS, NO_DROPPED[dtype], coef, out)
    assert_allclose(out, dense[ROWS] @ coef, rtol=rtol, atol=rtol)
    assert np.all(out[[2, 5]] == 0.0)  # the empty rows
    # The dense pair (rows gathered) gives the same.
    out_dense = np.full_like(out, np.nan)
    X_d, no_csr = kernel_input(np.ascontiguousarray(dense[ROWS]))
    k.input_product(X_d, no_csr, ROWS, NO_DROPPED[dtype], coef, out_dense)
    assert_allclose(out, out_dense, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype, rtol", DTYPES)
def test_input_transpose_product_on_csr_minibatch(dtype, rtol):
    X, dense = _kernel_csr(dtype)
    rng = np.random.default_rng(12)
    delta = rng.normal(size=(len(ROWS), 3)).astype(dtype)
    no_dense, X_csr = kernel_input(X)
    out = np.full((X.shape[1], 3), np.nan, dtype=dtype)
    k.input_transpose_product(no_dense, X_csr, ROWS, NO_DROPPED[dtype], delta, out)
    # Repeated rows count as often as they occur.
    assert_allclose(out, dense[ROWS].T @ delta, rtol=rtol, atol=rtol)
    out_dense = np.full_like(out, np.nan)
    X_d, no_csr = kernel_input(np.ascontiguousarray(dense[ROWS]))
    k.input_transpose_product(X_d, no_csr, ROWS, NO_DROPPED[dtype], delta, out_dense)
    assert_allclose(out, out_dense, rtol=rtol, atol=rtol)


def test_input_transpose_product_feature_without_entries_is_zero():
    X, dense = _kernel_csr()
    no_dense, X_csr = kernel_input(X)
    rows = np.array([2, 6], dtype=np.int64)  # only empty rows
    out = np.full((X.shape[1], 2), np.nan)
    k.input_transpose_product(no_dense, X_csr, rows, NO_DROPPED[np.float64], np.ones((2, 2)), out)
    assert_array_equal(out, 0.0)


KERNEL_LOSSES = [
    pytest.param("squared_error", 2, id="squared_error"),
    pytest.param("binary_log", 2, id="binary_log"),
    pytest.param("log", 3, id="log"),
    pytest.param("poisson", 1, id="poisson"),
]


def _kernel_problem(loss, n_outputs, dtype=np.float64):
    X, dense = _kernel_csr(dtype)
    rng = np.random.default_rng(13)
    layer_units = np.array([X.shape[1], 5, 4, n_outputs], dtype=np.int64)
    n_params = int(
        sum(a * b for a, b in zip(layer_units[:-1], layer_units[1:], strict=True))
        + layer_units[1:].sum()
    )
    params = rng.normal(0.0, 0.5, size=n_params).astype(dtype)
    n = X.shape[0]
    Y = make_targets(rng, loss, n, n_outputs)
    w = rng.uniform(0.2, 2.0, size=n)
    return X, dense, layer_units, params, Y.astype(dtype), w.astype(dtype)


@pytest.mark.parametrize("chunk_size", [1, 4, 100])
@pytest.mark.parametrize("loss, n_outputs", KERNEL_LOSSES)
def test_predict_output_csr_equals_dense(loss, n_outputs, chunk_size):
    X, dense, layer_units, params, _, _ = _kernel_problem(loss, n_outputs)
    settings = make_settings("tanh", loss, layer_units=layer_units)
    got = k.predict_output(*kernel_input(X), params, layer_units, settings, chunk_size)
    expected = k.predict_output(*kernel_input(dense), params, layer_units, settings, chunk_size)
    assert got.shape == (X.shape[0], n_outputs)
    assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("chunk_size", [4, 9])
@pytest.mark.parametrize("activation", ["relu", "logistic"])
@pytest.mark.parametrize("loss, n_outputs", KERNEL_LOSSES)
def test_loss_and_gradient_csr_equals_dense(loss, n_outputs, activation, chunk_size):
    # chunk_size 4 splits the 9 rows in chunks of 4, 4 and 1; 9 is one chunk.
    X, dense, layer_units, params, Y, w = _kernel_problem(loss, n_outputs)
    settings = make_settings(
        activation, loss, batch_size=chunk_size, l2=0.3, layer_units=layer_units
    )
    results = []
    # The work arrays the driver gives each: room to gather dense rows, none
    # for CSR rows.
    for X_in in (X, dense):
        grads = np.full_like(params, np.nan)
        loss_value = full_batch_loss_and_gradient(X_in, Y, w, params, grads, layer_units, settings)
        results.append((loss_value, grads))
    (loss_sparse, grad_sparse), (loss_dense, grad_dense) = results
    assert np.all(np.isfinite(loss_sparse))
    assert loss_sparse == pytest.approx(loss_dense, rel=1e-12)
    assert_allclose(grad_sparse, grad_dense, rtol=1e-10, atol=1e-13)
    # The gradient of the all-zero feature's first-layer weights is only the L2 term.
    n_hidden = layer_units[1]
    coef_grad = grad_sparse[: layer_units[0] * n_hidden].reshape(layer_units[0], n_hidden)
    empty_features = np.flatnonzero(np.all(dense == 0, axis=0))
    coef = params[: layer_units[0] * n_hidden].reshape(layer_units[0], n_hidden)
    for f in empty_features:
        assert_allclose(coef_grad[f], 0.3 * coef[f] / w.sum(), rtol=1e-12)


@pytest.mark.parametrize("dtype, rtol", DTYPES)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("loss, n_outputs", KERNEL_LOSSES)
def test_run_epoch_csr_equals_dense(loss, n_outputs, solver, dtype, rtol):
    X, dense, layer_units, params, Y, w = _kernel_problem(loss, n_outputs, dtype)
    batch_size = 4
    settings = make_settings(
        "relu",
        loss,
        solver,
        True,
        batch_size,
        l2=0.1,
        l1=0.05,
        proba_eps=np.finfo(dtype).eps,
        dropout=[0.3, 0.0],
        **OPTIMIZER_HYPERPARAMETERS,
    )
    order = np.random.default_rng(14).permutation(X.shape[0]).astype(np.int64)
    rng = np.random.default_rng(15)
    state0 = np.stack(
        [rng.normal(0, 0.05, params.shape[0]), rng.uniform(0.01, 0.1, params.shape[0])]
    ).astype(dtype)
    results = []
    for X_in, gathered in ((X, 0), (dense, X.shape[1])):
        p = params.copy()
        state = state0.copy()
        optimizer_steps = np.array([2], dtype=np.int64)
        rng_state = np.array([99], dtype=np.uint64)
        work = np.full(
            NetworkLayout(layer_units).workspace_size(batch_size, gathered), np.nan, dtype=dtype
        )
        loss_sum = k.run_epoch(
            *kernel_input(X_in),
            read_only_view(Y),
            read_only_view(w),
            order,
            p,
            np.empty_like(p),
            state,
            work,
            layer_units,
            settings,
            optimizer_steps,
            rng_state,
        )
        results.append((loss_sum, p, state, int(optimizer_steps[0]), int(rng_state[0])))
    (ls, ps, ss, ts, rs), (ld, pd, sd, td, rd) = results
    assert np.isfinite(ls)
    assert ls == pytest.approx(ld, rel=rtol)
    assert_allclose(ps, pd, rtol=rtol, atol=rtol * 1e-2)
    assert_allclose(ss, sd, rtol=rtol, atol=rtol * 1e-2)
    assert ts == td == 2 + 3  # one optimizer step per minibatch
    assert rs == rd != 99  # the same dropout draws, in the same order
    assert not np.allclose(ps, params)


# ---------------------------------------------------------------------------
# 6. Memory: a sparse fit never densifies X
# ---------------------------------------------------------------------------


@njit
def _numba_allocates(n):
    a = np.empty(n)
    a[:] = 1.0
    return a.sum()


def test_tracemalloc_sees_numpy_and_numba_allocations():
    """What the memory test can see: NumPy allocations are traced (through
    its tracemalloc domain), and so are the arrays that compiled Numba code
    allocates (NRT's allocator goes through Python's raw allocator)."""
    n = 2_000_000  # 16 MB
    _numba_allocates(10)  # compile outside the trace
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        a = np.empty(n)
        a[:] = 0.0
        _, numpy_peak = tracemalloc.get_traced_memory()
        del a
        tracemalloc.reset_peak()
        _numba_allocates(n)
        _, numba_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert numpy_peak >= 8 * n
    assert numba_peak >= 8 * n, (
        f"Numba's kernel allocations are not visible to tracemalloc (peak {numba_peak} B)"
    )


def _large_csr(n_samples, n_features, density, seed):
    """A CSR matrix of the given density, built without any dense step."""
    rng = np.random.default_rng(seed)
    per_row = int(round(n_features * density))
    indices = np.sort(rng.choice(n_features, size=(n_samples, per_row), replace=True), axis=1)
    indptr = np.arange(0, n_samples * per_row + 1, per_row, dtype=np.int64)
    data = rng.normal(size=n_samples * per_row)
    return sp.csr_matrix(
        (data, indices.ravel().astype(np.int32), indptr), shape=(n_samples, n_features)
    )


def _traced_peak(function, *args):
    """Peak bytes traced while ``function(*args)`` runs, counting only what
    it allocates (the trace starts empty)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        function(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_sparse_fit_memory_stays_far_below_dense_size(solver):
    n_samples, n_features, density, hidden = 20_000, 50_000, 0.0005, 16
    X = _large_csr(n_samples, n_features, density, seed=0)
    rng = np.random.default_rng(1)
    y = (X @ rng.normal(size=n_features) > 0).astype(int)
    dense_bytes = n_samples * n_features * 8  # 8 GB
    csr_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes  # 6 MB
    param_bytes = (n_features * hidden + hidden * 1 + hidden + 1) * 8  # 6.4 MB
    est = skreg.MLPClassifier(
        hidden_layer_sizes=(hidden,),
        solver=solver,
        max_iter=1,
        random_state=0,
        learning_rate_init=0.01,
    )
    fit_quietly(est, X[:50], y[:50])  # compile or load the kernels outside the trace
    est = skreg.MLPClassifier(**est.get_params())
    fit_peak = _traced_peak(fit_quietly, est, X, y)
    partial_fit_peak = _traced_peak(est.partial_fit, X, y)
    predict_peak = _traced_peak(est.predict_proba, X)
    proba = est.predict_proba(X)
    print(
        f"\n[sparse memory {solver}] X {n_samples}x{n_features} nnz={X.nnz}: dense "
        f"{dense_bytes / 1e9:.1f} GB, CSR {csr_bytes / 1e6:.1f} MB, parameters "
        f"{param_bytes / 1e6:.1f} MB; traced peak fit {fit_peak / 1e6:.1f} MB, partial_fit "
        f"{partial_fit_peak / 1e6:.1f} MB, predict {predict_peak / 1e6:.1f} MB"
    )
    assert proba.shape == (n_samples, 2)
    assert est.n_iter_ == 1 and est.t_ == 2 * n_samples
    for peak in (fit_peak, partial_fit_peak, predict_peak):
        assert peak < 0.05 * dense_bytes
        # Memory grows with the stored values and the parameters, not with
        # n_samples x n_features: a few copies of each at most.
        assert peak < 4 * csr_bytes + 8 * param_bytes


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def test_multiclass_adam_on_csr_matches_sklearn():
    kind, X, y = TASKS["multiclass"]
    ours = fit_quietly(
        skreg.MLPClassifier(l2=1e-3, **BASE, **SOLVER_PARAMS["adam"]), sp.csr_matrix(X), y
    )
    theirs = fit_quietly(
        sk_nn.MLPClassifier(alpha=1e-3, **BASE, **SOLVER_PARAMS["adam"]), sp.csr_matrix(X), y
    )
    _assert_same_model(ours, theirs, sp.csr_matrix(X), "report")
