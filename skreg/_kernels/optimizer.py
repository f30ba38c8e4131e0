"""The optimizer step: its constants, SGD's and Adam's updates, and one
step over every parameter with every penalty and constraint."""

import math

import numpy as np

from .base import (
    OPTIMIZER_ADAM,
    OPTIMIZER_SGD,
    STEP_BETA_1,
    STEP_BETA_2,
    STEP_EPSILON,
    STEP_L1_PENALTY,
    STEP_L2,
    STEP_LEARNING_RATE,
    STEP_MOMENTUM,
    STEP_ONE_MINUS_BETA_1,
    STEP_ONE_MINUS_BETA_2,
    STEP_WEIGHT_SUM,
    kernel,
)
from .layout import n_coefficients
from .regularizers import (
    apply_constraints,
    clip_to_orthant,
    is_zero,
    l1_pseudo_gradient,
    penalised_gradient,
    shrink_group,
)

# --------------------------------------------------------------------------
# Optimizer steps
# --------------------------------------------------------------------------


@kernel
def step_constants(
    params, settings, learning_rate, moment_warmup, weight_sum, l2, l1_penalty, group_penalty
):
    """The constants of a step, a tuple indexed by the ``STEP_*`` constants.

    Every value is cast to the dtype of ``params``: a float32 network then
    updates in float32 throughout, as scikit-learn's NumPy code does, and
    twice as many of its parameters fit in a vector register. A tuple, unlike
    an array, cannot alias the parameters, so LLVM keeps its values in
    registers.
    """
    to_dtype = params.dtype.type
    beta_1 = settings.beta_1
    beta_2 = settings.beta_2
    return (
        to_dtype(learning_rate),
        to_dtype(settings.momentum),
        to_dtype(beta_1),
        to_dtype(1.0 - beta_1),
        to_dtype(beta_2),
        to_dtype(1.0 - beta_2),
        to_dtype(settings.epsilon),
        to_dtype(l2),
        to_dtype(weight_sum),
        to_dtype(l1_penalty),
        to_dtype(group_penalty),
        to_dtype(moment_warmup),
    )


@kernel
def adam_update(w, g, first_moment, second_moment, constants):
    """Adam's update of one parameter: ``(w, first_moment, second_moment)``
    after the step, with the bias-corrected rate in ``constants``."""
    first_moment = constants[STEP_BETA_1] * first_moment + constants[STEP_ONE_MINUS_BETA_1] * g
    second_moment = constants[STEP_BETA_2] * second_moment + constants[STEP_ONE_MINUS_BETA_2] * (
        g * g
    )
    step = (
        -constants[STEP_LEARNING_RATE]
        * first_moment
        / (np.sqrt(second_moment) + constants[STEP_EPSILON])
    )
    return w + step, first_moment, second_moment


@kernel
def momentum_update(w, g, velocity, constants, nesterov):
    """Momentum SGD's update of one parameter: ``(w, velocity)`` after the step."""
    learning_rate = constants[STEP_LEARNING_RATE]
    momentum = constants[STEP_MOMENTUM]
    velocity = momentum * velocity - learning_rate * g
    if nesterov:
        return w + (momentum * velocity - learning_rate * g), velocity
    return w + velocity, velocity


@kernel
def optimizer_update(optimizer, w, g, first_state, second_state, constants, nesterov):
    """The update of one parameter by the optimizer of code ``optimizer``:
    ``(w, first_state, second_state)`` after the step. The states are SGD's
    velocity (its second state unused) or Adam's two moments; a new
    optimizer is a new branch here and in :func:`step_metric`."""
    if optimizer == OPTIMIZER_ADAM:
        return adam_update(w, g, first_state, second_state, constants)
    w, first_state = momentum_update(w, g, first_state, constants, nesterov)
    return w, first_state, second_state


@kernel
def step_part(params, raw_grads, first_state, second_state, constants, optimizer, nesterov):
    """One optimizer step on a run of parameters that share their penalties.

    All arrays are 1-d views of one length; ``params`` and the states are
    **modified in place**. ``first_state`` is the velocity (sgd) or first
    moment (adam), ``second_state`` Adam's second moment (unused by sgd).

    With L1 (``constants[STEP_L1_PENALTY] > 0``) the OWL-QN pseudo-gradient
    replaces the gradient, so L1 gets momentum's or Adam's per-weight scaling
    like the data gradient, and :func:`clip_to_orthant` puts a step across
    zero on exactly 0 (resetting an SGD velocity; with momentum 0 this is the
    soft-threshold step of proximal gradient descent, clipped at zero).
    Without L1 each loop is branch-free, so LLVM vectorises it.
    """
    l1_penalty = constants[STEP_L1_PENALTY]
    if l1_penalty > 0:
        for k in range(params.shape[0]):
            w = params[k]
            g = l1_pseudo_gradient(
                w,
                penalised_gradient(raw_grads[k], w, constants[STEP_L2], constants[STEP_WEIGHT_SUM]),
                l1_penalty,
            )
            updated, first_state[k], second_state[k] = optimizer_update(
                optimizer, w, g, first_state[k], second_state[k], constants, nesterov
            )
            updated = clip_to_orthant(w, g, updated)
            if updated == 0 and optimizer == OPTIMIZER_SGD:
                first_state[k] = 0  # a velocity through zero would carry the weight across
            params[k] = updated
    elif optimizer == OPTIMIZER_ADAM:
        # Each optimizer's own loop, without L1's branches, so that LLVM
        # vectorises it.
        for k in range(params.shape[0]):
            w = params[k]
            params[k], first_state[k], second_state[k] = adam_update(
                w,
                penalised_gradient(raw_grads[k], w, constants[STEP_L2], constants[STEP_WEIGHT_SUM]),
                first_state[k],
                second_state[k],
                constants,
            )
    else:
        for k in range(params.shape[0]):
            w = params[k]
            params[k], first_state[k] = momentum_update(
                w,
                penalised_gradient(raw_grads[k], w, constants[STEP_L2], constants[STEP_WEIGHT_SUM]),
                first_state[k],
                constants,
                nesterov,
            )


