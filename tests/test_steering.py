"""Steering early stopping: the user's validation data (``X_val``), the
``scoring`` it stops on, the validation-loss curve, and ``class_weight``."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    log_loss,
    mean_poisson_deviance,
    mean_squared_error,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import GridSearchCV, cross_validate, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_sample_weight

import skreg._base
from skreg import MLPClassifier, MLPRegressor

X_BIN, Y_BIN = make_classification(
    n_samples=240, n_features=6, n_informative=4, n_redundant=0, random_state=0
)
X_MULTI, Y_MULTI = make_classification(
    n_samples=240, n_features=6, n_informative=4, n_redundant=0, n_classes=3, random_state=1
)
X_REG, Y_REG = make_regression(n_samples=240, n_features=6, noise=5.0, random_state=0)
Y_REG = Y_REG / Y_REG.std()
Y_LABELS = np.stack([Y_MULTI == 0, Y_MULTI == 2], axis=1).astype(int)
SMALL = dict(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
ES = dict(SMALL, early_stopping=True, n_iter_no_change=5)

TASKS = {
    "binary": (MLPClassifier, X_BIN, Y_BIN),
    "multiclass": (MLPClassifier, X_MULTI, Y_MULTI),
    "multilabel": (MLPClassifier, X_MULTI, Y_LABELS),
    "regression": (MLPRegressor, X_REG, Y_REG),
    "multi-output": (MLPRegressor, X_REG, np.stack([Y_REG, -Y_REG], axis=1)),
}


def fit(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **fit_params)


def network(est):
    return est.coefs_ + est.intercepts_


def assert_same_network(a, b):
    for left, right in zip(network(a), network(b), strict=True):
        assert_array_equal(left, right)


def split(X, y, n_val=60):
    return X[n_val:], y[n_val:], X[:n_val], y[:n_val]


@pytest.fixture
def recorded_split(monkeypatch):
    """The ``(training_rows, validation_rows)`` of the last early-stopping
    split, under ``"rows"``."""
    recorded = {}
    original = skreg._base.validation_split

    def recording_split(*args):
        recorded["rows"] = original(*args)
        return recorded["rows"]

    monkeypatch.setattr(skreg._base, "validation_split", recording_split)
    return recorded


# --------------------------------------------------------------------------
# X_val: the user's validation data
# --------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASKS)
def test_given_validation_data_replaces_the_split_row_for_row(task, recorded_split):
    """Passing the split's own rows as X_val trains exactly as the internal
    split does (shuffle=False, so that the split's draws from random_state
    are the only difference, and without shuffles they change nothing)."""
    Est, X, y = TASKS[task]
    internal = fit(Est(**ES, shuffle=False), X, y)
    training_rows, validation_rows = recorded_split["rows"]
    given = fit(
        Est(**ES, shuffle=False),
        X[training_rows],
        y[training_rows],
        X_val=X[validation_rows],
        y_val=y[validation_rows],
    )
    assert_same_network(internal, given)
    assert internal.validation_scores_ == given.validation_scores_
    assert internal.validation_loss_curve_ == given.validation_loss_curve_


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_all_of_X_trains_when_X_val_is_given(task):
    Est, X, y = TASKS[task]
    X_train, y_train, X_val, y_val = split(X, y)
    est = fit(Est(**ES), X_train, y_train, X_val=X_val, y_val=y_val)
    assert est.t_ == est.n_iter_ * X_train.shape[0]
    # The held-out data scored is the given one: the kept model scores
    # best_validation_score_ on it.
    assert est.score(X_val, y_val) == est.best_validation_score_


def test_sample_weight_val_weights_the_validation_score():
    X_train, y_train, X_val, y_val = split(X_BIN, Y_BIN)
    weights = np.where(y_val == 1, 3.0, 0.5)
    est = fit(
        MLPClassifier(**ES), X_train, y_train, X_val=X_val, y_val=y_val, sample_weight_val=weights
    )
    assert est.best_validation_score_ == accuracy_score(
        y_val, est.predict(X_val), sample_weight=weights
    )
    unweighted = accuracy_score(y_val, est.predict(X_val))
    assert est.best_validation_score_ != unweighted


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_validation_data_of_another_dtype_or_format_scores_the_same(dtype):
    """X_val follows the model's dtype; dense and CSR validation data give the
    same fit."""
    X_train, y_train, X_val, y_val = split(X_MULTI.astype(dtype), Y_MULTI)
    dense = fit(MLPClassifier(**ES), X_train, y_train, X_val=X_val.astype(np.float64), y_val=y_val)
    csr = fit(MLPClassifier(**ES), X_train, y_train, X_val=sp.csr_matrix(X_val), y_val=y_val)
    assert dense.coefs_[0].dtype == dtype
    assert_same_network(dense, csr)
    assert dense.validation_scores_ == csr.validation_scores_


@pytest.mark.parametrize("scoring", [None, "balanced_accuracy"])
def test_string_labels_and_a_data_frame(scoring):
    labels = np.array(["ant", "bee", "cat"], dtype=object)
    frame = pd.DataFrame(X_MULTI, columns=[f"f{i}" for i in range(6)])
    X_train, y_train, X_val, y_val = split(frame, labels[Y_MULTI])
    with warnings.catch_warnings():
        # Such as "X does not have valid feature names": none is expected.
        warnings.simplefilter("error", UserWarning)
        est = fit(MLPClassifier(**ES, scoring=scoring), X_train, y_train, X_val=X_val, y_val=y_val)
    assert list(est.feature_names_in_) == list(frame.columns)
    score = balanced_accuracy_score if scoring else accuracy_score
    assert score(y_val, est.predict(X_val)) == est.best_validation_score_


BAD_VALIDATION = [
    (
        "X_val-without-y_val",
        MLPClassifier,
        ES,
        dict(X_val=X_BIN[:10]),
        "X_val is provided, but y_val was not provided.",
    ),
    (
        "y_val-without-X_val",
        MLPRegressor,
        ES,
        dict(y_val=Y_REG[:10]),
        "y_val is provided, but X_val was not provided.",
    ),
    (
        "sample_weight_val-alone",
        MLPClassifier,
        ES,
        dict(sample_weight_val=np.ones(10)),
        "sample_weight_val is provided, but X_val and y_val were not provided.",
    ),
    (
        "without-early-stopping",
        MLPClassifier,
        SMALL,
        dict(X_val=X_BIN[:10], y_val=Y_BIN[:10]),
        "X_val and y_val are passed to fit while at the same time early_stopping is False",
    ),
    (
        "lbfgs",
        MLPRegressor,
        dict(ES, solver="lbfgs"),
        dict(X_val=X_REG[:10], y_val=Y_REG[:10]),
        "X_val and y_val are for early stopping, which solver='lbfgs' does not do",
    ),
    (
        "narrower",
        MLPClassifier,
        ES,
        dict(X_val=X_BIN[:10, :5], y_val=Y_BIN[:10]),
        "Invalid X_val: X has 5 features, but MLPClassifier is expecting 6 features",
    ),
    (
        "nan",
        MLPRegressor,
        ES,
        dict(X_val=np.where(X_REG[:10] > 1, np.nan, X_REG[:10]), y_val=Y_REG[:10]),
        "Invalid X_val: Input X contains NaN",
    ),
    (
        "one-row",
        MLPRegressor,
        ES,
        dict(X_val=X_REG[:1], y_val=Y_REG[:1]),
        "X_val has 1 sample; early stopping needs at least 2 validation samples",
    ),
    (
        "shorter-y_val",
        MLPClassifier,
        ES,
        dict(X_val=X_BIN[:10], y_val=Y_BIN[:9]),
        "y_val has 9 samples, but X_val has 10",
    ),
    (
        "unseen-label",
        MLPClassifier,
        ES,
        dict(X_val=X_BIN[:3], y_val=[0, 1, 7]),
        re.escape("y_val has labels that y does not have: [7]"),
    ),
    (
        "nan-target",
        MLPRegressor,
        ES,
        dict(X_val=X_REG[:3], y_val=[0.0, np.nan, 1.0]),
        "Input y_val contains NaN",
    ),
    (
        "two-outputs-for-one",
        MLPRegressor,
        ES,
        dict(X_val=X_REG[:3], y_val=np.ones((3, 2))),
        "y_val has 2 outputs, but y has 1",
    ),
    (
        "negative-weight",
        MLPClassifier,
        ES,
        dict(X_val=X_BIN[:3], y_val=Y_BIN[:3], sample_weight_val=[1.0, -1.0, 1.0]),
        "Negative values in data passed to `sample_weight`",
    ),
    (
        "zero-weights",
        MLPClassifier,
        ES,
        dict(X_val=X_BIN[:3], y_val=Y_BIN[:3], sample_weight_val=np.zeros(3)),
        "Sample weights must contain at least one non-zero number",
    ),
    (
        "short-weights",
        MLPRegressor,
        ES,
        dict(X_val=X_REG[:3], y_val=Y_REG[:3], sample_weight_val=np.ones(2)),
        re.escape("sample_weight.shape == (2,), expected (3,)"),
    ),
]


@pytest.mark.parametrize(
    "Est, params, fit_params, message",
    [case[1:] for case in BAD_VALIDATION],
    ids=[case[0] for case in BAD_VALIDATION],
)
def test_bad_validation_data_is_refused_and_leaves_a_fitted_model_intact(
    Est, params, fit_params, message
):
    X, y = (X_BIN, Y_BIN) if Est is MLPClassifier else (X_REG, Y_REG)
    est = fit(Est(**params), X, y)
    before = [a.copy() for a in network(est)]
    with pytest.raises(ValueError, match=message):
        est.fit(X, y, **fit_params)
    for a, b in zip(before, network(est), strict=True):
        assert_array_equal(a, b)


def test_validation_targets_of_another_shape_for_multilabel():
    est = MLPClassifier(**ES)
    with pytest.raises(ValueError, match=r"y_val must be a label indicator matrix with 2 columns"):
        est.fit(X_MULTI, Y_LABELS, X_val=X_MULTI[:5], y_val=Y_MULTI[:5])


def test_validation_data_with_other_feature_names():
    frame = pd.DataFrame(X_REG, columns=list("abcdef"))
    with pytest.raises(ValueError, match="Invalid X_val: The feature names should match"):
        MLPRegressor(**ES).fit(
            frame, Y_REG, X_val=frame.rename(columns={"a": "z"})[:5], y_val=Y_REG[:5]
        )


def test_poisson_validation_targets_must_not_be_negative():
    with pytest.raises(ValueError, match="requires non-negative targets y_val"):
        MLPRegressor(loss="poisson", **ES).fit(
            X_REG, np.abs(Y_REG), X_val=X_REG[:5], y_val=-np.ones(5)
        )


def test_partial_fit_takes_no_validation_data():
    est = MLPClassifier(**SMALL)
    with pytest.raises(TypeError, match="X_val"):
        est.partial_fit(X_BIN, Y_BIN, classes=[0, 1], X_val=X_BIN, y_val=Y_BIN)


# --------------------------------------------------------------------------
# Metadata routing: Pipeline(transform_input=...), GridSearchCV, cross_validate
# --------------------------------------------------------------------------


def routed_pipeline(**params):
    mlp = MLPClassifier(**ES, **params).set_fit_request(X_val=True, y_val=True)
    return Pipeline([("scale", StandardScaler()), ("mlp", mlp)], transform_input=["X_val"])


def test_pipeline_transforms_X_val_with_the_fitted_scaler():
    X_train, y_train, X_val, y_val = split(X_BIN * 50 + 3, Y_BIN)
    with sklearn.config_context(enable_metadata_routing=True):
        pipeline = fit(routed_pipeline(), X_train, y_train, X_val=X_val, y_val=y_val)
    scaler = StandardScaler().fit(X_train)
    by_hand = fit(
        MLPClassifier(**ES),
        scaler.transform(X_train),
        y_train,
        X_val=scaler.transform(X_val),
        y_val=y_val,
    )
    assert_same_network(pipeline[-1], by_hand)
    assert pipeline[-1].validation_scores_ == by_hand.validation_scores_


def test_grid_search_and_cross_validate_pass_validation_data_on():
    X_train, y_train, X_val, y_val = split(X_BIN * 50 + 3, Y_BIN, n_val=45)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(routed_pipeline(), {"mlp__l2": [1e-4, 1.0]}, cv=3)
        fit(search, X_train, y_train, X_val=X_val, y_val=y_val)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            results = cross_validate(
                routed_pipeline(),
                X_train,
                y_train,
                cv=3,
                params={"X_val": X_val, "y_val": y_val},
                return_estimator=True,
            )
    best = search.best_estimator_[-1]
    scaler = search.best_estimator_[0]
    assert best.best_validation_score_ == best.score(scaler.transform(X_val), y_val)
    for fitted in results["estimator"]:
        mlp, scaler = fitted[-1], fitted[0]
        # Every fold scored the same given validation rows, never its own split.
        assert mlp.t_ == mlp.n_iter_ * 130
        assert mlp.best_validation_score_ == mlp.score(scaler.transform(X_val), y_val)


def test_unrequested_validation_data_is_refused_under_routing():
    X_train, y_train, X_val, y_val = split(X_BIN, Y_BIN)
    pipeline = Pipeline([("mlp", MLPClassifier(**ES))])
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(ValueError, match="X_val"):
            pipeline.fit(X_train, y_train, X_val=X_val, y_val=y_val)


# --------------------------------------------------------------------------
# scoring and the validation-loss curve
# --------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASKS)
def test_validation_loss_curve_is_the_data_loss_of_each_epoch(task):
    """The kept model's loss on X_val is the curve's value at the best epoch,
    computed with scikit-learn's metrics."""
    Est, X, y = TASKS[task]
    X_train, y_train, X_val, y_val = split(X, y)
    est = fit(Est(**ES, scoring="loss"), X_train, y_train, X_val=X_val, y_val=y_val)
    curve = est.validation_loss_curve_
    assert len(curve) == len(est.loss_curve_) == est.n_iter_
    assert est.validation_scores_ == [-loss for loss in curve]
    best = curve[int(np.argmax(est.validation_scores_))]
    assert -est.best_validation_score_ == best
    if Est is MLPClassifier:
        proba = est.predict_proba(X_val)
        if task == "multilabel":
            expected = sum(log_loss(y_val[:, j], proba[:, j]) for j in range(2))
        else:
            expected = log_loss(y_val, proba)
    else:
        expected = 0.5 * mean_squared_error(y_val, est.predict(X_val))
    assert best == pytest.approx(expected, rel=1e-12)


