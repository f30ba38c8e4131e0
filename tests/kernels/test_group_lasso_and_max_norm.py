"""The group lasso's proximal step and the max-norm constraint of
``skreg._kernels.optimizer_step``, alone and within ``run_epoch``,
against the NumPy reference and finite differences.
"""

import _reference as ref
import numpy as np
import pytest
from _kernel_helpers import (
    OPTIMIZER_HYPERPARAMETERS,
    SOLVERS,
    assert_epoch_matches_reference,
    assert_gradient_close,
    epoch_problem,
    make_settings,
    tiny_step_and_finite_differences,
    units_array,
)
from numpy.testing import assert_allclose, assert_array_equal

from skreg import _kernels as k

# --------------------------------------------------------------------------
# The group-lasso step
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


def group_step(params, grads, state, layer_units, t, settings):
    """One optimizer_step (the fit's ``t``-th) on a finished gradient
    (weight sum 1); returns the new ``(params, state)``."""
    params, state = params.copy(), state.copy()
    optimizer_steps = np.array([t - 1], dtype=np.int64)
    k.optimizer_step(
        params, grads.astype(params.dtype), state, layer_units, 1.0, optimizer_steps, settings
    )
    return params, state


@pytest.mark.parametrize(
    "dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)], ids=["float64", "float32"]
)
@pytest.mark.parametrize("solver, nesterov", SOLVERS)
def test_group_step_matches_reference(solver, nesterov, dtype, rtol):
    """Five steps: rows that start at zero, rows the step sets to zero, rows
    it shrinks, and L2 and the intercepts untouched by the group lasso."""
    layer_units, rows, params, state, rng = group_problem(81, dtype)
    penalty = 0.6 if solver == "sgd" else 0.45
    settings = make_settings(
        solver=solver,
        nesterov=nesterov,
        group_l1=penalty,
        layer_units=layer_units,
        **OPTIMIZER_HYPERPARAMETERS,
    )
    expected = params.astype(np.float64)
    velocity, ms, vs = (s.astype(np.float64) for s in (state[0], state[0], state[1]))
    seen = {"set to zero": 0, "shrunk": 0}
    for t in range(1, 6):
        grads = rng.normal(0.0, 0.5, size=params.shape[0])
        before = [np.any(params[r] != 0) for r in rows]
        params, state = group_step(params, grads, state, layer_units, t, settings)
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
                t,
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
    settings = make_settings(
        nesterov=nesterov,
        learning_rate=0.05,
        momentum=0.8,
        l1=0.3,
        group_l1=0.2,
        layer_units=layer_units,
    )
    got, got_state = group_step(params, grads, state, layer_units, 1, settings)
    n_coefs = ref.n_coefficients(layer_units)
    expected, velocity = ref.sgd_l1_update(
        params, grads, state[0], n_coefs, 0.05, 0.8, nesterov, 0.3
    )
    warmup = 1 - 0.8 ** (2 if nesterov else 1)  # the first step's
    metric = np.full(layer_units[1], (1 - 0.8) / (0.05 * warmup))
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


@pytest.mark.parametrize("solver, nesterov", SOLVERS)
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
    settings = make_settings(
        solver=solver,
        nesterov=nesterov,
        learning_rate=0.01,
        momentum=0.9,
        group_l1=penalty,
        layer_units=layer_units,
    )
    state = np.zeros((2, params.shape[0]))
    left_at = None
    for t in range(1, 401):
        params, state = group_step(params, grads, state, layer_units, t, settings)
        if left_at is None and np.any(params[rows[0]] != 0):
            left_at = t
    assert (left_at is None) == stays, left_at


