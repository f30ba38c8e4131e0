"""Python drivers around the compiled kernels.

The stochastic driver runs the epoch loop: shuffling, learning-rate schedules,
early stopping with best-weight restore, verbose lines and warnings. One call
into :func:`skreg._kernels.run_epoch` trains a whole epoch. The L-BFGS driver
hands :func:`skreg._kernels.loss_and_gradient` to :func:`scipy.optimize.minimize`.

Nothing here touches an estimator: the estimator passes in its
:class:`~skreg._settings.FitSettings`, the network's
:class:`~skreg._layout.NetworkLayout` and its data (as :class:`TrainingData`
and, for early stopping, :class:`ValidationData`), and commits what comes
back, so a failed fit leaves a fitted model untouched. Callbacks reach the
drivers only as an optional ``tasks`` object (:class:`skreg._callbacks.FitTasks`,
None without callbacks), told when each epoch or L-BFGS iteration begins and
ends and handed the parameters a fit stopped there would keep.
"""

import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from . import _kernels as k
from ._layout import kernel_input, kernel_sample_weight, read_only_view

PREDICT_CHUNK_ROWS = 4096
# average=True averages the epochs that end after this share of max_iter:
# SWA averages the late part of training, away from the random start.
AVERAGE_FROM_SHARE_OF_MAX_ITER = 0.75
# L-BFGS's full-batch gradient is accumulated over chunks of this many rows,
# so its memory does not grow with the number of samples.
LBFGS_CHUNK_ROWS = 4096


class OneBlasThreadOffTheMainThread:
    """Context of a fit: inside a thread other than the main one (joblib's
    threading backend, Dask's threaded scheduler), BLAS gets one thread.

    The kernels release the GIL, so fits in threads run side by side; BLAS's
    own threads (OpenBLAS takes every core) would then fight them: on 2 cores
    two threaded digits fits ran at 0.65x the serial throughput, and at 1.8x
    with one BLAS thread each (benchmarks/bench_threads.py). The limit is the
    process's, as threadpoolctl's always is: set by the first such fit,
    restored when the last one ends. A fit in the main thread is untouched.
    """

    _lock = threading.Lock()
    _active = 0
    _limits = None

    def __enter__(self):
        self._here = threading.current_thread() is not threading.main_thread()
        if self._here:
            cls = type(self)
            with cls._lock:
                if cls._active == 0:
                    cls._limits = threadpool_limits(limits=1, user_api="blas")
                cls._active += 1
        return self

    def __exit__(self, *exc_info):
        if self._here:
            cls = type(self)
            with cls._lock:
                cls._active -= 1
                if cls._active == 0:
                    cls._limits.restore_original_limits()
                    cls._limits = None


def diverged_error(where, learning_rate_init=None):
    """The error of a fit whose loss or weights became non-finite."""
    remedies = "scale the features (for example with sklearn.preprocessing.StandardScaler)"
    if learning_rate_init is not None:
        remedies = f"lower learning_rate_init (currently {learning_rate_init:g}), " + remedies
    return ValueError(
        f"Training diverged: {where} became non-finite. Try to {remedies}, or increase l2."
    )


def predict(X, params, layout, settings):
    """Network output for dense or CSR ``X``, in chunks of rows that bound
    the memory of the activations; ``settings`` are kernel settings."""
    X_dense, X_csr = kernel_input(X)
    return k.predict_output(
        X_dense, X_csr, params, layout.layer_units, settings, PREDICT_CHUNK_ROWS
    )


@dataclass(frozen=True)
class TrainingData:
    """The data that trains.

    ``X`` (ndarray or CSR matrix of shape (n_samples, n_features), the
    model's dtype), the compact targets ``Y`` (see :mod:`skreg._kernels`),
    ``sample_weight`` (shape (n_samples,), or None for unit weights) and
    ``rows``, the int64 indices of the rows of ``X`` that train: all of them,
    unless an early-stopping split holds some out.
    """

    X: object
    Y: np.ndarray
    sample_weight: np.ndarray | None
    rows: np.ndarray


