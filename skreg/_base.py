"""What both estimators share: validation of parameters and data, the fit
(settings, layout and data handed to the drivers, the result committed only
at the end), early stopping's data, and prediction. MLPClassifier and
MLPRegressor (skreg/_mlp.py) add their targets and their docs."""

import copy
import functools
import hashlib
import inspect
import pickle
from dataclasses import dataclass, replace
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context
from sklearn.metrics import check_scoring
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _kernels as k
from ._callbacks import CallbackSupport, fit_tasks
from ._layout import NetworkLayout
from ._params import PARAMETER_CONSTRAINTS
from ._settings import FitSettings, prediction_settings
from ._solvers import (
    OneBlasThreadOffTheMainThread,
    Progress,
    TrainingData,
    ValidationData,
    fit_lbfgs,
    fit_stochastic,
    full_targets,
    predict,
    validation_split,
)

_INPUT_METADATA = ("n_features_in_", "feature_names_in_")


def _kernel_sample_weight(sample_weight, dtype, what="Sample weights"):
    """Checked float64 sample weights as the kernels take them: C-contiguous
    in the model's ``dtype``, and None stays None (unit weights need no array;
    see skreg._kernels). ``what`` names them in the error of all zeros."""
    if sample_weight is None:
        return None
    sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)
    if not np.any(sample_weight > 0):
        raise ValueError(f"{what} must contain at least one non-zero number.")
    return sample_weight


def _takes_sample_weight(scorer):
    """Whether a scorer can be called with ``sample_weight=``."""
    parameters = inspect.signature(scorer).parameters.values()
    return any(p.name == "sample_weight" or p.kind is p.VAR_KEYWORD for p in parameters)


@dataclass(frozen=True)
class _Targets:
    """The training targets: ``y`` as validated (labels, or real targets),
    the kernels' compact ``Y`` (see skreg._kernels), the number of output
    units, the labels to stratify an early-stopping split by (or None) and
    the classifier's LabelBinarizer (None for the regressor)."""

    y: object
    Y: np.ndarray
    n_outputs: int
    stratify: np.ndarray | None
    encoder: LabelBinarizer | None


_OUTPUT_ACTIVATIONS = {
    k.LOSS_SQUARED_ERROR: "identity",
    k.LOSS_LOG: "softmax",
    k.LOSS_BINARY_LOG: "logistic",
    k.LOSS_POISSON: "exp",
}


