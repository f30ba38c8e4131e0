"""Shared by the kernel tests of this directory.

* ``tests/`` on ``sys.path``: the modules here import ``_reference`` and
  ``_kernel_helpers`` (which live in ``tests/``) as top-level modules, as the
  modules of ``tests/`` do. pytest's default ("prepend") import mode puts
  only this directory on the path, also when a file of it runs alone
  (``python -m pytest tests/kernels/test_run_epoch.py``).
* The probe of ``test_signature_budget.py``, started with the first test of
  this directory so that its compiles run alongside the other kernel tests.
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import textwrap

import pytest

import skreg

TESTS = str(pathlib.Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

# The probe's fits, in a fresh interpreter with an empty, private Numba cache
# (see test_signature_budget.py); NUMBA_OPT=0 roughly halves the compile time,
# and types, hence signatures, do not depend on the optimisation level.
_SIGNATURE_SCRIPT = textwrap.dedent(
    """
    import json, pathlib, sys, tempfile, warnings
    import joblib
    import numpy as np
    import numba
    import scipy.sparse
    import skreg
    from skreg import _kernels as k

    warnings.simplefilter("ignore")

    def signatures():
        return {name: [str(sig) for sig in obj.signatures] for name, obj in sorted(vars(k).items())
                if hasattr(obj, "signatures")}

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y_binary = (X[:, 0] > 0).astype(int)
    targets = {
        "binary": y_binary,
        "multiclass": rng.integers(0, 3, size=40),
        "multilabel": rng.integers(0, 2, size=(40, 2)),
        "regression": X @ [1.0, -2.0, 0.5],
        "multi-output": np.column_stack([X @ [1.0, -2.0, 0.5], X[:, 1]]),
    }
    weights = rng.uniform(0.5, 2.0, size=40)

    def fit_all(X, targets=targets, weights=weights):
        for solver in ("sgd", "adam", "lbfgs"):
            extra = [{}]
            if solver != "lbfgs":
                extra.append(dict(l1=1e-3, group_l1=1e-3, dropout=0.2, input_dropout=0.1,
                                  max_norm=2.0, early_stopping=True, scoring="loss"))
            for kw in extra:
                common = dict(hidden_layer_sizes=(5,), max_iter=3, solver=solver,
                              random_state=0, **kw)
                for kind, y in targets.items():
                    regression = kind in ("regression", "multi-output")
                    Est = skreg.MLPRegressor if regression else skreg.MLPClassifier
                    est = Est(**common).fit(X, y, sample_weight=weights)
                    est.predict(X)
                    if not regression:
                        est.predict_proba(X)
                    if hasattr(est, "partial_fit"):
                        est.partial_fit(X, y, sample_weight=weights)

    fit_all(X)
    fit_all(X.astype(np.float32))
    # Sparse and Fortran-ordered input share the dense signatures too.
    fit_all(scipy.sparse.csr_matrix(X))
    fit_all(np.asfortranarray(X))
    writable = signatures()
    # joblib's read-only memmaps (what loky workers receive) of X in both
    # orders and both dtypes, of the targets and of the weights.
    folder = pathlib.Path(tempfile.mkdtemp())

    def memmap(array, name):
        joblib.dump(array, folder / name)
        mapped = joblib.load(folder / name, mmap_mode="r")
        assert isinstance(mapped, np.memmap) and not mapped.flags.writeable
        return mapped

    mapped_targets = {kind: memmap(y, kind) for kind, y in targets.items()}
    for dtype in (np.float64, np.float32):
        for order in "CF":
            name = f"X-{dtype.__name__}-{order}"
            X_mapped = memmap(np.asarray(X, dtype=dtype, order=order), name)
            fit_all(X_mapped, mapped_targets, memmap(weights, "w"))
    readonly = signatures()
    print(json.dumps({"writable": writable, "readonly": readonly,
                      "jit_disabled": bool(numba.config.DISABLE_JIT)}))
    """
)
_SIGNATURE_TEST = "test_signature_budget_two_per_kernel"


def _start_signature_probe():
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="skreg-signatures-"))
    repo = pathlib.Path(skreg.__file__).resolve().parents[1]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    env["NUMBA_CACHE_DIR"] = str(workdir / "numba_cache")
    env["NUMBA_OPT"] = "0"
    env["SKREG_PREBUILT_KERNELS"] = "0"  # compile, so that callees register
    stdout = open(workdir / "stdout", "w")
    stderr = open(workdir / "stderr", "w")
    proc = subprocess.Popen(
        [sys.executable, "-c", _SIGNATURE_SCRIPT], cwd=repo, env=env, stdout=stdout, stderr=stderr
    )
    stdout.close()
    stderr.close()
    return proc, workdir


@pytest.fixture(scope="session", autouse=True)
def signature_probe(request):
    """``(process, workdir)`` of the probe, started at once if the signature
    test is selected (else None); killed if still running at the end."""
    probe = None
    if any(item.name == _SIGNATURE_TEST for item in request.session.items):
        probe = _start_signature_probe()
    yield probe
    if probe is not None:
        proc, workdir = probe
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)
