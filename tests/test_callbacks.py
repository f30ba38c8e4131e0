"""scikit-learn's callbacks (``set_callbacks``, scikit-learn 1.9+) on skreg's fits.

With ``sklearn.callback``: one root task per ``fit`` / ``partial_fit``, one
"epoch" subtask per epoch of 'sgd' / 'adam' and one "lbfgs-iter" subtask per
L-BFGS iteration; each subtask's ``fitted_estimator`` is the network a fit
stopped there would keep, and a callback's ``on_fit_task_end`` returning True
stops the fit there. Without ``sklearn.callback`` (scikit-learn < 1.9),
``set_callbacks`` raises an ImportError naming the version needed.
"""

import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_array_equal
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier, MLPRegressor

try:
    import sklearn.callback as sk_callback
except ImportError:  # scikit-learn < 1.9
    sk_callback = None

needs_callbacks = pytest.mark.skipif(
    sk_callback is None, reason="sklearn.callback needs scikit-learn >= 1.9"
)

X_DIGITS, Y_DIGITS = load_digits(return_X_y=True)
X_DIGITS = X_DIGITS[:400] / 16
Y_DIGITS = Y_DIGITS[:400]
X_REG, Y_REG = make_regression(200, 8, noise=1.0, random_state=0)
Y_REG = Y_REG / Y_REG.std()


def _quiet_fit(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)


class TaskRecorder:
    """A FitCallback recording each hook's task (estimator, name, id, parent)
    and each subtask's fitted_estimator; ``stop_at`` names the index of the
    subtask (epoch or L-BFGS iteration) whose end asks to stop."""

    def __init__(self, stop_at=None):
        self.stop_at = stop_at
        self.events = []
        self.fitted = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        self.events.append(("begin", *self._describe(context)))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
        self.events.append(("end", *self._describe(context)))
        if context.parent is not None and context.estimator_name == type(estimator).__name__:
            self.fitted.append((fitted_estimator, X, y))
            return context.task_id == self.stop_at
        return False

    @staticmethod
    def _describe(context):
        parent = None if context.parent is None else context.parent.task_name
        return context.estimator_name, context.task_name, context.task_id, parent

    def subtasks(self, hook):
        return [event[2:] for event in self.events if event[0] == hook and event[4] is not None]


class PropagatedTaskRecorder(TaskRecorder):
    max_propagation_depth = None


STOCHASTIC = [
    (MLPClassifier, "adam", X_DIGITS, Y_DIGITS),
    (MLPClassifier, "sgd", X_DIGITS, Y_DIGITS),
    (MLPRegressor, "adam", X_REG, Y_REG),
    (MLPRegressor, "sgd", X_REG, Y_REG),
]
ALL_SOLVERS = STOCHASTIC + [(MLPClassifier, "lbfgs", X_DIGITS, Y_DIGITS)]
ALL_SOLVERS += [(MLPRegressor, "lbfgs", X_REG, Y_REG)]


def _model(cls, solver, **params):
    params = {"hidden_layer_sizes": (16,), "random_state": 0, "max_iter": 8, **params}
    if solver == "sgd":
        params.setdefault("learning_rate_init", 0.05)
    return cls(solver=solver, **params)


def _fitted_arrays(model):
    return [*model.coefs_, *model.intercepts_]


def _assert_same_network(a, b):
    for array_a, array_b in zip(_fitted_arrays(a), _fitted_arrays(b), strict=True):
        assert_array_equal(array_a, array_b)


@needs_callbacks
@pytest.mark.parametrize("cls, solver, X, y", ALL_SOLVERS)
def test_task_tree_has_one_subtask_per_epoch_or_iteration(cls, solver, X, y):
    recorder = TaskRecorder()
    model = _quiet_fit(_model(cls, solver).set_callbacks(recorder), X, y)
    name = cls.__name__
    subtask = "lbfgs-iter" if solver == "lbfgs" else "epoch"
    assert recorder.events[0] == ("begin", name, "fit", 0, None)
    assert recorder.events[-1] == ("end", name, "fit", 0, None)
    expected = [(subtask, i, "fit") for i in range(model.n_iter_)]
    assert recorder.subtasks("begin") == expected
    assert recorder.subtasks("end") == expected
    # Each subtask ends before the next begins.
    assert [event[0] for event in recorder.events[1:-1]] == ["begin", "end"] * model.n_iter_


