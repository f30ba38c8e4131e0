"""What a fit is told, built once from an estimator's validated parameters.

:class:`FitSettings` holds what the drivers read (epochs, schedule, stopping
rules) and, as ``kernel``, the :class:`skreg._kernels.Settings` tuple the
kernels read. The drivers take these and never an estimator.
"""

import functools
from dataclasses import dataclass

import numpy as np

from . import _kernels as k

OPTIMIZER_CODES = {"sgd": k.OPTIMIZER_SGD, "adam": k.OPTIMIZER_ADAM}

# Kernel settings that are not a float parameter of the same name. Every
# other field of Settings is one (l2, l1, group_l1, momentum, ...) and is
# copied by name: a new penalty needs no line here.
_DERIVED_FIELDS = (
    "activation",
    "loss",
    "optimizer",
    "nesterov",
    "batch_size",
    "learning_rate",
    "proba_eps",
    "max_norm",
    "dropout",
)


def kernel_settings(parameters, loss, dropout, dtype):
    """The kernels' :class:`~skreg._kernels.Settings` for a fit.

    Parameters
    ----------
    parameters : dict
        The estimator's validated parameters (``get_params(deep=False)``).
    loss : int
        The ``LOSS_*`` code of the fit's targets.
    dropout : ndarray of shape (n_hidden_layers,)
        The drop rate of each hidden layer.
    dtype : numpy dtype
        The network's float dtype (for the log loss's clip).

    Every field gets a fixed Python type, so that all fits of a dtype share
    one compiled signature. ``batch_size`` is 0 and ``learning_rate`` the
    initial one: the drivers set both.
    """
    max_norm = parameters["max_norm"]
    derived = {
        "activation": k.ACTIVATION_CODES[parameters["activation"]],
        "loss": int(loss),
        # lbfgs takes no optimizer step; its code is never read.
        "optimizer": OPTIMIZER_CODES.get(parameters["solver"], k.OPTIMIZER_SGD),
        "nesterov": bool(parameters["nesterovs_momentum"]),
        "batch_size": 0,
        "learning_rate": float(parameters["learning_rate_init"]),
        "proba_eps": float(np.finfo(dtype).eps),
        "max_norm": 0.0 if max_norm is None else float(max_norm),
        "dropout": np.array(dropout, dtype=np.float64),
    }
    named = {
        field: float(parameters[field]) for field in k.Settings._fields if field not in derived
    }
    return k.Settings(**derived, **named)


@functools.lru_cache(maxsize=64)
def prediction_settings(activation, loss, n_hidden_layers):
    """Kernel settings for a forward pass alone: only the activation and the
    loss are read, so every other field is 0 (of its field's type). Cached:
    it runs on every predict, and the kernels never write settings."""
    derived = {
        "activation": k.ACTIVATION_CODES[activation],
        "loss": int(loss),
        "optimizer": k.OPTIMIZER_SGD,
        "nesterov": False,
        "batch_size": 0,
        "dropout": np.zeros(n_hidden_layers),
    }
    unused = {field: 0.0 for field in k.Settings._fields if field not in derived}
    return k.Settings(**derived, **unused)


@dataclass(frozen=True)
class FitSettings:
    """Everything the drivers read about a fit.

    ``kernel`` is the kernels' settings; the rest are the estimator's
    parameters of the same names (``learning_rate`` is the schedule,
    ``scoring`` is only named in messages).
    """

    kernel: k.Settings
    batch_size: object
    max_iter: int
    shuffle: bool
    tol: float
    learning_rate: str
    learning_rate_init: float
    average: object
    power_t: float
    n_iter_no_change: float
    verbose: bool
    scoring: object
    max_fun: int

    @classmethod
    def from_parameters(cls, parameters, loss, dropout, dtype):
        """The settings of a fit with the estimator's validated
        ``parameters`` (``get_params(deep=False)``), on targets of loss
        code ``loss``, with ``dropout`` per hidden layer, in ``dtype``."""
        driver_fields = [name for name in cls.__dataclass_fields__ if name != "kernel"]
        return cls(
            kernel=kernel_settings(parameters, loss, dropout, dtype),
            **{name: parameters[name] for name in driver_fields},
        )
