"""ONNX export (``skreg.onnx``): onnxruntime predicts what skreg predicts, for
every activation and kind of target, in float32 and float64, alone and in a
pipeline; ``import skreg`` never loads skl2onnx."""

import subprocess
import sys
import warnings

import numpy as np
import onnxruntime
import pytest
import skl2onnx
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skreg.onnx  # noqa: F401  (registers the converters; the tests need nothing else of it)
from skreg import MLPClassifier, MLPRegressor

onnxruntime.set_default_logger_severity(3)

X, Y_MULTICLASS = make_classification(
    n_samples=160, n_features=6, n_informative=4, n_redundant=0, n_classes=3, random_state=0
)
X_REG, Y_REG = make_regression(n_samples=160, n_features=6, n_targets=2, noise=1.0, random_state=0)
Y_REG = Y_REG / Y_REG.std(axis=0)
TARGETS = {
    "binary": (MLPClassifier, X, (Y_MULTICLASS == 0).astype(int)),
    "multiclass": (MLPClassifier, X, Y_MULTICLASS),
    "string-labels": (MLPClassifier, X, np.array(["ant", "bee", "cat"])[Y_MULTICLASS]),
    "multi-label": (
        MLPClassifier,
        X,
        np.stack([Y_MULTICLASS == 0, Y_MULTICLASS == 2], 1).astype(int),
    ),
    "regression": (MLPRegressor, X_REG, Y_REG[:, 0]),
    "multi-output": (MLPRegressor, X_REG, Y_REG),
    "poisson": (MLPRegressor, X_REG, np.exp(Y_REG[:, 0] / 2)),
}
# Trained with the regularizers: none of them changes the network that
# predicts.
TRAINING = dict(
    hidden_layer_sizes=(8, 5),
    l1=0.05,
    dropout=0.2,
    early_stopping=True,
    max_iter=40,
    random_state=0,
)
# Largest relative deviation allowed, per ONNX computation type.
RTOL = {np.float32: 1e-5, np.float64: 1e-10}


def fitted(task, activation):
    Est, X_task, y = TARGETS[task]
    params = dict(TRAINING, activation=activation)
    if task == "poisson":
        params["loss"] = "poisson"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return Est(**params).fit(X_task, y), X_task


def onnx_outputs(model, X_input, **options):
    onx = skl2onnx.to_onnx(model, X_input[:1], **options)
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X_input})


def relative_deviation(got, expected):
    """Largest elementwise relative deviation (for probabilities)."""
    expected = np.asarray(expected, dtype=np.float64)
    scale = np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(np.asarray(got, dtype=np.float64) - expected) / scale))


def output_relative_deviation(got, expected):
    """Largest deviation relative to each output's largest magnitude (for
    regression outputs, which pass through 0, where an elementwise relative
    error measures float32's cancellation rather than the model)."""
    expected = np.asarray(expected, dtype=np.float64).reshape(len(expected), -1)
    got = np.asarray(got, dtype=np.float64).reshape(expected.shape)
    return float(np.max(np.abs(got - expected) / np.abs(expected).max(axis=0)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("task", TARGETS)
def test_onnxruntime_predicts_what_skreg_predicts(task, activation, dtype, record_property):
    model, X_task = fitted(task, activation)
    X_input = X_task.astype(dtype)
    if isinstance(model, MLPClassifier):
        labels, probabilities = onnx_outputs(model, X_input, options={"zipmap": False})
        np.testing.assert_array_equal(labels, model.predict(X_task))
        deviation = relative_deviation(probabilities, model.predict_proba(X_task))
    else:
        (prediction,) = onnx_outputs(model, X_input)
        expected = model.predict(X_task)
        assert prediction.shape == (X_task.shape[0], model.n_outputs_)
        deviation = output_relative_deviation(prediction, expected)
    record_property("relative_deviation", deviation)
    assert deviation <= RTOL[dtype], deviation


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_float32_model_converts(dtype):
    """A model trained on float32 input (float32 weights)."""
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X.astype(np.float32), Y_MULTICLASS)
    labels, probabilities = onnx_outputs(model, X.astype(dtype), options={"zipmap": False})
    np.testing.assert_array_equal(labels, model.predict(X))
    assert relative_deviation(probabilities, model.predict_proba(X)) <= 1e-5


def test_pipeline_with_a_scaler_converts():
    pipeline = make_pipeline(StandardScaler(), MLPClassifier(**TRAINING))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(X * 50 + 3, Y_MULTICLASS)
    X_input = (X * 50 + 3).astype(np.float64)
    labels, probabilities = onnx_outputs(pipeline, X_input, options={"zipmap": False})
    np.testing.assert_array_equal(labels, pipeline.predict(X_input))
    assert relative_deviation(probabilities, pipeline.predict_proba(X_input)) <= 1e-10
    regressor = make_pipeline(StandardScaler(), MLPRegressor(**TRAINING))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        regressor.fit(X_REG * 50 + 3, Y_REG)
    (prediction,) = onnx_outputs(regressor, (X_REG * 50 + 3).astype(np.float32))
    assert output_relative_deviation(prediction, regressor.predict(X_REG * 50 + 3)) <= 1e-5


def test_zipmap_gives_one_dict_per_row_keyed_by_class():
    model, _ = fitted("string-labels", "relu")
    labels, rows = onnx_outputs(model, X.astype(np.float32))
    np.testing.assert_array_equal(labels, model.predict(X))
    assert list(rows[0]) == ["ant", "bee", "cat"]
    probabilities = np.array([[row[c] for c in model.classes_] for row in rows])
    assert relative_deviation(probabilities, model.predict_proba(X)) <= 1e-5


def test_import_skreg_does_not_load_skl2onnx():
    code = "import sys, skreg; print('skl2onnx' in sys.modules or 'onnx' in sys.modules)"
    printed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert printed.strip() == "False"
