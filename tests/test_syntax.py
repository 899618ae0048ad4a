from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dockfix import ParseError, parse
from dockfix.syntax import Bom, Comment, Directive, Instruction, Line, split_lines

from .conftest import read_exact


def test_every_corpus_file_round_trips_or_is_rejected_with_a_line(corpus):
    parsed = 0
    for path in corpus:
        text = read_exact(path)
        try:
            tree = parse(text)
        except ParseError as err:
            assert err.message
            continue
        parsed += 1
        assert tree.render() == text, path.name
        ends = [n.end for n in tree.nodes]
        starts = [n.start for n in tree.nodes]
        assert starts[0] == 0 and ends[-1] == len(text) and starts[1:] == ends[:-1], path.name
    assert parsed >= len(corpus) - 5


CASES = {
    "bom-crlf": "\ufeffFROM python:3.11\r\nRUN echo hi\r\n",
    "no-final-newline": "FROM x\nRUN a",
    "mixed-eol": "FROM x\r\nRUN a \\\n  b\r\n",
    "tabs-and-trailing-space-after-backslash": "FROM x\n\tRUN a \\  \n\tb\n",
    "comment-and-blank-in-continuation": "FROM x\nRUN a \\\n  # note\n\n  && b\nCMD c\n",
    "backtick-escape": "# escape=`\nFROM x\nRUN a `\n  b\n",
    "heredoc-chomp-quoted-two": "FROM x\nCOPY <<-\"A\" <<B /d/\n\ta $x\n\tA\nb\nB\n",
    "lowercase-onbuild-arg-before-from": "ARG V=3\nfrom python:${V}\nonbuild run echo\n",
    "json-and-shell": 'FROM x\nCMD ["a", "b"]\nENTRYPOINT a b\n',
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_render_is_byte_identical(text):
    assert parse(text).render() == text


def test_bom_directive_and_heredoc_nodes():
    tree = parse("\ufeff# syntax=docker/dockerfile:1\n# escape=`\nFROM x\nRUN <<EOF\necho `\nEOF\n")
    assert isinstance(tree.nodes[0], Bom)
    assert [type(n) for n in tree.nodes[1:3]] == [Directive, Directive]
    assert tree.escape == "`" and tree.directives["syntax"] == "docker/dockerfile:1"
    run = tree.instructions[1]
    assert run.heredocs[0].name == "EOF" and run.heredocs[0].body == "echo `\n"
    assert (run.line, run.end_line) == (4, 6)


def test_continuation_skips_comments_and_blank_lines_like_buildkit():
    tree = parse("FROM x\nRUN a \\\n  # note\n\n  && b\nCMD c\n")
    run = tree.instructions[1]
    assert run.args == "a   && b"
    assert (run.line, run.end_line) == (2, 5)
    assert tree.instructions[2].name == "CMD"


def test_doubled_backslash_does_not_continue():
    tree = parse("FROM x\nENV C a\\\\\nENV D x\n")
    assert [i.line for i in tree.instructions] == [1, 2, 3]


def test_flags_and_leading_comments():
    tree = parse("FROM x\n# why\nRUN --mount=type=cache,target=/root/.cache/uv --network=none uv sync\n")
    run = tree.instructions[1]
    assert [f.name for f in run.flags] == ["mount", "network"]
    assert run.args == "uv sync"
    assert [c.text for c in run.leading_comments] == ["# why"]
    assert isinstance(tree.nodes[1], Comment) and isinstance(tree.nodes[2], Instruction)


@pytest.mark.parametrize(
    "text, message, line",
    [
        ("FROM x\nRUN <<EOF\necho\n", "unterminated heredoc", 2),
        ("FROM x\nFORM y\n", "unknown instruction: FORM", 2),
        ("# only a comment\n", "file with no instructions", None),
        ("# escape=x\nFROM x\n", "invalid escape token", 1),
    ],
)
def test_parse_errors_name_the_line(text, message, line):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert message in info.value.message
    assert info.value.line == line


@given(st.text(alphabet="ab \t\r\n\\#", max_size=80))
@example("a\r")
@example("a\r\nb\r")
def test_split_lines_are_the_text_line_by_line(text):
    """split_lines (its own loop for a text without "\r") against a regular expression: each
    line's text, ending ("\r\n" only before "\n") and offsets, and a last line without one."""
    expected = []
    for number, m in enumerate(re.finditer(r"[^\n]*\n|[^\n]+$", text), start=1):
        eol = "\r\n" if m[0].endswith("\r\n") else "\n" if m[0].endswith("\n") else ""
        expected.append(Line(number, m.start(), m.end(), m[0][: len(m[0]) - len(eol)], eol))
    assert split_lines(text) == expected


def test_instruction_fields_are_in_the_order_the_parser_passes_them():
    """The parser makes an Instruction by position (syntax._Parser._instruction: keywords cost an
    eighth of the parse): a field added or moved must be added or moved there too."""
    assert [f.name for f in dataclasses.fields(Instruction)] == [
        "start", "end", "line", "end_line", "keyword", "name", "lines", "code_lines", "logical",
        "segment_starts", "segment_sources", "flags", "args_start", "flags_end", "heredocs", "escape",
        "leading_comments", "memo",
    ]
    tree = parse("FROM x\n# why\nRUN --mount=type=cache,target=/c a \\\n  b <<EOF\nbody\nEOF\n")
    run = tree.instructions[1]
    assert (run.start, run.line, run.end_line, run.keyword, run.name, run.escape) == (13, 3, 6, "RUN", "RUN", "\\")
    assert run.end == len(tree.source) and run.logical.endswith("a   b <<EOF") and run.memo is tree.memo
    assert [f.name for f in run.flags] == ["mount"] and run.heredocs[0].body == "body\n"
    assert [c.text for c in run.leading_comments] == ["# why"] and run.args.startswith("a")
