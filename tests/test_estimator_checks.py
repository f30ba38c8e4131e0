"""scikit-learn's common estimator checks, every one of them, on both
estimators: at their defaults, and with the deterministic new parameters set.

Early stopping itself cannot run them: many checks call ``partial_fit``,
which refuses ``early_stopping=True`` (as scikit-learn's MLP does), and fit
1-sample data sets that cannot be split. ``scoring`` is set here for its
parameter handling; tests/test_steering.py tests what it does. Dropout of
hidden or input units cannot pass the two sample-weight equivalence checks:
a weight of 2 draws one mask where two repeated rows draw two.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skreg import MLPClassifier, MLPRegressor


@parametrize_with_checks(
    [
        MLPClassifier(),
        MLPRegressor(),
        MLPClassifier(class_weight="balanced", scoring="neg_log_loss", max_norm=2.0),
        MLPRegressor(scoring="neg_mean_squared_error", max_norm=2.0, group_l1=0.1),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