def test_poisson_validation_loss_is_half_the_mean_deviance():
    y = np.exp(Y_REG / 3)
    X_train, y_train, X_val, y_val = split(X_REG, y)
    weights = np.linspace(0.5, 2.0, y_val.shape[0])
    est = fit(
        MLPRegressor(loss="poisson", **ES, scoring="loss"),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
        sample_weight_val=weights,
    )
    expected = 0.5 * mean_poisson_deviance(y_val, est.predict(X_val), sample_weight=weights)
    assert -est.best_validation_score_ == pytest.approx(expected, rel=1e-12)


def test_no_validation_loss_curve_without_early_stopping():
    est = fit(MLPRegressor(**SMALL), X_REG, Y_REG)
    assert est.validation_loss_curve_ is None
    assert est.validation_scores_ is None


def test_warm_start_continues_the_validation_loss_curve():
    est = fit(
        MLPClassifier(**dict(ES, max_iter=4, n_iter_no_change=50), warm_start=True), X_BIN, Y_BIN
    )
    first = list(est.validation_loss_curve_)
    fit(est, X_BIN, Y_BIN)
    assert len(est.validation_loss_curve_) == 8
    assert est.validation_loss_curve_[:4] == first


@pytest.mark.parametrize("switch_on", [True, False])
def test_warm_start_that_switches_early_stopping_starts_its_history(switch_on):
    """scikit-learn's MLP raises an AttributeError or TypeError here."""
    est = fit(
        MLPClassifier(**dict(SMALL, max_iter=4), warm_start=True, early_stopping=not switch_on),
        X_BIN,
        Y_BIN,
    )
    est.set_params(early_stopping=switch_on)
    fit(est, X_BIN, Y_BIN)
    if switch_on:
        assert len(est.validation_scores_) == len(est.validation_loss_curve_) == est.n_iter_
    else:
        assert est.best_loss_ == min(est.loss_curve_[4:])
        assert est.validation_scores_ is None and est.best_validation_score_ is None


