"""Number formatting shared by the benchmark reports."""


def mb(n):
    return f"{n / 2**20:.1f}" if n is not None else "-"


def fmt_seconds(x):
    if x is None:
        return "-"
    if x >= 1:
        return f"{x:.2f}"
    if x >= 1e-3:
        return f"{x * 1e3:.1f}m"
    return f"{x * 1e6:.0f}u"


def fmt(x, spec=".2f"):
    return "-" if x is None else format(x, spec)
