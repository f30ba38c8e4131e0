"""Property-based tests (Hypothesis) of the kernels and of the estimator API,
on the shapes and settings nobody chose by hand.

Kernels, against the plain NumPy reference of tests/_reference.py: gradients
against central finite differences (float64), the forward pass, one whole
optimizer step with every penalty, and sparse against dense input. The API:
generated hyperparameters, valid and invalid, and data with NaN, inf, 1e300,
constant columns, duplicate rows, one class or one sample, through ``fit``,
``partial_fit`` and ``predict``: the outcome is a fit whose outputs hold no
NaN, or a ValueError / TypeError (InvalidParameterError is both), and a
failed call leaves a fitted model as it was. The number of examples comes
from the Hypothesis profile (tests/conftest.py).
"""

import pickle
import warnings

import _reference as ref
import numpy as np
import pytest
import scipy.sparse as sp
from _kernel_helpers import (
    assert_gradient_close,
    dense_input,
    draw_smooth_point,
    keep_mask_buffer,
    kernel_epoch,
    kernel_loss_and_grad,
    kernel_masks,
    make_settings,
    n_units,
    objective_differences,
    seed_state,
    units_array,
)
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skreg import MLPClassifier, MLPRegressor
from skreg import _kernels as k

SEEDS = st.integers(0, 2**32 - 1)


@st.composite
def networks(draw, losses=ref.LOSSES):
    """``(layer_units, activation, loss)``: 1-4 inputs, no hidden layer up to
    two of 1-4 units, and outputs fitting the loss."""
    loss = draw(st.sampled_from(losses))
    n_outputs = draw(st.integers(2, 3) if loss == "log" else st.integers(1, 2))
    hidden = draw(st.lists(st.integers(1, 4), max_size=2))
    layer_units = units_array(draw(st.integers(1, 4)), *hidden, n_outputs)
    return layer_units, draw(st.sampled_from(ref.ACTIVATIONS)), loss


def dropout_rates(draw, layer_units):
    return np.array(
        [draw(st.sampled_from([0.0, 0.4])) for _ in range(len(layer_units) - 2)], dtype=np.float64
    )


# --------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------


@given(network=networks(), data=st.data(), seed=SEEDS)
def test_gradient_matches_finite_differences(network, data, seed):
    """Every activation and loss, any widths, sample weights with zeros, L2
    and fixed dropout masks: backward's gradient is the objective's."""
    layer_units, activation, loss = network
    n_rows = data.draw(st.integers(1, 6))
    dropout = dropout_rates(data.draw, layer_units)
    try:
        X, Y, w, params, masks = draw_smooth_point(
            seed % 2**31, layer_units, activation, loss, layer_units[-1], dropout, n_rows
        )
    except RuntimeError:  # no point away from ReLU's kink for this draw
        reject()
    zeros = data.draw(st.lists(st.booleans(), min_size=n_rows, max_size=n_rows))
    w = np.where(zeros, 0.0, w)
    if not np.any(w > 0):
        w[0] = 1.0
    l2 = data.draw(st.sampled_from([0.0, 0.3]))
    kernel_settings = make_settings(activation, loss, l2=l2, dropout=dropout)
    mask_seed = seed % 2**31
    _, grads, _ = kernel_loss_and_grad(X, Y, w, params, layer_units, kernel_settings, mask_seed)
    numeric = objective_differences(X, Y, w, params, layer_units, kernel_settings, mask_seed)
    assert_gradient_close(grads, numeric, max_tol=2e-6, mean_tol=2e-7)
    expected = ref.gradient(X, Y, w, params, layer_units, activation, loss, l2, masks=masks)
    assert_allclose(grads, expected, rtol=1e-9, atol=1e-11)


