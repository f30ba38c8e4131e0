"""Random numbers for dropout, the forward pass, the data loss and the
backward pass."""

import math

import numpy as np

from .base import (
    ACT_LOGISTIC,
    ACT_RELU,
    ACT_TANH,
    LOSS_BINARY_LOG,
    LOSS_LOG,
    LOSS_POISSON,
    LOSS_SQUARED_ERROR,
    kernel,
)
from .layout import (
    input_product,
    input_transpose_product,
    layer_block,
    layer_parameters,
    mask_block,
)

# --------------------------------------------------------------------------
# Random numbers for dropout
# --------------------------------------------------------------------------


SPLITMIX_INCREMENT = np.uint64(0x9E3779B97F4A7C15)


@kernel
def uniform_at(state, k):
    """The ``k``-th (from 1) float64 uniform on [0, 1) that SplitMix64 draws
    from the uint64 ``state``: the generator is a counter, so any draw can be
    computed without the ones before it."""
    z = state + np.uint64(k) * SPLITMIX_INCREMENT
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@kernel
def next_uniform(rng_state):
    """Draw a float64 uniform on [0, 1) with SplitMix64.

    ``rng_state`` is a uint64 array of shape (1,), **modified in place**. The
    generator is explicit so that dropout masks derive from ``random_state``
    alone, never from Numba's or NumPy's global generators.
    """
    value = uniform_at(rng_state[0], 1)
    rng_state[0] += SPLITMIX_INCREMENT
    return value


@kernel
def drop_inputs(X_batch, X_csr, rows, drop_rate, rng_state, dropped_values):
    """Inverted dropout of a minibatch's input features.

    Feature ``j`` of the minibatch's row ``i`` is dropped (set to 0) when
    draw ``i * n_features + j + 1`` of the generator is below ``drop_rate``,
    and kept features are scaled by 1 / (1 - drop_rate). The draws are
    indexed by position, so dense and sparse input of the same rows get the
    same mask; the generator then advances past all ``n_rows * n_features``
    of them, as if each had been drawn.

    Parameters
    ----------
    X_batch : ndarray of shape (n_rows or 0, n_features)
        Dense input: the gathered rows, **modified in place**.
    X_csr, rows : the sparse input (see the module docstring)
        Sparse input: read, never written, never densified.
    drop_rate : float
    rng_state : ndarray of shape (1,), uint64
        **Advanced in place.**
    dropped_values : ndarray of shape (>= n_stored,)
        Sparse input: receives the stored values of ``rows``, in order,
        dropped and scaled (**modified in place**); unused for dense input.
    """
    keep_scale = 1.0 / (1.0 - drop_rate)
    n_features = X_batch.shape[1]
    state = rng_state[0]
    data, indices, indptr = X_csr
    if indptr.shape[0] == 0:
        for i in range(X_batch.shape[0]):
            for j in range(n_features):
                if uniform_at(state, i * n_features + j + 1) < drop_rate:
                    X_batch[i, j] = 0.0 * X_batch[i, j]
                else:
                    X_batch[i, j] = X_batch[i, j] * keep_scale
    else:
        stored = 0
        for i in range(rows.shape[0]):
            row = rows[i]
            for p in range(indptr[row], indptr[row + 1]):
                if uniform_at(state, i * n_features + indices[p] + 1) < drop_rate:
                    dropped_values[stored] = 0.0 * data[p]
                else:
                    dropped_values[stored] = data[p] * keep_scale
                stored += 1
    rng_state[0] = state + np.uint64(rows.shape[0] * n_features) * SPLITMIX_INCREMENT


# --------------------------------------------------------------------------
# Forward pass
# --------------------------------------------------------------------------


@kernel
def hidden_activation(z, activation):
    """The hidden activation ``activation`` (an ``ACT_*`` code) of ``z``."""
    if activation == ACT_RELU:
        # ``z < 0`` keeps NaN as NaN, so divergence stays visible.
        return z - z if z < 0 else z
    if activation == ACT_TANH:
        return math.tanh(z)
    if activation == ACT_LOGISTIC:
        return 1.0 / (1.0 + math.exp(-z))
    return z


