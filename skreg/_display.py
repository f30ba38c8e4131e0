"""Plot a fitted MLP's training history, in scikit-learn's Display style.

matplotlib is imported inside the plotting methods only, so that it stays an
optional dependency (the ``plot`` extra) and ``import skreg`` never needs it.
"""

import numpy as np
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted


def _import_pyplot(caller_name):
    """matplotlib.pyplot, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            f"{caller_name} requires matplotlib, which skreg does not install by "
            "default. Install it with `pip install 'skreg[plot]'` (or `pip install "
            "matplotlib`)."
        ) from error
    return plt


class TrainingCurveDisplay:
    """Training loss, validation loss and score, and best epoch of a fitted MLP.

    The training loss of every epoch is drawn on the left axis; with early
    stopping, the validation loss joins it there (where the two curves part,
    the model starts to overfit), the validation score of every epoch is
    drawn on a second (right) axis and the best epoch, whose weights the
    model keeps, is marked by a vertical line.

    Create one with :meth:`from_estimator`; the constructor only stores
    curves that were already computed. Plotting needs matplotlib (install
    ``skreg[plot]``).

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss of each epoch, as in an estimator's ``loss_curve_``.

    validation_scores : array-like of shape (n_epochs,), default=None
        Validation score of each epoch, as in ``validation_scores_``; None
        draws no second axis.

    validation_loss_curve : array-like of shape (n_epochs,), default=None
        Validation loss of each epoch, as in skreg's
        ``validation_loss_curve_``, drawn on the loss axis; None draws none.

    best_epoch : int, default=None
        1-based epoch to mark, usually the one whose weights early stopping
        restored; None marks none.

    estimator_name : str, default=None
        Name used in the legend and the title; None uses none.

    score_name : str, default="validation score"
        Label of the validation-score axis.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the loss curve.

    figure_ : matplotlib Figure
        Figure containing the curves.

    loss_line_ : matplotlib Line2D
        The loss curve.

    validation_ax_ : matplotlib Axes or None
        Second axis, sharing the epochs with ``ax_``, holding the validation
        scores; None without validation scores.

    validation_line_ : matplotlib Line2D or None
        The validation-score curve, or None.

    validation_loss_line_ : matplotlib Line2D or None
        The validation-loss curve, or None.

    best_epoch_line_ : matplotlib Line2D or None
        The vertical line at the best epoch, or None.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : Scores against the number
        of training samples rather than against epochs.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skreg import MLPClassifier, TrainingCurveDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(32,), early_stopping=True,
    ...                     random_state=0).fit(X / 16, y)
    >>> display = TrainingCurveDisplay.from_estimator(clf)
    >>> display.best_epoch == clf.validation_scores_.index(clf.best_validation_score_) + 1
    True
    >>> [line.get_label() for line in display.ax_.get_legend().get_lines()]
    ['training loss', 'validation loss', 'validation accuracy', 'best epoch (43)']
    """

    def __init__(
        self,
        *,
        loss_curve,
        validation_scores=None,
        validation_loss_curve=None,
        best_epoch=None,
        estimator_name=None,
        score_name="validation score",
    ):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.validation_loss_curve = validation_loss_curve
        self.best_epoch = best_epoch
        self.estimator_name = estimator_name
        self.score_name = score_name

    def plot(
        self,
        ax=None,
        *,
        name=None,
        loss_kw=None,
        validation_kw=None,
        best_epoch_kw=None,
        validation_loss_kw=None,
    ):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw the loss on; None creates a new figure and axes.
            The validation scores go on a twin axis of ``ax``.

        name : str, default=None
            Name for the title; None uses ``estimator_name``.

        loss_kw : dict, default=None
            Keyword arguments for the loss curve's ``ax.plot``.

        validation_kw : dict, default=None
            Keyword arguments for the validation curve's ``plot``.

        best_epoch_kw : dict, default=None
            Keyword arguments for the best epoch's ``ax.axvline``.

        validation_loss_kw : dict, default=None
            Keyword arguments for the validation loss curve's ``ax.plot``.

        Returns
        -------
        display : TrainingCurveDisplay
            This object, with ``ax_``, ``figure_`` and the lines set.
        """
        plt = _import_pyplot(f"{type(self).__name__}.plot")
        if ax is None:
            _, ax = plt.subplots()
        name = self.estimator_name if name is None else name

        loss = np.asarray(self.loss_curve, dtype=np.float64)
        epochs = np.arange(1, loss.shape[0] + 1)
        (self.loss_line_,) = ax.plot(
            epochs, loss, **{"color": "C0", "label": "training loss", **(loss_kw or {})}
        )
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        lines = [self.loss_line_]

        self.validation_loss_line_ = None
        if self.validation_loss_curve is not None:
            validation_loss = np.asarray(self.validation_loss_curve, dtype=np.float64)
            (self.validation_loss_line_,) = ax.plot(
                np.arange(1, validation_loss.shape[0] + 1),
                validation_loss,
                **{"color": "C3", "label": "validation loss", **(validation_loss_kw or {})},
            )
            ax.set_ylabel("loss")
            lines.append(self.validation_loss_line_)

        self.validation_ax_ = None
        self.validation_line_ = None
        if self.validation_scores is not None:
            scores = np.asarray(self.validation_scores, dtype=np.float64)
            self.validation_ax_ = ax.twinx()
            (self.validation_line_,) = self.validation_ax_.plot(
                np.arange(1, scores.shape[0] + 1),
                scores,
                **{"color": "C1", "label": self.score_name, **(validation_kw or {})},
            )
            self.validation_ax_.set_ylabel(self.score_name)
            lines.append(self.validation_line_)

        self.best_epoch_line_ = None
        if self.best_epoch is not None:
            self.best_epoch_line_ = ax.axvline(
                self.best_epoch,
                **{
                    "color": "C2",
                    "linestyle": "--",
                    "label": f"best epoch ({self.best_epoch})",
                    **(best_epoch_kw or {}),
                },
            )
            lines.append(self.best_epoch_line_)

        # One legend for both axes (a twin axis keeps its own handles), above
        # the plot: inside, it would cover one of the two curves whatever
        # their shapes.
        ax.legend(
            lines,
            [line.get_label() for line in lines],
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncol=len(lines),
            fontsize="small",
            frameon=False,
        )
        if name is not None:
            ax.set_title(name, pad=22)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        ax=None,
        name=None,
        loss_kw=None,
        validation_kw=None,
        best_epoch_kw=None,
        validation_loss_kw=None,
    ):
        """Plot the training history of a fitted MLP.

        Works with skreg's and scikit-learn's ``MLPClassifier`` and
        ``MLPRegressor`` fitted with ``solver='sgd'`` or ``'adam'`` (the
        ones that record ``loss_curve_``), or a :class:`~sklearn.pipeline.Pipeline`
        ending in one.

        Parameters
        ----------
        estimator : estimator or Pipeline
            Fitted MLP, or a fitted Pipeline whose last step is one.

        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure and axes.

        name : str, default=None
            Title of the plot; None uses none.

        loss_kw : dict, default=None
            Keyword arguments for the loss curve's ``ax.plot``.

        validation_kw : dict, default=None
            Keyword arguments for the validation curve's ``plot``.

        best_epoch_kw : dict, default=None
            Keyword arguments for the best epoch's ``ax.axvline``.

        validation_loss_kw : dict, default=None
            Keyword arguments for the validation loss curve's ``ax.plot``.

        Returns
        -------
        display : TrainingCurveDisplay
            The display, already drawn. ``best_epoch`` is the epoch with the
            highest validation score (the first one on ties), whose weights
            early stopping restored; without early stopping it is None
            because the model keeps the last epoch's weights.

        Raises
        ------
        ValueError
            If the estimator recorded no loss curve (``solver='lbfgs'``).
        """
        _import_pyplot(f"{cls.__name__}.from_estimator")
        if isinstance(estimator, Pipeline):
            estimator = estimator[-1]
        check_is_fitted(estimator)
        loss_curve = getattr(estimator, "loss_curve_", None)
        if loss_curve is None:
            raise ValueError(
                f"{type(estimator).__name__} has no loss_curve_ to plot: only "
                "solver='sgd' and solver='adam' record one, 'lbfgs' does not."
            )
        validation_scores = getattr(estimator, "validation_scores_", None)
        best_epoch = None
        if validation_scores is not None:
            scores = np.asarray(validation_scores, dtype=np.float64)
            # A NaN score (diverged epoch) is never the best one in training.
            if np.any(np.isfinite(scores)):
                best_epoch = int(np.nanargmax(scores)) + 1
        display = cls(
            loss_curve=loss_curve,
            validation_scores=validation_scores,
            validation_loss_curve=getattr(estimator, "validation_loss_curve_", None),
            best_epoch=best_epoch,
            estimator_name=name,
            score_name=_score_name(estimator),
        )
        return display.plot(
            ax=ax,
            loss_kw=loss_kw,
            validation_kw=validation_kw,
            best_epoch_kw=best_epoch_kw,
            validation_loss_kw=validation_loss_kw,
        )


def _score_name(estimator):
    """The label of the validation-score axis: what ``scoring`` scored."""
    scoring = getattr(estimator, "scoring", None)
    if scoring is None:
        return "validation accuracy" if is_classifier(estimator) else "validation R²"
    if scoring == "loss":
        return "validation score (negative loss)"
    if isinstance(scoring, str):
        return f"validation {scoring}"
    return "validation score"
