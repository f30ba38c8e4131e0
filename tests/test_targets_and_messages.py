"""Poisson loss, target types, verbose output, warnings and feature names.

* ``MLPRegressor(loss='poisson')``: exponential output, half the Poisson
  deviance, ``y >= 0`` required (scikit-learn 1.9 silently trains to NaN on a
  negative target; skreg raises a ValueError naming the loss), the
  ``positive_only`` target tag set.
* Targets: binary and multiclass labels of every dtype, multi-label indicator
  matrices, multi-output regression and column-vector y, as scikit-learn.
* Messages: the verbose lines, the ConvergenceWarning and the feature-name
  checks of scikit-learn.

Parity with scikit-learn (``alpha=l2``, same ``random_state``): ``rtol=1e-6``,
``atol=1e-10``; the largest deviation is printed at the end of the session
(tests/conftest.py).
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from _parity import DeviationLog, SklearnRegressorOneLbfgsObjective, fit_quietly
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import neural_network as sk_nn
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.metrics import mean_poisson_deviance
from sklearn.utils import get_tags

import skreg

_DEVIATIONS = DeviationLog("targets/messages parity")

SOLVER_PARAMS = {
    "sgd": dict(solver="sgd", learning_rate_init=0.05),
    "adam": dict(solver="adam", learning_rate_init=0.02),
    "lbfgs": dict(solver="lbfgs"),
}
BASE = dict(hidden_layer_sizes=(6, 4), random_state=3, max_iter=10, batch_size=10)


def _assert_same_model(a, b, X, label):
    _DEVIATIONS.assert_same_model(
        a, b, X, label, attributes=("out_activation_", "n_outputs_"), check_dtypes=True
    )


def _fit_both(Ours, Theirs, X, y, l2=1e-3, sample_weight=None, **params):
    ours = fit_quietly(Ours(l2=l2, **params), X, y, sample_weight=sample_weight)
    theirs = fit_quietly(Theirs(alpha=l2, **params), X, y, sample_weight=sample_weight)
    return ours, theirs


# ---------------------------------------------------------------------------
# 1. Poisson
# ---------------------------------------------------------------------------


def _poisson_data(n_outputs=1, zeros=False):
    rng = np.random.RandomState(11)
    X = rng.uniform(-1, 1, size=(53, 4))
    W = rng.normal(0.0, 0.6, size=(4, n_outputs))
    y = rng.poisson(np.exp(0.3 + X @ W)).astype(float)
    if zeros:
        y[rng.uniform(size=y.shape) < 0.5] = 0.0
    return X, (y.ravel() if n_outputs == 1 else y)


POISSON_CASES = [
    pytest.param(solver, n_out, es, id=f"{solver}-{n_out}out{'-es' if es else ''}")
    for solver in ["sgd", "adam", "lbfgs"]
    for n_out in [1, 3]
    for es in ([False, True] if solver != "lbfgs" else [False])
]


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize("solver, n_outputs, early_stopping", POISSON_CASES)
def test_poisson_parity(solver, n_outputs, early_stopping):
    X, y = _poisson_data(n_outputs)
    params = dict(
        BASE,
        **SOLVER_PARAMS[solver],
        loss="poisson",
        early_stopping=early_stopping,
        validation_fraction=0.2,
    )
    ours, theirs = _fit_both(skreg.MLPRegressor, sk_nn.MLPRegressor, X, y, **params)
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    _assert_same_model(ours, theirs, X, f"poisson-{solver}-{n_outputs}-es={early_stopping}")


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_poisson_parity_with_many_zero_targets(solver):
    X, y = _poisson_data(2, zeros=True)
    assert np.mean(y == 0) > 0.5
    params = dict(BASE, **SOLVER_PARAMS[solver], loss="poisson")
    ours, theirs = _fit_both(skreg.MLPRegressor, sk_nn.MLPRegressor, X, y, **params)
    assert np.isfinite(ours.loss_)
    _assert_same_model(ours, theirs, X, f"poisson-zeros-{solver}")


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_poisson_partial_fit_parity(solver):
    X, y = _poisson_data(1)
    params = dict(BASE, **SOLVER_PARAMS[solver], loss="poisson")
    ours, theirs = skreg.MLPRegressor(l2=1e-3, **params), sk_nn.MLPRegressor(alpha=1e-3, **params)
    for rows in [slice(0, 20), slice(20, 53), slice(0, 53)]:
        ours.partial_fit(X[rows], y[rows])
        theirs.partial_fit(X[rows], y[rows])
        _assert_same_model(ours, theirs, X, f"poisson-partial_fit-{solver}")


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_poisson_loss_is_half_the_mean_deviance(n_outputs):
    """lbfgs reports the objective at its final weights: half the mean
    Poisson deviance (summed over outputs) plus the L2 term."""
    X, y = _poisson_data(n_outputs, zeros=True)
    l2 = 0.3
    est = fit_quietly(
        skreg.MLPRegressor(
            loss="poisson",
            solver="lbfgs",
            l2=l2,
            hidden_layer_sizes=(5,),
            max_iter=30,
            random_state=0,
        ),
        X,
        y,
    )
    pred = est.predict(X).reshape(len(X), -1)
    Y = y.reshape(len(X), -1)
    half_deviance = sum(0.5 * mean_poisson_deviance(Y[:, j], pred[:, j]) for j in range(n_outputs))
    penalty = 0.5 * l2 * sum(np.sum(c**2) for c in est.coefs_) / len(X)
    assert est.loss_ == pytest.approx(half_deviance + penalty, rel=1e-9)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_poisson_predictions_are_positive(solver):
    X, y = _poisson_data(2)
    est = fit_quietly(skreg.MLPRegressor(loss="poisson", **BASE, **SOLVER_PARAMS[solver]), X, y)
    assert est.out_activation_ == "exp"
    rng = np.random.RandomState(0)
    X_far = rng.normal(0, 20, size=(200, 4))  # far outside the training range
    for pred in (est.predict(X), est.predict(X_far)):
        assert np.all(pred > 0)
        assert np.all(np.isfinite(pred))
    # The output is the exponential of the last layer's affine output.
    hidden = X
    for c, b in zip(est.coefs_[:-1], est.intercepts_[:-1], strict=True):
        hidden = np.maximum(hidden @ c + b, 0)
    assert_allclose(
        est.predict(X), np.exp(hidden @ est.coefs_[-1] + est.intercepts_[-1]), rtol=1e-12
    )


def test_poisson_all_zero_targets():
    X, _ = _poisson_data(1)
    y = np.zeros(len(X))
    for solver in ["sgd", "adam", "lbfgs"]:
        est = fit_quietly(skreg.MLPRegressor(loss="poisson", **BASE, **SOLVER_PARAMS[solver]), X, y)
        assert np.isfinite(est.loss_)
        pred = est.predict(X)
        assert np.all(pred > 0) and np.all(np.isfinite(pred))
        # Fitting zeros pushes the predicted rates down.
        first = fit_quietly(
            skreg.MLPRegressor(loss="poisson", **{**BASE, "max_iter": 1}, **SOLVER_PARAMS[solver]),
            X,
            y,
        )
        assert pred.mean() < first.predict(X).mean()


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("y_kind", ["1d", "2d", "tiny"])
def test_poisson_negative_target_raises(method, y_kind):
    X, y = _poisson_data(1 if y_kind != "2d" else 2)
    y = y.copy()
    if y_kind == "tiny":
        y[7] = -1e-12
    else:
        y.flat[7] = -1.0
    est = skreg.MLPRegressor(loss="poisson", solver="adam", hidden_layer_sizes=(5,), max_iter=3)
    with pytest.raises(ValueError) as info:
        getattr(est, method)(X, y)
    message = str(info.value)
    assert "poisson" in message
    assert re.search(r"non-?negative", message), message
    assert not hasattr(est, "coefs_") and not hasattr(est, "n_features_in_")


def test_poisson_negative_target_leaves_fitted_model_unchanged():
    X, y = _poisson_data(1)
    est = fit_quietly(
        skreg.MLPRegressor(loss="poisson", warm_start=True, **BASE, **SOLVER_PARAMS["adam"]), X, y
    )
    coefs = [c.copy() for c in est.coefs_]
    curve = list(est.loss_curve_)
    for method in ("fit", "partial_fit"):
        with pytest.raises(ValueError, match="poisson"):
            getattr(est, method)(X, y - 5)
        for a, b in zip(est.coefs_, coefs, strict=True):
            assert_array_equal(a, b)
        assert est.loss_curve_ == curve


def test_squared_error_accepts_negative_targets():
    X, y = _poisson_data(1)
    est = fit_quietly(skreg.MLPRegressor(**BASE, **SOLVER_PARAMS["adam"]), X, y - 5)
    assert est.out_activation_ == "identity"
    assert np.any(est.predict(X) < 0)


def test_positive_only_tag():
    assert get_tags(skreg.MLPRegressor(loss="poisson")).target_tags.positive_only is True
    assert get_tags(skreg.MLPRegressor()).target_tags.positive_only is False
    est = skreg.MLPRegressor()
    est.set_params(loss="poisson")
    assert get_tags(est).target_tags.positive_only is True
    assert get_tags(skreg.MLPClassifier()).target_tags.positive_only is False


# ---------------------------------------------------------------------------
# 2. Targets
# ---------------------------------------------------------------------------

X_CLF, Y_CODES_BIN = make_classification(
    n_samples=53, n_features=5, n_informative=3, n_redundant=0, random_state=20
)
X_MC, Y_CODES_MC = make_classification(
    n_samples=53, n_features=5, n_informative=4, n_redundant=0, n_classes=4, random_state=21
)


def _labels(kind, codes):
    names = np.array(["apple", "kiwi", "lime", "pear"])
    if kind == "int":
        return np.array([-3, 7, 11, 40])[codes]
    if kind == "float":  # integral floats: class labels for scikit-learn
        return np.array([-1.0, 2.0, 5.0, 9.0])[codes]
    if kind == "str":
        return names[codes]
    if kind == "object":
        return names[codes].astype(object)
    if kind == "list":
        return list(names[codes])
    if kind == "bool":
        return codes.astype(bool)
    raise ValueError(kind)


LABEL_CASES = [
    pytest.param(problem, kind, id=f"{problem}-{kind}")
    for problem in ["binary", "multiclass"]
    for kind in ["int", "float", "str", "object", "list"]
    + (["bool"] if problem == "binary" else [])
]


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
@pytest.mark.parametrize("problem, kind", LABEL_CASES)
def test_label_types_like_sklearn(problem, kind, solver):
    X, codes = (X_CLF, Y_CODES_BIN) if problem == "binary" else (X_MC, Y_CODES_MC)
    y = _labels(kind, codes)
    params = dict(BASE, **SOLVER_PARAMS[solver])
    ours, theirs = _fit_both(skreg.MLPClassifier, sk_nn.MLPClassifier, X, y, **params)
    n_classes = 2 if problem == "binary" else 4
    assert len(ours.classes_) == n_classes
    assert ours.out_activation_ == ("logistic" if problem == "binary" else "softmax")
    assert ours.predict_proba(X).shape == (len(X), n_classes)
    _assert_same_model(ours, theirs, X, f"labels-{problem}-{kind}-{solver}")
    # predict returns labels from classes_, of the type scikit-learn returns.
    assert set(ours.predict(X)) <= set(ours.classes_)
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y), abs=1e-12)


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize("problem", ["binary", "multiclass"])
def test_string_labels_with_early_stopping_like_sklearn(problem):
    """scikit-learn's test_mlp_early_stopping_string_labels, with parity."""
    X, codes = (X_CLF, Y_CODES_BIN) if problem == "binary" else (X_MC, Y_CODES_MC)
    y = _labels("str", codes)
    params = dict(BASE, **SOLVER_PARAMS["adam"], early_stopping=True, validation_fraction=0.25)
    ours, theirs = _fit_both(skreg.MLPClassifier, sk_nn.MLPClassifier, X, y, **params)
    _assert_same_model(ours, theirs, X, f"labels-str-es-{problem}")


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_multilabel_like_sklearn(solver):
    X, Y = make_multilabel_classification(n_samples=53, n_features=5, n_classes=4, random_state=22)
    X = X / X.max()
    params = dict(BASE, **SOLVER_PARAMS[solver])
    ours, theirs = _fit_both(skreg.MLPClassifier, sk_nn.MLPClassifier, X, Y, **params)
    assert ours.out_activation_ == "logistic"
    assert_array_equal(ours.classes_, [0, 1, 2, 3])
    proba = ours.predict_proba(X)
    assert proba.shape == (len(X), 4)
    assert np.all((proba > 0) & (proba < 1))
    # Per-label probabilities, not a distribution over labels.
    assert not np.allclose(proba.sum(axis=1), 1.0)
    pred = ours.predict(X)
    assert pred.shape == Y.shape
    assert_array_equal(pred, (proba > 0.5).astype(pred.dtype))
    _assert_same_model(ours, theirs, X, f"multilabel-{solver}")


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_multioutput_regression_like_sklearn(solver):
    X, Y = make_regression(n_samples=53, n_features=5, n_targets=3, noise=0.5, random_state=23)
    Y = (Y - Y.mean(axis=0)) / Y.std(axis=0)
    params = dict(BASE, **SOLVER_PARAMS[solver])
    # scikit-learn's regressor with skreg's one L-BFGS objective (its issue #8349).
    ours, theirs = _fit_both(skreg.MLPRegressor, SklearnRegressorOneLbfgsObjective, X, Y, **params)
    assert ours.predict(X).shape == (len(X), 3)
    assert ours.n_outputs_ == 3
    _assert_same_model(ours, theirs, X, f"multioutput-{solver}")


