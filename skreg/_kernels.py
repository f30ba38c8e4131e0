"""Numba-compiled kernels: forward and backward passes, losses, penalties,
dropout, optimizer steps (with the L1 and group-lasso steps), one training
epoch and prediction.

Everything numeric that runs per minibatch lives here, so that Numba's on-disk
cache sees every function a cached kernel calls in one module.

Conventions shared by all kernels
---------------------------------
``params`` is one flat, C-contiguous buffer holding every coefficient matrix
(layer by layer, row-major) followed by every intercept vector, the order of
scikit-learn's ``_pack``; ``grads`` and the optimizer state use the same
layout. ``layer_units`` (int64) lists the width of every layer, input first.

Per-layer activations live in one flat buffer: for ``n_rows`` rows, the output
of layer ``l`` is the block ``[n_rows * sum(units[1:l+1]), ...)`` reshaped to
``(n_rows, units[l+1])``. ``deltas`` shares this layout, and so does the
dropout ``keep_mask`` over the hidden layers.

Targets and sample weights of a whole data set come in compact forms:
``Y`` of shape (n_samples, n_outputs) holds the targets (0/1 indicators for
binary and multi-label classification), except that for the multiclass log
loss it has one column holding each row's class index, as a float (one-hot
rows would take n_classes times the memory). An empty ``sample_weight`` means
unit weights.

The input of the first layer comes as a pair ``X, X_csr``. Dense input: ``X``
holds the rows in use and ``X_csr`` is three empty arrays. Sparse input:
``X_csr = (data, indices, indptr)`` is the whole CSR matrix (int64 indices),
``X`` an empty ``(0, n_features)`` array, and ``rows`` names the rows in use,
so a minibatch is never densified. Either way ``rows.shape[0]`` is the number
of rows, and both kinds share one compiled signature per float dtype.

Strings become integer codes at the Python boundary (``ACT_*``, ``LOSS_*``,
``OPTIMIZER_*``), and everything a kernel is told about a fit comes by name
in one :class:`Settings` tuple.
"""

import math
from collections import namedtuple

import numpy as np
from numba import njit

from ._prebuilt import load_prebuilt_first, prebuilt_enabled

ACT_IDENTITY = 0
ACT_LOGISTIC = 1
ACT_TANH = 2
ACT_RELU = 3
ACTIVATION_CODES = {
    "identity": ACT_IDENTITY,
    "logistic": ACT_LOGISTIC,
    "tanh": ACT_TANH,
    "relu": ACT_RELU,
}

# The loss fixes the output activation: each pair is canonical, so the output
# delta is simply ``prediction - target``.
LOSS_SQUARED_ERROR = 0  # identity output
LOSS_LOG = 1  # softmax output (multiclass)
LOSS_BINARY_LOG = 2  # logistic output (binary and multi-label)
LOSS_POISSON = 3  # exponential output (log link)

# The optimizer of 'sgd' and 'adam'; each kernel that depends on it branches
# on this code (see optimizer_update and step_metric).
OPTIMIZER_SGD = 0
OPTIMIZER_ADAM = 1

# The settings of a fit, by name. Numba types a namedtuple by the types of its
# fields, so every fit of one float dtype shares one compiled signature as
# long as each field keeps its type: int (the codes, batch_size), bool
# (nesterov), float (the rest), and a float64 array (dropout).
# skreg._settings builds it from an estimator's parameters; a float field
# named like a parameter is copied from it with no further code.
Settings = namedtuple(
    "Settings",
    [
        "activation",  # ACT_* of the hidden layers
        "loss",  # LOSS_*, which fixes the output activation
        "optimizer",  # OPTIMIZER_*
        "nesterov",  # Nesterov's momentum (sgd)
        "batch_size",  # rows per minibatch, or per chunk of a full-batch pass
        "learning_rate",  # the current epoch's (the drivers schedule it)
        "momentum",
        "beta_1",
        "beta_2",
        "epsilon",
        "proba_eps",  # clip of predicted probabilities in the log loss
        "l2",  # penalty 0.5 * l2 * ||W||^2 on the weights
        "l1",  # penalty l1 * ||W||_1 on the weights (exact zeros)
        "group_l1",  # group lasso on each input feature's first-layer weights
        "max_norm",  # bound on each unit's incoming weight norm; 0 for none
        "input_dropout",  # drop rate of the input features
        "dropout",  # drop rate of each hidden layer's units
    ],
)

