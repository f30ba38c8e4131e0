"""Kernels compiled when skreg is installed, loaded before Numba's own cache.

Numba compiles a kernel the first time each process that has no cached copy
calls it: about 11 s for a first fit on 2 cores, paid again in every fresh
environment (a new venv, a container, a CI job, a worker with its own
``NUMBA_CACHE_DIR``). Building the wheel (``pip install .``) therefore runs
:func:`write_prebuilt_kernels`: :func:`compile_kernels` in a child process,
whose Numba cache files go into ``skreg/_prebuilt_kernels`` together with
the compiler settings they were made with. At import,
:func:`load_prebuilt_first` gives each kernel a cache that looks there first
and falls back to Numba's usual cache (``NUMBA_CACHE_DIR``, ``__pycache__``
or the user-wide one), where anything compiled later is saved;
``stats.cache_path`` names that usual cache even after a prebuilt hit.

The files are Numba's own cache format, so Numba decides whether an entry
applies: same Numba version, Python version, CPU and features, source file
content and bytecode (so a source checkout of the installed version, run
from its root, can use the installed copy's kernels too). What Numba's cache
does not record is checked here: the NumPy and llvmlite versions and the
compiler settings (optimisation level, vectorisers, debug info, bounds
checks, SVML) must equal the build's, else no prebuilt kernel is used. They
are also off with ``SKREG_PREBUILT_KERNELS=0`` (to measure or debug
compilation), under ``NUMBA_CACHE_LOCATOR_CLASSES`` (which replaces every
cache's locator), for frozen apps (whose stamp is the executable's) and
before Numba 0.68. Any error reading them only costs a compile.
"""

import importlib.metadata
import inspect
import json
import os
import warnings

import numba

SETTINGS_FILE = "compiler_settings.json"


def _numba_supports_prebuilt():
    # Numba 0.68 made a cache entry's source stamp the file's content hash
    # (it was its mtime, which the files of an installed wheel do not keep)
    # and named the locator classes used here without a leading underscore.
    try:
        from numba.core import caching
    except ImportError:
        return False
    return hasattr(caching, "_hash_source_file") and hasattr(caching, "InTreeCacheLocator")


SUPPORTED = _numba_supports_prebuilt()
if SUPPORTED:
    from numba.core.caching import CompileResultCacheImpl, FunctionCache, InTreeCacheLocator


def compiler_settings():
    """What decides the machine code of a kernel beyond what Numba's cache
    records: the versions it was typed against and the compiler settings."""
    import llvmlite
    import numpy
    from numba.core import config

    return {
        "numba": numba.__version__,
        "llvmlite": llvmlite.__version__,
        "numpy": numpy.__version__,
        "opt": str(config.OPT),
        "loop_vectorize": bool(config.LOOP_VECTORIZE),
        "slp_vectorize": bool(config.SLP_VECTORIZE),
        "debuginfo": bool(config.DEBUGINFO_DEFAULT),
        "boundscheck": bool(config.BOUNDSCHECK),
        "svml": bool(config.USING_SVML),
    }


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


PREBUILT_DIRECTORY = _find_prebuilt_directory() if SUPPORTED else None


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
    dispatcher's own Numba cache, which also receives every new compile (and
    is the one ``enable``, ``disable`` and ``cache_path`` refer to)."""

    def __init__(self, prebuilt, own):
        self._prebuilt = prebuilt
        self._own = own

    def load_overload(self, sig, target_context):
        try:
            compiled = self._prebuilt.load_overload(sig, target_context)
        except Exception as error:  # noqa: BLE001 - a damaged file only costs a compile
            warnings.warn(f"skreg: a prebuilt kernel could not be loaded ({error!r}); compiling it")
            compiled = None
        if compiled is None:
            compiled = self._own.load_overload(sig, target_context)
        return compiled

    def __getattr__(self, name):
        # save_overload, cache_path, flush, enable, disable: the own cache's.
        # Private names are not forwarded (copy and pickle probe them before
        # __init__ has run, which would recurse).
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._own, name)


def _settings_match(directory):
    try:
        with open(os.path.join(directory, SETTINGS_FILE)) as f:
            return json.load(f) == compiler_settings()
    except (OSError, ValueError):
        return False


def prebuilt_enabled():
    """Whether kernels compiled at install time are there and may be used."""
    return (
        SUPPORTED
        and PREBUILT_DIRECTORY is not None
        and os.environ.get("SKREG_PREBUILT_KERNELS", "1") != "0"
        and not os.environ.get("NUMBA_CACHE_LOCATOR_CLASSES")
        and not numba.config.DISABLE_JIT
        and _settings_match(PREBUILT_DIRECTORY)
    )


def load_prebuilt_first(dispatcher):
    """Make ``dispatcher`` (an ``njit(cache=True)`` kernel) load its
    install-time compilation, if there is one, before its usual cache; leave
    it as it is if that cannot be set up (say, a package imported from a zip
    file, whose sources Numba cannot stamp)."""
    try:
        if not os.path.isfile(inspect.getfile(dispatcher.py_func)):
            return dispatcher
        prebuilt = _PrebuiltCache(dispatcher.py_func)
    except Exception:  # noqa: BLE001 - without prebuilt kernels skreg only compiles
        return dispatcher
    dispatcher._cache = _PrebuiltFirstCache(prebuilt, dispatcher._cache)
    return dispatcher


def write_prebuilt_kernels(package_parent, timeout=1800):
    """Compile the kernels of the skreg package in ``package_parent`` and
    write them into its ``skreg/_prebuilt_kernels``: the build's step
    (setup.py), also run by the tests.

    The compile runs in a child interpreter with a fresh ``NUMBA_CACHE_DIR``
    and none of the caller's other ``NUMBA_*`` settings; the Numba cache
    files it writes and the settings it compiled with are then copied.
    Raises if the compile fails (with the tail of its error output); returns
    None, compiling nothing, if this Numba's cache cannot serve prebuilt
    kernels.
    """
    import glob
    import shutil
    import subprocess
    import sys
    import tempfile

    package_parent = os.path.abspath(package_parent)
    target = os.path.join(package_parent, "skreg", "_prebuilt_kernels")
    shutil.rmtree(target, ignore_errors=True)
    if not SUPPORTED:
        return None
    with tempfile.TemporaryDirectory() as cache:
        env = {key: value for key, value in os.environ.items() if not key.startswith("NUMBA_")}
        # The package first, then whatever makes the build environment's
        # packages importable (pip's build isolation adds them there).
        path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
        env.update(NUMBA_CACHE_DIR=cache, SKREG_PREBUILT_KERNELS="0", PYTHONPATH=path)
        code = (
            "import json, os; from skreg import _prebuilt as p; p.compile_kernels(); "
            "json.dump(p.compiler_settings(), "
            "open(os.path.join(os.environ['NUMBA_CACHE_DIR'], p.SETTINGS_FILE), 'w'))"
        )
        child = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=cache,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if child.returncode != 0:
            raise RuntimeError(f"compiling the kernels failed:\n{child.stderr[-2000:]}")
        os.makedirs(target)
        files = glob.glob(os.path.join(cache, "*", "_kernels.*.nb[ic]"))
        for cache_file in files + [os.path.join(cache, SETTINGS_FILE)]:
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
