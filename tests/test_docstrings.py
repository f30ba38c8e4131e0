"""The Examples in the public docstrings run and print what they show."""

import doctest

import pytest

import skreg
import skreg._mlp
import skreg.onnx


@pytest.mark.parametrize("module", [skreg._mlp, skreg.onnx])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("Est", [skreg.MLPClassifier, skreg.MLPRegressor])
def test_shared_sections_are_indented_like_the_rest_of_the_docstring(Est):
    """The shared parameter, attribute, notes and reference sections are
    inserted into both docstrings; a section indented differently breaks the
    rendered documentation (numpydoc)."""
    lines = Est.__doc__.splitlines()
    for entry in (
        "    hidden_layer_sizes : ",
        "    loss_ : float",
        "    The objective minimised",
        "    Glorot, X. and Bengio",
    ):
        assert any(line.startswith(entry) for line in lines), entry
    body = [line for line in lines[1:] if line.strip()]
    assert min(len(line) - len(line.lstrip()) for line in body) == 4
