"""The bad-input matrix: every case asserts its exact outcome.

Each case is one of three kinds:

* **rejected** -- a ``ValueError`` / ``TypeError`` whose message names the
  problem, and the estimator is left as it was (unfitted, or the previous
  fit, bit for bit);
* **same model** -- input that is valid but unusual (another dtype, memory
  layout, read-only memmap, pandas) trains exactly the network that the
  equivalent C-contiguous float ndarray trains, and predicts the same;
* **correct result** -- an edge case (1e300, one sample, one feature, a
  constant feature, a single class, an empty hidden-layer tuple, every
  hyperparameter at its bounds) gives a result checked against what it must
  be.

The rest of the matrix lives elsewhere and is not repeated here:
``tests/test_validation.py`` covers NaN/inf in X at fit and predict, NaN and
string regression targets, fewer features at predict, negative / all-zero /
wrong-length / NaN sample weights in ``fit``, ``l1``/``l2`` = -1,
``dropout`` 1.0 / -0.1 / NaN / wrong tuple length, ``hidden_layer_sizes`` 0
and (10, 0), ``batch_size`` 0 and larger than the data, ``validation_fraction``
1.0 and 0.01, divergence of ``fit`` (with ``warm_start`` leaving the model
intact) and KeyboardInterrupt during ``fit``. ``tests/test_partial_fit.py``
covers labels unseen in ``partial_fit`` (later and first call) and divergence
of ``partial_fit``. This module adds ``partial_fit`` under the same bad
inputs, KeyboardInterrupt during ``partial_fit`` and early-stopping scoring,
and the cases above.
"""

import pickle
import re
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

import skreg._solvers
from skreg import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

_RNG = np.random.RandomState(0)
X = _RNG.normal(size=(40, 3))
Y_CLF = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
Y_REG = X @ np.array([1.0, -2.0, 0.5]) + 0.3
SMALL = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
ESTIMATORS = {"classifier": MLPClassifier, "regressor": MLPRegressor}
TINY = np.nextafter(0.0, 1.0)  # the smallest positive float: "just past" a bound at 0


def _y(Est):
    return Y_CLF if Est is MLPClassifier else Y_REG


def _state(est):
    """Everything an estimator holds, as bytes (attribute order ignored)."""
    return pickle.dumps(sorted(vars(est).items(), key=lambda item: item[0]))


def _fitted(Est, **params):
    return Est(**{**SMALL, **params}).fit(X, _y(Est))


def _partially_fitted(Est, **params):
    est = Est(**{**SMALL, **params})
    if Est is MLPClassifier:
        return est.partial_fit(X, Y_CLF, classes=[0, 1])
    return est.partial_fit(X, Y_REG)


def _assert_same_network(a, b):
    assert len(a.coefs_) == len(b.coefs_)
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        assert p.dtype == q.dtype
        assert_array_equal(p, q)


def _memmap(array, tmp_path, name="X"):
    """``array`` as joblib hands it to a worker: a read-only np.memmap."""
    path = tmp_path / f"{name}.joblib"
    joblib.dump(np.asarray(array), path)
    mapped = joblib.load(path, mmap_mode="r")
    assert isinstance(mapped, np.memmap) and not mapped.flags.writeable
    return mapped


def _float32_overflow(X):
    with np.errstate(over="ignore"):
        return X.astype(np.float32)


def _with(array, row, col, value):
    array = np.array(array, dtype=np.result_type(array, type(value)))
    array[row, col] = value
    return array


# ---------------------------------------------------------------------------
# Kind 1: rejected with an error that names the problem
# ---------------------------------------------------------------------------
# Each case: (id, estimator class, state before the call, call, error, pattern).
# "new" starts from an unfitted estimator, "fitted" from a fit on (X, y),
# "partial" from one partial_fit call. The call gets the estimator.

_FRAME = pd.DataFrame(X, columns=["a", "b", "c"])
_CPLX = X + 1j

