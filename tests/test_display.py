"""TrainingCurveDisplay draws what the fitted model recorded, on Agg."""

import copy
import doctest
import subprocess
import sys
import warnings

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skreg._display
from skreg import MLPClassifier, MLPRegressor, TrainingCurveDisplay

# Headless and deterministic: no window opens while the suite runs.
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


@pytest.fixture(scope="module")
def classification():
    return make_classification(n_samples=300, n_features=8, random_state=0)


@pytest.fixture(scope="module")
def early_stopped(classification):
    X, y = classification
    return fit_quietly(
        MLPClassifier(
            hidden_layer_sizes=(8,),
            early_stopping=True,
            validation_fraction=0.2,
            n_iter_no_change=5,
            max_iter=200,
            random_state=0,
        ),
        X,
        y,
    )


def legend_labels(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_early_stopped_classifier_draws_loss_scores_and_best_epoch(early_stopped):
    display = TrainingCurveDisplay.from_estimator(early_stopped)
    n_epochs = early_stopped.n_iter_
    # Early stopping ran past its best epoch, so there is an epoch to mark.
    assert len(early_stopped.validation_scores_) == n_epochs

    assert display.figure_ is display.ax_.figure
    np.testing.assert_array_equal(display.loss_line_.get_xdata(), np.arange(1, n_epochs + 1))
    np.testing.assert_array_equal(display.loss_line_.get_ydata(), early_stopped.loss_curve_)
    np.testing.assert_array_equal(
        display.validation_line_.get_ydata(), early_stopped.validation_scores_
    )
    assert display.validation_line_ in display.validation_ax_.get_lines()
    assert display.validation_ax_ is not display.ax_

    best_epoch = display.best_epoch
    assert early_stopped.validation_scores_[best_epoch - 1] == early_stopped.best_validation_score_
    assert max(early_stopped.validation_scores_[: best_epoch - 1], default=-1) < (
        early_stopped.best_validation_score_
    )
    assert best_epoch < n_epochs
    assert list(display.best_epoch_line_.get_xdata()) == [best_epoch, best_epoch]

    # The validation loss shares the loss axis.
    np.testing.assert_array_equal(
        display.validation_loss_line_.get_ydata(), early_stopped.validation_loss_curve_
    )
    assert display.validation_loss_line_ in display.ax_.get_lines()

    assert display.ax_.get_xlabel() == "epoch"
    assert display.ax_.get_ylabel() == "loss"
    assert display.validation_ax_.get_ylabel() == "validation accuracy"
    assert legend_labels(display.ax_) == [
        "training loss",
        "validation loss",
        "validation accuracy",
        f"best epoch ({best_epoch})",
    ]


def test_without_early_stopping_only_the_loss_is_drawn(classification):
    X, y = classification
    model = fit_quietly(MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0), X, y)
    display = TrainingCurveDisplay.from_estimator(model)
    assert display.validation_ax_ is None
    assert display.validation_line_ is None
    assert display.validation_loss_line_ is None
    assert display.ax_.get_ylabel() == "training loss"
    # The model keeps its last epoch's weights: no epoch is "best".
    assert display.best_epoch is None
    assert display.best_epoch_line_ is None
    assert len(display.figure_.axes) == 1
    assert [line.get_label() for line in display.ax_.get_lines()] == ["training loss"]
    assert legend_labels(display.ax_) == ["training loss"]


def test_regressor_scores_are_labelled_r2():
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    model = fit_quietly(
        MLPRegressor(
            hidden_layer_sizes=(8,),
            early_stopping=True,
            learning_rate_init=0.01,
            max_iter=100,
            random_state=0,
        ),
        X,
        y,
    )
    display = TrainingCurveDisplay.from_estimator(model)
    assert display.validation_ax_.get_ylabel() == "validation R²"
    np.testing.assert_array_equal(display.validation_line_.get_ydata(), model.validation_scores_)


@pytest.mark.parametrize(
    "scoring, label",
    [
        ("loss", "validation score (negative loss)"),
        ("neg_mean_absolute_error", "validation neg_mean_absolute_error"),
        (lambda est, X, y: -abs(est.predict(X) - y).max(), "validation score"),
    ],
    ids=["loss", "scorer-name", "callable"],
)
def test_score_axis_names_the_scoring(scoring, label):
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    model = fit_quietly(
        MLPRegressor(
            hidden_layer_sizes=(8,),
            early_stopping=True,
            scoring=scoring,
            learning_rate_init=0.01,
            max_iter=20,
            random_state=0,
        ),
        X,
        y / 100,
    )
    display = TrainingCurveDisplay.from_estimator(model)
    assert display.validation_ax_.get_ylabel() == label
    np.testing.assert_array_equal(display.validation_line_.get_ydata(), model.validation_scores_)


