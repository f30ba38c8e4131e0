"""Parity with scikit-learn's own MLP.

With ``l1=0`` and ``dropout=0`` skreg must train exactly the network that
scikit-learn trains with ``alpha=l2`` and the same integer ``random_state``:
same initial weights, same minibatches, same optimizer steps, same learning
rate schedule, same early-stopping split and bookkeeping. Only floating-point
summation order may differ, so float64 results are compared with
``rtol=1e-6`` (``atol=1e-10`` for weights that happen to be near zero).

float32 input: for sgd and adam both libraries keep float32 weights and agree
to ``rtol=1e-4`` (``atol=1e-6``). For lbfgs scikit-learn's weights come back
as float64 (its ``_unpack`` stores views of scipy's float64 iterate) while
skreg keeps the input dtype, so there the weights are compared with
``rtol=1e-3, atol=1e-5``, the predictions with ``rtol=1e-3``, and skreg's
dtype is checked to be float32.

The largest deviation seen by all float64 comparisons is collected in
``_DEVIATIONS`` (a ``_parity.DeviationLog``), which ``tests/conftest.py``
prints at the end of the session.
"""

import numpy as np
import pytest
from _parity import ATOL, RTOL, DeviationLog, call_both, estimators, make_tasks, training_warnings
from numpy.testing import assert_array_equal

_DEVIATIONS = DeviationLog("skreg parity")

pytestmark = pytest.mark.sklearn_mlp_newer_than_floor


# ---------------------------------------------------------------------------
# Data: small, so that scikit-learn's Python loop stays fast.
# ---------------------------------------------------------------------------


TASKS = make_tasks()
TASK_NAMES = list(TASKS)

# Sanity of the data itself: the batch size used below does not divide any
# n_samples, and the targets really are of the intended kind.
assert all(TASKS[t][1].shape[0] % 16 != 0 for t in TASKS)
assert len(np.unique(TASKS["binary"][2])) == 2
assert len(np.unique(TASKS["multiclass"][2])) == 4
assert TASKS["multilabel"][2].shape[1] == 3


# ---------------------------------------------------------------------------
# Comparison helpers (shared ones in _parity.py)
# ---------------------------------------------------------------------------


def _fit_both(task, params, l2=1e-3, sample_weight=None, X=None):
    kind, X_task, y = TASKS[task]
    X = X_task if X is None else X
    Ours, Theirs = estimators(kind)
    ours = Ours(l2=l2, **params)
    theirs = Theirs(alpha=l2, **params)
    call_both("fit", ours, theirs, X, y, sample_weight=sample_weight)
    return ours, theirs, X


def _assert_parity(ours, theirs, X, label, rtol=RTOL, atol=ATOL, record=True):
    _DEVIATIONS.assert_same_model(
        ours,
        theirs,
        X,
        label,
        rtol=rtol,
        atol=atol,
        record=record,
        attributes=("n_layers_", "n_outputs_", "out_activation_"),
        history=("loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_"),
    )
    if theirs.solver != "lbfgs" and not theirs.warm_start:
        assert len(theirs.loss_curve_) == theirs.n_iter_
    # At least one epoch (or L-BFGS iteration) ran.
    assert ours.n_iter_ >= 1


BASE = dict(hidden_layer_sizes=(7, 5), max_iter=8, random_state=3, batch_size=16)


# ---------------------------------------------------------------------------
# sgd: momentum variants and learning-rate schedules
# ---------------------------------------------------------------------------

MOMENTUM_VARIANTS = {
    "nesterov": dict(momentum=0.9, nesterovs_momentum=True),
    "classic": dict(momentum=0.9, nesterovs_momentum=False),
    "none": dict(momentum=0.0, nesterovs_momentum=True),
}


@pytest.mark.parametrize("task", TASK_NAMES)
@pytest.mark.parametrize("momentum", list(MOMENTUM_VARIANTS))
@pytest.mark.parametrize("learning_rate", ["constant", "invscaling"])
def test_sgd_parity(task, momentum, learning_rate):
    params = dict(
        BASE,
        solver="sgd",
        learning_rate=learning_rate,
        learning_rate_init=0.05,
        power_t=0.4,
        **MOMENTUM_VARIANTS[momentum],
    )
    ours, theirs, X = _fit_both(task, params)
    assert theirs.n_iter_ == params["max_iter"]
    _assert_parity(ours, theirs, X, f"sgd-{momentum}-{learning_rate}-{task}")


