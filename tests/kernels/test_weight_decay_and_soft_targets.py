"""The kernels' side of the regularizers of modern tabular networks: the
decoupled weight decay of ``optimizer_step`` against the NumPy reference and
Adam's closed form, and the loss and gradient on the soft targets of label
smoothing (which only the targets change) against the reference and finite
differences.
"""

import _reference as ref
import numpy as np
import pytest
from _kernel_helpers import (
    ACTIVATIONS,
    assert_gradient_close,
    draw_smooth_point,
    kernel_loss_and_grad,
    make_settings,
    objective_differences,
    units_array,
)
from numpy.testing import assert_allclose

from skreg import _kernels as k

LAYER_UNITS = units_array(3, 4, 2)
HYPER = dict(learning_rate=0.05, momentum=0.8, beta_1=0.85, beta_2=0.99, epsilon=1e-7)


def kernel_step(params, raw_grads, state, t, solver, nesterov, weight_sum, **floats):
    """One ``optimizer_step`` on copies; returns ``(params, state)``."""
    params, state = params.copy(), state.copy()
    settings = make_settings(
        solver=solver,
        nesterov=nesterov,
        layer_units=LAYER_UNITS,
        **{**HYPER, **floats},
    )
    steps = np.array([t - 1], dtype=np.int64)
    k.optimizer_step(params, raw_grads, state, LAYER_UNITS, weight_sum, steps, settings)
    return params, state


@pytest.mark.parametrize("l2", [0.0, 0.3], ids=lambda v: f"l2={v}")
@pytest.mark.parametrize(
    "solver, nesterov", [("sgd", False), ("sgd", True), ("adam", False)], ids=str
)
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)], ids=str)
def test_weight_decay_step_matches_reference(solver, nesterov, l2, dtype, rtol):
    # The decay multiplies the weights first, then the usual step runs (its
    # L2 term on the decayed weights), as PyTorch's AdamW orders them.
    rng = np.random.default_rng(0)
    n = ref.n_parameters(LAYER_UNITS)
    n_coefs = ref.n_coefficients(LAYER_UNITS)
    params = rng.normal(size=n).astype(dtype)
    state = np.stack([rng.normal(0, 0.05, n), rng.uniform(0.01, 0.1, n)]).astype(dtype)
    raw_grads = rng.normal(size=n).astype(dtype)
    weight_decay, weight_sum, t = 0.7, 2.5, 3
    got, got_state = kernel_step(
        params, raw_grads, state, t, solver, nesterov, weight_sum, l2=l2, weight_decay=weight_decay
    )
    decayed = ref.decoupled_weight_decay(params, n_coefs, HYPER["learning_rate"], weight_decay)
    expected, expected_state = ref.optimizer_step(
        decayed,
        raw_grads,
        state,
        t,
        LAYER_UNITS,
        weight_sum,
        solver,
        nesterov,
        HYPER["learning_rate"],
        HYPER["momentum"],
        HYPER["beta_1"],
        HYPER["beta_2"],
        HYPER["epsilon"],
        l2,
        0.0,
        0.0,
        None,
    )
    assert got.dtype == dtype
    assert_allclose(got, expected, rtol=rtol, atol=rtol * 1e-2)
    assert_allclose(got_state, expected_state, rtol=rtol, atol=rtol * 1e-2)
    # The intercepts took the plain step: without decay they land alike.
    plain, _ = kernel_step(params, raw_grads, state, t, solver, nesterov, weight_sum, l2=l2)
    assert np.array_equal(got[n_coefs:], plain[n_coefs:])
    assert not np.allclose(got[:n_coefs], plain[:n_coefs], rtol=1e-3)


def test_adam_weight_decay_first_step_closed_form():
    # From zero moments, Adam's first step is lr * g / (|g| + eps / sqrt(1 -
    # beta_2)) in size whatever the gradient's scale; the decay adds
    # lr * weight_decay * w, unscaled, to the weights only.
    rng = np.random.default_rng(1)
    n = ref.n_parameters(LAYER_UNITS)
    n_coefs = ref.n_coefficients(LAYER_UNITS)
    w0 = rng.normal(size=n)
    g = rng.normal(size=n)
    lr, wd, b2, eps = HYPER["learning_rate"], 0.4, HYPER["beta_2"], HYPER["epsilon"]
    got, _ = kernel_step(w0, g, np.zeros((2, n)), 1, "adam", False, 1.0, weight_decay=wd)
    decay = np.where(np.arange(n) < n_coefs, lr * wd * w0, 0.0)
    closed_form = w0 - decay - lr * np.sqrt(1 - b2) * g / (np.sqrt(1 - b2) * np.abs(g) + eps)
    assert_allclose(got, closed_form, rtol=1e-13, atol=1e-15)
    # L2 of the same gradient-scale strength enters the gradient, which Adam
    # normalises: its first step differs from the decoupled one.
    coupled, _ = kernel_step(w0, g, np.zeros((2, n)), 1, "adam", False, 1.0, l2=wd)
    assert np.max(np.abs(coupled - got)[:n_coefs]) > 1e-3


@pytest.mark.parametrize(
    "loss, n_outputs", [("binary_log", 1), ("binary_log", 2), ("log", 3)], ids=str
)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_smoothed_targets_loss_and_gradient(activation, loss, n_outputs):
    # The log losses and their delta p - y hold for soft targets: the kernel
    # loss matches the reference cross-entropy, and backward's gradient the
    # finite differences.
    layer_units = units_array(4, 3, n_outputs)
    X, Y, w, params, _ = draw_smooth_point(11, layer_units, activation, loss, n_outputs)
    Y = ref.smoothed_targets(Y, loss, 0.2)
    assert np.all((Y > 0) & (Y < 1))
    settings = make_settings(activation, loss, l2=0.1, layer_units=layer_units)
    value, grads, _ = kernel_loss_and_grad(X, Y, w, params, layer_units, settings, 0)
    expected = ref.total_loss(X, Y, w, params, layer_units, activation, loss, 0.1)
    assert_allclose(value, expected, rtol=1e-12)
    numeric = objective_differences(X, Y, w, params, layer_units, settings, 0)
    assert_gradient_close(grads, numeric)
