"""Comparison helpers shared by the tests that check parity with scikit-learn.

Not a test module (pytest collects ``test_*.py`` only); the test modules
import it as a sibling, like ``_reference``.

* ``DeviationLog``: compares arrays (``assert_close``) and whole fitted models
  (``assert_same_model``), and records the relative and absolute deviation of
  every float64 comparison it passes. Each test module keeps its own log;
  ``tests/conftest.py`` prints the largest deviations of every log at the end
  of the session (``summary``), whatever ran and in whatever order.
* ``estimators``, ``fit_quietly``, ``training_warnings``, ``call_both``: fit
  helpers.

The default tolerances, ``RTOL = 1e-6`` and ``ATOL = 1e-10`` (for values that
happen to be near zero), are those of float64 parity: only floating-point
summation order may differ.
"""

import warnings
from unittest import mock

import numpy as np
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import neural_network as sk_nn
from sklearn.datasets import (
    load_digits,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import _base as sk_nn_base

import skreg

RTOL = 1e-6
ATOL = 1e-10

# Training history compared for sgd and adam fits unless a test module asks for
# other attributes (lbfgs keeps no history, so none is compared there).
HISTORY = ("loss_curve_", "validation_scores_")


# Every DeviationLog of the session, for tests/conftest.py's summary.
LOGS = []


class DeviationLog:
    """Array and model comparisons that record how far apart the values were.

    ``entries`` holds one ``(relative deviation, absolute deviation, label)``
    per recorded comparison; the relative deviation is taken over the elements
    with ``|desired| >= 1e-6``. ``title`` names the log in the summary.
    """

    def __init__(self, title):
        self.title = title
        self.entries = []
        LOGS.append(self)

    def __len__(self):
        return len(self.entries)

    def record(self, actual, desired, label):
        actual = np.asarray(actual, dtype=np.float64)
        desired = np.asarray(desired, dtype=np.float64)
        if desired.size == 0:
            return
        diff = np.abs(actual - desired)
        big = np.abs(desired) >= 1e-6
        rel = float(np.max(diff[big] / np.abs(desired[big]))) if np.any(big) else 0.0
        self.entries.append((rel, float(np.max(diff)), label))

    def assert_close(self, actual, desired, label, rtol=RTOL, atol=ATOL, record=True):
        """``actual`` and ``desired`` are both None, or arrays (or scalars) of
        the same shape that agree to ``rtol``/``atol`` as float64."""
        if desired is None:
            assert actual is None, f"{label}: expected None, got {actual!r}"
            return
        assert actual is not None, f"{label}: got None, expected {desired!r}"
        a = np.asarray(actual, dtype=np.float64)
        d = np.asarray(desired, dtype=np.float64)
        assert a.shape == d.shape, (label, a.shape, d.shape)
        assert_allclose(a, d, rtol=rtol, atol=atol, err_msg=label)
        if record:
            self.record(a, d, label)

    def assert_same_model(
        self,
        ours,
        theirs,
        X,
        label,
        *,
        rtol=RTOL,
        atol=ATOL,
        record=True,
        attributes=(),
        history=HISTORY,
        check_t=True,
        check_classes=True,
        check_dtypes=False,
    ):
        """Weights, training history and predictions on ``X`` of two fitted models agree.

        ``attributes``: further attributes that must be equal (``==``), checked
        first. ``history``: the training-history attributes compared unless
        ``theirs`` was fitted with lbfgs. ``check_t``: compare ``t_``.
        ``check_classes``: compare ``classes_`` of classifiers. ``check_dtypes``:
        also require the same dtypes of ``classes_`` and of the predicted labels,
        and the same shape of the predictions.
        """
        close = dict(rtol=rtol, atol=atol, record=record)
        for name in attributes:
            assert getattr(ours, name) == getattr(theirs, name), (label, name)
        for i, (a, b) in enumerate(zip(ours.coefs_, theirs.coefs_, strict=True)):
            self.assert_close(a, b, f"{label} coefs_[{i}]", **close)
        for i, (a, b) in enumerate(zip(ours.intercepts_, theirs.intercepts_, strict=True)):
            self.assert_close(a, b, f"{label} intercepts_[{i}]", **close)
        assert ours.n_iter_ == theirs.n_iter_, label
        if check_t:
            assert ours.t_ == theirs.t_, label
        self.assert_close(ours.loss_, theirs.loss_, f"{label} loss_", **close)
        if theirs.solver != "lbfgs":
            for name in history:
                self.assert_close(
                    getattr(ours, name), getattr(theirs, name), f"{label} {name}", **close
                )
        pred_ours, pred_theirs = ours.predict(X), theirs.predict(X)
        if check_dtypes:
            assert pred_ours.shape == pred_theirs.shape, label
        if hasattr(theirs, "classes_"):
            if check_classes:
                assert_array_equal(ours.classes_, theirs.classes_)
            if check_dtypes:
                assert ours.classes_.dtype == theirs.classes_.dtype, label
                assert pred_ours.dtype == pred_theirs.dtype, label
            assert_array_equal(pred_ours, pred_theirs)
            self.assert_close(
                ours.predict_proba(X), theirs.predict_proba(X), f"{label} predict_proba", **close
            )
        else:
            self.assert_close(pred_ours, pred_theirs, f"{label} predict", **close)

    def summary(self):
        """One line: the largest relative and absolute deviation recorded
        (every comparison already passed its own tolerance)."""
        rel, _, rel_label = max(self.entries)
        absolute, abs_label = max((d[1], d[2]) for d in self.entries)
        return (
            f"[{self.title}] {len(self.entries)} float64 comparisons; largest relative "
            f"deviation {rel:.3e} ({rel_label}); largest absolute deviation "
            f"{absolute:.3e} ({abs_label})"
        )


def make_tasks():
    """Small data of every target kind, name -> (kind, X, y): binary, multiclass,
    multi-label, regression and multi-output regression. Small, so that
    scikit-learn's Python loop stays fast; no n_samples is a multiple of 8."""
    tasks = {}
    X, y = make_classification(
        n_samples=53, n_features=6, n_informative=4, n_redundant=0, random_state=0
    )
    tasks["binary"] = ("classifier", X, y)
    X, y = load_digits(n_class=4, return_X_y=True)
    tasks["multiclass"] = ("classifier", X[:61] / 16.0, y[:61])
    X, Y = make_multilabel_classification(n_samples=53, n_features=6, n_classes=3, random_state=0)
    tasks["multilabel"] = ("classifier", X / X.max(), Y)
    X, y = make_regression(n_samples=53, n_features=6, noise=0.5, random_state=0)
    tasks["regression"] = ("regressor", X, (y - y.mean()) / y.std())
    X, Y = make_regression(n_samples=53, n_features=5, n_targets=3, noise=0.5, random_state=1)
    tasks["multioutput"] = ("regressor", X, (Y - Y.mean(axis=0)) / Y.std(axis=0))
    return tasks


def _summed_squared_loss(y_true, y_pred, sample_weight=None):
    """Half the squared error summed over outputs: the function whose
    gradient scikit-learn's back-propagation computes."""
    return 0.5 * np.average(((y_true - y_pred) ** 2).sum(axis=1), weights=sample_weight)


class SklearnRegressorOneLbfgsObjective(sk_nn.MLPRegressor):
    """scikit-learn's regressor, except that its L-BFGS minimises the function
    whose gradient it follows, as skreg's does: the squared error summed over
    outputs, not averaged (scikit-learn's open issue #8349). ``loss_`` is then
    reported as scikit-learn reports it, averaged over outputs. With one
    output, and with sgd or adam, it is scikit-learn's regressor unchanged."""

    def _fit_lbfgs(self, X, y, sample_weight, *args, **kwargs):
        if self.loss != "squared_error":
            return super()._fit_lbfgs(X, y, sample_weight, *args, **kwargs)
        with mock.patch.dict(sk_nn_base.LOSS_FUNCTIONS, {"squared_error": _summed_squared_loss}):
            super()._fit_lbfgs(X, y, sample_weight, *args, **kwargs)
        squares = sum(np.dot(c.ravel(), c.ravel()) for c in self.coefs_)
        weight_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
        self.loss_ = (
            sk_nn_base.squared_loss(y, self._forward_pass_fast(X, check_input=False), sample_weight)
            + 0.5 * self.alpha * squares / weight_sum
        )


def estimators(kind):
    """(skreg estimator, scikit-learn estimator) for a task kind: "classifier",
    anything else means a regressor (scikit-learn's with one L-BFGS
    objective, :class:`SklearnRegressorOneLbfgsObjective`)."""
    if kind == "classifier":
        return skreg.MLPClassifier, sk_nn.MLPClassifier
    return skreg.MLPRegressor, SklearnRegressorOneLbfgsObjective


def fit_quietly(est, X, y, **kwargs):
    """``est.fit(X, y, **kwargs)`` with ConvergenceWarning ignored; returns ``est``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


def training_warnings(method, *args, **kwargs):
    """Call, returning the names of the training warnings raised:
    ConvergenceWarning and the plain UserWarning of a clipped batch_size (not,
    say, deprecations that depend on library versions)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        method(*args, **kwargs)
    return sorted(
        {w.category.__name__ for w in caught if w.category in (ConvergenceWarning, UserWarning)}
    )


def call_both(method_name, ours, theirs, *args, **kwargs):
    """Call the same method of both estimators; they must raise the same
    training warnings, whose names are returned."""
    ours_warnings = training_warnings(getattr(ours, method_name), *args, **kwargs)
    theirs_warnings = training_warnings(getattr(theirs, method_name), *args, **kwargs)
    assert ours_warnings == theirs_warnings, (method_name, ours_warnings, theirs_warnings)
    return ours_warnings
