"""Print pip constraints pinning each runtime dependency of pyproject.toml
to its declared floor (``numpy>=1.24`` becomes ``numpy==1.24``), so that CI
tests the oldest versions skreg claims to support. Needs Python 3.11+
(tomllib), as CI's python is."""

import re
from pathlib import Path

import tomllib

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"

for requirement in tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]:
    name, floor = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", requirement).groups()
    print(f"{name}=={floor}")