# Newton iterations of the group-lasso step in Adam's metric (see
# shrink_group); from below, a few reach 1e-12 relative.
GROUP_NEWTON_ITERATIONS = 30


def _cached_kernel(**options):
    """``njit(cache=True, **options)``, loading the kernels compiled at
    install time first when there are any (see :mod:`skreg._prebuilt`)."""
    compile_on_first_call = njit(cache=True, **options)
    if not prebuilt_enabled():
        return compile_on_first_call
    return lambda function: load_prebuilt_first(compile_on_first_call(function))


# Every kernel divides as NumPy does (x / 0 gives inf or NaN, which the
# drivers report as divergence) rather than raising: the check for a zero
# divisor is a branch in every loop, and it keeps LLVM from vectorising them.
# Kernels take only arrays and scalars, so they release the GIL: fits in
# threads (joblib's threading backend, Dask's threaded scheduler) run side
# by side.
kernel = _cached_kernel(error_model="numpy", nogil=True)
# Sums over all weights may be reassociated, so that LLVM vectorises them.
# Only reassociation: NaN and inf still propagate, so divergence stays visible.
sum_kernel = _cached_kernel(error_model="numpy", fastmath={"reassoc"}, nogil=True)


# --------------------------------------------------------------------------
# Layout helpers
# --------------------------------------------------------------------------


@kernel
def n_coefficients(layer_units):
    """Number of weights (not intercepts) in a network with ``layer_units``."""
    total = 0
    for layer in range(layer_units.shape[0] - 1):
        total += layer_units[layer] * layer_units[layer + 1]
    return total


@kernel
def layer_parameters(params, layer_units, layer):
    """Views of one layer's coefficients and intercepts in a flat buffer.

    Parameters
    ----------
    params : ndarray of shape (n_params,), float32 or float64
        Flat parameter (or gradient, or optimizer-state) buffer.
    layer_units : ndarray of shape (n_layers,), int64
    layer : int
        Index of the weight layer, 0 for the one fed by the input.

    Returns
    -------
    coef : ndarray of shape (layer_units[layer], layer_units[layer + 1])
        A view into ``params``.
    intercept : ndarray of shape (layer_units[layer + 1],)
        A view into ``params``.
    """
    coef_start = 0
    for i in range(layer):
        coef_start += layer_units[i] * layer_units[i + 1]
    intercept_start = n_coefficients(layer_units)
    for i in range(layer):
        intercept_start += layer_units[i + 1]
    fan_in = layer_units[layer]
    fan_out = layer_units[layer + 1]
    coef = params[coef_start : coef_start + fan_in * fan_out].reshape((fan_in, fan_out))
    intercept = params[intercept_start : intercept_start + fan_out]
    return coef, intercept


@kernel
def block_start(layer_units, layer, n_rows):
    """Offset of layer ``layer``'s block for ``n_rows`` rows in a flat
    block-layout buffer."""
    start = 0
    for i in range(layer):
        start += n_rows * layer_units[i + 1]
    return start


@kernel
def layer_block(buffer, layer_units, layer, n_rows):
    """View of layer ``layer``'s output block for ``n_rows`` rows.

    Returns an ndarray of shape (n_rows, layer_units[layer + 1]) that is a view
    into the float ``buffer``.
    """
    start = block_start(layer_units, layer, n_rows)
    width = layer_units[layer + 1]
    return buffer[start : start + n_rows * width].reshape((n_rows, width))