def test_warm_start_switching_early_stopping_off_and_on_forgets_the_old_scores():
    """On, off, on again: the last fit's scores are its own, not the first
    fit's continued across the loss-based one."""
    est = fit(
        MLPClassifier(**dict(ES, max_iter=3, n_iter_no_change=50), warm_start=True), X_BIN, Y_BIN
    )
    first = list(est.validation_scores_)
    fit(est.set_params(early_stopping=False), X_BIN, Y_BIN)
    fit(est.set_params(early_stopping=True), X_BIN, Y_BIN)
    assert len(est.loss_curve_) == 9
    assert len(est.validation_scores_) == len(est.validation_loss_curve_) == 3
    assert est.validation_scores_ != first
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_warm_start_with_another_scoring_starts_a_new_best_score():
    """The best accuracy of the first fit does not compare with the negated
    losses of the second: the second keeps its own best epoch, not the first
    fit's weights."""
    est = fit(
        MLPClassifier(**dict(ES, max_iter=5, n_iter_no_change=50), warm_start=True), X_BIN, Y_BIN
    )
    fit(est.set_params(scoring="loss"), X_BIN, Y_BIN)
    assert len(est.validation_scores_) == 5
    assert est.best_validation_score_ == max(est.validation_scores_) < 0


@pytest.mark.parametrize(
    "task, scoring, metric",
    [
        ("binary", "roc_auc", lambda est, X, y: roc_auc_score(y, est.predict_proba(X)[:, 1])),
        ("multiclass", "neg_log_loss", lambda est, X, y: -log_loss(y, est.predict_proba(X))),
        (
            "regression",
            "neg_mean_squared_error",
            lambda est, X, y: -mean_squared_error(y, est.predict(X)),
        ),
    ],
    ids=["roc_auc", "neg_log_loss", "neg_mean_squared_error"],
)
def test_scorer_names_score_with_the_named_metric(task, scoring, metric):
    Est, X, y = TASKS[task]
    X_train, y_train, X_val, y_val = split(X, y)
    est = fit(Est(**ES, scoring=scoring), X_train, y_train, X_val=X_val, y_val=y_val)
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.best_validation_score_ == pytest.approx(metric(est, X_val, y_val), rel=1e-12)


