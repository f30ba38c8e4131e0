"""skreg: scikit-learn multilayer perceptrons with L1, L2, dropout and early
stopping, trained by Numba-compiled kernels."""

from ._display import TrainingCurveDisplay
from ._mlp import MLPClassifier, MLPRegressor

__version__ = "0.1.0.dev0"

__all__ = ["MLPClassifier", "MLPRegressor", "TrainingCurveDisplay", "__version__"]
