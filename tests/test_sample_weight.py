"""sample_weight with scikit-learn 1.9's semantics.

The objective of a minibatch (the whole data for lbfgs) is
``(sum_i s_i l_i + penalties) / sum_i s_i``. Hence:

* With a single minibatch per epoch (``batch_size >= n_samples``: 'auto'
  with at most 200 rows) and with lbfgs, a zero weight is the same as dropping
  the sample and an integer weight the same as repeating it, up to summation
  order. Only ``t_`` differs: it counts rows seen, zero-weight rows included.
* With several minibatches per epoch (sgd, adam) this cannot hold in general:
  a sample of weight 2 sits in one minibatch while its two copies may sit in
  two, the number of optimizer steps per epoch depends on the number of rows,
  and the shuffles draw permutations of different lengths. The last test of
  section 1 shows the difference.
* Early stopping scores the held-out rows with their weights (weighted
  accuracy or weighted R^2).
* Parity with scikit-learn (``alpha=l2``, same ``random_state``) for weighted
  fits: ``rtol=1e-6``, ``atol=1e-10``; the largest deviation is printed at the
  end of the session (tests/conftest.py).
"""

import warnings

import numpy as np
import pytest
from _parity import DeviationLog, estimators, fit_quietly
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import neural_network as sk_nn
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
    check_sample_weight_equivalence_on_sparse_data,
)

import skreg

EQUIV_RTOL = 1e-8  # weighted vs dropped/repeated: summation order only
EQUIV_ATOL = 1e-9  # (L-BFGS line searches amplify it to ~1e-10 on weights near 0)
_DEVIATIONS = DeviationLog("sample_weight parity")


def _make_tasks():
    tasks = {}
    X, y = make_classification(
        n_samples=47, n_features=5, n_informative=3, n_redundant=0, random_state=1
    )
    tasks["binary"] = ("classifier", X, y)
    X, y = make_classification(
        n_samples=47, n_features=5, n_informative=4, n_redundant=0, n_classes=3, random_state=2
    )
    tasks["multiclass"] = ("classifier", X, y)
    X, Y = make_multilabel_classification(n_samples=47, n_features=5, n_classes=3, random_state=3)
    tasks["multilabel"] = ("classifier", X / X.max(), Y)
    X, y = make_regression(n_samples=47, n_features=5, noise=0.5, random_state=4)
    tasks["regression"] = ("regressor", X, (y - y.mean()) / y.std())
    X, Y = make_regression(n_samples=47, n_features=5, n_targets=2, noise=0.5, random_state=5)
    tasks["multioutput"] = ("regressor", X, (Y - Y.mean(axis=0)) / Y.std(axis=0))
    rng = np.random.RandomState(6)
    X = rng.uniform(-1, 1, size=(47, 5))
    tasks["poisson"] = ("poisson", X, rng.poisson(np.exp(0.5 + X @ [0.5, -0.3, 0.2, 0.0, 0.1])))
    return tasks


TASKS = _make_tasks()
TASK_NAMES = list(TASKS)


def _extra(kind):
    return {"loss": "poisson"} if kind == "poisson" else {}


SOLVER_PARAMS = {
    "sgd": dict(solver="sgd", learning_rate_init=0.05),
    "adam": dict(solver="adam", learning_rate_init=0.02),
    "lbfgs": dict(solver="lbfgs"),
}
BASE = dict(hidden_layer_sizes=(6, 4), random_state=3, max_iter=10)


def _float_weights(n, seed=42):
    rng = np.random.RandomState(seed)
    sw = rng.uniform(0.2, 3.0, size=n)
    sw[[3, 10, 27]] = 0.0
    return sw


def _int_weights(n, seed=43):
    rng = np.random.RandomState(seed)
    sw = rng.randint(0, 4, size=n)
    sw[:3] = [0, 3, 2]
    return sw


def _assert_same_model(a, b, X, label, **kwargs):
    _DEVIATIONS.assert_same_model(
        a,
        b,
        X,
        label,
        check_classes=False,
        history=("loss_curve_", "validation_scores_", "best_validation_score_"),
        **kwargs,
    )


# ---------------------------------------------------------------------------
# 1. Zero weights drop samples, integer weights repeat them (full batch)
# ---------------------------------------------------------------------------

FULL_BATCH_SOLVERS = ["sgd", "adam", "lbfgs"]