def test_a_callable_scorer_sees_the_network_of_each_epoch():
    """A scorer that counts its calls and records the score of the network it
    is handed: one call per epoch, and the kept network is the best one's."""
    X_train, y_train, X_val, y_val = split(X_REG, Y_REG)
    seen = []

    def max_error(est, X, y):
        seen.append(float(np.max(np.abs(est.predict(X) - y))))
        return -seen[-1]

    est = fit(MLPRegressor(**ES, scoring=max_error), X_train, y_train, X_val=X_val, y_val=y_val)
    assert len(seen) == est.n_iter_
    assert est.validation_scores_ == [-s for s in seen]
    assert max_error(est, X_val, y_val) == est.best_validation_score_


def test_scoring_changes_when_training_stops():
    """Accuracy plateaus while the log loss still improves: stopping on the
    loss trains longer on this task (figures in the assertion)."""
    X, y = make_classification(n_samples=400, n_features=10, random_state=3)
    X_train, y_train, X_val, y_val = split(X, y, n_val=100)
    stopped = {
        scoring: fit(
            MLPClassifier(**dict(ES, max_iter=200), scoring=scoring),
            X_train,
            y_train,
            X_val=X_val,
            y_val=y_val,
        ).n_iter_
        for scoring in (None, "loss")
    }
    assert stopped[None] < stopped["loss"], stopped