@pytest.mark.sklearn_mlp_newer_than_floor
@pytest.mark.parametrize("target", ["classifier", "regressor", "poisson"])
def test_column_vector_y_warns_and_equals_1d(target):
    if target == "classifier":
        X, y = X_MC, _labels("str", Y_CODES_MC)
        Ours, Theirs, extra = skreg.MLPClassifier, sk_nn.MLPClassifier, {}
    else:
        X, y = _poisson_data(1)
        Ours, Theirs = skreg.MLPRegressor, sk_nn.MLPRegressor
        extra = {"loss": "poisson"} if target == "poisson" else {}
    params = dict(BASE, **SOLVER_PARAMS["adam"], **extra)
    column = np.asarray(y).reshape(-1, 1)
    flat = fit_quietly(Ours(**params), X, y)
    message = "A column-vector y was passed when a 1d array was expected"
    with pytest.warns(DataConversionWarning, match=message):
        ours_col = fit_quietly(Ours(**params), X, column)
    with pytest.warns(DataConversionWarning, match=message):
        theirs_col = fit_quietly(Theirs(alpha=1e-4, **params), X, column)
    for a, b in zip(
        ours_col.coefs_ + ours_col.intercepts_, flat.coefs_ + flat.intercepts_, strict=True
    ):
        assert_array_equal(a, b)
    assert ours_col.n_outputs_ == flat.n_outputs_ == (4 if target == "classifier" else 1)
    assert ours_col.predict(X).shape == (len(X),)
    assert_array_equal(ours_col.predict(X), flat.predict(X))
    _assert_same_model(ours_col, theirs_col, X, f"column-y-{target}")
    # partial_fit too.
    part = Ours(**params)
    with pytest.warns(DataConversionWarning, match=message):
        if target == "classifier":
            part.partial_fit(X, column, classes=np.unique(y))
        else:
            part.partial_fit(X, column)
    assert part.predict(X).shape == (len(X),)


