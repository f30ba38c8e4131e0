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
``_DEVIATIONS`` and printed by the last test (run with ``-s`` to see it).
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn import neural_network as sk_nn
from sklearn.datasets import (
    load_digits,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning

import skreg

RTOL = 1e-6
ATOL = 1e-10

# (relative deviation over elements with |expected| >= 1e-6, absolute deviation, label)
_DEVIATIONS = []


# ---------------------------------------------------------------------------
# Data: small, so that scikit-learn's Python loop stays fast.
# ---------------------------------------------------------------------------


def _make_tasks():
    tasks = {}
    X, y = make_classification(
        n_samples=53, n_features=6, n_informative=4, n_redundant=0, random_state=0
    )
    tasks["binary"] = ("classifier", X, y)

    X, y = load_digits(n_class=4, return_X_y=True)
    tasks["multiclass"] = ("classifier", X[:61] / 16.0, y[:61])

    X, Y = make_multilabel_classification(
        n_samples=53, n_features=6, n_classes=3, random_state=0
    )
    tasks["multilabel"] = ("classifier", X / X.max(), Y)

    X, y = make_regression(n_samples=53, n_features=6, noise=0.5, random_state=0)
    tasks["regression"] = ("regressor", X, (y - y.mean()) / y.std())

    X, Y = make_regression(n_samples=53, n_features=5, n_targets=3, noise=0.5, random_state=1)
    tasks["multioutput"] = ("regressor", X, (Y - Y.mean(axis=0)) / Y.std(axis=0))
    return tasks


TASKS = _make_tasks()
TASK_NAMES = list(TASKS)

# Sanity of the data itself: the batch size used below does not divide any
# n_samples, and the targets really are of the intended kind.
assert all(TASKS[t][1].shape[0] % 16 != 0 for t in TASKS)
assert len(np.unique(TASKS["binary"][2])) == 2
assert len(np.unique(TASKS["multiclass"][2])) == 4
assert TASKS["multilabel"][2].shape[1] == 3


def _estimators(kind):
    if kind == "classifier":
        return skreg.MLPClassifier, sk_nn.MLPClassifier
    return skreg.MLPRegressor, sk_nn.MLPRegressor


# ---------------------------------------------------------------------------
# Comparison helpers
# ---------------------------------------------------------------------------


def _record(actual, desired, label):
    actual = np.asarray(actual, dtype=np.float64)
    desired = np.asarray(desired, dtype=np.float64)
    diff = np.abs(actual - desired)
    if diff.size == 0:
        return
    big = np.abs(desired) >= 1e-6
    rel = float(np.max(diff[big] / np.abs(desired[big]))) if np.any(big) else 0.0
    _DEVIATIONS.append((rel, float(np.max(diff)), label))


def _assert_close(actual, desired, label, rtol=RTOL, atol=ATOL, record=True):
    if desired is None:
        assert actual is None, f"{label}: expected None, got {actual!r}"
        return
    assert actual is not None, f"{label}: got None, expected {desired!r}"
    actual_arr = np.asarray(actual, dtype=np.float64)
    desired_arr = np.asarray(desired, dtype=np.float64)
    assert actual_arr.shape == desired_arr.shape, label
    np.testing.assert_allclose(actual_arr, desired_arr, rtol=rtol, atol=atol, err_msg=label)
    if record:
        _record(actual_arr, desired_arr, label)


def _fit(est, X, y, sample_weight=None):
    """Fit, returning the training warnings raised: ConvergenceWarning and the
    plain UserWarning about a clipped batch_size (not, say, deprecations that
    depend on library versions)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y, sample_weight=sample_weight)
    return sorted({w.category.__name__ for w in caught
                   if w.category in (ConvergenceWarning, UserWarning)})


def _fit_both(task, params, l2=1e-3, sample_weight=None, X=None):
    kind, X_task, y = TASKS[task]
    X = X_task if X is None else X
    Ours, Theirs = _estimators(kind)
    ours = Ours(l2=l2, **params)
    theirs = Theirs(alpha=l2, **params)
    ours_warnings = _fit(ours, X, y, sample_weight)
    theirs_warnings = _fit(theirs, X, y, sample_weight)
    assert ours_warnings == theirs_warnings, (ours_warnings, theirs_warnings)
    return ours, theirs, X


def _assert_parity(ours, theirs, X, label, rtol=RTOL, atol=ATOL, record=True):
    close = dict(rtol=rtol, atol=atol, record=record)
    assert ours.n_layers_ == theirs.n_layers_
    assert ours.n_outputs_ == theirs.n_outputs_
    assert ours.out_activation_ == theirs.out_activation_
    assert len(ours.coefs_) == len(theirs.coefs_)
    for i, (a, b) in enumerate(zip(ours.coefs_, theirs.coefs_)):
        assert a.shape == b.shape
        _assert_close(a, b, f"{label} coefs_[{i}]", **close)
    for i, (a, b) in enumerate(zip(ours.intercepts_, theirs.intercepts_)):
        assert a.shape == b.shape
        _assert_close(a, b, f"{label} intercepts_[{i}]", **close)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    _assert_close(ours.loss_, theirs.loss_, f"{label} loss_", **close)
    if theirs.solver != "lbfgs":
        assert len(ours.loss_curve_) == len(theirs.loss_curve_)
        if not theirs.warm_start:
            assert len(theirs.loss_curve_) == theirs.n_iter_
        _assert_close(ours.loss_curve_, theirs.loss_curve_, f"{label} loss_curve_", **close)
        _assert_close(ours.best_loss_, theirs.best_loss_, f"{label} best_loss_", **close)
        _assert_close(
            ours.validation_scores_,
            theirs.validation_scores_,
            f"{label} validation_scores_",
            **close,
        )
        _assert_close(
            ours.best_validation_score_,
            theirs.best_validation_score_,
            f"{label} best_validation_score_",
            **close,
        )
    if hasattr(theirs, "classes_"):
        assert_array_equal(ours.classes_, theirs.classes_)
        assert_array_equal(ours.predict(X), theirs.predict(X))
        _assert_close(
            ours.predict_proba(X), theirs.predict_proba(X), f"{label} predict_proba", **close
        )
    else:
        _assert_close(ours.predict(X), theirs.predict(X), f"{label} predict", **close)
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
    params = dict(
        BASE, solver=solver, batch_size=batch_size, max_iter=4, learning_rate_init=0.01
    )
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
    Ours, _ = _estimators(TASKS[task][0])
    unweighted = Ours(l2=1e-3, **params)
    _fit(unweighted, X, TASKS[task][2])
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
    Ours, _ = _estimators(kind)
    params = dict(BASE, solver=solver, learning_rate_init=0.02, early_stopping=solver != "lbfgs")
    a, b = Ours(**params), Ours(**params)
    _fit(a, X, y)
    _fit(b, X, y, sample_weight=np.ones(X.shape[0]))
    for ca, cb in zip(a.coefs_, b.coefs_):
        _assert_close(ca, cb, "unit weights", record=False)


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
    assert _fit(ours, X, y) == _fit(theirs, X, y)
    if early_stopping:
        # The second fit found a new best epoch.
        assert np.argmax(theirs.validation_scores_) >= 5
    _assert_parity(ours, theirs, X, f"{solver}-warm_start-es={early_stopping}-{task}")
    if solver != "lbfgs":
        assert len(ours.loss_curve_) == 9
        assert ours.t_ == theirs.t_ == 9 * (X.shape[0] - (11 if early_stopping else 0))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_warm_start_early_stopping_without_improvement_keeps_best(solver):
    """Documented deviation from scikit-learn 1.9.

    After an early-stopping fit scikit-learn's ``coefs_`` *is* its
    ``_best_coefs`` list; a warm-started refit then updates those arrays in
    place, so when the refit never beats the old best score it "restores"
    the last weights. skreg restores the weights that scored
    ``best_validation_score_``: those of the first fit.
    """
    kind, X, y = TASKS["multiclass"]
    params = dict(
        BASE,
        solver=solver,
        learning_rate_init=0.05 if solver == "sgd" else 0.02,
        warm_start=True,
        early_stopping=True,
        validation_fraction=0.2,
        max_iter=5,
    )
    Ours, _ = _estimators(kind)
    ours = Ours(**params)
    _fit(ours, X, y)
    first = [c.copy() for c in ours.coefs_ + ours.intercepts_]
    best = ours.best_validation_score_
    ours.set_params(max_iter=4)
    _fit(ours, X, y)
    assert len(ours.validation_scores_) == 9
    assert max(ours.validation_scores_[5:]) <= best == ours.best_validation_score_
    for a, b in zip(ours.coefs_ + ours.intercepts_, first):
        assert_array_equal(a, b)


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
        for a, b in zip(ours.coefs_, theirs.coefs_):
            _assert_close(a, b, "lbfgs float32 coefs_", rtol=1e-3, atol=1e-5, record=False)
        _assert_close(ours.loss_, theirs.loss_, "lbfgs float32 loss_", rtol=1e-4, record=False)
        assert ours.n_iter_ == theirs.n_iter_
        if TASKS[task][0] == "classifier":
            assert_array_equal(ours.predict(X32), theirs.predict(X32))
            _assert_close(ours.predict_proba(X32), theirs.predict_proba(X32), "p", rtol=1e-3,
                          atol=1e-5, record=False)
        else:
            _assert_close(ours.predict(X32), theirs.predict(X32), "p", rtol=1e-3, atol=1e-5,
                          record=False)
    else:
        assert all(c.dtype == np.float32 for c in theirs.coefs_ + theirs.intercepts_)
        _assert_parity(ours, theirs, X32, f"{solver}-float32-{task}", rtol=1e-4, atol=1e-6,
                       record=False)


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def test_zz_report_largest_deviation():
    """Print the largest deviation from scikit-learn over all float64 comparisons.

    Runs one comparison of its own so that it is meaningful when run alone.
    """
    ours, theirs, X = _fit_both("multiclass", dict(BASE, solver="adam", learning_rate_init=0.02))
    _assert_parity(ours, theirs, X, "report-adam-multiclass")
    rel, _, rel_label = max(_DEVIATIONS)
    absolute, abs_label = max((d[1], d[2]) for d in _DEVIATIONS)
    print(
        f"\n[skreg parity] {len(_DEVIATIONS)} float64 comparisons; largest relative "
        f"deviation {rel:.3e} ({rel_label}); largest absolute deviation "
        f"{absolute:.3e} ({abs_label})"
    )
    # Every comparison already passed rtol=1e-6 (plus atol=1e-10 for tiny values).
    assert absolute <= 1e-6