@kernel
def mask_block(keep_mask, layer_units, layer, n_rows):
    """:func:`layer_block` of the uint8 ``keep_mask``, or an empty (0, 0) mask
    if ``keep_mask`` is empty (no dropout)."""
    if keep_mask.shape[0] == 0:
        return keep_mask.reshape((0, 0))
    start = block_start(layer_units, layer, n_rows)
    width = layer_units[layer + 1]
    return keep_mask[start : start + n_rows * width].reshape((n_rows, width))


@kernel
def layer_buffers(work, layer_units, capacity):
    """The per-layer buffers at the front of a work array.

    Returns ``activations, deltas``, each a flat view of length
    ``capacity * n_units`` (n_units: every layer's width but the input's) in
    the per-layer block layout.
    """
    n_units = 0
    for i in range(1, layer_units.shape[0]):
        n_units += layer_units[i]
    size = capacity * n_units
    return work[:size], work[size : 2 * size]


@kernel
def split_workspace(work, layer_units, capacity, n_rows, dense_input):
    """Carve a minibatch's buffers out of one work array.

    Parameters
    ----------
    work : ndarray of shape (NetworkLayout.workspace_size(capacity, ...),)
    layer_units : ndarray of shape (n_layers,), int64
    capacity : int
        Largest number of rows the work array was sized for.
    n_rows : int
        Rows of this minibatch, at most ``capacity``.
    dense_input : bool
        Whether rows of a dense input are gathered into ``X_batch`` (the work
        array then has room for them); sparse input is read in place and gets
        an ``X_batch`` without rows.

    Returns
    -------
    X_batch : ndarray of shape (n_rows or 0, layer_units[0])
    Y_batch : ndarray of shape (n_rows, layer_units[-1])
    weight_batch : ndarray of shape (n_rows,)
    activations, deltas : ndarray of shape (capacity * n_units,)
        As returned by :func:`layer_buffers`.
    dropped_values : ndarray of shape (n_stored_room,)
        The rest of the work array: room for a sparse minibatch's stored
        values after input dropout (empty if none was made).
    """
    activations, deltas = layer_buffers(work, layer_units, capacity)
    n_in = layer_units[0]
    n_out = layer_units[-1]
    start = 2 * activations.shape[0]
    Y_batch = work[start : start + n_rows * n_out].reshape((n_rows, n_out))
    start += capacity * n_out
    weight_batch = work[start : start + n_rows]
    start += capacity
    x_rows = n_rows if dense_input else 0
    X_batch = work[start : start + x_rows * n_in].reshape((x_rows, n_in))
    start += capacity * n_in if dense_input else 0
    return X_batch, Y_batch, weight_batch, activations, deltas, work[start:]


# --------------------------------------------------------------------------
# First layer: dense or sparse input
# --------------------------------------------------------------------------


@kernel
def input_product(X, X_csr, rows, dropped_values, coef, out):
    """``out = input_rows @ coef``, the first layer's pre-activation.

    Parameters
    ----------
    X, X_csr : the input pair (see the module docstring)
    rows : ndarray of shape (n_rows,), int64
        Rows of the sparse matrix in use; only its length matters for dense X.
    dropped_values : ndarray of shape (n_stored,) or (0,)
        Sparse input with input dropout: the stored values of ``rows``, in
        order, after :func:`drop_inputs`, read instead of ``data``. Empty
        otherwise.
    coef : ndarray of shape (n_features, n_units)
    out : ndarray of shape (n_rows, n_units)
        **Modified in place.**
    """
    data, indices, indptr = X_csr
    if indptr.shape[0] == 0:
        if X.shape[0] == rows.shape[0]:
            np.dot(X, coef, out)
        # else: a dense X without rows; the caller wrote the product into out.
        return
    out[:] = 0.0
    dropped = dropped_values.shape[0] > 0
    stored = 0
    for i in range(rows.shape[0]):
        row = rows[i]
        for p in range(indptr[row], indptr[row + 1]):
            value = dropped_values[stored] if dropped else data[p]
            stored += 1
            feature = indices[p]
            for j in range(out.shape[1]):
                out[i, j] += value * coef[feature, j]


