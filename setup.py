"""Build hook: ship the Numba kernels compiled, so that the first fit in a
fresh environment does not compile them (skreg/_prebuilt.py says how).

``SKREG_BUILD_KERNELS=0`` at build time builds without them (for packagers
whose build machine is not the machine that runs the package: Numba's cache
only applies on the CPU it was compiled for).

Everything else about the build lives in pyproject.toml.
"""

import importlib.util
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithKernels(build_py):
    """``build_py``, then compile the built package's kernels into
    ``skreg/_prebuilt_kernels``. If that fails, the build goes on without
    them, and the kernels compile on first use as they always did."""

    def run(self):
        super().run()
        if self.editable_mode:
            return  # an editable install runs the checkout's sources
        if os.environ.get("SKREG_BUILD_KERNELS", "1") == "0":
            # Not even those an earlier build left in build_lib.
            shutil.rmtree(
                os.path.join(self.build_lib, "skreg", "_prebuilt_kernels"), ignore_errors=True
            )
            return
        source = os.path.join(self.build_lib, "skreg", "_build_kernels.py")
        try:
            # Only this module, not the package (whose import needs more).
            spec = importlib.util.spec_from_file_location("_skreg_build_kernels", source)
            build_kernels = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(build_kernels)
            build_kernels.write_prebuilt_kernels(self.build_lib)
        except Exception as error:  # noqa: BLE001 - any failure only costs speed
            self.warn(
                f"skreg: kernels not compiled at build time ({error!r}); they compile on first use"
            )


setup(cmdclass={"build_py": BuildPyWithKernels})
