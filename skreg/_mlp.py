"""Multilayer-perceptron estimators with L1, group-lasso and L2 penalties,
dropout of hidden and input units, a max-norm constraint and early stopping."""

import copy
import inspect
from dataclasses import dataclass, replace
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, check_scoring, get_scorer_names, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_array, check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _kernels as k
from ._solvers import (
    Network,
    Progress,
    TrainingData,
    ValidationData,
    fit_lbfgs,
    fit_stochastic,
    full_targets,
    initial_parameters,
    pack,
    predict,
    unpack,
    validation_split,
)

_INPUT_METADATA = ("n_features_in_", "feature_names_in_")

_PARAMETERS_DOC = """
    hidden_layer_sizes : array-like of shape (n_hidden_layers,) or int, default=(100,)
        Number of units of each hidden layer; an int means one hidden layer,
        an empty tuple none (a linear model).

    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the hidden units: ``x``, ``1 / (1 + exp(-x))``,
        ``tanh(x)`` or ``max(0, x)``.

    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        Optimizer. 'sgd' and 'adam' train in minibatches, one compiled call per
        epoch; 'lbfgs' is scipy's L-BFGS-B on the full-batch objective, often
        better on small data sets. 'lbfgs' supports none of ``l1``,
        ``group_l1``, ``dropout``, ``input_dropout`` and ``max_norm``, and
        raises a ValueError if one is set.

    l2 : float, default=0.0001
        L2 penalty strength, scikit-learn's ``alpha`` under another name and on
        the same scale: ``0.5 * l2 * ||W||^2 / n_batch`` joins each batch's loss.
        Shrinks weights smoothly; never makes them exactly zero.

    l1 : float, default=0.0
        L1 penalty strength, on the scale of ``l2``: ``l1 * sum|W| / n_batch``.
        With 'sgd' and 'adam' it drives weights to exactly 0.0, so inputs whose
        first-layer weights all vanish drop out of the model (see
        ``feature_importances_``). Not supported by 'lbfgs'.

    group_l1 : float, default=0.0
        Group-lasso penalty strength, on the scale of ``l1``:
        ``group_l1 * sum_j ||coefs_[0][j, :]||_2 / n_batch``, one group per
        input feature. With 'sgd' and 'adam' it sets whole rows of the first
        layer's weights to exactly 0.0, so it selects features:
        ``feature_importances_`` is 0 for a removed feature. Combines with
        ``l1`` and ``l2``. Not supported by 'lbfgs', nor by 'sgd' with
        ``momentum=1``.

    dropout : float or array-like of shape (n_hidden_layers,), default=0.0
        Probability, in [0, 1), of dropping each hidden unit for each training
        sample, drawn anew for every minibatch; a float applies to all hidden
        layers, a sequence gives one rate per hidden layer. Kept units are
        scaled by ``1 / (1 - p)`` in training, so prediction uses every unit
        and is deterministic. Not supported by 'lbfgs'.

    input_dropout : float, default=0.0
        Probability, in [0, 1), of dropping each input feature of each
        training sample, drawn anew for every minibatch from the generator of
        ``dropout``; kept inputs are scaled by ``1 / (1 - p)``. Sparse input
        drops its stored values and is never densified, with the same masks
        as dense input. Prediction uses every input. The dropout paper's
        rate for inputs is about 0.2. Not supported by 'lbfgs'.

    max_norm : float or None, default=None
        Bound on the L2 norm of each unit's incoming weight vector (each
        column of each ``coefs_[l]``, output layer included): after every
        'sgd' or 'adam' step, a column whose norm exceeds ``max_norm`` is
        rescaled to norm ``max_norm`` (intercepts are not constrained), as
        Keras' ``MaxNorm(axis=0)``. With dropout, it lets training take large
        learning rates and momentum without the weights blowing up
        (Srivastava et al., 2014). Not supported by 'lbfgs': a projection is
        not part of a smooth objective.

    batch_size : int or 'auto', default='auto'
        Minibatch size for 'sgd' and 'adam'; 'auto' is ``min(200, n_samples)``.
        Larger values are clipped to the number of samples, with a warning.

    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning-rate schedule of 'sgd': constant ``learning_rate_init``;
        ``learning_rate_init / (t + 1) ** power_t`` after each epoch, ``t``
        counting samples seen; or divided by 5 whenever ``n_iter_no_change``
        epochs pass without improving by ``tol`` (training stops once it falls
        below 1e-6).

    learning_rate_init : float, default=0.001
        Initial step size of 'sgd' and 'adam'.

    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.

    max_iter : int, default=200
        Maximum number of epochs ('sgd', 'adam') or of iterations ('lbfgs').

    shuffle : bool, default=True
        Whether to shuffle the training samples before each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the early-stopping split, the shuffles and
        the dropout masks. An int gives bit-identical fits; with ``l1=0`` and
        ``dropout=0`` it also gives scikit-learn's random numbers.

    tol : float, default=1e-4
        Improvement of the loss (or of the validation score) that counts as
        progress; training stops after ``n_iter_no_change`` epochs without it.
        For 'lbfgs', the gradient tolerance.

    verbose : bool, default=False
        Print the loss (and the validation score) after each epoch.

    warm_start : bool, default=False
        Start a new ``fit`` from the current weights instead of new random
        ones; the optimizer state restarts as in scikit-learn.

    momentum : float, default=0.9
        Momentum of 'sgd', in [0, 1].

    nesterovs_momentum : bool, default=True
        Whether 'sgd' uses Nesterov's momentum.

    early_stopping : bool, default=False
        Score validation data after every epoch ('sgd', 'adam'), stop when
        the score has not improved by ``tol`` for ``n_iter_no_change``
        epochs, and keep the weights of the best-scoring epoch. The
        validation data is the ``X_val, y_val`` passed to ``fit``, or else
        ``validation_fraction`` of the training data held out (as in
        scikit-learn, a split stratified for binary targets only). A diverging
        run (non-finite training loss) stops, scores NaN for that epoch and
        keeps the best epoch's weights, with a ConvergenceWarning.

    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping when ``fit``
        gets no ``X_val``.

    scoring : str, callable or None, default=None
        What early stopping scores on the validation data (higher is
        better): None for the estimator's ``score`` (accuracy or R², as in
        scikit-learn's MLP); ``'loss'`` for the negated validation data loss
        (the training objective without its penalties, as
        HistGradientBoosting's ``'loss'``); or any scorer name or callable
        that :func:`sklearn.metrics.check_scoring` accepts, such as
        ``'neg_log_loss'``, ``'roc_auc'`` or ``'neg_mean_squared_error'``; a
        callable gets ``sample_weight=`` when the validation data is weighted.
        Unused without early stopping. A warm start that changes it starts the
        validation history (best score and its weights) afresh.

    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate, in [0, 1).

    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate, in [0, 1).

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` before stopping ('sgd',
        'adam').

    max_fun : int, default=15000
        Maximum number of loss evaluations of 'lbfgs'.
"""

