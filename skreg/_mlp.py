"""Multilayer-perceptron estimators with L1, group-lasso and L2 penalties,
dropout of hidden and input units, a max-norm constraint and early stopping."""

import copy
import inspect
from dataclasses import dataclass, replace
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, check_scoring, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_array, check_random_state, column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _kernels as k
from ._layout import NetworkLayout
from ._params import PARAMETER_CONSTRAINTS, fill_docstring
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


def _check_class_weight_values(weights):
    """A class_weight dict's weights must be finite and non-negative."""
    if not isinstance(weights, dict):
        raise ValueError(f"class_weight must hold dicts of class weights; got {weights!r}.")
    try:
        values = np.array(list(weights.values()), dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"class_weight must map classes to numbers; got {weights}.") from error
    if not np.all(np.isfinite(values) & (values >= 0)):
        raise ValueError(
            f"class_weight must map classes to finite non-negative weights; got {weights}."
        )


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


class _BaseMLP(BaseEstimator):
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
            # A copy: the previous fit stays as it is until this one commits.
            params = layout.pack(self.coefs_, self.intercepts_, dtype)
            progress = self._progress()
        else:
            params = layout.initial_parameters(self.activation, random_state, dtype)
            progress = Progress.fresh(self._scoring_key())

        settings = FitSettings.from_parameters(
            self.get_params(deep=False), loss_code, dropout, dtype
        )
        training = TrainingData(
            X=X, Y=targets.Y, sample_weight=sample_weight, rows=np.arange(X.shape[0])
        )

        with OneBlasThreadOffTheMainThread():
            if self.solver == "lbfgs":
                params, n_iter, loss = fit_lbfgs(settings, training, layout, params)
                fitted = {"loss_": loss, "n_iter_": n_iter}
                if not continuing:
                    fitted["t_"] = 0
            else:
                validation_data = None
                if self.early_stopping:
                    training, validation_data = self._early_stopping_data(
                        training, targets, validation, params, layout, random_state
                    )
                result = fit_stochastic(
                    settings,
                    training,
                    validation_data,
                    layout,
                    params,
                    random_state,
                    progress,
                    incremental,
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
                    },
                }

        # Commit only now: an error above leaves a previous fit untouched.
        self._set_network(params, layout, loss_code, targets.encoder)
        for name, value in fitted.items():
            setattr(self, name, value)
        first_layer = np.abs(self.coefs_[0]).sum(axis=1, dtype=np.float64)
        total = first_layer.sum()
        self.feature_importances_ = first_layer / total if total > 0 else first_layer
        return self

    def _set_network(self, params, layout, loss_code, encoder):
        """Set the fitted network: ``coefs_`` and ``intercepts_`` as views
        into ``params``, the target encoding and the layer attributes."""
        self._commit_targets(encoder)
        self.coefs_, self.intercepts_ = layout.unpack(params)
        self.n_layers_ = len(layout.layer_units)
        self.n_outputs_ = int(layout.layer_units[-1])
        self.out_activation_ = _OUTPUT_ACTIVATIONS[loss_code]

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
            Y_val = training.Y[validation_rows]
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

    def _scoring_key(self):
        """What early stopping's scores measure, for a warm start to know
        whether they compare (None without early stopping)."""
        return repr(self.scoring) if self.early_stopping else None

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