@pytest.mark.parametrize("task", TASK_NAMES)
@pytest.mark.parametrize("early_stopping", [False, True])
def test_sgd_adaptive_parity(task, early_stopping):
    # tol is so large that no epoch counts as an improvement: from the second
    # epoch on the no-improvement count grows by one per epoch, so every
    # second epoch (3, 5, ...) the learning rate is divided by 5, until it is
    # <= 1e-6: 0.05 / 5**7 = 6.4e-7 after seven divisions (epochs 3..15),
    # and the eighth trigger (epoch 17) stops training.
    params = dict(
        BASE,
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.05,
        tol=1e3,
        n_iter_no_change=1,
        max_iter=40,
        early_stopping=early_stopping,
        validation_fraction=0.2,
    )
    ours, theirs, X = _fit_both(task, params)
    assert theirs.n_iter_ == 17
    assert theirs._optimizer.learning_rate == pytest.approx(0.05 / 5**7)
    assert ours.n_iter_ == 17
    _assert_parity(ours, theirs, X, f"sgd-adaptive-es={early_stopping}-{task}")


# ---------------------------------------------------------------------------
# sgd and adam: early stopping, shuffling
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASK_NAMES)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("shuffle", [True, False])
def test_stochastic_parity(task, solver, early_stopping, shuffle):
    params = dict(
        BASE,
        solver=solver,
        learning_rate_init=0.05 if solver == "sgd" else 0.02,
        early_stopping=early_stopping,
        validation_fraction=0.2,
        shuffle=shuffle,
        max_iter=10,
        n_iter_no_change=3,
    )
    ours, theirs, X = _fit_both(task, params)
    if early_stopping:
        assert len(theirs.validation_scores_) == theirs.n_iter_
    _assert_parity(ours, theirs, X, f"{solver}-es={early_stopping}-shuffle={shuffle}-{task}")


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_early_stopping_stops_and_restores_best_weights(solver, task):
    """A run long enough for early stopping to trigger and restore old weights."""
    params = dict(
        BASE,
        solver=solver,
        learning_rate_init=0.1 if solver == "sgd" else 0.05,
        early_stopping=True,
        validation_fraction=0.25,
        max_iter=60,
        n_iter_no_change=2,
        tol=1e-3,
    )
    ours, theirs, X = _fit_both(task, params)
    # Stopped before max_iter, and the best epoch (the first to reach the best
    # score) was not the last one, so the weights come from an earlier epoch.
    assert theirs.n_iter_ < 60
    assert np.argmax(theirs.validation_scores_) < theirs.n_iter_ - 1
    _assert_parity(ours, theirs, X, f"{solver}-es-restore-{task}")


@pytest.mark.parametrize("task", TASK_NAMES)
def test_adam_tolerance_stop_parity(task):
    # Without early stopping: training-loss based stopping before max_iter.
    params = dict(
        BASE, solver="adam", learning_rate_init=0.02, tol=5e-2, n_iter_no_change=2, max_iter=50
    )
    ours, theirs, X = _fit_both(task, params)
    assert theirs.n_iter_ < 50
    _assert_parity(ours, theirs, X, f"adam-tol-stop-{task}")


# ---------------------------------------------------------------------------
# lbfgs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASK_NAMES)
@pytest.mark.parametrize("l2", [0.0, 1e-2])
def test_lbfgs_parity(task, l2):
    params = dict(BASE, solver="lbfgs", max_iter=10)
    ours, theirs, X = _fit_both(task, params, l2=l2)
    assert theirs.n_iter_ == 10
    assert ours.t_ == theirs.t_ == 0
    assert not hasattr(ours, "loss_curve_") and not hasattr(theirs, "loss_curve_")
    _assert_parity(ours, theirs, X, f"lbfgs-l2={l2}-{task}")


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_lbfgs_max_fun_parity(task):
    params = dict(BASE, solver="lbfgs", max_iter=50, max_fun=7)
    ours, theirs, X = _fit_both(task, params)
    assert theirs.n_iter_ < 50
    _assert_parity(ours, theirs, X, f"lbfgs-max_fun-{task}")


# ---------------------------------------------------------------------------
# Activations, architectures, batch sizes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("task", ["multiclass", "multioutput"])
def test_activation_parity(activation, solver, task):
    params = dict(
        BASE,
        solver=solver,
        activation=activation,
        learning_rate_init=0.05 if solver == "sgd" else 0.02,
    )
    ours, theirs, X = _fit_both(task, params)
    _assert_parity(ours, theirs, X, f"{solver}-{activation}-{task}")