@kernel
def input_transpose_product(X, X_csr, rows, dropped_values, delta, out):
    """``out = input_rows.T @ delta``, the first layer's weight gradient.

    ``out`` of shape (n_features, n_units) is **modified in place**; other
    arguments as in :func:`input_product`.
    """
    data, indices, indptr = X_csr
    if indptr.shape[0] == 0:
        np.dot(X.T, delta, out)
        return
    out[:] = 0.0
    dropped = dropped_values.shape[0] > 0
    stored = 0
    for i in range(rows.shape[0]):
        row = rows[i]
        for p in range(indptr[row], indptr[row + 1]):
            value = dropped_values[stored] if dropped else data[p]
            stored += 1
            feature = indices[p]
            for j in range(out.shape[1]):
                out[feature, j] += value * delta[i, j]


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
        ``sum_i w_i * loss_i``: half the squared error averaged over outputs
        (scikit-learn's convention), or the log loss or the half Poisson
        deviance summed over outputs.
        Divide by ``sum(sample_weight)`` for the mean.
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
        total *= 0.5 / n_outputs
    return total


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
    """The curvature the step of parameter ``k`` assumed, as a float64:
    Adam's ``(sqrt(v_k) + eps) / rate``, and for momentum SGD
    ``(1 - momentum) / rate``, the inverse of its effective step on a steady
    gradient, ``rate / (1 - momentum)``."""
    rate = np.float64(constants[STEP_LEARNING_RATE])
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
    ``rate * penalty / (1 - momentum)``. For Adam, H is convex and decreasing,
    so Newton's method started below the root (from the bound with the
    largest ``D_i``) rises to it monotonically.

    At a zero row, ``D * row`` is the step's own gradient term (Adam's first
    moment; SGD's velocity, which near a steady gradient ``g`` tends to
    ``rate * g / (1 - momentum)``): the row stays at zero while that is
    smaller than the penalty. So an SGD row keeps its velocity while it stays
    at zero, and loses it only on the step that sets it to zero.

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


# --------------------------------------------------------------------------
# Optimizer steps
# --------------------------------------------------------------------------

# Positions in the tuple of step constants (see :func:`step_constants`).
STEP_LEARNING_RATE = 0
STEP_MOMENTUM = 1
STEP_BETA_1 = 2
STEP_ONE_MINUS_BETA_1 = 3
STEP_BETA_2 = 4
STEP_ONE_MINUS_BETA_2 = 5
STEP_EPSILON = 6
STEP_L2 = 7
STEP_WEIGHT_SUM = 8
STEP_L1_PENALTY = 9
STEP_GROUP_L1_PENALTY = 10