@pytest.mark.parametrize("solver", FULL_BATCH_SOLVERS)
@pytest.mark.parametrize("task", TASK_NAMES)
def test_zero_weights_equal_dropping_samples(task, solver):
    kind, X, y = TASKS[task]
    Est, _ = estimators(kind)
    rng = np.random.RandomState(0)
    sw = (rng.uniform(size=X.shape[0]) > 0.3).astype(float)
    keep = sw > 0
    params = dict(BASE, **SOLVER_PARAMS[solver], **_extra(kind))
    weighted = fit_quietly(Est(**params), X, y, sample_weight=sw)
    dropped = fit_quietly(Est(**params), X[keep], y[keep])
    _assert_same_model(
        weighted,
        dropped,
        X,
        f"zero-weights-{solver}-{task}",
        rtol=EQUIV_RTOL,
        atol=EQUIV_ATOL,
        record=False,
        check_t=False,
    )
    if solver != "lbfgs":
        # t_ counts every row seen, zero-weight ones included.
        assert weighted.t_ == weighted.n_iter_ * X.shape[0]
        assert dropped.t_ == dropped.n_iter_ * keep.sum()
    # The weights matter: an unweighted fit on all rows is another model.
    unweighted = fit_quietly(Est(**params), X, y)
    assert not np.allclose(unweighted.coefs_[0], weighted.coefs_[0], rtol=1e-4, atol=0)


@pytest.mark.parametrize("solver", FULL_BATCH_SOLVERS)
@pytest.mark.parametrize("task", TASK_NAMES)
def test_integer_weights_equal_repeating_samples(task, solver):
    kind, X, y = TASKS[task]
    Est, _ = estimators(kind)
    sw = _int_weights(X.shape[0])
    assert sw.sum() <= 200  # one minibatch ('auto') for the repeated data too
    params = dict(BASE, **SOLVER_PARAMS[solver], **_extra(kind))
    weighted = fit_quietly(Est(**params), X, y, sample_weight=sw)
    repeated = fit_quietly(Est(**params), np.repeat(X, sw, axis=0), np.repeat(y, sw, axis=0))
    _assert_same_model(
        weighted,
        repeated,
        X,
        f"int-weights-{solver}-{task}",
        rtol=EQUIV_RTOL,
        atol=EQUIV_ATOL,
        record=False,
        check_t=False,
    )
    # Float weights 2.0 are integers too.
    as_float = fit_quietly(Est(**params), X, y, sample_weight=sw.astype(float))
    for a, b in zip(as_float.coefs_, weighted.coefs_, strict=True):
        assert_array_equal(a, b)


