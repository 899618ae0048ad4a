"""Unified diffs that `git apply` accepts, including files without a final newline.

File names in the headers are written as git writes them (core.quotePath, the
default): a name holding a control character, `"`, `\\` or a byte outside
printable ASCII is put in double quotes, with C escapes (`\\t \\n \\" \\\\` ...)
and octal `\\NNN` for other bytes, so a hostile name can neither forge a
header line nor send escape sequences to a terminal, and `git apply` reads it
back to the same bytes. A name with a space gets git's trailing tab on the
`---`/`+++` lines. The body is the files' content, byte for byte.
"""

from __future__ import annotations

import os
import re

_LINE = re.compile(r"[^\n]*\n|[^\n]+")

NO_EOL = "\\ No newline at end of file\n"

# git's quote.c: the bytes with a one-letter escape; other control bytes, DEL and non-ASCII bytes are octal.
_C_ESCAPES = {0x07: "\\a", 0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0B: "\\v", 0x0C: "\\f", 0x0D: "\\r",
              0x22: '\\"', 0x5C: "\\\\"}


def quote_path(path: str) -> str:
    """`path` as git writes it in a diff header: unchanged, or quoted with C escapes.

    `path` may hold lone surrogates (a name that is not UTF-8, decoded by
    os.fsdecode); they are written as the bytes they stand for.
    """
    raw = os.fsencode(path)
    if all(0x20 <= b < 0x7F and b not in _C_ESCAPES for b in raw):
        return path
    return '"' + "".join(_C_ESCAPES.get(b) or (chr(b) if 0x20 <= b < 0x7F else f"\\{b:03o}") for b in raw) + '"'


def unified_diff(old: str | None, new: str, path: str) -> str:
    """A git-style diff of one file; old=None means the file is created."""
    # Split on "\n" only: str.splitlines would also split on "\r", "\f" and others.
    a_lines = _LINE.findall(old or "")
    b_lines = _LINE.findall(new)
    import difflib  # only when a diff is shown (--diff, a report with diffs)

    body = list(difflib.unified_diff(a_lines, b_lines, n=3))
    if not body:
        return ""
    a_name, b_name = quote_path(f"a/{path}"), quote_path(f"b/{path}")
    tab = "\t" if " " in path else ""  # as git does, for GNU patch
    out = [f"diff --git {a_name} {b_name}\n"]
    if old is None:
        out += ["new file mode 100644\n", "--- /dev/null\n"]
    else:
        out.append(f"--- {a_name}{tab}\n")
    out.append(f"+++ {b_name}{tab}\n")
    for line in body[2:]:
        if line.endswith("\n"):
            out.append(line)
        else:  # the last line of a file without a final newline
            out.append(line + "\n" + NO_EOL)
    return "".join(out)


Replacement = tuple[int, int, str]  # (offset, length, new text): characters of the old text replaced


def replacements(old: str | None, new: str) -> tuple[Replacement, ...]:
    """The changed spans from `old` to `new`, whole lines each, in offsets of the old text (code
    points, as Python indexes a str). Applied from the last to the first, they turn old into new:
    what SARIF's fixes carry (`deletedRegion` charOffset/charLength, `insertedContent`)."""
    import difflib

    a_lines, b_lines = _LINE.findall(old or ""), _LINE.findall(new)
    starts = [0]
    for line in a_lines:
        starts.append(starts[-1] + len(line))
    out = []
    # autojunk on, as unified_diff has it: off, many alike lines (a long continuation) made it quadratic
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a_lines, b_lines).get_opcodes():
        if tag != "equal":
            out.append((starts[i1], starts[i2] - starts[i1], "".join(b_lines[j1:j2])))
    return tuple(out)
