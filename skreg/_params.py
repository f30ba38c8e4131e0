"""The parameters both estimators share: their constraints and the shared
sections of their docstrings.

A new parameter is declared here (its constraint and its documentation), in
the estimators' ``__init__`` signatures, and, if the kernels read it, as a
field of :class:`skreg._kernels.Settings` (see ``doc/contributing.rst``).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.metrics import get_scorer_names
from sklearn.utils._param_validation import Interval, Options, StrOptions

PARAMETER_CONSTRAINTS = {
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
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "average": ["boolean", Interval(Integral, 0, None, closed="left")],
    "learning_rate": [StrOptions({"constant", "invscaling", "adaptive", "cosine"})],
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
        ``group_l1``, ``dropout``, ``input_dropout``, ``max_norm``,
        ``weight_decay``, ``average`` and ``learning_rate='cosine'``, and
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

    weight_decay : float, default=0.0
        Decoupled weight decay (Loshchilov & Hutter, 2019), the ``weight_decay``
        of PyTorch's AdamW: before each 'sgd' or 'adam' step every weight
        (not the intercepts) is multiplied by ``1 - lr * weight_decay``,
        ``lr`` being the scheduled learning rate of the epoch. It is outside
        the gradient, so Adam does not rescale it by ``sqrt(v)`` as it does
        ``l2``'s gradient: every weight shrinks at the same relative rate.
        Not a term of the objective (``loss_`` does not include it). Not
        supported by 'lbfgs'.

    average : bool or int, default=False
        Return the average of the iterates instead of the last one (named
        after :class:`~sklearn.linear_model.SGDClassifier`'s ``average``):
        the weights at the end of every epoch are averaged once averaging has
        started, as stochastic weight averaging (SWA, Izmailov et al., 2018)
        does. An int ``n >= 1`` starts once ``t_`` reaches ``n`` samples
        (SGDClassifier's meaning); ``True`` starts once ``t_`` reaches
        ``0.75 * max_iter`` epochs' worth of samples, so that a fit averages
        its last quarter of ``max_iter`` epochs (early averaging would
        include the random initial weights, which hurts a network, unlike
        SGD's convex models); ``False`` or 0 does not average. With early
        stopping the validation data scores the averaged weights, the ones
        a stop would return. Training continues from the last iterate, and
        ``warm_start`` and ``partial_fit`` continue the average. Not
        supported by 'lbfgs'.

    batch_size : int or 'auto', default='auto'
        Minibatch size for 'sgd' and 'adam'; 'auto' is ``min(200, n_samples)``.
        Larger values are clipped to the number of samples, with a warning.

    learning_rate : {'constant', 'invscaling', 'adaptive', 'cosine'}, default='constant'
        Learning-rate schedule. For 'sgd': constant ``learning_rate_init``;
        ``learning_rate_init / (t + 1) ** power_t`` after each epoch, ``t``
        counting samples seen; or divided by 5 whenever ``n_iter_no_change``
        epochs pass without improving by ``tol`` (training stops once it falls
        below 1e-6). 'adam' ignores these three, as in scikit-learn, and
        steps with ``learning_rate_init``. 'cosine' applies to 'sgd' and
        'adam' alike: epoch ``e`` (0-based) of a fit takes
        ``learning_rate_init * (1 + cos(pi * e / max_iter)) / 2``, a half
        cosine from ``learning_rate_init`` towards 0 over ``max_iter``
        epochs (early stopping may stop it sooner). It is a schedule over a
        whole fit: a warm-started fit starts it again, and ``partial_fit``
        is not available with it. Not supported by 'lbfgs'.

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
        last epoch's minibatches that trained (a minibatch whose sample
        weights are all zero takes no step and counts in no mean), penalties
        included. Every solver reports the squared error of several outputs
        averaged over them, as scikit-learn does, but follows the gradient of
        their sum, which 'lbfgs' minimises: ``l2`` acts on the summed
        error.

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
    with threshold ``lr * c_t * g / (S * (1 - momentum))`` for 'sgd'
    (momentum's effective step, ``c_t = 1 - momentum**t`` while its velocity
    builds up), and the proximal step in Adam's bias-corrected metric
    ``(sqrt(v_hat) + eps_hat) / lr`` for 'adam'. A row reaches exactly 0.0
    and stays there while its averaged data gradient is smaller than the
    penalty, from a fit's first step on.
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

    ``weight_decay``, ``average`` and ``learning_rate='cosine'`` are not
    terms of the objective: the decoupled decay multiplies the weights by
    ``1 - lr * weight_decay`` before each step (Loshchilov & Hutter, 2019),
    averaging changes the weights returned but not those trained (Izmailov
    et al., 2018), and the schedule sets each epoch's step size. Label
    smoothing (:class:`MLPClassifier`) trains ``l`` on smoothed targets.

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

    Loshchilov, I. and Hutter, F. (2019). Decoupled weight decay
    regularization. ICLR. arXiv:1711.05101.

    Izmailov, P., Podoprikhin, D., Garipov, T., Vetrov, D. and Wilson, A. G.
    (2018). Averaging weights leads to wider optima and better generalization.
    UAI. arXiv:1803.05407.
"""


def fill_docstring(cls):
    """Insert the sections both estimators share into ``cls.__doc__``.

    Each placeholder stands indented like the docstring (the formatter keeps
    it so), and each shared section is indented alike: its first line loses
    its own indentation, which the placeholder's provides. Under ``python
    -OO`` there is no docstring to fill."""
    if cls.__doc__ is None:
        return cls
    cls.__doc__ = cls.__doc__ % {
        "parameters": _PARAMETERS_DOC.strip(),
        "attributes": _ATTRIBUTES_DOC.strip(),
        "notes": _NOTES_DOC.strip(),
        "references": _REFERENCES_DOC.strip(),
    }
    return cls
