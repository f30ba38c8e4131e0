"""Numba-compiled kernels: forward and backward passes, losses, penalties,
dropout, optimizer steps (with the L1 and group-lasso steps), one training
epoch and prediction.

Everything numeric that runs per minibatch lives in this package.

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

The kernels live in the modules of this package, one concern each (base:
codes, settings and decorators; layout; network; regularizers; optimizer;
training); this module gathers them, so that ``skreg._kernels.run_epoch``
names any of them. Every cached kernel's stamp holds a hash of all these
modules (see :mod:`skreg._kernels.base`).
"""

# Re-exported: the drivers and the tests reach every kernel through this
# module. Star imports, because the names are the modules' whole namespaces.
from .base import *  # noqa: F403
from .layout import *  # noqa: F403
from .network import *  # noqa: F403
from .optimizer import *  # noqa: F403
from .regularizers import *  # noqa: F403
from .training import *  # noqa: F403
