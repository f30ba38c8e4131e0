"""Kernels compiled when skreg is installed, loaded before Numba's own cache.

Numba compiles a kernel the first time each process that has no cached copy
calls it: about 11 s for a first fit on 2 cores, paid again in every fresh
environment (a new venv, a container, a CI job, a worker with its own
``NUMBA_CACHE_DIR``). Building the wheel (``pip install .``) therefore runs
:func:`write_prebuilt_kernels`: :func:`compile_kernels` in a child process,
whose Numba cache files go into ``skreg/_prebuilt_kernels``. At import, :func:`load_prebuilt_first`
gives each kernel a cache that looks there first and falls back to Numba's
usual cache (``NUMBA_CACHE_DIR``, ``__pycache__`` or the user-wide one),
where anything compiled later is saved.

The files are Numba's own cache format, so Numba decides whether they apply:
an entry is used only for the same Numba version, Python version, CPU and
features, source file content and bytecode; anything else is compiled as
usual. (So a source checkout of the installed version, run from its root,
can use the installed copy's kernels too.) The prebuilt kernels are skipped
when ``NUMBA_BOUNDSCHECK`` is set (Numba's cache does not record the flag,
and they were compiled without it) and when ``SKREG_PREBUILT_KERNELS=0`` (to
measure or debug compilation).
"""

import importlib.metadata
import os

import numba

# Numba 0.68 made a cache entry's source stamp the file's content hash (it
# was its mtime, which the files of an installed wheel do not keep) and
# named the locator classes used here without a leading underscore.
SUPPORTED = tuple(int(part) for part in numba.__version__.split(".")[:2]) >= (0, 68)
if SUPPORTED:
    from numba.core.caching import CompileResultCacheImpl, FunctionCache, InTreeCacheLocator


def _find_prebuilt_directory():
    """This package's install-time kernels, else those of the installed skreg
    distribution (a source checkout run from its root, with skreg installed
    from it, imports the checkout); None if there are none."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_prebuilt_kernels")
    if os.path.isdir(here):
        return here
    # Every skreg on sys.path: a checkout's own metadata (skreg.egg-info)
    # comes before the installed one's.
    for distribution in importlib.metadata.distributions(name="skreg"):
        installed = distribution.locate_file("skreg/_prebuilt_kernels")
        if os.path.isdir(installed):
            return str(installed)
    return None


PREBUILT_DIRECTORY = _find_prebuilt_directory()


if SUPPORTED:

    class _PrebuiltLocator(InTreeCacheLocator):
        """Numba's in-tree locator (content-hash source stamp), pointed at the
        read-only directory of install-time kernels."""

        def __init__(self, py_func, py_file):
            super().__init__(py_func, py_file)
            self._cache_path = PREBUILT_DIRECTORY

        @classmethod
        def from_function(cls, py_func, py_file):
            # Only read from: no writability check, unlike Numba's locators.
            return cls(py_func, py_file)

    class _PrebuiltImpl(CompileResultCacheImpl):
        _locator_classes = [_PrebuiltLocator]

    class _PrebuiltCache(FunctionCache):
        _impl_class = _PrebuiltImpl


class _PrebuiltFirstCache:
    """A dispatcher's cache: the install-time kernels first, then the
    dispatcher's own Numba cache, which also receives every new compile."""

    def __init__(self, prebuilt, own):
        self._prebuilt = prebuilt
        self._own = own

    def load_overload(self, sig, target_context):
        compiled = self._prebuilt.load_overload(sig, target_context)
        if compiled is None:
            compiled = self._own.load_overload(sig, target_context)
        return compiled

    def __getattr__(self, name):
        # save_overload, cache_path, flush, enable, disable: the own cache's.
        return getattr(self._own, name)


def prebuilt_enabled():
    """Whether kernels compiled at install time are there and may be used."""
    return (
        SUPPORTED
        and PREBUILT_DIRECTORY is not None
        and os.environ.get("SKREG_PREBUILT_KERNELS", "1") != "0"
        and not numba.config.BOUNDSCHECK
        and not numba.config.DISABLE_JIT
    )


def load_prebuilt_first(dispatcher):
    """Make ``dispatcher`` (an ``njit(cache=True)`` kernel) load its
    install-time compilation, if there is one, before its usual cache."""
    dispatcher._cache = _PrebuiltFirstCache(_PrebuiltCache(dispatcher.py_func), dispatcher._cache)
    return dispatcher


def write_prebuilt_kernels(package_parent, timeout=1800):
    """Compile the kernels of the skreg package in ``package_parent`` and
    write them into its ``skreg/_prebuilt_kernels``: the build's step
    (setup.py), also run by the tests.

    The compile runs in a child interpreter with a fresh ``NUMBA_CACHE_DIR``
    and none of the caller's other ``NUMBA_*`` settings (a bounds-checked or
    unoptimised build must not be shipped); its cache files are then copied.
    Raises if the compile fails; returns None, compiling nothing, if this
    Numba's cache cannot serve prebuilt kernels.
    """
    if not SUPPORTED:
        return None
    import glob
    import shutil
    import subprocess
    import sys
    import tempfile

    package_parent = os.path.abspath(package_parent)
    target = os.path.join(package_parent, "skreg", "_prebuilt_kernels")
    shutil.rmtree(target, ignore_errors=True)
    with tempfile.TemporaryDirectory() as cache:
        env = {key: value for key, value in os.environ.items() if not key.startswith("NUMBA_")}
        # The package first, then whatever makes the build environment's
        # packages importable (pip's build isolation adds them there).
        path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
        env.update(NUMBA_CACHE_DIR=cache, SKREG_PREBUILT_KERNELS="0", PYTHONPATH=path)
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from skreg._prebuilt import compile_kernels; compile_kernels()",
            ],
            env=env,
            cwd=cache,
            check=True,
            timeout=timeout,
        )
        os.makedirs(target)
        for cache_file in glob.glob(os.path.join(cache, "*", "_kernels.*")):
            shutil.copy2(cache_file, target)
    return target


def compile_kernels():
    """Compile every kernel signature that fits and predictions use, for
    float64 and float32 (one signature per float dtype: the design keeps it
    so), into the current Numba cache. Run by the build, in a process whose
    ``NUMBA_CACHE_DIR`` is the directory the build then ships."""
    import warnings

    import numpy as np

    from . import MLPClassifier, MLPRegressor

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