@dataclass(frozen=True)
class ValidationData:
    """The data early stopping scores after every epoch.

    Attributes
    ----------
    X : ndarray or CSR matrix of shape (n_validation, n_features)
        In the model's dtype.
    Y : ndarray of shape (n_validation, n_outputs)
        Targets in full (one-hot rows for the multiclass log loss, not class
        indices), for the data loss.
    sample_weight : ndarray of shape (n_validation,)
        Ones for unit weights.
    score : callable
        ``score(output, loss)``: the validation score (higher is better) of
        the network's finite ``output`` on ``X``, whose data loss is ``loss``.
    scoring : str
        What ``score`` measures (the repr of the estimator's ``scoring``), so
        that a warm start knows whether the best score so far is comparable.
    """

    X: object
    Y: np.ndarray
    sample_weight: np.ndarray
    score: Callable[[np.ndarray, float], float]
    scoring: str

    def evaluate(self, params, layout, settings):
        """``(score, loss)`` of the network ``params`` on this data: the
        validation score and the weighted mean data loss (the training loss
        without penalties), both NaN if the network's output is not finite.
        ``settings`` are the fit's kernel settings."""
        output = predict(self.X, params, layout, settings)
        if not np.all(np.isfinite(output)):
            return np.nan, np.nan
        unused_delta = np.empty_like(output)
        loss_sum = k.reported_data_loss(
            k.data_loss_and_output_delta(
                output, self.Y, self.sample_weight, settings.loss, settings.proba_eps, unused_delta
            ),
            settings.loss,
            layout.layer_units[-1],
        )
        loss = float(loss_sum / np.sum(self.sample_weight, dtype=np.float64))
        return self.score(output, loss), loss


def full_targets(Y, n_outputs):
    """Targets with one column per output unit: one-hot rows for compact
    class indices (see :mod:`skreg._kernels`), other targets as they are."""
    if Y.shape[1] == n_outputs:
        return Y
    return np.eye(n_outputs, dtype=Y.dtype)[Y[:, 0].astype(np.intp)]


def validation_split(n_samples, validation_fraction, stratify, random_state):
    """``(training_rows, validation_rows)`` of an early-stopping split:
    scikit-learn's ``train_test_split`` of the row indices, so that a seed
    gives its split.

    The split runs before the size checks, so that its own error (a class
    with too few members for a stratified split) comes first, as in
    scikit-learn; the checks name ``validation_fraction`` rather than
    ``test_size``.
    """
    n_validation = np.ceil(validation_fraction * n_samples)
    if 0 < n_validation < n_samples:
        rows = train_test_split(
            np.arange(n_samples),
            random_state=random_state,
            test_size=validation_fraction,
            stratify=stratify,
        )
    if n_validation < 2:
        # scikit-learn's message, then the figures.
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' or the size "
            f"of your dataset. (validation_fraction={validation_fraction} of "
            f"n_samples={n_samples} holds {n_validation:.0f} row(s); early stopping needs 2.)"
        )
    if n_validation >= n_samples:
        raise ValueError(
            f"validation_fraction={validation_fraction} leaves no training "
            f"samples out of {n_samples}. Decrease 'validation_fraction'."
        )
    return rows


def cosine_learning_rate(learning_rate_init, epoch, max_iter):
    """The learning rate of epoch ``epoch`` (0-based) of a fit under
    ``learning_rate='cosine'``: a half cosine from ``learning_rate_init``
    to 0 over ``max_iter`` epochs."""
    return learning_rate_init * 0.5 * (1.0 + math.cos(math.pi * epoch / max_iter))


def averaging_start(average, max_iter, n_train):
    """The number of samples seen (``t_``) from which each epoch's end joins
    the average of ``average`` (the estimator's parameter), or None for no
    averaging."""
    if isinstance(average, bool | np.bool_):
        return AVERAGE_FROM_SHARE_OF_MAX_ITER * max_iter * n_train if average else None
    return int(average) if average > 0 else None