@kernel
def activation_slope(output, activation):
    """d output / d input of the hidden activation, from its ``output`` (as
    scikit-learn's ``inplace_*_derivative`` compute it)."""
    if activation == ACT_RELU:
        return 0.0 if output == 0 else 1.0
    if activation == ACT_TANH:
        return 1.0 - output * output
    if activation == ACT_LOGISTIC:
        return output * (1.0 - output)
    return 1.0


@kernel
def activate_hidden(Z, intercept, activation):
    """Add the intercept and apply the hidden activation.

    ``Z`` of shape (n_rows, n_units) holds ``X @ coef`` on entry and the
    layer's output on exit (**modified in place**). The loop has no branch
    that depends on the element, so for ReLU LLVM vectorises it.
    """
    n_rows, n_units = Z.shape
    for i in range(n_rows):
        for j in range(n_units):
            Z[i, j] = hidden_activation(Z[i, j] + intercept[j], activation)


@kernel
def drop_units(output, keep_mask, drop_rate, rng_state):
    """Inverted dropout on a hidden layer's output.

    Parameters
    ----------
    output : ndarray of shape (n_rows, n_units)
        **Modified in place**: each unit is set to 0 with probability
        ``drop_rate``, and the kept ones are scaled by 1 / (1 - drop_rate).
    keep_mask : ndarray of shape (n_rows, n_units), uint8
        Receives 1 for kept units and 0 for dropped ones (**modified in
        place**), for :func:`backward`.
    drop_rate : float
    rng_state : ndarray of shape (1,), uint64
        Dropout generator state, **advanced in place**, one draw per unit in
        row-major order.
    """
    keep_scale = 1.0 / (1.0 - drop_rate)
    n_rows, n_units = output.shape
    for i in range(n_rows):
        for j in range(n_units):
            if next_uniform(rng_state) < drop_rate:
                output[i, j] = 0.0 * output[i, j]
                keep_mask[i, j] = 0
            else:
                output[i, j] = output[i, j] * keep_scale
                keep_mask[i, j] = 1


@kernel
def activate_output(Z, intercept, loss):
    """Add the intercept and apply the output activation that ``loss`` implies.

    ``Z`` of shape (n_rows, n_outputs) is **modified in place**: identity for
    squared error, logistic for binary log loss, softmax for log loss,
    exponential for the Poisson deviance.
    """
    n_rows, n_outputs = Z.shape
    for i in range(n_rows):
        for j in range(n_outputs):
            Z[i, j] += intercept[j]
        if loss == LOSS_BINARY_LOG:
            for j in range(n_outputs):
                Z[i, j] = 1.0 / (1.0 + math.exp(-Z[i, j]))
        elif loss == LOSS_POISSON:
            for j in range(n_outputs):
                Z[i, j] = math.exp(Z[i, j])
        elif loss == LOSS_LOG:
            row_max = Z[i, 0]
            for j in range(1, n_outputs):
                if Z[i, j] > row_max:
                    row_max = Z[i, j]
            row_sum = 0.0
            for j in range(n_outputs):
                Z[i, j] = math.exp(Z[i, j] - row_max)
                row_sum += Z[i, j]
            for j in range(n_outputs):
                Z[i, j] /= row_sum


