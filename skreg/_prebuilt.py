"""Kernels compiled when skreg is installed, loaded before Numba's own cache.

Numba compiles a kernel the first time each process that has no cached copy
calls it: about 11 s for a first fit on 2 cores, paid again in every fresh
environment (a new venv, a container, a CI job, a worker with its own
``NUMBA_CACHE_DIR``). Building the wheel (``pip install .``) therefore runs
:func:`skreg._build_kernels.write_prebuilt_kernels`, whose Numba cache files
go into ``skreg/_prebuilt_kernels`` together with the compiler settings they
were made with. At import,
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
before Numba 0.68.

They can never break skreg: everything this module takes from Numba's
internals is looked up inside one guard (:func:`_prebuilt_cache_class`), so
a Numba that renames or reshapes them only turns the prebuilt kernels off;
and an error reading them only costs a compile, with at most one warning per
process (dropped if a warnings filter would turn it into an exception inside
Numba's dispatcher).

This module imports nothing of skreg: the kernels import it. The build's own
code, which fits the estimators, is in :mod:`skreg._build_kernels`.
"""

import importlib.metadata
import inspect
import json
import os
import warnings

import numba

SETTINGS_FILE = "compiler_settings.json"


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


def _prebuilt_cache_class():
    """Numba's function cache, reading from the directory of install-time
    kernels, built from Numba's internals; None if this Numba cannot serve
    them or its internals are not what this code expects."""
    try:
        from numba.core import caching

        # Numba 0.68 made a cache entry's source stamp the file's content
        # hash (it was its mtime, which the files of an installed wheel do
        # not keep) and named the locator classes without a leading
        # underscore.
        if not hasattr(caching, "_hash_source_file"):
            return None

        class PrebuiltLocator(caching.InTreeCacheLocator):
            """Numba's in-tree locator (content-hash source stamp), pointed
            at the read-only directory of install-time kernels."""

            def __init__(self, py_func, py_file):
                super().__init__(py_func, py_file)
                self._cache_path = PREBUILT_DIRECTORY

            @classmethod
            def from_function(cls, py_func, py_file):
                # Only read from: no writability check, unlike Numba's locators.
                return cls(py_func, py_file)

        class PrebuiltImpl(caching.CompileResultCacheImpl):
            _locator_classes = [PrebuiltLocator]

        class PrebuiltCache(caching.FunctionCache):
            _impl_class = PrebuiltImpl

        return PrebuiltCache
    except Exception:  # noqa: BLE001 - any surprise only turns them off
        return None


_PrebuiltCache = _prebuilt_cache_class()
SUPPORTED = _PrebuiltCache is not None
PREBUILT_DIRECTORY = _find_prebuilt_directory() if SUPPORTED else None


def _warn_load_failure_once(error):
    """Say once per process that prebuilt kernels failed to load. Called from
    inside Numba's dispatcher, where an exception would fail the fit: a
    warnings filter that makes this warning an error silences it instead."""
    if _PrebuiltFirstCache.failure_reported:
        return
    _PrebuiltFirstCache.failure_reported = True
    try:
        warnings.warn(
            f"skreg: prebuilt kernels could not be loaded ({error!r}); compiling them "
            "instead (SKREG_PREBUILT_KERNELS=0 skips them)",
            stacklevel=2,
        )
    except Warning:
        pass


class _PrebuiltFirstCache:
    """A dispatcher's cache: the install-time kernels first, then the
    dispatcher's own Numba cache, which also receives every new compile (and
    is the one ``enable``, ``disable`` and ``cache_path`` refer to)."""

    failure_reported = False  # one warning per process (_warn_load_failure_once)

    def __init__(self, prebuilt, own):
        self._prebuilt = prebuilt
        self._own = own

    def load_overload(self, sig, target_context):
        try:
            compiled = self._prebuilt.load_overload(sig, target_context)
        except Exception as error:  # noqa: BLE001 - a damaged file only costs a compile
            _warn_load_failure_once(error)
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


def fold_into_source_stamp(dispatcher, extra):
    """Make the cache entries of ``dispatcher`` (an ``njit(cache=True)``
    kernel) valid only for ``extra`` too, on top of its source file's stamp:
    the kernels fold in a hash of all their modules. Inside the guard of
    Numba's internals: without them the kernel keeps Numba's own stamp."""
    if extra is None:
        return
    try:
        cache_file = dispatcher._cache._cache_file
        cache_file._source_stamp = (cache_file._source_stamp, extra)
    except Exception:  # noqa: BLE001 - Numba's own stamp still applies
        pass


def load_prebuilt_first(dispatcher, extra_stamp=None):
    """Make ``dispatcher`` (an ``njit(cache=True)`` kernel) load its
    install-time compilation, if there is one, before its usual cache; leave
    it as it is if that cannot be set up (say, a package imported from a zip
    file, whose sources Numba cannot stamp). ``extra_stamp`` is folded into
    the prebuilt entries' stamp as into the usual cache's
    (:func:`fold_into_source_stamp`)."""
    try:
        if not os.path.isfile(inspect.getfile(dispatcher.py_func)):
            return dispatcher
        prebuilt = _PrebuiltCache(dispatcher.py_func)
        if extra_stamp is not None:
            prebuilt._cache_file._source_stamp = (prebuilt._cache_file._source_stamp, extra_stamp)
        dispatcher._cache = _PrebuiltFirstCache(prebuilt, dispatcher._cache)
    except Exception:  # noqa: BLE001 - without prebuilt kernels skreg only compiles
        pass
    return dispatcher
