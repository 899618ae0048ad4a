"""shell.parse_structure: the grammar on top of the tokenizer, and where a command can be appended.

The rule it serves: an edit relies on a shell structure dockfix parsed, or it is not made.
A command appended at `Structure.tail()` must run exactly when the script succeeds, and
the script must keep its exit status; a property test checks that with bash itself.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockfix import parse
from dockfix.context import Context
from dockfix.engine import run_pipeline
from dockfix.shell import Compound, Simple, _flat, _lex, parse_script, parse_structure, structure_error
from dockfix.transforms import apt
from dockfix.views import heredoc_roles

from .conftest import read_exact

# --- the structure ---------------------------------------------------------------------


def _argvs(commands: list[Simple]) -> list[str]:
    return [" ".join(c.command.argv) for c in commands]


def test_lists_and_or_chains_and_pipelines_keep_their_positions():
    text = "a && b || c | d; e &\nf"
    body = parse_structure(text).body
    assert body is not None
    first, second, third = body.items
    assert [p.commands[0].command.argv for p in first.pipelines] == [["a"], ["b"], ["c"]]
    assert first.operators == ("&&", "||") and not first.background
    assert len(first.pipelines[2].commands) == 2  # c | d
    assert text[first.start:first.end] == "a && b || c | d"
    assert second.background and text[second.start:second.end] == "e"
    assert text[third.start:third.end] == "f"


@pytest.mark.parametrize("text, kind, source", [
    ("{ a; b; } > log", "{", "{ a; b; } > log"),
    ("(cd x && make) 2>&1", "(", "(cd x && make) 2>&1"),
    ("if a; then b; elif c; then d; else e; fi", "if", None),
    ("for x in 1 2; do echo $x; done < in", "for", None),
    ("while read l; do echo $l; done", "while", None),
    ("until a; do b; done", "until", None),
    ('case "$x" in a|b) c ;; (d) e;; *) f ;; esac', "case", None),
    ("f() { a; }", "function", None),
    ("function f { a; }", "function", None),
])
def test_compound_commands(text, kind, source):
    structure = parse_structure(text)
    assert structure.error is None
    assert structure.body is not None
    node = structure.body.items[0].pipelines[0].commands[0]
    assert isinstance(node, Compound) and node.kind == kind
    assert text[node.start:node.end] == (source or text)


def test_case_arms_are_lists_and_patterns_are_not_commands():
    text = 'case "$arch" in\n  amd64|arm64)\n    A=1 ;;\n  i386) B=2; C=3 ;;\n  *) echo no; exit 1 ;;\nesac'
    structure = parse_structure(text)
    case = structure.body.items[0].pipelines[0].commands[0]
    assert [len(arm.items) for arm in case.parts] == [1, 2, 2]
    assert [c.command.words[0].raw for c in structure.simple_commands()] == ["A=1", "B=2", "C=3", "echo", "exit"]


def test_reserved_words_count_only_where_a_command_starts():
    structure = parse_structure("echo if then fi }; { { echo a; } }")
    assert structure.error is None
    assert _argvs(structure.simple_commands()) == ["echo if then fi }", "echo a"]


def test_test_brackets_arrays_and_process_substitution_are_words():
    structure = parse_structure('[[ -f a && ( -f b || -f c ) ]] && x=(1 2 3) && diff <(ls a) <(ls b)')
    assert structure.error is None
    assert [c.command.words[0].raw for c in structure.simple_commands()] == ["[[", "x=(1 2 3)", "diff"]


def test_here_document_bodies_inside_a_script_are_not_commands():
    text = "cat > /etc/x.conf <<'CONF'\n[section] (a\nrm -rf /\nCONF\napt-get update\n\tcat <<-X\n\t(\n\tX\necho done\n"
    structure = parse_structure(text)
    assert structure.error is None
    assert _argvs(structure.simple_commands()) == ["cat > /etc/x.conf <<CONF", "apt-get update", "cat <<-X", "echo done"]
    assert [c.argv for c in parse_script(text).commands] == [
        ["cat", ">", "/etc/x.conf", "<<CONF"], ["apt-get", "update"], ["cat", "<<-X"], ["echo", "done"]]


def test_line_continuations_in_a_body_join_words():
    structure = parse_structure("apt-get install -y \\\n    curl \\\n    git\n")
    assert _argvs(structure.simple_commands()) == ["apt-get install -y curl git"]


@pytest.mark.parametrize("text, error", [
    ("if a; then b", "`fi` expected before the end"),
    ("a; )", "unexpected `)`"),
    ("a (b)", "unexpected `(` after `a`"),
    ("echo 'unclosed", "an unclosed quote, `$(` or backquote"),
    ("a && ", "a command is missing at the end"),
    ("a ;; b", "unexpected `;;`"),
    ("case x in a) b ;;", "the text ends inside a command"),
    ("{ a; } b", "unexpected `b` after a compound command"),
    ("cat <<EOF\nnever ends\n", "a here-document without its end line"),
    ("with open('/x') as f:\n    print(f)", "unexpected `(` after `open`"),
])
def test_what_is_not_understood_says_why(text, error):
    structure = parse_structure(text)
    assert structure.body is None and structure.error == error
    assert not structure.tail().ok and error in (structure.tail().reason or "")


def test_deep_nesting_is_refused_without_recursion_errors():
    text = "(" * 50_000 + "a" + ")" * 50_000
    assert "levels of nested commands" in (parse_structure(text).error or "")
    assert parse_structure("(" * 50 + "a" + ")" * 50).error is None


# --- the success path ----------------------------------------------------------------------

@pytest.mark.parametrize("text, path", [
    ("a && b || c; d", ["a", "b", "d"]),
    ("a || b && c", ["a", "c"]),
    ("! a && b || c", ["a", "c"]),
    ("a & b", ["b"]),
    ("{ a; b; } && (c)", ["a", "b", "c"]),
    ("if a; then b; fi; while c; do d; done; for x in y; do e; done", ["a", "c"]),
    ('case x in x) a ;; esac; f() { b; }; g', ["g"]),
])
def test_success_path(text, path):
    assert _argvs(parse_structure(text).success_path()) == path


# --- where to append --------------------------------------------------------------------------

@pytest.mark.parametrize("text, before", [
    # After the whole top-level and-or list, never inside the error group.
    ('if [ -f x ]; then apt-get update && apt-get install -y curl; fi || { echo "failed"; exit 1; }',
     '{ echo "failed"; exit 1; }'),
    ("a && b; c", "c"),
    ("a && b;", "b"),  # before the trailing `;`
    ("a && b # why", "b"),  # before a comment
    ('case "$x" in a) b ;; esac > log', "esac > log"),
    ("a | tee log", "tee log"),
    ("a || exit 1", "exit 1"),  # a literal non-zero exit is the failure path
    ("(a; exit 0) && b", "b"),  # an exit in a subshell leaves the subshell only
    ("exec > log 2>&1; a", "a"),  # exec without a command: redirections only
    # The whole script is one group: the end of the group's own list.
    ("(apt-get update && apt-get install -y curl)", "install -y curl"),
    ("{ a; b; }", "b"),
])
def test_tail_is_after_the_last_top_level_and_or_list(text, before):
    tail = parse_structure(text).tail()
    assert tail.ok, tail.reason
    assert text[:tail.offset].endswith(before)


@pytest.mark.parametrize("text, reason", [
    ("a && b; exit 0", "`exit 0` could end the script"),
    ("a && exit", "`exit` could end the script"),
    ("if a; then exit $rc; fi; b", "`exit $rc` could end the script"),
    ("f() { return 0; }; a", "`return 0` could end the script"),
    ("a; exec nginx -g 'daemon off;'", "`exec` could end the script"),
    ("a && b &", "runs in the background"),
    ("a & b", "runs in the background"),
    ("", "no command to append to"),
])
def test_tail_is_refused_where_an_appended_command_could_be_skipped(text, reason):
    tail = parse_structure(text).tail()
    assert not tail.ok and reason in (tail.reason or "")


@pytest.mark.parametrize("text, errexit, expected", [
    ("set -eux\na\nb\n", False, True),
    ("set -o errexit; a", False, True),
    ("set -e; set +e; a", False, False),
    ("if x; then set -e; fi; a", False, False),  # only what surely runs counts
    ("a\nb\n", True, True),  # `sh -e`
    ("a\nb\n", False, False),
])
def test_errexit_at_the_tail(text, errexit, expected):
    assert parse_structure(text).tail(errexit).errexit is expected


# The property: where tail() says yes, `script && echo APPENDED` prints APPENDED exactly when the
# script succeeds, and exits as the script does; checked by bash for every outcome of the commands.

_COMMANDS = st.sampled_from(["ok", "no", "a", "b", "! a", "a | b", "exit 1", "exit 0", "exit", "true"])


def _scripts(depth: int = 2) -> st.SearchStrategy[str]:
    leaf = _COMMANDS
    if depth == 0:
        return leaf
    inner = st.deferred(lambda: _lists(depth - 1))
    return st.one_of(
        leaf, leaf, leaf,
        inner.map(lambda x: "{ " + x + "; }"),
        inner.map(lambda x: "( " + x + " )"),
        st.tuples(leaf, inner, inner).map(lambda t: f"if {t[0]}; then {t[1]}; else {t[2]}; fi"),
        st.tuples(leaf, inner).map(lambda t: f"case $A in 0) {t[0]} ;; *) {t[1]} ;; esac"),
    )


def _lists(depth: int = 2) -> st.SearchStrategy[str]:
    item = _scripts(depth)
    joined = st.lists(st.tuples(item, st.sampled_from([" && ", " || ", "; ", "\n"])), min_size=1, max_size=4)
    return joined.map(lambda parts: "".join(cmd + sep for cmd, sep in parts[:-1]) + parts[-1][0])


_HARNESS = """
ok() { return 0; }
no() { return 1; }
a() { return $A; }
b() { return $B; }
for A in 0 1; do for B in 0 1; do
  (eval "$ORIGINAL") >/dev/null; echo "O $A $B $?"
  (eval "$APPENDED"); echo "M $A $B $?"
