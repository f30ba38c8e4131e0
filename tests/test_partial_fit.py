"""partial_fit and warm_start: availability, label checks, and parity with scikit-learn.

scikit-learn's semantics, which skreg follows:

* ``partial_fit`` exists for 'sgd' and 'adam' only (``hasattr`` is False for
  'lbfgs', on both estimators; scikit-learn 1.9's regressor wrongly reports
  True there because its ``available_if`` check never calls ``_check_solver``:
  skreg deliberately does not copy that).
* Each ``partial_fit`` call trains exactly one epoch on the given data, sets
  ``n_iter_ = 1``, never warns about ``max_iter`` and keeps the optimizer
  state (velocities or moments, Adam's step count, the scheduled learning
  rate), ``t_``, ``loss_curve_``, ``best_loss_`` and the no-improvement count.
* A warm-started ``fit`` continues from the current weights and history but
  restarts the optimizer.
* An integer ``random_state`` is re-seeded at every call, so each call draws
  the same shuffles (and, in skreg, the same dropout seed).

The parity tests compare skreg (``l2``) with scikit-learn (``alpha=l2``) after
*every* call of a sequence: ``coefs_``, ``intercepts_``, ``loss_``,
``loss_curve_``, ``best_loss_``, ``n_iter_``, ``t_``, the predictions and the
training warnings. float64, ``rtol=1e-6`` (``atol=1e-10``). The largest
deviation is printed at the end of the session (tests/conftest.py).
"""

import copy
import re
import warnings

import numpy as np
import pytest
from _parity import DeviationLog, call_both, estimators, make_tasks, training_warnings
from numpy.testing import assert_array_equal
from sklearn import neural_network as sk_nn
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

import skreg

_DEVIATIONS = DeviationLog("partial_fit parity")


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


TASKS = make_tasks()
TASK_NAMES = list(TASKS)


def _chunks(n):
    """Three contiguous chunks, none of a size that is a multiple of the batch size 8."""
    return [slice(0, 19), slice(19, 38), slice(38, n)]


# Every chunk of the classification tasks holds every class, so that the
# warm-started steps (which demand the same classes) can use them.
for _task in ("binary", "multiclass"):
    _, _X, _y = TASKS[_task]
    assert all(set(_y[c]) == set(_y) for c in _chunks(len(_y))), _task
assert all(TASKS[t][1].shape[0] % 8 != 0 and (TASKS[t][1].shape[0] - 38) % 8 != 0 for t in TASKS)


BASE = dict(hidden_layer_sizes=(7, 5), random_state=3, batch_size=8)

SCHEDULES = {
    "sgd-constant": dict(solver="sgd", learning_rate="constant", learning_rate_init=0.05),
    "sgd-classic-momentum": dict(
        solver="sgd", learning_rate="constant", learning_rate_init=0.05, nesterovs_momentum=False
    ),
    "sgd-invscaling": dict(
        solver="sgd", learning_rate="invscaling", learning_rate_init=0.05, power_t=0.4
    ),
    # tol so large that no call counts as an improvement: from the third call
    # on, every second call divides the learning rate by 5.
    "sgd-adaptive": dict(
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.05,
        tol=1e3,
        n_iter_no_change=1,
    ),
    "adam": dict(solver="adam", learning_rate_init=0.02),
    # Adam with a stopping criterion that fires at every call: partial_fit
    # must train anyway.
    "adam-stop-criterion": dict(
        solver="adam", learning_rate_init=0.02, tol=1e3, n_iter_no_change=1
    ),
}


# ---------------------------------------------------------------------------
# Comparison helpers
# ---------------------------------------------------------------------------


def _assert_parity(ours, theirs, X, label):
    _DEVIATIONS.assert_same_model(
        ours,
        theirs,
        X,
        label,
        attributes=("n_layers_", "n_outputs_", "out_activation_"),
        history=("loss_curve_", "best_loss_"),
    )


def _pair(task, l2=1e-3, **params):
    kind = TASKS[task][0]
    Ours, Theirs = estimators(kind)
    return Ours(l2=l2, **params), Theirs(alpha=l2, **params)


def _classes_kwargs(task, y, first):
    if TASKS[task][0] != "classifier" or not first:
        return {}
    # multi-label: scikit-learn still demands classes on the first call.
    return {"classes": np.arange(y.shape[1]) if y.ndim == 2 else np.unique(y)}


