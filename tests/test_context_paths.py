"""Context paths: `_norm`'s shortcut for a path already in normal form agrees with PurePosixPath."""

from __future__ import annotations

from pathlib import PurePosixPath

from hypothesis import given
from hypothesis import strategies as st

from dockfix.context import Context, _norm

PIECES = ["a", "b", ".", "..", "", ".venv", "x.txt", "./", "\\"]


def reference(rel: str) -> str:
    """What _norm gave before its shortcut: every path through PurePosixPath."""
    rel = rel.replace("\\", "/")
    while rel.startswith("./"):
        rel = rel[2:]
    return str(PurePosixPath(rel)) if rel not in ("", ".") else "."


@given(st.lists(st.sampled_from(PIECES), max_size=6).map("/".join))
def test_norm_agrees_with_pure_posix_path(rel):
    assert _norm(rel) == reference(rel)


def test_a_context_answers_through_it():
    context = Context(files={"app/main.py": "", "requirements.txt": ""})
    assert context.is_dir("app") and context.is_dir("./app/") and context.is_dir("app/.")
    assert context.exists("./requirements.txt") and context.exists("app//main.py")
    assert not context.is_dir("requirements.txt")
