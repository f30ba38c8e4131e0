"""Peak memory of a skreg fit on a large sparse matrix, next to its dense size.

Run from anywhere (the skreg of this checkout is the one measured)::

    python benchmarks/sparse_memory.py                 # 100,000 x 50,000 CSR, 0.1 %, hidden (100,)
    python benchmarks/sparse_memory.py --n-samples 20000 --hidden 16   # smaller

The fit runs in a fresh subprocess, so that its peak resident set size
(``resource.getrusage(...).ru_maxrss``) belongs to this fit alone: the child
imports skreg, builds the CSR matrix in row blocks (never as a dense array),
loads the compiled kernels with a 1-epoch fit on a few rows, then fits
``MLPClassifier(hidden_layer_sizes=(hidden,), max_iter=1)`` on the whole
matrix. It reports

* the peak RSS of the whole child process (ru_maxrss: interpreter, libraries,
  data and fit together);
* the RSS just before the fit and, where Linux allows resetting the
  high-water mark (``/proc/self/clear_refs``), the peak RSS during the fit
  alone, and their difference: what the fit added;
* the peak allocation traced by ``tracemalloc`` during a second, identical
  fit (NumPy's and Numba's allocations are both traced);

next to the size of the same matrix as a dense float64 array, which a
densifying route would need for X alone. The script only reports; it never
fails on a number.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _current_rss_bytes():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _reset_peak_rss():
    """Reset the kernel's RSS high-water mark (VmHWM); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_since_reset_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def _maxrss_bytes():
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _build_csr(n_samples, n_features, density, seed, block=10_000):
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    per_row = max(1, int(round(n_features * density)))
    data, indices = [], []
    for start in range(0, n_samples, block):
        rows = min(block, n_samples - start)
        cols = rng.integers(0, n_features, size=(rows, per_row))
        cols.sort(axis=1)
        indices.append(cols.astype(np.int32).ravel())
        data.append(rng.normal(size=rows * per_row))
    indptr = np.arange(0, n_samples * per_row + 1, per_row, dtype=np.int32)
    X = sp.csr_matrix(
        (np.concatenate(data), np.concatenate(indices), indptr), shape=(n_samples, n_features)
    )
    return X


def child(args):
    sys.path.insert(0, REPO)
    import tracemalloc

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    import skreg

    warnings.simplefilter("ignore", ConvergenceWarning)
    X = _build_csr(args.n_samples, args.n_features, args.density, args.seed)
    w = np.random.default_rng(args.seed + 1).normal(size=args.n_features)
    y = (X @ w > 0).astype(np.int64)
    params = dict(
        hidden_layer_sizes=(args.hidden,),
        solver=args.solver,
        max_iter=args.max_iter,
        random_state=0,
    )
    # Load (or compile) the kernels outside the measurement.
    skreg.MLPClassifier(**params).fit(X[:200], y[:200])

    maxrss_before = _maxrss_bytes()
    rss_before = _current_rss_bytes()
    reset = _reset_peak_rss()
    start = time.perf_counter()
    est = skreg.MLPClassifier(**params).fit(X, y)
    fit_seconds = time.perf_counter() - start
    peak_during_fit = _peak_rss_since_reset_bytes() if reset else None
    maxrss_after = _maxrss_bytes()

    del est
    tracemalloc.start()
    skreg.MLPClassifier(**params).fit(X, y)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    n_params = args.n_features * args.hidden + args.hidden + args.hidden + 1
    print(
        json.dumps(
            {
                "skreg": skreg.__file__,
                "nnz": int(X.nnz),
                "csr_bytes": int(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes),
                "param_bytes": 8 * n_params,
                "maxrss_before_fit": maxrss_before,
                "rss_before_fit": rss_before,
                "peak_rss_during_fit": peak_during_fit,
                "maxrss_after_fit": maxrss_after,
                "tracemalloc_peak_fit": traced_peak,
                "fit_seconds": fit_seconds,
            }
        )
    )


def _gb(n):
    return f"{n / 1e9:.3f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--n-features", type=int, default=50_000)
    parser.add_argument("--density", type=float, default=0.001)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--solver", default="adam", choices=["adam", "sgd", "lbfgs"])
    parser.add_argument("--max-iter", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        "--n-samples",
        str(args.n_samples),
        "--n-features",
        str(args.n_features),
        "--density",
        str(args.density),
        "--hidden",
        str(args.hidden),
        "--solver",
        args.solver,
        "--max-iter",
        str(args.max_iter),
        "--seed",
        str(args.seed),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(done.returncode)
    r = json.loads(done.stdout.strip().splitlines()[-1])
    dense_bytes = args.n_samples * args.n_features * 8
    print(f"skreg: {r['skreg']}")
    print(
        f"MLPClassifier(hidden_layer_sizes=({args.hidden},), solver={args.solver!r}, "
        f"max_iter={args.max_iter}) on a {args.n_samples:,} x {args.n_features:,} CSR matrix, "
        f"density {args.density:.3%}, nnz {r['nnz']:,}"
    )
    print(
        f"  dense float64 X ({args.n_samples:,} x {args.n_features:,} x 8 B) : {_gb(dense_bytes)}"
    )
    print(f"  CSR arrays of X                          : {_gb(r['csr_bytes'])}")
    print(f"  network parameters (float64)             : {_gb(r['param_bytes'])}")
    print(
        f"  peak RSS of the fitting process          : {_gb(r['maxrss_after_fit'])}"
        f"  ({r['maxrss_after_fit'] / dense_bytes:.2%} of the dense size)"
    )
    print(f"  RSS just before the fit                  : {_gb(r['rss_before_fit'])}")
    if r["peak_rss_during_fit"] is not None:
        added = r["peak_rss_during_fit"] - r["rss_before_fit"]
        print(
            f"  peak RSS during the fit                  : {_gb(r['peak_rss_during_fit'])}"
            f"  (the fit added {_gb(added)})"
        )
    print(f"  tracemalloc peak of the fit              : {_gb(r['tracemalloc_peak_fit'])}")
    print(f"  fit time (1 process, not a benchmark)    : {r['fit_seconds']:.1f} s")


if __name__ == "__main__":
    main()
