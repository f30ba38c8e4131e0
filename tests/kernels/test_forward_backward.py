"""The forward pass, prediction, the loss, the penalties and the backward
pass of ``skreg._kernels`` against the plain NumPy reference of
``tests/_reference.py`` (checked itself first) and finite differences.
"""

import _reference as ref
import numpy as np
import pytest
from _kernel_helpers import (
    ACTIVATIONS,
    LOSS_CASES,
    LOSS_CODES,
    assert_gradient_close,
    block,
    central_differences,
    dense_input,
    draw_smooth_point,
    full_batch_loss_and_gradient,
    kernel_loss_and_grad,
    make_settings,
    make_targets,
    n_units,
    objective_differences,
    seed_state,
    units_array,
)
from numpy.testing import assert_allclose, assert_array_equal

from skreg import _kernels as k
from skreg._layout import kernel_input

# --------------------------------------------------------------------------
# The reference itself
# --------------------------------------------------------------------------


def test_reference_unpack_is_sklearn_pack_order():
    # All coefficient matrices (row-major, layer by layer), then all intercepts.
    layer_units = [2, 3, 1]
    params = np.arange(ref.n_parameters(layer_units), dtype=np.float64)
    coefs, intercepts = ref.unpack(params, layer_units)
    assert_array_equal(coefs[0], [[0, 1, 2], [3, 4, 5]])
    assert_array_equal(coefs[1], [[6], [7], [8]])
    assert_array_equal(intercepts[0], [9, 10, 11])
    assert_array_equal(intercepts[1], [12])
    assert_array_equal(ref.pack(coefs, intercepts), params)


@pytest.mark.parametrize("loss, n_outputs", LOSS_CASES)
def test_reference_gradient_matches_finite_differences(loss, n_outputs):
    # The reference gradient is used as ground truth by the run_epoch tests.
    layer_units = units_array(4, 3, 3, n_outputs)
    dropout = np.array([0.3, 0.5])
    X, Y, w, params, masks = draw_smooth_point(
        1, layer_units, "tanh", loss, n_outputs, dropout, avoid_zero_weights=True
    )
    grad = ref.gradient(X, Y, w, params, layer_units, "tanh", loss, l2=0.3, l1=0.2, masks=masks)
    numeric = central_differences(
        lambda p: ref.total_objective(X, Y, w, p, layer_units, "tanh", loss, 0.3, 0.2, masks=masks),
        params,
    )
    assert_gradient_close(grad, numeric)


# --------------------------------------------------------------------------
# Forward pass and prediction
# --------------------------------------------------------------------------


DTYPE_TOLERANCES = [
    pytest.param(np.float64, 1e-12, 1e-14, id="float64"),
    pytest.param(np.float32, 1e-5, 1e-6, id="float32"),
]


@pytest.mark.parametrize("dtype, rtol, atol", DTYPE_TOLERANCES)
@pytest.mark.parametrize("loss, n_outputs", LOSS_CASES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_matches_reference(activation, loss, n_outputs, dtype, rtol, atol):
    layer_units = units_array(5, 4, 3, n_outputs)
    n_rows = 6
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_rows, 5)).astype(dtype)
    params = rng.normal(0.0, 0.8, size=ref.n_parameters(layer_units)).astype(dtype)
    size = n_rows * n_units(layer_units)
    activations = np.full(size, np.nan, dtype=dtype)
    rng_state = seed_state(123)

    output = k.forward(
        *dense_input(X),
        params,
        layer_units,
        make_settings(activation, loss, layer_units=layer_units),
        rng_state,
        activations,
        np.empty(0, dtype=np.uint8),
    )

    pre_activations, outputs = ref.forward(X, params, layer_units, activation, loss)
    assert output.dtype == dtype
    assert output.shape == (n_rows, n_outputs)
    # The returned output is documented as a view into ``activations``.
    assert np.shares_memory(output, activations)
    assert_allclose(output, outputs[-1], rtol=rtol, atol=atol)
    for layer in range(len(layer_units) - 1):
        assert_allclose(
            block(activations, layer_units, layer, n_rows),
            outputs[layer],
            rtol=rtol,
            atol=atol,
            err_msg=f"layer {layer}",
        )
    # backward reads each hidden layer's slope off its output.
    for layer in range(len(layer_units) - 2):
        slope = np.ones((n_rows, layer_units[layer + 1]), dtype=dtype)
        k.multiply_by_slope(
            slope,
            block(activations, layer_units, layer, n_rows),
            np.empty((0, 0), dtype=np.uint8),
            k.ACTIVATION_CODES[activation],
            0.0,
        )
        assert_allclose(
            slope,
            ref.hidden_derivative(pre_activations[layer], activation),
            rtol=rtol,
            atol=atol,
            err_msg=f"derivative of layer {layer}",
        )
    assert rng_state[0] == 123, "no dropout: the generator must not advance"


