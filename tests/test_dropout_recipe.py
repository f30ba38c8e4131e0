"""The dropout paper's recipe (Srivastava et al., 2014): ``max_norm`` and
``input_dropout`` through the estimator API (tests/kernels/ checks the
projection and the input masks against a NumPy reference)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import InvalidParameterError

from skreg import MLPClassifier, MLPRegressor


def noisy_digits_split(seed):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16, y, test_size=0.5, stratify=y, random_state=seed
    )
    rng = np.random.RandomState(seed)
    flipped = rng.rand(y_train.shape[0]) < 0.2
    y_train = y_train.copy()
    y_train[flipped] = rng.randint(0, 10, flipped.sum())
    return X_train, X_test, y_train, y_test


@pytest.fixture(scope="module")
def noisy_digits():
    """digits / 16 with 20% of the training labels replaced at random; the
    test labels are the true ones."""
    return noisy_digits_split(0)


def fit_quietly(model, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **fit_params)


def column_norms(model):
    return [np.linalg.norm(coef, axis=0) for coef in model.coefs_]


# --------------------------------------------------------------------------
# max_norm
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "solver, extra",
    [
        ("sgd", {}),
        ("adam", {}),
        ("sgd", dict(dropout=0.5, input_dropout=0.2)),
        ("adam", dict(l1=0.1, group_l1=0.5, l2=0.1)),
    ],
    ids=["sgd", "adam", "sgd-dropout", "adam-penalties"],
)
def test_every_unit_keeps_its_weight_norm_within_max_norm(solver, extra, dtype, noisy_digits):
    """Every column of every layer, output layer included, ends within the
    bound to rounding; some are at it (the constraint was active), where the
    unconstrained fit goes past it."""
    X_train, _, y_train, _ = noisy_digits
    params = dict(
        hidden_layer_sizes=(64, 32),
        solver=solver,
        max_iter=20,
        random_state=0,
        learning_rate_init=0.1 if solver == "sgd" else 0.01,
        **extra,
    )
    X = X_train.astype(dtype)
    max_norm = 1.0
    bounded = fit_quietly(MLPClassifier(**params, max_norm=max_norm), X, y_train)
    free = fit_quietly(MLPClassifier(**params), X, y_train)
    norms = np.concatenate(column_norms(bounded))
    assert norms.max() <= max_norm * (1 + 8 * np.finfo(dtype).eps), norms.max()
    assert np.sum(np.isclose(norms, max_norm, rtol=1e-5)) >= 5
    assert np.concatenate(column_norms(free)).max() > 1.2 * max_norm
    assert bounded.coefs_[0].dtype == dtype


def test_intercepts_are_not_constrained():
    X, y = make_regression(n_samples=200, n_features=3, noise=1.0, random_state=0)
    model = fit_quietly(
        MLPRegressor(
            hidden_layer_sizes=(4,),
            solver="sgd",
            learning_rate_init=0.01,
            max_norm=0.5,
            max_iter=200,
            random_state=0,
        ),
        X,
        y / 10 + 5,
    )
    assert max(norms.max() for norms in column_norms(model)) <= 0.5 * (1 + 1e-15)
    assert np.abs(model.intercepts_[-1]).max() > 1.0


def test_max_norm_and_dropout_together_beat_either_at_a_high_learning_rate():
    """The paper's claim on noisy digits, sgd at learning rate 0.3 and
    momentum 0.95, 60 epochs, mean accuracy on the true test labels of three
    splits (seen: 0.841 unregularised, 0.867 dropout, 0.855 max-norm, 0.906
    both)."""
    base = dict(
        hidden_layer_sizes=(256, 256),
        solver="sgd",
        learning_rate_init=0.3,
        momentum=0.95,
        l2=0.0,
        max_iter=60,
        n_iter_no_change=np.inf,
        random_state=0,
    )
    settings = {
        "none": {},
        "dropout": dict(dropout=0.5, input_dropout=0.2),
        "max_norm": dict(max_norm=2.0),
        "both": dict(dropout=0.5, input_dropout=0.2, max_norm=2.0),
    }
    scores = {name: [] for name in settings}
    for seed in range(3):
        X_train, X_test, y_train, y_test = noisy_digits_split(seed)
        for name, extra in settings.items():
            model = fit_quietly(MLPClassifier(**base, **extra), X_train, y_train)
            scores[name].append(model.score(X_test, y_test))
    mean = {name: np.mean(values) for name, values in scores.items()}
    assert mean["both"] > mean["dropout"] + 0.02, scores
    assert mean["both"] > mean["max_norm"] + 0.03, scores
    assert min(mean["dropout"], mean["max_norm"]) > mean["none"], scores


# --------------------------------------------------------------------------
# input_dropout
# --------------------------------------------------------------------------


def test_input_dropout_narrows_the_train_test_gap(noisy_digits):
    """Seen: test accuracy 0.934 -> 0.939 at rate 0.2, and a lower
    accuracy on the noisy training labels."""
    X_train, X_test, y_train, y_test = noisy_digits
    base = dict(
        hidden_layer_sizes=(256,), l2=0.0, max_iter=100, n_iter_no_change=np.inf, random_state=0
    )
    plain = fit_quietly(MLPClassifier(**base), X_train, y_train)
    dropped = fit_quietly(MLPClassifier(**base, input_dropout=0.2), X_train, y_train)
    assert dropped.score(X_train, y_train) < plain.score(X_train, y_train)
    assert dropped.score(X_test, y_test) > plain.score(X_test, y_test)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_sparse_input_draws_the_masks_of_dense_input(solver, noisy_digits):
    X_train, _, y_train, _ = noisy_digits
    params = dict(
        hidden_layer_sizes=(32,),
        solver=solver,
        input_dropout=0.3,
        dropout=0.2,
        max_iter=5,
        random_state=0,
    )
    dense = fit_quietly(MLPClassifier(**params), X_train, y_train)
    sparse = fit_quietly(MLPClassifier(**params), sp.csr_matrix(X_train), y_train)
    for a, b in zip(
        dense.coefs_ + dense.intercepts_, sparse.coefs_ + sparse.intercepts_, strict=True
    ):
        assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    assert dense.loss_curve_ == pytest.approx(sparse.loss_curve_, rel=1e-12)


def test_input_dropout_is_reproducible_and_seeded_by_random_state(noisy_digits):
    X_train, _, y_train, _ = noisy_digits
    params = dict(hidden_layer_sizes=(16,), input_dropout=0.3, max_iter=3)
    first = fit_quietly(MLPClassifier(**params, random_state=1), X_train, y_train)
    again = fit_quietly(MLPClassifier(**params, random_state=1), X_train, y_train)
    other = fit_quietly(MLPClassifier(**params, random_state=2), X_train, y_train)
    assert_array_equal(first.coefs_[0], again.coefs_[0])
    assert not np.array_equal(first.coefs_[0], other.coefs_[0])


def test_partial_fit_continues_the_input_masks(noisy_digits):
    """Two partial_fit calls draw new masks in the second, as one fit's
    epochs do: they differ from a model whose second call re-drew the
    first call's masks."""
    X_train, _, y_train, _ = noisy_digits
    params = dict(hidden_layer_sizes=(16,), input_dropout=0.3, random_state=0, shuffle=False)
    continued = MLPClassifier(**params)
    continued.partial_fit(X_train, y_train, classes=np.arange(10))
    state = continued._training_state["dropout_rng_state"]
    continued.partial_fit(X_train, y_train)
    assert continued._training_state["dropout_rng_state"] != state
    fit_twice = fit_quietly(
        MLPClassifier(**params, max_iter=2, n_iter_no_change=np.inf), X_train, y_train
    )
    assert_allclose(continued.coefs_[0], fit_twice.coefs_[0], rtol=1e-12, atol=1e-14)


