"""ONNX export of skreg's estimators, through skl2onnx.

``import skreg.onnx`` registers :class:`~skreg.MLPClassifier` and
:class:`~skreg.MLPRegressor` with skl2onnx, so that :func:`skl2onnx.to_onnx`
converts them, alone or inside a :class:`~sklearn.pipeline.Pipeline`, and
onnxruntime (or any ONNX runtime) serves them without skreg. It needs the
``onnx`` extra (``pip install "skreg[onnx]"``); ``import skreg`` never loads
skl2onnx.

A fitted network predicts as scikit-learn's MLP does (dropout, the input
masks, the penalties and the max-norm constraint act in training only), so
the classifier reuses skl2onnx's MLP classifier converter and its options
(``zipmap``, ``nocl``, ``output_class_labels``), except for multi-label
targets: skl2onnx takes two labels for a binary problem and adds a column.
The regressor has its own converter: skl2onnx's reshapes every output to one
column, and skreg's Poisson regressor ends in an exponential (its log link)
that scikit-learn's MLP lacks.

Examples
--------
>>> import numpy as np
>>> import onnxruntime as rt
>>> from skl2onnx import to_onnx
>>> from skreg import MLPRegressor
>>> import skreg.onnx  # registers the converters
>>> X = np.random.RandomState(0).normal(size=(50, 3))
>>> model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
>>> model = model.fit(X, X @ [1.0, 2.0, 3.0])
>>> onx = to_onnx(model, X[:1].astype(np.float32))
>>> session = rt.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
>>> onnx_prediction = session.run(None, {"X": X.astype(np.float32)})[0]
>>> bool(np.allclose(onnx_prediction[:, 0], model.predict(X), rtol=1e-5, atol=1e-6))
True
"""

from skl2onnx import update_registered_converter
from skl2onnx.common.data_types import (
    DoubleTensorType,
    FloatTensorType,
    Int64TensorType,
    guess_proto_type,
)
from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
from skl2onnx.common.utils import check_input_and_output_numbers
from skl2onnx.operator_converters.multilayer_perceptron import convert_sklearn_mlp_classifier
from skl2onnx.proto import onnx_proto

from ._mlp import MLPClassifier, MLPRegressor

__all__ = ["register"]

# skreg's activation names (hidden units, and out_activation_) as ONNX ops.
_ONNX_ACTIVATIONS = {
    "identity": "Identity",
    "logistic": "Sigmoid",
    "tanh": "Tanh",
    "relu": "Relu",
    "exp": "Exp",
}


def _is_multilabel(model):
    return model._label_binarizer.y_type_.startswith("multilabel")


def _float_type(operator):
    """The input's tensor type if it is double, else float."""
    input_type = operator.inputs[0].type
    return DoubleTensorType if isinstance(input_type, DoubleTensorType) else FloatTensorType


def _classifier_output_shapes(operator):
    """skl2onnx's classifier shapes; a multi-label model's labels are a
    [N, n_labels] indicator matrix."""
    calculate_linear_classifier_output_shapes(operator)
    model = operator.raw_operator
    if _is_multilabel(model):
        n_rows = operator.inputs[0].get_first_dimension()
        operator.outputs[0].type = Int64TensorType([n_rows, model.n_outputs_])


def _regressor_output_shapes(operator):
    """One output of shape [N, n_outputs_], in the input's float type."""
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = _float_type(operator)([n_rows, operator.raw_operator.n_outputs_])


def _forward_pass(scope, operator, container, output_name):
    """The network's forward pass into ``output_name``: per layer MatMul,
    Add and the activation, the output layer's being ``out_activation_``.
    Computes in double for double input, else in float; returns that type."""
    model = operator.raw_operator
    proto_type = guess_proto_type(operator.inputs[0].type)
    if proto_type != onnx_proto.TensorProto.DOUBLE:
        proto_type = onnx_proto.TensorProto.FLOAT
    layer_input = scope.get_unique_variable_name("input")
    container.add_node(
        "Cast",
        operator.inputs[0].full_name,
        layer_input,
        to=proto_type,
        name=scope.get_unique_operator_name("Cast"),
    )
    n_layers = len(model.coefs_)
    for layer, (coef, intercept) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        names = {
            part: scope.get_unique_variable_name(part)
            for part in ("coefficient", "intercept", "product", "pre_activation")
        }
        container.add_initializer(names["coefficient"], proto_type, coef.shape, coef.ravel())
        container.add_initializer(
            names["intercept"], proto_type, [1, intercept.shape[0]], intercept
        )
        container.add_node(
            "MatMul",
            [layer_input, names["coefficient"]],
            names["product"],
            name=scope.get_unique_operator_name("MatMul"),
        )
        container.add_node(
            "Add",
            [names["product"], names["intercept"]],
            names["pre_activation"],
            name=scope.get_unique_operator_name("Add"),
        )
        last = layer == n_layers - 1
        activation = _ONNX_ACTIVATIONS[model.out_activation_ if last else model.activation]
        layer_input = output_name if last else scope.get_unique_variable_name("activation")
        container.add_node(
            activation,
            names["pre_activation"],
            layer_input,
            name=scope.get_unique_operator_name(activation),
        )
    return proto_type


def _convert_classifier(scope, operator, container):
    """skl2onnx's MLP classifier converter, except for multi-label models:
    their probabilities are the logistic outputs, their labels those above
    0.5 (as LabelBinarizer.inverse_transform decides)."""
    if not _is_multilabel(operator.raw_operator):
        convert_sklearn_mlp_classifier(scope, operator, container)
        return
    probabilities = operator.outputs[1].full_name
    proto_type = _forward_pass(scope, operator, container, probabilities)
    # Greater rather than ai.onnx.ml's Binarizer, which onnxruntime runs in
    # float only.
    threshold = scope.get_unique_variable_name("threshold")
    container.add_initializer(threshold, proto_type, [], [0.5])
    above = scope.get_unique_variable_name("above_threshold")
    container.add_node(
        "Greater", [probabilities, threshold], above, name=scope.get_unique_operator_name("Greater")
    )
    container.add_node(
        "Cast",
        above,
        operator.outputs[0].full_name,
        to=onnx_proto.TensorProto.INT64,
        name=scope.get_unique_operator_name("Cast"),
    )


def _convert_regressor(scope, operator, container):
    """The forward pass, its output (identity, or exp for the Poisson loss)
    being the prediction."""
    _forward_pass(scope, operator, container, operator.outputs[0].full_name)


def register():
    """Register skreg's estimators with skl2onnx (done on import of this
    module; calling it again is harmless)."""
    update_registered_converter(
        MLPClassifier,
        "SkregMLPClassifier",
        _classifier_output_shapes,
        _convert_classifier,
        options={
            "zipmap": [True, False, "columns"],
            "output_class_labels": [False, True],
            "nocl": [True, False],
        },
    )
    update_registered_converter(
        MLPRegressor, "SkregMLPRegressor", _regressor_output_shapes, _convert_regressor
    )


register()
