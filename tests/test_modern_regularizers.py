"""The regularizers of modern tabular networks at the estimator level:
``weight_decay``, ``label_smoothing``, ``average`` and
``learning_rate='cosine'``, each with its promised effect and its figure.

The kernel side (the decay step, the soft targets' gradient) is in
``tests/kernels/test_weight_decay_and_soft_targets.py``.
"""

import copy
import math
import warnings
from unittest import mock

import _reference as ref
import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.utils._param_validation import InvalidParameterError

from skreg import MLPClassifier, MLPRegressor, _solvers
from skreg._layout import NetworkLayout

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def flat(model):
    return NetworkLayout.of(model.coefs_).flat_parameters(
        model.coefs_, model.intercepts_, model.coefs_[0].dtype
    )


def weight_norm(model):
    return math.sqrt(sum(float(np.sum(c.astype(np.float64) ** 2)) for c in model.coefs_))


def regression_data(scale=1.0):
    X, y = make_regression(120, 6, n_informative=4, noise=5.0, random_state=0)
    return X, scale * y / y.std()


# --------------------------------------------------------------------------
# Parameters and solvers
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "Est, params, name",
    [
        (MLPRegressor, dict(weight_decay=-0.1), "weight_decay"),
        (MLPRegressor, dict(average=-1), "average"),
        (MLPRegressor, dict(average=2.5), "average"),
        (MLPRegressor, dict(learning_rate="cos"), "learning_rate"),
        (MLPClassifier, dict(label_smoothing=1.0), "label_smoothing"),
        (MLPClassifier, dict(label_smoothing=-0.1), "label_smoothing"),
    ],
)
def test_invalid_values_raise_invalid_parameter_error(Est, params, name):
    X, y = make_classification(30, 4, random_state=0)
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        Est(**params).fit(X, y)


def test_label_smoothing_is_the_classifier_s_only():
    assert "label_smoothing" in MLPClassifier().get_params()
    assert "label_smoothing" not in MLPRegressor().get_params()


@pytest.mark.parametrize(
    "params, setting",
    [
        (dict(weight_decay=0.1), "weight_decay > 0"),
        (dict(average=True), "average"),
        (dict(average=10), "average"),
        (dict(learning_rate="cosine"), "learning_rate='cosine'"),
    ],
)
def test_lbfgs_refuses_what_it_cannot_honour(params, setting):
    X, y = regression_data()
    model = MLPRegressor(solver="lbfgs", max_iter=5, **params)
    with pytest.raises(ValueError, match=f"solver='lbfgs' does not support {setting}"):
        model.fit(X, y)
    assert not hasattr(model, "coefs_")


def test_lbfgs_honours_label_smoothing():
    # A smooth objective on soft targets: loss_ is the reference cross-entropy
    # against the smoothed targets (plus L2), per target kind.
    X, y = make_classification(80, 5, n_informative=3, n_classes=3, random_state=1)
    labels = np.column_stack([y == 0, y == 2]).astype(int)
    for target, loss, Y in (
        (y, "log", np.eye(3)[y]),
        (y % 2, "binary_log", (y % 2)[:, None].astype(float)),
        (labels, "binary_log", labels.astype(float)),
    ):
        model = MLPClassifier((5,), solver="lbfgs", l2=0.01, label_smoothing=0.3, max_iter=30)
        model.set_params(random_state=0).fit(X, target)
        Y_smooth = ref.smoothed_targets(Y, loss, 0.3)
        layer_units = NetworkLayout.of(model.coefs_).layer_units
        expected = ref.total_loss(
            X, Y_smooth, np.ones(len(X)), flat(model), layer_units, "relu", loss, 0.01
        )
        assert_allclose(model.loss_, expected, rtol=1e-10)


# --------------------------------------------------------------------------
# weight_decay
# --------------------------------------------------------------------------


def test_weight_decay_equals_l2_under_plain_sgd():
    # Without momentum, decaying by lr * wd is L2's step of strength wd per
    # unit of batch weight: l2 = wd * batch_size gives the same fit.
    X, y = regression_data()
    common = dict(
        hidden_layer_sizes=(8,),
        solver="sgd",
        momentum=0.0,
        learning_rate_init=0.01,
        batch_size=20,
        max_iter=15,
        random_state=0,
    )
    decayed = MLPRegressor(l2=0.0, weight_decay=0.05, **common).fit(X, y)
    coupled = MLPRegressor(l2=0.05 * 20, **common).fit(X, y)
    assert_allclose(flat(decayed), flat(coupled), rtol=1e-9, atol=1e-12)


