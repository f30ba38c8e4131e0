"""Seconds per epoch of a skreg fit with no callback, with scikit-learn's
ProgressBar and with its ScoringMonitor (scikit-learn >= 1.9).

Run from anywhere, on a quiet machine (the skreg of this checkout is the one
measured)::

    python benchmarks/bench_callbacks.py                      # digits, 200 epochs, 5 rounds
    python benchmarks/bench_callbacks.py --epochs 3 --repeat 1   # a smoke run
    python benchmarks/bench_callbacks.py --skreg-from ../main    # a checkout without callbacks

It trains the speed benchmark's digits workload (``digits-h100-b200`` of
``benchlib/speed_workloads.py``: 1797 x 64, 10 classes, one hidden layer of
100, Adam, batches of 200, no early stop) in rounds: each round fits once per
case, in turn, so that drifting machine load hits every case alike; each
case's median over the rounds is reported, with its ratio to no callback.

* ``none``: no callback, the cost every user pays (``--skreg-from`` a
  checkout from before callbacks to compare it with that);
* ``noop``: a FitCallback whose hooks do nothing, the cost of the task tree;
* ``progress-bar``: ``ProgressBar()``, drawn by rich in this terminal (its
  drawing runs in a thread of its own, as for a user; the thread's start and
  join, once a fit, are spread over the fit's epochs);
* ``scoring-monitor``: ``ScoringMonitor(scoring="accuracy")``, which scores
  each epoch's network on the training data: a prediction pass per epoch,
  a cost of what it measures rather than of the callback machinery.

Every fit with a callback is checked bit for bit against the fit without.
It reports; it never fails.
"""

import argparse
import statistics
import sys
import time
import warnings

import numpy as np
from benchlib.harness import machine, use_skreg_from, versions, wait_until_idle
from benchlib.speed_workloads import WORKLOADS_BY_NAME, common_params, make_data

WORKLOAD = "digits-h100-b200"


class NoOpCallback:
    """A FitCallback that only takes part: the cost of the tasks themselves."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        return False


def callback_cases():
    """``{case: a function returning the callbacks of one fit}``: only
    ``none`` when the skreg or scikit-learn measured has no callbacks."""
    from skreg import MLPClassifier

    cases = {"none": lambda: ()}
    try:
        from sklearn.callback import ProgressBar, ScoringMonitor

        MLPClassifier().set_callbacks(NoOpCallback())
    except (ImportError, AttributeError) as error:
        print(f"(callbacks not measured: {error})")
        return cases
    cases["noop"] = lambda: (NoOpCallback(),)
    cases["progress-bar"] = lambda: (ProgressBar(),)
    cases["scoring-monitor"] = lambda: (ScoringMonitor(scoring="accuracy"),)
    return cases


def timed_fit(X, y, epochs, callbacks):
    """``(seconds per epoch, model)`` of one fit with ``callbacks``."""
    from skreg import MLPClassifier

    workload = WORKLOADS_BY_NAME[WORKLOAD]
    model = MLPClassifier(**common_params(workload, epochs), l2=workload.l2)
    if callbacks:
        model.set_callbacks(*callbacks)
    start = time.perf_counter()
    model.fit(X, y)
    return (time.perf_counter() - start) / model.n_iter_, model


def same_network(a, b):
    pairs = zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True)
    return all(np.array_equal(p, q) for p, q in pairs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=200, help="epochs per fit (200)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds, median kept (5)")
    parser.add_argument("--skreg-from", help="directory holding the skreg package to measure")
    args = parser.parse_args(argv)
    if args.skreg_from:
        use_skreg_from(args.skreg_from)
    warnings.simplefilter("ignore")  # the max_iter ConvergenceWarning of every fit

    X, y, _ = make_data(WORKLOADS_BY_NAME[WORKLOAD], quick=False)
    cases = callback_cases()
    timed_fit(X[:64], y[:64], 1, ())  # compile or load the kernels
    seconds = {case: [] for case in cases}
    reference = None
    identical = {case: True for case in cases}
    for _ in range(args.repeat):
        wait_until_idle(timeout=60, log=print)
        for case, callbacks in cases.items():
            per_epoch, model = timed_fit(X, y, args.epochs, callbacks())
            seconds[case].append(per_epoch)
            reference = reference or model
            identical[case] &= same_network(model, reference)

    info, host = versions(), machine()
    print(
        f"\n{WORKLOAD}, {args.epochs} epochs a fit, median of {args.repeat} rounds; "
        f"{host['cores']} cores ({host['cpu']}); skreg {info['skreg_git']}, "
        f"scikit-learn {info['scikit-learn']}, numba {info['numba']}"
    )
    print(f"{'callbacks':<18}{'ms / epoch':>12}{'vs none':>10}  bit-identical to none")
    base = statistics.median(seconds["none"])
    for case, values in seconds.items():
        median = statistics.median(values)
        print(
            f"{case:<18}{1e3 * median:>12.3f}{median / base:>9.3f}x  "
            f"{'yes' if identical[case] else 'NO'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
