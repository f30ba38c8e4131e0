"""``group_l1``: the group lasso on each input feature's first-layer weights
removes whole features, through the estimator API (tests/kernels/ checks the
step itself against a NumPy reference)."""

import itertools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skreg import MLPClassifier, MLPRegressor
from skreg._layout import NetworkLayout

N_INFORMATIVE = 5


def standardized(X, y, regression):
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    if regression:
        mean, std = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.fixture(scope="module")
def classification():
    """The feature-selection benchmark's classification task: 5 informative
    features (columns 0-4) among 50."""
    X, y = make_classification(
        n_samples=1500,
        n_features=50,
        n_informative=N_INFORMATIVE,
        n_redundant=0,
        shuffle=False,
        flip_y=0.05,
        random_state=0,
    )
    return standardized(X, y, regression=False)


@pytest.fixture(scope="module")
def friedman():
    """make_friedman1: y depends on columns 0-4 only, 45 noise columns."""
    X, y = make_friedman1(n_samples=1500, n_features=50, noise=1.0, random_state=0)
    return standardized(X, y, regression=True)


def fit_quietly(model, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **fit_params)


def kept_features(model):
    return np.flatnonzero(np.any(model.coefs_[0] != 0, axis=1))


# Each warm-started fit of a path trains a fixed number of epochs: a warm
# start keeps the no-improvement count, as scikit-learn's does, so with a
# finite patience every fit after a converged one would stop after one epoch.
SELECTING = dict(
    hidden_layer_sizes=(32,), batch_size=100, max_iter=100, n_iter_no_change=np.inf, random_state=0
)


def fit_path(model, penalties, X, y, name="group_l1"):
    """The lasso-path recipe: a dense fit, then one warm-started fit per
    increasing penalty, each starting from the last."""
    model.set_params(warm_start=True)
    fit_quietly(model, X, y)
    for penalty in penalties:
        fit_quietly(model.set_params(**{name: penalty}), X, y)
    return model


PATHS = {
    "classification-sgd": (
        "classification",
        MLPClassifier,
        dict(solver="sgd", learning_rate_init=0.01),
        (2.0, 5.0, 7.0),
    ),
    "friedman-sgd": (
        "friedman",
        MLPRegressor,
        dict(solver="sgd", learning_rate_init=0.01),
        (1.0, 2.0, 3.0),
    ),
    "classification-adam": (
        "classification",
        MLPClassifier,
        dict(solver="adam", learning_rate_init=0.003),
        (5.0, 10.0, 20.0, 30.0),
    ),
    "friedman-adam": (
        "friedman",
        MLPRegressor,
        dict(solver="adam", learning_rate_init=0.003),
        (2.0, 5.0, 7.0),
    ),
}


@pytest.mark.parametrize("path", PATHS)
def test_group_l1_path_keeps_exactly_the_informative_features(path, request):
    """Seen: 5 (classification, both solvers; friedman adam) and 6 (friedman
    sgd) features kept of 50, the 5 informative ones among them."""
    task, Est, params, penalties = PATHS[path]
    X_train, X_test, y_train, y_test = request.getfixturevalue(task)
    model = fit_path(Est(**SELECTING, **params), penalties, X_train, y_train)
    kept = kept_features(model)
    removed = np.setdiff1d(np.arange(50), kept)
    assert set(range(N_INFORMATIVE)) <= set(kept), kept
    assert len(kept) <= 8, kept
    # Removed means the whole row is exactly 0.0, and so is its importance.
    assert np.all(model.coefs_[0][removed] == 0.0)
    assert np.all(model.feature_importances_[removed] == 0.0)
    assert np.all(model.feature_importances_[kept] > 0.0)
    selector = SelectFromModel(model, threshold=1e-12, prefit=True).fit(X_train, y_train)
    assert_array_equal(np.flatnonzero(selector.get_support()), kept)
    # The selected network predicts held-out data well (seen: 0.885-0.932).
    assert model.score(X_test, y_test) > 0.85


def test_select_from_model_fits_and_selects_the_nonzero_rows(friedman):
    X_train, _, y_train, _ = friedman
    selector = SelectFromModel(
        MLPRegressor(**SELECTING, solver="sgd", learning_rate_init=0.01, group_l1=2.0),
        threshold=1e-12,
    )
    fit_quietly(selector, X_train, y_train)
    kept = kept_features(selector.estimator_)
    assert 0 < len(kept) < 50
    assert_array_equal(np.flatnonzero(selector.get_support()), kept)
    assert selector.transform(X_train).shape == (X_train.shape[0], len(kept))