class _BaseMLP(CallbackSupport, BaseEstimator):
    """Shared fitting and prediction; use MLPClassifier or MLPRegressor."""

    _parameter_constraints: dict = PARAMETER_CONSTRAINTS

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        l2=0.0001,
        l1=0.0,
        group_l1=0.0,
        dropout=0.0,
        input_dropout=0.0,
        max_norm=None,
        weight_decay=0.0,
        average=False,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        scoring=None,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.l2 = l2
        self.l1 = l1
        self.group_l1 = group_l1
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.max_norm = max_norm
        self.weight_decay = weight_decay
        self.average = average
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.scoring = scoring
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Fit the model to data matrix X and targets y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data. float32 input trains and predicts in float32;
            other numeric input in float64.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (classifier; an indicator matrix for multi-label)
            or real targets (regressor).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights; ``None`` weighs every sample 1.
        X_val : array-like of shape (n_val, n_features), default=None
            Validation data for early stopping, which then scores it instead
            of holding out ``validation_fraction`` of ``X``: all of ``X``
            trains. Requires ``early_stopping=True`` and ``y_val``. In a
            :class:`~sklearn.pipeline.Pipeline`,
            ``Pipeline(..., transform_input=["X_val"])`` transforms it like
            ``X`` (with metadata routing enabled and
            ``set_fit_request(X_val=True, y_val=True)``).
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Targets of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples; ``None`` weighs each 1.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            If training diverges (non-finite loss or weights) without early
            stopping, or before early stopping has a best epoch to keep; the
            message suggests a remedy and a previously fitted model is left
            as it was.

        Notes
        -----
        A fit that raises, or is interrupted with Ctrl-C (``KeyboardInterrupt``,
        which propagates), leaves the estimator exactly as it was before the
        call: unfitted, or with its previous fit.
        """
        validation = (X_val, y_val, sample_weight_val)
        return self._fit_keeping_input_metadata(X, y, sample_weight, validation=validation)

    def _fit_keeping_input_metadata(self, X, y, sample_weight, **fit_options):
        # validate_data(reset=True) records the input's shape and names
        # before training; a failed fit must not leave them changed.
        input_metadata = {
            name: getattr(self, name) for name in _INPUT_METADATA if hasattr(self, name)
        }
        try:
            return self._fit(X, y, sample_weight, **fit_options)
        except BaseException:
            for name in _INPUT_METADATA:
                if name in input_metadata:
                    setattr(self, name, input_metadata[name])
                elif hasattr(self, name):
                    delattr(self, name)
            raise

    def __sklearn_is_fitted__(self):
        return hasattr(self, "coefs_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if any(not isinstance(s, Integral) or s <= 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return [int(s) for s in sizes]

    def _dropout_rates(self, n_hidden):
        if isinstance(self.dropout, Real):
            return np.full(n_hidden, float(self.dropout))
        rates = np.asarray(self.dropout, dtype=np.float64).ravel()
        if rates.shape[0] != n_hidden:
            raise ValueError(
                f"dropout must be a float or hold one rate per hidden layer: got "
                f"{rates.shape[0]} rates for {n_hidden} hidden layers."
            )
        if not np.all((rates >= 0) & (rates < 1)):
            raise ValueError(f"dropout rates must be in [0, 1), got {list(rates)}.")
        return rates

    def _check_solver_supports(self, dropout):
        if self.solver == "sgd" and self.group_l1 > 0 and self.momentum == 1:
            raise ValueError(
                "group_l1 > 0 with solver='sgd' needs momentum < 1: its step is taken "
                "at the effective step size learning_rate_init / (1 - momentum)."
            )
        if self.solver != "lbfgs":
            return
        non_smooth = (
            "L-BFGS needs a smooth objective. Use solver='adam' or 'sgd', which reach exact zeros."
        )
        minibatches = "needs minibatches. Use solver='adam' or 'sgd'."
        unsupported = [
            ("l1 > 0", self.l1 > 0, non_smooth),
            ("group_l1 > 0", self.group_l1 > 0, non_smooth),
            ("dropout > 0", np.any(dropout > 0), "dropout " + minibatches),
            ("input_dropout > 0", self.input_dropout > 0, "input dropout " + minibatches),
            (
                "max_norm",
                self.max_norm is not None,
                "a projection after each step is not part of a smooth objective. Use "
                "solver='adam' or 'sgd'.",
            ),
            (
                "weight_decay > 0",
                self.weight_decay > 0,
                "decoupled weight decay shrinks the weights at each step, outside the "
                "objective. Use solver='adam' or 'sgd', or l2 with 'lbfgs'.",
            ),
            ("average", bool(self.average), "averaging the iterates " + minibatches),
            (
                "learning_rate='cosine'",
                self.learning_rate == "cosine",
                "L-BFGS takes no learning rate. Use solver='adam' or 'sgd'.",
            ),
        ]
        for setting, used, reason in unsupported:
            if used:
                raise ValueError(f"solver='lbfgs' does not support {setting}: {reason}")

    def _check_validation_arguments(self, X_val, y_val, sample_weight_val):
        """HistGradientBoosting's rules for the validation data of ``fit``."""
        if X_val is None and y_val is None:
            if sample_weight_val is not None:
                raise ValueError(
                    "sample_weight_val is provided, but X_val and y_val were not provided."
                )
            return
        if y_val is None:
            raise ValueError("X_val is provided, but y_val was not provided.")
        if X_val is None:
            raise ValueError("y_val is provided, but X_val was not provided.")
        if not self.early_stopping:
            raise ValueError(
                "X_val and y_val are passed to fit while at the same time early_stopping "
                "is False. When passing X_val and y_val to fit, early_stopping should be "
                "set to True."
            )
        if self.solver == "lbfgs":
            raise ValueError(
                "X_val and y_val are for early stopping, which solver='lbfgs' does not "
                "do. Use solver='adam' or 'sgd'."
            )

    def _fit(
        self, X, y, sample_weight, incremental=False, classes=None, validation=(None, None, None)
    ):
        if incremental and hasattr(self, "coefs_"):
            # scikit-learn's _fit_context skips the validation of partial_fit
            # once a model is fitted; a hyperparameter set since must still
            # be refused with InvalidParameterError (found by the API fuzz).
            # Inside the fit, the configuration says to skip nested
            # validation, so it cannot tell whether the user asked to skip.
            self._validate_params()
        fit_input = (X, y, sample_weight)  # as passed, for the callbacks
        hidden_sizes = self._hidden_sizes()
        dropout = self._dropout_rates(len(hidden_sizes))
        self._check_solver_supports(dropout)
        self._check_validation_arguments(*validation)
        continuing = hasattr(self, "coefs_") and (incremental or self.warm_start)
        X, targets = self._validate_training_data(
            X, y, reset=not continuing, incremental=incremental, classes=classes
        )
        loss_code = self._loss_code(targets.encoder)
        dtype = X.dtype
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        class_weight = self._class_sample_weight(targets, sample_weight)
        what = "Sample weights"
        if class_weight is not None:
            sample_weight = class_weight if sample_weight is None else sample_weight * class_weight
            what = "Sample weights times class_weight"
        sample_weight = _kernel_sample_weight(sample_weight, dtype, what)

        layout = NetworkLayout([X.shape[1], *hidden_sizes, targets.n_outputs])
        layer_units = layout.layer_units
        random_state = check_random_state(self.random_state)
        if continuing:
            if [c.shape for c in self.coefs_] != [
                (a, b) for a, b in zip(layer_units[:-1], layer_units[1:], strict=True)
            ]:
                raise ValueError(
                    "warm_start and partial_fit need the same network: "
                    "hidden_layer_sizes and the number of outputs must not change "
                    "between calls."
                )
            progress = self._progress()
            if progress.last_iterate is not None and self.solver != "lbfgs":
                # Averaging returned the average; training goes on from the
                # last iterate (a copy, as below).
                params = progress.last_iterate.astype(dtype)
            else:
                # A copy: the previous fit stays as it is until this one commits.
                params = layout.pack(self.coefs_, self.intercepts_, dtype)
        else:
            params = layout.initial_parameters(self.activation, random_state, dtype)
            progress = Progress.fresh(self._scoring_key())

        settings = FitSettings.from_parameters(
            self.get_params(deep=False), loss_code, dropout, dtype
        )
        training = TrainingData(
            X=X,
            Y=self._training_targets(targets),
            sample_weight=sample_weight,
            rows=np.arange(X.shape[0]),
        )
        network = functools.partial(
            self._network_attributes, layout=layout, loss_code=loss_code, encoder=targets.encoder
        )

        with OneBlasThreadOffTheMainThread():
            if self.solver == "lbfgs":
                tasks = fit_tasks(self, fit_input, training, incremental, network)
                params, n_iter, loss = fit_lbfgs(settings, training, layout, params, tasks)
                fitted = {"loss_": loss, "n_iter_": n_iter}
                if not continuing:
                    fitted["t_"] = 0
                elif getattr(self, "_training_state", {}).get("last_iterate") is not None:
                    # L-BFGS moved the weights: a later stochastic warm start
                    # goes on from them, not from an older average's iterate.
                    fitted["_training_state"] = {
                        **self._training_state,
                        "average": None,
                        "n_averaged": 0,
                        "last_iterate": None,
                    }
            else:
                validation_data = None
                if self.early_stopping:
                    training, validation_data = self._early_stopping_data(
                        training, targets, validation, params, layout, random_state
                    )
                tasks = fit_tasks(self, fit_input, training, incremental, network)
                result = fit_stochastic(
                    settings,
                    training,
                    validation_data,
                    layout,
                    params,
                    random_state,
                    progress,
                    incremental,
                    tasks,
                )
                params, progress = result.params, result.progress
                fitted = {
                    "loss_": result.loss,
                    "n_iter_": result.n_iter,
                    "t_": progress.t,
                    "loss_curve_": progress.loss_curve,
                    "validation_scores_": progress.validation_scores,
                    "validation_loss_curve_": progress.validation_loss_curve,
                    "best_loss_": progress.best_loss,
                    "best_validation_score_": progress.best_validation_score,
                    "_training_state": {
                        "no_improvement_count": progress.no_improvement_count,
                        "best_params": progress.best_params,
                        "optimizer_state": progress.optimizer_state,
                        "optimizer_steps": progress.optimizer_steps,
                        "learning_rate": progress.learning_rate,
                        "dropout_rng_state": progress.dropout_rng_state,
                        "scoring": progress.scoring,
                        "average": progress.average,
                        "n_averaged": progress.n_averaged,
                        "last_iterate": progress.last_iterate,
                    },
                }

        # Commit only now: an error above leaves a previous fit untouched.
        self._set_network(params, layout, loss_code, targets.encoder)
        for name, value in fitted.items():
            setattr(self, name, value)
        first_layer = np.abs(self.coefs_[0]).sum(axis=1, dtype=np.float64)
        total = first_layer.sum()
        self.feature_importances_ = first_layer / total if total > 0 else first_layer
        if tasks is not None:
            tasks.finish()
        return self

    def _set_network(self, params, layout, loss_code, encoder):
        """Set the fitted network (:meth:`_network_attributes`)."""
        for name, value in self._network_attributes(params, layout, loss_code, encoder).items():
            setattr(self, name, value)

    def _network_attributes(self, params, layout, loss_code, encoder):
        """What a network needs to predict: ``coefs_`` and ``intercepts_``
        as views into ``params``, the target encoding and the layer
        attributes."""
        coefs, intercepts = layout.unpack(params)
        return {
            **self._target_attributes(encoder),
            "coefs_": coefs,
            "intercepts_": intercepts,
            "n_layers_": len(layout.layer_units),
            "n_outputs_": int(layout.layer_units[-1]),
            "out_activation_": _OUTPUT_ACTIVATIONS[loss_code],
        }

    def _early_stopping_data(self, training, targets, validation, params, layout, random_state):
        """The training data left to train and the :class:`ValidationData`
        early stopping scores: the ``(X_val, y_val, sample_weight_val)`` of
        ``fit``, or else a ``validation_fraction`` split of the training data."""
        X_val, y_val, sample_weight_val = validation
        if X_val is None:
            training_rows, validation_rows = validation_split(
                training.X.shape[0], self.validation_fraction, targets.stratify, random_state
            )
            X_val = training.X[validation_rows]
            # The targets as given: label smoothing changes training's only.
            Y_val = targets.Y[validation_rows]
            y_val = targets.y[validation_rows]
            if training.sample_weight is not None:
                sample_weight_val = training.sample_weight[validation_rows]
            training = replace(training, rows=training_rows)
        else:
            X_val, y_val, Y_val, sample_weight_val = self._validate_validation_data(
                X_val, y_val, sample_weight_val, training.X.dtype, targets
            )
        score = self._validation_score(
            X_val, y_val, Y_val, sample_weight_val, targets.encoder, params, layout
        )
        if sample_weight_val is None:
            sample_weight_val = np.ones(X_val.shape[0], dtype=training.X.dtype)
        validation_data = ValidationData(
            X=X_val,
            Y=full_targets(Y_val, int(layout.layer_units[-1])),
            sample_weight=sample_weight_val,
            score=score,
            scoring=self._scoring_key(),
        )
        return training, validation_data

    def _validate_validation_data(self, X_val, y_val, sample_weight_val, dtype, targets):
        """``X_val``, ``y_val`` (checked), its compact targets and the checked
        ``sample_weight_val``, validated as the training data is; every error
        names the argument."""
        try:
            X_val = validate_data(
                self, X_val, accept_sparse="csr", dtype=(np.float64, np.float32), reset=False
            )
        except ValueError as error:
            raise ValueError(f"Invalid X_val: {error}") from error
        if X_val.shape[0] < 2:
            raise ValueError(
                f"X_val has {X_val.shape[0]} sample; early stopping needs at least 2 "
                "validation samples."
            )
        X_val = (
            X_val.astype(dtype, copy=False)
            if sp.issparse(X_val)
            else np.ascontiguousarray(X_val, dtype=dtype)
        )
        y_val, Y_val = self._validation_targets(y_val, targets, dtype)
        if Y_val.shape[0] != X_val.shape[0]:
            raise ValueError(f"y_val has {Y_val.shape[0]} samples, but X_val has {X_val.shape[0]}.")
        if sample_weight_val is not None:
            try:
                sample_weight_val = _kernel_sample_weight(
                    _check_sample_weight(sample_weight_val, X_val, ensure_non_negative=True), dtype
                )
            except ValueError as error:
                raise ValueError(f"Invalid sample_weight_val: {error}") from error
        return X_val, y_val, Y_val, sample_weight_val

    def _validation_score(self, X_val, y_val, Y_val, sample_weight_val, encoder, params, layout):
        """The ``score(output, loss)`` of :class:`ValidationData` for
        ``self.scoring``."""
        if self.scoring is None:
            return lambda output, loss: self._score_output(
                output, Y_val, sample_weight_val, encoder
            )
        if self.scoring == "loss":
            return lambda output, loss: -loss
        scorer = check_scoring(self, self.scoring)
        if sample_weight_val is not None and not _takes_sample_weight(scorer):
            raise ValueError(
                "The scoring callable takes no sample_weight, but the validation data is "
                "weighted (by sample_weight_val, or by the sample or class weights of the "
                "validation_fraction split): give it a sample_weight=None parameter."
            )
        # Training updates ``params`` in place, so this copy's coefs_ (views
        # into it) are always the current epoch's network. The scorer gets
        # validated arrays, without the column names of a DataFrame.
        model = copy.copy(self)
        model.__dict__.pop("feature_names_in_", None)
        model._set_network(params, layout, self._loss_code(encoder), encoder)
        weights = {} if sample_weight_val is None else {"sample_weight": sample_weight_val}
        return lambda output, loss: float(scorer(model, X_val, y_val, **weights))

    def _class_sample_weight(self, targets, sample_weight):
        """Each training sample's class weight (float64), or None; see
        MLPClassifier."""
        return None

    def _training_targets(self, targets):
        """The kernels' targets of training; see MLPClassifier (label
        smoothing)."""
        return targets.Y

    def _scoring_key(self):
        """What early stopping's scores measure, for a warm start to know
        whether they compare (None without early stopping): the name of a
        built-in scoring, or a digest of a scorer's pickle, which names a
        function by its module and name and so survives pickling the
        estimator (its repr holds an address that does not)."""
        if not self.early_stopping:
            return None
        if self.scoring is None or isinstance(self.scoring, str):
            return repr(self.scoring)
        try:
            return hashlib.sha256(pickle.dumps(self.scoring, protocol=4)).hexdigest()
        except (pickle.PicklingError, AttributeError, TypeError):
            # A lambda or local function: the estimator cannot be pickled
            # either, so an address is stable for as long as it lives.
            return repr(self.scoring)

    def _progress(self):
        """The training state a warm-started fit or partial_fit continues."""
        if not hasattr(self, "_training_state"):
            return Progress.fresh(self._scoring_key())
        return Progress(
            t=self.t_,
            loss_curve=self.loss_curve_,
            validation_scores=self.validation_scores_,
            validation_loss_curve=self.validation_loss_curve_,
            best_loss=self.best_loss_,
            best_validation_score=self.best_validation_score_,
            **self._training_state,
        )

    def _partial_fit_available(self):
        # Available only where it can run, so that hasattr(est, "partial_fit")
        # tells the truth (scikit-learn's MLP offers it and then raises a
        # ValueError with early stopping).
        if self.solver == "lbfgs":
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        if self.early_stopping:
            raise AttributeError("partial_fit does not support early_stopping=True")
        if self.learning_rate == "cosine":
            raise AttributeError(
                "partial_fit is not available with learning_rate='cosine': the schedule "
                "runs over the max_iter epochs of one fit. Use fit, or another learning_rate."
            )
        return True

    def _forward(self, X):
        """Network output for validated ``X``, in the model's float dtype."""
        dtype = self.coefs_[0].dtype
        X = X.astype(dtype, copy=False) if sp.issparse(X) else np.ascontiguousarray(X, dtype=dtype)
        layout = NetworkLayout.of(self.coefs_)
        params = layout.flat_parameters(self.coefs_, self.intercepts_, dtype)
        settings = prediction_settings(
            self.activation,
            self._loss_code(getattr(self, "_label_binarizer", None)),
            len(self.coefs_) - 1,
        )
        return predict(X, params, layout, settings)

    def _prediction_input(self, X):
        """``X`` validated as ``validate_data(reset=False)`` would.

        A float, 2-D, finite ndarray of the fitted width, for a model fitted
        without feature names, is what ``validate_data`` would return
        unchanged; its generic checks cost more than the network itself on a
        few rows, so that case skips them. Everything else (including any
        non-finite input, for scikit-learn's error) goes through
        ``validate_data``.
        """
        if (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in (np.float64, np.float32)
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
        ):
            with np.errstate(over="ignore", invalid="ignore"):
                finite = np.isfinite(X.sum())
            if finite:
                return X
        return validate_data(
            self, X, accept_sparse="csr", dtype=(np.float64, np.float32), reset=False
        )

    def _validated_forward(self, X):
        check_is_fitted(self)
        output = self._forward(self._prediction_input(X))
        if not np.all(np.isfinite(output)):
            # Finite weights and inputs can still overflow (inputs near the
            # float range, an identity activation): say so rather than
            # return NaN.
            bad_rows = np.flatnonzero(~np.all(np.isfinite(output), axis=1))
            raise ValueError(
                f"The network's output is not finite for {bad_rows.shape[0]} of "
                f"{output.shape[0]} rows (the first is row {bad_rows[0]}): their inputs are "
                "too large for the fitted weights. Scale the features (for example with "
                "sklearn.preprocessing.StandardScaler)."
            )
        return output
