"""The README's quickstart runs as shown and prints what its comments say."""

import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_quickstart_runs_and_prints_what_it_shows():
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    code = blocks[0]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(README), "exec"), {})
    lines = printed.getvalue().splitlines()
    shown = [c.split("# ", 1)[1] for c in code.splitlines() if c.startswith("print(")]
    assert len(lines) == len(shown)
    for line, comment in zip(lines, shown, strict=True):
        assert line.startswith(comment.rstrip(".}").rstrip(", ")), (line, comment)