# ---------------------------------------------------------------------------
# 3. Verbose output
# ---------------------------------------------------------------------------

_NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]\d+)?|nan|-?inf")


def _assert_same_lines(ours, theirs):
    """Same lines, with every printed decimal number equal up to one unit of
    its last printed digit (both libraries print with the same formats)."""
    ours_lines, theirs_lines = ours.splitlines(), theirs.splitlines()
    assert len(ours_lines) == len(theirs_lines), (ours, theirs)
    for a, b in zip(ours_lines, theirs_lines, strict=True):
        assert _NUMBER.sub("#", a) == _NUMBER.sub("#", b), (a, b)
        for x, z in zip(_NUMBER.findall(a), _NUMBER.findall(b), strict=True):
            if x == z:
                continue
            # The same format (number of decimals), and the values equal up
            # to a rounding of the last digit.
            assert "e" not in x + z and "." in x and "." in z, (a, b)
            decimals = len(x.split(".")[1])
            assert decimals == len(z.split(".")[1]), (a, b)
            assert abs(float(x) - float(z)) <= 1.01 * 10.0**-decimals, (a, b)


VERBOSE_CASES = {
    # The learning rate is divided by 5 every second epoch (tol is huge) until
    # it is too small; every epoch prints its validation score.
    "sgd-adaptive-es": dict(
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.05,
        tol=1e3,
        n_iter_no_change=1,
        early_stopping=True,
        validation_fraction=0.2,
        max_iter=40,
    ),
    "sgd-constant-es": dict(
        solver="sgd",
        learning_rate_init=0.05,
        tol=1e-2,
        n_iter_no_change=2,
        early_stopping=True,
        validation_fraction=0.2,
        max_iter=60,
    ),
    "adam": dict(solver="adam", learning_rate_init=0.02, tol=5e-2, n_iter_no_change=2, max_iter=60),
    "adam-max_iter": dict(solver="adam", learning_rate_init=0.02, max_iter=4),
}


