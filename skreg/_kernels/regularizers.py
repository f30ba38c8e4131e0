"""The regularizers, each one's term of the loss beside its step: L2 and L1
on the weights, the group lasso, max-norm; and where the optimizer meets
them (:func:`penalty`, :func:`apply_constraints`)."""

import math

import numpy as np

from .base import (
    GROUP_NEWTON_ITERATIONS,
    OPTIMIZER_ADAM,
    OPTIMIZER_SGD,
    STEP_EPSILON,
    STEP_GROUP_L1_PENALTY,
    STEP_LEARNING_RATE,
    STEP_MOMENT_WARMUP,
    STEP_MOMENTUM,
    kernel,
    sum_kernel,
)
from .layout import layer_parameters, n_coefficients

# --------------------------------------------------------------------------
# Regularizers: each one's term of the loss beside its step
# --------------------------------------------------------------------------

# L2 and L1 on the weights (not the intercepts): the L2 term enters the
# gradient, L1 a clipped step on OWL-QN's pseudo-gradient.


@sum_kernel
def weight_penalty(params, n_coefs, l2, l1):
    """``0.5 * l2 * sum(W**2) + l1 * sum(|W|)`` over the weights (not intercepts).

    The callers divide by the batch's total sample weight.
    """
    squares = 0.0
    absolutes = 0.0
    weights = params[:n_coefs]
    for k in range(weights.shape[0]):
        w = weights[k]
        squares += w * w
        absolutes += abs(w)
    return 0.5 * l2 * squares + l1 * absolutes


@kernel
def penalised_gradient(raw, w, l2, weight_sum):
    """A weight's gradient of (data loss + L2 penalty) / weight_sum from its raw
    sum, in scikit-learn's order of operations."""
    return (raw + l2 * w) / weight_sum


@kernel
def finish_gradient(params, grads, n_coefs, l2, weight_sum):
    """Turn raw sums into the gradient of (data loss + L2 penalty) / weight_sum.

    ``grads`` of shape (n_params,) is **modified in place**: weights get
    ``(raw + l2 * W) / weight_sum``, intercepts ``raw / weight_sum``. The L1
    term is left to the optimizer.
    """
    to_dtype = params.dtype.type
    weight_sum = to_dtype(weight_sum)
    weight_l2 = to_dtype(l2)
    no_l2 = to_dtype(0.0)
    for k in range(n_coefs):
        grads[k] = penalised_gradient(grads[k], params[k], weight_l2, weight_sum)
    for k in range(n_coefs, grads.shape[0]):
        grads[k] = penalised_gradient(grads[k], params[k], no_l2, weight_sum)


@kernel
def l1_pseudo_gradient(w, g, l1_penalty):
    """OWL-QN's pseudo-gradient of ``g·w + l1_penalty·|w|`` (Andrew & Gao 2007).

    Away from zero, the ordinary gradient. At zero, the one-sided derivative
    that points downhill, or 0 when the data gradient is smaller than the
    penalty so that no direction decreases the objective. Returns the dtype
    of ``g``.
    """
    if w > 0:
        return g + l1_penalty
    if w < 0:
        return g - l1_penalty
    if g + l1_penalty < 0:
        return g + l1_penalty
    if g - l1_penalty > 0:
        return g - l1_penalty
    return g - g


@kernel
def clip_to_orthant(w, pseudo_gradient, updated):
    """Clip an L1-penalised step at zero, returning the new weight.

    A weight may stay in its own orthant; a zero weight may only move against
    its pseudo-gradient (not at all if that is 0). A step that leaves the
    allowed orthant lands on exactly 0, so weights reach exact zeros and a
    weight whose data gradient is smaller than the penalty stays there.
    """
    if w != 0:
        allowed = updated > 0 if w > 0 else updated < 0
    elif pseudo_gradient != 0:
        allowed = updated > 0 if pseudo_gradient < 0 else updated < 0
    else:
        allowed = False
    return updated if allowed else updated - updated


# The group lasso on each input feature's row of first-layer weights: a
# proximal step after the optimizer's, in that step's metric.


@sum_kernel
def group_penalty(params, layer_units, group_l1):
    """``group_l1 * sum_j ||W0[j, :]||_2``: the group lasso over the rows of
    the first layer's weights, one row per input feature.

    The callers divide by the batch's total sample weight.
    """
    width = layer_units[1]
    total = 0.0
    for start in range(0, layer_units[0] * width, width):
        squares = 0.0
        for k in range(start, start + width):
            squares += params[k] * params[k]
        total += math.sqrt(squares)
    return group_l1 * total


@kernel
def is_zero(row):
    """Whether every entry of the 1-d ``row`` is 0."""
    for k in range(row.shape[0]):
        if row[k] != 0:
            return False
    return True


@kernel
def step_metric(second_state, k, constants, optimizer):
    """The metric ``D`` of the step of parameter ``k``, as a float64: the
    step is ``D**-1`` times the optimizer's estimate of the gradient, its
    running mean (the running sum divided by its warm-up,
    :func:`moment_warmup`). Adam's ``(sqrt(v_k) + eps) / (rate * warmup)``
    is the bias-corrected ``(sqrt(v_hat_k) + eps_hat) / learning_rate_init``,
    with ``eps_hat = eps / sqrt(1 - beta_2**t)`` where scikit-learn's Adam
    adds ``eps``; momentum SGD's ``(1 - momentum) / (rate * warmup)`` tends
    to ``(1 - momentum) / rate``, the inverse of its steady step
    ``rate / (1 - momentum)``."""
    rate = np.float64(constants[STEP_LEARNING_RATE]) * np.float64(constants[STEP_MOMENT_WARMUP])
    if optimizer == OPTIMIZER_ADAM:
        return (math.sqrt(np.float64(second_state[k])) + np.float64(constants[STEP_EPSILON])) / rate
    return (1.0 - np.float64(constants[STEP_MOMENTUM])) / rate