def test_a_score_that_is_never_a_number_is_an_error():
    """A NaN score never improves on anything, so early stopping would keep
    no epoch: the fit says so instead of keeping the last one silently."""
    est = MLPRegressor(**ES, scoring=lambda est, X, y: np.nan)
    # n_iter_no_change=5: it stops after 6 epochs without an improvement.
    with pytest.raises(ValueError, match="no epoch with a finite validation score in 6 epochs"):
        fit(est, X_REG, Y_REG)
    assert not hasattr(est, "coefs_")


def test_scoring_none_is_the_estimators_score():
    X_train, y_train, X_val, y_val = split(X_BIN, Y_BIN)
    default = fit(MLPClassifier(**ES), X_train, y_train, X_val=X_val, y_val=y_val)
    named = fit(MLPClassifier(**ES, scoring="accuracy"), X_train, y_train, X_val=X_val, y_val=y_val)
    assert default.validation_scores_ == named.validation_scores_
    assert_same_network(default, named)


def test_a_scoring_callable_without_sample_weight_and_weighted_validation_data():
    """Weighted validation data is scored with its weights: a callable that
    cannot take them is refused before training, one that can gets them."""
    X_train, y_train, X_val, y_val = split(X_BIN, Y_BIN)
    weights = np.linspace(0.5, 2.0, y_val.shape[0])

    def unweighted(est, X, y):
        return accuracy_score(y, est.predict(X))

    est = MLPClassifier(**ES, scoring=unweighted)
    with pytest.raises(ValueError, match="The scoring callable takes no sample_weight"):
        est.fit(X_train, y_train, X_val=X_val, y_val=y_val, sample_weight_val=weights)
    assert not hasattr(est, "coefs_")
    with pytest.raises(ValueError, match="The scoring callable takes no sample_weight"):
        MLPClassifier(**ES, scoring=unweighted, class_weight="balanced").fit(X_BIN, Y_BIN)

    def weighted(est, X, y, sample_weight=None):
        return accuracy_score(y, est.predict(X), sample_weight=sample_weight)

    est = fit(
        MLPClassifier(**ES, scoring=weighted),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
        sample_weight_val=weights,
    )
    assert est.best_validation_score_ == weighted(est, X_val, y_val, sample_weight=weights)
    fit(MLPClassifier(**ES, scoring=unweighted), X_train, y_train, X_val=X_val, y_val=y_val)