def _state(est):
    """A deep copy of everything a call may change."""
    return copy.deepcopy(
        {k: v for k, v in vars(est).items() if k.endswith("_") or k.startswith("_")}
    )


def _assert_same_state(before, est):
    after = _state(est)
    assert sorted(after) == sorted(before)
    for key in before:
        _assert_equal_values(before[key], after[key], key)


def _assert_equal_values(old, new, key):
    if isinstance(old, dict):
        assert sorted(old) == sorted(new), key
        for k in old:
            _assert_equal_values(old[k], new[k], f"{key}[{k!r}]")
    elif isinstance(old, (list, tuple)) and old and isinstance(old[0], np.ndarray):
        assert len(old) == len(new), key
        for a, b in zip(old, new, strict=True):
            assert a.dtype == b.dtype, key
            assert_array_equal(a, b, err_msg=key)
    elif isinstance(old, (np.ndarray, list, tuple)):
        assert_array_equal(
            np.asarray(new, dtype=object), np.asarray(old, dtype=object), err_msg=key
        )
    elif isinstance(old, float) and np.isnan(old):
        assert np.isnan(new), key
    elif hasattr(old, "__dict__") and not isinstance(old, type):
        assert type(new) is type(old), key
        assert sorted(vars(new)) == sorted(vars(old)), key
    else:
        assert new == old, key


# ---------------------------------------------------------------------------
# 1. Availability
# ---------------------------------------------------------------------------

SOLVERS = ["sgd", "adam", "lbfgs"]


def _assert_no_partial_fit(est):
    """The AttributeError of scikit-learn's available_if, caused by the
    solver check's own message (as in scikit-learn's MLPClassifier)."""
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
        getattr(est, "partial_fit")  # noqa: B009  (the attribute access is what is tested)
    assert str(info.value.__cause__) == (
        "partial_fit is only available for stochastic optimizers. lbfgs is not stochastic."
    )


@pytest.mark.parametrize("Est", [skreg.MLPClassifier, skreg.MLPRegressor])
@pytest.mark.parametrize("solver", SOLVERS)
def test_partial_fit_exists_for_stochastic_solvers_only(Est, solver):
    est = Est(solver=solver)
    assert hasattr(est, "partial_fit") is (solver != "lbfgs")
    if solver == "lbfgs":
        _assert_no_partial_fit(est)
    # The class attribute itself exists (as for scikit-learn).
    assert hasattr(Est, "partial_fit")


@pytest.mark.parametrize("solver", SOLVERS)
def test_classifier_availability_matches_sklearn(solver):
    assert hasattr(skreg.MLPClassifier(solver=solver), "partial_fit") == hasattr(
        sk_nn.MLPClassifier(solver=solver), "partial_fit"
    )