def test_prediction_uses_every_input(noisy_digits):
    """Prediction is deterministic and equals the network without masks."""
    X_train, X_test, y_train, _ = noisy_digits
    model = fit_quietly(
        MLPClassifier(hidden_layer_sizes=(16,), input_dropout=0.5, max_iter=5, random_state=0),
        X_train,
        y_train,
    )
    first = model.predict_proba(X_test)
    assert_array_equal(model.predict_proba(X_test), first)
    hidden = np.maximum(X_test @ model.coefs_[0] + model.intercepts_[0], 0)
    logits = hidden @ model.coefs_[1] + model.intercepts_[1]
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    assert_allclose(first, expected / expected.sum(axis=1, keepdims=True), rtol=1e-10)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, error, message",
    [
        (
            dict(solver="lbfgs", max_norm=2.0),
            ValueError,
            "solver='lbfgs' does not support max_norm: a projection after each step is not "
            "part of a smooth objective",
        ),
        (
            dict(solver="lbfgs", input_dropout=0.2),
            ValueError,
            "solver='lbfgs' does not support input_dropout > 0: input dropout needs minibatches",
        ),
        (
            dict(max_norm=0.0),
            InvalidParameterError,
            r"The 'max_norm' parameter of MLPRegressor must be a float in the range "
            r"\(0.0, inf\) or None",
        ),
        (dict(max_norm=-1.0), InvalidParameterError, "The 'max_norm' parameter"),
        (
            dict(input_dropout=1.0),
            InvalidParameterError,
            r"The 'input_dropout' parameter of MLPRegressor must be a float in the range "
            r"\[0.0, 1.0\)",
        ),
        (dict(input_dropout=-0.1), InvalidParameterError, "The 'input_dropout' parameter"),
    ],
    ids=[
        "lbfgs-max_norm",
        "lbfgs-input_dropout",
        "max_norm-zero",
        "max_norm-negative",
        "input_dropout-one",
        "input_dropout-negative",
    ],
)
def test_bad_settings(params, error, message):
    X, y = make_regression(n_samples=30, n_features=3, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, **params)
    with pytest.raises(error, match=message):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")


def test_defaults_change_nothing(noisy_digits):
    X_train, _, y_train, _ = noisy_digits
    params = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0, dropout=0.2)
    default = fit_quietly(MLPClassifier(**params), X_train, y_train)
    explicit = fit_quietly(
        MLPClassifier(**params, max_norm=None, input_dropout=0.0), X_train, y_train
    )
    for a, b in zip(
        default.coefs_ + default.intercepts_, explicit.coefs_ + explicit.intercepts_, strict=True
    ):
        assert_array_equal(a, b)
    assert default.loss_curve_ == explicit.loss_curve_
