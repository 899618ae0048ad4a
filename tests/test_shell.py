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


# Script.commands on valid shell that once read as unbalanced (issue 11): a case pattern's `)`,
# a group after `then`, an array, a process substitution, a function definition.
BALANCED = {
    "case": ('case "$a" in amd64|arm64) A=1 ;; (i386) A=2;; *) exit 1 ;; esac && apt-get update',
             [["case", "$a", "in"], [], [], ["exit", "1"], ["esac"], ["apt-get", "update"]]),
    "then-group": ("if [ -z x ]; then { echo no; exit 1; }; fi", [["[", "-z", "x", "]"], ["echo", "no"], ["exit", "1"], ["fi"]]),
    "array": ("a=(x y) && diff <(ls a) <(ls b)", [[], ["diff", "<(ls a)", "<(ls b)"]]),
    "function": ("f() { echo hi; }; f", [["f"], ["echo", "hi"], ["f"]]),
}


@pytest.mark.parametrize("text,argvs", BALANCED.values(), ids=BALANCED.keys())
def test_valid_shell_reads_balanced(text, argvs):
    script = parse_script(text)
    assert [c.argv for c in script.commands] == argvs
    assert script.balanced


def test_case_keeps_the_commands_of_its_arms_and_their_operators():
    script = parse_script("case $x in a) apt-get install -y curl && echo ok ;; esac")
    assert [(c.argv, c.separator) for c in script.commands] == [
        (["case", "$x", "in"], None), (["apt-get", "install", "-y", "curl"], "&&"), (["echo", "ok"], ";;"),
        (["esac"], None)]


def test_an_unclosed_case_is_not_balanced():
    assert not parse_script("case $x in a) b ;;").balanced