def test_group_l1_removes_features_that_l1_keeps(classification):
    """Both zero 90% of the first layer's weights (seen: 0.899 and 0.900);
    L1 spreads its zeros over the rows and keeps 49 features, the group
    lasso zeroes whole rows and keeps 5."""
    X_train, _, y_train, _ = classification
    base = dict(SELECTING, solver="sgd", learning_rate_init=0.01)
    by_weight = fit_path(MLPClassifier(**base), (1.0,), X_train, y_train, name="l1")
    by_group = fit_path(MLPClassifier(**base), (2.0, 5.0, 7.0), X_train, y_train)
    for model in (by_weight, by_group):
        assert np.mean(model.coefs_[0] == 0) > 0.85
    assert len(kept_features(by_weight)) >= 40
    assert len(kept_features(by_group)) <= 8


def test_penalising_from_the_first_epoch_can_lose_a_feature_the_path_keeps(friedman):
    """make_friedman1's x2 enters as 20 (x2 - 0.5)**2: at a zero row its
    gradient is about 0, so a fit penalised from random weights may zero
    it before the network has learnt it, and it never comes back; the path
    learns it first (the reason for the recipe)."""
    X_train, _, y_train, _ = friedman
    params = dict(SELECTING, solver="sgd", learning_rate_init=0.01, batch_size=200, max_iter=300)
    cold = fit_quietly(MLPRegressor(**params, group_l1=5.0), X_train, y_train)
    path = fit_path(
        MLPRegressor(**dict(params, max_iter=100)), (1.0, 2.0, 3.0, 5.0), X_train, y_train
    )
    assert 2 not in kept_features(cold)
    assert set(range(N_INFORMATIVE)) <= set(kept_features(path))


# (extra parameters, penalties of the path or a single fit's, informative
# features that must stay, most features kept). A network without a hidden
# layer is a logistic regression: feature 0 of this task carries no linear
# signal, and it drops it.
COMBINATIONS = {
    "l1-l2-dropout": (dict(l1=0.3, l2=0.1, dropout=0.2), (2.0, 5.0, 7.0), {0, 1, 2, 3, 4}, 15),
    "early-stopping": (
        dict(early_stopping=True, scoring="loss", n_iter_no_change=10, max_iter=300, group_l1=2.0),
        (),
        {0, 1, 2, 3, 4},
        15,
    ),
    "no-hidden-layer": (dict(hidden_layer_sizes=()), (0.5, 1.0, 2.0), {1, 2, 3, 4}, 8),
    "two-hidden-layers": (
        dict(hidden_layer_sizes=(16, 8)),
        (2.0, 5.0, 7.0, 10.0, 15.0),
        {0, 1, 2, 3, 4},
        8,
    ),
}


@pytest.mark.parametrize("combination", COMBINATIONS)
def test_group_l1_combines_with_the_other_regularizers(combination, classification):
    X_train, X_test, y_train, y_test = classification
    extra, penalties, informative, most = COMBINATIONS[combination]
    params = dict(SELECTING, solver="sgd", learning_rate_init=0.01, **extra)
    model = fit_path(MLPClassifier(**params), penalties, X_train, y_train)
    kept = kept_features(model)
    assert informative <= set(kept), kept
    assert len(kept) <= most, kept
    assert model.score(X_test, y_test) > 0.75


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_sparse_input_selects_as_dense_input(solver, friedman):
    X_train, _, y_train, _ = friedman
    X_train = np.where(np.abs(X_train) > 0.5, X_train, 0.0)
    params = dict(
        SELECTING,
        max_iter=60,
        solver=solver,
        group_l1=4.0,
        learning_rate_init=0.01 if solver == "sgd" else 0.003,
    )
    dense = fit_quietly(MLPRegressor(**params), X_train, y_train)
    sparse = fit_quietly(MLPRegressor(**params), sp.csr_matrix(X_train), y_train)
    assert_array_equal(kept_features(sparse), kept_features(dense))
    for a, b in zip(
        sparse.coefs_ + sparse.intercepts_, dense.coefs_ + dense.intercepts_, strict=True
    ):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_float32_selects_as_float64(friedman):
    X_train, _, y_train, _ = friedman
    params = dict(SELECTING, solver="adam", learning_rate_init=0.003, group_l1=4.0)
    wide = fit_quietly(MLPRegressor(**params), X_train, y_train)
    narrow = fit_quietly(MLPRegressor(**params), X_train.astype(np.float32), y_train)
    assert narrow.coefs_[0].dtype == np.float32
    assert set(kept_features(narrow)) ^ set(kept_features(wide)) <= {*range(5, 50)}
    assert abs(len(kept_features(narrow)) - len(kept_features(wide))) <= 2