@kernel
def shrink_group(row, first_state, second_state, constants, optimizer, was_zero):
    """The proximal step of the group lasso ``penalty * ||row||_2`` (one input
    feature's first-layer weights) after an optimizer step, in that step's
    metric ``D`` (see :func:`step_metric`).

    It solves ``min_u 0.5 * sum_i D_i (u_i - row_i)**2 + penalty * ||u||``:
    ``u = 0`` when ``||D * row|| <= penalty``, otherwise
    ``u_i = row_i * D_i t / (D_i t + 1)`` where ``t = ||u|| / penalty`` is the
    root of ``H(t) = ||D * row / (D t + 1)|| = penalty``. For SGD, ``D`` is one
    number and this is block soft-thresholding with threshold
    ``rate * warmup * penalty / (1 - momentum)``, in proportion to the step the
    data gradient took. For Adam, H is convex and decreasing, so Newton's
    method started below the root (from the bound with the largest ``D_i``)
    rises to it monotonically.

    At a zero row, ``D * row`` is the optimizer's estimate of the row's
    gradient (Adam's bias-corrected first moment; SGD's velocity divided by
    its weight ``rate * warmup / (1 - momentum)``), from the first step on:
    the row stays at zero while that is smaller than the penalty. So an SGD
    row keeps its velocity while it stays at zero, and loses it only on the
    step that sets it to zero. (The warm-up counts the fit's steps, not the
    row's: a velocity reset there warms up again under a stricter threshold.)

    Parameters
    ----------
    row, first_state, second_state : ndarray of shape (n_units,)
        One row of the parameters and of the optimizer states, **modified in
        place** (the row; and the velocity of an SGD row set to zero).
    constants : tuple
        The step's constants (see :func:`step_constants`).
    optimizer : int
        The ``OPTIMIZER_*`` code of the step.
    was_zero : bool
        Whether the row was zero before the step.
    """
    penalty = np.float64(constants[STEP_GROUP_L1_PENALTY])
    scaled_squares = 0.0
    largest_metric = 0.0
    for i in range(row.shape[0]):
        metric = step_metric(second_state, i, constants, optimizer)
        scaled_squares += (metric * row[i]) ** 2
        largest_metric = max(largest_metric, metric)
    scaled_norm = math.sqrt(scaled_squares)
    if scaled_norm <= penalty:
        for i in range(row.shape[0]):
            row[i] = 0.0
            if optimizer == OPTIMIZER_SGD and not was_zero:
                first_state[i] = 0.0
        return
    t = (scaled_norm / penalty - 1.0) / largest_metric
    for _ in range(GROUP_NEWTON_ITERATIONS):
        squares = 0.0
        slope = 0.0
        for i in range(row.shape[0]):
            metric = step_metric(second_state, i, constants, optimizer)
            scaled = metric * row[i]
            shrink = 1.0 / (metric * t + 1.0)
            squares += (scaled * shrink) ** 2
            slope += scaled * scaled * metric * shrink**3
        norm = math.sqrt(squares)
        if not norm - penalty > 1e-12 * penalty:
            break
        t += (norm - penalty) * norm / slope
    for i in range(row.shape[0]):
        metric_t = step_metric(second_state, i, constants, optimizer) * t
        row[i] = row[i] * (metric_t / (metric_t + 1.0))


# Max-norm: a constraint, with no term in the loss.


@kernel
def bound_unit_norms(params, layer_units, max_norm):
    """The max-norm constraint: every unit's incoming weight vector (a column
    of a layer's coefficients, output layer included) whose L2 norm exceeds
    ``max_norm`` is rescaled to norm ``max_norm``, the projection onto that
    ball. Intercepts are not constrained. ``params`` is **modified in
    place**.
    """
    widest = 0
    for i in range(1, layer_units.shape[0]):
        widest = max(widest, layer_units[i])
    # Squared norms, then scales, of a layer's columns, summed row by row so
    # that the coefficients are read in memory order. One small allocation
    # per step, only with max_norm: column-by-column sums would need none but
    # read a wide first layer with a stride of its width.
    column = np.empty(widest)
    for layer in range(layer_units.shape[0] - 1):
        coef, _ = layer_parameters(params, layer_units, layer)
        fan_in, fan_out = coef.shape
        for h in range(fan_out):
            column[h] = 0.0
        for i in range(fan_in):
            for h in range(fan_out):
                column[h] += np.float64(coef[i, h]) ** 2
        for h in range(fan_out):
            norm = math.sqrt(column[h])
            column[h] = max_norm / norm if norm > max_norm else 1.0
        for i in range(fan_in):
            for h in range(fan_out):
                coef[i, h] = coef[i, h] * column[h]


# Where the optimizer meets them: one line per regularizer.


@kernel
def penalty(params, layer_units, settings):
    """Every penalty's term of the loss, summed (before the division by the
    batch's total sample weight that the callers make)."""
    total = weight_penalty(params, n_coefficients(layer_units), settings.l2, settings.l1)
    if settings.group_l1 > 0:
        total += group_penalty(params, layer_units, settings.group_l1)
    return total


@kernel
def apply_constraints(params, layer_units, settings):
    """Every constraint, after the step (**modifies** ``params`` in place)."""
    if settings.max_norm > 0:
        bound_unit_norms(params, layer_units, settings.max_norm)