REJECTED = [
    # -- X content --------------------------------------------------------
    (
        "nan-X-partial_fit-clf",
        MLPClassifier,
        "new",
        lambda e: e.partial_fit(_with(X, 2, 1, np.nan), Y_CLF, classes=[0, 1]),
        ValueError,
        "Input X contains NaN",
    ),
    (
        "nan-X-partial_fit-reg",
        MLPRegressor,
        "partial",
        lambda e: e.partial_fit(_with(X, 2, 1, np.nan), Y_REG),
        ValueError,
        "Input X contains NaN",
    ),
    (
        "inf-X-partial_fit-reg",
        MLPRegressor,
        "partial",
        lambda e: e.partial_fit(_with(X, 2, 1, -np.inf), Y_REG),
        ValueError,
        "infinity",
    ),
    # float32 data cannot hold 1e300: the cast gives inf, which is rejected.
    (
        "1e300-X-float32-overflows",
        MLPRegressor,
        "new",
        lambda e: e.fit(_float32_overflow(_with(X, 0, 0, 1e300)), Y_REG),
        ValueError,
        re.escape("infinity or a value too large for dtype('float32')"),
    ),
    (
        "empty-X-fit-clf",
        MLPClassifier,
        "new",
        lambda e: e.fit(X[:0], Y_CLF[:0]),
        ValueError,
        re.escape("Found array with 0 sample(s) (shape=(0, 3))"),
    ),
    (
        "empty-X-fit-reg",
        MLPRegressor,
        "new",
        lambda e: e.fit(X[:0], Y_REG[:0]),
        ValueError,
        re.escape("Found array with 0 sample(s) (shape=(0, 3))"),
    ),
    (
        "empty-X-partial_fit",
        MLPRegressor,
        "partial",
        lambda e: e.partial_fit(X[:0], Y_REG[:0]),
        ValueError,
        re.escape("0 sample(s)"),
    ),
    (
        "empty-X-predict",
        MLPRegressor,
        "fitted",
        lambda e: e.predict(X[:0]),
        ValueError,
        re.escape("0 sample(s)"),
    ),
    (
        "empty-X-predict_proba",
        MLPClassifier,
        "fitted",
        lambda e: e.predict_proba(X[:0]),
        ValueError,
        re.escape("0 sample(s)"),
    ),
    (
        "no-features",
        MLPRegressor,
        "new",
        lambda e: e.fit(X[:, :0], Y_REG),
        ValueError,
        re.escape("Found array with 0 feature(s) (shape=(40, 0))"),
    ),
    (
        "1d-X",
        MLPRegressor,
        "new",
        lambda e: e.fit(X[:, 0], Y_REG),
        ValueError,
        "Expected 2D array, got 1D array",
    ),
    (
        "complex-X-fit",
        MLPRegressor,
        "new",
        lambda e: e.fit(_CPLX, Y_REG),
        ValueError,
        "Complex data not supported",
    ),
    (
        "complex-X-predict",
        MLPClassifier,
        "fitted",
        lambda e: e.predict(_CPLX),
        ValueError,
        "Complex data not supported",
    ),
    (
        "string-X",
        MLPRegressor,
        "new",
        lambda e: e.fit(np.full((40, 3), "high"), Y_REG),
        ValueError,
        "could not convert string to float: .*high",
    ),
    (
        "string-X-object",
        MLPClassifier,
        "new",
        lambda e: e.fit(np.array([[1.0, "a", 2.0]] * 40, dtype=object), Y_CLF),
        ValueError,
        "could not convert string to float: .*a",
    ),
    (
        "pandas-categorical-strings",
        MLPRegressor,
        "new",
        lambda e: e.fit(pd.DataFrame({"a": pd.Categorical(["x", "y"] * 20), "b": X[:, 1]}), Y_REG),
        ValueError,
        "could not convert string to float: .*x",
    ),
    (
        "pandas-NA",
        MLPRegressor,
        "new",
        lambda e: e.fit(
            pd.DataFrame({"a": pd.array([1, None] + [2] * 38, dtype="Int64"), "b": X[:, 1]}), Y_REG
        ),
        ValueError,
        "Input X contains NaN",
    ),
    (
        "pandas-mixed-name-types",
        MLPRegressor,
        "new",
        lambda e: e.fit(pd.DataFrame(X, columns=["a", 1, "c"]), Y_REG),
        TypeError,
        "Feature names are only supported if all input features have string names",
    ),
    # -- y content --------------------------------------------------------
    (
        "nan-y-clf",
        MLPClassifier,
        "new",
        lambda e: e.fit(X, _with(Y_CLF[:, None], 0, 0, np.nan)[:, 0]),
        ValueError,
        "Input y contains NaN",
    ),
    (
        "inf-y-reg",
        MLPRegressor,
        "new",
        lambda e: e.fit(X, _with(Y_REG[:, None], 0, 0, np.inf)[:, 0]),
        ValueError,
        "Input y contains infinity",
    ),
    (
        "nan-y-partial_fit-reg",
        MLPRegressor,
        "partial",
        lambda e: e.partial_fit(X, _with(Y_REG[:, None], 5, 0, np.nan)[:, 0]),
        ValueError,
        "Input y contains NaN",
    ),
    (
        "complex-y-reg",
        MLPRegressor,
        "new",
        lambda e: e.fit(X, Y_REG + 1j),
        ValueError,
        "Complex data not supported",
    ),
    # -- features differing from fit ----------------------------------------
    (
        "more-features-at-predict",
        MLPRegressor,
        "fitted",
        lambda e: e.predict(np.hstack([X, X])),
        ValueError,
        "X has 6 features, but MLPRegressor is expecting 3 features",
    ),
    (
        "more-features-at-predict_proba",
        MLPClassifier,
        "fitted",
        lambda e: e.predict_proba(np.hstack([X, X])),
        ValueError,
        "X has 6 features, but MLPClassifier is expecting 3 features",
    ),
    (
        "fewer-features-at-partial_fit",
        MLPRegressor,
        "partial",
        lambda e: e.partial_fit(X[:, :2], Y_REG),
        ValueError,
        "X has 2 features, but MLPRegressor is expecting 3 features",
    ),
    (
        "fewer-features-at-partial_fit-clf",
        MLPClassifier,
        "partial",
        lambda e: e.partial_fit(X[:, :2], Y_CLF),
        ValueError,
        "X has 2 features, but MLPClassifier is expecting 3 features",
    ),
    (
        "fewer-features-at-warm_start-fit",
        MLPRegressor,
        "fitted-warm",
        lambda e: e.fit(X[:, :2], Y_REG),
        ValueError,
        "X has 2 features, but MLPRegressor is expecting 3 features",
    ),
    (
        "pandas-renamed-column-at-predict",
        MLPRegressor,
        "fitted-frame",
        lambda e: e.predict(_FRAME.rename(columns={"a": "z"})),
        ValueError,
        "(?s)Feature names unseen at fit time:\n- z\n.*seen at fit time, yet now missing:\n- a",
    ),
    (
        "pandas-reordered-columns-at-predict",
        MLPClassifier,
        "fitted-frame",
        lambda e: e.predict(_FRAME[["b", "a", "c"]]),
        ValueError,
        "Feature names must be in the same order as they were in fit",
    ),
    (
        "pandas-renamed-column-at-partial_fit",
        MLPRegressor,
        "partial-frame",
        lambda e: e.partial_fit(_FRAME.rename(columns={"c": "d"}), Y_REG),
        ValueError,
        "Feature names unseen at fit time:\n- d",
    ),
    # -- samples and sample weights -------------------------------------------
    (
        "one-sample-early-stopping",
        MLPRegressor,
        "new",
        lambda e: e.set_params(early_stopping=True).fit(X[:1], Y_REG[:1]),
        ValueError,
        "The validation set is too small. Increase 'validation_fraction'",
    ),
    (
        "negative-weight-partial_fit",
        MLPRegressor,
        "partial",
        lambda e: e.partial_fit(X, Y_REG, sample_weight=_with(np.ones((40, 1)), 3, 0, -1e-9)[:, 0]),
        ValueError,
        "Negative values in data passed to `sample_weight`",
    ),
    (
        "zero-weights-partial_fit",
        MLPClassifier,
        "partial",
        lambda e: e.partial_fit(X, Y_CLF, sample_weight=np.zeros(40)),
        ValueError,
        "Sample weights must contain at least one non-zero number",
    ),
    (
        "zero-weights-first-partial_fit",
        MLPClassifier,
        "new",
        lambda e: e.partial_fit(X, Y_CLF, sample_weight=np.zeros(40), classes=[0, 1]),
        ValueError,
        "Sample weights must contain at least one non-zero number",
    ),
    (
        "short-weights-partial_fit",
        MLPRegressor,
        "partial",
        lambda e: e.partial_fit(X, Y_REG, sample_weight=np.ones(39)),
        ValueError,
        re.escape("sample_weight.shape == (39,), expected (40,)"),
    ),
    (
        "long-weights-fit",
        MLPClassifier,
        "new",
        lambda e: e.fit(X, Y_CLF, sample_weight=np.ones(41)),
        ValueError,
        re.escape("sample_weight.shape == (41,), expected (40,)"),
    ),
    (
        "2d-weights",
        MLPRegressor,
        "new",
        lambda e: e.fit(X, Y_REG, sample_weight=np.ones((40, 1))),
        ValueError,
        "Sample weights must be 1D array or scalar",
    ),
    (
        "inf-weight",
        MLPRegressor,
        "new",
        lambda e: e.fit(X, Y_REG, sample_weight=_with(np.ones((40, 1)), 0, 0, np.inf)[:, 0]),
        ValueError,
        "Input sample_weight contains infinity",
    ),
    # -- hyperparameters just past their bounds (see also the table below) --
    (
        "l1-just-negative",
        MLPRegressor,
        "new",
        lambda e: e.set_params(l1=-TINY).fit(X, Y_REG),
        InvalidParameterError,
        "The 'l1' parameter of MLPRegressor must be a float in the range "
        r"\[0.0, inf\)",
    ),
    (
        "l2-just-negative",
        MLPClassifier,
        "new",
        lambda e: e.set_params(l2=-TINY).fit(X, Y_CLF),
        InvalidParameterError,
        "The 'l2' parameter of MLPClassifier must be a float in the range "
        r"\[0.0, inf\)",
    ),
    (
        "l2-inf",
        MLPRegressor,
        "new",
        lambda e: e.set_params(l2=np.inf).fit(X, Y_REG),
        InvalidParameterError,
        "'l2' parameter",
    ),
    (
        "l1-nan",
        MLPRegressor,
        "new",
        lambda e: e.set_params(l1=np.nan).fit(X, Y_REG),
        InvalidParameterError,
        "'l1' parameter",
    ),
    (
        "dropout-just-negative",
        MLPRegressor,
        "new",
        lambda e: e.set_params(dropout=-TINY).fit(X, Y_REG),
        InvalidParameterError,
        "'dropout' parameter",
    ),
    (
        "dropout-tuple-for-int-layers",
        MLPRegressor,
        "new",
        lambda e: e.set_params(hidden_layer_sizes=4, dropout=(0.1, 0.2)).fit(X, Y_REG),
        ValueError,
        "dropout must be a float or hold one rate per hidden layer: got 2 rates for 1 "
        "hidden layers",
    ),
    (
        "dropout-tuple-without-hidden-layers",
        MLPClassifier,
        "new",
        lambda e: e.set_params(hidden_layer_sizes=(), dropout=(0.1,)).fit(X, Y_CLF),
        ValueError,
        "got 1 rates for 0 hidden layers",
    ),
    (
        "dropout-tuple-just-past-1",
        MLPRegressor,
        "new",
        lambda e: e.set_params(
            hidden_layer_sizes=(4, 3), dropout=(0.0, np.nextafter(1.0, 2.0))
        ).fit(X, Y_REG),
        ValueError,
        r"dropout rates must be in \[0, 1\)",
    ),
    (
        "hidden-layer-sizes-negative-int",
        MLPRegressor,
        "new",
        lambda e: e.set_params(hidden_layer_sizes=-1).fit(X, Y_REG),
        InvalidParameterError,
        "'hidden_layer_sizes' parameter",
    ),
    (
        "hidden-layer-sizes-zero-in-tuple",
        MLPClassifier,
        "new",
        lambda e: e.set_params(hidden_layer_sizes=(0,)).fit(X, Y_CLF),
        ValueError,
        re.escape("hidden_layer_sizes must be > 0, got [0]"),
    ),
    (
        "hidden-layer-sizes-fraction",
        MLPRegressor,
        "new",
        lambda e: e.set_params(hidden_layer_sizes=(1.5,)).fit(X, Y_REG),
        ValueError,
        re.escape("hidden_layer_sizes must be > 0, got [1.5]"),
    ),
    (
        "hidden-layer-sizes-string",
        MLPRegressor,
        "new",
        lambda e: e.set_params(hidden_layer_sizes="5").fit(X, Y_REG),
        InvalidParameterError,
        "'hidden_layer_sizes' parameter",
    ),
    # 40 rows: ceil(0.025 * 40) = 1 validation row, one short of the minimum 2.
    (
        "validation-fraction-one-row",
        MLPRegressor,
        "new",
        lambda e: e.set_params(early_stopping=True, validation_fraction=1 / 40).fit(X, Y_REG),
        ValueError,
        "The validation set is too small. Increase 'validation_fraction'",
    ),
    (
        "validation-fraction-zero-with-early-stopping",
        MLPClassifier,
        "new",
        lambda e: e.set_params(early_stopping=True, validation_fraction=0.0).fit(X, Y_CLF),
        ValueError,
        "The validation set is too small",
    ),
    (
        "validation-fraction-no-training-rows",
        MLPRegressor,
        "new",
        lambda e: e.set_params(early_stopping=True, validation_fraction=0.99).fit(X, Y_REG),
        ValueError,
        "validation_fraction=0.99 leaves no training samples",
    ),
]


