"""The kernels' array layout, on the Python side: one owner for the flat
parameter buffer, the work arrays and the form of the inputs.

:class:`NetworkLayout` packs and unpacks the parameters and sizes the work
arrays; the estimators, the drivers and the tests' helpers all go through
it. The functions below it hand data to the kernels in the one form each
kernel is compiled for (see :mod:`skreg._kernels`, "Conventions").
"""

import numpy as np
import scipy.sparse as sp


class NetworkLayout:
    """Where everything of a network with ``layer_units`` lives in the
    kernels' flat buffers.

    Parameters
    ----------
    layer_units : sequence of int
        The width of every layer, input first; kept as an int64 array (the
        kernels' form) in ``layer_units``.
    """

    def __init__(self, layer_units):
        self.layer_units = np.asarray(layer_units, dtype=np.int64)

    @classmethod
    def of(cls, coefs):
        """The layout of the network whose weight matrices are ``coefs``."""
        return cls([coefs[0].shape[0], *(coef.shape[1] for coef in coefs)])

    @property
    def n_coefficients(self):
        """Number of weights (intercepts excluded): they come first."""
        units = self.layer_units
        return int(np.dot(units[:-1], units[1:]))

    @property
    def n_parameters(self):
        return self.n_coefficients + int(self.layer_units[1:].sum())

    def initial_parameters(self, activation, random_state, dtype):
        """Glorot-uniform weights and intercepts in one flat buffer.

        Draws from ``random_state`` in scikit-learn's order (per layer: the
        weight matrix, then the intercepts), so the same integer seed gives
        scikit-learn's initial network.
        """
        factor = 2.0 if activation == "logistic" else 6.0
        coefs, intercepts = [], []
        for fan_in, fan_out in zip(self.layer_units[:-1], self.layer_units[1:], strict=True):
            bound = np.sqrt(factor / (fan_in + fan_out))
            coefs.append(random_state.uniform(-bound, bound, (fan_in, fan_out)))
            intercepts.append(random_state.uniform(-bound, bound, fan_out))
        return self.pack(coefs, intercepts, dtype)

    def pack(self, coefs, intercepts, dtype):
        """Weights then intercepts, flattened into one new C-contiguous buffer."""
        arrays = (*coefs, *intercepts)
        return np.concatenate([np.ravel(a) for a in arrays]).astype(dtype, copy=False)

    def unpack(self, params):
        """Lists of per-layer weight and intercept views into ``params``
        (NumPy views, whose ``base`` is ``params``: :meth:`flat_parameters`
        recognises them)."""
        units = self.layer_units
        coefs, intercepts = [], []
        start = 0
        for fan_in, fan_out in zip(units[:-1], units[1:], strict=True):
            coefs.append(params[start : start + fan_in * fan_out].reshape(fan_in, fan_out))
            start += fan_in * fan_out
        for fan_out in units[1:]:
            intercepts.append(params[start : start + fan_out])
            start += fan_out
        return coefs, intercepts

    def flat_parameters(self, coefs, intercepts, dtype):
        """The buffer that ``coefs`` and ``intercepts`` are views of, as
        :meth:`unpack` made them (a fitted model's, between fits): no copy.
        Anything else (arrays a user set, an unpickled model's) is packed
        anew."""
        buffer = coefs[0].base
        arrays = (*coefs, *intercepts)
        if not (
            isinstance(buffer, np.ndarray)
            and buffer.ndim == 1
            and buffer.dtype == dtype
            and buffer.shape[0] == self.n_parameters
            and buffer.flags.c_contiguous
            and buffer.flags.writeable  # the kernels' one signature takes writable params
            and len(arrays) == 2 * (len(self.layer_units) - 1)
        ):
            return self.pack(coefs, intercepts, dtype)
        # Each array must be the C-contiguous view at its place in the
        # layout (arithmetic here: this runs on every predict).
        address = buffer.__array_interface__["data"][0]
        for a in arrays:
            if not (
                a.base is buffer
                and a.flags.c_contiguous
                and a.__array_interface__["data"][0] == address
            ):
                return self.pack(coefs, intercepts, dtype)
            address += a.nbytes
        return buffer

    def workspace_size(self, capacity, gathered_features, dropped_values=0):
        """Length of a work array for :func:`skreg._kernels.split_workspace`
        (and, with ``gathered_features=0``, for
        :func:`skreg._kernels.layer_buffers`).

        ``gathered_features`` is ``layer_units[0]`` when minibatches of a
        dense input are gathered into the work array, else 0;
        ``dropped_values`` the room for a sparse minibatch's stored values
        under input dropout (see :func:`largest_batch_storage`).
        """
        n_units = int(np.sum(self.layer_units[1:]))
        n_outputs = int(self.layer_units[-1])
        return capacity * (2 * n_units + n_outputs + 1 + gathered_features) + dropped_values

    def input_workspace_size(self, X, capacity, input_drop_rate=0.0):
        """:meth:`workspace_size` for minibatches of ``capacity`` rows of
        ``X``: room to gather dense rows, or, for CSR input under input
        dropout, room for a minibatch's dropped stored values."""
        if not sp.issparse(X):
            return self.workspace_size(capacity, X.shape[1])
        dropped_values = largest_batch_storage(X.indptr, capacity) if input_drop_rate > 0 else 0
        return self.workspace_size(capacity, 0, dropped_values)


def largest_batch_storage(X_csr_indptr, batch_size):
    """The most stored values any ``batch_size`` rows of a CSR matrix hold:
    the sum of its ``batch_size`` longest rows."""
    lengths = np.sort(np.diff(X_csr_indptr))
    return int(lengths[max(0, lengths.shape[0] - batch_size) :].sum())


def kernel_input(X):
    """The ``X, X_csr`` pair the kernels take, from a dense array or a sparse
    matrix that validation already made CSR.

    Every array is handed over as a read-only view: the kernels never write
    to the input, and writable and read-only inputs (joblib's memmaps) then
    share one compiled signature.
    """
    if sp.issparse(X):
        dense = np.empty((0, X.shape[1]), dtype=X.dtype)
        csr = (X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64))
    else:
        dense = np.ascontiguousarray(X)
        csr = (np.empty(0, dtype=X.dtype), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    return read_only_view(dense), tuple(read_only_view(a) for a in csr)


def kernel_sample_weight(sample_weight, dtype):
    """The ``sample_weight`` the kernels take: a read-only view, or an empty
    array of ``dtype`` for None (unit weights)."""
    if sample_weight is None:
        sample_weight = np.empty(0, dtype=dtype)
    return read_only_view(sample_weight)


def read_only_view(array):
    """A read-only view of ``array``, the type every kernel input gets, so that
    a caller's read-only array (a joblib memmap) compiles nothing new."""
    view = array.view()
    view.flags.writeable = False
    return view
