"""Reproducibility: results depend on ``random_state`` and on nothing else.

Every fit here uses dropout, L1 and early stopping together, so that all the
randomness skreg adds to scikit-learn's (the dropout masks) is exercised
alongside scikit-learn's own (initial weights, validation split, shuffling).
"""

import warnings

import numpy as np
import pytest
from numba import njit
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

import skreg

X_CLF, Y_CLF = make_classification(
    n_samples=70, n_features=6, n_informative=4, n_classes=3, random_state=0
)
X_REG, Y_REG = make_regression(n_samples=70, n_features=6, noise=1.0, random_state=0)
Y_REG = (Y_REG - Y_REG.mean()) / Y_REG.std()

DATA = {
    "classifier": (skreg.MLPClassifier, X_CLF, Y_CLF),
    "regressor": (skreg.MLPRegressor, X_REG, Y_REG),
}


def _params(solver, **extra):
    params = dict(
        hidden_layer_sizes=(8, 6),
        solver=solver,
        dropout=(0.3, 0.2),
        l1=1e-3,
        l2=1e-3,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=50,
        max_iter=6,
        batch_size=16,
        learning_rate_init=0.05 if solver == "sgd" else 0.01,
    )
    params.update(extra)
    return params


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _state(est):
    """Everything a fit produces that must be reproducible."""
    return {
        "coefs_": [c.copy() for c in est.coefs_],
        "intercepts_": [c.copy() for c in est.intercepts_],
        "loss_curve_": list(est.loss_curve_),
        "validation_scores_": list(est.validation_scores_),
        "n_iter_": est.n_iter_,
        "t_": est.t_,
        "best_validation_score_": est.best_validation_score_,
    }


def _assert_identical(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if key in ("coefs_", "intercepts_"):
            assert len(a[key]) == len(b[key])
            for x, y in zip(a[key], b[key], strict=True):
                assert x.dtype == y.dtype
                assert np.array_equal(x, y), key
        else:
            assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)


def _differs(a, b):
    return any(not np.array_equal(x, y) for x, y in zip(a["coefs_"], b["coefs_"], strict=True))


@pytest.mark.parametrize("kind", list(DATA))
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_same_seed_is_bit_identical(kind, solver):
    Est, X, y = DATA[kind]
    first = _state(_fit(Est(random_state=7, **_params(solver)), X, y))
    second = _state(_fit(Est(random_state=7, **_params(solver)), X, y))
    _assert_identical(first, second)
    # And the settings are not inert: without dropout the network differs,
    # so the masks really were drawn (and drawn identically) above.
    no_dropout = _state(_fit(Est(random_state=7, **_params(solver, dropout=0.0)), X, y))
    assert _differs(first, no_dropout)


@pytest.mark.parametrize("kind", list(DATA))
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_different_seeds_give_different_weights(kind, solver):
    Est, X, y = DATA[kind]
    states = [_state(_fit(Est(random_state=seed, **_params(solver)), X, y)) for seed in (0, 1, 2)]
    for i in range(3):
        for j in range(i + 1, 3):
            assert _differs(states[i], states[j])
            # Not only the start: the final networks differ everywhere.
            assert not np.any(
                [
                    np.array_equal(a, b)
                    for a, b in zip(states[i]["coefs_"], states[j]["coefs_"], strict=True)
                ]
            )


@pytest.mark.parametrize("kind", list(DATA))
def test_random_state_instance(kind):
    Est, X, y = DATA[kind]
    from_int = _state(_fit(Est(random_state=5, **_params("adam")), X, y))

    rng = np.random.RandomState(5)
    est = Est(random_state=rng, **_params("adam"))
    from_instance = _state(_fit(est, X, y))
    # A RandomState(5) instance draws exactly what the integer 5 draws.
    _assert_identical(from_int, from_instance)
    # The instance was used, not copied: the generator has moved on ...
    assert rng.random_sample() != np.random.RandomState(5).random_sample()
    # ... so refitting with the same (advanced) instance gives another network.
    again = _state(_fit(est, X, y))
    assert _differs(from_instance, again)


@njit
def _seed_numba_global_rng(seed):
    np.random.seed(seed)
    return np.random.random()


