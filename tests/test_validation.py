"""Input validation, error messages, failure safety and fitted attributes."""

import copy
import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

import skreg
import skreg._solvers
from skreg import MLPClassifier, MLPRegressor

X_BIN, Y_BIN = make_classification(
    n_samples=50, n_features=4, n_informative=3, n_redundant=0, random_state=0
)
X_MULTI, Y_MULTI = make_classification(
    n_samples=60, n_features=5, n_informative=4, n_redundant=0, n_classes=3, random_state=0
)
X_REG, Y_REG = make_regression(n_samples=50, n_features=4, noise=1.0, random_state=0)
Y_REG = (Y_REG - Y_REG.mean()) / Y_REG.std()

ESTIMATORS = [MLPClassifier, MLPRegressor]
SMALL = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)


def _data(Est):
    return (X_BIN, Y_BIN) if Est is MLPClassifier else (X_REG, Y_REG)


def _fit(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


def _snapshot(est):
    return copy.deepcopy(vars(est))


def _assert_same_state(before, est):
    """Every attribute of ``est`` equals the deep copy ``before``."""
    _assert_same_mapping(before, vars(est))


def _assert_same_mapping(before, after):
    assert sorted(after) == sorted(before)
    for key, old in before.items():
        new = after[key]
        if isinstance(old, dict):
            _assert_same_mapping(old, new)
        elif isinstance(old, list) and old and isinstance(old[0], np.ndarray):
            assert len(new) == len(old), key
            for a, b in zip(new, old, strict=True):
                assert a.dtype == b.dtype, key
                assert_array_equal(a, b, err_msg=key)
        elif isinstance(old, (np.ndarray, list, tuple)):
            assert_array_equal(
                np.asarray(new, dtype=object), np.asarray(old, dtype=object), err_msg=key
            )
        elif isinstance(old, float) and np.isnan(old):
            assert np.isnan(new), key
        elif hasattr(old, "__dict__") and not isinstance(old, type):
            # e.g. the LabelBinarizer or a RandomState: compare their state
            assert type(new) is type(old), key
            if isinstance(old, np.random.RandomState):
                assert_array_equal(new.get_state()[1], old.get_state()[1], err_msg=key)
            else:
                assert sorted(vars(new)) == sorted(vars(old)), key
        else:
            assert new == old, key


# ---------------------------------------------------------------------------
# Hyperparameters
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "params, name",
    [
        (dict(l1=-1), "l1"),
        (dict(l2=-1), "l2"),
        (dict(dropout=1.0), "dropout"),
        (dict(dropout=-0.1), "dropout"),
        (dict(dropout=np.nan), "dropout"),
        (dict(dropout="0.5"), "dropout"),
        (dict(solver="newton"), "solver"),
        (dict(activation="softmax"), "activation"),
        (dict(hidden_layer_sizes=0), "hidden_layer_sizes"),
        (dict(learning_rate_init=0.0), "learning_rate_init"),
        (dict(batch_size=0), "batch_size"),
        (dict(validation_fraction=1.0), "validation_fraction"),
        (dict(momentum=1.5), "momentum"),
    ],
)
def test_invalid_parameter_names_parameter(Est, params, name):
    X, y = _data(Est)
    est = Est(**SMALL).set_params(**params)
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        est.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "params, pattern",
    [
        # One rate per hidden layer, and there is one hidden layer.
        (dict(hidden_layer_sizes=(5,), dropout=(0.1, 0.2)), "dropout"),
        (dict(hidden_layer_sizes=(5, 4), dropout=(0.1,)), "dropout"),
        (dict(hidden_layer_sizes=(5, 4), dropout=(0.1, 1.0)), "dropout"),
        (dict(hidden_layer_sizes=(5, 4), dropout=[0.1, -0.2]), "dropout"),
        (dict(hidden_layer_sizes=(5, 4), dropout=np.array([0.1, np.nan])), "dropout"),
        (dict(hidden_layer_sizes=(10, 0)), "hidden_layer_sizes"),
        (dict(hidden_layer_sizes=(10, -3)), "hidden_layer_sizes"),
    ],
)
def test_invalid_layer_settings(Est, params, pattern):
    X, y = _data(Est)
    est = Est(**{**SMALL, **params})
    with pytest.raises(ValueError, match=pattern):
        est.fit(X, y)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "params, regularizer",
    [
        (dict(l1=0.01), "l1"),
        (dict(dropout=0.2), "dropout"),
        (dict(hidden_layer_sizes=(5, 4), dropout=(0.0, 0.3)), "dropout"),
    ],
)
def test_lbfgs_rejects_l1_and_dropout(Est, params, regularizer):
    X, y = _data(Est)
    est = Est(**{**SMALL, "solver": "lbfgs", **params})
    with pytest.raises(ValueError, match="lbfgs") as info:
        est.fit(X, y)
    assert regularizer in str(info.value)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_lbfgs_accepts_zero_l1_and_zero_dropout(Est):
    X, y = _data(Est)
    est = _fit(
        Est(
            **{**SMALL, "solver": "lbfgs", "hidden_layer_sizes": (5, 4)}, l1=0.0, dropout=(0.0, 0.0)
        ),
        X,
        y,
    )
    check_is_fitted(est)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_alpha_is_renamed_l2(Est):
    assert "l2" in Est().get_params()
    assert "alpha" not in Est().get_params()
    with pytest.raises(TypeError, match="alpha"):
        Est(alpha=0.1)