@dataclass
class Progress:
    """What training carries from one call to the next.

    scikit-learn keeps the history (``t``, the curves, the best scores and the
    no-improvement count) across warm-started fits and ``partial_fit`` calls,
    and the optimizer's state (velocities or moments, the step count, the
    scheduled learning rate) across ``partial_fit`` calls only; skreg carries
    the dropout generator's state along with the optimizer's, and starts
    early stopping's best score, weights and patience afresh in a
    warm-started fit (see :meth:`continued`). With
    ``average``, ``average`` is the mean of the ``n_averaged`` iterates
    averaged so far (what the model returns) and ``last_iterate`` the last
    one (what training continues from); both carry over like the history.
    """

    t: int
    loss_curve: list
    validation_scores: list | None
    validation_loss_curve: list | None
    best_loss: float | None
    best_validation_score: float | None
    no_improvement_count: int
    best_params: np.ndarray | None
    optimizer_state: np.ndarray | None
    optimizer_steps: int
    learning_rate: float | None
    dropout_rng_state: int | None
    scoring: str | None
    average: np.ndarray | None = None
    n_averaged: int = 0
    last_iterate: np.ndarray | None = None

    @classmethod
    def fresh(cls, scoring):
        """The state of a new network; ``scoring`` as in :meth:`continued`."""
        return cls(
            t=0,
            loss_curve=[],
            validation_scores=None,
            validation_loss_curve=None,
            best_loss=np.inf,
            best_validation_score=None,
            no_improvement_count=0,
            best_params=None,
            optimizer_state=None,
            optimizer_steps=0,
            learning_rate=None,
            dropout_rng_state=None,
            scoring=None,
        ).continued(scoring, incremental=False)

    def returned_weights(self, params):
        """The weights a fit ending now returns, before early stopping's
        choice among them: the average of the iterates once averaging has
        begun, else the current ``params`` (the array itself)."""
        return params if self.average is None else self.average

    def average_in(self, params):
        """Add ``params`` to the running mean of the averaged iterates (a new
        array: the previous fit's average stays as it is)."""
        self.n_averaged += 1
        if self.average is None:
            self.average = params.copy()
        else:
            self.average = self.average + (params - self.average) / self.n_averaged

    def continued(self, scoring, incremental):
        """A copy to train on, with new lists (the caller's stay as they are).

        ``scoring`` names what early stopping scores (see
        :attr:`ValidationData.scoring`), None without early stopping. When it
        is not what this history holds, a warm start switched early stopping
        on or off or scores something else: the best score, its weights and
        the patience cannot carry over, and the history of the new mode
        begins afresh (scikit-learn's MLP raises on a switch, and would
        compare scores of different metrics).

        A warm-started ``fit`` (``incremental`` False) also starts early
        stopping's best score, weights and patience afresh, while its curves
        go on: it is a new fit from the old weights, often with a changed
        penalty or validation set, which must not end with the old fit's
        weights or stop at once on the old fit's patience. scikit-learn's
        MLP carries them over. ``partial_fit`` continues them."""
        progress = replace(self, loss_curve=list(self.loss_curve))
        if scoring is not None and not incremental:
            progress.no_improvement_count = 0
            progress.best_params = None
            progress.best_validation_score = -np.inf
        if scoring != self.scoring:
            progress.scoring = scoring
            progress.no_improvement_count = 0
            progress.best_params = None
            if scoring is None:
                progress.validation_scores = progress.validation_loss_curve = None
                progress.best_validation_score = None
                progress.best_loss = np.inf
            else:
                progress.validation_scores, progress.validation_loss_curve = [], []
                progress.best_validation_score = -np.inf
                progress.best_loss = None
        elif scoring is not None:
            progress.validation_scores = list(self.validation_scores)
            progress.validation_loss_curve = list(self.validation_loss_curve)
        return progress


@dataclass
class StochasticResult:
    params: np.ndarray
    n_iter: int
    loss: float
    progress: Progress


