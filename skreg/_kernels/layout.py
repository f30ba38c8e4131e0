"""Where things live in the flat buffers, and the first layer's product
with dense or sparse input."""

import numpy as np

from .base import kernel

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