def _start(Est, start):
    if start == "new":
        return Est(**SMALL)
    if start == "fitted":
        return _fitted(Est)
    if start == "fitted-warm":
        return _fitted(Est, warm_start=True)
    if start == "fitted-frame":
        return Est(**SMALL).fit(_FRAME, _y(Est))
    if start == "partial":
        return _partially_fitted(Est)
    if start == "partial-frame":
        assert Est is MLPRegressor
        return Est(**SMALL).partial_fit(_FRAME, Y_REG)
    raise AssertionError(start)


@pytest.mark.parametrize(
    "Est, start, call, error, pattern",
    [case[1:] for case in REJECTED],
    ids=[case[0] for case in REJECTED],
)
def test_rejected(Est, start, call, error, pattern):
    est = _start(Est, start)
    before = _state(est)
    params = est.get_params()
    with pytest.raises(error, match=pattern):
        call(est)
    est.set_params(**params)  # undo the case's own set_params
    # The estimator is exactly as it was: unfitted, or the previous fit.
    assert _state(est) == before
    if start == "new":
        with pytest.raises(NotFittedError):
            check_is_fitted(est)


# ---------------------------------------------------------------------------
# Hyperparameters at and just past every numeric bound
# ---------------------------------------------------------------------------
# (parameter, value, accepted?, extra settings). The bounds are those of
# scikit-learn's MLP (alpha -> l2) plus l1 >= 0 and 0 <= dropout < 1; a value
# "just past" a bound is the next float beyond it (or the next integer).
# Values already tested in test_validation.py (l1/l2 = -1, dropout 1.0 / -0.1,
# hidden_layer_sizes 0, learning_rate_init 0, batch_size 0,
# validation_fraction 1.0, momentum 1.5) are not repeated.