@given(
    network=networks(), data=st.data(), seed=SEEDS, dtype=st.sampled_from([np.float64, np.float32])
)
def test_forward_matches_reference(network, data, seed, dtype):
    layer_units, activation, loss = network
    rng = np.random.default_rng(seed)
    n_rows = data.draw(st.integers(1, 6))
    X = rng.normal(size=(n_rows, layer_units[0])).astype(dtype)
    params = rng.normal(0.0, 0.8, size=ref.n_parameters(layer_units)).astype(dtype)
    dropout = dropout_rates(data.draw, layer_units)
    kernel_settings = make_settings(activation, loss, dropout=dropout)
    masks = kernel_masks(
        X.astype(np.float64),
        params.astype(np.float64),
        layer_units,
        kernel_settings,
        seed % 2**31,
    )
    keep_mask = keep_mask_buffer(layer_units, n_rows, dropout)
    activations = np.full(n_rows * n_units(layer_units), np.nan, dtype=dtype)
    output = k.forward(
        *dense_input(X),
        params,
        layer_units,
        kernel_settings,
        seed_state(seed % 2**31),
        activations,
        keep_mask,
    )
    _, outputs = ref.forward(
        X, params, layer_units, activation, loss, masks if np.any(dropout > 0) else None
    )
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    assert output.dtype == dtype
    assert_allclose(output, outputs[-1], rtol=rtol, atol=rtol)


@st.composite
def steps(draw):
    """One optimizer step's settings: solver, Nesterov, and every penalty
    either off or on."""
    solver, nesterov = draw(st.sampled_from([("sgd", False), ("sgd", True), ("adam", False)]))
    return {
        "solver": solver,
        "nesterov": nesterov,
        "learning_rate": draw(st.sampled_from([0.01, 0.1, 0.5])),
        "momentum": draw(st.sampled_from([0.0, 0.5, 0.9])),
        "beta_1": 0.85,
        "beta_2": 0.99,
        "epsilon": 1e-7,
        "l2": draw(st.sampled_from([0.0, 0.3])),
        "l1": draw(st.sampled_from([0.0, 0.05, 0.5])),
        "group_l1": draw(st.sampled_from([0.0, 0.1, 1.0])),
        "max_norm": draw(st.sampled_from([None, 0.5, 2.0])),
    }


@given(
    network=networks(),
    settings_=steps(),
    seed=SEEDS,
    t=st.integers(1, 5),
    weight_sum=st.sampled_from([0.5, 1.0, 7.0]),
)
def test_optimizer_step_matches_reference(network, settings_, seed, t, weight_sum):
    """One step on raw gradient sums: L2, L1's clipped step, the group
    lasso's proximal step and the max-norm projection, with SGD, Nesterov's
    momentum or Adam, from a mid-training state with some weights and rows
    already at zero."""
    layer_units, _, _ = network
    rng = np.random.default_rng(seed)
    n = ref.n_parameters(layer_units)
    params = rng.normal(0.0, 0.5, size=n)
    params[rng.uniform(size=n) < 0.15] = 0.0
    rows = ref.first_layer_rows(layer_units)
    params[rows[int(rng.integers(len(rows)))]] = 0.0
    raw = rng.normal(0.0, 1.0, size=n)
    state = np.stack([rng.normal(0.0, 0.05, n), rng.uniform(0.0, 0.2, n)])
    s = settings_
    # Every step setting is a keyword of make_settings (max_norm None: no bound).
    kernel_settings = make_settings(**s, layer_units=layer_units)
    if s["solver"] == "sgd" and s["momentum"] == 1.0:
        reject()
    got, got_state = params.copy(), state.copy()
    optimizer_steps = np.array([t - 1], dtype=np.int64)
    k.optimizer_step(
        got, raw.copy(), got_state, layer_units, weight_sum, optimizer_steps, kernel_settings
    )
    expected, expected_state = ref.optimizer_step(
        params,
        raw,
        state,
        t,
        layer_units,
        weight_sum,
        s["solver"],
        s["nesterov"],
        s["learning_rate"],
        s["momentum"],
        s["beta_1"],
        s["beta_2"],
        s["epsilon"],
        s["l2"],
        s["l1"],
        s["group_l1"],
        s["max_norm"],
    )
    if s["solver"] == "sgd":
        expected_state[1] = state[1]  # SGD leaves the second row alone
    assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert_allclose(got_state, expected_state, rtol=1e-10, atol=1e-12)
    assert np.all((got == 0) == (expected == 0)), "exact zeros differ"