@pytest.mark.parametrize("kind", list(DATA))
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_global_random_state_does_not_matter(kind, solver):
    Est, X, y = DATA[kind]
    saved = np.random.get_state()
    try:
        np.random.seed(0)
        _seed_numba_global_rng(0)
        first = _state(_fit(Est(random_state=3, **_params(solver)), X, y))

        np.random.seed(12345)
        _seed_numba_global_rng(12345)
        np.random.random(17)  # move the global stream along, too
        before = np.random.get_state()
        second = _state(_fit(Est(random_state=3, **_params(solver)), X, y))
        after = np.random.get_state()
    finally:
        np.random.set_state(saved)
    _assert_identical(first, second)
    # A seeded fit does not draw from the global generator either.
    assert before[0] == after[0]
    assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]


@pytest.mark.parametrize("kind", list(DATA))
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_refit_same_object_is_identical(kind, solver):
    Est, X, y = DATA[kind]
    if solver == "lbfgs":
        params = dict(hidden_layer_sizes=(8, 6), solver="lbfgs", max_iter=15, l2=1e-3)
    else:
        params = _params(solver)
    est = Est(random_state=11, warm_start=False, **params)
    _fit(est, X, y)
    first = [c.copy() for c in est.coefs_ + est.intercepts_]
    first_curve = list(getattr(est, "loss_curve_", []))
    first_n_iter = est.n_iter_

    _fit(est, X, y)
    for a, b in zip(first, est.coefs_ + est.intercepts_, strict=True):
        assert np.array_equal(a, b)
    assert list(getattr(est, "loss_curve_", [])) == first_curve
    assert est.n_iter_ == first_n_iter
    if solver != "lbfgs":
        assert len(est.loss_curve_) == est.n_iter_  # history did not accumulate
        assert est.t_ == est.n_iter_ * (X.shape[0] - 14)


@pytest.mark.parametrize("kind", list(DATA))
def test_refit_after_other_data_matches_fresh_fit(kind):
    """No hidden state survives a refit, even after a fit of another shape."""
    Est, X, y = DATA[kind]
    fresh = _state(_fit(Est(random_state=4, **_params("adam")), X, y))

    est = Est(random_state=4, **_params("adam"))
    X_other = np.hstack([X, X[:, :3]])[::-1] * 2.0
    _fit(est, X_other, y[::-1])
    assert est.coefs_[0].shape[0] == X.shape[1] + 3
    _fit(est, X, y)
    _assert_identical(fresh, _state(est))
    assert est.n_features_in_ == X.shape[1]


@pytest.mark.parametrize("kind", list(DATA))
def test_clone_reproduces(kind):
    Est, X, y = DATA[kind]
    est = _fit(Est(random_state=9, **_params("sgd")), X, y)
    cloned = _fit(clone(est), X, y)
    _assert_identical(_state(est), _state(cloned))


def test_interleaved_fits_do_not_share_state():
    """Fitting another model in between does not change a seeded fit."""
    Est, X, y = DATA["classifier"]
    alone = _state(_fit(Est(random_state=6, **_params("sgd")), X, y))
    RegEst, Xr, yr = DATA["regressor"]
    _fit(RegEst(random_state=0, **_params("sgd", dropout=0.5)), Xr, yr)
    after_other = _state(_fit(Est(random_state=6, **_params("sgd")), X, y))
    _assert_identical(alone, after_other)


@pytest.mark.parametrize("kind", list(DATA))
def test_predict_is_deterministic_and_dropout_free(kind):
    """Prediction applies no dropout: it equals a plain NumPy forward pass."""
    Est, X, y = DATA[kind]
    est = _fit(Est(random_state=2, activation="tanh", **_params("adam", dropout=(0.5, 0.5))), X, y)
    first = est.predict(X)
    assert_array_equal(first, est.predict(X))

    hidden = X
    for coef, intercept in zip(est.coefs_[:-1], est.intercepts_[:-1], strict=True):
        hidden = np.tanh(hidden @ coef + intercept)
    output = hidden @ est.coefs_[-1] + est.intercepts_[-1]
    if kind == "regressor":
        np.testing.assert_allclose(est.predict(X), output.ravel(), rtol=1e-10, atol=1e-12)
    else:
        output = np.exp(output - output.max(axis=1, keepdims=True))
        output /= output.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(est.predict_proba(X), output, rtol=1e-10, atol=1e-12)
