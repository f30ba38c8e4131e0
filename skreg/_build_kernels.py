"""The build's step that compiles the kernels shipped in the wheel (see
:mod:`skreg._prebuilt`, which loads them).

``setup.py`` loads this file on its own, without the package, and calls
:func:`write_prebuilt_kernels`; the compile itself runs in a child
interpreter that imports the built package. Nothing at run time imports
this module.
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile

SETTINGS_FILE = "compiler_settings.json"  # as in skreg._prebuilt

# Run in the child: compile into its NUMBA_CACHE_DIR and record the compiler
# settings beside the files, or do nothing where this Numba cannot serve
# prebuilt kernels.
_CHILD_CODE = """
import json, os
from skreg import _build_kernels, _prebuilt
if _prebuilt.SUPPORTED:
    _build_kernels.compile_kernels()
    with open(os.path.join(os.environ["NUMBA_CACHE_DIR"], _prebuilt.SETTINGS_FILE), "w") as f:
        json.dump(_prebuilt.compiler_settings(), f)
"""


def write_prebuilt_kernels(package_parent, timeout=1800):
    """Compile the kernels of the skreg package in ``package_parent`` and
    write them into its ``skreg/_prebuilt_kernels``: the build's step
    (setup.py), also run by the tests.

    The compile runs in a child interpreter with a fresh ``NUMBA_CACHE_DIR``
    and none of the caller's other ``NUMBA_*`` settings but the target CPU
    (``NUMBA_CPU_NAME``, ``NUMBA_CPU_FEATURES``: a build asked for
    ``NUMBA_CPU_NAME=generic`` makes kernels that load wherever Numba runs
    with that CPU name); the Numba cache files it writes and the settings it
    compiled with are then copied.
    Raises if the compile fails (with the tail of its error output); returns
    None, compiling nothing, if this Numba's cache cannot serve prebuilt
    kernels.
    """
    package_parent = os.path.abspath(package_parent)
    target = os.path.join(package_parent, "skreg", "_prebuilt_kernels")
    shutil.rmtree(target, ignore_errors=True)
    with tempfile.TemporaryDirectory() as cache:
        target_cpu = ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES")
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("NUMBA_") or key in target_cpu
        }
        # The package first, then whatever makes the build environment's
        # packages importable (pip's build isolation adds them there).
        path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
        env.update(NUMBA_CACHE_DIR=cache, SKREG_PREBUILT_KERNELS="0", PYTHONPATH=path)
        child = subprocess.run(
            [sys.executable, "-c", _CHILD_CODE],
            env=env,
            cwd=cache,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if child.returncode != 0:
            raise RuntimeError(f"compiling the kernels failed:\n{child.stderr[-2000:]}")
        settings = os.path.join(cache, SETTINGS_FILE)
        if not os.path.exists(settings):
            return None
        os.makedirs(target)
        files = glob.glob(os.path.join(cache, "*", "*.nb[ic]"))
        for cache_file in files + [settings]:
            shutil.copy2(cache_file, target)
    return target


def compile_kernels():
    """Compile every kernel signature that fits and predictions use, for
    float64 and float32 (one signature per float dtype: the design keeps it
    so), into the current Numba cache. Run by the build, in a process whose
    ``NUMBA_CACHE_DIR`` is the directory the build then ships."""
    import warnings

    import numpy as np

    from skreg import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    targets = {
        MLPClassifier: (X[:, 0] > 0).astype(int),
        MLPRegressor: X @ [1.0, -2.0, 0.5],
    }
    regularized = dict(
        l1=1e-3,
        group_l1=1e-3,
        dropout=0.2,
        input_dropout=0.1,
        max_norm=2.0,
        early_stopping=True,
        scoring="loss",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dtype in (np.float64, np.float32):
            for solver, extra in (("adam", {}), ("sgd", regularized), ("lbfgs", {})):
                for Estimator, y in targets.items():
                    model = Estimator(hidden_layer_sizes=(4,), max_iter=2, solver=solver, **extra)
                    model.fit(X.astype(dtype), y).predict(X.astype(dtype))