_ATTRIBUTES_DOC = """
    loss_ : float
        Loss at the end of training: for 'sgd' and 'adam' the mean over the
        last epoch's minibatches, penalties included.

    best_loss_ : float or None
        Lowest epoch loss reached; None with early stopping.

    loss_curve_ : list of float
        Loss of every epoch ('sgd' and 'adam' only).

    validation_scores_ : list of float or None
        Validation score of every epoch with early stopping, else None: the
        ``scoring`` in use, higher is better (with ``scoring='loss'``, the
        negated validation loss). NaN for an epoch whose network output is
        not finite.

    best_validation_score_ : float or None
        Best validation score with early stopping, else None.

    validation_loss_curve_ : list of float or None
        Validation data loss of every epoch with early stopping (the loss of
        ``loss_curve_`` without the penalties, weighted by the validation
        sample weights), else None.

    t_ : int
        Number of training samples seen.

    coefs_ : list of ndarray of shape (n_units_in, n_units_out)
        Weight matrix of each layer, float32 for float32 input.

    intercepts_ : list of ndarray of shape (n_units_out,)
        Intercept vector of each layer.

    feature_importances_ : ndarray of shape (`n_features_in_`,)
        Each input feature's share of the first layer's absolute weight
        (sums to 1; exactly 0 for a feature whose weights ``l1`` or
        ``group_l1`` set to zero, and all zeros if every first-layer weight
        is zero). Lets
        :class:`~sklearn.feature_selection.SelectFromModel` select features.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string
        column names.

    n_iter_ : int
        Number of epochs ('sgd', 'adam') or iterations ('lbfgs') run.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of output units.

    out_activation_ : str
        Name of the output activation.
"""

