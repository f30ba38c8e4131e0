"""Resident-memory readings of the current process (Linux /proc, else getrusage)."""

import gc
import resource


def _status_kb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def reset_peak_rss():
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS.

    Returns the method name that :func:`peak_rss` takes.
    """
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        _status_kb("VmHWM")
        return "VmHWM"
    except OSError:
        return "ru_maxrss"


def current_rss():
    try:
        return _status_kb("VmRSS") * 1024
    except (OSError, KeyError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def peak_rss(method):
    if method == "VmHWM":
        return _status_kb("VmHWM") * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


MEMORY_NOTE = (
    "peak memory: increase of the process's peak RSS during the first timed fit over its RSS "
    "just before it (after imports, data creation and the warm-up fit), each system in its own "
    "subprocess; the peak mark is reset through /proc/self/clear_refs (VmHWM). The memory "
    "targets also show the bytes allocated at the peak of one more fit (tracemalloc; NumPy "
    "and Numba allocations), which RSS can hide when a fit reuses heap freed earlier"
)
