"""Helpers shared by the kernel tests (``tests/kernels/``) and by
``tests/test_sparse.py`` and ``tests/test_properties.py``: the kernels'
settings and buffers as the drivers build them, losses and gradients composed
from the kernels, finite differences, and one epoch through ``run_epoch`` and
through the reference of ``tests/_reference.py``.

Imported as a top-level module, like ``_reference``: ``tests/`` has no
``__init__.py``, so pytest's default ("prepend") import mode puts ``tests/``
on ``sys.path`` for the modules there, and ``tests/kernels/conftest.py`` puts
it there for the modules of ``tests/kernels/``.
"""

import _reference as ref
import numpy as np
import pytest
from numpy.testing import assert_allclose

from skreg import _kernels as k
from skreg._layout import NetworkLayout, kernel_input, read_only_view
from skreg._settings import kernel_settings

LOSS_CODES = {
    "squared_error": k.LOSS_SQUARED_ERROR,
    "binary_log": k.LOSS_BINARY_LOG,
    "log": k.LOSS_LOG,
    "poisson": k.LOSS_POISSON,
}
LOSS_NAMES = {code: name for name, code in LOSS_CODES.items()}
ACTIVATION_NAMES = {code: name for name, code in k.ACTIVATION_CODES.items()}
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
# The optimizers' settings of the step and epoch tests: none of them at its
# default, so that a setting read from the wrong field shows.
OPTIMIZER_HYPERPARAMETERS = dict(
    learning_rate=0.05, momentum=0.8, beta_1=0.85, beta_2=0.99, epsilon=1e-7
)
SOLVERS = [
    pytest.param("sgd", False, id="sgd"),
    pytest.param("sgd", True, id="sgd-nesterov"),
    pytest.param("adam", False, id="adam"),
]


# --------------------------------------------------------------------------
# Settings and buffers
# --------------------------------------------------------------------------


def units_array(*units):
    return np.array(units, dtype=np.int64)


def n_units(layer_units):
    return int(np.sum(layer_units[1:]))


# Float settings whose default in these tests is not 0.
_FLOAT_DEFAULTS = dict(momentum=0.9, beta_1=0.9, beta_2=0.999, epsilon=1e-8)


def make_settings(
    activation="relu",
    loss="squared_error",
    solver="sgd",
    nesterov=False,
    batch_size=1,
    learning_rate=0.1,
    proba_eps=EPS64,
    max_norm=0.0,
    dropout=None,
    layer_units=None,
    **floats,
):
    """The kernels' :class:`skreg._kernels.Settings`, built by the estimators'
    own builder (:func:`skreg._settings.kernel_settings`), so that every field
    has the type a fit gives it and the tests share the fits' compiled
    signatures.

    ``activation``, ``loss`` and ``solver`` are names; ``max_norm`` 0 or None
    is no constraint. ``dropout`` is the drop rate of each hidden layer. By
    default none drops: zeros, one per hidden layer of ``layer_units``, or,
    without ``layer_units``, no rate at all, which only the optimizer-step
    kernels (they read none) may be given. Every other field is a float
    keyword named like its parameter (``l2=0.1``), 0 unless given or in
    ``_FLOAT_DEFAULTS``: a new float setting needs no change here.
    """
    unknown = set(floats) - set(k.Settings._fields)
    if unknown:
        raise TypeError(f"make_settings got unknown settings {sorted(unknown)}")
    if dropout is None:
        dropout = np.zeros(0 if layer_units is None else len(layer_units) - 2)
    parameters = {field: _FLOAT_DEFAULTS.get(field, 0.0) for field in k.Settings._fields}
    parameters.update(
        floats,
        activation=activation,
        solver=solver,
        nesterovs_momentum=nesterov,
        learning_rate_init=learning_rate,
        max_norm=max_norm or None,
    )
    settings = kernel_settings(parameters, LOSS_CODES[loss], dropout, np.float64)
    return settings._replace(batch_size=int(batch_size), proba_eps=float(proba_eps))


def check_dropout(settings, layer_units):
    """The settings given to forward, backward and run_epoch hold one drop
    rate per hidden layer, as the drivers' do."""
    assert settings.dropout.shape == (len(layer_units) - 2,), settings.dropout


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


def make_targets(rng, loss, n_rows, n_outputs):
    if loss == "squared_error":
        return rng.normal(size=(n_rows, n_outputs))
    if loss == "binary_log":
        return rng.integers(0, 2, size=(n_rows, n_outputs)).astype(np.float64)
    if loss == "poisson":
        return rng.poisson(1.5, size=(n_rows, n_outputs)).astype(np.float64)
    return np.eye(n_outputs)[rng.integers(0, n_outputs, size=n_rows)]


