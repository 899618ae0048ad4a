"""Text edits, and the edit API transforms use to produce them.

An edit replaces source[start:end] with text. Every helper here returns
edits that touch as few bytes as possible and write new text in the
author's style: their line ending, indentation, escape character and
continuation layout (`&& \\` at line ends or `\\` then `&&` at line starts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dockfix.shell import parse_script, parse_structure
from dockfix.syntax import Heredoc, Instruction, Tree
from dockfix.views import heredoc_roles


@dataclass(frozen=True, order=True, slots=True)
class Edit:
    start: int
    end: int
    text: str


class OverlapError(ValueError):
    pass


def apply_edits(source: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (insertions at one point keep their order)."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    out, pos = [], 0
    for e in ordered:
        if e.start < pos:
            raise OverlapError(f"edits overlap at offset {e.start}")
        out.append(source[pos : e.start])
        out.append(e.text)
        pos = e.end
    out.append(source[pos:])
    return "".join(out)


def overlaps(a: Edit, b: Edit) -> bool:
    if a.start == a.end or b.start == b.end:  # insertions clash only strictly inside
        return a.start < b.end and b.start < a.end
    return a.start < b.end and b.start < a.end


def _line_eol(tree: Tree, offset: int) -> str:
    line = tree.lines[tree.line_at(offset) - 1]
    return line.eol or tree.eol


def _indent_of(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]


def add_flag(instr: Instruction, flag: str) -> Edit:
    """Add `--flag` after the instruction's existing flags, before its arguments."""
    pos = instr.source_offset(instr.flags_end)
    return Edit(pos, pos, flag + " ")


def remove_flag(instr: Instruction, name: str) -> list[Edit]:
    return [_remove_logical(instr, f.start, f.end) for f in instr.flags if f.name == name]


def replace_logical(instr: Instruction, start: int, end: int, text: str) -> Edit:
    """Replace logical characters start..end (which must lie on one physical line)."""
    return Edit(instr.source_offset(start), instr.source_offset(end - 1) + 1 if end > start else instr.source_offset(start), text)


def remove_word(instr: Instruction, start: int, end: int) -> Edit:
    """Remove a word of the logical line and the blanks that separated it."""
    return _remove_logical(instr, start, end)


def _remove_logical(instr: Instruction, start: int, end: int) -> Edit:
    text = instr.logical
    after = end
    while after < len(text) and text[after] in " \t":
        after += 1
    s, e = instr.source_offset(start), instr.source_offset(end - 1) + 1
    if after > end and instr.source_offset(after - 1) + 1 - e == after - end:
        # The following blanks are on the same physical line: take them too.
        return Edit(s, instr.source_offset(after - 1) + 1, "")
    before = start
    while before > 0 and text[before - 1] in " \t":
        before -= 1
    if before < start and s - instr.source_offset(before) == start - before:
        return Edit(instr.source_offset(before), e, "")
    return Edit(s, e, "")


class AppendRefused(ValueError):
    """No place in the RUN where an appended command runs exactly when the RUN succeeds: the
    message says why (dockfix edits what it understands, or leaves it alone with a note)."""


def append_to_run(tree: Tree, instr: Instruction, command: str, joiner: str = "&&") -> Edit:
    """Append `joiner command` to a shell-form RUN's command line, in the author's layout.

    The command goes after the last and-or list of the top level (`shell.Structure.tail`),
    never inside a `{ }` group, an if, a case or a loop, and never after an `exit` that would
    skip it: `A || { echo failed; exit 1; }` becomes `A || { ...; } && command`, which runs
    the command exactly when A succeeded. Raises AppendRefused when the shell text is not
    understood, has no such place, or the RUN's script is its here-document (`RUN <<EOF`:
    see append_to_heredoc)."""
    if any(role.kind == "script" for role in heredoc_roles(instr)):
        raise AppendRefused("the RUN's script is its here-document")
    args = instr.logical[instr.args_start :]
    script = parse_script(args, instr.memo)
    tail = parse_structure(args, instr.memo).tail()
    if not tail.ok:
        raise AppendRefused(tail.reason)
    pos = instr.source_offset(instr.args_start + tail.offset - 1) + 1
    inline = Edit(pos, pos, f" {joiner} {command}")
    if len(instr.code_lines) < 2 or script.comment_start is not None:
        return inline
    last = instr.code_lines[-1]
    if not (last.start <= pos <= last.content_end):
        return inline
    esc = instr.escape
    eol = last.eol or tree.eol
    # Indent like the line where the last command starts, not like its last line
    # (which may be a continued argument list indented deeper).
    first_of_last = instr.source_offset(instr.args_start + tail.start)
    start_line = next((ln for ln in instr.code_lines[1:] if ln.start <= first_of_last < ln.end), last)
    indent = _indent_of(start_line.text)
    leading = sum(1 for ln in instr.code_lines[1:] if ln.text.lstrip(" \t").startswith(joiner))
    trailing = sum(1 for ln in instr.code_lines[:-1] if ln.text.rstrip(" \t" + esc).endswith(joiner))
    sep = _continuation_spacing(instr)
    if leading >= trailing and leading:
        text = f"{sep}{esc}{eol}{indent}{joiner} {command}"
    elif trailing:
        text = f" {joiner}{sep}{esc}{eol}{indent}{command}"
    else:
        return inline
    return Edit(pos, pos, text)