@pytest.mark.parametrize("solver, nesterov", SOLVERS)
def test_group_shrink_is_the_same_while_the_optimizer_warms_up(solver, nesterov):
    """Under a constant gradient, the share of the data step that the group
    step takes back is the same at the fit's first step as at its 1,000th
    (within 1%): the penalty is weighed against the optimizer's estimate of
    the gradient, not against a momentum or moment that is still warming up
    (the first SGD velocity is a tenth of its steady value with momentum
    0.9, and so is Adam's first moment with beta_1 0.9)."""
    layer_units = units_array(3, 4, 1)
    row = ref.first_layer_rows(layer_units)[0]
    rng = np.random.default_rng(87)
    # Entries of one size, so that Adam's metric is the same on each and the
    # share is penalty / ||g|| for every optimizer.
    direction = rng.choice([-0.5, 0.5], size=4)
    params = rng.normal(0.0, 0.5, size=ref.n_parameters(layer_units))
    params[row] = -direction  # the data steps lengthen the row: never zero
    grads = np.zeros_like(params)
    grads[row] = direction  # ||g|| = 1, ten times the penalty
    hyper = dict(solver=solver, nesterov=nesterov, learning_rate=0.001, momentum=0.9)
    with_group = make_settings(group_l1=0.1, layer_units=layer_units, **hyper)
    without = make_settings(layer_units=layer_units, **hyper)
    state = np.zeros((2, params.shape[0]))
    shares = {}
    for t in range(1, 1001):
        data_step, _ = group_step(params, grads, state, layer_units, t, without)
        new, state = group_step(params, grads, state, layer_units, t, with_group)
        moved = np.linalg.norm(data_step[row] - params[row])
        shares[t] = (np.linalg.norm(data_step[row]) - np.linalg.norm(new[row])) / moved
        params = new
    assert shares[1000] == pytest.approx(0.1, rel=0.01)
    assert shares[1] == pytest.approx(shares[1000], rel=0.01)
    assert shares[10] == pytest.approx(shares[1000], rel=0.01)


def test_group_penalty_matches_reference():
    layer_units, _, params, _, _ = group_problem(84, np.float64)
    assert_allclose(
        k.group_penalty(params, layer_units, 0.7),
        ref.group_penalty(params, layer_units, 0.7),
        rtol=1e-13,
    )


def test_tiny_group_lasso_step_follows_finite_differences_of_the_penalised_objective():
    """Away from zero rows, a proximal step of size lr is a gradient step up
    to O(lr**2): the displacement of one full-batch SGD step (momentum 0, lr
    1e-7) over lr equals the central differences of run_epoch's own loss,
    data + L2 + group lasso."""
    layer_units, X, Y, w, order, params, _ = epoch_problem(85, "binary_log", 1)
    rows = ref.first_layer_rows(layer_units)
    assert min(np.linalg.norm(params[r]) for r in rows) > 0.3, "a row near the kink"
    direction, numeric, _ = tiny_step_and_finite_differences(
        X, Y, w, order, params, layer_units, learning_rate=1e-7, momentum=0.0, l2=0.3, group_l1=0.8
    )
    assert_gradient_close(direction, numeric, max_tol=1e-5, mean_tol=1e-6)


@pytest.mark.parametrize("solver, nesterov", SOLVERS)
def test_run_epoch_with_group_lasso_matches_reference(solver, nesterov):
    """Three minibatches: loss (group term included) and steps."""
    layer_units, X, Y, w, order, params, state = epoch_problem(86, "log", 3, n_rows=9)
    params[ref.first_layer_rows(layer_units)[1]] = 0.0
    settings = make_settings(
        "relu",
        "log",
        solver,
        nesterov,
        3,
        l2=0.1,
        group_l1=1.2,
        layer_units=layer_units,
        **OPTIMIZER_HYPERPARAMETERS,
    )
    got, _ = assert_epoch_matches_reference(X, Y, w, order, params, state, 2, layer_units, settings)
    zero_rows = sum(np.all(got[0][r] == 0) for r in ref.first_layer_rows(layer_units))
    assert zero_rows >= 1


# --------------------------------------------------------------------------
# The max-norm constraint
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


@pytest.mark.parametrize("solver, nesterov", SOLVERS)
def test_max_norm_comes_after_the_step_and_the_group_step(solver, nesterov):
    layer_units, _, params, state, rng = group_problem(88, np.float64)
    grads = rng.normal(0.0, 0.5, size=params.shape[0])
    settings = make_settings(
        solver=solver,
        nesterov=nesterov,
        group_l1=0.3,
        layer_units=layer_units,
        **OPTIMIZER_HYPERPARAMETERS,
    )
    unbounded, unbounded_state = group_step(params, grads, state, layer_units, 1, settings)
    bounded, bounded_state = group_step(
        params, grads, state, layer_units, 1, settings._replace(max_norm=0.4)
    )
    expected = ref.max_norm_projection(unbounded, layer_units, 0.4)
    assert not np.allclose(expected, unbounded), "weak test data: nothing projected"
    assert_allclose(bounded, expected, rtol=1e-13, atol=1e-15)
    # The projection moves the weights only: the optimizer's state is the step's.
    assert_array_equal(bounded_state, unbounded_state)