@kernel
def forward(
    X,
    X_csr,
    rows,
    dropped_values,
    params,
    layer_units,
    settings,
    rng_state,
    activations,
    keep_mask,
):
    """Run the network on the input rows.

    Parameters
    ----------
    X, X_csr : the input pair (see the module docstring)
        Or, for prediction, a dense ``X`` without rows and an empty
        ``X_csr``: the caller has already written the rows' product with the
        first layer's coefficients into the first block of ``activations``.
    rows : ndarray of shape (n_rows,), int64
        Rows of the sparse matrix in use; only its length matters for dense X.
    dropped_values : ndarray
        A sparse minibatch's values after input dropout, or empty (see
        :func:`input_product`).
    params : ndarray of shape (n_params,)
    layer_units : ndarray of shape (n_layers,), int64
    settings : Settings
        Its activation and loss; its dropout rates apply only with a
        ``keep_mask``.
    rng_state : ndarray of shape (1,), uint64
        Advanced in place when dropout draws masks.
    activations : ndarray of shape (>= n_rows * n_units,)
        Flat block-layout buffer, **modified in place**.
    keep_mask : ndarray of shape (>= n_rows * n_hidden_units,) or (0,), uint8
        Training with dropout: a flat block-layout buffer over the hidden
        layers that receives the dropout masks (**modified in place**).
        Prediction, or training without dropout: an empty array, and then no
        unit is dropped. (A buffer rather than a bool flag, whose constant
        values Numba would compile separately.)

    Returns
    -------
    output : ndarray of shape (n_rows, layer_units[-1])
        A view into ``activations``.
    """
    n_rows = rows.shape[0]
    n_layers = layer_units.shape[0] - 1
    output_layer = n_layers - 1
    for layer in range(n_layers):
        coef, intercept = layer_parameters(params, layer_units, layer)
        Z = layer_block(activations, layer_units, layer, n_rows)
        if layer == 0:
            input_product(X, X_csr, rows, dropped_values, coef, Z)
        else:
            np.dot(layer_block(activations, layer_units, layer - 1, n_rows), coef, Z)
        if layer == output_layer:
            activate_output(Z, intercept, settings.loss)
        else:
            activate_hidden(Z, intercept, settings.activation)
            if keep_mask.shape[0] > 0 and settings.dropout[layer] > 0.0:
                drop_units(
                    Z,
                    mask_block(keep_mask, layer_units, layer, n_rows),
                    settings.dropout[layer],
                    rng_state,
                )
    return layer_block(activations, layer_units, output_layer, n_rows)


# --------------------------------------------------------------------------
# Data loss and backward pass
# --------------------------------------------------------------------------


@kernel
def data_loss_and_output_delta(output, Y, sample_weight, loss, proba_eps, delta):
    """Weighted data loss, summed over rows, and the output layer's delta.

    Parameters
    ----------
    output : ndarray of shape (n_rows, n_outputs)
        Network output after the output activation.
    Y : ndarray of shape (n_rows, n_outputs)
        Targets (0/1 indicators for the classifier).
    sample_weight : ndarray of shape (n_rows,)
    loss : int
        One of the ``LOSS_*`` codes.
    proba_eps : float
        Probabilities are clipped to [eps, 1 - eps] inside the log loss.
    delta : ndarray of shape (n_rows, n_outputs)
        Receives ``(output - Y) * sample_weight`` (**modified in place**).

    Returns
    -------
    loss_sum : float
        ``sum_i w_i * loss_i``, where ``loss_i`` is the function whose gradient
        ``delta`` is: half the squared error, the log loss or the half Poisson
        deviance, summed over outputs. Divide by ``sum(sample_weight)`` for
        the mean, and see :func:`reported_data_loss` for what skreg reports.
    """
    n_rows, n_outputs = output.shape
    total = 0.0
    for i in range(n_rows):
        w = sample_weight[i]
        row = 0.0
        for j in range(n_outputs):
            p = output[i, j]
            y = Y[i, j]
            delta[i, j] = (p - y) * w
            if loss == LOSS_SQUARED_ERROR:
                row += (y - p) * (y - p)
            elif loss == LOSS_POISSON:
                # Half the Poisson deviance, scikit-learn's form.
                if y > 0:
                    row += y * math.log(y / p)
                row += p - y
            else:
                p = min(max(p, proba_eps), 1.0 - proba_eps)
                if y != 0:
                    row -= y * math.log(p)
                if loss == LOSS_BINARY_LOG and y != 1:
                    row -= (1.0 - y) * math.log(1.0 - p)
        total += w * row
    if loss == LOSS_SQUARED_ERROR:
        total *= 0.5
    return total