@needs_callbacks
@pytest.mark.parametrize("cls, solver, X, y", ALL_SOLVERS)
def test_callbacks_that_never_stop_leave_the_fit_bit_identical(cls, solver, X, y):
    plain = _quiet_fit(_model(cls, solver), X, y)
    watched = _quiet_fit(_model(cls, solver).set_callbacks(TaskRecorder()), X, y)
    _assert_same_network(plain, watched)
    assert watched.loss_ == plain.loss_
    assert watched.n_iter_ == plain.n_iter_


@needs_callbacks
@pytest.mark.parametrize("cls, solver, X, y", ALL_SOLVERS)
def test_stop_at_a_chosen_epoch_gives_the_fit_of_that_many_epochs(cls, solver, X, y):
    stop_at = 2
    recorder = TaskRecorder(stop_at=stop_at)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a stop is not a failure
        stopped = _model(cls, solver, max_iter=30).set_callbacks(recorder).fit(X, y)
    short = _quiet_fit(_model(cls, solver, max_iter=stop_at + 1), X, y)
    assert stopped.n_iter_ == short.n_iter_ == stop_at + 1
    assert len(recorder.fitted) == stop_at + 1
    _assert_same_network(stopped, short)
    # The last subtask's fitted_estimator is the model the stopped fit keeps.
    _assert_same_network(recorder.fitted[-1][0], stopped)
    if solver != "lbfgs":
        assert stopped.loss_curve_ == short.loss_curve_


@needs_callbacks
@pytest.mark.parametrize("cls, solver, X, y", STOCHASTIC)
def test_partial_fit_is_a_root_task_with_one_epoch(cls, solver, X, y):
    recorder = TaskRecorder(stop_at=0)  # a stop at its only epoch changes nothing
    kwargs = {"classes": np.unique(y)} if cls is MLPClassifier else {}
    watched = _model(cls, solver).set_callbacks(recorder)
    plain = _model(cls, solver)
    for _ in range(3):
        watched.partial_fit(X, y, **kwargs)
        plain.partial_fit(X, y, **kwargs)
    _assert_same_network(watched, plain)
    assert watched.loss_curve_ == plain.loss_curve_
    name = cls.__name__
    assert recorder.events[:4] == [
        ("begin", name, "partial_fit", 0, None),
        ("begin", name, "epoch", 0, "partial_fit"),
        ("end", name, "epoch", 0, "partial_fit"),
        ("end", name, "partial_fit", 0, None),
    ]
    assert len(recorder.events) == 3 * 4
    # The epoch's fitted_estimator after the first call predicts like the
    # model that call left.
    first = _model(cls, solver).partial_fit(X, y, **kwargs)
    _assert_same_network(recorder.fitted[0][0], first)


@needs_callbacks
def test_fitted_estimator_is_a_snapshot_that_predicts_as_if_fit_stopped_there():
    recorder = TaskRecorder()
    model = _quiet_fit(_model(MLPClassifier, "adam", max_iter=6).set_callbacks(recorder), *_xy())
    for epoch, (fitted, _, _) in enumerate(recorder.fitted):
        short = _quiet_fit(_model(MLPClassifier, "adam", max_iter=epoch + 1), *_xy())
        _assert_same_network(fitted, short)
        assert_array_equal(fitted.predict_proba(X_DIGITS), short.predict_proba(X_DIGITS))
        # A copy of the weights, not of the training data, nor the live buffer.
        assert not np.shares_memory(fitted.coefs_[0], model.coefs_[0])
    assert recorder.fitted[0][0].coefs_[0] is not recorder.fitted[1][0].coefs_[0]


def _xy():
    return X_DIGITS, Y_DIGITS