@pytest.mark.parametrize("case", list(VERBOSE_CASES))
@pytest.mark.parametrize("target", ["classifier", "regressor"])
def test_verbose_lines_equal_sklearn(case, target, capsys):
    if target == "classifier":
        X, y, Ours, Theirs = X_MC, Y_CODES_MC, skreg.MLPClassifier, sk_nn.MLPClassifier
    else:
        X, y = make_regression(n_samples=53, n_features=5, noise=1.0, random_state=24)
        y = y / y.std()
        Ours, Theirs = skreg.MLPRegressor, sk_nn.MLPRegressor
    params = dict(BASE, verbose=True, **VERBOSE_CASES[case])
    capsys.readouterr()
    ours = fit_quietly(Ours(l2=1e-3, **params), X, y)
    ours_out = capsys.readouterr().out
    theirs = fit_quietly(Theirs(alpha=1e-3, **params), X, y)
    theirs_out = capsys.readouterr().out
    assert ours_out.count("Iteration ") == ours.n_iter_ > 1
    if params.get("early_stopping"):
        assert ours_out.count("Validation score: ") == ours.n_iter_
    if case == "sgd-adaptive-es":
        assert "Setting learning rate to 0.010000" in ours_out
        assert ours_out.rstrip().endswith("Learning rate too small. Stopping.")
    elif case == "adam":
        assert (
            "Training loss did not improve more than tol=0.050000 for 2 consecutive epochs. "
            "Stopping." in ours_out
        )
    elif case == "sgd-constant-es":
        assert (
            "Validation score did not improve more than tol=0.010000 for 2 consecutive "
            "epochs. Stopping." in ours_out
        )
    _assert_same_lines(ours_out, theirs_out)
    _assert_same_model(ours, theirs, X, f"verbose-{case}-{target}")