def test_bad_scoring_is_refused():
    with pytest.raises(InvalidParameterError, match="The 'scoring' parameter of MLPRegressor"):
        MLPRegressor(scoring="accuracy_typo").fit(X_REG, Y_REG)
    with pytest.raises(ValueError, match="looks like it is a metric function"):
        MLPRegressor(**ES, scoring=mean_squared_error).fit(X_REG, Y_REG)


def test_scoring_is_unused_without_early_stopping():
    default = fit(MLPClassifier(**SMALL), X_BIN, Y_BIN)
    scored = fit(MLPClassifier(**SMALL, scoring="roc_auc"), X_BIN, Y_BIN)
    assert_same_network(default, scored)


def test_a_diverging_network_scores_nan_without_calling_the_scorer():
    calls = []

    def scorer(est, X, y):
        calls.append(1)
        return 0.0

    est = MLPRegressor(
        solver="sgd",
        learning_rate_init=1e6,
        hidden_layer_sizes=(5,),
        max_iter=20,
        random_state=0,
        early_stopping=True,
        scoring=scorer,
    )
    with pytest.warns(ConvergenceWarning, match="Training diverged"):
        est.fit(X_REG[10:], Y_REG[10:] * 1e10, X_val=X_REG[:10], y_val=Y_REG[:10] * 1e10)
    scores = np.array(est.validation_scores_)
    assert len(calls) == np.sum(np.isfinite(scores)) > 0
    assert np.isnan(scores[-1])


# --------------------------------------------------------------------------
# class_weight
# --------------------------------------------------------------------------


CLASS_WEIGHTS = [
    ("balanced-binary", X_BIN, Y_BIN, "balanced"),
    ("dict-multiclass", X_MULTI, Y_MULTI, {0: 3.0, 2: 0.25}),
    ("balanced-multiclass", X_MULTI, np.where(Y_MULTI == 2, 1, Y_MULTI), "balanced"),
    ("list-multilabel", X_MULTI, Y_LABELS, [{0: 1.0, 1: 4.0}, {1: 0.5}]),
    ("balanced-multilabel", X_MULTI, Y_LABELS, "balanced"),
]


@pytest.mark.parametrize(
    "X, y, class_weight",
    [case[1:] for case in CLASS_WEIGHTS],
    ids=[case[0] for case in CLASS_WEIGHTS],
)
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_class_weight_trains_as_its_sample_weight(X, y, class_weight, solver, dtype):
    """Without sample weights the equivalent is compute_sample_weight's; with
    them, 'balanced' counts the classes by weight."""
    X = X.astype(dtype)
    sample_weight = np.linspace(0.2, 2.0, X.shape[0])
    equivalent = sample_weight * weighted_class_weight(class_weight, y, sample_weight)
    params = dict(SMALL, solver=solver, early_stopping=solver != "lbfgs")
    weighted = fit(
        MLPClassifier(**params, class_weight=class_weight), X, y, sample_weight=sample_weight
    )
    by_sample = fit(MLPClassifier(**params), X, y, sample_weight=equivalent)
    assert_same_network(weighted, by_sample)
    if solver != "lbfgs":
        assert weighted.validation_scores_ == by_sample.validation_scores_
    unweighted = fit(MLPClassifier(**params, class_weight=class_weight), X, y)
    by_compute_sample_weight = fit(
        MLPClassifier(**params), X, y, sample_weight=compute_sample_weight(class_weight, y)
    )
    assert_same_network(unweighted, by_compute_sample_weight)