@pytest.mark.parametrize("Est", [skreg.MLPClassifier, skreg.MLPRegressor])
@pytest.mark.parametrize("start", SOLVERS)
def test_availability_follows_set_params(Est, start):
    est = Est(solver=start)
    for solver in ["lbfgs", "sgd", "lbfgs", "adam", "sgd", "lbfgs"]:
        est.set_params(solver=solver)
        assert hasattr(est, "partial_fit") is (solver != "lbfgs"), solver


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_availability_of_a_fitted_model_follows_set_params(task):
    kind, X, y = TASKS[task]
    Est, _ = estimators(kind)
    est = Est(solver="sgd", hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    training_warnings(est.fit, X, y)
    assert hasattr(est, "partial_fit")
    est.set_params(solver="lbfgs")
    assert not hasattr(est, "partial_fit")
    _assert_no_partial_fit(est)
    est.set_params(solver="adam")
    est.partial_fit(X, y)
    assert est.n_iter_ == 1


# ---------------------------------------------------------------------------
# 2. Classes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_classes_required_on_first_call(task):
    _, X, y = TASKS[task]
    message = "classes must be passed on the first call to partial_fit."
    for Est in (skreg.MLPClassifier, sk_nn.MLPClassifier):
        est = Est(solver="sgd", hidden_layer_sizes=(5,), random_state=0)
        with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
            est.partial_fit(X, y)
    # The failed call left skreg's estimator unfitted: the next call still
    # needs classes.
    ours = skreg.MLPClassifier(solver="sgd", hidden_layer_sizes=(5,), random_state=0)
    with pytest.raises(ValueError, match=re.escape(message)):
        ours.partial_fit(X, y)
    assert not hasattr(ours, "classes_") and not hasattr(ours, "coefs_")
    with pytest.raises(ValueError, match=re.escape(message)):
        ours.partial_fit(X, y)


def test_classes_not_needed_after_fit():
    _, X, y = TASKS["multiclass"]
    est = skreg.MLPClassifier(solver="adam", hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    training_warnings(est.fit, X, y)
    est.partial_fit(X[:20], y[:20])
    assert_array_equal(est.classes_, [0, 1, 2, 3])
    assert est.n_iter_ == 1


@pytest.mark.parametrize("later_classes", [[0, 1, 2], [0, 1, 2, 3, 4], [1, 2, 3, 4]])
def test_classes_mismatch_on_later_call(later_classes):
    _, X, y = TASKS["multiclass"]
    pattern = r"`classes=.*` is not the same as on last call to partial_fit, was: .*"
    for Est in (skreg.MLPClassifier, sk_nn.MLPClassifier):
        est = Est(solver="sgd", hidden_layer_sizes=(5,), random_state=0)
        est.partial_fit(X[:20], y[:20], classes=[0, 1, 2, 3])
        before = _state(est)
        with pytest.raises(ValueError, match=pattern):
            est.partial_fit(X[20:37], y[20:37], classes=later_classes)
        if Est is skreg.MLPClassifier:
            _assert_same_state(before, est)


def test_same_classes_in_another_order_are_accepted():
    _, X, y = TASKS["multiclass"]
    ours, theirs = _pair("multiclass", solver="sgd", **{**BASE, "hidden_layer_sizes": (5,)})
    for est in (ours, theirs):
        est.partial_fit(X[:20], y[:20], classes=[0, 1, 2, 3])
        est.partial_fit(X[20:37], y[20:37], classes=[3, 1, 0, 2])
        est.partial_fit(X[37:], y[37:], classes=np.array([2, 3, 1, 0]))
    _assert_parity(ours, theirs, X, "classes-reordered")


def test_unseen_label_on_later_call():
    _, X, y = TASKS["multiclass"]
    seen = y < 3
    message = (
        "`y` has classes not in `self.classes_`. `self.classes_` has [0 1 2]. 'y' has [0 1 3]."
    )
    for Est in (skreg.MLPClassifier, sk_nn.MLPClassifier):
        est = Est(solver="sgd", hidden_layer_sizes=(5,), random_state=0)
        est.partial_fit(X[seen], y[seen], classes=[0, 1, 2])
        before = _state(est) if Est is skreg.MLPClassifier else None
        y_new = np.array([0, 1, 3])
        with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
            est.partial_fit(X[:3], y_new)
        if before is not None:
            _assert_same_state(before, est)


def test_label_outside_classes_on_first_call():
    """A first call whose y holds a label missing from ``classes`` is an
    error in scikit-learn (the labels are checked against ``classes``)."""
    _, X, y = TASKS["multiclass"]
    rows = y < 3  # labels 0, 1, 2
    message = "`y` has classes not in `self.classes_`. `self.classes_` has [0 1]. 'y' has [0 1 2]."
    theirs = sk_nn.MLPClassifier(solver="sgd", hidden_layer_sizes=(5,), random_state=0)
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        theirs.partial_fit(X[rows], y[rows], classes=[0, 1])

    ours = skreg.MLPClassifier(solver="sgd", hidden_layer_sizes=(5,), random_state=0)
    try:
        ours.partial_fit(X[rows], y[rows], classes=[0, 1])
    except ValueError as error:
        assert str(error) == message
    else:
        proba = ours.predict_proba(X[rows])
        pytest.fail(
            "skreg accepted label 2 outside classes=[0, 1] on the first partial_fit call: "
            f"n_outputs_={ours.n_outputs_}, out_activation_={ours.out_activation_!r}, "
            f"predict_proba row sums {proba.sum(axis=1)[:3]} (expected the ValueError "
            f"{message!r})"
        )
    assert not hasattr(ours, "coefs_") and not hasattr(ours, "classes_")


def test_classes_beyond_the_first_chunk():
    """classes may name labels that only later chunks (or none) contain."""
    _, X, y = TASKS["multiclass"]
    first = np.flatnonzero(y != 3)[:20]
    rest = np.setdiff1d(np.arange(len(y)), first)
    ours, theirs = _pair("multiclass", solver="adam", learning_rate_init=0.02, **BASE)
    for est in (ours, theirs):
        est.partial_fit(X[first], y[first], classes=[0, 1, 2, 3, 4])
    _assert_parity(ours, theirs, X, "classes-beyond-first")
    assert ours.predict_proba(X).shape == (len(y), 5)
    for est in (ours, theirs):
        est.partial_fit(X[rest], y[rest])
    _assert_parity(ours, theirs, X, "classes-beyond-second")
    assert_array_equal(ours.classes_, [0, 1, 2, 3, 4])


@pytest.mark.parametrize("labels", ["str", "object", "bool"])
def test_non_integer_labels(labels):
    _, X, y = TASKS["binary"] if labels == "bool" else TASKS["multiclass"]
    if labels == "bool":
        y = y.astype(bool)
    else:
        y = np.array(["cat", "dog", "emu", "fox"])[y]
        if labels == "object":
            y = y.astype(object)
    classes = np.unique(y)
    ours, theirs = _pair(
        "binary" if labels == "bool" else "multiclass",
        solver="sgd",
        learning_rate_init=0.05,
        **BASE,
    )
    for c in _chunks(len(y)):
        kwargs = {} if hasattr(theirs, "classes_") else {"classes": classes}
        call_both("partial_fit", ours, theirs, X[c], y[c], **kwargs)
        _assert_parity(ours, theirs, X, f"labels-{labels}")
    assert ours.classes_.dtype == theirs.classes_.dtype
    assert ours.predict(X).dtype == theirs.predict(X).dtype


def test_multilabel_first_call():
    _, X, Y = TASKS["multilabel"]
    ours, theirs = _pair("multilabel", solver="adam", learning_rate_init=0.02, **BASE)
    call_both("partial_fit", ours, theirs, X[:20], Y[:20], classes=[0, 1, 2])
    assert_array_equal(ours.classes_, [0, 1, 2])
    assert ours.out_activation_ == "logistic"
    assert ours.predict(X).shape == Y.shape
    assert ours.predict_proba(X).shape == Y.shape
    _assert_parity(ours, theirs, X, "multilabel-first")
    call_both("partial_fit", ours, theirs, X[20:], Y[20:])
    _assert_parity(ours, theirs, X, "multilabel-second")


# ---------------------------------------------------------------------------
# 3. Early stopping, max_iter, warnings
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["binary", "multilabel", "regression"])
def test_partial_fit_is_not_offered_with_early_stopping(task):
    """scikit-learn offers partial_fit and then raises a ValueError; skreg's
    partial_fit is not there (hasattr is False): reaching for it raises an
    AttributeError caused by one with scikit-learn's message."""
    kind, X, y = TASKS[task]
    message = "partial_fit does not support early_stopping=True"
    kwargs = _classes_kwargs(task, y, first=True)
    Ours, Theirs = estimators(kind)
    params = dict(solver="adam", early_stopping=True, hidden_layer_sizes=(5,), random_state=0)
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        Theirs(**params).partial_fit(X, y, **kwargs)
    est = Ours(**params)
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
        est.partial_fit(X, y, **kwargs)
    assert str(info.value.__cause__) == message
    assert not hasattr(est, "coefs_") and not hasattr(est, "n_features_in_")
    assert hasattr(est.set_params(early_stopping=False), "partial_fit")


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_partial_fit_after_early_stopping_fit_raises(task):
    """scikit-learn's gh-25693: a clear error, and the fitted model is kept."""
    kind, X, y = TASKS[task]
    for Est in estimators(kind):
        est = Est(
            solver="sgd", early_stopping=True, hidden_layer_sizes=(5,), max_iter=5, random_state=0
        )
        training_warnings(est.fit, X, y)
        ours = Est.__module__.startswith("skreg")
        before = _state(est) if ours else None
        message = "partial_fit does not support early_stopping=True"
        if ours:
            with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
                est.partial_fit(X, y)
            assert str(info.value.__cause__) == message
        else:
            with pytest.raises(ValueError, match=message):
                est.partial_fit(X, y)
        if before is not None:
            _assert_same_state(before, est)


@pytest.mark.parametrize("task", ["binary", "regression"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_is_one_epoch_whatever_max_iter(task, solver):
    kind, X, y = TASKS[task]
    Est, _ = estimators(kind)
    est = Est(
        solver=solver,
        max_iter=1,
        tol=1e3,
        n_iter_no_change=1,
        hidden_layer_sizes=(5,),
        random_state=0,
    )
    kwargs = _classes_kwargs(task, y, first=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for call in range(6):
            previous = [c.copy() for c in est.coefs_] if call else None
            est.partial_fit(X, y, **(kwargs if call == 0 else {}))
            assert est.n_iter_ == 1
            assert len(est.loss_curve_) == call + 1
            assert est.t_ == (call + 1) * X.shape[0]
            if previous is not None:
                # The stopping criterion fires at every call (tol=1e3) and
                # must not stop partial_fit from training.
                assert not np.array_equal(previous[0], est.coefs_[0])


def test_fit_after_partial_fit_warns_at_max_iter_like_sklearn():
    _, X, y = TASKS["regression"]
    ours, theirs = _pair("regression", solver="sgd", learning_rate_init=0.05, max_iter=3, **BASE)
    assert call_both("partial_fit", ours, theirs, X, y) == []
    ours.set_params(warm_start=True)
    theirs.set_params(warm_start=True)
    assert call_both("fit", ours, theirs, X, y) == ["ConvergenceWarning"]
    _assert_parity(ours, theirs, X, "partial-then-fit-warning")
    assert ours.n_iter_ == 3 and len(ours.loss_curve_) == 4


# ---------------------------------------------------------------------------
# 4. Parity of partial_fit sequences
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("task", TASK_NAMES)
def test_partial_fit_sequence_parity(task, schedule):
    _, X, y = TASKS[task]
    params = dict(BASE, **SCHEDULES[schedule])
    ours, theirs = _pair(task, **params)
    calls = 0
    for _ in range(3):
        for c in _chunks(X.shape[0]):
            kwargs = _classes_kwargs(task, y, first=calls == 0)
            assert call_both("partial_fit", ours, theirs, X[c], y[c], **kwargs) == []
            calls += 1
            _assert_parity(ours, theirs, X, f"partial_fit-{schedule}-{task}-call{calls}")
            assert ours.n_iter_ == 1
            assert len(ours.loss_curve_) == calls
    assert ours.t_ == 3 * X.shape[0]
    # The schedule really was exercised.
    rate = theirs._optimizer.learning_rate
    if schedule == "sgd-adaptive":
        # Divided at calls 3, 5, 7 and 9.
        assert rate == pytest.approx(0.05 / 5**4)
    elif schedule == "sgd-invscaling":
        assert rate == pytest.approx(0.05 / (theirs.t_ + 1) ** 0.4)


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize("task", TASK_NAMES)
def test_partial_fit_with_sample_weight_parity(task):
    _, X, y = TASKS[task]
    rng = np.random.RandomState(7)
    sw = rng.uniform(0.2, 3.0, size=X.shape[0])
    sw[[2, 25, 40]] = 0.0
    ours, theirs = _pair(task, solver="sgd", learning_rate_init=0.05, **BASE)
    for call, c in enumerate(_chunks(X.shape[0]) * 2):
        kwargs = _classes_kwargs(task, y, first=call == 0)
        call_both("partial_fit", ours, theirs, X[c], y[c], sample_weight=sw[c], **kwargs)
        _assert_parity(ours, theirs, X, f"partial_fit-sample_weight-{task}-call{call}")


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_repeated_partial_fit_on_full_batch_equals_fit(task):
    """scikit-learn's test_partial_fit_regression: with one batch per epoch
    and no shuffling differences, n calls of partial_fit equal a fit of n
    epochs."""
    kind, X, y = TASKS[task]
    Est, _ = estimators(kind)
    params = dict(
        solver="sgd",
        hidden_layer_sizes=(7,),
        learning_rate_init=0.05,
        batch_size=X.shape[0],
        tol=0,
        random_state=1,
    )
    fitted = Est(max_iter=15, **params)
    training_warnings(fitted.fit, X, y)
    incremental = Est(**params)
    for call in range(15):
        incremental.partial_fit(X, y, **_classes_kwargs(task, y, first=call == 0))
    for a, b in zip(
        incremental.coefs_ + incremental.intercepts_,
        fitted.coefs_ + fitted.intercepts_,
        strict=True,
    ):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(incremental.loss_curve_, fitted.loss_curve_, rtol=1e-10)
    assert incremental.t_ == fitted.t_


# ---------------------------------------------------------------------------
# 5. fit -> partial_fit -> warm-started fit -> partial_fit
# ---------------------------------------------------------------------------

WARM_SCHEDULES = ["sgd-invscaling", "sgd-adaptive", "adam"]


@pytest.mark.parametrize("schedule", WARM_SCHEDULES)
@pytest.mark.parametrize("task", TASK_NAMES)
def test_fit_partial_fit_warm_start_sequence_parity(task, schedule):
    _, X, y = TASKS[task]
    chunks = _chunks(X.shape[0])
    ours, theirs = _pair(task, max_iter=4, **dict(BASE, **SCHEDULES[schedule]))
    n = X.shape[0]
    label = f"sequence-{schedule}-{task}"

    assert call_both("fit", ours, theirs, X, y) == ["ConvergenceWarning"]
    _assert_parity(ours, theirs, X, f"{label} fit")
    assert ours.n_iter_ == 4 and ours.t_ == 4 * n

    for step, c in enumerate(chunks[:2]):
        assert call_both("partial_fit", ours, theirs, X[c], y[c]) == []
        _assert_parity(ours, theirs, X, f"{label} partial_fit{step}")
        assert ours.n_iter_ == 1

    for est in (ours, theirs):
        est.set_params(warm_start=True, max_iter=3)
    assert call_both("fit", ours, theirs, X, y) == ["ConvergenceWarning"]
    _assert_parity(ours, theirs, X, f"{label} warm fit")
    assert ours.n_iter_ == 3

    for step, c in enumerate([chunks[2], chunks[0]]):
        assert call_both("partial_fit", ours, theirs, X[c], y[c]) == []
        _assert_parity(ours, theirs, X, f"{label} partial_fit after warm fit {step}")

    assert len(ours.loss_curve_) == 4 + 2 + 3 + 2
    assert ours.t_ == 4 * n + 19 + 19 + 3 * n + (n - 38) + 19
    if schedule == "adam":
        # The warm-started fit restarted Adam: its step count is that of 3
        # epochs of 7 batches of 8 (53 rows) or 8 batches (61 rows), plus the
        # two partial_fit calls (on n - 38 rows, then 19 rows: 3 batches).
        batches = -(-n // 8)
        assert theirs._optimizer.t == 3 * batches + -(-(n - 38) // 8) + 3
        assert ours._training_state["optimizer_steps"] == theirs._optimizer.t


@pytest.mark.parametrize("task", ["multiclass", "multioutput"])
def test_warm_start_fit_restarts_optimizer_but_partial_fit_keeps_it(task):
    """Behavioural check, without scikit-learn: the same two epochs, once as
    fit + partial_fit (Adam continues) and once as fit + warm-started fit of
    one epoch (Adam restarts), give different weights; two partial_fit calls
    after a fit equal a fit followed by two continued epochs."""
    kind, X, y = TASKS[task]
    Est, _ = estimators(kind)
    params = dict(BASE, solver="adam", learning_rate_init=0.02, max_iter=1, shuffle=False)
    continued = Est(**params)
    training_warnings(continued.fit, X, y)
    continued.partial_fit(X, y)
    restarted = Est(**params)
    training_warnings(restarted.fit, X, y)
    restarted.set_params(warm_start=True)
    training_warnings(restarted.fit, X, y)
    two_epochs = Est(**{**params, "max_iter": 2})
    training_warnings(two_epochs.fit, X, y)
    # Without shuffling, fit+partial_fit is exactly a 2-epoch fit.
    for a, b in zip(continued.coefs_, two_epochs.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert continued.loss_curve_ == pytest.approx(two_epochs.loss_curve_, rel=1e-12)
    assert not np.allclose(restarted.coefs_[0], continued.coefs_[0], rtol=1e-6, atol=0)
    assert restarted.loss_curve_[0] == continued.loss_curve_[0]
    assert restarted.t_ == continued.t_ == 2 * X.shape[0]


def test_warm_start_partial_fit_requires_all_classes():
    """With warm_start=True, scikit-learn checks partial_fit's y against
    classes_ for equality (not inclusion)."""
    _, X, y = TASKS["multiclass"]
    rows = y != 2
    message = (
        "warm_start can only be used where `y` has the same classes as in the previous call to fit"
    )
    for Est in (skreg.MLPClassifier, sk_nn.MLPClassifier):
        est = Est(
            solver="sgd", warm_start=True, hidden_layer_sizes=(5,), max_iter=2, random_state=0
        )
        training_warnings(est.fit, X, y)
        before = _state(est) if Est is skreg.MLPClassifier else None
        with pytest.raises(ValueError, match=re.escape(message)):
            est.partial_fit(X[rows], y[rows])
        if before is not None:
            _assert_same_state(before, est)
        est.partial_fit(X, y)  # every class: fine
        assert est.n_iter_ == 1


# ---------------------------------------------------------------------------
# 6. l1 and dropout in partial_fit
# ---------------------------------------------------------------------------

X_WIDE, Y_WIDE = make_regression(
    n_samples=80, n_features=12, n_informative=3, noise=0.1, random_state=5
)
Y_WIDE = (Y_WIDE - Y_WIDE.mean()) / Y_WIDE.std()


def _partial_fits(est, n_calls=12, classes=None):
    X, y = X_WIDE, Y_WIDE
    if classes is not None:
        y = (Y_WIDE > 0).astype(int)
    for call in range(n_calls):
        c = slice(0, 45) if call % 2 == 0 else slice(45, 80)
        est.partial_fit(
            X[c], y[c], **({"classes": classes} if call == 0 and classes is not None else {})
        )
    return est


@pytest.mark.parametrize("Est", [skreg.MLPRegressor, skreg.MLPClassifier])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_l1_in_partial_fit_gives_exact_zeros(Est, solver):
    classes = [0, 1] if Est is skreg.MLPClassifier else None
    params = dict(
        hidden_layer_sizes=(8,),
        solver=solver,
        random_state=0,
        batch_size=16,
        learning_rate_init=0.05 if solver == "sgd" else 0.02,
    )
    plain = _partial_fits(Est(l1=0.0, **params), classes=classes)
    sparse = _partial_fits(Est(l1=1.0, **params), classes=classes)
    again = _partial_fits(Est(l1=1.0, **params), classes=classes)
    n_zero_plain = sum(int(np.sum(c == 0.0)) for c in plain.coefs_)
    n_zero = sum(int(np.sum(c == 0.0)) for c in sparse.coefs_)
    assert n_zero_plain == 0
    assert n_zero >= 0.2 * sum(c.size for c in sparse.coefs_), n_zero
    # Intercepts are not penalised.
    assert all(np.all(b != 0.0) for b in sparse.intercepts_)
    # The penalty is part of the reported loss.
    assert sparse.loss_curve_[0] > plain.loss_curve_[0]
    for a, b in zip(sparse.coefs_, again.coefs_, strict=True):
        assert_array_equal(a, b)


@pytest.mark.parametrize("Est", [skreg.MLPRegressor, skreg.MLPClassifier])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_dropout_in_partial_fit_differs_and_is_reproducible(Est, solver):
    classes = [0, 1] if Est is skreg.MLPClassifier else None
    params = dict(
        hidden_layer_sizes=(16, 8),
        solver=solver,
        random_state=0,
        batch_size=16,
        learning_rate_init=0.05 if solver == "sgd" else 0.02,
    )
    plain = _partial_fits(Est(dropout=0.0, **params), n_calls=4, classes=classes)
    dropped = _partial_fits(Est(dropout=0.5, **params), n_calls=4, classes=classes)
    again = _partial_fits(Est(dropout=0.5, **params), n_calls=4, classes=classes)
    per_layer = _partial_fits(Est(dropout=(0.5, 0.0), **params), n_calls=4, classes=classes)
    for a, b in zip(
        dropped.coefs_ + dropped.intercepts_, again.coefs_ + again.intercepts_, strict=True
    ):
        assert_array_equal(a, b)
    assert dropped.loss_curve_ == again.loss_curve_
    assert not np.allclose(dropped.coefs_[0], plain.coefs_[0], rtol=1e-3, atol=0)
    assert not np.allclose(per_layer.coefs_[0], dropped.coefs_[0], rtol=1e-3, atol=0)
    # Prediction uses every unit: deterministic.
    assert_array_equal(dropped.predict(X_WIDE), dropped.predict(X_WIDE))


def test_dropout_partial_fit_with_random_state_instance_is_reproducible():
    params = dict(hidden_layer_sizes=(16,), solver="adam", dropout=0.3, batch_size=16)
    a = _partial_fits(
        skreg.MLPRegressor(random_state=np.random.RandomState(4), **params), n_calls=4
    )
    b = _partial_fits(
        skreg.MLPRegressor(random_state=np.random.RandomState(4), **params), n_calls=4
    )
    for x, z in zip(a.coefs_, b.coefs_, strict=True):
        assert_array_equal(x, z)


# ---------------------------------------------------------------------------
# 7. A diverging partial_fit leaves the model unchanged
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_diverging_partial_fit_leaves_regressor_unchanged(solver):
    _, X, y = TASKS["regression"]
    params = dict(BASE, solver=solver, learning_rate_init=0.05 if solver == "sgd" else 0.02)
    est = skreg.MLPRegressor(**params)
    reference = skreg.MLPRegressor(**params)
    for c in _chunks(X.shape[0])[:2]:
        est.partial_fit(X[c], y[c])
        reference.partial_fit(X[c], y[c])
    before = _state(est)
    predictions = est.predict(X)
    with pytest.raises(ValueError, match="Training diverged"):
        est.partial_fit(X, y * 1e200)
    _assert_same_state(before, est)
    assert_array_equal(est.predict(X), predictions)
    # Training goes on as if the failed call had not happened.
    c = _chunks(X.shape[0])[2]
    est.partial_fit(X[c], y[c])
    reference.partial_fit(X[c], y[c])
    for a, b in zip(
        est.coefs_ + est.intercepts_, reference.coefs_ + reference.intercepts_, strict=True
    ):
        assert_array_equal(a, b)
    assert est.loss_curve_ == reference.loss_curve_
    assert est.t_ == reference.t_


def test_diverging_partial_fit_leaves_classifier_unchanged():
    _, X, y = TASKS["multiclass"]
    est = skreg.MLPClassifier(**dict(BASE, solver="sgd", learning_rate_init=0.05))
    est.partial_fit(X, y, classes=[0, 1, 2, 3])
    before = _state(est)
    with pytest.raises(ValueError, match="Training diverged"):
        est.partial_fit(X * 1e154, y)
    _assert_same_state(before, est)


def test_diverging_first_partial_fit_leaves_estimator_unfitted():
    _, X, y = TASKS["multiclass"]
    est = skreg.MLPClassifier(**dict(BASE, solver="sgd", learning_rate_init=1e200))
    with pytest.raises(ValueError, match="Training diverged"):
        est.partial_fit(X * 1e3, y, classes=[0, 1, 2, 3])
    assert not hasattr(est, "coefs_") and not hasattr(est, "classes_")
    assert not hasattr(est, "n_features_in_")
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    # So the next call needs classes again, as for a new estimator.
    with pytest.raises(ValueError, match="classes must be passed"):
        est.partial_fit(X, y)


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def test_multiclass_adam_partial_fit_in_chunks_matches_sklearn():
    _, X, y = TASKS["multiclass"]
    ours, theirs = _pair("multiclass", **dict(BASE, **SCHEDULES["adam"]))
    for call, c in enumerate(_chunks(X.shape[0])):
        call_both(
            "partial_fit", ours, theirs, X[c], y[c], **_classes_kwargs("multiclass", y, call == 0)
        )
    _assert_parity(ours, theirs, X, "report")


def test_partial_fit_draws_new_dropout_masks_each_call():
    # With an integer random_state every call re-seeds the shuffle (as in
    # scikit-learn), but the dropout generator continues: two calls on the same
    # data with (almost) frozen weights see different masks, so their losses
    # differ; with re-seeded masks they would agree to ~1e-12.
    X, y = make_classification(n_samples=60, n_features=5, random_state=0)
    est = skreg.MLPClassifier(
        hidden_layer_sizes=(16,),
        dropout=0.5,
        learning_rate_init=1e-12,
        batch_size=60,
        random_state=0,
    )
    est.partial_fit(X, y, classes=[0, 1])  # also draws the initial weights
    est.partial_fit(X, y)
    est.partial_fit(X, y)
    _, second, third = est.loss_curve_
    assert abs(second - third) > 1e-6, (second, third)


@pytest.mark.parametrize(
    "Est, params",
    [
        (skreg.MLPClassifier, dict(activation="softsign")),
        (skreg.MLPRegressor, dict(l2=-1.0)),
        (skreg.MLPClassifier, dict(dropout=1.5)),
    ],
    ids=["activation", "l2", "dropout"],
)
def test_partial_fit_refuses_a_bad_hyperparameter_set_after_the_first_call(Est, params):
    """Found by tests/test_properties.py: scikit-learn's _fit_context skips
    validation for partial_fit on a fitted model, and an unknown activation
    then raised a KeyError."""
    _, X, y = TASKS["multiclass" if Est is skreg.MLPClassifier else "regression"]
    est = Est(**BASE)
    if Est is skreg.MLPClassifier:
        est.partial_fit(X, y, classes=np.unique(y))
    else:
        est.partial_fit(X, y)
    before = _state(est)
    est.set_params(**params)
    name = next(iter(params))
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of {Est.__name__}"):
        est.partial_fit(X, y)
    _assert_same_state(before, est)