# ---------------------------------------------------------------------------
# Bad data
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "value, pattern", [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")]
)
def test_non_finite_X(Est, value, pattern):
    X, y = _data(Est)
    X = X.copy()
    X[3, 1] = value
    with pytest.raises(ValueError, match=pattern):
        Est(**SMALL).fit(X, y)
    fitted = _fit(Est(**SMALL), *_data(Est))
    with pytest.raises(ValueError, match=pattern):
        fitted.predict(X)


def test_non_finite_regression_target():
    y = Y_REG.copy()
    y[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPRegressor(**SMALL).fit(X_REG, y)


@pytest.mark.parametrize("dtype", [str, object])
def test_string_regression_targets(dtype):
    y = np.array(["low", "high"] * 25, dtype=dtype)
    with pytest.raises(ValueError, match="could not convert string to float"):
        MLPRegressor(**SMALL).fit(X_REG, y)


@pytest.mark.parametrize(
    "Est, method",
    [(MLPClassifier, m) for m in ("predict", "predict_proba", "predict_log_proba", "score")]
    + [(MLPRegressor, m) for m in ("predict", "score")],
)
def test_wrong_number_of_features_at_predict(Est, method):
    X, y = _data(Est)
    est = _fit(Est(**SMALL), X, y)
    args = (X[:, :3], y) if method == "score" else (X[:, :3],)
    with pytest.raises(ValueError, match="3 features, but .* is expecting 4 features"):
        getattr(est, method)(*args)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_predict_before_fit(Est):
    X, _ = _data(Est)
    est = Est()
    for method in ("predict", "predict_proba", "predict_log_proba"):
        if hasattr(est, method):
            with pytest.raises(NotFittedError):
                getattr(est, method)(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_bad_sample_weight(Est, solver):
    X, y = _data(Est)
    n = X.shape[0]
    est = Est(**SMALL, solver=solver)
    negative = np.ones(n)
    negative[4] = -0.5
    with pytest.raises(ValueError, match="[Nn]egative"):
        est.fit(X, y, sample_weight=negative)
    with pytest.raises(ValueError, match="non-zero"):
        est.fit(X, y, sample_weight=np.zeros(n))
    with pytest.raises(ValueError, match="sample_weight"):
        est.fit(X, y, sample_weight=np.ones(n - 1))
    nan = np.ones(n)
    nan[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(X, y, sample_weight=nan)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_failed_first_fit_leaves_estimator_unfitted(Est):
    """Any error during fit (here a negative sample weight, detected after X
    was validated) must leave a new estimator unfitted: check_is_fitted must
    raise and predict must raise NotFittedError, not AttributeError."""
    X, y = _data(Est)
    est = Est(**SMALL)
    with pytest.raises(ValueError):
        est.fit(X, y, sample_weight=-np.ones(X.shape[0]))
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    with pytest.raises(NotFittedError):
        est.predict(X)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_scalar_sample_weight_is_accepted(Est):
    # Without L2 (whose penalty is divided by the total weight) a constant
    # weight does not change the gradients.
    X, y = _data(Est)
    a = _fit(Est(**SMALL, l2=0.0), X, y)
    b = _fit(Est(**SMALL, l2=0.0), X, y, sample_weight=2.0)
    for ca, cb in zip(a.coefs_, b.coefs_, strict=True):
        np.testing.assert_allclose(ca, cb, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------
# Divergence and interruption leave a fitted model untouched
# ---------------------------------------------------------------------------

DIVERGING = dict(
    solver="sgd",
    learning_rate_init=1e6,
    momentum=0.9,
    hidden_layer_sizes=(5,),
    max_iter=20,
    random_state=0,
)


def test_diverging_regressor_raises():
    est = MLPRegressor(**DIVERGING)
    with pytest.raises(ValueError, match="learning_rate_init"):
        est.fit(X_REG, Y_REG * 1e10)


def test_diverging_regressor_with_early_stopping_keeps_its_best_epoch():
    """scikit-learn 1.9 (its issue #29504): no error, a NaN score for the
    diverged epoch, the best epoch's weights kept. Here the training loss is
    finite for 3 epochs (the third already scores NaN) and diverges in the
    fourth."""
    est = MLPRegressor(**DIVERGING, early_stopping=True)
    X_val, y_val = X_REG[:10], Y_REG[:10] * 1e10
    with pytest.warns(ConvergenceWarning, match="non-finite at epoch 4"):
        est.fit(X_REG[10:], Y_REG[10:] * 1e10, X_val=X_val, y_val=y_val)
    assert est.n_iter_ == 4
    assert str(est.validation_scores_[-1]) == "nan"
    assert type(est.validation_scores_[-1]) is float
    finite = [score for score in est.validation_scores_ if np.isfinite(score)]
    assert len(finite) == 2
    assert est.best_validation_score_ == max(finite)
    assert est.score(X_val, y_val) == est.best_validation_score_


def test_diverging_before_a_finite_validation_score_raises():
    """No epoch scored a number: there is no best epoch to keep."""
    est = MLPRegressor(**{**DIVERGING, "learning_rate_init": 1e200}, early_stopping=True)
    with pytest.raises(ValueError, match="Training diverged: the training loss at epoch 2"):
        est.fit(X_REG, Y_REG * 1e10)
    assert not hasattr(est, "coefs_")


def test_diverging_classifier_raises():
    est = MLPClassifier(**{**DIVERGING, "learning_rate_init": 1e200})
    with pytest.raises(ValueError, match="learning_rate_init"):
        est.fit(X_MULTI * 1e3, Y_MULTI)


def test_diverging_first_fit_leaves_estimator_unfitted():
    est = MLPRegressor(**DIVERGING)
    with pytest.raises(ValueError, match="learning_rate_init"):
        est.fit(X_REG, Y_REG * 1e10)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


def test_lbfgs_non_finite_objective_message():
    """L-BFGS has no learning rate: its error must not advise changing one."""
    est = MLPRegressor(solver="lbfgs", hidden_layer_sizes=(5,), max_iter=20, random_state=0)
    with pytest.raises(ValueError, match="non-finite") as info:
        est.fit(X_REG, Y_REG * 1e200)
    assert "learning_rate_init" not in str(info.value)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_diverging_warm_start_refit_leaves_model_unchanged(Est):
    X, y = (X_MULTI, Y_MULTI) if Est is MLPClassifier else (X_REG, Y_REG)
    est = Est(
        solver="sgd",
        learning_rate_init=0.01,
        hidden_layer_sizes=(5,),
        max_iter=5,
        random_state=0,
        warm_start=True,
    )
    _fit(est, X, y)
    before = _snapshot(est)
    coefs = [c.copy() for c in est.coefs_]
    intercepts = [c.copy() for c in est.intercepts_]
    n_iter, loss_curve = est.n_iter_, list(est.loss_curve_)
    predictions = est.predict(X)

    est.set_params(learning_rate_init=1e200)
    with pytest.raises(ValueError, match="learning_rate_init"):
        _fit(est, X * 1e3 if Est is MLPClassifier else X, y if Est is MLPClassifier else y * 1e10)

    for a, b in zip(est.coefs_, coefs, strict=True):
        assert_array_equal(a, b)
    for a, b in zip(est.intercepts_, intercepts, strict=True):
        assert_array_equal(a, b)
    assert est.n_iter_ == n_iter
    assert est.loss_curve_ == loss_curve
    est.set_params(learning_rate_init=0.01)
    _assert_same_state(before, est)
    assert_array_equal(est.predict(X), predictions)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_failed_refit_keeps_input_metadata(Est):
    """A fitted model whose refit (warm_start=False) on data of another shape
    fails must keep predicting on the data it was fitted on."""
    X, y = _data(Est)
    est = _fit(
        Est(
            solver="sgd",
            learning_rate_init=0.01,
            hidden_layer_sizes=(5,),
            max_iter=5,
            random_state=0,
        ),
        X,
        y,
    )
    before = _snapshot(est)
    predictions = est.predict(X)
    X_wide = np.hstack([X, X[:, :2]])
    with pytest.raises(ValueError):
        est.fit(X_wide, y, sample_weight=-np.ones(X.shape[0]))
    _assert_same_state(before, est)
    assert_array_equal(est.predict(X), predictions)


def _interrupt_on_call(monkeypatch, name, n_call):
    original = getattr(skreg._solvers.k, name)
    calls = []

    def interrupting(*args, **kwargs):
        calls.append(1)
        if len(calls) == n_call:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(skreg._solvers.k, name, interrupting)
    return calls


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_keyboard_interrupt_leaves_new_estimator_unfitted(Est, solver, monkeypatch):
    X, y = _data(Est)
    name = "loss_and_gradient" if solver == "lbfgs" else "run_epoch"
    calls = _interrupt_on_call(monkeypatch, name, 3)
    est = Est(solver=solver, hidden_layer_sizes=(5,), max_iter=10, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        _fit(est, X, y)
    assert len(calls) == 3
    assert not hasattr(est, "coefs_")
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "solver, early_stopping", [("sgd", False), ("adam", True), ("lbfgs", False)]
)
def test_keyboard_interrupt_leaves_warm_start_model_unchanged(
    Est, solver, early_stopping, monkeypatch
):
    X, y = _data(Est)
    est = Est(
        solver=solver,
        hidden_layer_sizes=(5,),
        max_iter=6,
        random_state=0,
        warm_start=True,
        early_stopping=early_stopping,
    )
    _fit(est, X, y)
    before = _snapshot(est)
    predictions = est.predict(X)
    name = "loss_and_gradient" if solver == "lbfgs" else "run_epoch"
    calls = _interrupt_on_call(monkeypatch, name, 3)
    with pytest.raises(KeyboardInterrupt):
        _fit(est, X, y)
    assert len(calls) == 3
    _assert_same_state(before, est)
    assert_array_equal(est.predict(X), predictions)

    # After the interruption, training goes on as if it had not happened.
    monkeypatch.undo()
    resumed = _fit(est, X, y)
    reference = Est(**est.get_params())
    _fit(reference, X, y)
    _fit(reference, X, y)
    for a, b in zip(resumed.coefs_, reference.coefs_, strict=True):
        assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# Fitted attributes and classifier outputs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_feature_importances(Est, solver):
    X, y = _data(Est)
    est = _fit(Est(**SMALL, solver=solver), X, y)
    fi = est.feature_importances_
    assert fi.shape == (X.shape[1],)
    assert np.all(fi >= 0)
    assert fi.sum() == pytest.approx(1.0, rel=1e-12)
    expected = np.abs(est.coefs_[0]).sum(axis=1)
    np.testing.assert_allclose(fi, expected / expected.sum(), rtol=1e-12)


def test_feature_importances_follow_the_signal():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 4))
    y = 3.0 * X[:, 2] + 0.01 * rng.normal(size=80)
    est = _fit(
        MLPRegressor(solver="lbfgs", hidden_layer_sizes=(6,), l2=1.0, max_iter=200, random_state=0),
        X,
        y,
    )
    assert np.argmax(est.feature_importances_) == 2


def test_string_labels():
    labels = np.array(["cat", "dog", "eel"])
    y = labels[Y_MULTI]
    est = _fit(MLPClassifier(**SMALL), X_MULTI, y)
    assert_array_equal(est.classes_, labels)
    pred = est.predict(X_MULTI)
    assert pred.dtype == y.dtype
    assert set(pred) <= set(labels)
    assert est.predict_proba(X_MULTI).shape == (60, 3)
    # Same network as with integer labels.
    ints = _fit(MLPClassifier(**SMALL), X_MULTI, Y_MULTI)
    assert_array_equal(labels[ints.predict(X_MULTI)], pred)


def test_string_labels_early_stopping():
    y = np.array(["no", "yes"], dtype=object)[Y_BIN]
    est = _fit(MLPClassifier(**SMALL, early_stopping=True, validation_fraction=0.2), X_BIN, y)
    assert len(est.validation_scores_) == est.n_iter_
    assert np.all(np.isfinite(est.validation_scores_))
    assert set(est.predict(X_BIN)) <= {"no", "yes"}


def test_bool_labels():
    y = Y_BIN.astype(bool)
    est = _fit(MLPClassifier(**SMALL), X_BIN, y)
    assert_array_equal(est.classes_, [False, True])
    pred = est.predict(X_BIN)
    assert pred.dtype == bool
    assert est.score(X_BIN, y) == np.mean(pred == y)


@pytest.mark.parametrize("X, y", [(X_BIN, Y_BIN), (X_MULTI, Y_MULTI)], ids=["binary", "multiclass"])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_predict_proba_and_log_proba(X, y, solver):
    est = _fit(MLPClassifier(**SMALL, solver=solver), X, y)
    proba = est.predict_proba(X)
    n_classes = len(np.unique(y))
    assert proba.shape == (X.shape[0], n_classes)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert_array_equal(est.classes_[np.argmax(proba, axis=1)], est.predict(X))
    log_proba = est.predict_log_proba(X)
    np.testing.assert_allclose(log_proba, np.log(proba), rtol=1e-14)
    # predict_log_proba must not modify a later predict_proba
    assert_array_equal(est.predict_proba(X), proba)


def test_multilabel_outputs():
    rng = np.random.RandomState(0)
    Y = (rng.uniform(size=(50, 3)) < X_BIN[:, :3] / 4 + 0.5).astype(int)
    est = _fit(MLPClassifier(**SMALL), X_BIN, Y)
    assert est.predict(X_BIN).shape == (50, 3)
    assert set(np.unique(est.predict(X_BIN))) <= {0, 1}
    proba = est.predict_proba(X_BIN)
    assert proba.shape == (50, 3)
    assert_array_equal(est.predict(X_BIN), (proba > 0.5).astype(int))


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize(
    "Est, X, y",
    [
        (MLPClassifier, X_BIN, Y_BIN),
        (MLPClassifier, X_MULTI, Y_MULTI),
        (MLPRegressor, X_REG, Y_REG),
    ],
    ids=["binary", "multiclass", "regressor"],
)
def test_validation_set_too_small(Est, X, y):
    """50 or 60 rows * 0.01 -> a single validation row: scikit-learn's error,
    which for binary (stratified) targets is train_test_split's."""
    sklearn_class = {MLPClassifier: SklearnMLPClassifier, MLPRegressor: SklearnMLPRegressor}[Est]
    with pytest.raises(ValueError) as theirs:
        sklearn_class(**SMALL, early_stopping=True, validation_fraction=0.01).fit(X, y)
    est = Est(**SMALL, early_stopping=True, validation_fraction=0.01)
    with pytest.raises(ValueError, match=re.escape(str(theirs.value))):
        est.fit(X, y)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_batch_size_larger_than_n_samples(Est):
    X, y = _data(Est)
    est = Est(**SMALL, solver="sgd", batch_size=500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(UserWarning, match="batch_size"):
            est.fit(X, y)
    check_is_fitted(est)
    assert est.n_iter_ == 5
    # Clipped to the number of samples: identical to a full batch.
    full = _fit(Est(**SMALL, solver="sgd", batch_size=X.shape[0]), X, y)
    for a, b in zip(est.coefs_, full.coefs_, strict=True):
        assert_array_equal(a, b)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_warm_start_requires_same_network(Est):
    X, y = _data(Est)
    est = _fit(Est(**SMALL, warm_start=True), X, y)
    before = _snapshot(est)
    est.set_params(hidden_layer_sizes=(6,))
    with pytest.raises(ValueError, match="warm_start"):
        est.fit(X, y)
    est.set_params(hidden_layer_sizes=(5,))
    _assert_same_state(before, est)


def test_warm_start_requires_same_classes():
    est = _fit(MLPClassifier(**SMALL, warm_start=True), X_MULTI, Y_MULTI)
    with pytest.raises(ValueError, match="classes"):
        est.fit(X_MULTI, np.where(Y_MULTI == 2, 3, Y_MULTI))


def test_y_length_mismatch():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MLPRegressor(**SMALL).fit(X_REG, Y_REG[:-1])


def _validation_outcome(validate, X):
    """What validating ``X`` returns (or raises), and the warnings it gives."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = validate(X)
        except Exception as error:  # noqa: BLE001 - the outcome is compared, whatever it is
            result = (type(error), str(error))
    return result, [str(w.message) for w in caught]


PREDICTION_INPUTS = {
    "float64": X_BIN,
    "float32": X_BIN.astype(np.float32),
    "fortran": np.asfortranarray(X_BIN),
    "strided": X_BIN[::2],
    "one row": X_BIN[:1],
    "read-only": np.frombuffer(X_BIN.tobytes()).reshape(X_BIN.shape),
    "int": np.arange(20).reshape(5, 4),
    "nan": np.where(np.eye(50, 4, dtype=bool), np.nan, X_BIN),
    "inf": np.where(np.eye(50, 4, dtype=bool), np.inf, X_BIN),
    "huge finite": np.full((3, 4), 1e308),
    "no rows": X_BIN[:0],
    "too few columns": X_BIN[:, :3],
    "1-D": X_BIN[0],
    "3-D": X_BIN.reshape(50, 2, 2),
    "complex": X_BIN + 1j,
}


@pytest.mark.parametrize("fitted_on", ["ndarray", "DataFrame"])
@pytest.mark.parametrize("name", PREDICTION_INPUTS)
def test_prediction_input_is_what_validate_data_gives(name, fitted_on):
    """The fast path for plain float arrays at predict returns, raises and
    warns exactly what scikit-learn's validate_data does."""
    from sklearn.utils.validation import validate_data

    pd = pytest.importorskip("pandas")
    X_fit = pd.DataFrame(X_BIN, columns=list("abcd")) if fitted_on == "DataFrame" else X_BIN
    est = _fit(MLPClassifier(**SMALL), X_fit, Y_BIN)
    X = PREDICTION_INPUTS[name]
    fast, fast_warnings = _validation_outcome(est._prediction_input, X)
    full, full_warnings = _validation_outcome(
        lambda X: validate_data(
            est, X, accept_sparse="csr", dtype=(np.float64, np.float32), reset=False
        ),
        X,
    )
    assert fast_warnings == full_warnings
    if isinstance(full, tuple):
        assert fast == full
    else:
        assert fast.dtype == full.dtype
        assert_array_equal(fast, full)
        assert_array_equal(
            *(_validation_outcome(est.predict_proba, X)[0] for X in (X, np.array(full)))
        )