@kernel
def reported_data_loss(data_loss, loss, n_outputs):
    """A data loss of :func:`data_loss_and_output_delta` as skreg reports it
    (``loss_``, ``loss_curve_``, the validation loss): the squared error
    averaged over the ``n_outputs`` outputs, scikit-learn's convention, and
    the other losses as they are."""
    if loss == LOSS_SQUARED_ERROR:
        return data_loss / n_outputs
    return data_loss


@kernel
def multiply_by_slope(delta, output, keep_mask, activation, drop_rate):
    """Turn the delta at a hidden layer's output into the delta at its input.

    ``delta`` of shape (n_rows, n_units) is multiplied by the slope of the
    activation, read off the layer's ``output`` (**modified in place**). With
    dropout (``drop_rate > 0``; ``keep_mask`` as :func:`drop_units` left it)
    dropped units get 0, and kept ones the slope at their unscaled output
    times the 1 / (1 - p) scale.
    """
    n_rows, n_units = delta.shape
    if drop_rate > 0.0:
        keep_scale = 1.0 / (1.0 - drop_rate)
        for i in range(n_rows):
            for j in range(n_units):
                if keep_mask[i, j] == 0:
                    delta[i, j] = 0.0 * delta[i, j]
                else:
                    slope = activation_slope(output[i, j] / keep_scale, activation)
                    delta[i, j] = delta[i, j] * (slope * keep_scale)
    else:
        for i in range(n_rows):
            for j in range(n_units):
                delta[i, j] = delta[i, j] * activation_slope(output[i, j], activation)


@kernel
def backward(
    X,
    X_csr,
    rows,
    dropped_values,
    params,
    raw_grads,
    layer_units,
    settings,
    activations,
    keep_mask,
    deltas,
):
    """Back-propagate the output delta into the data term's raw gradient.

    Parameters
    ----------
    X, X_csr, rows, dropped_values : the input, as given to :func:`forward`
    params : ndarray of shape (n_params,)
    raw_grads : ndarray of shape (n_params,)
        Receives ``A.T @ delta`` per weight matrix and ``sum(delta)`` per
        intercept, not yet divided by the total weight and without the
        penalties (**modified in place**); see :func:`finish_gradient`.
    layer_units : ndarray of shape (n_layers,), int64
    settings : Settings
        As given to :func:`forward`.
    activations, keep_mask : ndarray
        Buffers filled by :func:`forward` in training.
    deltas : ndarray
        Holds the output delta in the output block on entry; the hidden
        blocks are overwritten (**modified in place**).
    """
    n_rows = rows.shape[0]
    n_layers = layer_units.shape[0] - 1
    with_dropout = keep_mask.shape[0] > 0
    for layer in range(n_layers - 1, -1, -1):
        coef, _ = layer_parameters(params, layer_units, layer)
        coef_grad, intercept_grad = layer_parameters(raw_grads, layer_units, layer)
        delta = layer_block(deltas, layer_units, layer, n_rows)
        if layer == 0:
            input_transpose_product(X, X_csr, rows, dropped_values, delta, coef_grad)
        else:
            np.dot(layer_block(activations, layer_units, layer - 1, n_rows).T, delta, coef_grad)
        intercept_grad[:] = 0.0
        for i in range(n_rows):
            for j in range(intercept_grad.shape[0]):
                intercept_grad[j] += delta[i, j]
        if layer > 0:
            previous = layer_block(deltas, layer_units, layer - 1, n_rows)
            np.dot(delta, coef.T, previous)
            drop_rate = settings.dropout[layer - 1] if with_dropout else 0.0
            multiply_by_slope(
                previous,
                layer_block(activations, layer_units, layer - 1, n_rows),
                mask_block(keep_mask, layer_units, layer - 1, n_rows),
                settings.activation,
                drop_rate,
            )
