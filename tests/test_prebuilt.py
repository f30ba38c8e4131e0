"""Kernels compiled at install time (skreg/_prebuilt.py).

* a copy of the package given its prebuilt kernels (as ``pip install .``
  builds them) fits and predicts in a fresh interpreter with an empty Numba
  cache without compiling, bit for bit as the kernels compiled here;
* the same package with an edited kernel source compiles (the prebuilt files
  no longer apply), and gives the same results;
* ``SKREG_PREBUILT_KERNELS=0`` gives the kernels Numba's plain cache back;
* the prebuilt cache is asked first and Numba's own cache second, which
  receives every new compile; other compiler settings, a locator override,
  a damaged file or an unstampable source turn it off;
* nothing about them can make ``import skreg`` or a fit fail: not a Numba
  whose internals differ, not a damaged file under ``-W error``.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import warnings

import pytest

import skreg
from skreg import _build_kernels
from skreg import _prebuilt as prebuilt

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
needs_supported_numba = pytest.mark.skipif(
    not prebuilt.SUPPORTED, reason="prebuilt kernels need Numba >= 0.68 (content-hash stamps)"
)

_FIT_SCRIPT = """
    import json, warnings
    import numpy as np
    warnings.simplefilter("ignore")
    import skreg
    from skreg import _kernels as k, _prebuilt
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    out = {"prebuilt_directory": _prebuilt.PREBUILT_DIRECTORY}
    for dtype in ("float64", "float32"):
        clf = skreg.MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0)
        clf.fit(X.astype(dtype), X[:, 0] > 0)
        reg = skreg.MLPRegressor(solver="lbfgs", hidden_layer_sizes=(6,), max_iter=5,
                                 random_state=0).fit(X.astype(dtype), X @ [1.0, -1.0, 0.5, 2.0])
        out[dtype] = [clf.predict_proba(X.astype(dtype)).tolist(),
                      reg.predict(X.astype(dtype)).tolist()]
    out["stats"] = {name: [len(obj.stats.cache_hits), len(obj.stats.cache_misses)]
                    for name in ("run_epoch", "loss_and_gradient", "predict_output")
                    for obj in [getattr(k, name)]}
    print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def site_with_prebuilt_kernels(tmp_path_factory):
    """A copy of this skreg whose kernels were compiled as the build does."""
    site = _copy_of_this_skreg(tmp_path_factory.mktemp("skreg-prebuilt"))
    target = _build_kernels.write_prebuilt_kernels(site)
    assert any(pathlib.Path(target).glob("training.run_epoch-*.nbi"))
    return site


def _copy_of_this_skreg(site):
    """``site/skreg``: this skreg's sources, without compiled kernels."""
    shutil.copytree(
        pathlib.Path(skreg.__file__).parent,
        site / "skreg",
        ignore=shutil.ignore_patterns("__pycache__", "_prebuilt_kernels"),
    )
    return site


