"""skreg under ``python -OO``, which strips docstrings: the estimators'
shared docstring sections have nothing to fill, and fitting must not need
them."""

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import numpy as np
    import skreg

    assert skreg.MLPClassifier.__doc__ is None
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    model = skreg.MLPClassifier(
        hidden_layer_sizes=(4,), learning_rate_init=0.05, max_iter=300, random_state=0
    )
    print(model.fit(X, y).score(X, y))
    """
)


def test_import_and_fit_with_docstrings_stripped():
    proc = subprocess.run(
        [sys.executable, "-OO", "-c", CHILD], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert float(proc.stdout.split()[-1]) > 0.9