def dense_input(X):
    """``X, X_csr, rows, dropped_values`` for a dense X, as the drivers hand a
    gathered batch to the layer kernels: X writable, the empty CSR arrays
    read-only, no sparse values after input dropout."""
    X = np.ascontiguousarray(X)
    return X, kernel_input(X)[1], np.arange(X.shape[0]), np.empty(0, dtype=X.dtype)


def seed_state(seed):
    return np.array([seed], dtype=np.uint64)


# --------------------------------------------------------------------------
# Losses and gradients composed from the kernels
# --------------------------------------------------------------------------


def training_forward(X, params, layer_units, settings, seed, activations):
    """forward on a dense ``X`` as in training, with a ``keep_mask`` where the
    settings drop and the generator seeded with ``seed``: ``(output,
    keep_mask)``."""
    check_dropout(settings, layer_units)
    keep_mask = keep_mask_buffer(layer_units, X.shape[0], settings.dropout)
    output = k.forward(
        *dense_input(X), params, layer_units, settings, seed_state(seed), activations, keep_mask
    )
    return output, keep_mask


def kernel_loss_and_grad(X, Y, w, params, layer_units, settings, seed, want_grad=True):
    """The objective composed from forward + data_loss_and_output_delta +
    penalty (the settings' L2 and L1), and backward's gradient. The dropout
    generator is reset to ``seed`` first, so every call draws the same
    mask."""
    n_rows = X.shape[0]
    size = n_rows * n_units(layer_units)
    activations = np.full(size, np.nan)
    deltas = np.full(size, np.nan)
    output, keep_mask = training_forward(X, params, layer_units, settings, seed, activations)
    output_delta = block(deltas, layer_units, len(layer_units) - 2, n_rows)
    data = k.data_loss_and_output_delta(
        output, Y, w, settings.loss, settings.proba_eps, output_delta
    )
    penalty = k.penalty(params, layer_units, settings)
    w_sum = float(w.sum())
    loss = (data + penalty) / w_sum
    grads = None
    if want_grad:
        grads = np.full(params.shape[0], np.nan)
        inputs = dense_input(X)
        k.backward(*inputs, params, grads, layer_units, settings, activations, keep_mask, deltas)
        k.finish_gradient(params, grads, ref.n_coefficients(layer_units), settings.l2, w_sum)
    return loss, grads, keep_mask


def objective_differences(X, Y, w, params, layer_units, settings, seed):
    """Central differences, at ``params``, of the objective of
    :func:`kernel_loss_and_grad`."""
    return central_differences(
        lambda p: kernel_loss_and_grad(X, Y, w, p, layer_units, settings, seed, want_grad=False)[0],
        params,
    )


def full_batch_loss_and_gradient(X, Y, w, params, grads, layer_units, settings):
    """loss_and_gradient on dense or CSR ``X`` in chunks of
    ``settings.batch_size`` rows, with the work arrays the L-BFGS driver
    gives it: ``(objective, reported_loss)``; the gradient goes into
    ``grads``."""
    layout = NetworkLayout(layer_units)
    work = np.full(layout.input_workspace_size(X, settings.batch_size), np.nan, dtype=params.dtype)
    return k.loss_and_gradient(
        *kernel_input(X),
        read_only_view(Y),
        read_only_view(w),
        params,
        grads,
        np.full_like(params, np.nan),
        work,
        layer_units,
        settings,
    )


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


def kernel_masks(X, params, layer_units, settings, seed):
    """The dropout masks the kernels draw from ``seed``, as the reference takes
    them: 1 / (1 - p) where ``keep_mask`` says kept, 0 where dropped."""
    n_rows = X.shape[0]
    activations = np.empty(n_rows * n_units(layer_units))
    _, keep_mask = training_forward(X, params, layer_units, settings, seed, activations)
    masks = []
    for layer, p in enumerate(settings.dropout):
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
    settings = make_settings(activation, loss, dropout=dropout, layer_units=layer_units)
    for _ in range(200):
        params = rng.normal(0.0, 0.8, size=ref.n_parameters(layer_units))
        if avoid_zero_weights and np.min(np.abs(params[:n_coefs])) < 1e-3:
            continue
        masks = None
        if np.any(settings.dropout > 0):
            masks = kernel_masks(X, params, layer_units, settings, seed)
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
# One epoch: run_epoch and the reference
# --------------------------------------------------------------------------


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


