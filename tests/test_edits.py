"""The edit API: minimal edits, written in the author's own style.

Every case checks the exact output, and that each line the edit did not
mean to touch is byte-identical (line endings included).
"""

from __future__ import annotations

import pytest

from dockfix import parse
from dockfix.edits import (
    AppendRefused,
    Edit,
    OverlapError,
    add_flag,
    append_to_heredoc,
    append_to_run,
    apply_edits,
    insert_after,
    insert_before,
    move_before,
    remove_flag,
    remove_instruction,
    replace_instruction,
)


def _instr(tree, name, nth=0):
    return [i for i in tree.instructions if i.name == name][nth]


def _apply(text, make):
    tree = parse(text)
    edits = make(tree)
    out = apply_edits(text, edits if isinstance(edits, list) else [edits])
    assert parse(out).render() == out
    return out


def _untouched(before: str, after: str, changed: set[int]) -> None:
    """Lines outside `changed` (0-based indexes in `before`) appear unchanged, in order, in `after`."""
    kept = [ln for i, ln in enumerate(before.splitlines(keepends=True)) if i not in changed]
    rest = after.splitlines(keepends=True)
    it = iter(rest)
    assert all(any(ln == other for other in it) for ln in kept), (before, after)


# --- add_flag / remove_flag ----------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("FROM x\nRUN pip install .\n", "FROM x\nRUN --mount=type=cache,target=/c pip install .\n"),
    ("FROM x\nRUN --network=none pip install .\n",
     "FROM x\nRUN --network=none --mount=type=cache,target=/c pip install .\n"),
    # A flag goes before the `--` that ends the flags, never after it.
    ("FROM x\nRUN --network=none -- pip install .\n",
     "FROM x\nRUN --network=none --mount=type=cache,target=/c -- pip install .\n"),
    # Arguments on the next line: the flag goes at their start, the continuation stays.
    ("FROM x\r\nRUN \\\r\n  pip install .\r\n", "FROM x\r\nRUN \\\r\n  --mount=type=cache,target=/c pip install .\r\n"),
    ("FROM x\nrun pip install .", "FROM x\nrun --mount=type=cache,target=/c pip install ."),
])
def test_add_flag(text, expected):
    out = _apply(text, lambda t: add_flag(_instr(t, "RUN"), "--mount=type=cache,target=/c"))
    assert out == expected
    assert _instr(parse(out), "RUN").flag("mount").value == "type=cache,target=/c"


def test_remove_flag_takes_its_blank_and_nothing_else():
    text = "FROM x\nCOPY --link --chown=1:1 a /b/\n"
    assert _apply(text, lambda t: remove_flag(_instr(t, "COPY"), "link")) == "FROM x\nCOPY --chown=1:1 a /b/\n"


# --- append_to_run ---------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    # One line: appended inline.
    ("FROM x\nRUN apt-get update && apt-get install -y curl\n",
     "FROM x\nRUN apt-get update && apt-get install -y curl && rm -rf /l\n"),
    # `&& \` at line ends: the new command gets its own line, same indent.
    ("FROM x\nRUN apt-get update && \\\n    apt-get install -y curl\nCMD a\n",
     "FROM x\nRUN apt-get update && \\\n    apt-get install -y curl && \\\n    rm -rf /l\nCMD a\n"),
    # `\` then `&&` at line starts.
    ("FROM x\nRUN apt-get update \\\n\t&& apt-get install -y curl\n",
     "FROM x\nRUN apt-get update \\\n\t&& apt-get install -y curl \\\n\t&& rm -rf /l\n"),
    # The backtick escape of a Windows-style file, CRLF endings.
    ("# escape=`\r\nFROM x\r\nRUN apt-get update && `\r\n  apt-get install -y curl\r\n",
     "# escape=`\r\nFROM x\r\nRUN apt-get update && `\r\n  apt-get install -y curl && `\r\n  rm -rf /l\r\n"),
    # The last command's own arguments continue deeper: indent like the command, not the argument.
    ("FROM x\nRUN apt-get update && \\\n    apt-get install -y \\\n        curl \\\n        git\n",
     "FROM x\nRUN apt-get update && \\\n    apt-get install -y \\\n        curl \\\n        git && \\\n    rm -rf /l\n"),
    # Two spaces before each escape: kept.
    ("FROM x\nRUN a &&  \\\n  b\n", "FROM x\nRUN a &&  \\\n  b &&  \\\n  rm -rf /l\n"),
    # A shell comment ends the script: the command goes before it, on its line.
    ("FROM x\nRUN a && b # note\n", "FROM x\nRUN a && b && rm -rf /l # note\n"),
    ("FROM x\nRUN a && \\\n  b # note\n", "FROM x\nRUN a && \\\n  b && rm -rf /l # note\n"),
    # No final newline.
    ("FROM x\nRUN a && \\\n  b", "FROM x\nRUN a && \\\n  b && \\\n  rm -rf /l"),
])
def test_append_to_run_in_the_authors_layout(text, expected):
    out = _apply(text, lambda t: append_to_run(t, _instr(t, "RUN"), "rm -rf /l"))
    assert out == expected
    changed = {i for i, ln in enumerate(text.splitlines(keepends=True)) if ln not in out.splitlines(keepends=True)}
    assert len(changed) <= 1  # only the RUN's last line is rewritten
    _untouched(text, out, changed)