def append_to_heredoc(tree: Tree, instr: Instruction, doc: Heredoc, command: str, errexit: bool = False) -> Edit:
    """Append a command to a here-document body that runs as shell (`RUN <<EOF`, `bash <<EOF`).

    With `set -e` in force at the end of the body (or `errexit`: the shell starts with -e) the
    command is a new last line, indented like the line before it; otherwise it is joined with
    `&&` to the body's last and-or list, so that a failing last command still fails the RUN.
    Raises AppendRefused as append_to_run does."""
    body = tree.source[doc.body_start : doc.body_end]
    tail = parse_structure(body, instr.memo).tail(errexit)
    if not tail.ok:
        raise AppendRefused(tail.reason)
    if not tail.errexit:
        pos = doc.body_start + tail.offset
        return Edit(pos, pos, f" && {command}")
    last = body.rstrip("\r\n").rsplit("\n", 1)[-1]
    eol = "\r\n" if body.endswith("\r\n") else "\n"
    prefix = "" if body.endswith("\n") or not body else eol
    return Edit(doc.body_end, doc.body_end, f"{prefix}{_indent_of(last)}{command}{eol}")


def _continuation_spacing(instr: Instruction) -> str:
    """The blanks the author puts before a continuation escape (usually one space)."""
    line = instr.code_lines[0].text
    body = line.rstrip(" \t")
    if body.endswith(instr.escape):
        body = body[:-1]
    return body[len(body.rstrip(" \t")) :] or " "


def _block_start(instr: Instruction, above_comments: bool) -> int:
    if above_comments and instr.leading_comments:
        return instr.leading_comments[0].start
    return instr.start


def insert_before(tree: Tree, instr: Instruction, lines: list[str], above_comments: bool = True) -> Edit:
    """Insert whole lines before an instruction (and above its comments)."""
    pos = _block_start(instr, above_comments)
    eol = _line_eol(tree, instr.start)
    return Edit(pos, pos, "".join(line + eol for line in lines))


def insert_after(tree: Tree, instr: Instruction, lines: list[str]) -> Edit:
    """Insert whole lines after an instruction (and its heredoc bodies)."""
    last = tree.lines[instr.end_line - 1]
    eol = last.eol or tree.eol
    prefix = "" if last.eol else eol  # the file had no final newline
    text = prefix + "".join(line + eol for line in lines)
    if not last.eol:
        text = text[: -len(eol)]
    return Edit(instr.end, instr.end, text)


def replace_instruction(instr: Instruction, text: str) -> Edit:
    """Replace an instruction's text (keep its final line ending)."""
    return Edit(instr.start, instr.end - len(_trailing_eol(instr)), text)


def _trailing_eol(instr: Instruction) -> str:
    return instr.lines[-1].eol if not instr.heredocs else ""


def remove_instruction(tree: Tree, instr: Instruction, with_comments: bool = True) -> Edit:
    return Edit(_block_start(instr, with_comments), instr.end, "")


def move_before(tree: Tree, instr: Instruction, target: Instruction, with_comments: bool = True) -> list[Edit]:
    """Move an instruction (with its comments) to just before `target`."""
    start = _block_start(instr, with_comments)
    block = tree.source[start : instr.end]
    if not block.endswith("\n"):
        block += tree.eol
    pos = _block_start(target, True)
    return [Edit(pos, pos, block), Edit(start, instr.end, "")]