@pytest.mark.parametrize("dtype, rtol, atol", DTYPE_TOLERANCES)
@pytest.mark.parametrize("chunk_size", [3, 8, 100], ids=lambda c: f"chunk{c}")
@pytest.mark.parametrize("loss, n_outputs", LOSS_CASES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_predict_output_matches_reference(
    activation, loss, n_outputs, chunk_size, dtype, rtol, atol
):
    # chunk_size 3 does not divide the 8 rows: chunks of 3, 3 and 2.
    layer_units = units_array(5, 4, 3, n_outputs)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(8, 5)).astype(dtype)
    params = rng.normal(0.0, 0.8, size=ref.n_parameters(layer_units)).astype(dtype)
    settings = make_settings(activation, loss, layer_units=layer_units)
    output = k.predict_output(*kernel_input(X), params, layer_units, settings, chunk_size)
    _, outputs = ref.forward(X, params, layer_units, activation, loss)
    assert output.dtype == dtype
    assert output.shape == (8, n_outputs)
    assert_allclose(output, outputs[-1], rtol=rtol, atol=atol)


# --------------------------------------------------------------------------
# Loss, penalty and gradients
# --------------------------------------------------------------------------


@pytest.mark.parametrize("loss, n_outputs", LOSS_CASES)
def test_data_loss_and_output_delta_matches_reference(loss, n_outputs):
    rng = np.random.default_rng(2)
    n_rows = 9
    Y = make_targets(rng, loss, n_rows, n_outputs)
    if loss == "squared_error":
        output = rng.normal(size=(n_rows, n_outputs))
    else:
        output = rng.uniform(0.05, 0.95, size=(n_rows, n_outputs))
        # Saturated probabilities, on and against the target: the log loss
        # clips them to [eps, 1 - eps] instead of returning inf.
        output[0, 0] = 1.0 - Y[0, 0]
        output[1, 0] = Y[1, 0]
        if loss == "log":
            output /= output.sum(axis=1, keepdims=True)
    w = rng.uniform(0.2, 2.0, size=n_rows)
    delta = np.full_like(output, np.nan)
    proba_eps = 1e-7
    total = k.data_loss_and_output_delta(output, Y, w, LOSS_CODES[loss], proba_eps, delta)
    assert np.isfinite(total)
    assert_allclose(
        total / w.sum(), ref.weighted_data_loss(output, Y, w, loss, proba_eps), rtol=1e-12
    )
    assert_allclose(delta, (output - Y) * w[:, None], rtol=1e-14, atol=1e-15)


def test_weight_penalty_counts_weights_only():
    layer_units = [3, 4, 2]
    rng = np.random.default_rng(3)
    params = rng.normal(size=ref.n_parameters(layer_units))
    n_coefs = ref.n_coefficients(layer_units)
    expected = ref.penalty(params, layer_units, 0.7, 0.2)
    assert_allclose(k.weight_penalty(params, n_coefs, 0.7, 0.2), expected, rtol=1e-13)
    # Intercepts never enter the penalty.
    params[n_coefs:] = 1e6
    assert_allclose(k.weight_penalty(params, n_coefs, 0.7, 0.2), expected, rtol=1e-13)