def test_weight_decay_shrinks_more_than_l2_of_equal_strength_under_adam():
    # Equal strength: l2 = weight_decay * batch_size, the same shrink under
    # plain SGD (test above). Adam divides L2's gradient by sqrt(v): where
    # the data gradients are large and noisy (targets of scale 100, heavy
    # noise, batches of 5), L2 barely shrinks the weights, while the
    # decoupled decay shrinks each by lr * wd * w whatever the gradients.
    X, y = make_regression(120, 6, n_informative=4, noise=50.0, random_state=0)
    y = 100.0 * y / y.std()
    common = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, batch_size=5)
    common.update(max_iter=60, n_iter_no_change=np.inf, random_state=0)
    none = MLPRegressor(l2=0.0, **common).fit(X, y)
    decayed = MLPRegressor(l2=0.0, weight_decay=0.5, **common).fit(X, y)
    coupled = MLPRegressor(l2=0.5 * 5, **common).fit(X, y)
    norms = {"none": weight_norm(none), "wd": weight_norm(decayed), "l2": weight_norm(coupled)}
    # Measured: no penalty 16.6, l2 16.0, weight decay 8.8.
    assert norms["wd"] < 0.6 * norms["l2"], norms
    assert norms["l2"] > 0.9 * norms["none"], norms


def test_weight_decay_leaves_intercepts_alone():
    # X = 0: a linear model's weights get no data gradient, so they only
    # decay, by (1 - 0.1 * 0.5) per step (one step per epoch); the intercept
    # fits y = 3 as it does without the decay.
    X = np.zeros((40, 2))
    y = np.full(40, 3.0)
    common = dict(hidden_layer_sizes=(), solver="sgd", momentum=0.0, batch_size=40, l2=0.0)
    common.update(learning_rate_init=0.1, n_iter_no_change=np.inf, random_state=0)
    decayed = MLPRegressor(weight_decay=0.5, max_iter=30, **common).fit(X, y)
    plain = MLPRegressor(max_iter=30, **common).fit(X, y)
    initial = MLPRegressor(max_iter=1, **common).fit(X, y)
    assert np.array_equal(plain.coefs_[0], initial.coefs_[0])
    assert_allclose(decayed.coefs_[0], initial.coefs_[0] * 0.95**30, rtol=1e-12)
    assert np.array_equal(decayed.intercepts_[0], plain.intercepts_[0])


# --------------------------------------------------------------------------
# label_smoothing
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n_classes", [2, 3])
def test_label_smoothing_bounds_probabilities_on_separable_data(n_classes):
    # Well separated clusters: without smoothing the network is sure of
    # every row (mean confidence > 0.99). With eps = 0.2 the loss is least
    # at the smoothed target 1 - eps + eps / K (0.9 binary, 0.867 for 3
    # classes): the mean confidence lands near it (measured 0.937 and
    # 0.904), and no probability comes within 0.01 of 1.
    rng = np.random.default_rng(0)
    centers = 6.0 * np.eye(n_classes, 4)
    y = np.repeat(np.arange(n_classes), 60)
    X = centers[y] + rng.normal(0, 0.5, size=(len(y), 4))
    common = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=300, random_state=0)
    plain = MLPClassifier(**common).fit(X, y).predict_proba(X)
    smooth_model = MLPClassifier(label_smoothing=0.2, **common).fit(X, y)
    smooth = smooth_model.predict_proba(X)
    target = 1 - 0.2 + 0.2 / n_classes
    assert plain.max(axis=1).mean() > 0.99
    assert abs(smooth.max(axis=1).mean() - target) < 0.05, (smooth.max(axis=1).mean(), target)
    assert plain.max() > 0.999 and smooth.max() < 0.99, (plain.max(), smooth.max())
    # Prediction is unchanged: still every label right.
    assert smooth_model.score(X, y) == 1.0