_NOTES_DOC = r"""
    The objective minimised on a minibatch B (the whole data for 'lbfgs'),
    with sample weights ``s_i`` and ``S = sum_{i in B} s_i``, is

    .. math::

        \frac{1}{S} \Big( \sum_{i \in B} s_i\, \ell(y_i, f(x_i))
        + \frac{l_2}{2} \lVert W \rVert_2^2 + l_1 \lVert W \rVert_1
        + g \sum_j \lVert W^{(1)}_{j\cdot} \rVert_2 \Big)

    where ``W`` holds every weight (intercepts are not penalised),
    ``W^(1)_j`` is input feature ``j``'s row of first-layer weights
    (``coefs_[0][j]``) and ``g`` is ``group_l1``, ``f`` is the network with
    dropout's random masks applied in training (to the hidden units, and with
    ``input_dropout`` to the inputs), and ``l`` is the loss named above.

    L1 makes the objective non-smooth at zero. 'adam' feeds the pseudo-gradient
    of OWL-QN (Andrew & Gao, 2007) into its moment estimates, so the penalty
    gets the same per-weight step scaling as the data gradient; 'sgd' passes it
    through momentum likewise. A step that would carry a weight across zero
    stops at exactly 0.0, and a zero weight stays there while its data gradient
    is smaller than the penalty, in the spirit of the clipped updates of
    Tsuruoka et al. (2009); with momentum 0 this is proximal soft-thresholding.

    The group lasso (Yuan & Lin, 2006) takes, after each step, the proximal
    step of the group norm in that step's metric: block soft-thresholding
    with threshold ``lr * g / (S * (1 - momentum))`` for 'sgd' (momentum's
    effective step), and the proximal step in Adam's preconditioned metric
    ``(sqrt(v) + eps) / lr_t`` for 'adam'. A row reaches exactly 0.0 and
    stays there while its averaged data gradient is smaller than the penalty.
    Start from a dense fit and raise ``group_l1`` with ``warm_start=True``
    (and ``n_iter_no_change=np.inf``, a fixed budget per step): a feature
    penalised from random weights may be removed before it is learnt.

    Dropout (Srivastava et al., 2014) is inverted: kept units (hidden units,
    and input features with ``input_dropout``) are scaled by ``1 / (1 - p)``
    during training, which is equivalent to scaling weights by the keep
    probability at prediction. ``max_norm`` is a constraint, not a term of
    the objective: after each step, and after the group lasso's, each unit's
    incoming weight vector is projected onto the ball of radius
    ``max_norm``.

    Training runs in compiled Numba kernels (one call per epoch for 'sgd' and
    'adam'); the first fit in a new environment compiles them and is cached.
"""

_REFERENCES_DOC = """
    Glorot, X. and Bengio, Y. (2010). Understanding the difficulty of training
    deep feedforward neural networks. AISTATS.

    Kingma, D. P. and Ba, J. (2015). Adam: A method for stochastic
    optimization. ICLR. arXiv:1412.6980.

    Srivastava, N., Hinton, G., Krizhevsky, A., Sutskever, I. and
    Salakhutdinov, R. (2014). Dropout: a simple way to prevent neural networks
    from overfitting. JMLR 15, 1929-1958.

    Andrew, G. and Gao, J. (2007). Scalable training of L1-regularized
    log-linear models. ICML.

    Tsuruoka, Y., Tsujii, J. and Ananiadou, S. (2009). Stochastic gradient
    descent training for L1-regularized log-linear models with cumulative
    penalty. ACL-IJCNLP.

    Yuan, M. and Lin, Y. (2006). Model selection and estimation in regression
    with grouped variables. JRSS B 68, 49-67.
"""