@fill_docstring
class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multilayer-perceptron classifier with penalties, dropout, max-norm and early stopping.

    Minimises the log loss (softmax output for multiclass targets, logistic
    outputs for binary and multi-label ones) with 'adam', 'sgd' or 'lbfgs'.
    A drop-in for :class:`sklearn.neural_network.MLPClassifier` with
    ``alpha`` renamed ``l2``, plus ``l1``, ``group_l1``, ``dropout``,
    ``input_dropout``, ``max_norm``, ``scoring``, ``class_weight`` and
    validation data for early stopping.

    Parameters
    ----------
    %(parameters)s

    class_weight : dict, list of dict, 'balanced' or None, default=None
        Weights of the classes, multiplying ``sample_weight``, with
        scikit-learn's semantics (:func:`~sklearn.utils.class_weight.compute_sample_weight`):
        a dict ``{label: weight}`` (unlisted classes weigh 1); for
        multi-label targets a list of such dicts, one per label column with
        keys 0 and 1 (as scikit-learn's forests), the product over columns;
        or 'balanced', ``n_samples / (n_classes * np.bincount(y))`` from the
        training labels, their counts weighted by ``sample_weight`` when it
        is given (as scikit-learn 1.9's LogisticRegression counts them), so
        that a weight of 2 still trains as a repeated row. A fit with
        ``class_weight`` trains exactly as one with the equivalent
        ``sample_weight``. As in HistGradientBoosting, an early-stopping split
        of the training data keeps its class weights, while an ``X_val``
        passed to ``fit`` is weighted by ``sample_weight_val`` alone.
        ``partial_fit`` takes a dict (over the classes declared in its first
        call) and, as SGDClassifier's, not 'balanced', which a single batch
        cannot estimate: with it, ``partial_fit`` is not available.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    %(attributes)s

    See Also
    --------
    MLPRegressor : The same network for regression.
    sklearn.neural_network.MLPClassifier : scikit-learn's classifier, without
        ``l1`` and ``dropout``.
    sklearn.linear_model.LogisticRegression : A linear model with L1 / L2
        penalties.

    Notes
    -----
    The loss ``l`` below is the log loss of the predicted class
    probabilities, summed over outputs for multi-label targets.

    %(notes)s

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skreg import MLPClassifier
    >>> X, y = make_classification(n_samples=200, n_features=10, random_state=0)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), l1=1.0, dropout=0.2,
    ...                     max_iter=300, random_state=0).fit(X, y)
    >>> clf.predict(X[:5])
    array([1, 0, 1, 0, 1])
    >>> round(clf.score(X, y), 2)
    0.94
    >>> bool((clf.coefs_[0] == 0).any())
    True
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "class_weight": [dict, list, StrOptions({"balanced"}), None],
    }

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
        class_weight=None,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation,
            solver=solver,
            l2=l2,
            l1=l1,
            group_l1=group_l1,
            dropout=dropout,
            input_dropout=input_dropout,
            max_norm=max_norm,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            scoring=scoring,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
        )
        self.class_weight = class_weight

    def _validate_training_data(self, X, y, reset, incremental, classes):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if incremental:
            binarizer = self._partial_fit_binarizer(y, classes)
        elif reset:
            binarizer = LabelBinarizer().fit(y)
        else:
            binarizer = self._label_binarizer
            seen = unique_labels(y)
            if set(seen) != set(self.classes_):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as "
                    f"in the previous call to fit. Previously got {self.classes_}, "
                    f"`y` has {seen}"
                )
        Y = self._encode(y, binarizer, X.dtype)
        multiclass = binarizer.y_type_ == "multiclass"
        # scikit-learn stratifies the validation split only when the encoded
        # target has one column (binary y); multiclass and multi-label splits
        # are plain random ones. Kept so that the same seed gives its split.
        stratify = Y.astype(bool) if not multiclass and Y.shape[1] == 1 else None
        n_outputs = len(binarizer.classes_) if multiclass else Y.shape[1]
        return X, _Targets(y=y, Y=Y, n_outputs=n_outputs, stratify=stratify, encoder=binarizer)

    @staticmethod
    def _encode(y, binarizer, dtype):
        """The compact kernel targets of labels ``y``: class indices for
        multiclass targets (n_classes times less memory than one-hot rows;
        see skreg._kernels), else 0/1 indicators."""
        if binarizer.y_type_ == "multiclass":
            return np.searchsorted(binarizer.classes_, y).astype(dtype).reshape(-1, 1)
        return np.ascontiguousarray(binarizer.transform(y).astype(bool), dtype=dtype)

    def _validation_targets(self, y_val, targets, dtype):
        """``y_val`` checked against the training labels, and its compact
        targets."""
        binarizer = targets.encoder
        y_val = check_array(
            y_val, ensure_2d=False, dtype=None, input_name="y_val", accept_sparse="csr"
        )
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        if binarizer.y_type_.startswith("multilabel"):
            if y_val.ndim != 2 or y_val.shape[1] != targets.n_outputs:
                raise ValueError(
                    f"y_val must be a label indicator matrix with {targets.n_outputs} "
                    f"columns, as y; got shape {y_val.shape}."
                )
        else:
            unseen = np.setdiff1d(unique_labels(y_val), binarizer.classes_)
            if len(unseen):
                raise ValueError(
                    f"y_val has labels that y does not have: {unseen}; the classes "
                    f"are {binarizer.classes_}."
                )
        return y_val, self._encode(y_val, binarizer, dtype)

    def _class_sample_weight(self, targets, sample_weight):
        """Each training sample's class weight (float64), or None.

        Per output (each column of a multi-label target), the weight of the
        sample's class, from compute_class_weight; the product over outputs,
        as :func:`~sklearn.utils.class_weight.compute_sample_weight` takes it.
        A dict weighs the model's classes (those of ``classes_``, 0 and 1 per
        label column), so a batch or a label column without some class does
        not change what it means (compute_class_weight would refuse it).
        'balanced' counts the classes present, weighted by ``sample_weight``
        (as scikit-learn 1.9's LogisticRegression does), so that a sample
        weight of 2 still trains as a repeated row; without sample weights the
        result is compute_sample_weight's.
        """
        class_weight = self.class_weight
        if class_weight is None:
            return None
        multilabel = targets.encoder.y_type_.startswith("multilabel")
        if isinstance(class_weight, list) != multilabel and class_weight != "balanced":
            raise ValueError(
                "class_weight must be a list of dicts, one per label column, or "
                "'balanced' for multi-label targets, and a dict or 'balanced' for "
                f"other targets; got {type(class_weight).__name__} for "
                f"{targets.encoder.y_type_} targets."
            )
        if multilabel:
            columns = targets.Y.astype(np.intp).T
            if class_weight == "balanced":
                class_weight = [class_weight] * columns.shape[0]
            if len(class_weight) != columns.shape[0]:
                raise ValueError(
                    f"class_weight has {len(class_weight)} dicts for {columns.shape[0]} "
                    "label columns; give one dict per column."
                )
            declared = np.array([0, 1])
        else:
            columns, class_weight, declared = [targets.y], [class_weight], targets.encoder.classes_
        for weight in class_weight:
            if weight != "balanced":
                _check_class_weight_values(weight)
        weights = []
        for weight, column in zip(class_weight, columns, strict=True):
            # 'balanced' counts rows of positive weight only: a row of weight
            # 0 is an absent row (its class weight is 0; it trains with none).
            counted = np.ones(column.shape[0], dtype=bool)
            if weight == "balanced" and sample_weight is not None:
                counted = sample_weight > 0
            labels = np.unique(column[counted]) if weight == "balanced" else declared
            per_class = compute_class_weight(
                weight,
                classes=labels,
                y=column[counted],
                sample_weight=None if sample_weight is None else sample_weight[counted],
            )
            per_sample = np.zeros(column.shape[0])
            per_sample[counted] = per_class[np.searchsorted(labels, column[counted])]
            weights.append(per_sample)
        return np.prod(weights, axis=0, dtype=np.float64)

    def _partial_fit_available(self):
        super()._partial_fit_available()
        if self.class_weight == "balanced":
            # As SGDClassifier.partial_fit refuses it (there with a ValueError).
            raise AttributeError(
                "partial_fit is not available with class_weight='balanced': a batch "
                "cannot estimate the class frequencies. Use "
                "compute_class_weight('balanced', classes=classes, y=y) on a large "
                "enough sample of the training targets and pass the resulting weights "
                "as a class_weight dict."
            )
        return True

    def _partial_fit_binarizer(self, y, classes):
        """The label encoding of a partial_fit call, checked as scikit-learn does."""
        fitted = hasattr(self, "classes_")
        if classes is not None:
            classes = unique_labels(classes)
            if fitted and not np.array_equal(self.classes_, classes):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on last call to "
                    f"partial_fit, was: {self.classes_!r}"
                )
        if not fitted:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            if type_of_target(y).startswith("multilabel"):
                return LabelBinarizer().fit(y)
        known = classes if not fitted else self.classes_
        seen = unique_labels(y)
        if fitted and self.warm_start:
            if set(seen) != set(self.classes_):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as "
                    f"in the previous call to fit. Previously got {self.classes_}, "
                    f"`y` has {seen}"
                )
        elif len(np.setdiff1d(seen, known, assume_unique=True)):
            raise ValueError(
                f"`y` has classes not in `self.classes_`. `self.classes_` has "
                f"{known}. 'y' has {seen}."
            )
        return self._label_binarizer if fitted else LabelBinarizer().fit(classes)

    @available_if(_partial_fit_available)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train one epoch on the given data, continuing the current model.

        Available for the 'sgd' and 'adam' solvers. Weights, optimizer state
        (velocities or moments, Adam's step count, the scheduled learning rate)
        and ``t_`` carry over from call to call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels (an indicator matrix for multi-label).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole stream. Required on the first call,
            optional (and checked) on later ones.

        Returns
        -------
        self : object
            The updated estimator.

        Notes
        -----
        A call that raises or is interrupted (``KeyboardInterrupt``
        propagates) leaves the estimator as it was before the call.
        """
        return self._fit_keeping_input_metadata(
            X, y, sample_weight, incremental=True, classes=classes
        )

    def _commit_targets(self, binarizer):
        self._label_binarizer = binarizer
        self.classes_ = binarizer.classes_

    def _loss_code(self, binarizer):
        return k.LOSS_LOG if binarizer.y_type_ == "multiclass" else k.LOSS_BINARY_LOG

    @staticmethod
    def _decode(output, binarizer):
        if output.shape[1] == 1:
            output = output.ravel()
        return binarizer.inverse_transform(output)

    def _score_output(self, output, Y, sample_weight, binarizer):
        """Accuracy of a finite network ``output`` against compact targets ``Y``."""
        if binarizer.y_type_ == "multiclass":
            labels = binarizer.classes_[Y[:, 0].astype(np.intp)]
        else:
            labels = self._decode(Y, binarizer)
        return accuracy_score(labels, self._decode(output, binarizer), sample_weight=sample_weight)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Predicted labels (an indicator matrix for multi-label models).
        """
        return self._decode(self._validated_forward(X), self._label_binarizer)

    def predict_proba(self, X):
        """Predict class probabilities, with every unit active (no dropout).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``.
        """
        output = self._validated_forward(X)
        if output.shape[1] == 1:
            return np.hstack([1 - output, output])
        return output

    def predict_log_proba(self, X):
        """Predict the logarithm of the class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``.
        """
        proba = self.predict_proba(X)
        return np.log(proba, out=proba)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


@fill_docstring
class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multilayer-perceptron regressor with penalties, dropout, max-norm and early stopping.

    Minimises the squared error (or the Poisson deviance) with 'adam', 'sgd'
    or 'lbfgs'. A drop-in for :class:`sklearn.neural_network.MLPRegressor`
    with ``alpha`` renamed ``l2``, plus ``l1``, ``group_l1``, ``dropout``,
    ``input_dropout``, ``max_norm``, ``scoring`` and validation data for early
    stopping.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        The loss: half the squared error (identity output, averaged over
        outputs for 2-D targets as in scikit-learn), or half the Poisson
        deviance with an exponential output (log link), which needs
        ``y >= 0``.

    %(parameters)s

    Attributes
    ----------
    %(attributes)s

    See Also
    --------
    MLPClassifier : The same network for classification.
    sklearn.neural_network.MLPRegressor : scikit-learn's regressor, without
        ``l1`` and ``dropout``.
    sklearn.linear_model.ElasticNet : A linear model with L1 + L2 penalties.

    Notes
    -----
    The loss ``l`` below is half the squared error, averaged over the outputs
    of a 2-D target (its gradient is that of the sum, as in scikit-learn), or
    half the Poisson deviance ``y log(y / p) - y + p``, summed over outputs.

    %(notes)s

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skreg import MLPRegressor
    >>> X, y = make_regression(n_samples=200, n_features=10, noise=1.0,
    ...                        random_state=0)
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), early_stopping=True,
    ...                    learning_rate_init=0.01, max_iter=1000,
    ...                    random_state=0).fit(X, y)
    >>> reg.n_iter_  # stopped early; the best epoch's weights are kept
    214
    >>> round(reg.score(X, y), 2)
    0.99
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss="squared_error",
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
        super().__init__(
            hidden_layer_sizes,
            activation,
            solver=solver,
            l2=l2,
            l1=l1,
            group_l1=group_l1,
            dropout=dropout,
            input_dropout=input_dropout,
            max_norm=max_norm,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            scoring=scoring,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
        )
        self.loss = loss

    def _validate_training_data(self, X, y, reset, incremental, classes):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        y, Y = self._checked_targets(y, "y", X.dtype)
        return X, _Targets(y=y, Y=Y, n_outputs=Y.shape[1], stratify=None, encoder=None)

    def _checked_targets(self, y, name, dtype):
        """Validated targets ``y`` (named ``name`` in errors) and the kernels'
        2-d ``Y``."""
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                f"loss='poisson' requires non-negative targets {name}; got a minimum of "
                f"{np.min(y)}."
            )
        return y, np.ascontiguousarray(y.reshape(-1, 1) if y.ndim == 1 else y, dtype=dtype)

    def _validation_targets(self, y_val, targets, dtype):
        """``y_val`` checked against the training targets, and its 2-d form."""
        y_val = check_array(y_val, ensure_2d=False, dtype="numeric", input_name="y_val")
        y_val, Y_val = self._checked_targets(y_val, "y_val", dtype)
        if Y_val.shape[1] != targets.n_outputs:
            raise ValueError(f"y_val has {Y_val.shape[1]} outputs, but y has {targets.n_outputs}.")
        return y_val, Y_val

    def _commit_targets(self, encoder):
        pass

    def _loss_code(self, encoder):
        return k.LOSS_POISSON if self.loss == "poisson" else k.LOSS_SQUARED_ERROR

    @available_if(_BaseMLP._partial_fit_available)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch on the given data, continuing the current model.

        Available for the 'sgd' and 'adam' solvers. Weights, optimizer state
        (velocities or moments, Adam's step count, the scheduled learning rate)
        and ``t_`` carry over from call to call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : object
            The updated estimator.

        Notes
        -----
        A call that raises or is interrupted (``KeyboardInterrupt``
        propagates) leaves the estimator as it was before the call.
        """
        return self._fit_keeping_input_metadata(X, y, sample_weight, incremental=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags

    def _score_output(self, output, Y, sample_weight, encoder):
        """R² of a finite network ``output`` against the 2-d targets ``Y``."""
        return r2_score(Y, output, sample_weight=sample_weight)

    def predict(self, X):
        """Predict targets, with every unit active (no dropout).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted targets.
        """
        output = self._validated_forward(X)
        return output.ravel() if output.shape[1] == 1 else output