@pytest.mark.parametrize("hidden_layer_sizes", [5, (), (6, 5, 4)])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("task", ["binary", "multioutput"])
def test_architecture_parity(hidden_layer_sizes, solver, task):
    params = dict(
        BASE, solver=solver, hidden_layer_sizes=hidden_layer_sizes, learning_rate_init=0.02
    )
    ours, theirs, X = _fit_both(task, params)
    _assert_parity(ours, theirs, X, f"{solver}-hidden={hidden_layer_sizes}-{task}")


@pytest.mark.parametrize("batch_size", [1, 7, "auto", 1000])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_batch_size_parity(batch_size, solver, task):
    params = dict(BASE, solver=solver, batch_size=batch_size, max_iter=4, learning_rate_init=0.01)
    ours, theirs, X = _fit_both(task, params)
    _assert_parity(ours, theirs, X, f"{solver}-batch={batch_size}-{task}")


# ---------------------------------------------------------------------------
# sample_weight
# ---------------------------------------------------------------------------


def _sample_weight(n):
    rng = np.random.RandomState(42)
    sw = rng.uniform(0.2, 3.0, size=n)
    sw[[3, 10, 27]] = 0.0  # a few zero weights, never a whole batch
    return sw


@pytest.mark.parametrize("task", TASK_NAMES)
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_sample_weight_parity(task, solver):
    X = TASKS[task][1]
    sw = _sample_weight(X.shape[0])
    params = dict(BASE, solver=solver, learning_rate_init=0.05 if solver == "sgd" else 0.02)
    ours, theirs, X = _fit_both(task, params, sample_weight=sw)
    _assert_parity(ours, theirs, X, f"{solver}-sample_weight-{task}")

    # The weights really matter: unweighted training gives another network.
    Ours, _ = estimators(TASKS[task][0])
    unweighted = Ours(l2=1e-3, **params)
    training_warnings(unweighted.fit, X, TASKS[task][2])
    assert not np.allclose(unweighted.coefs_[0], ours.coefs_[0])


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_sample_weight_early_stopping_parity(task, solver):
    X = TASKS[task][1]
    sw = _sample_weight(X.shape[0])
    params = dict(
        BASE,
        solver=solver,
        learning_rate_init=0.05 if solver == "sgd" else 0.02,
        early_stopping=True,
        validation_fraction=0.2,
        max_iter=10,
    )
    ours, theirs, X = _fit_both(task, params, sample_weight=sw)
    _assert_parity(ours, theirs, X, f"{solver}-sample_weight-es-{task}")


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_unit_sample_weight_equals_none(solver, task):
    kind, X, y = TASKS[task]
    Ours, _ = estimators(kind)
    params = dict(BASE, solver=solver, learning_rate_init=0.02, early_stopping=solver != "lbfgs")
    a, b = Ours(**params), Ours(**params)
    training_warnings(a.fit, X, y)
    training_warnings(b.fit, X, y, sample_weight=np.ones(X.shape[0]))
    for ca, cb in zip(a.coefs_, b.coefs_, strict=True):
        _DEVIATIONS.assert_close(ca, cb, "unit weights", record=False)