def test_draws_on_given_axes_with_title_and_style(early_stopped):
    figure, (left, right) = plt.subplots(1, 2)
    display = TrainingCurveDisplay.from_estimator(
        early_stopped,
        ax=right,
        name="skreg MLP",
        loss_kw={"color": "black"},
        validation_kw={"linestyle": ":"},
        best_epoch_kw={"color": "red"},
    )
    assert display.ax_ is right
    assert display.figure_ is figure
    assert right.get_title() == "skreg MLP"
    assert not left.get_lines()
    assert display.loss_line_.get_color() == "black"
    assert display.validation_line_.get_linestyle() == ":"
    assert display.best_epoch_line_.get_color() == "red"


def test_pipeline_draws_its_last_step(classification, early_stopped):
    X, y = classification
    pipeline = fit_quietly(
        make_pipeline(
            StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), max_iter=15, random_state=0)
        ),
        X,
        y,
    )
    display = TrainingCurveDisplay.from_estimator(pipeline)
    np.testing.assert_array_equal(display.loss_line_.get_ydata(), pipeline[-1].loss_curve_)


def test_scikit_learn_mlp_is_drawn_too(classification):
    X, y = classification
    model = fit_quietly(
        SklearnMLPClassifier(
            hidden_layer_sizes=(8,), early_stopping=True, max_iter=60, random_state=0
        ),
        X,
        y,
    )
    display = TrainingCurveDisplay.from_estimator(model)
    np.testing.assert_array_equal(display.validation_line_.get_ydata(), model.validation_scores_)
    assert display.best_epoch == int(np.argmax(model.validation_scores_)) + 1


def test_lbfgs_has_no_curve_to_draw(classification):
    X, y = classification
    model = fit_quietly(
        MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20, random_state=0),
        X,
        y,
    )
    with pytest.raises(ValueError, match="has no loss_curve_ to plot.*'lbfgs' does not"):
        TrainingCurveDisplay.from_estimator(model)


def test_unfitted_estimator_is_refused():
    with pytest.raises(NotFittedError):
        TrainingCurveDisplay.from_estimator(MLPClassifier())


def test_constructor_stores_curves_and_plot_draws_them():
    display = TrainingCurveDisplay(
        loss_curve=[3.0, 2.0, 1.5], validation_scores=[0.5, 0.7, 0.6], best_epoch=2
    )
    assert display.plot() is display
    np.testing.assert_array_equal(display.loss_line_.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(display.validation_line_.get_ydata(), [0.5, 0.7, 0.6])
    assert display.validation_ax_.get_ylabel() == "validation score"
    assert display.ax_.get_title() == ""


def test_best_epoch_skips_nan_scores_and_takes_the_first_of_ties(early_stopped):
    # Training keeps a new best only on a strict improvement, and a NaN score
    # (a diverged epoch) never improves on anything.
    model = copy.deepcopy(early_stopped)
    model.validation_scores_ = [np.nan, 0.6, 0.8, 0.8, np.nan]
    assert TrainingCurveDisplay.from_estimator(model).best_epoch == 3
    model.validation_scores_ = [np.nan, np.nan]
    display = TrainingCurveDisplay.from_estimator(model)
    assert display.best_epoch is None
    assert display.best_epoch_line_ is None


def test_missing_matplotlib_raises_an_import_error_naming_the_extra(monkeypatch, early_stopped):
    # A None entry in sys.modules makes `import` raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'skreg\[plot\]'"):
        TrainingCurveDisplay.from_estimator(early_stopped)
    with pytest.raises(ImportError, match=r"TrainingCurveDisplay.plot requires matplotlib"):
        TrainingCurveDisplay(loss_curve=[1.0]).plot()


def test_import_skreg_does_not_import_matplotlib():
    code = "import sys, skreg; print('matplotlib' in sys.modules)"
    printed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert printed.strip() == "False"


def test_docstring_example_runs():
    result = doctest.testmod(skreg._display, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