done; done
"""


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_lists())
def test_an_appended_command_runs_exactly_when_the_script_succeeds(script):
    structure = parse_structure(script)
    assert structure.error is None, (script, structure.error)
    tail = structure.tail()
    if not tail.ok:
        assert "exit" in script or "&" in script, (script, tail.reason)
        return
    appended = script[:tail.offset] + " && echo APPENDED" + script[tail.offset:]
    done = subprocess.run(["bash", "-c", _HARNESS], env={"ORIGINAL": script, "APPENDED": appended, "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=30)
    lines = done.stdout.splitlines()
    outcomes = {}
    for index, line in enumerate(lines):
        if line.startswith("O "):
            _, a, b, status = line.split()
            printed = lines[index + 1] == "APPENDED"
            modified = lines[index + 2 if printed else index + 1].split()
            outcomes[(a, b)] = (status, printed, modified[3])
    assert len(outcomes) == 4, done.stdout + done.stderr
    for (a, b), (status, printed, modified) in outcomes.items():
        assert modified == status, (script, appended, a, b)
        assert printed == (status == "0"), (script, appended, a, b)


# --- here-documents: which are shell that runs --------------------------------------------------

@pytest.mark.parametrize("run, kinds", [
    ("RUN <<EOF\napt-get update\nEOF\n", ["script"]),
    ("RUN 0<<-'EOF'\n\techo hi\n\tEOF\n", ["script"]),
    ("RUN <<EOF\n#!/bin/bash -e\napt-get update\nEOF\n", ["script"]),
    ("RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n", ["program"]),
    ("RUN bash <<EOF\necho hi\nEOF\n", ["shell"]),
    ("RUN sh -e <<EOF\necho hi\nEOF\n", ["shell"]),
    ("RUN /bin/bash -eo pipefail <<EOF\necho hi\nEOF\n", ["shell"]),
    ("RUN bash -s -- arg <<EOF\necho hi\nEOF\n", ["shell"]),
    ("RUN bash -c 'cat' <<EOF\necho hi\nEOF\n", ["data"]),
    ("RUN bash /setup.sh <<EOF\nyes\nEOF\n", ["data"]),
    ("RUN python3 <<EOF\nprint(1)\nEOF\n", ["program"]),
    ("RUN cat > /setup.sh <<EOF\napt-get update\nEOF\n", ["data"]),
    ("RUN cat <<EOF | sh\necho hi\nEOF\n", ["data"]),
    ("RUN bash 3<<EOF\necho hi\nEOF\n", ["data"]),
    ("RUN cat <<A > a && bash <<B\nx\nA\necho hi\nB\n", ["data", "shell"]),
    ("COPY <<EOF /x.sh\necho hi\nEOF\n", ["data"]),
])
def test_heredoc_roles(run, kinds):
    instr = parse("FROM x\n" + run).instructions[1]
    assert [r.kind for r in heredoc_roles(instr)] == kinds


def test_a_shell_started_with_e_runs_its_body_with_errexit():
    roles = [heredoc_roles(parse("FROM x\n" + run).instructions[1])[0] for run in (
        "RUN sh -e <<EOF\na\nEOF\n", "RUN <<EOF\n#!/bin/sh -e\na\nEOF\n", "RUN bash <<EOF\na\nEOF\n")]
    assert [r.errexit for r in roles] == [True, True, False]


# --- what the apt rule says about them ---------------------------------------------------------------

def _notes(text: str) -> list[str]:
    return [n.message for n in run_pipeline(text, Context(files={}), [apt.TRANSFORM], unsafe=True).notes]


@pytest.mark.parametrize("run", [
    'RUN case "$(uname -m)" in x86_64) A=amd64 ;; aarch64) A=arm64 ;; esac && echo $A\n',
    "RUN python3 <<EOF\nif True:\n    print('(')\nEOF\n",
    "RUN $url = ('https://x/{0}' -f ($env:V)); Invoke-WebRequest $url\n",  # PowerShell: not apt's business
])
def test_no_note_on_a_run_without_a_package_manager(run):
    assert not [n for n in _notes("FROM python:3.12-slim\n" + run) if "too complex" in n]


def test_a_run_with_apt_that_is_not_understood_is_left_alone_with_the_reason():
    notes = _notes("FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl && if true; then echo\n")
    assert "shell text too complex to edit safely (`fi` expected before the end)" in notes


# --- structure_error: the error without the structure of a flat text --------------------------
#
# A text of simple commands joined by `&&`, `||`, `|`, `;`, `&` and newlines (`shell._flat`) is
# understood without being parsed. The shortcut must never change an answer: on generated texts
# of every token the grammar knows, and on every RUN text of the corpus, structure_error is the
# parse's error, and a text said to be flat parses, into simple commands only.

_PIECES = ["a", "b x", "'q'", '"d d"', "$(s)", "`t`", "!", "{", "}", "(", ")", "if", "then", "fi", "do", "done",
           "while", "for", "in", "case", "esac", ";;", "[[", "]]", "function", "f()", "echo }", "x=1", "<<EOF",
           ">log", "2>&1", "\\\n", "#c", "'", '"']
_JOINS = [" ", " && ", " || ", " | ", " |& ", "; ", ";", " & ", "&", "\n", "\n\n", " &&\n", " |\n", " ; ;", ""]


@st.composite
def _token_soups(draw):
    out = [draw(st.sampled_from(["", "\n", "; ", "&& "]))]
    for _ in range(draw(st.integers(0, 8))):
        out.append(draw(st.sampled_from(_PIECES)))
        out.append(draw(st.sampled_from(_JOINS)))
    return "".join(out)


def _same_error(text: str) -> None:
    parsed = parse_structure(text)
    assert structure_error(text) == parsed.error
    assert structure_error(text, {}) == parsed.error
    memo: dict = {}
    parse_script(text, memo)  # the tokens already in the memo, as a RUN's script leaves them
    assert structure_error(text, memo) == parsed.error
    if _flat(_lex(text)):
        assert parsed.error is None
        assert all(isinstance(s, Simple) for ao in parsed.body.items for p in ao.pipelines for s in p.commands)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_token_soups())
def test_structure_error_is_the_parse_s_error(text):
    _same_error(text)


@pytest.mark.parametrize("text, flat", [
    ("apt-get update && apt-get install -y x \\\n    && rm -rf /var/lib/apt/lists/*", True),
    ("a | b; c & d\n\ne || f", True), ("a &&\n b", True), ("", True), ("echo if then }", True),
    ("a &&", False), ("; a", False), ("a ; ; b", False), ("a |& b", False), ("! a", False), ("a | ! b", False),
    ("if a; then b; fi", False), ("{ a; }", False), ("(a)", False), ("f() { a; }", False), ("a ;; b", False),
    ("echo 'open", False),
])
def test_flat_texts(text, flat):
    assert _flat(_lex(text)) == flat
    _same_error(text)


def test_structure_error_on_the_corpus_runs(corpus):
    count = 0
    for path in corpus:
        try:
            tree = parse(read_exact(path))
        except Exception:  # noqa: BLE001 - a file the parser refuses has no RUN to read
            continue
        for instr in tree.instructions:
            if instr.name == "RUN":
                for text in [instr.logical[instr.args_start:], *(h.body for h in instr.heredocs)]:
                    _same_error(text)
                    count += 1
    assert count > 500