def _fresh_interpreter(site, cache, script=_FIT_SCRIPT, python_flags=(), **extra_env):
    """The JSON that ``script`` prints last, run with the skreg of ``site``,
    Numba's cache in ``cache`` and none of this process's NUMBA_* settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NUMBA_")}
    env.pop("SKREG_PREBUILT_KERNELS", None)
    env.update(PYTHONPATH=str(site), NUMBA_CACHE_DIR=str(cache), **extra_env)
    proc = subprocess.run(
        [sys.executable, *python_flags, "-c", textwrap.dedent(script)],
        env=env,
        cwd=site,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@needs_supported_numba
def test_prebuilt_kernels_load_without_compiling_and_match_a_compile(
    site_with_prebuilt_kernels, tmp_path
):
    loaded = _fresh_interpreter(site_with_prebuilt_kernels, tmp_path / "cache-loaded")
    assert loaded["prebuilt_directory"] == str(
        site_with_prebuilt_kernels / "skreg" / "_prebuilt_kernels"
    )
    for name in ("run_epoch", "loss_and_gradient", "predict_output"):
        # Two signatures (float64, float32), both loaded, none compiled.
        assert loaded["stats"][name] == [2, 0], loaded["stats"]
    assert not any((tmp_path / "cache-loaded").rglob("*.nbc"))  # nothing compiled to save

    # The same package with one kernel module changed (by a comment only),
    # not the module of run_epoch, loss_and_gradient and predict_output
    # (training.py), which call into it: the prebuilt files no longer apply
    # to any kernel, so they compile, the same code.
    edited = tmp_path / "edited"
    shutil.copytree(site_with_prebuilt_kernels, edited)
    callee = edited / "skreg" / "_kernels" / "regularizers.py"
    with open(callee, "a") as f:
        f.write("\n# edited after the build\n")
    own_cache = tmp_path / "cache-compiled"
    compiled = _fresh_interpreter(edited, own_cache)
    assert compiled["prebuilt_directory"] == str(edited / "skreg" / "_prebuilt_kernels")
    for name in ("run_epoch", "loss_and_gradient", "predict_output"):
        assert compiled["stats"][name] == [0, 2], compiled["stats"]
    assert any(own_cache.rglob("*run_epoch*.nbc"))
    for dtype in ("float64", "float32"):
        assert loaded[dtype] == compiled[dtype]  # bit for bit, as JSON floats


_PREDICT_SCRIPT = """
import json, numpy as np
from skreg import _kernels as k
from skreg._layout import kernel_input
from skreg._settings import prediction_settings
X = np.ones((3, 2))
params = np.linspace(-1.0, 1.0, 2 * 2 + 2 * 1 + 2 + 1)
settings = prediction_settings("tanh", 0, 1)
k.predict_output(*kernel_input(X), params, np.array([2, 2, 1]), settings, 8)
stats = k.predict_output.stats
print(json.dumps([len(stats.cache_hits), len(stats.cache_misses)]))
"""


@needs_supported_numba
def test_an_edited_callee_module_recompiles_its_callers_from_numbas_cache(tmp_path):
    """Numba stamps a cached kernel with its own file only. Each kernel's
    stamp also holds a hash of every module of skreg._kernels, so after an
    edit of network.py (where forward lives) predict_output (training.py)
    compiles again instead of loading itself with the old forward in it."""
    site = _copy_of_this_skreg(tmp_path / "site")

    def predict_output_hits_misses():
        return _fresh_interpreter(
            site, tmp_path / "cache", _PREDICT_SCRIPT, SKREG_PREBUILT_KERNELS="0"
        )

    assert predict_output_hits_misses() == [0, 1]  # compiled into the empty cache
    assert predict_output_hits_misses() == [1, 0]  # loaded from it
    with open(site / "skreg" / "_kernels" / "network.py", "a") as f:
        f.write("# edited\n")
    assert predict_output_hits_misses() == [0, 1]  # compiled again


@needs_supported_numba
def test_switch_decides_which_cache_the_kernels_ask(site_with_prebuilt_kernels):
    """With ``SKREG_PREBUILT_KERNELS=0`` the kernels keep Numba's plain cache
    (so they compile when it is empty); otherwise they ask the prebuilt
    kernels first."""
    code = (
        "from skreg import _kernels as k; "
        "print(type(k.run_epoch._cache).__name__, type(k.weight_penalty._cache).__name__)"
    )
    names = {}
    for switch in ("0", "1"):
        env = {key: value for key, value in os.environ.items() if not key.startswith("NUMBA_")}
        env.update(PYTHONPATH=str(site_with_prebuilt_kernels), SKREG_PREBUILT_KERNELS=switch)
        names[switch] = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=site_with_prebuilt_kernels,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    assert names["0"] == ["FunctionCache", "FunctionCache"]
    assert names["1"] == ["_PrebuiltFirstCache", "_PrebuiltFirstCache"]


class _Cache:
    def __init__(self, compiled):
        self.compiled, self.loads, self.saved = compiled, [], []
        self.cache_path = f"cache of {compiled}"

    def load_overload(self, sig, target_context):
        self.loads.append(sig)
        return self.compiled

    def save_overload(self, sig, data):
        self.saved.append(sig)


def test_prebuilt_first_then_own_cache_which_receives_compiles():
    own = _Cache("own")
    cache = prebuilt._PrebuiltFirstCache(_Cache("prebuilt"), own)
    assert cache.load_overload("sig", None) == "prebuilt"
    assert own.loads == []
    cache = prebuilt._PrebuiltFirstCache(_Cache(None), own)
    assert cache.load_overload("sig", None) == "own"
    cache.save_overload("sig", "data")
    assert own.saved == ["sig"]
    assert cache.cache_path == "cache of own"


@needs_supported_numba
def test_prebuilt_kernels_off_when_bounds_checked_or_switched_off(monkeypatch, tmp_path):
    monkeypatch.setattr(prebuilt, "PREBUILT_DIRECTORY", str(tmp_path))
    monkeypatch.delenv("SKREG_PREBUILT_KERNELS", raising=False)
    monkeypatch.delenv("NUMBA_CACHE_LOCATOR_CLASSES", raising=False)
    monkeypatch.setattr(prebuilt.numba.config, "BOUNDSCHECK", None)
    monkeypatch.setattr(prebuilt.numba.config, "DISABLE_JIT", 0)
    assert not prebuilt.prebuilt_enabled()  # no settings recorded with them
    (tmp_path / prebuilt.SETTINGS_FILE).write_text(json.dumps(prebuilt.compiler_settings()))
    assert prebuilt.prebuilt_enabled()
    monkeypatch.setattr(prebuilt.numba.config, "LOOP_VECTORIZE", 0)
    assert not prebuilt.prebuilt_enabled()  # compiled with other settings
    monkeypatch.undo()
    monkeypatch.setattr(prebuilt, "PREBUILT_DIRECTORY", str(tmp_path))
    monkeypatch.delenv("SKREG_PREBUILT_KERNELS", raising=False)
    monkeypatch.delenv("NUMBA_CACHE_LOCATOR_CLASSES", raising=False)
    monkeypatch.setattr(prebuilt.numba.config, "BOUNDSCHECK", None)
    assert prebuilt.prebuilt_enabled()
    monkeypatch.setattr(prebuilt.numba.config, "BOUNDSCHECK", 1)
    assert not prebuilt.prebuilt_enabled()
    monkeypatch.setattr(prebuilt.numba.config, "BOUNDSCHECK", None)
    monkeypatch.setenv("SKREG_PREBUILT_KERNELS", "0")
    assert not prebuilt.prebuilt_enabled()
    monkeypatch.delenv("SKREG_PREBUILT_KERNELS")
    monkeypatch.setenv("NUMBA_CACHE_LOCATOR_CLASSES", "UserProvidedCacheLocator")
    assert not prebuilt.prebuilt_enabled()
    monkeypatch.delenv("NUMBA_CACHE_LOCATOR_CLASSES")
    monkeypatch.setattr(prebuilt, "PREBUILT_DIRECTORY", None)
    assert not prebuilt.prebuilt_enabled()


class _Damaged:
    def load_overload(self, sig, target_context):
        raise EOFError("truncated")


def test_damaged_prebuilt_files_fall_back_to_the_own_cache_with_one_warning(monkeypatch):
    monkeypatch.setattr(prebuilt._PrebuiltFirstCache, "failure_reported", False)
    cache = prebuilt._PrebuiltFirstCache(_Damaged(), _Cache("own"))
    with pytest.warns(UserWarning, match="could not be loaded") as record:
        assert cache.load_overload("sig", None) == "own"
        assert cache.load_overload("other sig", None) == "own"
    assert len(record) == 1  # one warning per process, however many kernels fail


def test_a_load_failure_under_warnings_as_errors_still_compiles(monkeypatch):
    """Inside Numba's dispatcher a warning turned into an exception would fail
    the fit: it is dropped, and the kernel compiles."""
    monkeypatch.setattr(prebuilt._PrebuiltFirstCache, "failure_reported", False)
    cache = prebuilt._PrebuiltFirstCache(_Damaged(), _Cache("own"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.load_overload("sig", None) == "own"


_STRICT_FIT = (
    "import numpy as np, skreg; X = np.random.default_rng(0).normal(size=(30, 3)); "
    "skreg.MLPClassifier(hidden_layer_sizes=(3,), tol=0.1).fit(X, X[:, 0] > 0).predict(X); "
    "print('null')"
)


@needs_supported_numba
def test_import_and_fit_pass_with_warnings_as_errors(site_with_prebuilt_kernels, tmp_path):
    """``python -W error -c "import skreg; <a fit>"`` with the install-time
    kernels, then with them damaged (which compiles, into Numba's cache),
    then without any (which loads that cache)."""
    site = tmp_path / "site"
    shutil.copytree(site_with_prebuilt_kernels, site)
    kernels = site / "skreg" / "_prebuilt_kernels"
    for files in ("prebuilt", "damaged", "none"):
        if files == "damaged":
            for index in kernels.glob("*.nbi"):
                index.write_bytes(b"not a pickle")
        elif files == "none":
            shutil.rmtree(kernels)
        # Fails (the assertion inside) if import or the fit raises.
        _fresh_interpreter(site, tmp_path / "cache", _STRICT_FIT, python_flags=("-W", "error"))


def test_a_numba_without_the_expected_internals_turns_them_off(monkeypatch):
    """The guard: whatever Numba's caching module lacks or raises, the
    prebuilt cache is None and import goes on."""
    import numba.core.caching as caching

    monkeypatch.delattr(caching, "InTreeCacheLocator")
    assert prebuilt._prebuilt_cache_class() is None
    monkeypatch.undo()
    monkeypatch.delattr(caching, "_hash_source_file")
    assert prebuilt._prebuilt_cache_class() is None


def test_kernels_of_a_zipped_package_keep_numbas_cache(tmp_path):
    """A source Numba cannot stamp (not a file) gets no prebuilt cache, and
    no error at import."""
    namespace = {}
    exec(
        compile("def f(x):\n    return x\n", str(tmp_path / "app.zip" / "f.py"), "exec"), namespace
    )

    class Dispatcher:
        py_func = namespace["f"]
        _cache = "own"

    assert prebuilt.load_prebuilt_first(Dispatcher)._cache == "own"
