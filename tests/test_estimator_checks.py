"""scikit-learn's common estimator checks, every one of them, on both
estimators: at their defaults, and with the steering parameters set.

Early stopping itself cannot run them: many checks call ``partial_fit``,
which refuses ``early_stopping=True`` (as scikit-learn's MLP does), and fit
1-sample data sets that cannot be split. ``scoring`` is set here for its
parameter handling; tests/test_steering.py tests what it does.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skreg import MLPClassifier, MLPRegressor


@parametrize_with_checks([
    MLPClassifier(),
    MLPRegressor(),
    MLPClassifier(class_weight="balanced", scoring="neg_log_loss"),
    MLPRegressor(scoring="neg_mean_squared_error"),
])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
