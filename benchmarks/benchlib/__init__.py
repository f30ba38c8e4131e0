"""Code shared by the benchmark scripts of benchmarks/ (imported as ``benchlib``)."""
