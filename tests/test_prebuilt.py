"""Kernels compiled at install time (skreg/_prebuilt.py).

* a copy of the package given its prebuilt kernels (as ``pip install .``
  builds them) fits and predicts in a fresh interpreter with an empty Numba
  cache without compiling, bit for bit as the kernels compiled here;
* ``SKREG_PREBUILT_KERNELS=0`` gives the kernels Numba's plain cache back;
* the prebuilt cache is asked first and Numba's own cache second, which
  receives every new compile; bounds checks and disabled JIT turn it off.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import skreg
from skreg import MLPClassifier, MLPRegressor
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


def _fits_here():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    out = {}
    for dtype in ("float64", "float32"):
        clf = MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0)
        clf.fit(X.astype(dtype), X[:, 0] > 0)
        reg = MLPRegressor(solver="lbfgs", hidden_layer_sizes=(6,), max_iter=5, random_state=0)
        reg.fit(X.astype(dtype), X @ [1.0, -1.0, 0.5, 2.0])
        out[dtype] = [clf.predict_proba(X.astype(dtype)), reg.predict(X.astype(dtype))]
    return out


@pytest.fixture(scope="module")
def site_with_prebuilt_kernels(tmp_path_factory):
    """A copy of this skreg whose kernels were compiled as the build does."""
    site = tmp_path_factory.mktemp("skreg-prebuilt")
    shutil.copytree(
        pathlib.Path(skreg.__file__).parent,
        site / "skreg",
        ignore=shutil.ignore_patterns("__pycache__", "_prebuilt_kernels"),
    )
    target = prebuilt.write_prebuilt_kernels(site)
    assert any(pathlib.Path(target).glob("_kernels.run_epoch-*.nbi"))
    return site


def _fresh_interpreter(site, cache, **extra_env):
    env = {key: value for key, value in os.environ.items() if not key.startswith("NUMBA_")}
    env.pop("SKREG_PREBUILT_KERNELS", None)
    env.update(PYTHONPATH=str(site), NUMBA_CACHE_DIR=str(cache), **extra_env)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_FIT_SCRIPT)],
        env=env,
        cwd=site,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@needs_supported_numba
def test_prebuilt_kernels_load_without_compiling_and_match(site_with_prebuilt_kernels, tmp_path):
    result = _fresh_interpreter(site_with_prebuilt_kernels, tmp_path / "empty-cache")
    assert result["prebuilt_directory"] == str(
        site_with_prebuilt_kernels / "skreg" / "_prebuilt_kernels"
    )
    for name in ("run_epoch", "loss_and_gradient", "predict_output"):
        # Two signatures (float64, float32), both loaded, none compiled.
        assert result["stats"][name] == [2, 0], result["stats"]
    assert not any((tmp_path / "empty-cache").rglob("*.nbc"))  # nothing compiled to save
    here = _fits_here()
    for dtype in ("float64", "float32"):
        for got, expected in zip(result[dtype], here[dtype], strict=True):
            assert_array_equal(np.array(got, dtype=expected.dtype), expected)


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
    monkeypatch.setattr(prebuilt.numba.config, "BOUNDSCHECK", None)
    monkeypatch.setattr(prebuilt.numba.config, "DISABLE_JIT", 0)
    assert prebuilt.prebuilt_enabled()
    monkeypatch.setattr(prebuilt.numba.config, "BOUNDSCHECK", 1)
    assert not prebuilt.prebuilt_enabled()
    monkeypatch.setattr(prebuilt.numba.config, "BOUNDSCHECK", None)
    monkeypatch.setenv("SKREG_PREBUILT_KERNELS", "0")
    assert not prebuilt.prebuilt_enabled()
    monkeypatch.delenv("SKREG_PREBUILT_KERNELS")
    monkeypatch.setattr(prebuilt, "PREBUILT_DIRECTORY", None)
    assert not prebuilt.prebuilt_enabled()