def fit_stochastic(
    settings, training, validation, layout, params, random_state, progress, incremental, tasks=None
):
    """Train with minibatch SGD or Adam, scikit-learn's epoch loop.

    Parameters
    ----------
    settings : FitSettings
    training : TrainingData
    validation : ValidationData or None
        The data early stopping scores after every epoch; None without
        early stopping.
    layout : NetworkLayout
    params : ndarray of shape (n_params,)
        Starting parameters; trained in place.
    random_state : numpy.random.RandomState
        Draws the shuffles and the dropout seed.
    progress : Progress
        State to continue (a fresh one for a new network); the argument is
        not modified.
    incremental : bool
        True for ``partial_fit``: one epoch, continuing the optimizer state;
        False for ``fit``: up to ``max_iter`` epochs with a new optimizer.
    tasks : FitTasks or None
        The callbacks' view of the epochs (see :func:`kept_parameters`): its
        ``end`` returning True stops training after that epoch.

    Returns
    -------
    StochasticResult
    """
    early_stopping = validation is not None
    progress = progress.continued(validation.scoring if early_stopping else None, incremental)
    n_train = training.rows.shape[0]
    if settings.batch_size == "auto":
        batch_size = min(200, n_train)
    else:
        if settings.batch_size > n_train:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped"
            )
        batch_size = int(np.clip(settings.batch_size, 1, n_train))
    kernel_settings = settings.kernel._replace(batch_size=batch_size)
    average_from = averaging_start(settings.average, settings.max_iter, n_train)
    if average_from is None:
        progress.average, progress.n_averaged = None, 0

    rng_state = np.zeros(1, dtype=np.uint64)
    if incremental and progress.dropout_rng_state is not None:
        # Continued, not re-seeded: an integer random_state would otherwise
        # draw the same masks in every partial_fit call.
        rng_state[0] = progress.dropout_rng_state
    elif np.any(kernel_settings.dropout > 0) or kernel_settings.input_dropout > 0:
        # Drawn only when needed, so that without dropout the stream of
        # random numbers is scikit-learn's.
        rng_state[0] = random_state.randint(np.iinfo(np.int64).max, dtype=np.int64)

    grads = np.empty_like(params)
    if incremental and progress.optimizer_state is not None:
        optimizer_state = progress.optimizer_state.astype(params.dtype)
        optimizer_steps = np.array([progress.optimizer_steps], dtype=np.int64)
        learning_rate = progress.learning_rate
    else:
        optimizer_state = np.zeros((2, params.shape[0]), dtype=params.dtype)
        optimizer_steps = np.zeros(1, dtype=np.int64)
        learning_rate = float(settings.learning_rate_init)
    X_dense, X_csr = kernel_input(training.X)
    Y_kernel = read_only_view(training.Y)
    weight_kernel = kernel_sample_weight(training.sample_weight, params.dtype)
    work = np.empty(
        layout.input_workspace_size(training.X, batch_size, kernel_settings.input_dropout),
        dtype=params.dtype,
    )
    positions = np.arange(n_train)
    some_weights_zero = training.sample_weight is not None and not np.all(training.sample_weight)
    is_sgd = kernel_settings.optimizer == k.OPTIMIZER_SGD
    loss = np.nan
    n_iter = 0
    for _ in range(1 if incremental else settings.max_iter):
        if tasks is not None:
            tasks.begin()
        if settings.shuffle:
            # The permutation sklearn.utils.shuffle draws, at a seventh of its cost.
            positions = random_state.permutation(positions)
        kernel_settings = kernel_settings._replace(learning_rate=learning_rate)
        loss_sum = k.run_epoch(
            X=X_dense,
            X_csr=X_csr,
            Y=Y_kernel,
            sample_weight=weight_kernel,
            sample_order=training.rows[positions],
            params=params,
            grads=grads,
            optimizer_state=optimizer_state,
            work=work,
            layer_units=layout.layer_units,
            settings=kernel_settings,
            optimizer_steps=optimizer_steps,
            rng_state=rng_state,
        )
        n_iter += 1
        trained = n_train
        if some_weights_zero:
            trained = rows_in_trained_batches(
                training.sample_weight[training.rows[positions]], batch_size
            )
        loss = loss_sum / trained
        if not np.isfinite(loss) and (not early_stopping or progress.best_params is None):
            raise diverged_error(
                f"the training loss at epoch {n_iter}", settings.learning_rate_init
            )
        progress.t += n_train
        progress.loss_curve.append(loss)
        if settings.verbose:
            print(f"Iteration {n_iter:d}, loss = {loss:.8f}")

        if not np.isfinite(loss):
            # With early stopping a diverged epoch scores NaN and the best
            # epoch's weights are kept, as in scikit-learn 1.9 (its issue
            # #29504), which then trains on to max_iter on NaN; skreg stops.
            progress.validation_scores.append(np.nan)
            progress.validation_loss_curve.append(np.nan)
            warnings.warn(
                f"Training diverged: the training loss became non-finite at epoch "
                f"{n_iter}. Training stopped and the weights of the best-scoring "
                f"epoch were kept. Try to lower learning_rate_init (currently "
                f"{settings.learning_rate_init:g}) or to scale the features.",
                ConvergenceWarning,
            )
            break

        if average_from is not None and progress.t >= average_from:
            progress.average_in(params)
        returned = progress.returned_weights(params)
        if early_stopping:
            score, validation_loss = validation.evaluate(returned, layout, kernel_settings)
            progress.validation_scores.append(score)
            progress.validation_loss_curve.append(validation_loss)
            if settings.verbose:
                print(f"Validation score: {score:f}")
            # A NaN score never counts as an improvement.
            if not score >= progress.best_validation_score + settings.tol:
                progress.no_improvement_count += 1
            else:
                progress.no_improvement_count = 0
            if score > progress.best_validation_score:
                progress.best_validation_score = score
                progress.best_params = returned.copy()
        else:
            if loss > progress.best_loss - settings.tol:
                progress.no_improvement_count += 1
            else:
                progress.no_improvement_count = 0
            progress.best_loss = min(progress.best_loss, loss)

        if is_sgd and settings.learning_rate == "invscaling":
            learning_rate = (
                float(settings.learning_rate_init) / (progress.t + 1) ** settings.power_t
            )
        elif settings.learning_rate == "cosine":
            learning_rate = cosine_learning_rate(
                float(settings.learning_rate_init), n_iter, settings.max_iter
            )

        if progress.no_improvement_count > settings.n_iter_no_change:
            what = "Validation score" if early_stopping else "Training loss"
            msg = (
                f"{what} did not improve more than tol={settings.tol:f} for "
                f"{settings.n_iter_no_change:d} consecutive epochs."
            )
            if is_sgd and settings.learning_rate == "adaptive" and learning_rate > 1e-6:
                learning_rate /= 5.0
                progress.no_improvement_count = 0
                if settings.verbose:
                    print(f"{msg} Setting learning rate to {learning_rate:f}")
            else:
                if settings.verbose:
                    suffix = (
                        " Learning rate too small."
                        if is_sgd and settings.learning_rate == "adaptive"
                        else ""
                    )
                    print(msg + suffix + " Stopping.")
                break

        if not incremental and n_iter == settings.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({settings.max_iter:d}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
            )
        if tasks is not None and tasks.end(kept_parameters(params, progress, early_stopping)):
            break
    if tasks is not None:
        # Ends the epoch a convergence or divergence break left open.
        tasks.close(kept_parameters(params, progress, early_stopping))

    progress.optimizer_state = optimizer_state
    progress.dropout_rng_state = int(rng_state[0])
    progress.optimizer_steps = int(optimizer_steps[0])
    progress.learning_rate = learning_rate
    progress.last_iterate = None if progress.average is None else params.copy()
    if early_stopping and progress.best_params is None:
        raise ValueError(
            f"Early stopping found no epoch with a finite validation score in "
            f"{n_iter} epochs (scoring={settings.scoring!r}), so it has no weights to keep."
        )
    kept = kept_parameters(params, progress, early_stopping)
    if kept is not params:
        params = kept.copy()
    if not np.all(np.isfinite(params)):
        raise diverged_error("the weights", settings.learning_rate_init)
    return StochasticResult(params=params, n_iter=n_iter, loss=loss, progress=progress)