def test_verbose_partial_fit_lines_equal_sklearn(capsys):
    X, y = X_MC, Y_CODES_MC
    params = dict(BASE, solver="sgd", learning_rate_init=0.05, verbose=True)
    outputs = []
    for Est in (skreg.MLPClassifier, sk_nn.MLPClassifier):
        capsys.readouterr()
        est = Est(**params)
        est.partial_fit(X[:20], y[:20], classes=[0, 1, 2, 3])
        est.partial_fit(X[20:], y[20:])
        outputs.append(capsys.readouterr().out)
    assert outputs[0].count("Iteration 1, loss = ") == 2
    _assert_same_lines(*outputs)


@pytest.mark.parametrize("Est", [skreg.MLPClassifier, skreg.MLPRegressor])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_verbose_false_prints_nothing_and_verbose_does_not_change_the_fit(Est, solver, capsys):
    X, y = (X_MC, Y_CODES_MC) if Est is skreg.MLPClassifier else _poisson_data(1)
    params = dict(BASE, **SOLVER_PARAMS[solver])
    capsys.readouterr()
    quiet = fit_quietly(Est(**params), X, y)
    assert capsys.readouterr().out == ""
    loud = fit_quietly(Est(verbose=True, **params), X, y)
    out = capsys.readouterr().out
    if solver != "lbfgs":
        assert out.count("Iteration ") == loud.n_iter_
    for a, b in zip(quiet.coefs_, loud.coefs_, strict=True):
        assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# 4. ConvergenceWarning