def test_label_smoothing_validation_keeps_true_labels():
    # Early stopping scores the plain log loss of the returned weights.
    X, y = make_classification(200, 6, random_state=2)
    model = MLPClassifier(
        (8,),
        label_smoothing=0.2,
        early_stopping=True,
        scoring="loss",
        max_iter=30,
        random_state=0,
    )
    model.fit(X[:150], y[:150], X_val=X[150:], y_val=y[150:])
    expected = log_loss(y[150:], model.predict_proba(X[150:]))
    assert_allclose(-model.best_validation_score_, expected, rtol=1e-6)


def test_label_smoothing_partial_fit_smooths_each_batch():
    X, y = make_classification(60, 4, random_state=3)
    common = dict(hidden_layer_sizes=(5,), random_state=0, label_smoothing=0.1)
    streamed = MLPClassifier(**common)
    streamed.partial_fit(X, y, classes=[0, 1])
    fitted = MLPClassifier(max_iter=1, **common).fit(X, y)
    assert_allclose(flat(streamed), flat(fitted), rtol=1e-13)
    assert streamed.loss_ == fitted.loss_


# --------------------------------------------------------------------------
# average
# --------------------------------------------------------------------------


def iterates(make, fit, n_epochs):
    """Each epoch's weights of an unaveraged run: averaging never changes
    the trajectory, and a fit of ``e`` epochs is the first ``e`` epochs of a
    longer one (same seed, same shuffles)."""
    return [flat(fit(make().set_params(max_iter=e))) for e in range(1, n_epochs + 1)]


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("average, first", [(True, 6), (4 * 90, 4), (1, 1)], ids=str)
def test_average_is_the_mean_of_the_epochs_iterates(solver, average, first):
    # 90 rows per epoch, 8 epochs: True starts at 0.75 * 8 * 90 samples
    # (epoch 6), an int n once t_ reaches n samples.
    X, y = regression_data()
    X, y = X[:90], y[:90]
    common = dict(hidden_layer_sizes=(6,), solver=solver, batch_size=25, random_state=0)

    def make():
        return MLPRegressor(**common)

    averaged = MLPRegressor(average=average, max_iter=8, **common).fit(X, y)
    replay = iterates(make, lambda m: m.fit(X, y), 8)
    expected = np.mean(replay[first - 1 :], axis=0)
    assert_allclose(flat(averaged), expected, rtol=1e-12, atol=1e-14)
    assert not np.allclose(flat(averaged), replay[-1], rtol=1e-6)


def test_average_continues_over_partial_fit_and_warm_start():
    X, y = regression_data()
    common = dict(hidden_layer_sizes=(6,), batch_size=30, random_state=0)
    averaged = MLPRegressor(average=1, max_iter=3, **common).fit(X, y)
    averaged.partial_fit(X, y)
    averaged.partial_fit(X, y)
    averaged.set_params(warm_start=True, max_iter=2).fit(X, y)

    plain = MLPRegressor(max_iter=3, **common).fit(X, y)
    replay = iterates(lambda: MLPRegressor(**common), lambda m: m.fit(X, y), 3)
    for _ in range(2):
        plain.partial_fit(X, y)
        replay.append(flat(plain))
    for e in (1, 2):
        warm = copy.deepcopy(plain).set_params(warm_start=True, max_iter=e).fit(X, y)
        replay.append(flat(warm))
    # Training went on from the last iterate, not from the average.
    assert_allclose(flat(averaged), np.mean(replay, axis=0), rtol=1e-11, atol=1e-13)
    assert averaged._training_state["n_averaged"] == 7


def test_average_with_early_stopping_scores_the_returned_weights():
    X, y = make_classification(240, 6, random_state=4)
    common = dict(hidden_layer_sizes=(8,), early_stopping=True, scoring="loss", random_state=0)
    common.update(learning_rate_init=0.01, n_iter_no_change=5, max_iter=40)
    model = MLPClassifier(average=1, **common)
    model.fit(X[:180], y[:180], X_val=X[180:], y_val=y[180:])
    returned = log_loss(y[180:], model.predict_proba(X[180:]))
    assert_allclose(-model.best_validation_score_, returned, rtol=1e-6)
    # Every epoch's score is that of the average so far.
    plain = MLPClassifier(**common)
    replay = []
    for e in range(1, len(model.validation_scores_) + 1):
        run = clone(plain).set_params(max_iter=e, early_stopping=False)
        replay.append(flat(run.fit(X[:180], y[:180])))
    probe = clone(plain).set_params(max_iter=1, early_stopping=False).fit(X[:180], y[:180])
    layout = NetworkLayout.of(probe.coefs_)
    for e, score in enumerate(model.validation_scores_, start=1):
        probe.coefs_, probe.intercepts_ = layout.unpack(np.mean(replay[:e], axis=0))
        assert_allclose(score, -log_loss(y[180:], probe.predict_proba(X[180:])), rtol=1e-6)