def rows_in_trained_batches(ordered_weights, batch_size):
    """How many of an epoch's rows, with these sample weights in the epoch's
    order, lie in minibatches that train: run_epoch skips a minibatch whose
    weights are all zero, so its rows count in no loss."""
    starts = np.arange(0, ordered_weights.shape[0], batch_size)
    sizes = np.diff(np.append(starts, ordered_weights.shape[0]))
    return int(sizes[np.add.reduceat(ordered_weights, starts) > 0].sum())


def kept_parameters(params, progress, early_stopping):
    """The parameters a stochastic fit stopped now would keep: with early
    stopping its best-scoring epoch's (None before any finite score),
    otherwise the average of the iterates once averaging has begun, else the
    current ones. The array is the fit's own: copy to keep."""
    return progress.best_params if early_stopping else progress.returned_weights(params)


def fit_lbfgs(settings, training, layout, params, tasks=None):
    """Minimise the full-batch loss of ``training`` (a :class:`TrainingData`
    whose rows are all of ``X``) with scipy's L-BFGS-B.

    scipy minimises the objective whose gradient the kernels compute; the
    returned ``loss`` is the reported one at the solution (they differ for
    multi-output squared error, see :func:`skreg._kernels.reported_data_loss`).

    Returns ``(params, n_iter, loss)``; ``params`` keeps the dtype of ``X``
    while scipy iterates in float64. ``tasks`` (or None) is told when each
    iteration begins (its first evaluation of the objective) and ends
    (scipy's callback, with the iterate); its ``end`` returning True stops
    the minimisation at that iterate.
    """
    X = training.X
    grads = np.empty_like(params)
    grad_scratch = np.empty_like(params)
    X_dense, X_csr = kernel_input(X)
    Y_kernel = read_only_view(training.Y)
    weight_kernel = kernel_sample_weight(training.sample_weight, params.dtype)
    chunk_size = min(LBFGS_CHUNK_ROWS, X.shape[0])
    kernel_settings = settings.kernel._replace(batch_size=chunk_size)
    work = np.empty(layout.input_workspace_size(X, chunk_size), dtype=params.dtype)

    reported_at = {}

    def evaluate(x):
        params[:] = x
        objective, reported = k.loss_and_gradient(
            X=X_dense,
            X_csr=X_csr,
            Y=Y_kernel,
            sample_weight=weight_kernel,
            params=params,
            grads=grads,
            grad_scratch=grad_scratch,
            work=work,
            layer_units=layout.layer_units,
            settings=kernel_settings,
        )
        # The last point only: scipy's solution is its last evaluation
        # unless the line search ended the run on a worse trial point.
        reported_at.clear()
        reported_at[x.tobytes()] = reported
        return objective, grads.astype(np.float64)

    def objective_and_gradient(x):
        if tasks is not None:
            tasks.begin()
        return evaluate(x)

    stopped = False

    def end_iteration(iterate):
        nonlocal stopped
        if tasks.end(iterate.astype(params.dtype)):
            stopped = True
            raise StopIteration  # scipy >= 1.11 then returns this iterate

    result = scipy.optimize.minimize(
        objective_and_gradient,
        params.astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        options={"maxfun": settings.max_fun, "maxiter": settings.max_iter, "gtol": settings.tol},
        callback=None if tasks is None else end_iteration,
    )
    if tasks is not None:
        # Ends an iteration whose line search scipy gave up.
        tasks.close(result.x.astype(params.dtype))
    n_iter = min(result.nit, settings.max_iter)
    if not np.isfinite(result.fun) or not np.all(np.isfinite(result.x)):
        raise diverged_error("the L-BFGS objective")
    if result.status != 0 and not stopped:
        message = (
            f"lbfgs failed to converge after {n_iter} iteration(s) "
            f"(status={result.status}):\n{result.message}\n"
        )
        if n_iter == settings.max_iter:
            message += f"\nIncrease the number of iterations (max_iter={settings.max_iter})."
        warnings.warn(message, ConvergenceWarning)
    if result.x.tobytes() not in reported_at:
        evaluate(result.x)
    params[:] = result.x
    return params, n_iter, float(reported_at[result.x.tobytes()])