_BELOW_0 = -TINY
BOUNDS = [
    ("l2", 0.0, True, {}),
    ("l1", 0.0, True, {}),
    ("dropout", 0.0, True, {}),
    ("dropout", (0.0, 0.0), True, {"hidden_layer_sizes": (4, 3)}),
    ("hidden_layer_sizes", 1, True, {}),
    ("hidden_layer_sizes", (), True, {}),
    ("batch_size", 1, True, {}),
    ("learning_rate_init", TINY, True, {}),
    ("power_t", 0.0, True, {"solver": "sgd", "learning_rate": "invscaling"}),
    ("power_t", _BELOW_0, False, {}),
    ("max_iter", 1, True, {}),
    ("max_iter", 0, False, {}),
    ("tol", 0.0, True, {}),
    ("tol", _BELOW_0, False, {}),
    ("momentum", 0.0, True, {"solver": "sgd"}),
    ("momentum", 1.0, True, {"solver": "sgd"}),
    ("momentum", _BELOW_0, False, {}),
    ("momentum", np.nextafter(1.0, 2.0), False, {}),
    ("validation_fraction", 0.0, True, {}),
    ("validation_fraction", _BELOW_0, False, {}),
    ("validation_fraction", np.nextafter(1.0, 0.0), True, {}),
    ("beta_1", 0.0, True, {}),
    ("beta_1", 1.0, False, {}),
    ("beta_1", _BELOW_0, False, {}),
    ("beta_2", 0.0, True, {}),
    ("beta_2", 1.0, False, {}),
    ("epsilon", TINY, True, {}),
    ("epsilon", 0.0, False, {}),
    ("n_iter_no_change", 1, True, {}),
    ("n_iter_no_change", np.inf, True, {}),
    ("n_iter_no_change", 0, False, {}),
    ("max_fun", 1, True, {"solver": "lbfgs"}),
    ("max_fun", 0, False, {"solver": "lbfgs"}),
]