@needs_callbacks
def test_stop_with_early_stopping_keeps_the_best_validation_weights():
    # A high learning rate makes the validation score rise and fall.
    params = {"early_stopping": True, "n_iter_no_change": 100, "learning_rate_init": 0.05}
    X_train, y_train = X_DIGITS[:300], Y_DIGITS[:300]
    X_val, y_val = X_DIGITS[300:], Y_DIGITS[300:]
    unstopped = _quiet_fit(
        _model(MLPClassifier, "adam", max_iter=25, **params),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
    )
    scores = unstopped.validation_scores_
    # The first epoch whose score is below the best so far: stopping there
    # must keep an earlier epoch's weights, not the last ones.
    stop_at = next(i for i in range(1, len(scores)) if scores[i] < max(scores[:i]))
    recorder = TaskRecorder(stop_at=stop_at)
    stopped = _model(MLPClassifier, "adam", max_iter=25, **params).set_callbacks(recorder)
    stopped.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    assert stopped.n_iter_ == stop_at + 1
    assert stopped.validation_scores_ == scores[: stop_at + 1]
    assert stopped.score(X_val, y_val) == max(scores[: stop_at + 1])
    assert stopped.score(X_val, y_val) > scores[stop_at]
    # The same weights as a fit of that many epochs, whose early stopping
    # restores its best epoch.
    short = _quiet_fit(
        _model(MLPClassifier, "adam", max_iter=stop_at + 1, **params),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
    )
    _assert_same_network(stopped, short)
    # Each epoch's fitted_estimator is the best network so far.
    for epoch, (fitted, _, _) in enumerate(recorder.fitted):
        assert fitted.score(X_val, y_val) == max(scores[: epoch + 1])


@needs_callbacks
def test_epoch_tasks_see_the_training_rows_of_an_early_stopping_split():
    recorder = TaskRecorder()
    model = _model(MLPClassifier, "adam", early_stopping=True, validation_fraction=0.25)
    _quiet_fit(model.set_callbacks(recorder), X_DIGITS, Y_DIGITS)
    _, X_epoch, y_epoch = recorder.fitted[0]
    assert X_epoch.shape == (300, X_DIGITS.shape[1])
    assert y_epoch.shape == (300,)
    # Those rows, with their own labels.
    rows = [np.flatnonzero((X_DIGITS == row).all(axis=1))[0] for row in X_epoch[:20]]
    assert_array_equal(Y_DIGITS[rows], y_epoch[:20])
    assert recorder.fitted[1][1] is X_epoch  # gathered once per fit


@needs_callbacks
@pytest.mark.parametrize("cls, solver, X, y", ALL_SOLVERS)
def test_scoring_monitor_scores_every_epoch_on_training_and_routed_data(cls, solver, X, y):
    X_val, y_val = X[::3], y[::3]

    def scores(model, X, y):
        return {"train": model.score(X, y), "validation": model.score(X_val, y_val)}

    monitor = sk_callback.ScoringMonitor(scoring=scores)
    model = _quiet_fit(_model(cls, solver, max_iter=4).set_callbacks(monitor), X, y)
    log = monitor.get_logs().data
    subtask = "lbfgs-iter" if solver == "lbfgs" else "epoch"
    epochs = [row for row in log if row["task_name"] == subtask]
    assert [row["task_id"] for row in epochs] == list(range(model.n_iter_))
    for epoch, row in enumerate(epochs):
        short = _quiet_fit(_model(cls, solver, max_iter=epoch + 1), X, y)
        assert row["train"] == short.score(X, y)
        assert row["validation"] == short.score(X_val, y_val)
    (root,) = [row for row in log if row["task_name"] == "fit"]
    assert root["train"] == model.score(X, y)


@needs_callbacks
@pytest.mark.parametrize("cls, solver, X, y", STOCHASTIC)
def test_scoring_monitor_scores_each_partial_fit_epoch(cls, solver, X, y):
    metric = "accuracy" if cls is MLPClassifier else "r2"  # what score computes
    monitor = sk_callback.ScoringMonitor(scoring=metric)
    kwargs = {"classes": np.unique(y)} if cls is MLPClassifier else {}
    watched = _model(cls, solver).set_callbacks(monitor)
    plain = _model(cls, solver)
    expected = []
    for batch in np.array_split(np.arange(X.shape[0]), 3):
        watched.partial_fit(X[batch], y[batch], **kwargs)
        plain.partial_fit(X[batch], y[batch], **kwargs)
        expected.append(plain.score(X[batch], y[batch]))
    runs = monitor.get_logs(select="all")
    assert len(runs) == 3
    epochs = [row for run in runs for row in run.data if row["task_name"] == "epoch"]
    assert [row[metric] for row in epochs] == expected


