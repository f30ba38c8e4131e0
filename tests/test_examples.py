"""The Python code blocks of the documentation's pages run.

The gallery runs in the docs build (``sphinx-build`` in ``.ci/run``); the short
snippets on the pages are not executed there, so they run here. The quick
start page continues the README's quickstart, which it includes.
"""

import contextlib
import importlib.util
import io
import pathlib
import re

import matplotlib
import pytest

# Headless: the quick start draws a TrainingCurveDisplay.
matplotlib.use("Agg")

ROOT = pathlib.Path(__file__).resolve().parents[1]
HAS_SKLEARN_CALLBACK = importlib.util.find_spec("sklearn.callback") is not None
# From the section's label to the next label or to the References.
CALLBACKS_SECTION = r"^\.\. _callbacks:\n.*?(?=^\.\. _|^References\n)"
PAGES_WITH_CODE = [
    "index.rst",
    "quickstart.rst",
    "user_guide.rst",
    "migrating.rst",
    "deploying.rst",
]


def python_blocks(page):
    """The code of each ``.. code-block:: python`` directive of a page;
    without ``sklearn.callback`` (scikit-learn < 1.9), not those of the
    user guide's callbacks section, which need it."""
    text = (ROOT / "doc" / page).read_text()
    if not HAS_SKLEARN_CALLBACK:
        text = re.sub(CALLBACKS_SECTION, "", text, flags=re.M | re.S)
    blocks = re.findall(r"^\.\. code-block:: python\n\n((?:   .*\n|\s*\n)+)", text, flags=re.M)
    return ["\n".join(line[3:] for line in block.splitlines()) for block in blocks]


def readme_quickstart():
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)[0]


@pytest.mark.parametrize("page", PAGES_WITH_CODE)
def test_page_code_blocks_run(page):
    blocks = python_blocks(page)
    assert blocks, f"doc/{page} has no python code block"
    if page == "quickstart.rst":
        # The page shows the README's quickstart, then goes on from it.
        assert "literalinclude:: ../README.md" in (ROOT / "doc" / page).read_text()
        blocks = [readme_quickstart(), *blocks]
    namespace = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in blocks:
            exec(compile(block, f"doc/{page}", "exec"), namespace)
    if page == "quickstart.rst":
        lines = printed.getvalue().splitlines()
        assert any(line.endswith("of the weights are exactly zero") for line in lines), lines
        assert any(line.startswith("epochs run:") for line in lines), lines
