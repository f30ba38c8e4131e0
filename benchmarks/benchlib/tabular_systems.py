"""The systems the real-data benchmark compares, each built the way a
practitioner would use it, with its preprocessing.

Every network and the linear model share one preprocessing
(:func:`network_preprocessing`); HistGradientBoosting reads categories
natively and RealMLP-TD preprocesses for itself.
"""

import numpy as np
from scipy.stats import loguniform
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import RandomizedSearchCV
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from skreg import MLPClassifier, MLPRegressor

MIN_LEVEL_ROWS = 10  # one-hot: rarer levels are pooled into one column
HGB_MAX_LEVELS = 255  # HistGradientBoosting refuses categorical columns with more levels
SEARCH_CANDIDATES = 16
SEARCH_FOLDS = 3
N_JOBS = 2  # the machine's cores: the searches' folds and RealMLP's torch threads
HIDDEN_CHOICES = [(64,), (128,), (256,), (128, 128), (256, 256)]

# Random searches: the same width, learning-rate and early-stopping choices
# for both networks, then each one's own regularizers.
SHARED_SPACE = {
    "hidden_layer_sizes": HIDDEN_CHOICES,
    "learning_rate_init": loguniform(1e-4, 1e-2),
    "early_stopping": [True, False],
}
SKLEARN_SPACE = {**SHARED_SPACE, "alpha": loguniform(1e-6, 1.0)}
SKREG_SPACE = {
    **SHARED_SPACE,
    "l2": loguniform(1e-6, 1.0),
    "l1": [0.0, 1e-5, 1e-4, 1e-3],
    "dropout": [0.0, 0.1, 0.2, 0.3],
    "max_norm": [None, 2.0, 4.0],
}


def categorical_columns(X):
    return list(X.select_dtypes(include="category").columns)


def numeric_columns(X):
    return list(X.select_dtypes(exclude="category").columns)


def network_preprocessing(X):
    """Numeric columns median-imputed and standardized; categorical columns
    one-hot encoded, levels seen in fewer than ``MIN_LEVEL_ROWS`` training
    rows pooled, unknown levels ignored."""
    return ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                numeric_columns(X),
            ),
            (
                "categorical",
                OneHotEncoder(
                    handle_unknown="ignore", min_frequency=MIN_LEVEL_ROWS, sparse_output=False
                ),
                categorical_columns(X),
            ),
        ]
    )


def network(classes, space=None):
    """A builder of the network of ``classes`` (classifier, regressor) behind
    the shared preprocessing (regression targets standardized), or of a
    random search over ``space`` around that pipeline."""
    classifier, regressor = classes

    def build(dataset, X, seed):
        net = (classifier if dataset.is_classification else regressor)(random_state=seed)
        model = make_pipeline(network_preprocessing(X), net)
        prefix = model.steps[-1][0] + "__"
        if not dataset.is_classification:
            model = TransformedTargetRegressor(model, transformer=StandardScaler())
            prefix = "regressor__" + prefix
        if space is None:
            return model
        return RandomizedSearchCV(
            model,
            {prefix + name: values for name, values in space.items()},
            n_iter=SEARCH_CANDIDATES,
            cv=SEARCH_FOLDS,
            n_jobs=N_JOBS,
            random_state=seed,
        )

    return build


SKREG = (MLPClassifier, MLPRegressor)
SKLEARN = (SklearnMLPClassifier, SklearnMLPRegressor)


def linear(dataset, X, seed):
    model = LogisticRegression(max_iter=1000) if dataset.is_classification else RidgeCV()
    return make_pipeline(network_preprocessing(X), model)


def hist_gradient_boosting(dataset, X, seed):
    """Native categorical support; a categorical column with more levels
    than HistGradientBoosting accepts becomes the ordinal code of its level
    (levels in sorted order, unknown ones missing), read as a number."""
    wide = [c for c in categorical_columns(X) if len(X[c].cat.categories) > HGB_MAX_LEVELS]
    hgb = (
        HistGradientBoostingClassifier
        if dataset.is_classification
        else HistGradientBoostingRegressor
    )(categorical_features="from_dtype", random_state=seed)
    if not wide:
        return hgb
    ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan)
    codes = ColumnTransformer(
        [("wide_categorical", ordinal, wide)],
        remainder="passthrough",
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    return make_pipeline(codes, hgb)


def realmlp_available():
    try:
        import pytabkit  # noqa: F401
    except ImportError as error:
        return str(error)
    return None


class RealMLP:
    """RealMLP-TD on the CPU with the machine's threads, after the
    preprocessing it needs: numeric columns median-imputed (it refuses
    missing values), categorical columns named and their missing values made
    a level of their own. It scales, embeds and encodes everything else
    itself."""

    def __init__(self, dataset, X, seed):
        from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

        model = RealMLP_TD_Classifier if dataset.is_classification else RealMLP_TD_Regressor
        self.model = model(device="cpu", n_threads=N_JOBS, random_state=seed, verbosity=0)
        self.numeric = numeric_columns(X)
        self.categorical = categorical_columns(X)

    def _prepare(self, X):
        X = X.copy()
        if self.numeric:
            X[self.numeric] = self.imputer.transform(X[self.numeric])
        for column in self.categorical:
            X[column] = X[column].cat.add_categories("(missing)").fillna("(missing)")
        return X

    def fit(self, X, y):
        self.imputer = (
            SimpleImputer(strategy="median").fit(X[self.numeric]) if self.numeric else None
        )
        self.model.fit(self._prepare(X), y, cat_col_names=self.categorical)
        self.classes_ = getattr(self.model, "classes_", None)
        return self

    def predict(self, X):
        return self.model.predict(self._prepare(X))

    def predict_proba(self, X):
        return self.model.predict_proba(self._prepare(X))


# name -> (builder(dataset, X_train, seed) -> unfitted estimator, what it is)
SYSTEMS = {
    "skreg": (network(SKREG), "skreg MLP, defaults"),
    "skreg-tuned": (
        network(SKREG, SKREG_SPACE),
        f"skreg MLP, RandomizedSearchCV {SEARCH_CANDIDATES} x {SEARCH_FOLDS} folds over "
        "width, learning rate, early stopping, l2, l1, dropout, max_norm",
    ),
    "sklearn": (network(SKLEARN), "scikit-learn MLP, defaults"),
    "sklearn-tuned": (
        network(SKLEARN, SKLEARN_SPACE),
        f"scikit-learn MLP, RandomizedSearchCV {SEARCH_CANDIDATES} x {SEARCH_FOLDS} folds over "
        "width, learning rate, early stopping, alpha",
    ),
    "hgb": (hist_gradient_boosting, "HistGradientBoosting, defaults"),
    "realmlp": (RealMLP, "RealMLP-TD (pytabkit), defaults, CPU, 2 threads"),
    "linear": (linear, "LogisticRegression / RidgeCV"),
}
