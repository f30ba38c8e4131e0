"""Each regularizer does what it is for, with a figure in every assertion."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.model_selection import train_test_split

from skreg import MLPClassifier, MLPRegressor

N_INFORMATIVE = 4


@pytest.fixture(scope="module")
def informative_first():
    """600 rows, 4 informative features (columns 0-3) among 26 noise ones."""
    X, y = make_classification(
        n_samples=600,
        n_features=30,
        n_informative=N_INFORMATIVE,
        n_redundant=0,
        n_repeated=0,
        shuffle=False,
        class_sep=1.5,
        random_state=0,
    )
    return train_test_split(X, y, random_state=0)


def fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


@pytest.mark.parametrize("solver, learning_rate_init", [("adam", 0.01), ("sgd", 0.1)])
def test_l1_zeroes_noise_features_and_ranks_informative_first(
    informative_first, solver, learning_rate_init
):
    X_train, X_test, y_train, y_test = informative_first
    models = {
        l1: fit_quietly(
            MLPClassifier(
                hidden_layer_sizes=(16,),
                solver=solver,
                l1=l1,
                l2=0.0,
                learning_rate_init=learning_rate_init,
                max_iter=300,
                random_state=0,
            ),
            X_train,
            y_train,
        )
        for l1 in (0.0, 0.5, 2.0)
    }
    zero_share = {
        l1: np.mean(np.concatenate([c.ravel() for c in m.coefs_]) == 0.0)
        for l1, m in models.items()
    }
    # No penalty: no weight is exactly zero. More L1: more exact zeros.
    assert zero_share[0.0] == 0.0
    assert 0.0 < zero_share[0.5] < zero_share[2.0]
    assert zero_share[2.0] > 0.8, zero_share

    model = models[2.0]
    first_layer = model.coefs_[0]
    dead_rows = np.flatnonzero(np.all(first_layer == 0.0, axis=1))
    # Whole noise rows vanish (feature selection), no informative row does.
    assert len(dead_rows) >= 10, dead_rows
    assert np.all(dead_rows >= N_INFORMATIVE), dead_rows
    importances = model.feature_importances_
    assert importances[dead_rows].tolist() == [0.0] * len(dead_rows)
    assert importances.sum() == pytest.approx(1.0)
    ranking = np.argsort(-importances)
    assert sorted(ranking[:N_INFORMATIVE]) == list(range(N_INFORMATIVE))
    assert importances[:N_INFORMATIVE].sum() > 0.9, importances
    # Selecting features costs no test accuracy here.
    assert model.score(X_test, y_test) >= models[0.0].score(X_test, y_test) - 0.02

    selector = SelectFromModel(model, prefit=True)
    kept = np.flatnonzero(selector.get_support())
    assert set(range(N_INFORMATIVE)) <= set(kept)
    assert not set(dead_rows) & set(kept)
    assert selector.transform(X_test).shape == (X_test.shape[0], len(kept))


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_l1_on_the_scale_of_l2(solver):
    """l1 and l2 of the same value both shrink the weights by comparable
    amounts, so one grid of values serves both."""
    X, y = make_classification(n_samples=300, n_features=10, random_state=0)
    norms = {}
    for name, params in {"none": {}, "l2": {"l2": 1.0}, "l1": {"l1": 1.0}}.items():
        model = fit_quietly(
            MLPClassifier(
                hidden_layer_sizes=(8,),
                solver=solver,
                learning_rate_init=0.01,
                max_iter=200,
                random_state=0,
                **{"l2": 0.0, **params},
            ),
            X,
            y,
        )
        norms[name] = sum(np.abs(c).sum() for c in model.coefs_)
    # Seen: adam 54.9 / 21.6 / 11.9, sgd 30.9 / 25.0 / 14.2 (none / l2 / l1).
    assert norms["l2"] < 0.85 * norms["none"], norms
    assert norms["l1"] < 0.85 * norms["none"], norms
    assert 1 / 3 < norms["l1"] / norms["l2"] < 3, norms


def test_dropout_narrows_the_train_test_gap():
    """An over-wide net on 100 noisy training rows overfits less with dropout."""
    X, y = make_regression(n_samples=200, n_features=30, n_informative=10, noise=30, random_state=0)
    y = (y - y.mean()) / y.std()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)
    scores = {}
    for dropout in (0.0, 0.5):
        runs = []
        for seed in range(3):
            model = fit_quietly(
                MLPRegressor(
                    hidden_layer_sizes=(256,),
                    dropout=dropout,
                    l2=0.0,
                    learning_rate_init=0.003,
                    max_iter=300,
                    random_state=seed,
                ),
                X_train,
                y_train,
            )
            runs.append((model.score(X_train, y_train), model.score(X_test, y_test)))
        scores[dropout] = np.mean(runs, axis=0)
    gap = {p: train - test for p, (train, test) in scores.items()}
    assert gap[0.5] < gap[0.0] - 0.02, scores
    assert scores[0.5][1] > scores[0.0][1], scores


def test_dropout_is_off_at_prediction():
    X, y = make_classification(n_samples=100, n_features=5, random_state=0)
    model = fit_quietly(
        MLPClassifier(hidden_layer_sizes=(20,), dropout=0.5, max_iter=20, random_state=0), X, y
    )
    first = model.predict_proba(X)
    assert np.array_equal(first, model.predict_proba(X))
    # Prediction uses every unit unscaled: a plain NumPy forward pass agrees.
    hidden = np.maximum(X @ model.coefs_[0] + model.intercepts_[0], 0)
    logits = hidden @ model.coefs_[1] + model.intercepts_[1]
    np.testing.assert_allclose(first[:, 1], 1 / (1 + np.exp(-logits.ravel())), rtol=1e-12)


def test_dropout_per_layer_rates():
    X, y = make_classification(n_samples=100, n_features=5, random_state=0)
    kwargs = dict(hidden_layer_sizes=(20, 20), max_iter=5, random_state=0)
    baseline = fit_quietly(MLPClassifier(dropout=0.0, **kwargs), X, y)
    per_layer = fit_quietly(MLPClassifier(dropout=(0.0, 0.5), **kwargs), X, y)
    as_float = fit_quietly(MLPClassifier(dropout=0.5, **kwargs), X, y)
    as_tuple = fit_quietly(MLPClassifier(dropout=(0.5, 0.5), **kwargs), X, y)
    assert not np.array_equal(baseline.coefs_[1], per_layer.coefs_[1])
    for a, b in zip(as_float.coefs_, as_tuple.coefs_, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_early_stopping_stops_early_and_keeps_the_best_epoch(Estimator):
    if Estimator is MLPClassifier:
        X, y = make_classification(n_samples=400, n_features=20, flip_y=0.1, random_state=0)
    else:
        X, y = make_regression(n_samples=400, n_features=20, noise=20, random_state=0)
        y = (y - y.mean()) / y.std()
    kwargs = dict(
        hidden_layer_sizes=(64,),
        early_stopping=True,
        learning_rate_init=0.01,
        n_iter_no_change=5,
        l2=0.0,
        random_state=0,
    )
    model = fit_quietly(Estimator(max_iter=300, **kwargs), X, y)
    scores = np.asarray(model.validation_scores_)
    best_epoch = int(np.argmax(scores)) + 1
    # It stopped early, some epochs after the best one.
    assert best_epoch < model.n_iter_ < 300
    assert model.best_validation_score_ == scores.max()
    # Training is deterministic, so the same fit stopped at the best epoch has
    # exactly the weights that early stopping restored.
    at_best = fit_quietly(Estimator(max_iter=best_epoch, **kwargs), X, y)
    for restored, best in zip(
        model.coefs_ + model.intercepts_, at_best.coefs_ + at_best.intercepts_, strict=True
    ):
        assert np.array_equal(restored, best)
    assert model.score(X, y) == at_best.score(X, y)