def weighted_class_weight(class_weight, y, sample_weight):
    """Per-sample class weights with 'balanced' counting classes by weight:
    the classes' total weights, written out with bincount."""
    columns = y.T if y.ndim == 2 else y[None]
    if class_weight == "balanced":
        class_weight = [class_weight] * len(columns)
    elif isinstance(class_weight, dict):
        class_weight = [class_weight]
    result = np.ones(y.shape[0])
    for weights, column in zip(class_weight, columns, strict=True):
        labels, index = np.unique(column, return_inverse=True)
        if weights == "balanced":
            totals = np.bincount(index, weights=sample_weight)
            with np.errstate(divide="ignore"):
                per_class = totals.sum() / (np.count_nonzero(totals) * totals)
            # A class without weight has no rows: its class weight is moot.
            per_class[totals == 0] = 0.0
        else:
            per_class = np.array([weights.get(label, 1.0) for label in labels])
        result = result * per_class[index]
    return result


@pytest.mark.parametrize(
    "repeats", [np.tile([1, 2, 3], 80), np.tile([0, 2, 1], 80)], ids=["1-2-3", "with-zeros"]
)
def test_balanced_class_weight_with_sample_weights_equals_repeated_rows(repeats):
    """An integer sample weight is a repeated row (and 0 an absent one),
    class weights included."""
    weighted = MLPClassifier(**SMALL, solver="lbfgs", class_weight="balanced")
    fit(weighted, X_BIN, Y_BIN, sample_weight=repeats)
    repeated = MLPClassifier(**SMALL, solver="lbfgs", class_weight="balanced")
    fit(repeated, np.repeat(X_BIN, repeats, axis=0), np.repeat(Y_BIN, repeats))
    for a, b in zip(network(weighted), network(repeated), strict=True):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_balanced_class_weight_recovers_the_minority_class():
    """95:5 classes: without weights the minority class is mostly missed."""
    X, y = make_classification(
        n_samples=2000,
        n_features=10,
        n_informative=4,
        weights=[0.95, 0.05],
        flip_y=0.0,
        class_sep=0.8,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    recall, balanced = {}, {}
    for class_weight in (None, "balanced"):
        est = fit(
            MLPClassifier(
                hidden_layer_sizes=(16,), max_iter=100, random_state=0, class_weight=class_weight
            ),
            X_train,
            y_train,
        )
        prediction = est.predict(X_test)
        recall[class_weight] = recall_score(y_test, prediction)
        balanced[class_weight] = balanced_accuracy_score(y_test, prediction)
    assert recall["balanced"] > recall[None] + 0.15, recall
    assert balanced["balanced"] > balanced[None] + 0.05, balanced


def test_internal_split_keeps_class_weights_and_X_val_does_not(recorded_split):
    """HistGradientBoosting's rule: the held-out part of the training data
    carries its class weights into the validation score; a given X_val is
    weighted by sample_weight_val alone."""
    X_train, y_train, X_val, y_val = split(X_BIN, np.where(X_BIN[:, 0] > 0.8, 1, 0))
    weights = {0: 1.0, 1: 5.0}
    given = fit(
        MLPClassifier(**ES, class_weight=weights), X_train, y_train, X_val=X_val, y_val=y_val
    )
    assert given.best_validation_score_ == accuracy_score(y_val, given.predict(X_val))

    internal = fit(MLPClassifier(**ES, class_weight=weights), X_train, y_train)
    rows = recorded_split["rows"][1]
    held_out_weights = compute_sample_weight(weights, y_train)[rows]
    assert internal.best_validation_score_ == accuracy_score(
        y_train[rows], internal.predict(X_train[rows]), sample_weight=held_out_weights
    )


def test_partial_fit_takes_a_dict_over_the_declared_classes():
    """A batch that lacks a weighted class trains as with the equivalent
    sample weights; compute_sample_weight on that batch alone would raise."""
    weights = {0: 2.0}
    batches = [slice(0, 80), slice(80, 160)]
    y = Y_MULTI.copy()
    y[:80][y[:80] == 0] = 1
    with pytest.raises(ValueError, match="not in class_weight"):
        compute_sample_weight(weights, y[:80])
    weighted = MLPClassifier(**SMALL, class_weight=weights)
    by_sample = MLPClassifier(**SMALL)
    for batch in batches:
        weighted.partial_fit(X_MULTI[batch], y[batch], classes=[0, 1, 2])
        by_sample.partial_fit(
            X_MULTI[batch],
            y[batch],
            classes=[0, 1, 2],
            sample_weight=np.where(y[batch] == 0, 2.0, 1.0),
        )
    assert_same_network(weighted, by_sample)


def test_partial_fit_multilabel_list_of_dicts():
    weights = [{1: 3.0}, {0: 0.5}]
    weighted = MLPClassifier(**SMALL, class_weight=weights)
    weighted.partial_fit(X_MULTI, Y_LABELS, classes=[0, 1])
    by_sample = MLPClassifier(**SMALL)
    by_sample.partial_fit(
        X_MULTI, Y_LABELS, classes=[0, 1], sample_weight=compute_sample_weight(weights, Y_LABELS)
    )
    assert_same_network(weighted, by_sample)


@pytest.mark.parametrize(
    "y, class_weight, incremental, message",
    [
        (Y_BIN, {0: 1.0, 5: 2.0}, False, re.escape("The classes, [1], are not in class_weight")),
        (Y_BIN, [{0: 1.0}], False, "got list for binary targets"),
        (Y_LABELS, {0: 1.0}, False, "got dict for multilabel-indicator targets"),
        (Y_LABELS, [{0: 1.0}], True, "class_weight has 1 dicts for 2 label columns"),
        (Y_LABELS, [{0: 1.0}], False, "class_weight has 1 dicts for 2 label columns"),
    ],
    ids=[
        "unknown-class",
        "list-for-binary",
        "dict-for-multilabel",
        "short-list-partial_fit",
        "short-list-fit",
    ],
)
def test_bad_class_weight(y, class_weight, incremental, message):
    est = MLPClassifier(**SMALL, class_weight=class_weight)
    with pytest.raises(ValueError, match=message):
        if incremental:
            est.partial_fit(X_MULTI[: len(y)], y, classes=[0, 1])
        else:
            est.fit(X_MULTI[: len(y)], y)
    assert not hasattr(est, "coefs_")


def test_partial_fit_is_not_available_with_balanced_class_weight():
    """As SGDClassifier.partial_fit refuses 'balanced': a batch cannot
    estimate the class frequencies. The method is absent, as for lbfgs."""
    est = MLPClassifier(**SMALL, class_weight="balanced")
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError) as info:
        est.partial_fit(X_BIN, Y_BIN, classes=[0, 1])
    # available_if raises its own message from the reason.
    assert re.match(
        "partial_fit is not available with class_weight='balanced'.*compute_class_weight",
        str(info.value.__cause__),
    )
    assert hasattr(est.set_params(class_weight={0: 2.0}), "partial_fit")