@kernel
def step_rate(settings, t):
    """The learning rate of the ``t``-th step (1-based): the epoch's,
    bias-corrected for Adam."""
    if settings.optimizer == OPTIMIZER_ADAM:
        return (
            settings.learning_rate
            * math.sqrt(1.0 - settings.beta_2**t)
            / (1.0 - settings.beta_1**t)
        )
    return settings.learning_rate


@kernel
def moment_warmup(settings, t):
    """How much of its steady-state weight the step's running sum of
    gradients has at the ``t``-th step (1-based): ``1 - beta_1**t`` for
    Adam's first moment, ``1 - momentum**t`` for a momentum SGD step, and
    ``1 - momentum**(t + 1)`` for a Nesterov step, which adds the current
    gradient once more. Under a steady gradient ``g`` the step is then
    ``warmup * g`` times its steady size; :func:`step_metric` divides it
    out, so that the group lasso weighs the penalty against the gradient
    itself and not against a sum still warming up."""
    if settings.optimizer == OPTIMIZER_ADAM:
        return 1.0 - settings.beta_1**t
    if settings.nesterov:
        return 1.0 - settings.momentum ** (t + 1)
    return 1.0 - settings.momentum**t


@kernel
def decay_weights(weights, rate):
    """Decoupled weight decay: multiply ``weights`` by ``1 - rate``
    (**in place**), in their own dtype."""
    factor = weights.dtype.type(1.0 - rate)
    for k in range(weights.shape[0]):
        weights[k] *= factor


@kernel
def optimizer_step(
    params, raw_grads, optimizer_state, layer_units, weight_sum, optimizer_steps, settings
):
    """Finish a minibatch's gradient and take one optimizer step, with every
    penalty's step and constraint.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        **Modified in place.**
    raw_grads : ndarray of shape (n_params,)
        Raw sums from :func:`backward`; each parameter's gradient is finished
        on the fly, as :func:`finish_gradient` does.
    optimizer_state : ndarray of shape (2, n_params)
        Velocity (sgd, row 0) or first and second moments (adam), **modified
        in place**.
    layer_units : ndarray of shape (n_layers,), int64
        The network's layout: the weights get the L2 and L1 penalties, the
        intercepts neither, and each input feature's row of first-layer
        weights the group lasso (:func:`shrink_group`).
    weight_sum : float
        The minibatch's total sample weight.
    optimizer_steps : ndarray of shape (1,), int64
        Steps taken so far, for Adam's bias correction and the group lasso's
        warm-up (:func:`moment_warmup`); **incremented in place**.
    settings : Settings
        The L1 and group-lasso penalties of the step are ``settings.l1 /
        weight_sum`` and ``settings.group_l1 / weight_sum``.

    Notes
    -----
    The order within a step: the decoupled weight decay of the weights
    (:func:`decay_weights` by the epoch's ``learning_rate * weight_decay``,
    as PyTorch's AdamW, before the update and outside Adam's scaling), the
    optimizer's update of every parameter (data gradient, L2, and L1's
    clipped step), then the group lasso's proximal step on each input
    feature's row, then the constraints (:func:`apply_constraints`).
    """
    optimizer = settings.optimizer
    optimizer_steps[0] += 1
    t = optimizer_steps[0]
    learning_rate = step_rate(settings, t)
    if settings.weight_decay > 0:
        decay_weights(
            params[: n_coefficients(layer_units)], settings.learning_rate * settings.weight_decay
        )
    weights = step_constants(
        params,
        settings,
        learning_rate,
        moment_warmup(settings, t),
        weight_sum,
        settings.l2,
        settings.l1 / weight_sum,
        settings.group_l1 / weight_sum,
    )
    intercepts = step_constants(params, settings, learning_rate, 1.0, weight_sum, 0.0, 0.0, 0.0)
    nesterov = settings.nesterov
    first, second = optimizer_state[0], optimizer_state[1]
    n = n_coefficients(layer_units)
    # Each part is its own view: loops over a view start at 0, which LLVM
    # needs to see to vectorise them.
    grouped = 0
    if settings.group_l1 > 0:
        # One input feature's row of first-layer weights at a time: its step,
        # then the group lasso's proximal step on it.
        width = layer_units[1]
        grouped = layer_units[0] * width
        for start in range(0, grouped, width):
            stop = start + width
            was_zero = is_zero(params[start:stop])
            step_part(
                params[start:stop],
                raw_grads[start:stop],
                first[start:stop],
                second[start:stop],
                weights,
                optimizer,
                nesterov,
            )
            shrink_group(
                params[start:stop],
                first[start:stop],
                second[start:stop],
                weights,
                optimizer,
                was_zero,
            )
    step_part(
        params[grouped:n],
        raw_grads[grouped:n],
        first[grouped:n],
        second[grouped:n],
        weights,
        optimizer,
        nesterov,
    )
    step_part(params[n:], raw_grads[n:], first[n:], second[n:], intercepts, optimizer, nesterov)
    apply_constraints(params, layer_units, settings)
