"""Plain NumPy reference implementations that the kernel tests compare against.

Everything here is written for clarity, not speed, and always computes in
float64 (inputs are cast). Nothing imports ``skreg``: the reference must not
share code with what it checks.

Conventions (the ones ``skreg._kernels`` documents)
---------------------------------------------------
* ``params`` is flat: every coefficient matrix, layer by layer, row-major,
  then every intercept vector (scikit-learn's ``_pack`` order).
* ``layer_units`` lists the widths of all layers, input first.
* Hidden activations: "identity", "logistic", "tanh", "relu".
* Losses: "squared_error" (identity output), "binary_log" (logistic output),
  "log" (softmax output), "poisson" (exponential output, half the Poisson
  deviance).
* Dropout is an optional list of fixed masks, one per hidden layer, with
  entries 0 or 1 / (1 - p), multiplying that layer's activations.
* The loss is the weighted data loss divided by ``sum(sample_weight)`` plus
  ``(0.5 * l2 * sum(W**2) + l1 * sum(|W|)) / sum(sample_weight)`` over the
  weights only (never the intercepts); the group lasso adds
  ``group_l1 * sum_j ||W0[j, :]||_2 / sum(sample_weight)`` over the rows of
  the first layer's weights.
"""

import numpy as np

LOSSES = ("squared_error", "binary_log", "log", "poisson")
EPS64 = np.finfo(np.float64).eps
ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


# --------------------------------------------------------------------------
# Parameter layout
# --------------------------------------------------------------------------


def n_coefficients(layer_units):
    """Number of weights (not intercepts)."""
    return int(sum(a * b for a, b in zip(layer_units[:-1], layer_units[1:], strict=True)))


def n_parameters(layer_units):
    return n_coefficients(layer_units) + int(sum(layer_units[1:]))


def unpack(params, layer_units):
    """Copies of the per-layer coefficient matrices and intercept vectors."""
    params = np.asarray(params, dtype=np.float64)
    layer_units = [int(u) for u in layer_units]
    assert params.shape == (n_parameters(layer_units),)
    coefs, intercepts = [], []
    pos = 0
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:], strict=True):
        coefs.append(params[pos : pos + fan_in * fan_out].reshape(fan_in, fan_out).copy())
        pos += fan_in * fan_out
    for fan_out in layer_units[1:]:
        intercepts.append(params[pos : pos + fan_out].copy())
        pos += fan_out
    assert pos == params.shape[0]
    return coefs, intercepts


def pack(coefs, intercepts):
    return np.concatenate([np.ravel(a) for a in (*coefs, *intercepts)]).astype(np.float64)


# --------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------


def hidden_activation(z, activation):
    if activation == "identity":
        return z.copy()
    if activation == "logistic":
        return 1.0 / (1.0 + np.exp(-z))
    if activation == "tanh":
        return np.tanh(z)
    if activation == "relu":
        return np.maximum(z, 0.0)
    raise ValueError(activation)


def hidden_derivative(z, activation):
    """d activation / d pre-activation."""
    if activation == "identity":
        return np.ones_like(z)
    if activation == "logistic":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    if activation == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if activation == "relu":
        return (z > 0).astype(np.float64)
    raise ValueError(activation)


def output_activation(z, loss):
    if loss == "squared_error":
        return z.copy()
    if loss == "binary_log":
        return 1.0 / (1.0 + np.exp(-z))
    if loss == "log":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if loss == "poisson":
        return np.exp(z)
    raise ValueError(loss)


# --------------------------------------------------------------------------
# Forward pass, loss, gradient
# --------------------------------------------------------------------------


def forward(X, params, layer_units, activation, loss, masks=None):
    """Run the network.

    Returns
    -------
    pre_activations : list of ndarray
        ``X_l @ W_l + b_l`` for every layer (hidden and output).
    outputs : list of ndarray
        Every layer's output after its activation (and, for hidden layers,
        after the dropout mask); the last one is the network output.
    """
    X = np.asarray(X, dtype=np.float64)
    coefs, intercepts = unpack(params, layer_units)
    n_hidden = len(coefs) - 1
    if masks is not None:
        assert len(masks) == n_hidden
    pre_activations, outputs = [], []
    a = X
    for layer, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
        z = a @ W + b
        pre_activations.append(z)
        if layer < n_hidden:
            a = hidden_activation(z, activation)
            if masks is not None and masks[layer] is not None:
                a = a * masks[layer]
        else:
            a = output_activation(z, loss)
        outputs.append(a)
    return pre_activations, outputs


