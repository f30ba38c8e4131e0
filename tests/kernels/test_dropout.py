"""Input and hidden-unit dropout in the kernels, and the generator
they draw from (SplitMix64): masks, rates, reproducibility, sparse
against dense input, and gradients at a fixed mask.
"""

import _reference as ref
import numpy as np
import pytest
import scipy.sparse as sp
from _kernel_helpers import (
    assert_gradient_close,
    block,
    dense_input,
    epoch_problem,
    kernel_epoch,
    make_settings,
    n_units,
    seed_state,
    tiny_step_and_finite_differences,
    units_array,
)
from numpy.testing import assert_allclose, assert_array_equal

from skreg import _kernels as k
from skreg._layout import kernel_input

# --------------------------------------------------------------------------
# Input dropout
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
    no_csr = kernel_input(X_batch)[1]
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
    X_csr = kernel_input(X)[1]
    dropped_values = np.full(X[rows].nnz, np.nan)
    sparse_state, dense_state = seed_state(91), seed_state(91)
    # As run_epoch hands it over: a sparse minibatch gathers no dense rows.
    no_rows = np.empty((0, X.shape[1]))
    k.drop_inputs(no_rows, X_csr, rows, 0.4, sparse_state, dropped_values)
    X_batch = dense[rows].copy()
    k.drop_inputs(X_batch, kernel_input(X_batch)[1], rows, 0.4, dense_state, np.empty(0))
    assert_array_equal(dropped_values, X_batch[dense[rows] != 0])
    assert sparse_state[0] == dense_state[0]
    assert 0 < np.sum(dropped_values == 0) < dropped_values.size, "weak test data"


def test_input_dropout_gradient_with_a_fixed_mask_matches_finite_differences():
    """The mask depends on the generator alone, so resetting its seed fixes
    it: a tiny full-batch SGD step (momentum 0) over lr equals the central
    differences of run_epoch's loss at that mask, and the reference gradient
    on the masked inputs."""
    layer_units, X, Y, w, order, params, _ = epoch_problem(92, "binary_log", 1)
    direction, numeric, loss = tiny_step_and_finite_differences(
        X,
        Y,
        w,
        order,
        params,
        layer_units,
        seed=93,
        learning_rate=1e-7,
        momentum=0.0,
        l2=0.2,
        input_dropout=0.4,
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
    settings = make_settings(
        "relu",
        "log",
        solver,
        nesterov,
        3,
        learning_rate=0.05,
        momentum=0.8,
        input_dropout=0.3,
        dropout=[0.25],
    )
    results = {}
    for name, data in (("dense", X), ("sparse", sp.csr_matrix(X))):
        rng_state = seed_state(95)
        p, s, _, loss = kernel_epoch(
            data, Y, w, order, params, state, 0, layer_units, settings, rng_state=rng_state
        )
        results[name] = (p, s, rng_state[0], loss)
    assert_allclose(results["sparse"][0], results["dense"][0], rtol=1e-12, atol=1e-14)
    assert_allclose(results["sparse"][1], results["dense"][1], rtol=1e-12, atol=1e-14)
    assert results["sparse"][2] == results["dense"][2]
    assert_allclose(results["sparse"][3], results["dense"][3], rtol=1e-13)


# --------------------------------------------------------------------------
# Hidden-unit dropout
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
        make_settings(activation, "squared_error", dropout=dropout),
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
    settings = make_settings("tanh", "squared_error", layer_units=layer_units)
    output = k.predict_output(*kernel_input(X), params, layer_units, settings, 7)
    _, outputs = ref.forward(X, params, layer_units, "tanh", "squared_error")
    assert_allclose(output, outputs[-1], rtol=1e-12, atol=1e-14)
    # ...while the training pass on the same rows did drop.
    assert not np.allclose(block(acts, layer_units, 2, X.shape[0]), outputs[-1])


# --------------------------------------------------------------------------
# The generator: next_uniform
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
