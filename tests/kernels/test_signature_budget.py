"""The compiled-signature budget: fits of every kind compile each kernel
for at most one signature per float dtype.

The signatures are counted in a fresh interpreter with an empty, private
Numba cache: a kernel loaded from the on-disk cache does not compile (so does
not register) the kernels it calls, so with a shared, warm cache the count
would depend on what earlier runs left there. Compiling from scratch is the
slow part, so the probe (``signature_probe`` in ``conftest.py``) starts with
the first test of ``tests/kernels/`` and runs alongside them. It is the
suite's one cold-compile probe of signatures: it also fits on joblib's
read-only memmaps, which must compile nothing new.
"""

import json


def test_signature_budget_two_per_kernel(record_property, signature_probe):
    # float64 and float32 fits (sgd, adam, lbfgs; with and without l1,
    # group_l1, dropout, input dropout, max_norm and early stopping on the
    # validation loss; every target type; dense, sparse and Fortran-ordered
    # X) must compile each dispatcher for at most 2 signatures, one per float
    # dtype.
    proc, workdir = signature_probe
    returncode = proc.wait(timeout=1200)
    assert returncode == 0, (workdir / "stderr").read_text()
    result = json.loads((workdir / "stdout").read_text().strip().splitlines()[-1])
    writable, readonly = result["writable"], result["readonly"]
    if not result["jit_disabled"]:
        assert "forward" in writable and "run_epoch" in writable, writable
    counts = {name: len(sigs) for name, sigs in writable.items()}
    readonly_counts = {name: len(sigs) for name, sigs in readonly.items()}
    record_property("signatures_writable", counts)
    record_property("signatures_after_readonly", readonly_counts)
    print("signatures after float64 + float32 fits:", counts)
    over = {name: sigs for name, sigs in writable.items() if len(sigs) > 2}
    assert not over, "kernels with more than 2 compiled signatures:\n" + "\n".join(
        f"{name}: " + "\n    ".join(sigs) for name, sigs in over.items()
    )
    # joblib's read-only memmaps (X in C and F order, float64 and float32;
    # the targets and the weights too) reuse the writable inputs' signatures.
    assert readonly_counts == counts, {
        name: readonly[name] for name in readonly if readonly_counts[name] != counts.get(name)
    }
