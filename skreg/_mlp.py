"""Multilayer-perceptron estimators with L1, group-lasso and L2 penalties,
dropout of hidden and input units, a max-norm constraint and early stopping.

What they share is :class:`skreg._base._BaseMLP`; each adds its targets
(the classifier's label encoding and class weights, the regressor's real
targets) and its documentation."""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_array, column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import validate_data

from . import _kernels as k
from ._base import _BaseMLP, _Targets
from ._params import fill_docstring
from ._solvers import full_targets


def _balanced_class_weight(labels, y, sample_weight):
    """``compute_class_weight('balanced', classes=labels, y=y,
    sample_weight=sample_weight)`` of scikit-learn 1.7+, also on 1.6, whose
    function takes no sample weights: the total weight over the number of
    classes times each class's weight. ``labels`` are the sorted classes of
    ``y``."""
    if sample_weight is None:
        sample_weight = np.ones(y.shape[0])
    counts = np.bincount(
        np.searchsorted(labels, y), weights=sample_weight, minlength=labels.shape[0]
    )
    return counts.sum() / (labels.shape[0] * counts)


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


@fill_docstring
class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multilayer-perceptron classifier with penalties, dropout, max-norm and early stopping.

    Minimises the log loss (softmax output for multiclass targets, logistic
    outputs for binary and multi-label ones) with 'adam', 'sgd' or 'lbfgs'.
    A drop-in for :class:`sklearn.neural_network.MLPClassifier` with
    ``alpha`` renamed ``l2``, plus ``l1``, ``group_l1``, ``dropout``,
    ``input_dropout``, ``max_norm``, ``weight_decay``, ``average``,
    ``label_smoothing``, a cosine learning-rate schedule, ``scoring``,
    ``class_weight`` and validation data for early stopping.

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

    label_smoothing : float, default=0.0
        Label smoothing ``eps`` in [0, 1), Keras's convention: the training
        targets become ``(1 - eps) * y + eps / K`` for a multiclass target of
        K classes (softmax output), and ``(1 - eps) * y + eps / 2`` for each
        label of a binary or multi-label target (logistic outputs). It keeps
        the network from driving its outputs to 0 and 1, and so bounds
        ``predict_proba`` away from them (a binary model's probabilities tend
        to ``eps / 2`` and ``1 - eps / 2`` on data it separates); this lowers
        its confidence, which hurts the log loss and the calibration on some
        data (RealMLP's authors advise turning it off when the metric is the
        log loss). Prediction is unchanged. ``loss_``, ``loss_curve_`` and
        ``best_loss_`` are the loss against the smoothed targets (the
        objective trained, which cannot reach 0), while early stopping's
        validation data keeps its true labels: ``scoring='loss'`` and
        ``validation_loss_curve_`` are the plain log loss. All solvers
        support it.

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
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
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
        class_weight=None,
        label_smoothing=0.0,
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
            weight_decay=weight_decay,
            average=average,
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
        self.label_smoothing = label_smoothing

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
            if weight == "balanced":
                labels = np.unique(column[counted])
                per_class = _balanced_class_weight(
                    labels,
                    column[counted],
                    None if sample_weight is None else sample_weight[counted],
                )
            else:
                labels = declared
                per_class = compute_class_weight(weight, classes=labels, y=column)
            per_sample = np.zeros(column.shape[0])
            per_sample[counted] = per_class[np.searchsorted(labels, column[counted])]
            weights.append(per_sample)
        return np.prod(weights, axis=0, dtype=np.float64)

    def _training_targets(self, targets):
        """The targets of training: the compact ones, or with label
        smoothing full rows (one column per output unit) of smoothed
        targets, ``eps / K`` off the class for K softmax outputs and
        ``eps / 2`` off each 0/1 label of logistic outputs."""
        eps = self.label_smoothing
        if eps == 0:
            return targets.Y
        Y = full_targets(targets.Y, targets.n_outputs)
        n_values = targets.n_outputs if targets.encoder.y_type_ == "multiclass" else 2
        return (1 - eps) * Y + eps / n_values

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

    def _target_attributes(self, binarizer):
        return {"_label_binarizer": binarizer, "classes_": binarizer.classes_}

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
    ``input_dropout``, ``max_norm``, ``weight_decay``, ``average``, a cosine
    learning-rate schedule, ``scoring`` and validation data for early
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
            weight_decay=weight_decay,
            average=average,
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

    def _target_attributes(self, encoder):
        return {}

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