def test_append_keeps_a_comment_line_inside_the_continuation():
    text = "FROM x\nRUN a && \\\n  # why b\n  b\n"
    out = _apply(text, lambda t: append_to_run(t, _instr(t, "RUN"), "c"))
    assert out == "FROM x\nRUN a && \\\n  # why b\n  b && \\\n  c\n"


@pytest.mark.parametrize("text, expected", [
    # At the end of the top-level list: never inside the error group (issue 11), where it ran only
    # after `exit 1`. `(A || B) && C` runs C exactly when A succeeded, since B ends with `exit 1`.
    ("FROM x\nRUN if [ -f x ]; then a && b; fi || { echo failed; exit 1; }\n",
     "FROM x\nRUN if [ -f x ]; then a && b; fi || { echo failed; exit 1; } && rm -rf /l\n"),
    # After esac, not after the last command of the last arm.
    ("FROM x\nRUN a \\\n    && case $x in \\\n         y) b ;; \\\n       esac\n",
     "FROM x\nRUN a \\\n    && case $x in \\\n         y) b ;; \\\n       esac \\\n    && rm -rf /l\n"),
    # A pipeline continued on the next line: indented like the line where the pipeline starts.
    ("FROM x\nRUN a \\\n    && curl x \\\n       | tar xz\n",
     "FROM x\nRUN a \\\n    && curl x \\\n       | tar xz \\\n    && rm -rf /l\n"),
    # Before a trailing `;`.
    ("FROM x\nRUN a && b;\n", "FROM x\nRUN a && b && rm -rf /l;\n"),
    # A shell reading a here-document: the command line, after the marker.
    ("FROM x\nRUN bash <<EOF\na\nEOF\n", "FROM x\nRUN bash <<EOF && rm -rf /l\na\nEOF\n"),
])
def test_append_to_run_at_the_end_of_the_top_level_list(text, expected):
    assert _apply(text, lambda t: append_to_run(t, _instr(t, "RUN"), "rm -rf /l")) == expected


@pytest.mark.parametrize("text, reason", [
    ("FROM x\nRUN a && b; exit 0\n", "`exit 0` could end the script"),
    ("FROM x\nRUN a && b &\n", "background"),
    ("FROM x\nRUN a && if b; then c\n", "`fi` expected"),
    ("FROM x\nRUN <<EOF\na\nEOF\n", "the RUN's script is its here-document"),
])
def test_append_to_run_refuses_where_the_command_could_be_skipped(text, reason):
    tree = parse(text)
    with pytest.raises(AppendRefused, match=reason):
        append_to_run(tree, _instr(tree, "RUN"), "rm -rf /l")


@pytest.mark.parametrize("text, errexit, expected", [
    # `set -e` on: a new last line, indented like the one before it.
    ("FROM x\nRUN <<EOF\n  set -e\n  a\nEOF\n", False, "FROM x\nRUN <<EOF\n  set -e\n  a\n  rm -rf /l\nEOF\n"),
    ("FROM x\r\nRUN <<EOF\r\na\r\nEOF\r\n", True, "FROM x\r\nRUN <<EOF\r\na\r\nrm -rf /l\r\nEOF\r\n"),
    # Without it, a new line would run after a failed `a` and hide the failure: joined with `&&`.
    ("FROM x\nRUN <<EOF\na\nb # why\nEOF\n", False, "FROM x\nRUN <<EOF\na\nb && rm -rf /l # why\nEOF\n"),
])
def test_append_to_heredoc(text, errexit, expected):
    def edit(tree):
        instr = _instr(tree, "RUN")
        return append_to_heredoc(tree, instr, instr.heredocs[0], "rm -rf /l", errexit)
    assert _apply(text, edit) == expected


