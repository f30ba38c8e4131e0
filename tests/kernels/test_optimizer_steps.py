"""SGD and Adam steps of ``skreg._kernels.optimizer_step``, with and
without L1, against scikit-learn's optimizer formulas and the
documented L1 rule.
"""

import _reference as ref
import numpy as np
import pytest
from _kernel_helpers import (
    make_settings,
    units_array,
)
from numpy.testing import assert_allclose, assert_array_equal

from skreg import _kernels as k

# --------------------------------------------------------------------------
# Optimizer steps
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
    layer_units = chain_units(params.shape[0], n_coefs)
    settings = make_settings(
        nesterov=nesterov,
        learning_rate=learning_rate,
        momentum=momentum,
        l1=l1_penalty,
        layer_units=layer_units,
    )
    k.optimizer_step(params, grads, state, layer_units, 1.0, np.zeros(1, dtype=np.int64), settings)
    velocity[:] = state[0]


def adam_step(params, grads, first, second, n_coefs, t, hyper, l1_penalty):
    """Adam's ``t``-th ``optimizer_step`` on an already finished gradient,
    with the settings ``hyper`` (keywords of ``make_settings``); ``params``
    and both moments are updated in place."""
    state = np.stack([first, second])
    layer_units = chain_units(params.shape[0], n_coefs)
    settings = make_settings(solver="adam", l1=l1_penalty, layer_units=layer_units, **hyper)
    optimizer_steps = np.array([t - 1], dtype=np.int64)
    k.optimizer_step(params, grads, state, layer_units, 1.0, optimizer_steps, settings)
    assert optimizer_steps[0] == t
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
    hyper = dict(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-7)
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
    hyper = dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
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
    hyper = dict(learning_rate=0.01)
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
    hyper = dict(learning_rate=0.1)
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
