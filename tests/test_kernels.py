"""Tests of the Numba kernels in ``skreg._kernels`` against the plain NumPy
reference in ``tests/_reference.py``, finite differences and scikit-learn's
optimizer formulas.

``_reference`` is imported as a top-level module: ``tests/`` has no
``__init__.py``, so pytest's default ("prepend") import mode puts ``tests/``
on ``sys.path``.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import textwrap

import _reference as ref
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

import skreg
from skreg import _kernels as k

LOSS_CODES = {
    "squared_error": k.LOSS_SQUARED_ERROR,
    "binary_log": k.LOSS_BINARY_LOG,
    "log": k.LOSS_LOG,
    "poisson": k.LOSS_POISSON,
}
LOSS_NAMES = {code: name for name, code in LOSS_CODES.items()}
# (loss, n_outputs): single- and multi-output regression, binary and
# multi-label classification, multiclass.
LOSS_CASES = [
    pytest.param("squared_error", 1, id="squared_error-1out"),
    pytest.param("squared_error", 2, id="squared_error-2out"),
    pytest.param("binary_log", 1, id="binary_log-1out"),
    pytest.param("binary_log", 2, id="binary_log-2out"),
    pytest.param("log", 3, id="log-3out"),
]
ACTIVATIONS = list(ref.ACTIVATIONS)
EPS64 = float(np.finfo(np.float64).eps)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def units_array(*units):
    return np.array(units, dtype=np.int64)


def n_units(layer_units):
    return int(np.sum(layer_units[1:]))


def keep_mask_buffer(layer_units, n_rows, dropout):
    """The ``keep_mask`` the drivers pass to ``forward``: room for every hidden
    unit with dropout (filled with 7, which the kernels never write), else
    empty."""
    if not np.any(dropout > 0):
        return np.empty(0, dtype=np.uint8)
    return np.full(n_rows * int(np.sum(layer_units[1:-1])), 7, dtype=np.uint8)


def block(buffer, layer_units, layer, n_rows):
    """Layer ``layer``'s (n_rows, width) block of a flat per-layer buffer,
    computed from the layout documented in ``skreg._kernels``."""
    start = n_rows * int(np.sum(layer_units[1 : layer + 1]))
    width = int(layer_units[layer + 1])
    return buffer[start : start + n_rows * width].reshape(n_rows, width)


def make_config(activation, loss, solver="sgd", nesterov=False, batch_size=1):
    config = np.zeros(k.N_CONFIG, dtype=np.int64)
    config[k.CFG_ACTIVATION] = k.ACTIVATION_CODES[activation]
    config[k.CFG_LOSS] = LOSS_CODES[loss]
    config[k.CFG_SOLVER] = k.SOLVER_ADAM if solver == "adam" else k.SOLVER_SGD
    config[k.CFG_NESTEROV] = int(nesterov)
    config[k.CFG_BATCH_SIZE] = batch_size
    return config


def make_hyper(
    learning_rate=0.1,
    momentum=0.9,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-8,
    l2=0.0,
    l1=0.0,
    proba_eps=EPS64,
    group_l1=0.0,
):
    hyper = np.zeros(k.N_HYPER, dtype=np.float64)
    hyper[k.HYP_LEARNING_RATE] = learning_rate
    hyper[k.HYP_MOMENTUM] = momentum
    hyper[k.HYP_BETA_1] = beta_1
    hyper[k.HYP_BETA_2] = beta_2
    hyper[k.HYP_EPSILON] = epsilon
    hyper[k.HYP_L2] = l2
    hyper[k.HYP_L1] = l1
    hyper[k.HYP_PROBA_EPS] = proba_eps
    hyper[k.HYP_GROUP_L1] = group_l1
    return hyper


def make_targets(rng, loss, n_rows, n_outputs):
    if loss == "squared_error":
        return rng.normal(size=(n_rows, n_outputs))
    if loss == "binary_log":
        return rng.integers(0, 2, size=(n_rows, n_outputs)).astype(np.float64)
    if loss == "poisson":
        return rng.poisson(1.5, size=(n_rows, n_outputs)).astype(np.float64)
    return np.eye(n_outputs)[rng.integers(0, n_outputs, size=n_rows)]


def no_dropout(layer_units):
    return np.zeros(len(layer_units) - 2, dtype=np.float64)


def dense_input(X):
    """``X, X_csr, rows, dropped_values`` for a dense X, as the drivers hand a
    gathered batch to the layer kernels: X writable, the empty CSR arrays
    read-only, no sparse values after input dropout."""
    X = np.ascontiguousarray(X)
    return X, k.kernel_input(X)[1], np.arange(X.shape[0]), np.empty(0, dtype=X.dtype)


def seed_state(seed):
    return np.array([seed], dtype=np.uint64)


def kernel_loss_and_grad(
    X,
    Y,
    w,
    params,
    layer_units,
    config,
    dropout,
    seed,
    l2,
    l1,
    want_grad=True,
    proba_eps=EPS64,
    objective=False,
):
    """Loss composed from forward + data_loss_and_output_delta + weight_penalty,
    and backward's gradient. The dropout generator is reset to ``seed`` first,
    so every call draws the same mask. ``objective=True`` returns instead the
    function the gradient belongs to (see ``ref.objective_scale``)."""
    n_rows = X.shape[0]
    size = n_rows * n_units(layer_units)
    activations = np.full(size, np.nan)
    keep_mask = keep_mask_buffer(layer_units, n_rows, dropout)
    deltas = np.full(size, np.nan)
    output = k.forward(
        *dense_input(X),
        params,
        layer_units,
        config,
        dropout,
        seed_state(seed),
        activations,
        keep_mask,
    )
    output_delta = block(deltas, layer_units, len(layer_units) - 2, n_rows)
    data = k.data_loss_and_output_delta(output, Y, w, config[k.CFG_LOSS], proba_eps, output_delta)
    penalty = k.weight_penalty(params, ref.n_coefficients(layer_units), l2, l1)
    w_sum = float(w.sum())
    if objective:
        data *= ref.objective_scale(LOSS_NAMES[config[k.CFG_LOSS]], Y.shape[1])
    loss = (data + penalty) / w_sum
    grads = None
    if want_grad:
        grads = np.full(params.shape[0], np.nan)
        k.backward(
            *dense_input(X),
            params,
            grads,
            layer_units,
            config,
            dropout,
            activations,
            keep_mask,
            deltas,
        )
        k.finish_gradient(params, grads, ref.n_coefficients(layer_units), l2, w_sum)
    return loss, grads, keep_mask


def central_differences(f, params, h=1e-6):
    grad = np.empty_like(params)
    for i in range(params.shape[0]):
        shifted = params.copy()
        shifted[i] = params[i] + h
        f_plus = f(shifted)
        shifted[i] = params[i] - h
        f_minus = f(shifted)
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def assert_gradient_close(got, numeric, max_tol=1e-6, mean_tol=1e-7):
    """Max and mean absolute error, relative to the gradient's scale."""
    assert np.all(np.isfinite(got)), got
    scale = max(1.0, float(np.max(np.abs(numeric))))
    err = np.abs(got - numeric)
    worst = int(np.argmax(err))
    big = np.abs(numeric) > 1e-3 * scale
    ratio = np.median(got[big] / numeric[big]) if np.any(big) else np.nan
    detail = (
        f"max abs err {err.max():.3e} at index {worst} (got {got[worst]!r}, finite "
        f"differences {numeric[worst]!r}); mean abs err {err.mean():.3e}; gradient "
        f"scale {scale:.3e}; median ratio got/finite-differences {ratio:.6f}"
    )
    assert err.max() <= max_tol * scale, detail
    assert err.mean() <= mean_tol * scale, detail


def kernel_masks(X, params, layer_units, config, dropout, seed):
    """The dropout masks the kernels draw from ``seed``, as the reference takes
    them: 1 / (1 - p) where ``keep_mask`` says kept, 0 where dropped."""
    n_rows = X.shape[0]
    activations = np.empty(n_rows * n_units(layer_units))
    keep_mask = keep_mask_buffer(layer_units, n_rows, dropout)
    k.forward(
        *dense_input(X),
        params,
        layer_units,
        config,
        dropout,
        seed_state(seed),
        activations,
        keep_mask,
    )
    masks = []
    for layer, p in enumerate(dropout):
        if p == 0:
            masks.append(None)
        else:
            kept = block(keep_mask, layer_units, layer, n_rows)
            assert np.all((kept == 0) | (kept == 1))
            masks.append(np.where(kept == 1, 1.0 / (1.0 - p), 0.0))
    return masks


