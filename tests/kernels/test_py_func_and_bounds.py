"""The pure-Python versions of the kernels agree with the compiled
ones, and Numba's bounds checks catch an out-of-range row when
asked (``.ci/run`` reruns the kernel tests with them).
"""

import os
import subprocess
import sys
import tempfile
import textwrap

import _reference as ref
import numpy as np
import pytest
from _kernel_helpers import (
    ACTIVATIONS,
    EPS64,
    LOSS_CASES,
    LOSS_CODES,
    dense_input,
    keep_mask_buffer,
    make_settings,
    make_targets,
    n_units,
    seed_state,
    units_array,
)
from numpy.testing import assert_allclose, assert_array_equal

from skreg import _kernels as k

# --------------------------------------------------------------------------
# Pure-Python versions agree with the compiled ones
# --------------------------------------------------------------------------


@pytest.mark.parametrize("loss, n_outputs", LOSS_CASES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_py_func_matches_compiled_forward(activation, loss, n_outputs):
    layer_units = units_array(5, 4, 3, n_outputs)
    rng = np.random.default_rng(80)
    X = rng.normal(size=(6, 5))
    params = rng.normal(0.0, 0.8, size=ref.n_parameters(layer_units))
    dropout = np.array([0.3, 0.5])
    settings = make_settings(activation, loss, dropout=dropout)
    size = 6 * n_units(layer_units)
    results = []
    for fn in (k.forward, getattr(k.forward, "py_func", k.forward)):
        acts, ders, state = (
            np.full(size, np.nan),
            keep_mask_buffer(layer_units, 6, dropout),
            seed_state(81),
        )
        fn(*dense_input(X), params, layer_units, settings, state, acts, ders)
        results.append((acts, ders, state))
    (a1, d1, s1), (a2, d2, s2) = results
    assert_allclose(a2, a1, rtol=1e-13, atol=1e-15)
    assert_array_equal(d2, d1)
    assert s1[0] == s2[0]


@pytest.mark.parametrize("loss, n_outputs", LOSS_CASES)
def test_py_func_matches_compiled_data_loss(loss, n_outputs):
    rng = np.random.default_rng(82)
    Y = make_targets(rng, loss, 5, n_outputs)
    output = rng.uniform(0.05, 0.95, size=(5, n_outputs))
    w = rng.uniform(0.2, 2.0, size=5)
    fn = k.data_loss_and_output_delta
    d1, d2 = np.empty_like(output), np.empty_like(output)
    l1 = fn(output, Y, w, LOSS_CODES[loss], EPS64, d1)
    l2 = getattr(fn, "py_func", fn)(output, Y, w, LOSS_CODES[loss], EPS64, d2)
    assert_allclose(l2, l1, rtol=1e-14)
    assert_allclose(d2, d1, rtol=1e-14, atol=1e-16)


def test_bounds_checks_catch_an_out_of_range_row_when_asked():
    """.ci/run reruns the kernel tests with NUMBA_BOUNDSCHECK=1: there a row
    index past the input raises IndexError instead of reading garbage."""
    code = textwrap.dedent(
        """
        import numpy as np
        from skreg import _kernels as k
        X = np.ones((3, 2))
        try:
            k.gather_input_rows(X, np.array([0, 3]), np.empty((2, 2)))
        except IndexError:
            print("IndexError")
        """
    )
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=cache)
        printed = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout
    assert printed.strip() == "IndexError"