@pytest.mark.parametrize(
    "class_weight, message",
    [
        ({0: -1.0}, "finite non-negative weights"),
        ({1: np.nan}, "finite non-negative weights"),
        ({0: "heavy"}, "must map classes to numbers"),
        ({0: 0.0, 1: 0.0}, "Sample weights times class_weight must contain at least one non-zero"),
    ],
    ids=["negative", "nan", "string", "all-zero"],
)
def test_bad_class_weight_values(class_weight, message):
    est = MLPClassifier(**SMALL, class_weight=class_weight)
    with pytest.raises(ValueError, match=message):
        est.fit(X_BIN, Y_BIN)
    assert not hasattr(est, "coefs_")


def test_multilabel_dict_weights_a_label_column_without_positives():
    """compute_sample_weight would refuse the dict of a column whose labels
    are all 0; skreg weighs the classes 0 and 1 of every column."""
    y = Y_LABELS.copy()
    y[:, 1] = 0
    weights = [{1: 3.0}, {1: 2.0}]
    with pytest.raises(ValueError, match="not in class_weight"):
        compute_sample_weight(weights, y)
    weighted = fit(MLPClassifier(**SMALL, class_weight=weights), X_MULTI, y)
    expected = np.where(y[:, 0] == 1, 3.0, 1.0)
    by_sample = fit(MLPClassifier(**SMALL), X_MULTI, y, sample_weight=expected)
    assert_same_network(weighted, by_sample)


def test_class_weight_of_the_wrong_type_names_the_parameter():
    with pytest.raises(InvalidParameterError, match="The 'class_weight' parameter"):
        MLPClassifier(class_weight="even").fit(X_BIN, Y_BIN)


def test_regressor_has_no_class_weight():
    assert "class_weight" not in MLPRegressor().get_params()
