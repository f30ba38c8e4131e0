"""The kernels' vocabulary: integer codes, the :class:`Settings` of a fit,
the positions of a step's constants, and the decorators every kernel is
compiled with."""

import hashlib
import os
from collections import namedtuple

from numba import njit

from .._prebuilt import fold_into_source_stamp, load_prebuilt_first, prebuilt_enabled

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
        "weight_decay",  # decoupled: each step multiplies the weights by 1 - lr * it
        "input_dropout",  # drop rate of the input features
        "dropout",  # drop rate of each hidden layer's units
    ],
)

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
STEP_MOMENT_WARMUP = 11

# Newton iterations of the group-lasso step in Adam's metric (see
# shrink_group); from below, a few reach 1e-12 relative.
GROUP_NEWTON_ITERATIONS = 30


def _package_sources_hash():
    """A hash of every module of this package, or None if they cannot be read
    (a zipped or frozen app)."""
    directory = os.path.dirname(os.path.abspath(__file__))
    digest = hashlib.sha256()
    try:
        for name in sorted(os.listdir(directory)):
            if name.endswith(".py"):
                digest.update(name.encode())
                with open(os.path.join(directory, name), "rb") as f:
                    digest.update(f.read())
    except OSError:
        return None
    return digest.hexdigest()


# Numba stamps a cached kernel with its own source file only, and a kernel
# compiled with a callee from another module of this package would keep the
# old callee after that module changed. Every kernel's stamp therefore also
# holds the hash of all of them: any edit invalidates every cached kernel
# (tests/test_prebuilt.py edits a callee's module and sees its caller
# recompile).
PACKAGE_SOURCES_HASH = _package_sources_hash()


def _cached_kernel(**options):
    """``njit(cache=True, **options)`` whose cache entries are stamped with
    the whole package's sources, loading the kernels compiled at install time
    first when there are any (see :mod:`skreg._prebuilt`)."""
    compile_on_first_call = njit(cache=True, **options)
    use_prebuilt = prebuilt_enabled()

    def decorate(function):
        dispatcher = compile_on_first_call(function)
        fold_into_source_stamp(dispatcher, PACKAGE_SOURCES_HASH)
        if use_prebuilt:
            load_prebuilt_first(dispatcher, PACKAGE_SOURCES_HASH)
        return dispatcher

    return decorate


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
