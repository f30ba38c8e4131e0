"""One epoch of ``skreg._kernels.run_epoch`` against the NumPy
reference: one and several minibatches, the reported loss,
zero-weight minibatches and compact targets.
"""

import _reference as ref
import numpy as np
import pytest
from _kernel_helpers import (
    ACTIVATIONS,
    OPTIMIZER_HYPERPARAMETERS,
    SOLVERS,
    assert_epoch_matches_reference,
    epoch_problem,
    full_batch_loss_and_gradient,
    kernel_epoch,
    make_settings,
)
from numpy.testing import assert_allclose, assert_array_equal

# --------------------------------------------------------------------------
# One epoch
# --------------------------------------------------------------------------


EPOCH_LOSS_CASES = [
    pytest.param("squared_error", 1, id="squared_error-1out"),
    pytest.param("binary_log", 2, id="binary_log-2out"),
    pytest.param("log", 3, id="log-3out"),
]


def epoch_settings(activation, loss, solver, nesterov, batch_size, layer_units):
    """The optimizers' settings of these tests, with L2."""
    return make_settings(
        activation,
        loss,
        solver,
        nesterov,
        batch_size,
        l2=0.1,
        layer_units=layer_units,
        **OPTIMIZER_HYPERPARAMETERS,
    )


@pytest.mark.parametrize("solver, nesterov", SOLVERS)
@pytest.mark.parametrize("loss, n_outputs", EPOCH_LOSS_CASES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_run_epoch_one_minibatch_equals_gradient_plus_one_step(
    activation, loss, n_outputs, solver, nesterov
):
    layer_units, X, Y, w, order, params, state = epoch_problem(50, loss, n_outputs)
    settings = epoch_settings(activation, loss, solver, nesterov, X.shape[0], layer_units)
    got, expected = assert_epoch_matches_reference(
        X, Y, w, order, params, state, 3, layer_units, settings
    )
    assert got[2] == expected[2] == 4  # the step count: 3 before, 1 here


@pytest.mark.parametrize("solver, nesterov", SOLVERS)
@pytest.mark.parametrize("loss, n_outputs", EPOCH_LOSS_CASES)
def test_run_epoch_several_minibatches(loss, n_outputs, solver, nesterov):
    # 7 rows in batches of 3: 3 + 3 + 1, the last one short.
    layer_units, X, Y, w, order, params, state = epoch_problem(51, loss, n_outputs)
    settings = epoch_settings("tanh", loss, solver, nesterov, 3, layer_units)
    got, expected = assert_epoch_matches_reference(
        X, Y, w, order, params, state, 0, layer_units, settings
    )
    assert got[2] == expected[2] == 3  # the step count: one per minibatch


@pytest.mark.parametrize("loss, n_outputs", EPOCH_LOSS_CASES)
def test_run_epoch_loss_sum_includes_l1_and_l2(loss, n_outputs):
    # One minibatch: the loss is taken before the step, so it is the reference
    # loss (data + l2 + l1 penalties over the batch weight) times the rows.
    layer_units, X, Y, w, order, params, state = epoch_problem(52, loss, n_outputs)
    settings = make_settings(
        "relu",
        loss,
        "sgd",
        True,
        X.shape[0],
        learning_rate=0.05,
        l2=0.1,
        l1=0.3,
        layer_units=layer_units,
    )
    _, _, _, loss_sum = kernel_epoch(X, Y, w, order, params, state, 0, layer_units, settings)
    expected = ref.total_loss(X, Y, w, params, layer_units, "relu", loss, 0.1, 0.3) * X.shape[0]
    assert_allclose(loss_sum, expected, rtol=1e-12)


def test_run_epoch_skips_zero_weight_minibatch():
    # A minibatch whose rows all have zero weight takes no step and adds no loss.
    layer_units, X, Y, w, order, params, state = epoch_problem(53, "squared_error", 1, n_rows=6)
    w[order[3:]] = 0.0
    settings = make_settings(
        "tanh",
        "squared_error",
        "adam",
        False,
        3,
        learning_rate=0.05,
        l2=0.1,
        layer_units=layer_units,
    )
    one = kernel_epoch(X, Y, w, order, params, state, 0, layer_units, settings)
    first_half = kernel_epoch(X, Y, w, order[:3], params, state, 0, layer_units, settings)
    assert one[2] == 1
    assert_array_equal(one[0], first_half[0])
    assert one[3] == first_half[3]


@pytest.mark.parametrize("solver, nesterov", SOLVERS)
def test_run_epoch_compact_targets_equal_full_ones(solver, nesterov):
    # Class indices in one column and an empty sample_weight (unit weights)
    # train exactly as one-hot rows and an array of ones.
    layer_units, X, Y, _, order, params, state = epoch_problem(54, "log", 3, n_rows=8)
    # Minibatches, and loss_and_gradient's chunks, of 3 rows.
    settings = epoch_settings("relu", "log", solver, nesterov, 3, layer_units)
    classes = np.argmax(Y, axis=1).astype(np.float64).reshape(-1, 1)
    full = kernel_epoch(X, Y, np.ones(8), order, params, state, 0, layer_units, settings)
    compact = kernel_epoch(X, classes, np.empty(0), order, params, state, 0, layer_units, settings)
    for a, b in zip(full, compact, strict=True):
        assert_array_equal(a, b)
    gradients = []
    for targets, weights in ((Y, np.ones(8)), (classes, np.empty(0))):
        grads = np.empty_like(params)
        losses = full_batch_loss_and_gradient(
            X, targets, weights, params, grads, layer_units, settings
        )
        gradients.append((losses, grads))
    assert gradients[0][0] == gradients[1][0]
    assert_array_equal(gradients[0][1], gradients[1][1])