def weighted_data_loss(output, Y, sample_weight, loss, proba_eps):
    """Weighted mean data term of the objective the gradients belong to:
    ``sum_i w_i * loss_i / sum_i w_i``, each ``loss_i`` summed over outputs
    (half the squared error, the log loss, half the Poisson deviance)."""
    output = np.asarray(output, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    if loss == "squared_error":
        return 0.5 * np.average(((Y - output) ** 2).sum(axis=1), weights=w)
    if loss == "poisson":
        # Half the deviance: y log(y / p) - y + p, with 0 log 0 = 0.
        ratio_term = np.where(Y > 0, Y * np.log(np.where(Y > 0, Y, 1.0) / output), 0.0)
        return np.average((ratio_term - Y + output).sum(axis=1), weights=w)
    p = np.clip(output, proba_eps, 1.0 - proba_eps)
    if loss == "binary_log":
        per_row = -(Y * np.log(p) + (1.0 - Y) * np.log(1.0 - p)).sum(axis=1)
    elif loss == "log":
        per_row = -(Y * np.log(p)).sum(axis=1)
    else:
        raise ValueError(loss)
    return np.average(per_row, weights=w)


def reported_data_loss(output, Y, sample_weight, loss, proba_eps):
    """The data loss skreg reports: :func:`weighted_data_loss`, with the
    squared error averaged over outputs (scikit-learn's convention)."""
    data = weighted_data_loss(output, Y, sample_weight, loss, proba_eps)
    return data / np.shape(Y)[1] if loss == "squared_error" else data


def penalty(params, layer_units, l2, l1):
    """``0.5 * l2 * sum(W**2) + l1 * sum(|W|)`` over the weights only."""
    W = np.asarray(params, dtype=np.float64)[: n_coefficients(layer_units)]
    return 0.5 * l2 * np.sum(W**2) + l1 * np.sum(np.abs(W))


def total_loss(
    X,
    Y,
    sample_weight,
    params,
    layer_units,
    activation,
    loss,
    l2=0.0,
    l1=0.0,
    proba_eps=EPS64,
    masks=None,
    reported=True,
):
    """Data loss plus penalties, both over the total sample weight: the loss
    skreg reports (:func:`reported_data_loss`), or with ``reported=False``
    the objective the gradients belong to (:func:`total_objective`)."""
    _, outputs = forward(X, params, layer_units, activation, loss, masks)
    data_loss = reported_data_loss if reported else weighted_data_loss
    w_sum = float(np.sum(np.asarray(sample_weight, dtype=np.float64)))
    return (
        data_loss(outputs[-1], Y, sample_weight, loss, proba_eps)
        + penalty(params, layer_units, l2, l1) / w_sum
    )


def total_objective(
    X, Y, sample_weight, params, layer_units, activation, loss, l2=0.0, l1=0.0, masks=None
):
    """The function whose gradient the kernels compute and L-BFGS minimises."""
    return total_loss(
        X,
        Y,
        sample_weight,
        params,
        layer_units,
        activation,
        loss,
        l2,
        l1,
        masks=masks,
        reported=False,
    )


def gradient(
    X, Y, sample_weight, params, layer_units, activation, loss, l2=0.0, l1=0.0, masks=None
):
    """Back-propagated gradient of :func:`total_objective` (flat, pack order).

    The L1 term contributes ``l1 * sign(W)`` (0 at W == 0). Probability
    clipping is ignored (it is inactive away from 0 and 1).
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    w_sum = w.sum()
    coefs, _ = unpack(params, layer_units)
    pre_activations, outputs = forward(X, params, layer_units, activation, loss, masks)
    # Canonical link: d(loss_i)/d(output pre-activation) = p - y per output.
    delta = (outputs[-1] - Y) * w[:, None]
    coef_grads = [None] * len(coefs)
    intercept_grads = [None] * len(coefs)
    for layer in range(len(coefs) - 1, -1, -1):
        inputs = X if layer == 0 else outputs[layer - 1]
        W = coefs[layer]
        coef_grads[layer] = (inputs.T @ delta + l2 * W + l1 * np.sign(W)) / w_sum
        intercept_grads[layer] = delta.sum(axis=0) / w_sum
        if layer > 0:
            slope = hidden_derivative(pre_activations[layer - 1], activation)
            if masks is not None and masks[layer - 1] is not None:
                slope = slope * masks[layer - 1]
            delta = (delta @ W.T) * slope
    return pack(coef_grads, intercept_grads)


# --------------------------------------------------------------------------
# Optimizers: transcriptions of scikit-learn's SGDOptimizer / AdamOptimizer
# (sklearn/neural_network/_stochastic_optimizers.py), on one flat array.
# --------------------------------------------------------------------------


def sgd_update(params, grads, velocity, learning_rate, momentum, nesterov):
    """Return new (params, velocity); scikit-learn's ``SGDOptimizer`` step."""
    updates = momentum * velocity - learning_rate * grads
    velocity = updates
    if nesterov:
        updates = momentum * velocity - learning_rate * grads
    return params + updates, velocity


def adam_update(params, grads, ms, vs, t, learning_rate_init, beta_1, beta_2, epsilon):
    """Return new (params, ms, vs); scikit-learn's ``AdamOptimizer`` step.

    ``t`` is the 1-based step count after incrementing.
    """
    ms = beta_1 * ms + (1 - beta_1) * grads
    vs = beta_2 * vs + (1 - beta_2) * (grads**2)
    learning_rate = learning_rate_init * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    updates = -learning_rate * ms / (np.sqrt(vs) + epsilon)
    return params + updates, ms, vs


def l1_pseudo_gradient(w, g, penalty):
    """OWL-QN pseudo-gradient of ``g * w + penalty * |w|``, elementwise.

    ``g + penalty * sign(w)`` away from zero; at zero the downhill one-sided
    derivative, or 0 when ``|g| <= penalty`` (no direction goes downhill).
    """
    w, g = np.asarray(w, dtype=np.float64), np.asarray(g, dtype=np.float64)
    at_zero = np.where(g + penalty < 0, g + penalty, np.where(g - penalty > 0, g - penalty, 0.0))
    return np.where(w > 0, g + penalty, np.where(w < 0, g - penalty, at_zero))


def sgd_l1_update(params, grads, velocity, n_coefs, learning_rate, momentum, nesterov, penalty):
    """SGD step with L1 as ``skreg._kernels.step_part`` documents it.

    For the first ``n_coefs`` entries (weights) the pseudo-gradient replaces
    the gradient in scikit-learn's momentum step; a weight may stay in its own
    orthant (a zero weight may only move against its pseudo-gradient, not at
    all if that is 0); a step leaving that orthant lands on 0.0 and resets the
    weight's velocity. Intercepts take the plain step. Returns new
    ``(params, velocity)``.
    """
    params = np.asarray(params, dtype=np.float64)
    grads = np.asarray(grads, dtype=np.float64).copy()
    is_weight = np.arange(params.shape[0]) < n_coefs
    grads[is_weight] = l1_pseudo_gradient(params[is_weight], grads[is_weight], penalty)
    new_params, new_velocity = sgd_update(
        params, grads, velocity, learning_rate, momentum, nesterov
    )
    orthant = np.where(params != 0, np.sign(params), -np.sign(grads))
    clipped = is_weight & (new_params * orthant <= 0)
    new_params[clipped] = 0.0
    new_velocity[clipped] = 0.0
    return new_params, new_velocity


# --------------------------------------------------------------------------
# Group lasso: the proximal step in the optimizer's metric
# --------------------------------------------------------------------------


def group_proximal_step(row, metric, penalty):
    """``argmin_u 0.5 * sum_i metric_i (u_i - row_i)**2 + penalty * ||u||_2``.

    Zero if ``||metric * row|| <= penalty``; otherwise ``u_i = row_i *
    metric_i t / (metric_i t + 1)`` with ``t = ||u|| / penalty`` the root of
    ``||metric * row / (metric t + 1)|| = penalty``, found here by bracketing
    and scipy's brentq (the kernel uses Newton's method).
    """
    from scipy.optimize import brentq

    row, metric = np.asarray(row, dtype=np.float64), np.asarray(metric, dtype=np.float64)
    scaled = metric * row
    if np.linalg.norm(scaled) <= penalty:
        return np.zeros_like(row)

    def excess(t):
        return np.linalg.norm(scaled / (metric * t + 1.0)) - penalty

    upper = 1.0
    while excess(upper) > 0:
        upper *= 2.0
    t = brentq(excess, 0.0, upper, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    return row * metric * t / (metric * t + 1.0)


def first_layer_rows(layer_units):
    """Slices of the flat parameters, one per input feature's row of
    first-layer weights."""
    width = int(layer_units[1])
    return [slice(j * width, (j + 1) * width) for j in range(int(layer_units[0]))]


def adam_l1_update(
    params, grads, ms, vs, t, n_coefs, learning_rate_init, beta_1, beta_2, epsilon, penalty
):
    """Adam step with L1 as ``skreg._kernels.step_part`` documents it: the
    pseudo-gradient replaces the weights' gradient in Adam's moments, and a
    weight may only stay in its orthant (a zero weight may only move against
    its pseudo-gradient), else it lands on 0.0; the moments are kept.
    Returns new ``(params, ms, vs)``."""
    params = np.asarray(params, dtype=np.float64)
    grads = np.asarray(grads, dtype=np.float64).copy()
    is_weight = np.arange(params.shape[0]) < n_coefs
    grads[is_weight] = l1_pseudo_gradient(params[is_weight], grads[is_weight], penalty)
    new_params, ms, vs = adam_update(
        params, grads, ms, vs, t, learning_rate_init, beta_1, beta_2, epsilon
    )
    orthant = np.where(params != 0, np.sign(params), -np.sign(grads))
    new_params[is_weight & (new_params * orthant <= 0)] = 0.0
    return new_params, ms, vs


def optimizer_step(
    params,
    raw_grads,
    state,
    t,
    layer_units,
    weight_sum,
    solver,
    nesterov,
    learning_rate,
    momentum,
    beta_1,
    beta_2,
    epsilon,
    l2,
    l1,
    group_l1,
    max_norm,
):
    """One whole step as ``skreg._kernels.optimizer_step`` documents it, on
    raw gradient sums over a batch of total weight ``weight_sum``: the
    gradient ``(raw + l2 * W) / weight_sum`` (intercepts without L2), the SGD
    or Adam update with L1's pseudo-gradient and clipping, the group lasso's
    proximal step on each input feature's row, then the max-norm projection
    (``max_norm`` None for none). ``state`` is (velocity or first moment,
    second moment); ``t`` the 1-based Adam step. Returns new
    ``(params, state)``."""
    params = np.asarray(params, dtype=np.float64)
    n_coefs = n_coefficients(layer_units)
    l2_term = np.where(np.arange(params.shape[0]) < n_coefs, l2 * params, 0.0)
    grads = (np.asarray(raw_grads, dtype=np.float64) + l2_term) / weight_sum
    first, second = (np.asarray(s, dtype=np.float64) for s in state)
    if solver == "adam" and l1 > 0:
        new, first, second = adam_l1_update(
            params,
            grads,
            first,
            second,
            t,
            n_coefs,
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
            l1 / weight_sum,
        )
    elif solver == "adam":
        new, first, second = adam_update(
            params, grads, first, second, t, learning_rate, beta_1, beta_2, epsilon
        )
    elif l1 > 0:
        new, first = sgd_l1_update(
            params, grads, first, n_coefs, learning_rate, momentum, nesterov, l1 / weight_sum
        )
    else:
        new, first = sgd_update(params, grads, first, learning_rate, momentum, nesterov)
    metrics = group_metric(
        second, t, solver, nesterov, learning_rate, momentum, beta_1, beta_2, epsilon
    )
    if group_l1 > 0:
        for rows in first_layer_rows(layer_units):
            new[rows] = group_proximal_step(new[rows], metrics[rows], group_l1 / weight_sum)
            if solver != "adam" and np.all(new[rows] == 0) and np.any(params[rows] != 0):
                first[rows] = 0.0
    if max_norm is not None:
        new = max_norm_projection(new, layer_units, max_norm)
    return new, np.stack([first, second])


def moment_warmup(t, solver, nesterov, momentum, beta_1):
    """The weight of the optimizer's running sum of gradients at its
    ``t``-th step relative to its steady state: the sum of its coefficients
    on a constant gradient divided by their limit."""
    if solver == "adam":
        return 1.0 - beta_1**t
    return 1.0 - momentum ** (t + 1 if nesterov else t)


def group_metric(second, t, solver, nesterov, learning_rate, momentum, beta_1, beta_2, epsilon):
    """The metric of the group step after the ``t``-th step: the one in
    which the step is the optimizer's running mean of the gradient, Adam's
    bias-corrected ``(sqrt(v_hat) + eps / sqrt(1 - beta_2**t)) /
    learning_rate`` or momentum SGD's ``(1 - momentum) / (learning_rate *
    warmup)``."""
    if solver == "adam":
        return (
            np.sqrt(second / (1 - beta_2**t)) + epsilon / np.sqrt(1 - beta_2**t)
        ) / learning_rate
    warmup = moment_warmup(t, solver, nesterov, momentum, beta_1)
    return np.full(second.shape[0], (1.0 - momentum) / (learning_rate * warmup))


def sgd_group_update(
    params, grads, velocity, t, layer_units, learning_rate, momentum, nesterov, penalty
):
    """SGD's ``t``-th step, then the group step in its metric
    (:func:`group_metric`); a row the step sets to zero from nonzero loses
    its velocity. Returns new ``(params, velocity)``."""
    new_params, new_velocity = sgd_update(
        params, grads, velocity, learning_rate, momentum, nesterov
    )
    metric = group_metric(velocity, t, "sgd", nesterov, learning_rate, momentum, 0.0, 0.0, 0.0)
    for rows in first_layer_rows(layer_units):
        new_params[rows] = group_proximal_step(new_params[rows], metric[rows], penalty)
        if np.all(new_params[rows] == 0) and np.any(np.asarray(params)[rows] != 0):
            new_velocity[rows] = 0.0
    return new_params, new_velocity


def adam_group_update(
    params, grads, ms, vs, t, layer_units, learning_rate_init, beta_1, beta_2, epsilon, penalty
):
    """Adam step, then the group step in its bias-corrected metric
    (:func:`group_metric`). Returns new ``(params, ms, vs)``."""
    new_params, ms, vs = adam_update(
        params, grads, ms, vs, t, learning_rate_init, beta_1, beta_2, epsilon
    )
    metric = group_metric(vs, t, "adam", False, learning_rate_init, 0.0, beta_1, beta_2, epsilon)
    for rows in first_layer_rows(layer_units):
        new_params[rows] = group_proximal_step(new_params[rows], metric[rows], penalty)
    return new_params, ms, vs


def group_penalty(params, layer_units, group_l1):
    """``group_l1 * sum_j ||W0[j, :]||_2``."""
    params = np.asarray(params, dtype=np.float64)
    return group_l1 * sum(np.linalg.norm(params[rows]) for rows in first_layer_rows(layer_units))


# --------------------------------------------------------------------------
# Max-norm constraint and input dropout
# --------------------------------------------------------------------------


def max_norm_projection(params, layer_units, max_norm):
    """Every weight matrix's columns whose L2 norm exceeds ``max_norm``
    rescaled to norm ``max_norm``; intercepts unchanged."""
    coefs, intercepts = unpack(params, layer_units)
    projected = []
    for W in coefs:
        norms = np.linalg.norm(W, axis=0)
        projected.append(
            W * np.where(norms > max_norm, max_norm / np.where(norms > 0, norms, 1), 1.0)
        )
    return pack(projected, intercepts)


def input_dropout_mask(uniforms, n_rows, n_features, rate):
    """The inverted-dropout factors of a minibatch's inputs from the
    generator's next ``n_rows * n_features`` uniforms, row-major: 0 where the
    uniform is below ``rate``, else 1 / (1 - rate)."""
    u = np.asarray(uniforms, dtype=np.float64).reshape(n_rows, n_features)
    return np.where(u < rate, 0.0, 1.0 / (1.0 - rate))


# --------------------------------------------------------------------------
# SplitMix64 (Steele, Lea & Flood 2014), on Python integers
# --------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1


def splitmix64_uniforms(seed, n):
    """The first ``n`` uniforms on [0, 1): top 53 bits of each output / 2**53."""
    state = seed & _MASK64
    values = []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & _MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        z = z ^ (z >> 31)
        values.append((z >> 11) / 9007199254740992.0)
    return values


# --------------------------------------------------------------------------
# The regularizers of modern tabular networks (weight decay, label smoothing)
# --------------------------------------------------------------------------


def decoupled_weight_decay(params, n_coefs, learning_rate, weight_decay):
    """AdamW's decay before a step: the weights (the first ``n_coefs``
    parameters) times ``1 - learning_rate * weight_decay``, the intercepts
    unchanged."""
    params = np.asarray(params, dtype=np.float64).copy()
    params[:n_coefs] *= 1.0 - learning_rate * weight_decay
    return params


def smoothed_targets(Y, loss, eps):
    """Keras's label smoothing of 0/1 targets ``Y`` (one-hot rows for the
    softmax ``loss='log'``): ``(1 - eps) * Y + eps / K`` over K classes, or
    ``+ eps / 2`` per label of logistic outputs."""
    n_values = Y.shape[1] if loss == "log" else 2
    return (1.0 - eps) * np.asarray(Y, dtype=np.float64) + eps / n_values