def test_average_off_on_a_warm_start_returns_the_last_iterate():
    X, y = regression_data()
    common = dict(hidden_layer_sizes=(6,), random_state=0, max_iter=3)
    model = MLPRegressor(average=1, **common).fit(X, y)
    model.set_params(average=False, warm_start=True).fit(X, y)
    plain = MLPRegressor(**common).fit(X, y)
    plain.set_params(warm_start=True).fit(X, y)
    assert_allclose(flat(model), flat(plain), rtol=1e-13)
    assert model._training_state["average"] is None


def test_lbfgs_warm_start_ends_the_average():
    X, y = regression_data()
    model = MLPRegressor(hidden_layer_sizes=(6,), average=1, max_iter=3, random_state=0)
    model.fit(X, y)
    model.set_params(solver="lbfgs", average=False, warm_start=True, max_iter=5).fit(X, y)
    after_lbfgs = flat(model)
    model.set_params(solver="adam", max_iter=1).fit(X, y)
    restarted = MLPRegressor(hidden_layer_sizes=(6,), max_iter=1, random_state=0)
    restarted.fit(X, y)  # the same shuffle, from the L-BFGS weights below
    restarted.coefs_, restarted.intercepts_ = NetworkLayout.of(model.coefs_).unpack(after_lbfgs)
    restarted.set_params(warm_start=True).fit(X, y)
    assert_allclose(flat(model), flat(restarted), rtol=1e-13)


# --------------------------------------------------------------------------
# learning_rate='cosine'
# --------------------------------------------------------------------------


def recorded_rates(model, *args, **kwargs):
    """The learning rate of every epoch of ``model.fit(*args)``."""
    rates = []
    run_epoch = _solvers.k.run_epoch

    def recording(**arguments):
        rates.append(arguments["settings"].learning_rate)
        return run_epoch(**arguments)

    with mock.patch.object(_solvers.k, "run_epoch", recording):
        model.fit(*args, **kwargs)
    return rates


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_cosine_rates_follow_the_half_cosine(solver):
    X, y = regression_data()
    model = MLPRegressor(
        hidden_layer_sizes=(5,), solver=solver, learning_rate="cosine", learning_rate_init=0.02
    )
    model.set_params(max_iter=12, n_iter_no_change=np.inf, random_state=0)
    rates = recorded_rates(model, X, y)
    expected = [0.02 * (1 + math.cos(math.pi * e / 12)) / 2 for e in range(12)]
    assert_allclose(rates, expected, rtol=1e-15)
    assert rates[0] == 0.02 and 0 < rates[-1] < 0.02 * 0.02
    # A warm start runs the schedule again.
    assert_allclose(recorded_rates(model.set_params(warm_start=True), X, y), expected, rtol=1e-15)


def test_cosine_with_early_stopping_still_stops():
    X, y = make_classification(200, 6, random_state=5)
    model = MLPClassifier((8,), learning_rate="cosine", early_stopping=True, n_iter_no_change=3)
    model.set_params(learning_rate_init=0.05, max_iter=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        rates = recorded_rates(model, X, y)
    assert model.n_iter_ < 300
    expected = [0.05 * (1 + math.cos(math.pi * e / 300)) / 2 for e in range(model.n_iter_)]
    assert_allclose(rates, expected, rtol=1e-15)


def test_cosine_makes_partial_fit_unavailable():
    model = MLPRegressor(learning_rate="cosine")
    assert not hasattr(model, "partial_fit")
    with pytest.raises(AttributeError) as info:
        model.partial_fit  # noqa: B018
    assert "learning_rate='cosine'" in str(info.value.__cause__)
    assert hasattr(MLPClassifier(learning_rate="invscaling"), "partial_fit")