def test_append_to_heredoc_refuses_an_exit_at_the_end():
    tree = parse("FROM x\nRUN <<EOF\nset -e\na\nexit 0\nEOF\n")
    instr = _instr(tree, "RUN")
    with pytest.raises(AppendRefused, match="exit 0"):
        append_to_heredoc(tree, instr, instr.heredocs[0], "rm -rf /l")


# --- insert, replace, remove, move -------------------------------------------------

def test_insert_before_goes_above_the_comments_that_belong_to_it():
    text = "FROM x\n\n# install\nRUN pip install .\n"
    out = _apply(text, lambda t: insert_before(t, _instr(t, "RUN"), ["COPY a b"]))
    assert out == "FROM x\n\nCOPY a b\n# install\nRUN pip install .\n"
    out = _apply(text, lambda t: insert_before(t, _instr(t, "RUN"), ["COPY a b"], above_comments=False))
    assert out == "FROM x\n\n# install\nCOPY a b\nRUN pip install .\n"


def test_insert_after_a_heredoc_goes_below_its_body_with_the_files_line_ending():
    text = "FROM x\r\nRUN <<EOF\r\necho hi\r\nEOF\r\nCMD a\r\n"
    out = _apply(text, lambda t: insert_after(t, _instr(t, "RUN"), ["ENV A=1"]))
    assert out == "FROM x\r\nRUN <<EOF\r\necho hi\r\nEOF\r\nENV A=1\r\nCMD a\r\n"


def test_insert_after_the_last_line_of_a_file_without_final_newline():
    out = _apply("FROM x\nRUN a", lambda t: insert_after(t, _instr(t, "RUN"), ["CMD b", "USER c"]))
    assert out == "FROM x\nRUN a\nCMD b\nUSER c"


def test_replace_keeps_the_line_ending_and_neighbours():
    text = "FROM x\r\nRUN a \\\r\n  b\r\nCMD c\r\n"
    out = _apply(text, lambda t: replace_instruction(_instr(t, "RUN"), "RUN z"))
    assert out == "FROM x\r\nRUN z\r\nCMD c\r\n"


def test_remove_takes_the_comments_above_unless_asked_not_to():
    text = "FROM x\n# a note\nRUN a\nCMD b\n"
    assert _apply(text, lambda t: remove_instruction(t, _instr(t, "RUN"))) == "FROM x\nCMD b\n"
    kept = _apply(text, lambda t: remove_instruction(t, _instr(t, "RUN"), with_comments=False))
    assert kept == "FROM x\n# a note\nCMD b\n"


def test_move_before_carries_comments_and_continuations_verbatim():
    text = "FROM x\nCOPY . .\n# deps\nRUN pip install \\\n\t-r requirements.txt\nCMD a\n"
    out = _apply(text, lambda t: move_before(t, _instr(t, "RUN"), _instr(t, "COPY")))
    assert out == "FROM x\n# deps\nRUN pip install \\\n\t-r requirements.txt\nCOPY . .\nCMD a\n"


def test_move_the_last_line_of_a_file_without_final_newline():
    text = "FROM x\r\nCOPY . .\r\nRUN pip install ."
    out = _apply(text, lambda t: move_before(t, _instr(t, "RUN"), _instr(t, "COPY")))
    assert out == "FROM x\r\nRUN pip install .\r\nCOPY . .\r\n"


# --- apply_edits -------------------------------------------------------------------

def test_overlapping_edits_are_refused_and_insertions_at_one_point_keep_their_order():
    with pytest.raises(OverlapError):
        apply_edits("abcdef", [Edit(1, 4, "x"), Edit(3, 5, "y")])
    assert apply_edits("abc", [Edit(1, 1, "1"), Edit(1, 1, "2"), Edit(2, 3, "")]) == "a12b"