def draw_smooth_point(
    seed, layer_units, activation, loss, n_outputs, dropout=None, n_rows=7, avoid_zero_weights=False
):
    """Data, non-uniform sample weights and parameters at which the loss is
    smooth: every hidden pre-activation at least 1e-3 away from ReLU's kink,
    and (optionally) every weight at least 1e-3 away from |w|'s kink; the
    finite-difference step is 1e-6, far smaller than both margins."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, layer_units[0]))
    Y = make_targets(rng, loss, n_rows, n_outputs)
    w = rng.uniform(0.2, 2.0, size=n_rows)
    n_coefs = ref.n_coefficients(layer_units)
    config = make_config(activation, loss)
    for _ in range(200):
        params = rng.normal(0.0, 0.8, size=ref.n_parameters(layer_units))
        if avoid_zero_weights and np.min(np.abs(params[:n_coefs])) < 1e-3:
            continue
        masks = None
        if dropout is not None and np.any(dropout > 0):
            masks = kernel_masks(X, params, layer_units, config, dropout, seed)
        pre_activations, outputs = ref.forward(X, params, layer_units, activation, loss, masks)
        if min((np.min(np.abs(z)) for z in pre_activations[:-1]), default=np.inf) < 1e-3:
            continue
        # Keep logistic outputs unsaturated: log(1 - p) of a rounded p near 1
        # loses digits, which turns finite differences (not the gradient)
        # into noise.
        if loss == "binary_log" and not np.all((outputs[-1] > 0.01) & (outputs[-1] < 0.99)):
            continue
        return X, Y, w, params, masks
    raise RuntimeError("no smooth point found")


# --------------------------------------------------------------------------
# 1. The reference itself
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
# 2. Forward pass and prediction
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
        make_config(activation, loss),
        no_dropout(layer_units),
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
    output = k.predict_output(
        *k.kernel_input(X), params, layer_units, make_config(activation, loss), chunk_size
    )
    _, outputs = ref.forward(X, params, layer_units, activation, loss)
    assert output.dtype == dtype
    assert output.shape == (8, n_outputs)
    assert_allclose(output, outputs[-1], rtol=rtol, atol=atol)


# --------------------------------------------------------------------------
# 3. Loss, penalty and gradients
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
    config = make_config(activation, loss)
    dropout = no_dropout(layer_units)
    loss_value, grads, _ = kernel_loss_and_grad(
        X, Y, w, params, layer_units, config, dropout, 0, l2, 0.0
    )
    assert_allclose(
        loss_value, ref.total_loss(X, Y, w, params, layer_units, activation, loss, l2), rtol=1e-12
    )
    numeric = central_differences(
        lambda p: kernel_loss_and_grad(
            X, Y, w, p, layer_units, config, dropout, 0, l2, 0.0, want_grad=False, objective=True
        )[0],
        params,
    )
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
    config = make_config(activation, loss)
    l2 = 0.3
    loss_value, grads, _ = kernel_loss_and_grad(
        X, Y, w, params, layer_units, config, dropout, seed, l2, 0.0
    )
    assert_allclose(
        loss_value,
        ref.total_loss(X, Y, w, params, layer_units, activation, loss, l2, masks=masks),
        rtol=1e-12,
    )
    numeric = central_differences(
        lambda p: kernel_loss_and_grad(
            X, Y, w, p, layer_units, config, dropout, seed, l2, 0.0, want_grad=False, objective=True
        )[0],
        params,
    )
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
    config = make_config(activation, loss)
    dropout = no_dropout(layer_units)
    l2, l1 = 0.3, 0.25
    loss_value, grads, _ = kernel_loss_and_grad(
        X, Y, w, params, layer_units, config, dropout, 0, l2, l1
    )
    assert_allclose(
        loss_value,
        ref.total_loss(X, Y, w, params, layer_units, activation, loss, l2, l1),
        rtol=1e-12,
    )
    n_coefs = ref.n_coefficients(layer_units)
    expected = grads.copy()
    expected[:n_coefs] += l1 * np.sign(params[:n_coefs]) / w.sum()
    numeric = central_differences(
        lambda p: kernel_loss_and_grad(
            X, Y, w, p, layer_units, config, dropout, 0, l2, l1, want_grad=False, objective=True
        )[0],
        params,
    )
    assert_gradient_close(expected, numeric)


@pytest.mark.parametrize("l2", [0.0, 0.3], ids=lambda v: f"l2={v}")
@pytest.mark.parametrize("loss, n_outputs", LOSS_CASES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_loss_and_gradient_matches_finite_differences(activation, loss, n_outputs, l2):
    # The (loss, gradient) pair handed to L-BFGS must describe one function.
    layer_units = units_array(4, 3, 3, n_outputs)
    X, Y, w, params, _ = draw_smooth_point(40, layer_units, activation, loss, n_outputs)
    # Chunks of 3 rows: the gradient is accumulated over 3 chunks (3, 3, 1).
    config = make_config(activation, loss, batch_size=3)
    hyper = make_hyper(l2=l2)
    work = np.empty(k.workspace_size(layer_units, 3, layer_units[0]))
    scratch = np.empty_like(params)

    def objective(p):
        reported = k.loss_and_gradient(
            *k.kernel_input(X),
            k.read_only_view(Y),
            k.read_only_view(w),
            p,
            np.empty_like(p),
            scratch,
            work,
            layer_units,
            config,
            hyper,
        )
        data = ref.total_loss(X, Y, w, p, layer_units, activation, loss)
        return reported + (ref.objective_scale(loss, n_outputs) - 1) * data

    grads = np.full_like(params, np.nan)
    loss_value = k.loss_and_gradient(
        *k.kernel_input(X),
        k.read_only_view(Y),
        k.read_only_view(w),
        params,
        grads,
        scratch,
        work,
        layer_units,
        config,
        hyper,
    )
    assert_allclose(
        loss_value, ref.total_loss(X, Y, w, params, layer_units, activation, loss, l2), rtol=1e-12
    )
    assert_gradient_close(grads, central_differences(objective, params))


# --------------------------------------------------------------------------
# 4. Optimizer steps
# --------------------------------------------------------------------------


def chain_units(n_params, n_coefs):
    """A ``layer_units`` with ``n_coefs`` weights among ``n_params``
    parameters: a first layer of ``n_coefs - n_intercepts + 1`` inputs, then
    one unit per layer."""
    n_intercepts = n_params - n_coefs
    assert 1 <= n_intercepts <= n_coefs
    return units_array(n_coefs - n_intercepts + 1, *[1] * n_intercepts)


def sgd_step(params, grads, velocity, n_coefs, learning_rate, momentum, nesterov, l1_penalty):
    """One ``optimizer_step`` of SGD on an already finished gradient (weight
    sum 1, no L2); ``params`` and ``velocity`` are updated in place."""
    state = np.stack([velocity, np.zeros_like(velocity)])
    config = make_config("relu", "squared_error", "sgd", nesterov)
    hyper = make_hyper(learning_rate=learning_rate, momentum=momentum, l1=l1_penalty)
    k.optimizer_step(
        params,
        grads,
        state,
        chain_units(params.shape[0], n_coefs),
        1.0,
        np.zeros(1, dtype=np.int64),
        config,
        hyper,
    )
    velocity[:] = state[0]


def adam_step(params, grads, first, second, n_coefs, t, hyper, l1_penalty):
    """Adam's ``t``-th ``optimizer_step`` on an already finished gradient;
    ``params`` and both moments are updated in place."""
    state = np.stack([first, second])
    hyper = hyper.copy()
    hyper[k.HYP_L1] = l1_penalty
    adam_steps = np.array([t - 1], dtype=np.int64)
    k.optimizer_step(
        params,
        grads,
        state,
        chain_units(params.shape[0], n_coefs),
        1.0,
        adam_steps,
        make_config("relu", "squared_error", "adam"),
        hyper,
    )
    assert adam_steps[0] == t
    first[:], second[:] = state


def test_reference_optimizers_match_sklearn_classes():
    # Guards the transcriptions in _reference against scikit-learn itself.
    from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

    rng = np.random.default_rng(4)
    p0 = rng.normal(size=6)
    grads = [rng.normal(size=6) for _ in range(4)]
    for nesterov in (False, True):
        theirs = [p0.copy()]
        opt = SGDOptimizer(theirs, learning_rate_init=0.05, momentum=0.8, nesterov=nesterov)
        mine, velocity = p0.copy(), np.zeros(6)
        for g in grads:
            opt.update_params(theirs, [g])
            mine, velocity = ref.sgd_update(mine, g, velocity, 0.05, 0.8, nesterov)
        assert_array_equal(mine, theirs[0])
    theirs = [p0.copy()]
    opt = AdamOptimizer(theirs, learning_rate_init=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-7)
    mine, ms, vs = p0.copy(), np.zeros(6), np.zeros(6)
    for t, g in enumerate(grads, start=1):
        opt.update_params(theirs, [g])
        mine, ms, vs = ref.adam_update(mine, g, ms, vs, t, 0.01, 0.8, 0.99, 1e-7)
    assert_array_equal(mine, theirs[0])


@pytest.mark.parametrize(
    "dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-5)], ids=["float64", "float32"]
)
@pytest.mark.parametrize("nesterov", [False, True], ids=["classic", "nesterov"])
def test_sgd_step_matches_sklearn_formula(nesterov, dtype, rtol):
    rng = np.random.default_rng(5)
    n = 11
    params = rng.normal(size=n).astype(dtype)
    velocity = np.zeros(n, dtype=dtype)
    expected, expected_velocity = params.astype(np.float64), np.zeros(n)
    for step in range(5):
        grads = rng.normal(size=n).astype(dtype)
        sgd_step(params, grads, velocity, 6, 0.05, 0.9, nesterov, 0.0)
        expected, expected_velocity = ref.sgd_update(
            expected, grads.astype(np.float64), expected_velocity, 0.05, 0.9, nesterov
        )
        assert_allclose(params, expected, rtol=rtol, atol=rtol * 1e-2, err_msg=f"step {step}")
        assert_allclose(
            velocity, expected_velocity, rtol=rtol, atol=rtol * 1e-2, err_msg=f"step {step}"
        )


@pytest.mark.parametrize(
    "dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-5)], ids=["float64", "float32"]
)
def test_adam_step_matches_sklearn_formula(dtype, rtol):
    rng = np.random.default_rng(6)
    n = 11
    hyper = make_hyper(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-7)
    params = rng.normal(size=n).astype(dtype)
    first, second = np.zeros(n, dtype=dtype), np.zeros(n, dtype=dtype)
    expected, ms, vs = params.astype(np.float64), np.zeros(n), np.zeros(n)
    for t in range(1, 6):
        grads = rng.normal(size=n).astype(dtype)
        adam_step(params, grads, first, second, 6, t, hyper, 0.0)
        expected, ms, vs = ref.adam_update(
            expected, grads.astype(np.float64), ms, vs, t, 0.01, 0.8, 0.99, 1e-7
        )
        assert_allclose(params, expected, rtol=rtol, atol=rtol * 1e-2, err_msg=f"step {t}")
        assert_allclose(first, ms, rtol=rtol, atol=rtol * 1e-2, err_msg=f"step {t}")
        assert_allclose(second, vs, rtol=rtol, atol=rtol * 1e-2, err_msg=f"step {t}")


@pytest.mark.parametrize("nesterov", [False, True], ids=["classic", "nesterov"])
def test_sgd_step_l1_matches_documented_rule(nesterov):
    # sgd_step documents L1 as: the pseudo-gradient joins the data gradient in
    # the momentum step; a step across zero is clipped to exactly 0.0 and
    # resets that weight's velocity; intercepts are never penalised.
    rng = np.random.default_rng(7)
    n, n_coefs = 60, 45
    learning_rate, momentum, l1_penalty = 0.5, 0.9, 0.25
    params = rng.uniform(-0.4, 0.4, size=n)
    params[rng.choice(n_coefs, 8, replace=False)] = 0.0  # weights already at 0
    params[n_coefs : n_coefs + 3] = 0.0  # intercepts at 0
    velocity = rng.normal(0.0, 0.05, size=n)
    grads = rng.normal(0.0, 0.4, size=n)
    expected, expected_velocity = ref.sgd_l1_update(
        params, grads, velocity, n_coefs, learning_rate, momentum, nesterov, l1_penalty
    )
    plain, plain_velocity = ref.sgd_update(
        params, grads, velocity, learning_rate, momentum, nesterov
    )
    new_params, new_velocity = params.copy(), velocity.copy()
    sgd_step(
        new_params, grads, new_velocity, n_coefs, learning_rate, momentum, nesterov, l1_penalty
    )

    is_weight = np.arange(n) < n_coefs
    zeroed = is_weight & (expected == 0.0)
    assert 5 <= zeroed.sum() <= n_coefs - 5, "weak test data"
    assert np.all(new_params[zeroed] == 0.0) and np.all(new_velocity[zeroed] == 0.0)
    assert_allclose(new_params, expected, rtol=1e-13, atol=1e-15)
    assert_allclose(new_velocity, expected_velocity, rtol=1e-13, atol=1e-15)
    # Intercepts: scikit-learn's plain step, even across zero.
    assert_allclose(new_params[~is_weight], plain[~is_weight], rtol=1e-14, atol=1e-16)
    assert_allclose(new_velocity[~is_weight], plain_velocity[~is_weight], rtol=1e-14, atol=1e-16)


def test_sgd_step_l1_without_momentum_is_soft_threshold_clipped_at_zero():
    # With momentum 0 the documented rule is proximal gradient descent's soft
    # threshold, clipped at zero: the data step w - lr * g, then shrink by
    # lr * l1_penalty toward 0; exactly 0.0 (velocity 0) if that reaches or
    # crosses 0, and also if the data step alone already crossed 0.
    rng = np.random.default_rng(70)
    n, n_coefs = 200, 150
    learning_rate, l1_penalty = 0.5, 0.25
    threshold = learning_rate * l1_penalty
    params = rng.choice([-1.0, 1.0], size=n) * rng.uniform(0.05, 0.5, size=n)
    grads = rng.normal(0.0, 0.4, size=n)
    # Two weights whose data step lands exactly on +-threshold: boundary -> 0.
    params[[0, 1]], grads[[0, 1]] = [threshold, -threshold], 0.0
    velocity = rng.normal(size=n)  # ignored: momentum 0
    new_params, new_velocity = params.copy(), velocity.copy()
    sgd_step(new_params, grads, new_velocity, n_coefs, learning_rate, 0.0, False, l1_penalty)

    data_step = params - learning_rate * grads
    is_weight = np.arange(n) < n_coefs
    same_side = np.sign(data_step) == np.sign(params)
    inside = is_weight & same_side & (np.abs(data_step) <= threshold)
    shrunk = is_weight & same_side & (np.abs(data_step) > threshold)
    crossed = is_weight & ~same_side
    assert inside[[0, 1]].all() and min(inside.sum(), shrunk.sum(), crossed.sum()) >= 5, (
        "weak test data"
    )
    assert np.all(new_params[inside] == 0.0) and np.all(new_velocity[inside] == 0.0)
    assert np.all(new_params[crossed] == 0.0) and np.all(new_velocity[crossed] == 0.0)
    assert_allclose(
        new_params[shrunk],
        data_step[shrunk] - np.sign(params[shrunk]) * threshold,
        rtol=1e-14,
        atol=1e-16,
    )
    assert_allclose(new_params[~is_weight], data_step[~is_weight], rtol=1e-14, atol=1e-16)


def test_sgd_step_l1_keeps_zero_weight_at_zero_with_momentum():
    # |g| < penalty at w == 0: the pseudo-gradient is 0, so the weight stays
    # exactly 0.0 over many steps, even if it starts with a velocity.
    rng = np.random.default_rng(71)
    n, n_coefs, l1_penalty = 6, 4, 0.5
    params = np.array([0.0, 0.0, 0.7, -0.7, 0.0, 0.0])
    velocity = np.array([0.2, -0.2, 0.0, 0.0, 0.0, 0.0])
    for step in range(50):
        grads = rng.uniform(-0.45, 0.45, size=n)
        sgd_step(params, grads, velocity, n_coefs, 0.05, 0.9, step % 2 == 0, l1_penalty)
        assert params[0] == 0.0 and params[1] == 0.0, f"step {step}: {params[:2]}"
        assert velocity[0] == 0.0 and velocity[1] == 0.0
    assert params[4] != 0.0 and params[5] != 0.0  # intercepts moved


@pytest.mark.parametrize(
    "w, g, penalty, expected",
    [
        pytest.param(0.5, 0.1, 0.3, 0.1 + 0.3, id="positive-weight"),
        pytest.param(-0.5, 0.1, 0.3, 0.1 - 0.3, id="negative-weight"),
        pytest.param(0.0, 0.1, 0.3, 0.0, id="zero-weight-small-gradient"),
        pytest.param(0.0, -0.3, 0.3, 0.0, id="zero-weight-gradient-equals-penalty"),
        pytest.param(0.0, -0.5, 0.3, -0.5 + 0.3, id="zero-weight-pulled-positive"),
        pytest.param(0.0, 0.5, 0.3, 0.5 - 0.3, id="zero-weight-pulled-negative"),
    ],
)
def test_l1_pseudo_gradient(w, g, penalty, expected):
    got = k.l1_pseudo_gradient(w, g, penalty)
    assert got == expected
    if expected == 0.0:
        assert got == 0.0


def test_adam_step_l1_uses_pseudo_gradient_away_from_zero():
    # No weight crosses zero here: the step is Adam on the pseudo-gradient
    # (weights) and on the plain gradient (intercepts).
    rng = np.random.default_rng(8)
    n, n_coefs, l1_penalty = 10, 7, 0.2
    hyper = make_hyper(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
    params = rng.choice([-1.0, 1.0], size=n) * rng.uniform(0.5, 1.0, size=n)
    grads = rng.normal(size=n)
    first, second = np.zeros(n), np.zeros(n)
    pseudo = grads.copy()
    pseudo[:n_coefs] += l1_penalty * np.sign(params[:n_coefs])
    expected, ms, vs = ref.adam_update(
        params, pseudo, np.zeros(n), np.zeros(n), 1, 1e-3, 0.9, 0.999, 1e-8
    )
    adam_step(params, grads, first, second, n_coefs, 1, hyper, l1_penalty)
    assert_allclose(params, expected, rtol=1e-13)
    assert_allclose(first, ms, rtol=1e-13)
    assert_allclose(second, vs, rtol=1e-13)


def test_adam_step_l1_keeps_zero_weight_at_zero():
    # |g| < penalty at w == 0: no direction lowers g*w + penalty*|w|, so the
    # weight stays exactly 0.0 over many steps, even with momentum from
    # earlier, larger gradients in its first moment.
    rng = np.random.default_rng(9)
    n, n_coefs, l1_penalty = 6, 4, 0.5
    hyper = make_hyper(learning_rate=0.01)
    params = np.array([0.0, 0.0, 0.7, -0.7, 0.0, 0.0])
    first = np.array([0.3, -0.3, 0.0, 0.0, 0.0, 0.0])
    second = np.full(n, 0.01)
    for step in range(1, 51):
        grads = rng.uniform(-0.45, 0.45, size=n)
        adam_step(params, grads, first, second, n_coefs, step, hyper, l1_penalty)
        assert params[0] == 0.0 and params[1] == 0.0, f"step {step}: {params[:2]}"
    # Intercepts, not subject to L1, moved.
    assert params[4] != 0.0 and params[5] != 0.0


def test_adam_step_l1_crossing_zero_lands_on_zero():
    n_coefs, l1_penalty = 3, 0.1
    hyper = make_hyper(learning_rate=0.1)
    # A positive and a negative weight whose plain step overshoots zero, an
    # intercept whose step crosses zero, and a zero weight whose
    # pseudo-gradient points positive (-2 + 0.1 < 0) but whose old first
    # moment pushes it negative: it must not leave against the pseudo-gradient.
    params = np.array([1e-4, -1e-4, 0.0, 1e-4, 0.5])
    grads = np.array([5.0, -5.0, -0.2, 5.0, 0.0])
    first = np.array([0.0, 0.0, 10.0, 0.0, 0.0])
    second = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
    plain, _, _ = ref.adam_update(params, grads, first, second, 1, 0.1, 0.9, 0.999, 1e-8)
    assert plain[0] < 0 and plain[1] > 0 and plain[3] < 0, "test data must overshoot"
    adam_step(params, grads, first, second, n_coefs, 1, hyper, l1_penalty)
    assert params[0] == 0.0
    assert params[1] == 0.0
    assert params[2] == 0.0
    assert_allclose(params[3], plain[3], rtol=1e-13)  # intercept: crosses freely
    assert params[3] < 0


# --------------------------------------------------------------------------
# 4b. The group-lasso step
# --------------------------------------------------------------------------

GROUP_UNITS = (6, 4, 2)  # six input features, each a row of 4 first-layer weights


def test_reference_group_step_is_the_minimiser():
    """The reference's proximal step satisfies the optimality conditions and
    beats random perturbations, on both of its branches."""
    rng = np.random.default_rng(80)
    branches = {"zero": 0, "shrunk": 0}
    for _ in range(40):
        row = rng.normal(size=5)
        metric = rng.uniform(0.1, 10.0, size=5)
        penalty = rng.uniform(0.5, 30.0)
        u = ref.group_proximal_step(row, metric, penalty)

        def objective(v, metric=metric, row=row, penalty=penalty):
            return 0.5 * np.sum(metric * (v - row) ** 2) + penalty * np.linalg.norm(v)

        if np.all(u == 0):
            branches["zero"] += 1
            # 0 is optimal iff the gradient of the smooth part lies in the
            # penalty's subdifferential ball.
            assert np.linalg.norm(metric * row) <= penalty
        else:
            branches["shrunk"] += 1
            residual = metric * (u - row) + penalty * u / np.linalg.norm(u)
            assert_allclose(residual, 0.0, atol=1e-9 * penalty)
        for _ in range(20):
            assert objective(u) <= objective(u + 1e-4 * rng.normal(size=5)) + 1e-14
    assert min(branches.values()) >= 5, branches


def group_problem(seed, dtype, zero_rows=(1, 4), small_rows=(2, 5)):
    """Parameters of a GROUP_UNITS network with some rows already at zero and
    some close to it, and an optimizer state as mid-training."""
    layer_units = units_array(*GROUP_UNITS)
    rng = np.random.default_rng(seed)
    n = ref.n_parameters(layer_units)
    params = rng.normal(0.0, 0.3, size=n)
    rows = ref.first_layer_rows(layer_units)
    for j in zero_rows:
        params[rows[j]] = 0.0
    for j in small_rows:
        params[rows[j]] *= 0.02
    state = np.stack([rng.normal(0.0, 0.02, n), rng.uniform(0.01, 0.1, n)])
    return layer_units, rows, params.astype(dtype), state.astype(dtype), rng


def group_step(params, grads, state, layer_units, solver, nesterov, adam_t, hyper):
    """One optimizer_step on a finished gradient (weight sum 1); returns the
    new ``(params, state)``."""
    params, state = params.copy(), state.copy()
    adam_steps = np.array([adam_t - 1], dtype=np.int64)
    config = make_config("relu", "squared_error", solver, nesterov)
    k.optimizer_step(
        params, grads.astype(params.dtype), state, layer_units, 1.0, adam_steps, config, hyper
    )
    return params, state


GROUP_SOLVERS = [
    pytest.param("sgd", False, id="sgd"),
    pytest.param("sgd", True, id="sgd-nesterov"),
    pytest.param("adam", False, id="adam"),
]


@pytest.mark.parametrize(
    "dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)], ids=["float64", "float32"]
)
@pytest.mark.parametrize("solver, nesterov", GROUP_SOLVERS)
def test_group_step_matches_reference(solver, nesterov, dtype, rtol):
    """Five steps: rows that start at zero, rows the step sets to zero, rows
    it shrinks, and L2 and the intercepts untouched by the group lasso."""
    layer_units, rows, params, state, rng = group_problem(81, dtype)
    penalty = 0.6 if solver == "sgd" else 0.35
    hyper = make_hyper(
        learning_rate=0.05, momentum=0.8, beta_1=0.85, beta_2=0.99, epsilon=1e-7, group_l1=penalty
    )
    expected = params.astype(np.float64)
    velocity, ms, vs = (s.astype(np.float64) for s in (state[0], state[0], state[1]))
    seen = {"set to zero": 0, "shrunk": 0}
    for t in range(1, 6):
        grads = rng.normal(0.0, 0.5, size=params.shape[0])
        before = [np.any(params[r] != 0) for r in rows]
        params, state = group_step(params, grads, state, layer_units, solver, nesterov, t, hyper)
        if solver == "adam":
            expected, ms, vs = ref.adam_group_update(
                expected,
                grads.astype(dtype).astype(float),
                ms,
                vs,
                t,
                layer_units,
                0.05,
                0.85,
                0.99,
                1e-7,
                penalty,
            )
            expected_state = np.stack([ms, vs])
        else:
            expected, velocity = ref.sgd_group_update(
                expected,
                grads.astype(dtype).astype(float),
                velocity,
                layer_units,
                0.05,
                0.8,
                nesterov,
                penalty,
            )
            expected_state = np.stack([velocity, state[1].astype(float)])
        for r, was_nonzero in zip(rows, before, strict=True):
            if np.all(expected[r] == 0):
                assert np.all(params[r] == 0), f"step {t}"
                seen["set to zero"] += was_nonzero
            else:
                seen["shrunk"] += 1
        assert_allclose(params, expected, rtol=rtol, atol=rtol * 1e-2, err_msg=f"step {t}")
        assert_allclose(state, expected_state, rtol=rtol, atol=rtol * 1e-2, err_msg=f"step {t}")
    assert min(seen.values()) >= 2, f"weak test data: {seen}"


@pytest.mark.parametrize("nesterov", [False, True], ids=["classic", "nesterov"])
def test_group_step_comes_after_the_l1_step(nesterov):
    """L1's clipped step first (zeroing single weights), then the group
    step on what it left."""
    layer_units, rows, params, state, rng = group_problem(82, np.float64)
    grads = rng.normal(0.0, 0.5, size=params.shape[0])
    hyper = make_hyper(learning_rate=0.05, momentum=0.8, l1=0.3, group_l1=0.2)
    got, got_state = group_step(params, grads, state, layer_units, "sgd", nesterov, 1, hyper)
    n_coefs = ref.n_coefficients(layer_units)
    expected, velocity = ref.sgd_l1_update(
        params, grads, state[0], n_coefs, 0.05, 0.8, nesterov, 0.3
    )
    metric = np.full(layer_units[1], (1 - 0.8) / 0.05)
    for r in rows:
        expected[r] = ref.group_proximal_step(expected[r], metric, 0.2)
        if np.all(expected[r] == 0) and np.any(params[r] != 0):
            velocity[r] = 0.0
    l1_alone = ref.sgd_l1_update(params, grads, state[0], n_coefs, 0.05, 0.8, nesterov, 0.3)[0]
    single_zeros = [np.sum(l1_alone[r] == 0) for r in rows if np.any(l1_alone[r] != 0)]
    assert max(single_zeros) >= 1, "weak test data: L1 zeroed no single weight"
    assert not np.array_equal(expected, l1_alone), "weak test data: the group step did nothing"
    assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    assert_allclose(got_state[0], velocity, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("solver, nesterov", GROUP_SOLVERS)
@pytest.mark.parametrize(
    "ratio, stays",
    [(0.9, True), (1.1, False)],
    ids=["gradient-below-penalty", "gradient-above-penalty"],
)
def test_zero_row_stays_zero_while_its_gradient_is_below_the_penalty(
    solver, nesterov, ratio, stays
):
    """A zero row under a steady data gradient g: at zero for 400 steps if
    ||g|| = 0.9 x the penalty; off zero within them if ||g|| = 1.1 x."""
    layer_units = units_array(3, 4, 1)
    rows = ref.first_layer_rows(layer_units)
    rng = np.random.default_rng(83)
    params = rng.normal(0.0, 0.5, size=ref.n_parameters(layer_units))
    params[rows[0]] = 0.0
    penalty = 0.5
    direction = rng.normal(size=4)
    grads = np.zeros_like(params)
    grads[rows[0]] = ratio * penalty * direction / np.linalg.norm(direction)
    hyper = make_hyper(learning_rate=0.01, momentum=0.9, group_l1=penalty)
    state = np.zeros((2, params.shape[0]))
    left_at = None
    for t in range(1, 401):
        params, state = group_step(params, grads, state, layer_units, solver, nesterov, t, hyper)
        if left_at is None and np.any(params[rows[0]] != 0):
            left_at = t
    assert (left_at is None) == stays, left_at


def test_group_penalty_matches_reference():
    layer_units, _, params, _, _ = group_problem(84, np.float64)
    assert_allclose(
        k.group_penalty(params, layer_units, 0.7),
        ref.group_penalty(params, layer_units, 0.7),
        rtol=1e-13,
    )


def tiny_step_and_finite_differences(X, Y, w, order, params, layer_units, hyper, seed=0):
    """One full-batch SGD step (tanh units, binary log loss, the tiny
    learning rate in ``hyper``) from ``params``: its displacement over the
    learning rate, the central differences of run_epoch's reported loss, and
    that loss, each computed with the generator seeded afresh (so with the
    same dropout masks)."""
    batch_size = X.shape[0]
    state = np.zeros((2, params.shape[0]))
    rate = hyper[k.HYP_LEARNING_RATE]

    def epoch(p):
        return kernel_epoch(
            X,
            Y,
            w,
            order,
            p,
            state,
            0,
            layer_units,
            "tanh",
            "binary_log",
            "sgd",
            False,
            batch_size,
            hyper,
            seed=seed,
        )

    stepped, _, _, loss_sum = epoch(params)
    numeric = central_differences(lambda p: epoch(p)[3] / batch_size, params)
    return (params - stepped) / rate, numeric, loss_sum / batch_size


def test_tiny_group_lasso_step_follows_finite_differences_of_the_penalised_objective():
    """Away from zero rows, a proximal step of size lr is a gradient step up
    to O(lr**2): the displacement of one full-batch SGD step (momentum 0, lr
    1e-7) over lr equals the central differences of run_epoch's own loss,
    data + L2 + group lasso."""
    layer_units, X, Y, w, order, params, _ = epoch_problem(85, "binary_log", 1)
    rows = ref.first_layer_rows(layer_units)
    assert min(np.linalg.norm(params[r]) for r in rows) > 0.3, "a row near the kink"
    hyper = make_hyper(learning_rate=1e-7, momentum=0.0, l2=0.3, group_l1=0.8)
    direction, numeric, _ = tiny_step_and_finite_differences(
        X, Y, w, order, params, layer_units, hyper
    )
    assert_gradient_close(direction, numeric, max_tol=1e-5, mean_tol=1e-6)


@pytest.mark.parametrize("solver, nesterov", GROUP_SOLVERS)
def test_run_epoch_with_group_lasso_matches_reference(solver, nesterov):
    """Three minibatches: loss (group term included) and steps."""
    layer_units, X, Y, w, order, params, state = epoch_problem(86, "log", 3, n_rows=9)
    params[ref.first_layer_rows(layer_units)[1]] = 0.0
    hyper = make_hyper(
        learning_rate=0.05,
        momentum=0.8,
        beta_1=0.85,
        beta_2=0.99,
        epsilon=1e-7,
        l2=0.1,
        group_l1=0.9,
    )
    got = kernel_epoch(
        X, Y, w, order, params, state, 2, layer_units, "relu", "log", solver, nesterov, 3, hyper
    )
    expected = reference_epoch(
        X, Y, w, order, params, state, 2, layer_units, "relu", "log", solver, nesterov, 3, hyper
    )
    zero_rows = sum(np.all(got[0][r] == 0) for r in ref.first_layer_rows(layer_units))
    assert zero_rows >= 1
    assert_allclose(got[0], expected[0], rtol=1e-11, atol=1e-13, err_msg="params")
    assert_allclose(got[1], expected[1], rtol=1e-11, atol=1e-13, err_msg="optimizer state")
    assert_allclose(got[3], expected[3], rtol=1e-12)


# --------------------------------------------------------------------------
# 4c. The max-norm constraint
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-6)], ids=["float64", "float32"]
)
def test_bound_unit_norms_matches_reference(dtype, rtol):
    """Columns over, exactly at and under the bound, in every layer (the
    output layer's too); intercepts are never touched."""
    layer_units = units_array(4, 5, 3, 2)
    rng = np.random.default_rng(87)
    params = rng.normal(0.0, 1.0, size=ref.n_parameters(layer_units))
    coefs, intercepts = ref.unpack(params, layer_units)
    max_norm = 1.2
    coefs[0][:, 0] *= max_norm / np.linalg.norm(coefs[0][:, 0])  # exactly at the bound
    coefs[1][:, 1] *= 0.5 / np.linalg.norm(coefs[1][:, 1])  # well under it
    intercepts[0][:] = 10.0  # far over any bound: not constrained
    params = ref.pack(coefs, intercepts).astype(dtype)
    norms = [np.linalg.norm(W, axis=0) for W in ref.unpack(params, layer_units)[0]]
    assert sum(int(np.sum(n > max_norm * (1 + 1e-6))) for n in norms) >= 5, "weak test data"
    assert sum(int(np.sum(n < max_norm)) for n in norms) >= 2, "weak test data"
    got = params.copy()
    k.bound_unit_norms(got, layer_units, max_norm)
    assert_allclose(
        got, ref.max_norm_projection(params, layer_units, max_norm), rtol=rtol, atol=rtol * 1e-2
    )
    for W in ref.unpack(got, layer_units)[0]:
        assert np.linalg.norm(W, axis=0).max() <= max_norm * (1 + 4 * np.finfo(dtype).eps)
    n_coefs = ref.n_coefficients(layer_units)
    assert_array_equal(got[n_coefs:], params[n_coefs:])


@pytest.mark.parametrize("solver, nesterov", GROUP_SOLVERS)
def test_max_norm_comes_after_the_step_and_the_group_step(solver, nesterov):
    layer_units, _, params, state, rng = group_problem(88, np.float64)
    grads = rng.normal(0.0, 0.5, size=params.shape[0])
    hyper = make_hyper(
        learning_rate=0.05, momentum=0.8, beta_1=0.85, beta_2=0.99, epsilon=1e-7, group_l1=0.3
    )
    unbounded, unbounded_state = group_step(
        params, grads, state, layer_units, solver, nesterov, 1, hyper
    )
    hyper[k.HYP_MAX_NORM] = 0.4
    bounded, bounded_state = group_step(
        params, grads, state, layer_units, solver, nesterov, 1, hyper
    )
    expected = ref.max_norm_projection(unbounded, layer_units, 0.4)
    assert not np.allclose(expected, unbounded), "weak test data: nothing projected"
    assert_allclose(bounded, expected, rtol=1e-13, atol=1e-15)
    # The projection moves the weights only: the optimizer's state is the step's.
    assert_array_equal(bounded_state, unbounded_state)


# --------------------------------------------------------------------------
# 4d. Input dropout
# --------------------------------------------------------------------------


def test_uniform_at_is_the_kth_sequential_draw():
    state = seed_state(2**63 + 12345)
    sequential = [k.next_uniform(state) for _ in range(20)]
    direct = [k.uniform_at(np.uint64(2**63 + 12345), i) for i in range(1, 21)]
    assert sequential == direct == ref.splitmix64_uniforms(2**63 + 12345, 20)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_drop_inputs_rate_within_binomial_tolerance(rate):
    """Ones in, so the output shows the mask: 0 or exactly 1 / (1 - rate);
    the dropped share within 4 standard deviations of the rate; the mask the
    reference computes from the same uniforms; the generator advanced past
    every draw."""
    n_rows, n_features = 300, 40
    X_batch = np.ones((n_rows, n_features))
    state = seed_state(89)
    no_csr = k.kernel_input(X_batch)[1]
    k.drop_inputs(X_batch, no_csr, np.arange(n_rows), rate, state, np.empty(0))
    kept_value = 1.0 / (1.0 - rate)
    assert set(np.unique(X_batch)) <= {0.0, kept_value}
    dropped = np.mean(X_batch == 0.0)
    n = n_rows * n_features
    assert abs(dropped - rate) <= 4 * np.sqrt(rate * (1 - rate) / n), dropped
    expected = ref.input_dropout_mask(ref.splitmix64_uniforms(89, n), n_rows, n_features, rate)
    assert_array_equal(X_batch, expected)
    after = seed_state(89)
    for _ in range(n):
        k.next_uniform(after)
    assert state[0] == after[0]


def test_drop_inputs_on_csr_rows_equals_the_dense_mask():
    """The same rows, sparse and dense: the dropped stored values are the
    dense mask's entries at the stored positions, and the generator ends in
    the same state."""
    rng = np.random.default_rng(90)
    dense = np.where(rng.uniform(size=(12, 9)) < 0.3, rng.normal(size=(12, 9)), 0.0)
    X = sp.csr_matrix(dense)
    rows = np.array([3, 0, 11, 3, 7], dtype=np.int64)
    X_csr = k.kernel_input(X)[1]
    dropped_values = np.full(X[rows].nnz, np.nan)
    sparse_state, dense_state = seed_state(91), seed_state(91)
    # As run_epoch hands it over: a sparse minibatch gathers no dense rows.
    no_rows = np.empty((0, X.shape[1]))
    k.drop_inputs(no_rows, X_csr, rows, 0.4, sparse_state, dropped_values)
    X_batch = dense[rows].copy()
    k.drop_inputs(X_batch, k.kernel_input(X_batch)[1], rows, 0.4, dense_state, np.empty(0))
    assert_array_equal(dropped_values, X_batch[dense[rows] != 0])
    assert sparse_state[0] == dense_state[0]
    assert 0 < np.sum(dropped_values == 0) < dropped_values.size, "weak test data"


def test_input_dropout_gradient_with_a_fixed_mask_matches_finite_differences():
    """The mask depends on the generator alone, so resetting its seed fixes
    it: a tiny full-batch SGD step (momentum 0) over lr equals the central
    differences of run_epoch's loss at that mask, and the reference gradient
    on the masked inputs."""
    layer_units, X, Y, w, order, params, _ = epoch_problem(92, "binary_log", 1)
    hyper = make_hyper(learning_rate=1e-7, momentum=0.0, l2=0.2)
    hyper[k.HYP_INPUT_DROPOUT] = 0.4
    direction, numeric, loss = tiny_step_and_finite_differences(
        X, Y, w, order, params, layer_units, hyper, seed=93
    )
    assert_gradient_close(direction, numeric, max_tol=1e-5, mean_tol=1e-6)
    mask = ref.input_dropout_mask(ref.splitmix64_uniforms(93, X.size), *X.shape, 0.4)
    assert 0 < np.sum(mask == 0) < mask.size, "weak test data"
    # run_epoch's rows come in ``order``; the mask follows the minibatch's rows.
    masked = X[order] * mask
    expected = ref.gradient(
        masked, Y[order], w[order], params, layer_units, "tanh", "binary_log", l2=0.2
    )
    assert_gradient_close(numeric, expected, max_tol=1e-6, mean_tol=1e-7)
    assert_allclose(
        loss,
        ref.total_loss(
            masked, Y[order], w[order], params, layer_units, "tanh", "binary_log", l2=0.2
        ),
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    "solver, nesterov",
    [pytest.param("sgd", True, id="sgd-nesterov"), pytest.param("adam", False, id="adam")],
)
def test_run_epoch_input_dropout_sparse_equals_dense(solver, nesterov):
    """Input and hidden dropout together, three minibatches: sparse and dense
    input train alike, and the generator ends in the same state."""
    rng = np.random.default_rng(94)
    layer_units = units_array(6, 5, 3)
    X = np.where(rng.uniform(size=(9, 6)) < 0.5, rng.normal(size=(9, 6)), 0.0)
    Y = np.eye(3)[rng.integers(0, 3, size=9)]
    w = rng.uniform(0.5, 2.0, size=9)
    order = rng.permutation(9).astype(np.int64)
    params = rng.normal(0.0, 0.5, size=ref.n_parameters(layer_units))
    state = np.zeros((2, params.shape[0]))
    hyper = make_hyper(learning_rate=0.05, momentum=0.8)
    hyper[k.HYP_INPUT_DROPOUT] = 0.3
    dropout = np.array([0.25])
    results = {}
    for name, data in (("dense", X), ("sparse", sp.csr_matrix(X))):
        rng_state = seed_state(95)
        p, s, _, loss = kernel_epoch(
            data,
            Y,
            w,
            order,
            params,
            state,
            0,
            layer_units,
            "relu",
            "log",
            solver,
            nesterov,
            3,
            hyper,
            dropout,
            rng_state=rng_state,
        )
        results[name] = (p, s, rng_state[0], loss)
    assert_allclose(results["sparse"][0], results["dense"][0], rtol=1e-12, atol=1e-14)
    assert_allclose(results["sparse"][1], results["dense"][1], rtol=1e-12, atol=1e-14)
    assert results["sparse"][2] == results["dense"][2]
    assert_allclose(results["sparse"][3], results["dense"][3], rtol=1e-13)


# --------------------------------------------------------------------------
# 5. One epoch
# --------------------------------------------------------------------------


def reference_epoch(
    X,
    Y,
    w,
    order,
    params,
    state,
    adam_t,
    layer_units,
    activation,
    loss,
    solver,
    nesterov,
    batch_size,
    hyper,
):
    """Minibatches in ``order``: reference loss and gradient, then the
    scikit-learn optimizer formula, and the group-lasso step if
    ``hyper[HYP_GROUP_L1] > 0``. L1 must be 0 (it only enters the loss)."""
    params = params.astype(np.float64)
    velocity, ms, vs = (s.astype(np.float64) for s in (state[0], state[0], state[1]))
    l2, l1, group_l1 = hyper[k.HYP_L2], hyper[k.HYP_L1], hyper[k.HYP_GROUP_L1]
    rate, momentum = hyper[k.HYP_LEARNING_RATE], hyper[k.HYP_MOMENTUM]
    loss_sum = 0.0
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        w_sum = w[rows].sum()
        if w_sum <= 0:
            continue
        loss_sum += (
            ref.total_loss(X[rows], Y[rows], w[rows], params, layer_units, activation, loss, l2, l1)
            + ref.group_penalty(params, layer_units, group_l1) / w_sum
        ) * len(rows)
        g = ref.gradient(X[rows], Y[rows], w[rows], params, layer_units, activation, loss, l2)
        if solver == "adam":
            adam_t += 1
            params, ms, vs = ref.adam_group_update(
                params,
                g,
                ms,
                vs,
                adam_t,
                layer_units,
                rate,
                hyper[k.HYP_BETA_1],
                hyper[k.HYP_BETA_2],
                hyper[k.HYP_EPSILON],
                group_l1 / w_sum,
            )
        else:
            params, velocity = ref.sgd_group_update(
                params, g, velocity, layer_units, rate, momentum, nesterov, group_l1 / w_sum
            )
    if solver == "adam":
        return params, np.stack([ms, vs]), adam_t, loss_sum
    return params, np.stack([velocity, state[1]]), adam_t, loss_sum


def kernel_epoch(
    X,
    Y,
    w,
    order,
    params,
    state,
    adam_t,
    layer_units,
    activation,
    loss,
    solver,
    nesterov,
    batch_size,
    hyper,
    dropout=None,
    seed=0,
    rng_state=None,
):
    """One run_epoch on dense or CSR ``X``, with the workspace the driver
    gives it; ``rng_state``, if given, is the generator (advanced in place),
    else one seeded with ``seed``."""
    params, state = params.copy(), state.copy()
    adam_steps = np.array([adam_t], dtype=np.int64)
    config = make_config(activation, loss, solver, nesterov, batch_size)
    if dropout is None:
        dropout = no_dropout(layer_units)
    work = np.full(
        k.input_workspace_size(X, layer_units, batch_size, hyper[k.HYP_INPUT_DROPOUT]),
        np.nan,
        dtype=params.dtype,
    )
    grads = np.empty_like(params)
    loss_sum = k.run_epoch(
        *k.kernel_input(X),
        k.read_only_view(Y),
        k.read_only_view(w),
        order,
        params,
        grads,
        state,
        work,
        layer_units,
        config,
        hyper,
        dropout,
        adam_steps,
        seed_state(seed) if rng_state is None else rng_state,
    )
    return params, state, int(adam_steps[0]), loss_sum


SOLVERS = [
    pytest.param("sgd", False, id="sgd"),
    pytest.param("sgd", True, id="sgd-nesterov"),
    pytest.param("adam", False, id="adam"),
]
EPOCH_LOSS_CASES = [
    pytest.param("squared_error", 1, id="squared_error-1out"),
    pytest.param("binary_log", 2, id="binary_log-2out"),
    pytest.param("log", 3, id="log-3out"),
]


def epoch_problem(seed, loss, n_outputs, n_rows=7):
    rng = np.random.default_rng(seed)
    layer_units = units_array(3, 4, n_outputs)
    X = rng.normal(size=(n_rows, 3))
    Y = make_targets(rng, loss, n_rows, n_outputs)
    w = rng.uniform(0.2, 2.0, size=n_rows)
    order = rng.permutation(n_rows).astype(np.int64)
    params = rng.normal(0.0, 0.7, size=ref.n_parameters(layer_units))
    # Non-zero optimizer state, as mid-training: velocity / moments.
    state = np.stack(
        [rng.normal(0.0, 0.05, params.shape[0]), rng.uniform(0.01, 0.1, params.shape[0])]
    )
    return layer_units, X, Y, w, order, params, state


@pytest.mark.parametrize("solver, nesterov", SOLVERS)
@pytest.mark.parametrize("loss, n_outputs", EPOCH_LOSS_CASES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_run_epoch_one_minibatch_equals_gradient_plus_one_step(
    activation, loss, n_outputs, solver, nesterov
):
    layer_units, X, Y, w, order, params, state = epoch_problem(50, loss, n_outputs)
    hyper = make_hyper(
        learning_rate=0.05, momentum=0.8, beta_1=0.85, beta_2=0.99, epsilon=1e-7, l2=0.1
    )
    batch_size = X.shape[0]
    got = kernel_epoch(
        X,
        Y,
        w,
        order,
        params,
        state,
        3,
        layer_units,
        activation,
        loss,
        solver,
        nesterov,
        batch_size,
        hyper,
    )
    expected = reference_epoch(
        X,
        Y,
        w,
        order,
        params,
        state,
        3,
        layer_units,
        activation,
        loss,
        solver,
        nesterov,
        batch_size,
        hyper,
    )
    assert_allclose(got[0], expected[0], rtol=1e-11, atol=1e-13, err_msg="params")
    assert_allclose(got[1], expected[1], rtol=1e-11, atol=1e-13, err_msg="optimizer state")
    assert got[2] == expected[2] == (4 if solver == "adam" else 3)
    # Documented return: sum over minibatches of batch loss x batch rows.
    assert_allclose(got[3], expected[3], rtol=1e-12)


@pytest.mark.parametrize("solver, nesterov", SOLVERS)
@pytest.mark.parametrize("loss, n_outputs", EPOCH_LOSS_CASES)
def test_run_epoch_several_minibatches(loss, n_outputs, solver, nesterov):
    # 7 rows in batches of 3: 3 + 3 + 1, the last one short.
    layer_units, X, Y, w, order, params, state = epoch_problem(51, loss, n_outputs)
    hyper = make_hyper(
        learning_rate=0.05, momentum=0.8, beta_1=0.85, beta_2=0.99, epsilon=1e-7, l2=0.1
    )
    got = kernel_epoch(
        X, Y, w, order, params, state, 0, layer_units, "tanh", loss, solver, nesterov, 3, hyper
    )
    expected = reference_epoch(
        X, Y, w, order, params, state, 0, layer_units, "tanh", loss, solver, nesterov, 3, hyper
    )
    assert_allclose(got[0], expected[0], rtol=1e-11, atol=1e-13, err_msg="params")
    assert_allclose(got[1], expected[1], rtol=1e-11, atol=1e-13, err_msg="optimizer state")
    assert got[2] == expected[2] == (3 if solver == "adam" else 0)
    assert_allclose(got[3], expected[3], rtol=1e-12)


@pytest.mark.parametrize("loss, n_outputs", EPOCH_LOSS_CASES)
def test_run_epoch_loss_sum_includes_l1_and_l2(loss, n_outputs):
    # One minibatch: the loss is taken before the step, so it is the reference
    # loss (data + l2 + l1 penalties over the batch weight) times the rows.
    layer_units, X, Y, w, order, params, state = epoch_problem(52, loss, n_outputs)
    hyper = make_hyper(learning_rate=0.05, l2=0.1, l1=0.3)
    _, _, _, loss_sum = kernel_epoch(
        X, Y, w, order, params, state, 0, layer_units, "relu", loss, "sgd", True, X.shape[0], hyper
    )
    expected = ref.total_loss(X, Y, w, params, layer_units, "relu", loss, 0.1, 0.3) * X.shape[0]
    assert_allclose(loss_sum, expected, rtol=1e-12)


def test_run_epoch_skips_zero_weight_minibatch():
    # A minibatch whose rows all have zero weight takes no step and adds no loss.
    layer_units, X, Y, w, order, params, state = epoch_problem(53, "squared_error", 1, n_rows=6)
    w[order[3:]] = 0.0
    hyper = make_hyper(learning_rate=0.05, l2=0.1)
    one = kernel_epoch(
        X,
        Y,
        w,
        order,
        params,
        state,
        0,
        layer_units,
        "tanh",
        "squared_error",
        "adam",
        False,
        3,
        hyper,
    )
    first_half = kernel_epoch(
        X,
        Y,
        w,
        order[:3],
        params,
        state,
        0,
        layer_units,
        "tanh",
        "squared_error",
        "adam",
        False,
        3,
        hyper,
    )
    assert one[2] == 1
    assert_array_equal(one[0], first_half[0])
    assert one[3] == first_half[3]


@pytest.mark.parametrize("solver, nesterov", SOLVERS)
def test_run_epoch_compact_targets_equal_full_ones(solver, nesterov):
    # Class indices in one column and an empty sample_weight (unit weights)
    # train exactly as one-hot rows and an array of ones.
    layer_units, X, Y, _, order, params, state = epoch_problem(54, "log", 3, n_rows=8)
    hyper = make_hyper(
        learning_rate=0.05, momentum=0.8, beta_1=0.85, beta_2=0.99, epsilon=1e-7, l2=0.1
    )
    classes = np.argmax(Y, axis=1).astype(np.float64).reshape(-1, 1)
    full = kernel_epoch(
        X,
        Y,
        np.ones(8),
        order,
        params,
        state,
        0,
        layer_units,
        "relu",
        "log",
        solver,
        nesterov,
        3,
        hyper,
    )
    compact = kernel_epoch(
        X,
        classes,
        np.empty(0),
        order,
        params,
        state,
        0,
        layer_units,
        "relu",
        "log",
        solver,
        nesterov,
        3,
        hyper,
    )
    for a, b in zip(full, compact, strict=True):
        assert_array_equal(a, b)
    config = make_config("relu", "log", batch_size=3)
    work = np.empty(k.workspace_size(layer_units, 3, layer_units[0]))
    gradients = []
    for targets, weights in ((Y, np.ones(8)), (classes, np.empty(0))):
        grads = np.empty_like(params)
        loss = k.loss_and_gradient(
            *k.kernel_input(X),
            k.read_only_view(targets),
            k.read_only_view(weights),
            params,
            grads,
            np.empty_like(params),
            work,
            layer_units,
            config,
            hyper,
        )
        gradients.append((loss, grads))
    assert gradients[0][0] == gradients[1][0]
    assert_array_equal(gradients[0][1], gradients[1][1])


# --------------------------------------------------------------------------
# 6. Dropout
# --------------------------------------------------------------------------


def dropout_run(seed, dropout, training=True, n_rows=100, activation="tanh"):
    """A forward pass with a keep_mask buffer (``training``) or an empty one."""
    layer_units = units_array(3, 1000, 50, 1)
    rng = np.random.default_rng(60)
    X = rng.normal(size=(n_rows, 3))
    params = rng.normal(0.0, 0.5, size=ref.n_parameters(layer_units))
    activations = np.full(n_rows * n_units(layer_units), np.nan)
    keep_mask = (
        np.full(n_rows * 1050, 7, dtype=np.uint8) if training else np.empty(0, dtype=np.uint8)
    )
    rng_state = seed_state(seed)
    k.forward(
        *dense_input(X),
        params,
        layer_units,
        make_config(activation, "squared_error"),
        dropout,
        rng_state,
        activations,
        keep_mask,
    )
    return layer_units, X, params, activations, keep_mask, rng_state


def backward_slope(layer_units, activations, keep_mask, dropout, layer, n_rows, activation="tanh"):
    """What backward multiplies a hidden layer's delta by."""
    slope = np.ones((n_rows, layer_units[layer + 1]))
    mask = (
        block(keep_mask, layer_units, layer, n_rows)
        if keep_mask.size
        else np.empty((0, 0), np.uint8)
    )
    k.multiply_by_slope(
        slope,
        block(activations, layer_units, layer, n_rows),
        mask,
        k.ACTIVATION_CODES[activation],
        dropout[layer] if keep_mask.size else 0.0,
    )
    return slope


def test_dropout_drops_about_half_and_scales_kept_units_by_two():
    n_rows = 100
    dropout = np.array([0.5, 0.0])
    layer_units, X, params, dropped, keep_mask, _ = dropout_run(61, dropout)
    _, _, _, plain, _, _ = dropout_run(61, np.array([0.0, 0.0]))
    hidden = block(dropped, layer_units, 0, n_rows)
    reference = block(plain, layer_units, 0, n_rows)
    assert np.all(reference != 0.0)  # so that a 0 can only mean "dropped"
    is_dropped = hidden == 0.0
    # 100 000 Bernoulli(0.5) draws: standard deviation of the fraction 0.0016,
    # so +-0.01 is over 6 standard deviations.
    assert abs(is_dropped.mean() - 0.5) < 0.01, is_dropped.mean()
    # Inverted dropout: kept units exactly doubled, dropped ones exactly 0,
    # and the mask records which.
    assert_array_equal(hidden[~is_dropped], 2.0 * reference[~is_dropped])
    assert_array_equal(block(keep_mask, layer_units, 0, n_rows), (~is_dropped).astype(np.uint8))
    # backward's slope carries the same mask and scale.
    slope = backward_slope(layer_units, dropped, keep_mask, dropout, 0, n_rows)
    assert np.all(slope[is_dropped] == 0.0)
    assert_allclose(slope[~is_dropped], 2.0 * (1.0 - reference[~is_dropped] ** 2), rtol=1e-14)
    # The second hidden layer has rate 0: nothing dropped, no scaling, mask
    # not written.
    second = block(dropped, layer_units, 1, n_rows)
    assert np.all(second != 0.0)
    assert np.all(block(keep_mask, layer_units, 1, n_rows) == 7)
    assert_array_equal(
        backward_slope(layer_units, dropped, keep_mask, dropout, 1, n_rows), 1.0 - second * second
    )


def test_dropout_mask_is_reproducible_from_seed():
    dropout = np.array([0.5, 0.3])
    _, _, _, a1, d1, state1 = dropout_run(62, dropout)
    _, _, _, a2, d2, state2 = dropout_run(62, dropout)
    _, _, _, a3, _, _ = dropout_run(63, dropout)
    assert_array_equal(a1, a2)
    assert_array_equal(d1, d2)
    assert state1[0] == state2[0] != 62, "the generator advances in place"
    assert not np.array_equal(a1, a3), "another seed must give another mask"


def test_dropout_off_in_prediction_and_rng_untouched():
    # An empty keep_mask is prediction: no dropout, generator untouched.
    layer_units, X, params, acts, _, state = dropout_run(64, np.array([0.5, 0.5]), training=False)
    assert state[0] == 64
    _, outputs = ref.forward(X, params, layer_units, "tanh", "squared_error")
    for layer in range(3):
        assert_allclose(
            block(acts, layer_units, layer, X.shape[0]), outputs[layer], rtol=1e-12, atol=1e-14
        )
    # Training with all rates 0 does not draw either.
    _, _, _, _, _, state = dropout_run(65, np.array([0.0, 0.0]))
    assert state[0] == 65


def test_predict_output_never_drops():
    layer_units, X, params, acts, _, _ = dropout_run(66, np.array([0.5, 0.5]))
    output = k.predict_output(
        *k.kernel_input(X), params, layer_units, make_config("tanh", "squared_error"), 7
    )
    _, outputs = ref.forward(X, params, layer_units, "tanh", "squared_error")
    assert_allclose(output, outputs[-1], rtol=1e-12, atol=1e-14)
    # ...while the training pass on the same rows did drop.
    assert not np.allclose(block(acts, layer_units, 2, X.shape[0]), outputs[-1])


# --------------------------------------------------------------------------
# 7. next_uniform
# --------------------------------------------------------------------------


def test_next_uniform_is_splitmix64():
    for seed in (0, 42, 2**64 - 1):
        state = seed_state(seed)
        got = [k.next_uniform(state) for _ in range(200)]
        assert got == ref.splitmix64_uniforms(seed, 200)
        assert int(state[0]) == (seed + 200 * 0x9E3779B97F4A7C15) % 2**64


def test_next_uniform_range_mean_and_determinism():
    n = 100_000
    state = seed_state(2024)
    draws = np.array([k.next_uniform(state) for _ in range(n)])
    assert draws.min() >= 0.0 and draws.max() < 1.0
    # Standard error of the mean of U(0, 1) over 1e5 draws: 0.0009.
    assert abs(draws.mean() - 0.5) < 0.005
    assert abs(draws.var() - 1.0 / 12.0) < 0.002
    again = seed_state(2024)
    assert_array_equal(draws[:1000], [k.next_uniform(again) for _ in range(1000)])


# --------------------------------------------------------------------------
# 8. Pure-Python versions agree with the compiled ones
# --------------------------------------------------------------------------


@pytest.mark.parametrize("loss, n_outputs", LOSS_CASES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_py_func_matches_compiled_forward(activation, loss, n_outputs):
    layer_units = units_array(5, 4, 3, n_outputs)
    rng = np.random.default_rng(80)
    X = rng.normal(size=(6, 5))
    params = rng.normal(0.0, 0.8, size=ref.n_parameters(layer_units))
    config = make_config(activation, loss)
    dropout = np.array([0.3, 0.5])
    size = 6 * n_units(layer_units)
    results = []
    for fn in (k.forward, getattr(k.forward, "py_func", k.forward)):
        acts, ders, state = (
            np.full(size, np.nan),
            keep_mask_buffer(layer_units, 6, dropout),
            seed_state(81),
        )
        fn(*dense_input(X), params, layer_units, config, dropout, state, acts, ders)
        results.append((acts, ders, state))
    (a1, d1, s1), (a2, d2, s2) = results
    assert_allclose(a2, a1, rtol=1e-13, atol=1e-15)
    assert_array_equal(d2, d1)
    assert s1[0] == s2[0]


@pytest.mark.parametrize("loss, n_outputs", LOSS_CASES)
def test_py_func_matches_compiled_data_loss(loss, n_outputs):
    rng = np.random.default_rng(82)
    Y = make_targets(rng, loss, 5, n_outputs)
    output = rng.uniform(0.05, 0.95, size=(5, n_outputs))
    w = rng.uniform(0.2, 2.0, size=5)
    fn = k.data_loss_and_output_delta
    d1, d2 = np.empty_like(output), np.empty_like(output)
    l1 = fn(output, Y, w, LOSS_CODES[loss], EPS64, d1)
    l2 = getattr(fn, "py_func", fn)(output, Y, w, LOSS_CODES[loss], EPS64, d2)
    assert_allclose(l2, l1, rtol=1e-14)
    assert_allclose(d2, d1, rtol=1e-14, atol=1e-16)


def test_bounds_checks_catch_an_out_of_range_row_when_asked():
    """.ci/run reruns the kernel tests with NUMBA_BOUNDSCHECK=1: there a row
    index past the input raises IndexError instead of reading garbage."""
    code = textwrap.dedent(
        """
        import numpy as np
        from skreg import _kernels as k
        X = np.ones((3, 2))
        try:
            k.gather_input_rows(X, np.array([0, 3]), np.empty((2, 2)))
        except IndexError:
            print("IndexError")
        """
    )
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=cache)
        printed = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout
    assert printed.strip() == "IndexError"


# --------------------------------------------------------------------------
# 9. Compiled-signature budget
# --------------------------------------------------------------------------
# Counted in a fresh interpreter with an empty, private Numba cache: a kernel
# loaded from the on-disk cache does not compile (so does not register) the
# kernels it calls, so with a shared, warm cache the count would depend on
# what earlier runs left there. Compiling from scratch is the slow part, so
# the probe starts when this module's tests start and runs alongside them
# (NUMBA_OPT=0 roughly halves the compile time; types, hence signatures, do
# not depend on the optimisation level).

_SIGNATURE_SCRIPT = textwrap.dedent(
    """
    import json, warnings
    import numpy as np
    import numba
    import scipy.sparse
    import skreg
    from skreg import _kernels as k

    warnings.simplefilter("ignore")

    def signatures():
        return {name: [str(sig) for sig in obj.signatures] for name, obj in sorted(vars(k).items())
                if hasattr(obj, "signatures")}

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y_binary = (X[:, 0] > 0).astype(int)
    y_multiclass = rng.integers(0, 3, size=40)
    y_multilabel = rng.integers(0, 2, size=(40, 2))
    y_reg = X @ [1.0, -2.0, 0.5]
    y_reg2 = np.column_stack([y_reg, X[:, 1]])

    def fit_all(X):
        for solver in ("sgd", "adam", "lbfgs"):
            extra = [{}]
            if solver != "lbfgs":
                extra.append(dict(l1=1e-3, group_l1=1e-3, dropout=0.2, input_dropout=0.1,
                                  max_norm=2.0, early_stopping=True, scoring="loss"))
            for kw in extra:
                common = dict(hidden_layer_sizes=(5,), max_iter=3, solver=solver,
                              random_state=0, **kw)
                for y in (y_binary, y_multiclass, y_multilabel):
                    clf = skreg.MLPClassifier(**common).fit(X, y)
                    clf.predict(X)
                    clf.predict_proba(X)
                for y in (y_reg, y_reg2):
                    skreg.MLPRegressor(**common).fit(X, y).predict(X)

    fit_all(X)
    fit_all(X.astype(np.float32))
    # Sparse and Fortran-ordered input share the dense signatures too.
    fit_all(scipy.sparse.csr_matrix(X))
    fit_all(np.asfortranarray(X))
    writable = signatures()
    X_readonly = X.copy()
    X_readonly.setflags(write=False)
    fit_all(X_readonly)
    readonly = signatures()
    print(json.dumps({"writable": writable, "readonly": readonly,
                      "jit_disabled": bool(numba.config.DISABLE_JIT)}))
    """
)
_SIGNATURE_TEST = "test_signature_budget_two_per_kernel"
_probe = {}


def _start_signature_probe():
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="skreg-signatures-"))
    repo = pathlib.Path(skreg.__file__).resolve().parents[1]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    env["NUMBA_CACHE_DIR"] = str(workdir / "numba_cache")
    env["NUMBA_OPT"] = "0"
    env["SKREG_PREBUILT_KERNELS"] = "0"  # compile, so that callees register
    stdout = open(workdir / "stdout", "w")
    stderr = open(workdir / "stderr", "w")
    proc = subprocess.Popen(
        [sys.executable, "-c", _SIGNATURE_SCRIPT], cwd=repo, env=env, stdout=stdout, stderr=stderr
    )
    stdout.close()
    stderr.close()
    return proc, workdir