def _bound_id(case):
    name, value, accepted, _ = case
    return f"{name}={value!r}-{'ok' if accepted else 'rejected'}"


@pytest.mark.parametrize("Est", ESTIMATORS.values(), ids=ESTIMATORS.keys())
@pytest.mark.parametrize("name, value, accepted, extra", BOUNDS, ids=[_bound_id(c) for c in BOUNDS])
def test_hyperparameter_bounds(Est, name, value, accepted, extra):
    est = Est(**{**SMALL, **extra, name: value})
    y = _y(Est)
    if not accepted:
        with pytest.raises(
            InvalidParameterError, match=f"The '{name}' parameter of {Est.__name__}"
        ):
            est.fit(X, y)
        with pytest.raises(NotFittedError):
            check_is_fitted(est)
        return
    est.fit(X, y)
    for array in est.coefs_ + est.intercepts_:
        assert np.all(np.isfinite(array))
    assert np.all(np.isfinite(est.predict_proba(X) if Est is MLPClassifier else est.predict(X)))
    # The value has its documented effect where one is visible.
    if name == "max_iter":
        assert est.n_iter_ == 1
    if name == "n_iter_no_change" and value == np.inf:
        assert est.n_iter_ == est.max_iter
    if name == "hidden_layer_sizes":
        assert [c.shape for c in est.coefs_] == ([(3, 1)] if value == () else [(3, 1), (1, 1)])
    if name == "dropout":
        _assert_same_network(est, Est(**{**SMALL, **extra}).fit(X, y))
    if name == "max_fun":
        assert est.n_iter_ <= 1


# ---------------------------------------------------------------------------
# Kind 2: the same model as from a C-contiguous float ndarray
# ---------------------------------------------------------------------------
# Each case: (id, make X from the float64 X, dtype of the equivalent input).

SAME_MODEL = [
    ("int64", lambda X, tmp: np.round(X * 10).astype(np.int64), np.float64),
    ("int32", lambda X, tmp: np.round(X * 10).astype(np.int32), np.float64),
    ("uint8", lambda X, tmp: np.abs(np.round(X * 10)).astype(np.uint8), np.float64),
    ("bool", lambda X, tmp: X > 0, np.float64),
    ("float16", lambda X, tmp: X.astype(np.float16), np.float64),
    ("object-of-floats", lambda X, tmp: X.astype(object), np.float64),
    ("object-of-ints", lambda X, tmp: np.round(X * 10).astype(np.int64).astype(object), np.float64),
    ("list-of-lists", lambda X, tmp: X.tolist(), np.float64),
    ("numeric-strings", lambda X, tmp: X.astype(str), np.float64),
    ("fortran-order", lambda X, tmp: np.asfortranarray(X), np.float64),
    ("fortran-order-float32", lambda X, tmp: np.asfortranarray(X.astype(np.float32)), np.float32),
    ("non-contiguous-columns", lambda X, tmp: np.repeat(X, 2, axis=1)[:, ::2], np.float64),
    ("non-contiguous-rows", lambda X, tmp: np.repeat(X, 3, axis=0)[::3], np.float64),
    (
        "negative-strides",
        lambda X, tmp: np.ascontiguousarray(X[::-1, ::-1])[::-1, ::-1],
        np.float64,
    ),
    ("read-only", lambda X, tmp: _read_only(X), np.float64),
    ("joblib-memmap", lambda X, tmp: _memmap(X, tmp), np.float64),
    ("joblib-memmap-float32", lambda X, tmp: _memmap(X.astype(np.float32), tmp), np.float32),
    ("joblib-memmap-fortran", lambda X, tmp: _memmap(np.asfortranarray(X), tmp), np.float64),
    ("pandas", lambda X, tmp: pd.DataFrame(X, columns=["a", "b", "c"]), np.float64),
    (
        "pandas-float32",
        lambda X, tmp: pd.DataFrame(X.astype(np.float32), columns=list("abc")),
        np.float32,
    ),
    (
        "pandas-mixed-dtypes",
        lambda X, tmp: pd.DataFrame(
            {"a": np.round(X[:, 0] * 10).astype(np.int64), "b": X[:, 1], "c": X[:, 2] > 0}
        ),
        np.float64,
    ),
    (
        "pandas-nullable-Int64",
        lambda X, tmp: pd.DataFrame(
            {
                "a": pd.array(np.round(X[:, 0] * 10).astype(np.int64), dtype="Int64"),
                "b": X[:, 1],
                "c": X[:, 2],
            }
        ),
        np.float64,
    ),
]


