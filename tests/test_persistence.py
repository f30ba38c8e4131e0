"""Persistence: pickle, joblib and skops.io round trips.

A saved and reloaded model must predict bit for bit what the original
predicts, and go on training (``warm_start`` fit, ``partial_fit``) exactly as
the original would, optimizer state included; this holds within a process
and between processes. skops.io (the ``skops`` extra) loads a skreg model
once its class is trusted -- and that class must be the only type to trust,
as the docs (doc/scaling.rst) say.
"""

import io
import json
import os
import pathlib
import pickle
import re
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

import skreg
from skreg import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

REPO = pathlib.Path(skreg.__file__).resolve().parents[1]
SCALING_DOC = REPO / "doc" / "scaling.rst"

X_CLF, Y_CLF = make_classification(
    n_samples=120, n_features=6, n_informative=4, n_classes=3, random_state=0
)
X_REG, Y_REG = make_regression(n_samples=120, n_features=6, noise=1.0, random_state=0)
Y_REG = (Y_REG - Y_REG.mean()) / Y_REG.std()
LABELS = np.array(["ant", "bee", "cat"])


def _pickle(est):
    return pickle.loads(pickle.dumps(est, protocol=pickle.HIGHEST_PROTOCOL))


def _joblib(est):
    buffer = io.BytesIO()
    joblib.dump(est, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def _joblib_compressed(est):
    buffer = io.BytesIO()
    joblib.dump(est, buffer, compress=3)
    buffer.seek(0)
    return joblib.load(buffer)


def _skops(est):
    data = sio.dumps(est)
    return sio.loads(data, trusted=sio.get_untrusted_types(data=data))


ROUND_TRIPS = {
    "pickle": _pickle,
    "joblib": _joblib,
    "joblib-compressed": _joblib_compressed,
    "skops": _skops,
}

MODELS = {
    "classifier-adam-early-stopping": (
        lambda: MLPClassifier(
            hidden_layer_sizes=(8, 5),
            l1=1e-3,
            dropout=(0.2, 0.1),
            early_stopping=True,
            validation_fraction=0.2,
            max_iter=8,
            random_state=0,
        ),
        X_CLF,
        LABELS[Y_CLF],
    ),
    "classifier-sgd": (
        lambda: MLPClassifier(
            hidden_layer_sizes=(8,),
            solver="sgd",
            learning_rate="invscaling",
            learning_rate_init=0.05,
            max_iter=6,
            random_state=0,
        ),
        X_CLF,
        Y_CLF,
    ),
    "classifier-lbfgs": (
        lambda: MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20, random_state=0),
        X_CLF,
        Y_CLF,
    ),
    "classifier-float32": (
        lambda: MLPClassifier(hidden_layer_sizes=(8,), max_iter=6, random_state=0),
        X_CLF.astype(np.float32),
        Y_CLF,
    ),
    "classifier-multilabel": (
        lambda: MLPClassifier(hidden_layer_sizes=(8,), max_iter=6, random_state=0),
        X_CLF,
        np.column_stack([Y_CLF == 0, Y_CLF == 1]).astype(int),
    ),
    "regressor-adam-pandas": (
        lambda: MLPRegressor(
            hidden_layer_sizes=(8,), l1=1e-3, dropout=0.1, max_iter=6, random_state=0
        ),
        pd.DataFrame(X_REG, columns=[f"f{i}" for i in range(6)]),
        Y_REG,
    ),
    "regressor-sgd-poisson": (
        lambda: MLPRegressor(
            loss="poisson",
            hidden_layer_sizes=(8,),
            solver="sgd",
            learning_rate_init=0.01,
            max_iter=6,
            random_state=0,
        ),
        X_REG,
        np.exp(Y_REG),
    ),
    "regressor-lbfgs": (
        lambda: MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20, random_state=0),
        X_REG,
        Y_REG,
    ),
    "regressor-float32-random-state-instance": (
        lambda: MLPRegressor(
            hidden_layer_sizes=(8,), max_iter=6, random_state=np.random.RandomState(3)
        ),
        X_REG.astype(np.float32),
        Y_REG,
    ),
}


def _outputs(est, X):
    out = {"predict": est.predict(X)}
    if hasattr(est, "predict_proba"):
        out["predict_proba"] = est.predict_proba(X)
        out["predict_log_proba"] = est.predict_log_proba(X)
    return out