@given(seed=SEEDS, data=st.data(), dtype=st.sampled_from([np.float64, np.float32]))
def test_sparse_input_trains_as_dense_input(seed, data, dtype):
    """Any sparsity (empty rows too), with sample weights (zeros too), input
    and hidden dropout and every penalty: one epoch on CSR input equals one
    on the same dense input."""
    layer_units, activation, loss = data.draw(networks(losses=("squared_error", "log")))
    rng = np.random.default_rng(seed)
    n_rows, batch_size = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 4))
    density = data.draw(st.sampled_from([0.0, 0.3, 1.0]))
    X = np.where(
        rng.uniform(size=(n_rows, layer_units[0])) < density,
        rng.normal(size=(n_rows, layer_units[0])),
        0.0,
    ).astype(dtype)
    Y = (
        np.eye(layer_units[-1])[rng.integers(0, layer_units[-1], n_rows)]
        if loss == "log"
        else rng.normal(size=(n_rows, layer_units[-1]))
    ).astype(dtype)
    w = np.where(rng.uniform(size=n_rows) < 0.2, 0.0, rng.uniform(0.5, 2, n_rows)).astype(dtype)
    params = rng.normal(0.0, 0.5, size=ref.n_parameters(layer_units)).astype(dtype)
    order = rng.permutation(n_rows).astype(np.int64)
    # Drawn in this order (Hypothesis replays its examples by the order of
    # the draws).
    l1 = data.draw(st.sampled_from([0.0, 0.1]))
    group_l1 = data.draw(st.sampled_from([0.0, 0.5]))
    input_dropout = data.draw(st.sampled_from([0.0, 0.3]))
    max_norm = data.draw(st.sampled_from([0.0, 1.0]))
    dropout = dropout_rates(data.draw, layer_units)
    solver = data.draw(st.sampled_from(["sgd", "adam"]))
    kernel_settings = make_settings(
        activation,
        loss,
        solver,
        True,
        batch_size,
        learning_rate=0.05,
        l2=0.1,
        l1=l1,
        group_l1=group_l1,
        max_norm=max_norm,
        input_dropout=input_dropout,
        dropout=dropout,
    )
    results = []
    for X_in in (X, sp.csr_matrix(X)):
        rng_state = seed_state(seed % 2**31)
        p, state, _, loss_sum = kernel_epoch(
            X_in,
            Y,
            w,
            order,
            params,
            np.zeros((2, params.shape[0]), dtype=dtype),
            0,
            layer_units,
            kernel_settings,
            rng_state=rng_state,
        )
        results.append((p, state, loss_sum, rng_state[0]))
    (
        (dense_p, dense_state, dense_loss, dense_rng),
        (sparse_p, sparse_state, sparse_loss, sparse_rng),
    ) = results
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    assert_allclose(sparse_p, dense_p, rtol=rtol, atol=rtol)
    assert_allclose(sparse_state, dense_state, rtol=rtol, atol=rtol)
    assert_allclose(sparse_loss, dense_loss, rtol=rtol, atol=rtol)
    assert sparse_rng == dense_rng


# --------------------------------------------------------------------------
# The estimator API
# --------------------------------------------------------------------------

HYPERPARAMETERS = {
    "hidden_layer_sizes": [(), 2, (3, 2), 0, (2, 0), "3", -1],
    "activation": ["identity", "logistic", "tanh", "relu", "softsign"],
    "solver": ["sgd", "adam", "lbfgs", "newton"],
    "l2": [0.0, 1e-4, 10.0, -1.0, np.nan, "strong"],
    "l1": [0.0, 0.1, 5.0, -0.1],
    "group_l1": [0.0, 0.5, -0.5],
    "dropout": [0.0, 0.3, 0.9, 1.0, -0.1, (0.2, 0.1)],
    "input_dropout": [0.0, 0.2, 1.0],
    "max_norm": [None, 0.5, 3.0, 0.0, -1.0],
    "batch_size": ["auto", 1, 3, 1000, 0, "big"],
    "learning_rate": ["constant", "invscaling", "adaptive", "cyclic"],
    "learning_rate_init": [1e-3, 0.1, 1e3, 0.0, -1.0],
    "max_iter": [1, 3, 0],
    "momentum": [0.0, 0.9, 1.0, 1.5],
    "early_stopping": [False, True],
    "validation_fraction": [0.1, 0.5, 1.0],
    "scoring": [None, "loss", "neg_log_loss", "r2", "bogus"],
    "n_iter_no_change": [1, 2, np.inf, 0],
    "beta_1": [0.9, 1.0],
    "epsilon": [1e-8, 0.0],
    "tol": [0.0, 1e-4],
    "warm_start": [False, True],
    "shuffle": [False, True],
    "random_state": [0, 1, None],
}