def test_partial_fit_keeps_removed_features_removed(classification):
    """Once the group lasso removed noise features, further partial_fit
    calls on the same data keep nearly all of them at zero."""
    X_train, _, y_train, _ = classification
    model = MLPClassifier(**dict(SELECTING, solver="sgd", learning_rate_init=0.01, group_l1=7.0))
    for _ in range(300):
        model.partial_fit(X_train, y_train, classes=[0, 1])
    removed = set(np.setdiff1d(np.arange(50), kept_features(model)))
    for _ in range(20):
        model.partial_fit(X_train, y_train)
    assert len(removed) >= 30
    assert len(removed - set(np.setdiff1d(np.arange(50), kept_features(model)))) <= 2


def test_warm_start_path_goes_from_dense_to_sparse(friedman):
    """The lasso-path recipe: increasing penalties, each fit starting from
    the last; the number of features kept falls along the path."""
    X_train, _, y_train, _ = friedman
    model = MLPRegressor(
        **dict(SELECTING, solver="adam", learning_rate_init=0.003, max_iter=100), warm_start=True
    )
    kept = []
    for group_l1 in (0.5, 1.0, 2.0, 4.0, 8.0):
        fit_quietly(model.set_params(group_l1=group_l1), X_train, y_train)
        kept.append(len(kept_features(model)))
    assert kept[0] == 50 and kept[-1] <= 8, kept
    assert all(later <= earlier + 2 for earlier, later in itertools.pairwise(kept)), kept


def test_group_l1_enters_the_reported_loss(classification):
    X_train, _, y_train, _ = classification
    params = dict(
        SELECTING, solver="sgd", learning_rate_init=0.01, max_iter=1, batch_size=X_train.shape[0]
    )
    plain = fit_quietly(MLPClassifier(**params), X_train, y_train)
    penalised = fit_quietly(MLPClassifier(**params, group_l1=3.0), X_train, y_train)
    # One full-batch epoch from the same initial weights (scikit-learn's
    # Glorot draw from random_state=0): the losses differ by the penalty of
    # those weights over the batch's weight.
    layout = NetworkLayout([50, 32, 1])
    coefs, _ = layout.unpack(
        layout.initial_parameters("relu", np.random.RandomState(0), np.float64)
    )
    expected = 3.0 * np.linalg.norm(coefs[0], axis=1).sum() / X_train.shape[0]
    assert penalised.loss_ - plain.loss_ == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "params, error, message",
    [
        (
            dict(solver="lbfgs", group_l1=1.0),
            ValueError,
            "solver='lbfgs' does not support group_l1 > 0: L-BFGS needs a smooth objective",
        ),
        (
            dict(solver="sgd", momentum=1.0, group_l1=1.0),
            ValueError,
            "group_l1 > 0 with solver='sgd' needs momentum < 1",
        ),
        (
            dict(group_l1=-1e-9),
            InvalidParameterError,
            r"The 'group_l1' parameter of MLPRegressor must be a float in the range \[0.0, inf\)",
        ),
        (dict(group_l1="strong"), InvalidParameterError, "The 'group_l1' parameter"),
    ],
    ids=["lbfgs", "sgd-momentum-1", "negative", "string"],
)
def test_bad_group_l1(params, error, message, friedman):
    X_train, _, y_train, _ = friedman
    with pytest.raises(error, match=message):
        MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, **params).fit(X_train, y_train)


def test_zero_group_l1_changes_nothing(classification):
    X_train, _, y_train, _ = classification
    params = dict(SELECTING, batch_size=200, max_iter=5, solver="adam")
    default = fit_quietly(MLPClassifier(**params), X_train, y_train)
    zero = fit_quietly(MLPClassifier(**params, group_l1=0.0), X_train, y_train)
    for a, b in zip(
        default.coefs_ + default.intercepts_, zero.coefs_ + zero.intercepts_, strict=True
    ):
        assert_array_equal(a, b)
    assert default.loss_curve_ == zero.loss_curve_