def _read_only(X):
    X = X.copy()
    X.setflags(write=False)
    return X


def _as_plain(X_odd, dtype):
    """The C-contiguous float ndarray the odd input stands for."""
    if isinstance(X_odd, pd.DataFrame):
        return np.ascontiguousarray(X_odd.astype(np.float64).to_numpy(), dtype=dtype)
    return np.ascontiguousarray(np.asarray(X_odd, dtype=np.float64), dtype=dtype)


@pytest.mark.parametrize("Est", ESTIMATORS.values(), ids=ESTIMATORS.keys())
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("make, dtype", [c[1:] for c in SAME_MODEL], ids=[c[0] for c in SAME_MODEL])
def test_same_model_as_plain_float_array(Est, solver, make, dtype, tmp_path):
    X_odd = make(X, tmp_path)
    X_plain = _as_plain(X_odd, dtype)
    assert X_plain.flags.c_contiguous and X_plain.dtype == dtype
    y = _y(Est)
    params = {**SMALL, "solver": solver}
    odd = Est(**params).fit(X_odd, y)
    plain = Est(**params).fit(X_plain, y)
    assert odd.coefs_[0].dtype == dtype
    _assert_same_network(odd, plain)
    assert_array_equal(odd.predict(X_odd), plain.predict(X_plain))
    if Est is MLPClassifier:
        assert_array_equal(odd.predict_proba(X_odd), plain.predict_proba(X_plain))
    if isinstance(X_odd, pd.DataFrame):
        # Feature names are kept, and then checked (see the rejected cases).
        assert_array_equal(odd.feature_names_in_, X_odd.columns)
        assert not hasattr(plain, "feature_names_in_")
    else:
        assert not hasattr(odd, "feature_names_in_")
    # The odd input is never modified.
    assert_array_equal(_as_plain(X_odd, dtype), X_plain)


