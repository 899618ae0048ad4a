"""Unified diffs that `git apply` accepts, including files without a final newline."""

from __future__ import annotations

import difflib
import re

_LINE = re.compile(r"[^\n]*\n|[^\n]+")

NO_EOL = "\\ No newline at end of file\n"


def unified_diff(old: str | None, new: str, path: str) -> str:
    """A git-style diff of one file; old=None means the file is created."""
    # Split on "\n" only: str.splitlines would also split on "\r", "\f" and others.
    a_lines = _LINE.findall(old or "")
    b_lines = _LINE.findall(new)
    header = [f"diff --git a/{path} b/{path}\n"]
    if old is None:
        header.append("new file mode 100644\n")
    body = list(difflib.unified_diff(a_lines, b_lines, "/dev/null" if old is None else f"a/{path}", f"b/{path}", n=3))
    if not body:
        return ""
    out = header + body[:2]
    for line in body[2:]:
        if line.endswith("\n"):
            out.append(line)
        else:  # the last line of a file without a final newline
            out.append(line + "\n" + NO_EOL)
    return "".join(out)