@st.composite
def hyperparameters(draw):
    names = draw(st.sets(st.sampled_from(sorted(HYPERPARAMETERS)), max_size=6))
    return {name: draw(st.sampled_from(HYPERPARAMETERS[name])) for name in sorted(names)}


@st.composite
def datasets(draw, classifier):
    """``(X, y)`` with 1-12 rows, 1-4 columns, and maybe special values,
    a constant column, duplicate rows, one class."""
    rng = np.random.default_rng(draw(SEEDS))
    n_rows, n_features = draw(st.integers(1, 12)), draw(st.integers(1, 4))
    X = rng.normal(size=(n_rows, n_features))
    special = draw(st.sampled_from([None, np.nan, np.inf, -np.inf, 1e300]))
    if special is not None:
        X[rng.integers(n_rows), rng.integers(n_features)] = special
    if draw(st.booleans()):
        X[:, rng.integers(n_features)] = 3.0
    if draw(st.booleans()) and n_rows > 1:
        X[-1] = X[0]
    if classifier:
        y = rng.integers(0, draw(st.integers(1, 3)), size=n_rows)
    else:
        y = rng.normal(size=n_rows)
        y_special = draw(st.sampled_from([None, np.nan, np.inf, 1e300]))
        if y_special is not None:
            y[rng.integers(n_rows)] = y_special
    return X, y


def fitted_state(est):
    """Everything a fit sets (not the hyperparameters), as bytes."""
    params = est.get_params(deep=False)
    return pickle.dumps(
        {key: value for key, value in sorted(vars(est).items()) if key not in params}
    )


def quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        return call()


def assert_outputs_hold_no_nan(est, X):
    """Predictions without NaN, or the clear error of an output that
    overflows (inputs near the float range)."""
    try:
        if isinstance(est, MLPClassifier):
            proba = est.predict_proba(X)
            assert np.all(np.isfinite(proba)) and np.all((proba >= 0) & (proba <= 1)), proba
            assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
        else:
            assert not np.any(np.isnan(est.predict(X)))
    except ValueError as error:
        assert "The network's output is not finite" in str(error), error
        assert np.max(np.abs(X)) > 1e100, "an overflow on ordinary inputs"


@settings(
    max_examples=settings().max_examples * 5,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(
    classifier=st.booleans(),
    params=hyperparameters(),
    data=st.data(),
    method=st.sampled_from(["fit", "partial_fit"]),
)
def test_api_fuzz(classifier, params, data, method):
    """A fitted model, then a generated call: it fits (outputs without NaN),
    or raises a ValueError or TypeError and leaves the model as it was."""
    Est = MLPClassifier if classifier else MLPRegressor
    X_start = np.random.default_rng(0).normal(size=(20, 3))
    y_start = (X_start[:, 0] > 0).astype(int) if classifier else X_start[:, 0]
    est = quiet(
        lambda: Est(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(X_start, y_start)
    )
    before = fitted_state(est)
    X, y = data.draw(datasets(classifier))
    est.set_params(**params)
    try:
        if method == "partial_fit" and classifier:
            quiet(lambda: est.partial_fit(X, y, classes=np.unique(np.r_[y_start, y])))
        else:
            quiet(lambda: getattr(est, method)(X, y))
    except (ValueError, TypeError):
        assert fitted_state(est) == before, "a failed call changed the fitted model"
        return
    except AttributeError:
        # partial_fit is not available for this solver or class weights.
        assert method == "partial_fit"
        assert fitted_state(est) == before
        return
    assert np.all(np.isfinite(X)), "a fit accepted non-finite input"
    quiet(lambda: assert_outputs_hold_no_nan(est, X))


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
@settings(max_examples=settings().max_examples * 3)
@given(params=hyperparameters(), data=st.data())
def test_api_fuzz_fresh_estimator(Est, params, data):
    """The same from a new estimator: fit and predict, or a clear error and
    still no fitted state."""
    X, y = data.draw(datasets(Est is MLPClassifier))
    est = Est(**{"max_iter": 3, **params})
    try:
        quiet(lambda: est.fit(X, y))
    except (ValueError, TypeError):
        assert not hasattr(est, "coefs_") and not hasattr(est, "n_features_in_")
        return
    quiet(lambda: assert_outputs_hold_no_nan(est, X))