@pytest.mark.parametrize("Est", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_same_model_from_memmapped_partial_fit_and_sample_weight(Est, tmp_path):
    """partial_fit, sample weights and targets can all be read-only memmaps."""
    y = _y(Est)
    weights = np.linspace(0.5, 2.0, X.shape[0])
    extra = {"classes": [0, 1]} if Est is MLPClassifier else {}
    mapped = Est(**SMALL).partial_fit(
        _memmap(X, tmp_path),
        _memmap(y, tmp_path, "y"),
        sample_weight=_memmap(weights, tmp_path, "w"),
        **extra,
    )
    plain = Est(**SMALL).partial_fit(X, y, sample_weight=weights, **extra)
    _assert_same_network(mapped, plain)
    mapped.partial_fit(_memmap(X[::-1], tmp_path, "X2"), _memmap(y[::-1], tmp_path, "y2"))
    plain.partial_fit(X[::-1], y[::-1])
    _assert_same_network(mapped, plain)


def test_pandas_targets_give_the_same_classifier():
    labels = np.array(["no", "yes"])[Y_CLF]
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    from_array = MLPClassifier(**SMALL).fit(X, labels)
    for y in (
        pd.Series(labels),
        pd.Series(pd.Categorical(labels)),
        pd.Series(labels, dtype="string"),
    ):
        est = MLPClassifier(**SMALL).fit(frame, y)
        assert_array_equal(est.classes_, ["no", "yes"])
        _assert_same_network(est, from_array)
        assert_array_equal(est.predict(frame), from_array.predict(X))


def test_pandas_feature_names_are_checked_against_plain_arrays():
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    named = MLPRegressor(**SMALL).fit(frame, Y_REG)
    with pytest.warns(
        UserWarning,
        match="X does not have valid feature names, but MLPRegressor was fitted with feature names",
    ):
        from_array = named.predict(X)
    assert_array_equal(from_array, named.predict(frame))
    unnamed = MLPRegressor(**SMALL).fit(X, Y_REG)
    with pytest.warns(
        UserWarning, match="X has feature names, but MLPRegressor was fitted without"
    ):
        unnamed.predict(frame)
    # Integer column names are not feature names.
    assert not hasattr(MLPRegressor(**SMALL).fit(pd.DataFrame(X), Y_REG), "feature_names_in_")


# ---------------------------------------------------------------------------
# Kind 3: correct results at the edges
# ---------------------------------------------------------------------------


def test_1e300_in_X_classifier_fits_and_predicts_probabilities():
    X_big = _with(X, 0, 0, 1e300)
    for solver in ("adam", "sgd", "lbfgs"):
        est = MLPClassifier(**SMALL, solver=solver).fit(X_big, Y_CLF)
        for array in est.coefs_ + est.intercepts_:
            assert np.all(np.isfinite(array)), solver
        proba = est.predict_proba(X_big)
        assert np.all((proba >= 0) & (proba <= 1)), solver
        assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("Est", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_an_output_that_overflows_at_predict_is_an_error_not_nan(Est):
    """Found by tests/test_properties.py: with identity units, inputs near the
    float range overflow the logits to inf, and softmax's inf - inf gave NaN
    probabilities silently (the regressor, -inf)."""
    est = Est(**{**SMALL, "hidden_layer_sizes": (5, 5)}, activation="identity")
    three_classes = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    est.fit(X, three_classes if Est is MLPClassifier else Y_REG)
    X_huge = np.full((3, X.shape[1]), 1e308)
    X_huge[0] = X[0]
    X_huge[2, 1] = -1e308
    method = est.predict_proba if Est is MLPClassifier else est.predict
    with pytest.raises(
        ValueError,
        match="The network's output is not finite for [12] of 3 rows "
        r"\(the first is row 1\).*Scale the features",
    ):
        method(X_huge)
    assert np.all(np.isfinite(method(X_huge[:1])))


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_1e300_in_X_regressor_raises_divergence_naming_the_remedy(solver):
    """The squared error of a 1e300 input overflows: the error says to scale."""
    est = MLPRegressor(**SMALL, solver=solver)
    with pytest.raises(
        ValueError, match="Training diverged: .* became non-finite. Try to .*scale the features"
    ):
        est.fit(_with(X, 0, 0, 1e300), Y_REG)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


@pytest.mark.parametrize("Est", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_1e300_at_predict_gives_finite_outputs(Est):
    est = _fitted(Est, solver="lbfgs")
    X_big = _with(X[:5], 0, 0, 1e300)
    if Est is MLPClassifier:
        proba = est.predict_proba(X_big)
        assert np.all((proba >= 0) & (proba <= 1))
        assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    else:
        out = est.predict(X_big)
        assert np.all(np.isfinite(out))
        # The other rows are unaffected by the huge one.
        assert_allclose(out[1:], est.predict(X[1:5]), rtol=1e-12)


def test_one_sample_regressor_interpolates_it():
    est = MLPRegressor(
        hidden_layer_sizes=(4,), solver="lbfgs", l2=0.0, max_iter=500, tol=1e-12, random_state=0
    ).fit(X[:1], Y_REG[:1])
    assert_allclose(est.predict(X[:1]), Y_REG[:1], rtol=1e-6)
    for solver in ("adam", "sgd"):
        est = MLPRegressor(**SMALL, solver=solver).fit(X[:1], Y_REG[:1])
        assert est.t_ == 3 and np.all(np.isfinite(est.predict(X)))


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("labels", [np.array([3]), np.array(["only"])], ids=["int", "str"])
def test_single_class_predicts_that_class(solver, labels):
    """One sample, or many samples of one class: the only class is predicted."""
    for n in (1, 40):
        y = np.repeat(labels, n)
        est = MLPClassifier(**SMALL, solver=solver).fit(X[:n], y)
        assert_array_equal(est.classes_, labels)
        assert_array_equal(est.predict(X), np.repeat(labels, 40))


def test_single_class_with_early_stopping():
    est = MLPClassifier(**SMALL, early_stopping=True).fit(X, np.full(40, "a"))
    assert_array_equal(est.predict(X), np.full(40, "a"))
    assert est.validation_scores_ == [1.0] * est.n_iter_


def test_partial_fit_class_announced_but_not_yet_seen():
    est = MLPClassifier(**SMALL).partial_fit(X, Y_CLF, classes=[0, 1, 2])
    assert est.predict_proba(X).shape == (40, 3)
    est.partial_fit(X[:5], np.full(5, 2))  # now seen: accepted
    assert set(est.predict(X)) <= {0, 1, 2}


def test_one_feature():
    y = 2.0 * X[:, 0] - 1.0
    est = MLPRegressor(
        hidden_layer_sizes=(), solver="lbfgs", l2=0.0, max_iter=500, tol=1e-12, random_state=0
    ).fit(X[:, :1], y)
    assert_allclose(est.coefs_[0], [[2.0]], rtol=1e-6)
    assert_allclose(est.intercepts_[0], [-1.0], rtol=1e-6)
    clf = MLPClassifier(**SMALL).fit(X[:, :1], Y_CLF)
    assert clf.coefs_[0].shape == (1, 4)
    assert clf.predict(X[:, 1:2]).shape == (40,)


def test_empty_hidden_layer_sizes_is_a_linear_model():
    """hidden_layer_sizes=() fits y = X w + b exactly (least squares)."""
    w = np.array([1.5, -0.5, 2.0])
    y = X @ w + 0.25
    est = MLPRegressor(
        hidden_layer_sizes=(), solver="lbfgs", l2=0.0, max_iter=500, tol=1e-12, random_state=0
    ).fit(X, y)
    assert len(est.coefs_) == 1 and est.n_layers_ == 2
    assert_allclose(est.coefs_[0].ravel(), w, rtol=1e-6)
    assert_allclose(est.intercepts_[0], [0.25], rtol=1e-6)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_constant_zero_feature_gets_no_weight(solver):
    """A feature that is always 0 gets no gradient: without penalties its
    first-layer weights stay where they started, and L1 zeroes them."""
    X_const = np.column_stack([X, np.zeros(40)])
    est = MLPRegressor(
        hidden_layer_sizes=(4,),
        solver=solver,
        l2=0.0,
        max_iter=1,
        warm_start=True,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X_const, Y_REG)
    start = est.coefs_[0].copy()
    est.set_params(max_iter=20).fit(X_const, Y_REG)
    assert_array_equal(est.coefs_[0][3], start[3])
    assert not np.array_equal(est.coefs_[0][:3], start[:3])
    l1 = MLPRegressor(
        hidden_layer_sizes=(4,),
        solver=solver,
        l1=1.0,
        max_iter=300,
        batch_size=8,
        n_iter_no_change=300,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X_const, Y_REG)
    assert_array_equal(l1.coefs_[0][3], 0.0)
    assert l1.feature_importances_[3] == 0.0


def test_constant_nonzero_feature_is_harmless():
    y = X @ np.array([1.0, -2.0, 0.5])
    X_const = np.column_stack([X, np.full(40, 5.0)])
    est = MLPRegressor(
        hidden_layer_sizes=(), solver="lbfgs", l2=0.0, max_iter=500, tol=1e-12, random_state=0
    ).fit(X_const, y)
    # The constant column and the intercept are interchangeable; the
    # prediction is the exact linear fit either way.
    assert_allclose(est.predict(X_const), y, atol=1e-5)
    assert_allclose(est.coefs_[0].ravel()[:3], [1.0, -2.0, 0.5], rtol=1e-5)


@pytest.mark.parametrize("Est", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_batch_size_equal_to_the_data(Est):
    """At the bound: no clipping warning, and the same as 'auto' (n < 200)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        full = _fitted(Est, batch_size=40, solver="sgd")
    _assert_same_network(full, _fitted(Est, solver="sgd"))


@pytest.mark.parametrize("Est", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_batch_size_larger_than_the_data_at_partial_fit(Est):
    with pytest.warns(UserWarning, match="batch_size"):
        clipped = _partially_fitted(Est, batch_size=41)
    _assert_same_network(clipped, _partially_fitted(Est, batch_size=40))


@pytest.mark.parametrize("Est", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_validation_fraction_leaving_exactly_two_rows(Est):
    est = _fitted(Est, early_stopping=True, validation_fraction=2 / 40)
    assert len(est.validation_scores_) == est.n_iter_ == 3
    assert np.all(np.isfinite(est.validation_scores_))


def test_huge_sample_weights_are_only_a_scale():
    """Weights of 1e300 (finite) are a constant factor: with l2=0 the fit is
    the unweighted one."""
    plain = MLPRegressor(**SMALL, l2=0.0).fit(X, Y_REG)
    heavy = MLPRegressor(**SMALL, l2=0.0).fit(X, Y_REG, sample_weight=np.full(40, 1e300))
    for a, b in zip(plain.coefs_, heavy.coefs_, strict=True):
        assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------
# Faults not covered by test_validation.py: KeyboardInterrupt in partial_fit
# and in early-stopping scoring
# ---------------------------------------------------------------------------


def _interrupt_on_call(monkeypatch, module, name, n_call):
    """Make ``module.name`` raise KeyboardInterrupt on its ``n_call``-th call."""
    original = getattr(module, name)
    calls = []

    def interrupting(*args, **kwargs):
        calls.append(1)
        if len(calls) == n_call:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, interrupting)
    return calls


@pytest.mark.parametrize("Est", ESTIMATORS.values(), ids=ESTIMATORS.keys())
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_keyboard_interrupt_in_partial_fit(Est, solver, monkeypatch):
    """Ctrl-C propagates; a new estimator stays unfitted and a trained one
    is exactly as before the call, so training can resume."""
    extra = {"classes": [0, 1]} if Est is MLPClassifier else {}
    y = _y(Est)

    fresh = Est(**SMALL, solver=solver)
    calls = _interrupt_on_call(monkeypatch, skreg._solvers.k, "run_epoch", 1)
    with pytest.raises(KeyboardInterrupt):
        fresh.partial_fit(X, y, **extra)
    assert calls == [1]
    assert not hasattr(fresh, "coefs_") and not hasattr(fresh, "n_features_in_")
    with pytest.raises(NotFittedError):
        check_is_fitted(fresh)
    monkeypatch.undo()

    est = Est(**SMALL, solver=solver).partial_fit(X, y, **extra)
    reference = Est(**SMALL, solver=solver).partial_fit(X, y, **extra)
    before = _state(est)
    _interrupt_on_call(monkeypatch, skreg._solvers.k, "run_epoch", 1)
    with pytest.raises(KeyboardInterrupt):
        est.partial_fit(X[::-1], y[::-1])
    assert _state(est) == before
    monkeypatch.undo()
    est.partial_fit(X[::-1], y[::-1])
    reference.partial_fit(X[::-1], y[::-1])
    _assert_same_network(est, reference)
    assert est.t_ == reference.t_ == 80


@pytest.mark.parametrize("Est", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_keyboard_interrupt_while_scoring_the_validation_set(Est, monkeypatch):
    est = _fitted(Est, early_stopping=True, warm_start=True, validation_fraction=0.2)
    before = _state(est)
    # The driver scores the validation set through skreg._solvers.predict.
    calls = _interrupt_on_call(monkeypatch, skreg._solvers, "predict", 2)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, _y(Est))
    assert len(calls) == 2  # interrupted in the second epoch's scoring
    assert _state(est) == before