@pytest.mark.parametrize("solver", FULL_BATCH_SOLVERS)
@pytest.mark.parametrize(
    "make_estimator",
    [
        pytest.param(lambda **kw: skreg.MLPClassifier(**kw), id="classifier"),
        pytest.param(lambda **kw: skreg.MLPRegressor(**kw), id="regressor"),
        pytest.param(lambda **kw: skreg.MLPRegressor(loss="poisson", **kw), id="poisson"),
    ],
)
@pytest.mark.parametrize(
    "check",
    [check_sample_weight_equivalence_on_dense_data, check_sample_weight_equivalence_on_sparse_data],
    ids=["dense", "sparse"],
)
def test_sklearn_sample_weight_equivalence_checks(check, make_estimator, solver):
    """scikit-learn's own checks (15 samples, integer weights 0-4, so one
    minibatch) for each solver, not only the default one that
    check_estimator uses."""
    est = make_estimator(
        solver=solver, hidden_layer_sizes=(5,), max_iter=50, learning_rate_init=0.01
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(type(est).__name__, est)


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_several_minibatches_are_not_equivalent_to_repetition(solver):
    """Why the equivalence above needs full batches: with minibatches of 8,
    weighting and repeating train different sequences of steps."""
    kind, X, y = TASKS["regression"]
    sw = _int_weights(X.shape[0])
    params = dict(BASE, **SOLVER_PARAMS[solver], batch_size=8)
    weighted = fit_quietly(skreg.MLPRegressor(**params), X, y, sample_weight=sw)
    repeated = fit_quietly(skreg.MLPRegressor(**params), np.repeat(X, sw, axis=0), np.repeat(y, sw))
    assert not np.allclose(weighted.coefs_[0], repeated.coefs_[0], rtol=1e-3, atol=0)
    # ...while scikit-learn trains the weighted one exactly as skreg does.
    theirs = fit_quietly(sk_nn.MLPRegressor(alpha=1e-4, **params), X, y, sample_weight=sw)
    _assert_same_model(weighted, theirs, X, f"minibatch-int-weights-{solver}")


@pytest.mark.sklearn_mlp_newer_than_floor
def test_minibatch_of_zero_weights_is_skipped():
    """Documented deviation: a minibatch whose weights are all zero carries
    no information and takes no step (scikit-learn 1.9 raises
    ZeroDivisionError from its loss there). Without shuffling and with the
    zero rows forming the first minibatch exactly, the weights equal those of
    a fit without those rows, and so does the epoch loss: the mean over the
    rows that trained."""
    _, X, y = TASKS["regression"]
    sw = np.ones(X.shape[0])
    sw[:5] = 0.0
    params = dict(BASE, solver="sgd", learning_rate_init=0.05, batch_size=5, shuffle=False)
    weighted = fit_quietly(skreg.MLPRegressor(**params), X, y, sample_weight=sw)
    dropped = fit_quietly(skreg.MLPRegressor(**params), X[5:], y[5:])
    for a, b in zip(
        weighted.coefs_ + weighted.intercepts_, dropped.coefs_ + dropped.intercepts_, strict=True
    ):
        assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert_allclose(weighted.loss_curve_, dropped.loss_curve_, rtol=1e-12)
    assert weighted.loss_ == pytest.approx(dropped.loss_, rel=1e-12)
    with pytest.raises(ZeroDivisionError):
        fit_quietly(sk_nn.MLPRegressor(**params), X, y, sample_weight=sw)


# ---------------------------------------------------------------------------
# 2. Early stopping: the validation score is weighted
# ---------------------------------------------------------------------------


def _validation_rows(est, X, Y_stratify):
    """The held-out rows of an early-stopping fit, drawn as scikit-learn
    draws them: the initial weights first, then train_test_split."""
    rs = np.random.RandomState(est.random_state)
    units = [X.shape[1], *est.hidden_layer_sizes, est.n_outputs_]
    for fan_in, fan_out in zip(units[:-1], units[1:], strict=True):
        rs.uniform(size=(fan_in, fan_out))
        rs.uniform(size=fan_out)
    _, val = train_test_split(
        np.arange(X.shape[0]),
        random_state=rs,
        test_size=est.validation_fraction,
        stratify=Y_stratify,
    )
    return val


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize(
    "task", ["binary", "multiclass", "multilabel", "regression", "multioutput", "poisson"]
)
def test_validation_score_is_the_weighted_metric(task, solver):
    kind, X, y = TASKS[task]
    Est, _ = estimators(kind)
    rng = np.random.RandomState(8)
    sw = np.where(rng.uniform(size=X.shape[0]) < 0.5, 0.2, 5.0)
    # One epoch, so that the kept (best) weights are the scored ones.
    params = dict(BASE, **SOLVER_PARAMS[solver], **_extra(kind))
    params.update(early_stopping=True, validation_fraction=0.3, max_iter=1)
    est = fit_quietly(Est(**params), X, y, sample_weight=sw)
    stratify = y if task == "binary" else None
    val = _validation_rows(est, X, stratify)
    metric = accuracy_score if kind == "classifier" else r2_score
    expected = metric(y[val], est.predict(X[val]), sample_weight=sw[val])
    unweighted = metric(y[val], est.predict(X[val]))
    assert len(est.validation_scores_) == 1
    assert est.validation_scores_[0] == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert est.best_validation_score_ == est.validation_scores_[0]
    assert abs(expected - unweighted) > 1e-3, "weights chosen so that they change the score"
    # t_ counts the training rows only.
    assert est.t_ == X.shape[0] - len(val)


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("task", TASK_NAMES)
def test_early_stopping_with_sample_weight_parity(task, solver):
    kind, X, y = TASKS[task]
    Ours, Theirs = estimators(kind)
    sw = _float_weights(X.shape[0])
    params = dict(
        BASE,
        **SOLVER_PARAMS[solver],
        **_extra(kind),
        batch_size=8,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=2,
        max_iter=25,
    )
    ours = fit_quietly(Ours(l2=1e-3, **params), X, y, sample_weight=sw)
    theirs = fit_quietly(Theirs(alpha=1e-3, **params), X, y, sample_weight=sw)
    assert len(theirs.validation_scores_) == theirs.n_iter_
    _assert_same_model(ours, theirs, X, f"es-weighted-{solver}-{task}")


# ---------------------------------------------------------------------------
# 3. Parity with scikit-learn for weighted fits
# ---------------------------------------------------------------------------


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize("weights", ["float", "int"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("task", TASK_NAMES)
def test_weighted_fit_parity(task, solver, weights):
    kind, X, y = TASKS[task]
    Ours, Theirs = estimators(kind)
    sw = _float_weights(X.shape[0]) if weights == "float" else _int_weights(X.shape[0])
    params = dict(BASE, **SOLVER_PARAMS[solver], **_extra(kind), batch_size=10)
    ours = fit_quietly(Ours(l2=1e-3, **params), X, y, sample_weight=sw)
    theirs = fit_quietly(Theirs(alpha=1e-3, **params), X, y, sample_weight=sw)
    _assert_same_model(ours, theirs, X, f"weighted-{weights}-{solver}-{task}")


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("task", ["multiclass", "multioutput"])
def test_weighted_warm_start_parity(task, solver):
    kind, X, y = TASKS[task]
    Ours, Theirs = estimators(kind)
    sw = _float_weights(X.shape[0])
    params = dict(BASE, **SOLVER_PARAMS[solver], batch_size=10, warm_start=True, max_iter=4)
    ours, theirs = Ours(l2=1e-3, **params), Theirs(alpha=1e-3, **params)
    for est in (ours, theirs):
        fit_quietly(est, X, y, sample_weight=sw)
        fit_quietly(est, X, y, sample_weight=sw[::-1].copy())
    _assert_same_model(ours, theirs, X, f"weighted-warm-{solver}-{task}")


# ---------------------------------------------------------------------------
# 4. None, ones and scaling
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "solver, early_stopping",
    [("sgd", False), ("sgd", True), ("adam", False), ("adam", True), ("lbfgs", False)],
)
@pytest.mark.parametrize("task", ["binary", "multilabel", "multioutput", "poisson"])
def test_none_equals_all_ones(task, solver, early_stopping):
    kind, X, y = TASKS[task]
    Est, _ = estimators(kind)
    params = dict(
        BASE,
        **SOLVER_PARAMS[solver],
        **_extra(kind),
        batch_size=10,
        early_stopping=early_stopping,
        validation_fraction=0.2,
    )
    unweighted = fit_quietly(Est(**params), X, y)
    ones = fit_quietly(Est(**params), X, y, sample_weight=np.ones(X.shape[0]))
    ones_list = fit_quietly(Est(**params), X, y, sample_weight=[1] * X.shape[0])
    for other in (ones, ones_list):
        for a, b in zip(
            other.coefs_ + other.intercepts_,
            unweighted.coefs_ + unweighted.intercepts_,
            strict=True,
        ):
            assert_array_equal(a, b)
        assert other.n_iter_ == unweighted.n_iter_
        if solver != "lbfgs":
            assert other.loss_curve_ == unweighted.loss_curve_
            assert other.validation_scores_ == unweighted.validation_scores_


def test_none_equals_all_ones_in_partial_fit():
    _, X, y = TASKS["multiclass"]
    params = dict(BASE, solver="adam", learning_rate_init=0.02, batch_size=10)
    a, b = skreg.MLPClassifier(**params), skreg.MLPClassifier(**params)
    for call, rows in enumerate([slice(0, 20), slice(20, 47)]):
        kwargs = {"classes": [0, 1, 2]} if call == 0 else {}
        a.partial_fit(X[rows], y[rows], **kwargs)
        b.partial_fit(X[rows], y[rows], sample_weight=np.ones(rows.stop - rows.start), **kwargs)
    for u, v in zip(a.coefs_, b.coefs_, strict=True):
        assert_array_equal(u, v)


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_scaling_weights_changes_nothing_without_penalty(solver):
    """sum(c s_i l_i) / sum(c s_i) does not depend on c; the penalty term
    l2 / sum(c s_i) does, so with l2 > 0 scaling the weights changes the fit
    (as in scikit-learn)."""
    _, X, y = TASKS["multiclass"]
    sw = _float_weights(X.shape[0])
    params = dict(BASE, **SOLVER_PARAMS[solver], batch_size=10)
    base = fit_quietly(skreg.MLPClassifier(l2=0.0, **params), X, y, sample_weight=sw)
    scaled = fit_quietly(skreg.MLPClassifier(l2=0.0, **params), X, y, sample_weight=7.5 * sw)
    for a, b in zip(scaled.coefs_, base.coefs_, strict=True):
        assert_allclose(a, b, rtol=1e-8, atol=1e-12)
    penalised = fit_quietly(skreg.MLPClassifier(l2=1.0, **params), X, y, sample_weight=sw)
    penalised_scaled = fit_quietly(
        skreg.MLPClassifier(l2=1.0, **params), X, y, sample_weight=7.5 * sw
    )
    assert not np.allclose(penalised.coefs_[0], penalised_scaled.coefs_[0], rtol=1e-4, atol=0)
    theirs = fit_quietly(sk_nn.MLPClassifier(alpha=1.0, **params), X, y, sample_weight=7.5 * sw)
    _assert_same_model(penalised_scaled, theirs, X, f"scaled-weights-l2-{solver}")


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


@pytest.mark.sklearn_mlp_newer_than_floor
def test_multiclass_adam_float_weights_in_minibatches_match_sklearn():
    kind, X, y = TASKS["multiclass"]
    sw = _float_weights(X.shape[0])
    params = dict(BASE, **SOLVER_PARAMS["adam"], batch_size=10)
    ours = fit_quietly(skreg.MLPClassifier(l2=1e-3, **params), X, y, sample_weight=sw)
    theirs = fit_quietly(sk_nn.MLPClassifier(alpha=1e-3, **params), X, y, sample_weight=sw)
    _assert_same_model(ours, theirs, X, "report")
