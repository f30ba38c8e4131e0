"""scikit-learn's common estimator checks, every one of them, on both
estimators: at their defaults, with the deterministic new parameters set,
with dropout, with early stopping, and with the regularizers of modern tabular
networks (weight decay, label smoothing, averaging, the cosine schedule).

``scoring`` is set here for its parameter handling; tests/test_steering.py
tests what it does. Two checks cannot pass by the nature of two settings,
and are expected to fail for those instances only: the sample-weight
equivalence checks (a weight of 2 against the row repeated) under dropout,
where a weight of 2 draws one mask and two repeated rows draw two, and under
early stopping, where the repeated rows change the validation split (and a
row's copies may land on both sides of it).

The early-stopping classifier scores the validation loss: on the accuracy,
the class-weight check (weights 1000 : 0.0001) stops at the first epoch whose
weighted validation accuracy is about 1, which is right by that metric but
still predicts the down-weighted classes for part of the test set.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skreg import MLPClassifier, MLPRegressor

WEIGHTS_ARE_NOT_REPETITIONS = {
    "dropout": "dropout draws one mask for a row of weight 2 and two masks for the same "
    "row repeated, so weights and repetitions train different networks",
    "early stopping": "repeating rows changes the validation split (the copies of a row may "
    "land on both sides of it), so weights and repetitions train different networks",
}
DROPOUT = [
    MLPClassifier(dropout=0.2, random_state=0),
    MLPRegressor(input_dropout=0.1, dropout=0.1, random_state=0),
]
# A validation split of 30%: the checks' smallest data sets have 10 rows.
EARLY_STOPPING = [
    MLPClassifier(early_stopping=True, validation_fraction=0.3, scoring="loss", random_state=0),
    MLPRegressor(early_stopping=True, validation_fraction=0.3, random_state=0),
]


# The regularizers of modern tabular networks, all set at once.
MODERN_REGULARIZERS = [
    MLPClassifier(
        weight_decay=0.01,
        label_smoothing=0.1,
        average=True,
        learning_rate="cosine",
        random_state=0,
    ),
    MLPRegressor(
        solver="sgd", weight_decay=0.01, average=1, learning_rate="cosine", random_state=0
    ),
]


def expected_failed_checks(estimator):
    for setting, instances in (("dropout", DROPOUT), ("early stopping", EARLY_STOPPING)):
        if any(estimator is instance for instance in instances):
            reason = WEIGHTS_ARE_NOT_REPETITIONS[setting]
            return {
                "check_sample_weight_equivalence_on_dense_data": reason,
                "check_sample_weight_equivalence_on_sparse_data": reason,
            }
    return {}


@parametrize_with_checks(
    [
        MLPClassifier(),
        MLPRegressor(),
        MLPClassifier(class_weight="balanced", scoring="neg_log_loss", max_norm=2.0),
        MLPRegressor(scoring="neg_mean_squared_error", max_norm=2.0, group_l1=0.1),
        *DROPOUT,
        *EARLY_STOPPING,
        *MODERN_REGULARIZERS,
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
