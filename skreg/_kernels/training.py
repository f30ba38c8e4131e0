"""What the drivers call: one training epoch, the full-batch loss and
gradient for L-BFGS, and prediction."""

import numpy as np

from .base import kernel
from .layout import layer_block, n_coefficients, split_workspace
from .network import (
    backward,
    data_loss_and_output_delta,
    drop_inputs,
    forward,
    reported_data_loss,
)
from .optimizer import optimizer_step
from .regularizers import finish_gradient, penalty

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
        Optimizer steps taken so far, **incremented in place** per minibatch.
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
        data_loss = reported_data_loss(data_loss, settings.loss, layer_units[-1])
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
    objective : float
        Weighted mean data loss plus the L2 penalty over the total weight:
        the function whose gradient ``grads`` receives.
    reported_loss : float
        The same with the data loss as skreg reports it
        (:func:`reported_data_loss`): the squared error averaged over the
        outputs, not summed.
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
    penalties = penalty(params, layer_units, settings) / weight_sum
    reported = reported_data_loss(data_loss, settings.loss, layer_units[-1])
    return data_loss / weight_sum + penalties, reported / weight_sum + penalties


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