def _assert_same_outputs(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        assert_array_equal(a[key], b[key], err_msg=key)


def _assert_same_fit(a, b):
    """Same network, same training history, same fitted attributes."""
    assert type(a) is type(b)
    assert sorted(vars(a)) == sorted(vars(b))
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        assert p.dtype == q.dtype
        assert_array_equal(p, q)
    for name in (
        "n_iter_",
        "t_",
        "loss_",
        "loss_curve_",
        "validation_scores_",
        "best_loss_",
        "best_validation_score_",
        "n_features_in_",
        "n_outputs_",
        "out_activation_",
    ):
        if hasattr(a, name):
            assert_array_equal(
                np.asarray(getattr(a, name)), np.asarray(getattr(b, name)), err_msg=name
            )
    for name in ("feature_names_in_", "classes_", "feature_importances_"):
        if hasattr(a, name):
            assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.get_params().keys() == b.get_params().keys()


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
def test_round_trip_predicts_bit_identically(model, round_trip):
    make, X, y = MODELS[model]
    est = make().fit(X, y)
    loaded = ROUND_TRIPS[round_trip](est)
    assert loaded is not est
    _assert_same_fit(loaded, est)
    _assert_same_outputs(_outputs(loaded, X), _outputs(est, X))
    assert loaded.score(X, y) == est.score(X, y)


@pytest.mark.parametrize("model", [m for m in MODELS if "lbfgs" not in m and "early" not in m])
@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
def test_round_trip_keeps_training_like_the_original(model, round_trip):
    """partial_fit continues the optimizer state (moments, velocities, step
    count, scheduled learning rate) and warm_start continues the weights."""
    make, X, y = MODELS[model]
    extra = {"classes": np.unique(y)} if isinstance(make(), MLPClassifier) else {}
    original = make().partial_fit(X[:60], y[:60], **extra)
    loaded = ROUND_TRIPS[round_trip](original)
    for est in (original, loaded):
        est.partial_fit(X[60:], y[60:])
        est.partial_fit(X[:60], y[:60])
    _assert_same_fit(loaded, original)
    _assert_same_outputs(_outputs(loaded, X), _outputs(original, X))

    original = make().set_params(warm_start=True).fit(X, y)
    loaded = ROUND_TRIPS[round_trip](original)
    for est in (original, loaded):
        est.set_params(max_iter=4).fit(X, y)
    _assert_same_fit(loaded, original)
    _assert_same_outputs(_outputs(loaded, X), _outputs(original, X))


@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
def test_round_trip_of_warm_started_lbfgs_and_early_stopping(round_trip):
    for model in ("classifier-lbfgs", "regressor-lbfgs", "classifier-adam-early-stopping"):
        make, X, y = MODELS[model]
        original = make().set_params(warm_start=True).fit(X, y)
        loaded = ROUND_TRIPS[round_trip](original)
        for est in (original, loaded):
            est.fit(X, y)
        _assert_same_fit(loaded, original)


@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
def test_unfitted_round_trip(round_trip):
    est = MLPClassifier(hidden_layer_sizes=(3, 2), l1=0.5, dropout=(0.1, 0.2), random_state=4)
    loaded = ROUND_TRIPS[round_trip](est)
    assert loaded.get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(loaded)
    # Fits exactly as the original then does.
    _assert_same_fit(loaded.fit(X_CLF, Y_CLF), clone(est).fit(X_CLF, Y_CLF))


@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
def test_pipeline_round_trip(round_trip):
    pipe = make_pipeline(
        StandardScaler(), MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0)
    ).fit(X_CLF, Y_CLF)
    loaded = ROUND_TRIPS[round_trip](pipe)
    assert_array_equal(loaded.predict_proba(X_CLF), pipe.predict_proba(X_CLF))


# ---------------------------------------------------------------------------
# Between processes
# ---------------------------------------------------------------------------

_CHILD = """
    import json, pickle, sys, warnings
    import numpy as np
    warnings.simplefilter("ignore")
    import skreg
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=120, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    path_in, path_out = sys.argv[1], sys.argv[2]
    if path_in == "-":
        # Fit here; the parent loads the pickle.
        est = skreg.MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", max_iter=5,
                                  random_state=0).partial_fit(X, y, classes=[0, 1, 2])
        with open(path_out, "wb") as f:
            pickle.dump(est, f)
        print(json.dumps({"proba": est.predict_proba(X).tolist()}))
    else:
        # Load the parent's pickle, predict, and train on.
        with open(path_in, "rb") as f:
            est = pickle.load(f)
        proba = est.predict_proba(X).tolist()
        est.partial_fit(X[::-1], y[::-1])
        print(json.dumps({"proba": proba, "proba_after": est.predict_proba(X).tolist(),
                          "coefs": [c.tolist() for c in est.coefs_]}))
"""