def _fill_docstring(cls):
    """Insert the sections both estimators share into ``cls.__doc__``.

    Each placeholder stands indented like the docstring (the formatter keeps
    it so), and each shared section is indented alike: its first line loses
    its own indentation, which the placeholder's provides."""
    cls.__doc__ = cls.__doc__ % {
        "parameters": _PARAMETERS_DOC.strip(),
        "attributes": _ATTRIBUTES_DOC.strip(),
        "notes": _NOTES_DOC.strip(),
        "references": _REFERENCES_DOC.strip(),
    }
    return cls


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

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "l2": [Interval(Real, 0, None, closed="left")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "group_l1": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "max_norm": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "scoring": [StrOptions({"loss", *get_scorer_names()}), callable, None],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
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
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
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

        layer_units = np.array([X.shape[1], *hidden_sizes, targets.n_outputs], dtype=np.int64)
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
            params = pack(self.coefs_, self.intercepts_, dtype)
            progress = self._progress()
        else:
            params = initial_parameters(layer_units, self.activation, random_state, dtype)
            progress = Progress.fresh(self._scoring_key())

        config = np.zeros(k.N_CONFIG, dtype=np.int64)
        config[k.CFG_ACTIVATION] = k.ACTIVATION_CODES[self.activation]
        config[k.CFG_LOSS] = loss_code
        config[k.CFG_SOLVER] = k.SOLVER_ADAM if self.solver == "adam" else k.SOLVER_SGD
        config[k.CFG_NESTEROV] = int(self.nesterovs_momentum)
        hyper = np.zeros(k.N_HYPER, dtype=np.float64)
        hyper[k.HYP_LEARNING_RATE] = self.learning_rate_init
        hyper[k.HYP_MOMENTUM] = self.momentum
        hyper[k.HYP_BETA_1] = self.beta_1
        hyper[k.HYP_BETA_2] = self.beta_2
        hyper[k.HYP_EPSILON] = self.epsilon
        hyper[k.HYP_L2] = self.l2
        hyper[k.HYP_L1] = self.l1
        hyper[k.HYP_GROUP_L1] = self.group_l1
        hyper[k.HYP_MAX_NORM] = 0.0 if self.max_norm is None else self.max_norm
        hyper[k.HYP_INPUT_DROPOUT] = self.input_dropout
        hyper[k.HYP_PROBA_EPS] = np.finfo(dtype).eps
        network = Network(layer_units=layer_units, config=config, hyper=hyper, dropout=dropout)
        training = TrainingData(
            X=X, Y=targets.Y, sample_weight=sample_weight, rows=np.arange(X.shape[0])
        )

        if self.solver == "lbfgs":
            params, n_iter, loss = fit_lbfgs(self, training, network, params)
            fitted = {"loss_": loss, "n_iter_": n_iter}
            if not continuing:
                fitted["t_"] = 0
        else:
            validation_data = None
            if self.early_stopping:
                training, validation_data = self._early_stopping_data(
                    training, targets, validation, params, network, random_state
                )
            result = fit_stochastic(
                self,
                training,
                validation_data,
                network,
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
                    "adam_steps": progress.adam_steps,
                    "learning_rate": progress.learning_rate,
                    "dropout_rng_state": progress.dropout_rng_state,
                    "scoring": progress.scoring,
                },
            }

        # Commit only now: an error above leaves a previous fit untouched.
        self._set_network(params, layer_units, loss_code, targets.encoder)
        for name, value in fitted.items():
            setattr(self, name, value)
        first_layer = np.abs(self.coefs_[0]).sum(axis=1, dtype=np.float64)
        total = first_layer.sum()
        self.feature_importances_ = first_layer / total if total > 0 else first_layer
        return self

    def _set_network(self, params, layer_units, loss_code, encoder):
        """Set the fitted network: ``coefs_`` and ``intercepts_`` as views
        into ``params``, the target encoding and the layer attributes."""
        self._commit_targets(encoder)
        self.coefs_, self.intercepts_ = unpack(params, layer_units)
        self.n_layers_ = len(layer_units)
        self.n_outputs_ = int(layer_units[-1])
        self.out_activation_ = _OUTPUT_ACTIVATIONS[loss_code]

    def _early_stopping_data(self, training, targets, validation, params, network, random_state):
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
            X_val, y_val, Y_val, sample_weight_val, targets.encoder, params, network
        )
        if sample_weight_val is None:
            sample_weight_val = np.ones(X_val.shape[0], dtype=training.X.dtype)
        validation_data = ValidationData(
            X=X_val,
            Y=full_targets(Y_val, int(network.layer_units[-1])),
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

    def _validation_score(self, X_val, y_val, Y_val, sample_weight_val, encoder, params, network):
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
        model._set_network(params, network.layer_units, int(network.config[k.CFG_LOSS]), encoder)
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
        if self.solver == "lbfgs":
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    def _forward(self, X):
        """Network output for validated ``X``, in the model's float dtype."""
        dtype = self.coefs_[0].dtype
        X = X.astype(dtype, copy=False) if sp.issparse(X) else np.ascontiguousarray(X, dtype=dtype)
        layer_units = np.array(
            [self.coefs_[0].shape[0], *(c.shape[1] for c in self.coefs_)], dtype=np.int64
        )
        config = np.zeros(k.N_CONFIG, dtype=np.int64)
        config[k.CFG_ACTIVATION] = k.ACTIVATION_CODES[self.activation]
        config[k.CFG_LOSS] = self._loss_code(getattr(self, "_label_binarizer", None))
        params = pack(self.coefs_, self.intercepts_, dtype)
        return predict(X, params, layer_units, config)

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


@_fill_docstring
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


@_fill_docstring
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
