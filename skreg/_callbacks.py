"""scikit-learn's callbacks (:mod:`sklearn.callback`, scikit-learn 1.9+) on
skreg's fits.

A fit or ``partial_fit`` is one root task; each epoch of 'sgd' or 'adam', or
each L-BFGS iteration, is one of its subtasks. The drivers
(:mod:`skreg._solvers`) never see an estimator or a callback: they get a
:class:`FitTasks`, which they tell when a subtask begins and ends, handing it
the parameters a fit stopped there would keep. Everything a callback receives
(the data, the ``fitted_estimator``) is built here, at the estimator level,
and only when a callback's hook asks for it.

Without callbacks no :class:`FitTasks` exists and the drivers run exactly
as they did before callbacks.
"""

import functools
import warnings

import sklearn
from sklearn.utils import _safe_indexing
from sklearn.utils.fixes import parse_version, sp_version

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9
    CallbackSupportMixin = None

CALLBACKS_MIN_SKLEARN = "1.9"
# scipy.optimize.minimize honours a callback's StopIteration from 1.11 on.
LBFGS_STOP_MIN_SCIPY = "1.11"


class _NoCallbackSupport:
    """``set_callbacks`` where scikit-learn has no :mod:`sklearn.callback`:
    present, so that the method a user reads about exists, and raising an
    error that names the version needed."""

    def set_callbacks(self, *callbacks):
        """Set callbacks for the estimator (needs scikit-learn >= 1.9).

        Parameters
        ----------
        *callbacks : callback instances
            The callbacks to set.

        Raises
        ------
        ImportError
            Always: the installed scikit-learn has no ``sklearn.callback``.
        """
        raise ImportError(
            f"{type(self).__name__}.set_callbacks needs scikit-learn >= "
            f"{CALLBACKS_MIN_SKLEARN} (the sklearn.callback module); scikit-learn "
            f"{sklearn.__version__} is installed."
        )


CallbackSupport = _NoCallbackSupport if CallbackSupportMixin is None else CallbackSupportMixin


class _TaskData:
    """The data a fit's callbacks see, as the user passed it to ``fit``
    (``X``, ``y``, ``sample_weight``), and its training rows: the subtasks
    see only the rows that train (an early-stopping split holds the others
    out), gathered once, on the first hook that asks for them."""

    def __init__(self, X, y, sample_weight, rows):
        self.X, self.y = X, y
        self.metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self._rows = rows
        self._all_rows = rows is None

    def training_X(self):
        return self.X if self._all_rows else self._training[0]

    def training_y(self):
        return self.y if self._all_rows else self._training[1]

    def training_metadata(self):
        if self.metadata is None or self._all_rows:
            return self.metadata
        return {"sample_weight": self._training[2]}

    @functools.cached_property
    def _training(self):
        return tuple(
            None if value is None else _safe_indexing(value, self._rows)
            for value in (self.X, self.y, (self.metadata or {}).get("sample_weight"))
        )


class FitTasks:
    """The callback tasks of one fit: its root task and the subtasks the
    driver announces (``begin``, ``end``, ``close``).

    Parameters
    ----------
    estimator : skreg estimator
        The estimator being fitted; callbacks receive it.
    context : sklearn.callback.CallbackContext
        The root task's context, whose begin hook has been called.
    data : _TaskData
    subtask_name : str
        "epoch" or "lbfgs-iter" (scikit-learn's LogisticRegression's name).
    network_attributes : callable
        ``network_attributes(params)``: the fitted attributes of a network
        with the flat parameters ``params`` (a copy the caller owns), from
        which scikit-learn builds each ``fitted_estimator``.
    can_stop : bool
        Whether the driver can stop at a subtask's end (L-BFGS needs scipy
        >= 1.11); if not, a stop request warns and training goes on.
    """

    def __init__(self, estimator, context, data, subtask_name, network_attributes, can_stop):
        self._estimator = estimator
        self._context = context
        self._data = data
        self._subtask_name = subtask_name
        self._network_attributes = network_attributes
        self._can_stop = can_stop
        self._open = None

    def begin(self):
        """Begin a subtask, unless one is open (L-BFGS begins an iteration
        at its first evaluation of the objective and calls this at each)."""
        if self._open is None:
            self._open = self._context.subcontext(task_name=self._subtask_name)
            self._open.call_on_fit_task_begin(
                estimator=self._estimator,
                X=self._data.training_X,
                y=self._data.training_y,
                metadata=self._data.training_metadata,
            )

    def end(self, kept_params):
        """End the open subtask; ``kept_params`` are the flat parameters a
        fit stopped here would keep (None: such a fit would raise, and
        ``fitted_estimator`` is None). Returns whether a callback asks to
        stop."""
        task, self._open = self._open, None

        def reconstruction_attributes():
            if kept_params is None:
                return None
            return self._network_attributes(kept_params.copy())

        stop = task.call_on_fit_task_end(
            estimator=self._estimator,
            X=self._data.training_X,
            y=self._data.training_y,
            metadata=self._data.training_metadata,
            reconstruction_attributes=reconstruction_attributes,
        )
        if stop and not self._can_stop:
            warnings.warn(
                f"A callback asked to stop L-BFGS, which needs scipy >= {LBFGS_STOP_MIN_SCIPY} "
                f"(scipy {sp_version} is installed): training goes on."
            )
            return False
        return stop

    def close(self, kept_params):
        """End a subtask the driver left open (a break out of the epoch loop,
        a line search scipy gave up)."""
        if self._open is not None:
            self.end(kept_params)

    def finish(self):
        """End the root task, once the fitted model is committed."""
        self._context.call_on_fit_task_end(
            estimator=self._estimator,
            X=self._data.X,
            y=self._data.y,
            metadata=self._data.metadata,
            reconstruction_attributes={},
        )


def fit_tasks(estimator, fit_input, training, incremental, network_attributes):
    """The :class:`FitTasks` of a fit whose estimator has callbacks, its root
    task begun; None without callbacks (or without :mod:`sklearn.callback`),
    so that the drivers run as they do without them.

    ``fit_input`` is ``(X, y, sample_weight)`` as passed to ``fit``;
    ``training`` the :class:`~skreg._solvers.TrainingData`, whose rows the
    subtasks see. The root task is named after the method, with at most
    ``max_iter`` subtasks for ``fit`` (epochs or L-BFGS iterations) and one
    epoch for ``partial_fit``.
    """
    if CallbackSupportMixin is None or not getattr(estimator, "_skl_callbacks", None):
        return None
    lbfgs = estimator.solver == "lbfgs"
    context = estimator._init_callback_context(
        task_name="partial_fit" if incremental else "fit",
        max_subtasks=1 if incremental else estimator.max_iter,
    )
    all_rows = training.rows.shape[0] == training.X.shape[0]
    data = _TaskData(*fit_input, rows=None if all_rows else training.rows)
    context.call_on_fit_task_begin(estimator=estimator, X=data.X, y=data.y, metadata=data.metadata)
    return FitTasks(
        estimator,
        context,
        data,
        subtask_name="lbfgs-iter" if lbfgs else "epoch",
        network_attributes=network_attributes,
        can_stop=not lbfgs or sp_version >= parse_version(LBFGS_STOP_MIN_SCIPY),
    )