def _child(*args, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_CHILD), *map(str, args)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_model_pickled_in_one_process_loads_in_another(tmp_path):
    # Child -> parent.
    path = tmp_path / "from_child.pkl"
    result = _child("-", path, cwd=tmp_path)
    with open(path, "rb") as f:
        loaded = pickle.load(f)
    assert_array_equal(loaded.predict_proba(X_CLF), np.array(result["proba"]))
    here = MLPClassifier(
        hidden_layer_sizes=(8,), solver="sgd", max_iter=5, random_state=0
    ).partial_fit(X_CLF, Y_CLF, classes=[0, 1, 2])
    _assert_same_fit(loaded, here)

    # Parent -> child, which predicts and continues training exactly as here.
    path = tmp_path / "from_parent.pkl"
    with open(path, "wb") as f:
        pickle.dump(here, f)
    result = _child(path, tmp_path / "unused", cwd=tmp_path)
    assert_array_equal(np.array(result["proba"]), here.predict_proba(X_CLF))
    here.partial_fit(X_CLF[::-1], Y_CLF[::-1])
    assert_array_equal(np.array(result["proba_after"]), here.predict_proba(X_CLF))
    for theirs, ours in zip(result["coefs"], here.coefs_, strict=True):
        assert_array_equal(np.array(theirs), ours)


class AccuracyScorer:
    """A scorer whose repr holds its address, which a round trip changes."""

    def __call__(self, estimator, X, y):
        return float(np.mean(estimator.predict(X) == y))


@pytest.mark.parametrize("round_trip", ["pickle", "joblib"])
def test_round_trip_keeps_the_early_stopping_history_of_a_callable_scorer(round_trip):
    """The warm-started refit of a round-tripped model continues its
    validation curve: the scorer is recognised as the same one."""
    model = MLPClassifier(
        hidden_layer_sizes=(8,),
        early_stopping=True,
        scoring=AccuracyScorer(),
        warm_start=True,
        max_iter=4,
        n_iter_no_change=100,
        random_state=0,
    )
    model.fit(X_CLF, Y_CLF)
    loaded = ROUND_TRIPS[round_trip](model)
    assert repr(loaded.scoring) != repr(model.scoring)
    loaded.fit(X_CLF, Y_CLF)
    assert len(loaded.validation_scores_) == 8
    assert loaded.validation_scores_[:4] == model.validation_scores_


# ---------------------------------------------------------------------------
# skops.io: which types to trust
# ---------------------------------------------------------------------------


def _documented_trusted_types():
    """The type names listed after 'trusted=' in doc/scaling.rst's example."""
    text = SCALING_DOC.read_text()
    lists = re.findall(r"trusted=\[([^\]]*)\]", text)
    assert lists, "doc/scaling.rst shows no skops.io.load(..., trusted=[...]) call"
    return {name for found in lists for name in re.findall(r"\"([\w.]+)\"", found)}


@pytest.mark.parametrize(
    "Est, X, y",
    [(MLPClassifier, X_CLF, LABELS[Y_CLF]), (MLPRegressor, X_REG, Y_REG)],
    ids=["classifier", "regressor"],
)
def test_skops_needs_exactly_the_documented_skreg_type(Est, X, y, tmp_path):
    est = Est(
        hidden_layer_sizes=(5,),
        max_iter=5,
        early_stopping=True,
        random_state=np.random.RandomState(0),
    ).fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    # Only skreg's own class: numpy arrays, the label encoder, the random
    # state and the training-state dict are all types skops trusts already.
    assert untrusted == [f"skreg._mlp.{Est.__name__}"]
    assert set(untrusted) <= _documented_trusted_types()
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match=Est.__name__):
        sio.load(path)
    loaded = sio.load(path, trusted=untrusted)
    _assert_same_fit(loaded, est)
    _assert_same_outputs(_outputs(loaded, X), _outputs(est, X))


def test_skops_pipeline_needs_only_the_skreg_type(tmp_path):
    pipe = make_pipeline(
        StandardScaler(), MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    ).fit(X_REG, Y_REG)
    path = tmp_path / "pipe.skops"
    sio.dump(pipe, path)
    assert sio.get_untrusted_types(file=path) == ["skreg._mlp.MLPRegressor"]
    loaded = sio.load(path, trusted=["skreg._mlp.MLPRegressor"])
    assert_array_equal(loaded.predict(X_REG), pipe.predict(X_REG))


def test_documented_trusted_types_are_exactly_skregs_estimators():
    assert _documented_trusted_types() == {"skreg._mlp.MLPClassifier", "skreg._mlp.MLPRegressor"}
    for name in _documented_trusted_types():
        module, cls = name.rsplit(".", 1)
        assert getattr(sys.modules[module], cls) is getattr(skreg, cls)