@pytest.mark.parametrize("l2", [0.0, 0.3], ids=lambda v: f"l2={v}")
@pytest.mark.parametrize("loss, n_outputs", LOSS_CASES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_backward_matches_finite_differences(activation, loss, n_outputs, l2):
    # The loss is composed from the kernels, and must also equal the reference.
    layer_units = units_array(4, 3, 3, n_outputs)
    X, Y, w, params, _ = draw_smooth_point(10, layer_units, activation, loss, n_outputs)
    settings = make_settings(activation, loss, l2=l2, layer_units=layer_units)
    loss_value, grads, _ = kernel_loss_and_grad(X, Y, w, params, layer_units, settings, 0)
    assert_allclose(
        loss_value,
        ref.total_objective(X, Y, w, params, layer_units, activation, loss, l2),
        rtol=1e-12,
    )
    numeric = objective_differences(X, Y, w, params, layer_units, settings, 0)
    assert_gradient_close(grads, numeric)


@pytest.mark.parametrize("loss, n_outputs", LOSS_CASES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_backward_matches_finite_differences_with_fixed_dropout_mask(activation, loss, n_outputs):
    # Resetting rng_state to the same seed before every forward pass gives the
    # same mask, so the loss is a smooth function of the parameters.
    layer_units = units_array(4, 3, 3, n_outputs)
    dropout = np.array([0.3, 0.5])
    seed = 20
    X, Y, w, params, masks = draw_smooth_point(
        seed, layer_units, activation, loss, n_outputs, dropout
    )
    assert any(np.any(m == 0) for m in masks), "the mask should drop something"
    l2 = 0.3
    settings = make_settings(activation, loss, l2=l2, dropout=dropout)
    loss_value, grads, _ = kernel_loss_and_grad(X, Y, w, params, layer_units, settings, seed)
    assert_allclose(
        loss_value,
        ref.total_objective(X, Y, w, params, layer_units, activation, loss, l2, masks=masks),
        rtol=1e-12,
    )
    numeric = objective_differences(X, Y, w, params, layer_units, settings, seed)
    assert_gradient_close(grads, numeric)


@pytest.mark.parametrize("loss, n_outputs", LOSS_CASES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_l1_term_of_the_loss_value(activation, loss, n_outputs):
    # backward leaves L1 to the optimizer; the L1 part of the loss value must
    # then have gradient l1 * sign(W) / sum(weights) on the weights only.
    layer_units = units_array(4, 3, 3, n_outputs)
    X, Y, w, params, _ = draw_smooth_point(
        30, layer_units, activation, loss, n_outputs, avoid_zero_weights=True
    )
    l2, l1 = 0.3, 0.25
    settings = make_settings(activation, loss, l2=l2, l1=l1, layer_units=layer_units)
    loss_value, grads, _ = kernel_loss_and_grad(X, Y, w, params, layer_units, settings, 0)
    assert_allclose(
        loss_value,
        ref.total_objective(X, Y, w, params, layer_units, activation, loss, l2, l1),
        rtol=1e-12,
    )
    n_coefs = ref.n_coefficients(layer_units)
    expected = grads.copy()
    expected[:n_coefs] += l1 * np.sign(params[:n_coefs]) / w.sum()
    numeric = objective_differences(X, Y, w, params, layer_units, settings, 0)
    assert_gradient_close(expected, numeric)


@pytest.mark.parametrize("l2", [0.0, 0.3], ids=lambda v: f"l2={v}")
@pytest.mark.parametrize("loss, n_outputs", LOSS_CASES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_loss_and_gradient_matches_finite_differences(activation, loss, n_outputs, l2):
    # The (loss, gradient) pair handed to L-BFGS must describe one function.
    layer_units = units_array(4, 3, 3, n_outputs)
    X, Y, w, params, _ = draw_smooth_point(40, layer_units, activation, loss, n_outputs)
    # Chunks of 3 rows: the gradient is accumulated over 3 chunks (3, 3, 1).
    settings = make_settings(activation, loss, batch_size=3, l2=l2, layer_units=layer_units)

    def objective(p):
        return full_batch_loss_and_gradient(X, Y, w, p, np.empty_like(p), layer_units, settings)[0]

    grads = np.full_like(params, np.nan)
    value, reported = full_batch_loss_and_gradient(X, Y, w, params, grads, layer_units, settings)
    assert_allclose(
        value, ref.total_objective(X, Y, w, params, layer_units, activation, loss, l2), rtol=1e-12
    )
    assert_allclose(
        reported, ref.total_loss(X, Y, w, params, layer_units, activation, loss, l2), rtol=1e-12
    )
    assert_gradient_close(grads, central_differences(objective, params))