@needs_callbacks
def test_scoring_monitor_gets_the_sample_weight_of_fit():
    weights = np.where(Y_DIGITS < 5, 3.0, 1.0)
    monitor = sk_callback.ScoringMonitor(scoring="accuracy")
    model = _model(MLPClassifier, "adam", max_iter=2).set_callbacks(monitor)
    _quiet_fit(model, X_DIGITS, Y_DIGITS, sample_weight=weights)
    row = monitor.get_logs().data[-1]
    assert row["task_name"] == "epoch"
    assert row["accuracy"] == model.score(X_DIGITS, Y_DIGITS, sample_weight=weights)
    assert row["accuracy"] != model.score(X_DIGITS, Y_DIGITS)


@needs_callbacks
def test_grid_search_over_a_pipeline_propagates_to_every_epoch():
    recorder = PropagatedTaskRecorder()
    search = GridSearchCV(
        make_pipeline(StandardScaler(), _model(MLPClassifier, "adam", max_iter=3)),
        {"mlpclassifier__l2": [1e-4, 1e-2]},
        cv=2,
    ).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X_DIGITS, Y_DIGITS)
    begun = [event[2:] for event in recorder.events if event[:2] == ("begin", "MLPClassifier")]
    network_roots = [task for task in begun if task[0] == "fit"]
    epochs = [task for task in begun if task[0] == "epoch"]
    # 2 candidates x 2 folds, then the refit; 3 epochs each.
    assert len(network_roots) == 5
    assert len(epochs) == 5 * 3
    assert {task[2] for task in epochs} == {"fit"}


@needs_callbacks
def test_progress_bar_runs_on_a_fit_and_under_a_search():
    pytest.importorskip("rich", reason="ProgressBar draws with rich (skreg's test extra)")
    model = _model(MLPClassifier, "adam", max_iter=3)
    _quiet_fit(model.set_callbacks(sk_callback.ProgressBar()), X_DIGITS, Y_DIGITS)
    assert model.n_iter_ == 3
    search = GridSearchCV(_model(MLPClassifier, "lbfgs", max_iter=3), {"l2": [1e-4, 1.0]}, cv=2)
    search.set_callbacks(sk_callback.ProgressBar(max_propagation_depth=None))
    _quiet_fit(search, X_DIGITS, Y_DIGITS)
    assert search.best_estimator_.n_iter_ <= 3


@needs_callbacks
def test_lbfgs_stop_without_scipy_support_warns_and_trains_on(monkeypatch):
    from sklearn.utils.fixes import parse_version

    from skreg import _callbacks

    monkeypatch.setattr(_callbacks, "sp_version", parse_version("1.10.1"))
    model = _model(MLPClassifier, "lbfgs", max_iter=5).set_callbacks(TaskRecorder(stop_at=1))
    with pytest.warns(UserWarning, match=r"needs scipy >= 1\.11 \(scipy 1\.10\.1"):
        _quiet_fit(model, X_DIGITS, Y_DIGITS)
    assert model.n_iter_ == 5


@needs_callbacks
def test_a_failed_fit_with_callbacks_leaves_the_model_and_tears_down():
    class Failing(TaskRecorder):
        def on_fit_task_end(self, estimator, context, **kwargs):
            raise RuntimeError("callback failed")

        def teardown(self, estimator, context):
            self.torn_down = True

    model = _quiet_fit(_model(MLPClassifier, "adam", max_iter=2), X_DIGITS, Y_DIGITS)
    before = [array.copy() for array in _fitted_arrays(model)]
    callback = Failing()
    model.set_params(warm_start=True).set_callbacks(callback)
    with pytest.raises(RuntimeError, match="callback failed"):
        model.fit(X_DIGITS, Y_DIGITS)
    for array, saved in zip(_fitted_arrays(model), before, strict=True):
        assert_array_equal(array, saved)
    assert callback.torn_down


@pytest.mark.skipif(
    sk_callback is not None, reason="scikit-learn >= 1.9 has sklearn.callback (tested above)"
)
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_set_callbacks_without_sklearn_callback_names_the_version_needed(cls):
    message = (
        rf"{cls.__name__}\.set_callbacks needs scikit-learn >= 1\.9 .*scikit-learn "
        rf"{sklearn.__version__} is installed"
    )
    with pytest.raises(ImportError, match=message):
        cls().set_callbacks(object())
    # The fit itself works as always.
    assert _quiet_fit(cls(max_iter=2, hidden_layer_sizes=(4,)), X_REG, Y_REG > 0).n_iter_ == 2