# ---------------------------------------------------------------------------


def _warning_messages(est, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    return [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("target", ["classifier", "regressor"])
def test_convergence_warning_at_max_iter_like_sklearn(target, solver):
    if target == "classifier":
        X, y, Ours, Theirs = X_MC, Y_CODES_MC, skreg.MLPClassifier, sk_nn.MLPClassifier
    else:
        X, y = _poisson_data(1)
        Ours, Theirs = skreg.MLPRegressor, sk_nn.MLPRegressor
    params = dict(BASE, **SOLVER_PARAMS[solver], max_iter=5)
    ours = _warning_messages(Ours(**params), X, y)
    theirs = _warning_messages(Theirs(**params), X, y)
    assert len(ours) == len(theirs) == 1, (ours, theirs)
    if solver == "lbfgs":
        assert ours[0].startswith("lbfgs failed to converge after 5 iteration(s)"), ours[0]
        assert "max_iter" in ours[0]
    else:
        assert (
            ours
            == theirs
            == [
                "Stochastic Optimizer: Maximum iterations (5) reached and the optimization "
                "hasn't converged yet."
            ]
        )


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_no_convergence_warning_when_converged(solver):
    X, y = X_MC, Y_CODES_MC
    params = dict(BASE, **SOLVER_PARAMS[solver], max_iter=500, tol=0.05, n_iter_no_change=2)
    if solver == "lbfgs":
        params["tol"] = 1e-2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = skreg.MLPClassifier(**params).fit(X, y)
        theirs = sk_nn.MLPClassifier(**params).fit(X, y)
    assert est.n_iter_ < 500 and theirs.n_iter_ < 500
    if solver != "lbfgs":
        assert est.n_iter_ == theirs.n_iter_
    # (Over ~100 L-BFGS iterations the two trajectories part: rounding
    # differences of 1e-15 grow by ~10x per 10 iterations, so the iteration
    # at which lbfgs meets tol is not compared.)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_warm_start_without_stopping_runs_max_iter_and_warns_each_time(solver):
    """scikit-learn's test_mlp_warm_start_no_convergence."""
    X, y = X_MC, Y_CODES_MC
    est = skreg.MLPClassifier(
        solver=solver,
        warm_start=True,
        n_iter_no_change=np.inf,
        max_iter=10,
        hidden_layer_sizes=(5,),
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    assert est.n_iter_ == 10
    est.set_params(max_iter=20)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    assert est.n_iter_ == 20
    if solver != "lbfgs":
        assert len(est.loss_curve_) == 30


# ---------------------------------------------------------------------------
# 5. Feature names
# ---------------------------------------------------------------------------

COLUMNS = ["age", "height", "weight", "score", "rank"]


def _frame(X, columns=COLUMNS):
    return pd.DataFrame(X, columns=columns)


@pytest.mark.parametrize(
    "Ours, Theirs",
    [(skreg.MLPClassifier, sk_nn.MLPClassifier), (skreg.MLPRegressor, sk_nn.MLPRegressor)],
)
@pytest.mark.parametrize("early_stopping", [False, True])
def test_feature_names_in_from_dataframe(Ours, Theirs, early_stopping):
    X, y = X_MC, Y_CODES_MC
    params = dict(
        BASE, **SOLVER_PARAMS["adam"], early_stopping=early_stopping, validation_fraction=0.2
    )
    with warnings.catch_warnings():
        # No feature-name warning from scoring the validation set (gh-24846).
        warnings.simplefilter("error", UserWarning)
        ours = fit_quietly(Ours(**params), _frame(X), y)
        ours.predict(_frame(X))
    theirs = fit_quietly(Theirs(**params), _frame(X), y)
    assert_array_equal(ours.feature_names_in_, COLUMNS)
    assert ours.feature_names_in_.dtype == theirs.feature_names_in_.dtype == object
    assert ours.n_features_in_ == 5
    # A refit on an array forgets the names, as in scikit-learn.
    fit_quietly(ours, X, y)
    fit_quietly(theirs, X, y)
    assert not hasattr(ours, "feature_names_in_") and not hasattr(theirs, "feature_names_in_")
    # Non-string column names are no feature names.
    fit_quietly(ours, pd.DataFrame(X), y)
    assert not hasattr(ours, "feature_names_in_")


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
@pytest.mark.parametrize("change", ["renamed", "reordered", "array", "frame-after-array"])
def test_predict_with_other_columns_like_sklearn(change, method):
    X, y = X_MC, Y_CODES_MC
    params = dict(BASE, **SOLVER_PARAMS["adam"])
    outcomes = []
    for Est in (skreg.MLPClassifier, sk_nn.MLPClassifier):
        est = fit_quietly(Est(**params), X if change == "frame-after-array" else _frame(X), y)
        if change == "renamed":
            X_pred = _frame(X, ["age", "height", "mass", "score", "rank"])
        elif change == "reordered":
            X_pred = _frame(X)[COLUMNS[::-1]]
        elif change == "array":
            X_pred = X
        else:
            X_pred = _frame(X)
        args = (X_pred, y) if method == "score" else (X_pred,)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                getattr(est, method)(*args)
                error = None
            except ValueError as e:
                error = str(e)
        messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        outcomes.append((error, messages))
    assert outcomes[0] == outcomes[1]
    error, messages = outcomes[0]
    if change in ("renamed", "reordered"):
        assert error is not None and error.startswith(
            "The feature names should match those that were passed during fit."
        )
    elif change == "array":
        assert error is None
        assert messages == [
            "X does not have valid feature names, but MLPClassifier was fitted with feature names"
        ]
    else:
        assert error is None
        assert messages == [
            "X has feature names, but MLPClassifier was fitted without feature names"
        ]


def test_partial_fit_keeps_and_checks_feature_names():
    X, y = X_MC, Y_CODES_MC
    est = skreg.MLPClassifier(**BASE, **SOLVER_PARAMS["sgd"])
    est.partial_fit(_frame(X[:20]), y[:20], classes=[0, 1, 2, 3])
    assert_array_equal(est.feature_names_in_, COLUMNS)
    est.partial_fit(_frame(X[20:]), y[20:])
    coefs = [c.copy() for c in est.coefs_]
    t = est.t_
    with pytest.raises(ValueError, match="The feature names should match"):
        est.partial_fit(_frame(X[20:], COLUMNS[::-1]), y[20:])
    assert_array_equal(est.feature_names_in_, COLUMNS)
    for a, b in zip(est.coefs_, coefs, strict=True):
        assert_array_equal(a, b)
    assert est.t_ == t


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


@pytest.mark.sklearn_mlp_newer_than_floor
def test_poisson_adam_matches_sklearn():
    X, y = _poisson_data(3)
    ours, theirs = _fit_both(
        skreg.MLPRegressor,
        sk_nn.MLPRegressor,
        X,
        y,
        **dict(BASE, **SOLVER_PARAMS["adam"], loss="poisson"),
    )
    _assert_same_model(ours, theirs, X, "report")