@kernel
def step_constants(params, settings, learning_rate, weight_sum, l2, l1_penalty, group_penalty):
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
def step_rate(settings, optimizer_steps):
    """The learning rate of this step: the epoch's, bias-corrected for Adam,
    whose step count ``optimizer_steps[0]`` it advances (**in place**)."""
    if settings.optimizer == OPTIMIZER_ADAM:
        optimizer_steps[0] += 1
        t = optimizer_steps[0]
        return (
            settings.learning_rate
            * math.sqrt(1.0 - settings.beta_2**t)
            / (1.0 - settings.beta_1**t)
        )
    return settings.learning_rate


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
        Steps taken so far, for Adam's bias correction; **incremented in
        place** by an Adam step.
    settings : Settings
        The L1 and group-lasso penalties of the step are ``settings.l1 /
        weight_sum`` and ``settings.group_l1 / weight_sum``.

    Notes
    -----
    The order within a step: the optimizer's update of every parameter (data
    gradient, L2, and L1's clipped step), then the group lasso's proximal
    step on each input feature's row, then the constraints
    (:func:`apply_constraints`).
    """
    optimizer = settings.optimizer
    learning_rate = step_rate(settings, optimizer_steps)
    weights = step_constants(
        params,
        settings,
        learning_rate,
        weight_sum,
        settings.l2,
        settings.l1 / weight_sum,
        settings.group_l1 / weight_sum,
    )
    intercepts = step_constants(params, settings, learning_rate, weight_sum, 0.0, 0.0, 0.0)
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


# --------------------------------------------------------------------------
# Drivers called from Python
# --------------------------------------------------------------------------


@kernel
def gather_input_rows(X, rows, X_batch):
    """Copy ``X[rows]`` into ``X_batch`` (**modified in place**).

    The drivers gather even full-batch and prediction rows, so that the
    layer kernels only ever see the writable work array: a read-only input
    (a joblib memmap) then costs no extra compiled signature. Sparse input
    has an ``X_batch`` without rows, and nothing is copied.
    """
    # Element loops: a row slice assignment costs a general broadcasting
    # copy per row, and seconds of compile time.
    for i in range(X_batch.shape[0]):
        row = rows[i]
        for j in range(X_batch.shape[1]):
            X_batch[i, j] = X[row, j]


@kernel
def gather_targets(Y, sample_weight, rows, Y_batch, weight_batch):
    """Copy the targets and sample weights of ``rows`` into the batch buffers
    (**modified in place**) and return the batch's total weight.

    ``Y`` and ``sample_weight`` are in the compact forms of the module
    docstring: class indices are expanded into one-hot rows, and an empty
    ``sample_weight`` gives every row weight 1.
    """
    class_indices = Y.shape[1] != Y_batch.shape[1]
    unit_weights = sample_weight.shape[0] == 0
    weight_sum = 0.0
    for i in range(rows.shape[0]):
        row = rows[i]
        if class_indices:
            for j in range(Y_batch.shape[1]):
                Y_batch[i, j] = 0
            Y_batch[i, int(Y[row, 0])] = 1
        else:
            for j in range(Y_batch.shape[1]):
                Y_batch[i, j] = Y[row, j]
        weight = 1.0 if unit_weights else sample_weight[row]
        weight_batch[i] = weight
        weight_sum += weight
    return weight_sum


@kernel
def run_epoch(
    X,
    X_csr,
    Y,
    sample_weight,
    sample_order,
    params,
    grads,
    optimizer_state,
    work,
    layer_units,
    settings,
    optimizer_steps,
    rng_state,
):
    """Train one epoch of minibatch SGD or Adam; no Python runs per minibatch.

    Parameters
    ----------
    X, X_csr : the input pair (see the module docstring), all samples
    Y : ndarray of shape (n_samples, n_outputs or 1), same dtype as ``params``
        Compact targets (see the module docstring).
    sample_weight : ndarray of shape (n_samples,) or (0,)
    sample_order : ndarray of shape (n_samples,), int64
        Row indices in the order the minibatches take them.
    params : ndarray of shape (n_params,)
        **Modified in place.**
    grads : ndarray of shape (n_params,)
        Scratch space, overwritten.
    optimizer_state : ndarray of shape (2, n_params)
        Velocity (sgd, row 0) or first and second moments (adam), **modified
        in place**.
    work : ndarray of shape (NetworkLayout.workspace_size(batch_size, n, m),)
        Scratch space, overwritten; ``n`` is ``layer_units[0]`` for dense X
        and 0 for sparse X, ``m`` the room for a sparse minibatch's stored
        values under input dropout (else 0).
    layer_units : ndarray of shape (n_layers,), int64
    settings : Settings
        ``settings.input_dropout`` drops input features (:func:`drop_inputs`)
        before each minibatch's forward pass, which then draws the hidden
        units' masks.
    optimizer_steps : ndarray of shape (1,), int64
        Adam steps taken so far, **incremented in place** per minibatch.
    rng_state : ndarray of shape (1,), uint64
        Dropout generator state, **advanced in place**.

    Returns
    -------
    loss_sum : float
        Sum over minibatches of (batch loss x batch rows); divide by
        ``n_samples`` for scikit-learn's ``loss_``. A batch loss is the
        weighted mean data loss plus the penalties (L2, L1, group lasso)
        over the batch's weight.
    """
    batch_size = settings.batch_size
    n_samples = sample_order.shape[0]
    input_drop_rate = settings.input_dropout
    dense = X_csr[2].shape[0] == 0
    n_hidden_units = 0
    for i in range(1, layer_units.shape[0] - 1):
        n_hidden_units += layer_units[i]
    with_dropout = False
    for rate in settings.dropout:
        with_dropout = with_dropout or rate > 0.0
    keep_mask = np.empty(batch_size * n_hidden_units if with_dropout else 0, dtype=np.uint8)
    loss_sum = 0.0
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        n_rows = stop - start
        rows = sample_order[start:stop]
        X_batch, Y_batch, weight_batch, activations, deltas, dropped_room = split_workspace(
            work, layer_units, batch_size, n_rows, dense
        )
        gather_input_rows(X, rows, X_batch)
        weight_sum = gather_targets(Y, sample_weight, rows, Y_batch, weight_batch)
        if weight_sum <= 0.0:
            # Only zero-weight rows: they carry no gradient information.
            continue
        dropped_values = dropped_room[:0]
        if input_drop_rate > 0:
            drop_inputs(X_batch, X_csr, rows, input_drop_rate, rng_state, dropped_room)
            if not dense:
                dropped_values = dropped_room
        output = forward(
            X_batch,
            X_csr,
            rows,
            dropped_values,
            params,
            layer_units,
            settings,
            rng_state,
            activations,
            keep_mask,
        )
        output_delta = layer_block(deltas, layer_units, layer_units.shape[0] - 2, n_rows)
        data_loss = data_loss_and_output_delta(
            output, Y_batch, weight_batch, settings.loss, settings.proba_eps, output_delta
        )
        penalties = penalty(params, layer_units, settings)
        loss_sum += (data_loss / weight_sum + penalties / weight_sum) * n_rows
        backward(
            X_batch,
            X_csr,
            rows,
            dropped_values,
            params,
            grads,
            layer_units,
            settings,
            activations,
            keep_mask,
            deltas,
        )
        optimizer_step(
            params, grads, optimizer_state, layer_units, weight_sum, optimizer_steps, settings
        )
    return loss_sum


@kernel
def loss_and_gradient(
    X, X_csr, Y, sample_weight, params, grads, grad_scratch, work, layer_units, settings
):
    """Full-batch loss and gradient, for L-BFGS, accumulated over chunks of rows.

    Parameters
    ----------
    X, X_csr : the input pair (see the module docstring), all samples
    Y : ndarray of shape (n_samples, n_outputs or 1)
        Compact targets (see the module docstring).
    sample_weight : ndarray of shape (n_samples,) or (0,)
    params : ndarray of shape (n_params,)
    grads : ndarray of shape (n_params,)
        Receives the gradient (**modified in place**).
    grad_scratch : ndarray of shape (n_params,)
        Scratch space for one chunk's raw gradient, overwritten.
    work : ndarray of shape (NetworkLayout.workspace_size(chunk_size, n),)
        Scratch space, overwritten; its size sets the chunk's rows, and ``n``
        is ``layer_units[0]`` for dense X and 0 for sparse X.
    layer_units, settings
        As in :func:`run_epoch`, without dropout; the penalties must be smooth
        (L2 only), and ``settings.batch_size`` is the chunk size.

    Returns
    -------
    loss : float
        Weighted mean data loss plus the L2 penalty over the total weight.
    """
    n_samples = Y.shape[0]
    chunk_size = settings.batch_size
    dense = X_csr[2].shape[0] == 0
    no_keep_mask = np.empty(0, dtype=np.uint8)
    unused_rng = np.zeros(1, dtype=np.uint64)
    grads[:] = 0.0
    data_loss = 0.0
    weight_sum = 0.0
    for start in range(0, n_samples, chunk_size):
        stop = min(start + chunk_size, n_samples)
        rows = np.arange(start, stop)
        X_batch, Y_batch, weight_batch, activations, deltas, dropped_room = split_workspace(
            work, layer_units, chunk_size, stop - start, dense
        )
        no_dropped_values = dropped_room[:0]
        gather_input_rows(X, rows, X_batch)
        weight_sum += gather_targets(Y, sample_weight, rows, Y_batch, weight_batch)
        output = forward(
            X_batch,
            X_csr,
            rows,
            no_dropped_values,
            params,
            layer_units,
            settings,
            unused_rng,
            activations,
            no_keep_mask,
        )
        output_delta = layer_block(deltas, layer_units, layer_units.shape[0] - 2, stop - start)
        data_loss += data_loss_and_output_delta(
            output, Y_batch, weight_batch, settings.loss, settings.proba_eps, output_delta
        )
        backward(
            X_batch,
            X_csr,
            rows,
            no_dropped_values,
            params,
            grad_scratch,
            layer_units,
            settings,
            activations,
            no_keep_mask,
            deltas,
        )
        grads += grad_scratch
    finish_gradient(params, grads, n_coefficients(layer_units), settings.l2, weight_sum)
    return data_loss / weight_sum + penalty(params, layer_units, settings) / weight_sum


@kernel
def predict_output(X, X_csr, params, layer_units, settings, chunk_size):
    """Network output for every input row, computed in chunks of rows.

    Parameters
    ----------
    X, X_csr : the input pair (see the module docstring), all samples
    params : ndarray of shape (n_params,)
    layer_units : ndarray of shape (n_layers,), int64
    settings : Settings
        Only the activation and the loss are read: prediction never drops.
    chunk_size : int
        Rows per forward pass; bounds the memory of the activations.

    Returns
    -------
    output : ndarray of shape (n_samples, layer_units[-1]), dtype of params
    """
    dense = X_csr[2].shape[0] == 0
    n_samples = X.shape[0] if dense else X_csr[2].shape[0] - 1
    n_in = layer_units[0]
    n_units = 0
    for i in range(1, layer_units.shape[0]):
        n_units += layer_units[i]
    capacity = max(1, min(chunk_size, n_samples))
    activations = np.empty(capacity * n_units, dtype=params.dtype)
    # Dense rows are read in place: the chunk's first-layer product is taken
    # here, and forward gets an X without rows (it may not see the read-only
    # input itself, which would compile it a second time).
    no_rows = np.empty((0, n_in), dtype=params.dtype)
    # The first layer's coefficients and output block both start at offset 0
    # (sliced here: a literal layer 0 would compile the helpers again).
    n_first = layer_units[1]
    first_coef = params[: n_in * n_first].reshape((n_in, n_first))
    no_keep_mask = np.empty(0, dtype=np.uint8)
    unused_rng = np.zeros(1, dtype=np.uint64)
    output = np.empty((n_samples, layer_units[-1]), dtype=params.dtype)
    for start in range(0, n_samples, capacity):
        stop = min(start + capacity, n_samples)
        rows = np.arange(start, stop)
        if dense:
            np.dot(
                X[start:stop],
                first_coef,
                activations[: (stop - start) * n_first].reshape((stop - start, n_first)),
            )
        chunk_output = forward(
            no_rows,
            X_csr,
            rows,
            activations[:0],
            params,
            layer_units,
            settings,
            unused_rng,
            activations,
            no_keep_mask,
        )
        # An element loop: a 2-d slice assignment compiles for about 4 s.
        for i in range(chunk_output.shape[0]):
            for j in range(chunk_output.shape[1]):
                output[start + i, j] = chunk_output[i, j]
    return output