@pytest.fixture(scope="module", autouse=True)
def _signature_probe(request):
    """Start the probe at once if the signature test is selected."""
    if any(item.name == _SIGNATURE_TEST for item in request.session.items):
        _probe["proc"], _probe["workdir"] = _start_signature_probe()
    yield
    proc = _probe.pop("proc", None)
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()
    workdir = _probe.pop("workdir", None)
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)


def test_signature_budget_two_per_kernel(record_property):
    # float64 and float32 fits (sgd, adam, lbfgs; with and without l1,
    # group_l1, dropout, input dropout, max_norm and early stopping on the
    # validation loss; every
    # target type; dense, sparse and
    # Fortran-ordered X) must compile each dispatcher for at most 2
    # signatures, one per float dtype.
    proc, workdir = _probe["proc"], _probe["workdir"]
    returncode = proc.wait(timeout=1200)
    assert returncode == 0, (workdir / "stderr").read_text()
    result = json.loads((workdir / "stdout").read_text().strip().splitlines()[-1])
    writable, readonly = result["writable"], result["readonly"]
    if not result["jit_disabled"]:
        assert "forward" in writable and "run_epoch" in writable, writable
    counts = {name: len(sigs) for name, sigs in writable.items()}
    readonly_counts = {name: len(sigs) for name, sigs in readonly.items()}
    record_property("signatures_writable", counts)
    record_property("signatures_after_readonly", readonly_counts)
    print("signatures after float64 + float32 fits:", counts)
    over = {name: sigs for name, sigs in writable.items() if len(sigs) > 2}
    assert not over, "kernels with more than 2 compiled signatures:\n" + "\n".join(
        f"{name}: " + "\n    ".join(sigs) for name, sigs in over.items()
    )
    # A read-only X (a joblib memmap) reuses the writable input's signatures.
    assert readonly_counts == counts, {
        name: readonly[name] for name in readonly if readonly_counts[name] != counts.get(name)
    }