def reference_epoch(X, Y, w, order, params, state, steps, layer_units, settings):
    """Minibatches of ``settings.batch_size`` rows in ``order``: reference loss
    and gradient, then the scikit-learn optimizer formula, and the
    group-lasso step if ``settings.group_l1 > 0``. L1 must be 0 (it only
    enters the loss); no dropout, no max-norm."""
    assert settings.input_dropout == 0 and not np.any(settings.dropout > 0)
    assert settings.max_norm == 0
    activation = ACTIVATION_NAMES[settings.activation]
    loss = LOSS_NAMES[settings.loss]
    adam = settings.optimizer == k.OPTIMIZER_ADAM
    params = params.astype(np.float64)
    velocity, ms, vs = (s.astype(np.float64) for s in (state[0], state[0], state[1]))
    l2, l1, group_l1 = settings.l2, settings.l1, settings.group_l1
    rate, momentum = settings.learning_rate, settings.momentum
    loss_sum = 0.0
    for start in range(0, len(order), settings.batch_size):
        rows = order[start : start + settings.batch_size]
        w_sum = w[rows].sum()
        if w_sum <= 0:
            continue
        loss_sum += (
            ref.total_loss(X[rows], Y[rows], w[rows], params, layer_units, activation, loss, l2, l1)
            + ref.group_penalty(params, layer_units, group_l1) / w_sum
        ) * len(rows)
        g = ref.gradient(X[rows], Y[rows], w[rows], params, layer_units, activation, loss, l2)
        steps += 1
        if adam:
            params, ms, vs = ref.adam_group_update(
                params,
                g,
                ms,
                vs,
                steps,
                layer_units,
                rate,
                settings.beta_1,
                settings.beta_2,
                settings.epsilon,
                group_l1 / w_sum,
            )
        else:
            params, velocity = ref.sgd_group_update(
                params,
                g,
                velocity,
                steps,
                layer_units,
                rate,
                momentum,
                settings.nesterov,
                group_l1 / w_sum,
            )
    if adam:
        return params, np.stack([ms, vs]), steps, loss_sum
    return params, np.stack([velocity, state[1]]), steps, loss_sum


def kernel_epoch(
    X, Y, w, order, params, state, steps, layer_units, settings, seed=0, rng_state=None
):
    """One run_epoch on dense or CSR ``X``, with the workspace the driver
    gives it; ``rng_state``, if given, is the generator (advanced in place),
    else one seeded with ``seed``."""
    check_dropout(settings, layer_units)
    params, state = params.copy(), state.copy()
    optimizer_steps = np.array([steps], dtype=np.int64)
    layout = NetworkLayout(layer_units)
    work = np.full(
        layout.input_workspace_size(X, settings.batch_size, settings.input_dropout),
        np.nan,
        dtype=params.dtype,
    )
    grads = np.empty_like(params)
    loss_sum = k.run_epoch(
        *kernel_input(X),
        read_only_view(Y),
        read_only_view(w),
        order,
        params,
        grads,
        state,
        work,
        layer_units,
        settings,
        optimizer_steps,
        seed_state(seed) if rng_state is None else rng_state,
    )
    return params, state, int(optimizer_steps[0]), loss_sum


def assert_epoch_matches_reference(X, Y, w, order, params, state, steps, layer_units, settings):
    """One run_epoch and the reference epoch from the same start agree: the
    parameters, the optimizer state and the reported loss sum. Returns both
    ``(params, state, steps, loss_sum)``."""
    got = kernel_epoch(X, Y, w, order, params, state, steps, layer_units, settings)
    expected = reference_epoch(X, Y, w, order, params, state, steps, layer_units, settings)
    assert_allclose(got[0], expected[0], rtol=1e-11, atol=1e-13, err_msg="params")
    assert_allclose(got[1], expected[1], rtol=1e-11, atol=1e-13, err_msg="optimizer state")
    # Documented return: sum over minibatches of batch loss x batch rows.
    assert_allclose(got[3], expected[3], rtol=1e-12)
    return got, expected


def tiny_step_and_finite_differences(X, Y, w, order, params, layer_units, seed=0, **hyper):
    """One full-batch SGD step (tanh units, binary log loss, and the tiny
    learning rate among the settings ``hyper``) from ``params``: its
    displacement over the learning rate, the central differences of
    run_epoch's reported loss, and that loss, each computed with the
    generator seeded afresh (so with the same dropout masks)."""
    batch_size = X.shape[0]
    state = np.zeros((2, params.shape[0]))
    settings = make_settings(
        "tanh", "binary_log", "sgd", False, batch_size, layer_units=layer_units, **hyper
    )

    def epoch(p):
        return kernel_epoch(X, Y, w, order, p, state, 0, layer_units, settings, seed=seed)

    stepped, _, _, loss_sum = epoch(params)
    numeric = central_differences(lambda p: epoch(p)[3] / batch_size, params)
    return (params - stepped) / settings.learning_rate, numeric, loss_sum / batch_size
