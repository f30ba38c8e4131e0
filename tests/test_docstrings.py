"""The Examples in the public docstrings run and print what they show."""

import doctest

import pytest

import skreg._mlp
import skreg.onnx


@pytest.mark.parametrize("module", [skreg._mlp, skreg.onnx])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