# ---------------------------------------------------------------------------
# Warm start
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "solver, early_stopping, task",
    [
        (solver, False, task)
        for solver in ["sgd", "adam", "lbfgs"]
        for task in ["multiclass", "multioutput"]
    ]
    # With early stopping, data on which the refit beats the first fit's best
    # validation score (see the next test for the other case).
    + [("sgd", True, "regression"), ("adam", True, "regression"), ("adam", True, "multioutput")],
)
def test_warm_start_parity(solver, early_stopping, task):
    params = dict(
        BASE,
        solver=solver,
        learning_rate_init=0.05 if solver == "sgd" else 0.02,
        warm_start=True,
        early_stopping=early_stopping,
        validation_fraction=0.2,
        max_iter=5,
    )
    ours, theirs, X = _fit_both(task, params)
    y = TASKS[task][2]
    ours.set_params(max_iter=4)
    theirs.set_params(max_iter=4)
    assert training_warnings(ours.fit, X, y) == training_warnings(theirs.fit, X, y)
    if early_stopping:
        # The second fit found a new best epoch.
        assert np.argmax(theirs.validation_scores_) >= 5
    _assert_parity(ours, theirs, X, f"{solver}-warm_start-es={early_stopping}-{task}")
    if solver != "lbfgs":
        assert len(ours.loss_curve_) == 9
        assert ours.t_ == theirs.t_ == 9 * (X.shape[0] - (11 if early_stopping else 0))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_warm_refit_never_returns_the_previous_fits_weights(solver):
    """Documented deviation from scikit-learn 1.9, whose warm-started refit
    carries early stopping's best score and patience over from the previous
    fit: a refit that never reaches the old best then ends with the old
    weights (or, in scikit-learn, with the last ones, since its ``coefs_``
    *are* its best-weight arrays), and one whose patience ran out stops
    after one epoch. skreg's warm refit starts early stopping afresh: here a
    much stronger penalty scores below the first fit's best in every epoch,
    and the refit keeps its own best epoch."""
    kind, X, y = TASKS["multiclass"]
    X_train, y_train, X_val, y_val = X[:45], y[:45], X[45:], y[45:]
    params = dict(
        BASE,
        solver=solver,
        learning_rate_init=0.05 if solver == "sgd" else 0.02,
        warm_start=True,
        early_stopping=True,
        n_iter_no_change=2,
        max_iter=30,
    )
    Ours, _ = estimators(kind)
    ours = Ours(**params)
    training_warnings(ours.fit, X_train, y_train, X_val=X_val, y_val=y_val)
    first_epochs = ours.n_iter_
    first_best = ours.best_validation_score_
    first = [c.copy() for c in ours.coefs_]
    ours.set_params(l2=30.0, max_iter=6)
    training_warnings(ours.fit, X_train, y_train, X_val=X_val, y_val=y_val)
    refit_scores = ours.validation_scores_[first_epochs:]
    assert len(refit_scores) == ours.n_iter_ >= 3  # the old patience did not stop it
    assert max(refit_scores) < first_best, "weak test: the refit reached the old best"
    assert ours.best_validation_score_ == max(refit_scores)
    assert ours.score(X_val, y_val) == max(refit_scores)
    assert not np.array_equal(ours.coefs_[0], first[0])


# ---------------------------------------------------------------------------
# float32
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("task", ["binary", "multiclass", "multioutput"])
def test_float32_parity(solver, task):
    X32 = TASKS[task][1].astype(np.float32)
    params = dict(BASE, solver=solver, learning_rate_init=0.05 if solver == "sgd" else 0.02)
    ours, theirs, X = _fit_both(task, params, X=X32)
    assert all(c.dtype == np.float32 for c in ours.coefs_ + ours.intercepts_)
    if TASKS[task][0] == "regressor":
        assert ours.predict(X32).dtype == np.float32
    else:
        assert ours.predict_proba(X32).dtype == np.float32
    if solver == "lbfgs":
        # scikit-learn returns float64 weights here (see the module docstring)
        # and its iterate is float64 while skreg's loss and gradient are
        # float32, so compare loosely (seen: 2.4e-4 relative, 4e-6 absolute).
        assert all(c.dtype == np.float64 for c in theirs.coefs_)
        for a, b in zip(ours.coefs_, theirs.coefs_, strict=True):
            _DEVIATIONS.assert_close(
                a, b, "lbfgs float32 coefs_", rtol=1e-3, atol=1e-5, record=False
            )
        _DEVIATIONS.assert_close(
            ours.loss_, theirs.loss_, "lbfgs float32 loss_", rtol=1e-4, record=False
        )
        assert ours.n_iter_ == theirs.n_iter_
        if TASKS[task][0] == "classifier":
            assert_array_equal(ours.predict(X32), theirs.predict(X32))
            _DEVIATIONS.assert_close(
                ours.predict_proba(X32),
                theirs.predict_proba(X32),
                "p",
                rtol=1e-3,
                atol=1e-5,
                record=False,
            )
        else:
            _DEVIATIONS.assert_close(
                ours.predict(X32), theirs.predict(X32), "p", rtol=1e-3, atol=1e-5, record=False
            )
    else:
        assert all(c.dtype == np.float32 for c in theirs.coefs_ + theirs.intercepts_)
        _assert_parity(
            ours, theirs, X32, f"{solver}-float32-{task}", rtol=1e-4, atol=1e-6, record=False
        )


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def test_multiclass_adam_at_a_higher_learning_rate_matches_sklearn():
    ours, theirs, X = _fit_both("multiclass", dict(BASE, solver="adam", learning_rate_init=0.02))
    _assert_parity(ours, theirs, X, "report-adam-multiclass")
