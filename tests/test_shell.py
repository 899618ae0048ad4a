"""shell.parse_script: inputs that once made it loop forever."""

import pytest

from dockfix.shell import parse_script

TERMINATES = {
    "paren-after-word": ("a ($x -f (1))", [["a"], ["$x", "-f"], ["1"]]),
    "powershell-call": ("$u = ('x' -f ($env:V))", [["$u", "="], ["x", "-f"], ["$env:V"]]),
    "subshell": ("(cd x && pip install y)", [["cd", "x"], ["pip", "install", "y"]]),
}


@pytest.mark.parametrize("text,argvs", TERMINATES.values(), ids=TERMINATES.keys())
def test_parenthesis_after_a_word_opens_a_group(text, argvs):
    script = parse_script(text)
    assert [c.argv for c in script.commands] == argvs
    assert script.balanced
