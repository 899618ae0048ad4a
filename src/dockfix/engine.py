"""The fix engine: run the pipeline until the text stops changing.

Each round runs every transform in pipeline order on a fresh parse of the
current text, applies the fixes whose edits do not overlap, and re-parses.
A fix that breaks the syntax, or a pipeline that has not converged after
MAX_ROUNDS, is dockfix's bug: it raises EngineBug and nothing is written.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import overload

from dockfix.context import Context
from dockfix.edits import Edit, apply_edits, overlaps
from dockfix.pragmas import ALL, Suppressions
from dockfix.shell import forget_scripts
from dockfix.syntax import ParseError, Tree, parse

MAX_ROUNDS = 8


def _suppressed(fix: Fix, tree: Tree, suppress: Suppressions) -> bool:
    """A suppression on any line the fix is about or its edits touch (the split edits from
    FROM to the end of the file: an instruction suppressed anywhere in it stops it)."""
    if suppress.blocks(fix.transform, fix.line):
        return True
    for edit in fix.edits:
        first = tree.line_at(edit.start)
        last = tree.line_at(max(edit.start, edit.end - 1))
        if any(suppress.blocks(fix.transform, line) for line in range(first, last + 1)):
            return True
    return False


class _LineMap:
    """Which line of the user's file each line of the current text comes from: a line the
    edits left alone maps to where it was; a line they wrote, to the line they were made at."""

    def __init__(self, text: str, origin: list[int] | None = None):
        self.origin = origin if origin is not None else list(range(1, text.count("\n") + 2))

    @overload
    def original(self, line: int) -> int: ...
    @overload
    def original(self, line: None) -> None: ...
    def original(self, line: int | None) -> int | None:
        if line is None:
            return None
        return self.origin[min(max(line, 1), len(self.origin)) - 1]

    def after(self, old: str, edits: Sequence[Edit]) -> _LineMap:
        """The map for the text `edits` make of `old` (whose map this is)."""
        starts = [0]
        i = old.find("\n")
        while i != -1:
            starts.append(i + 1)
            i = old.find("\n", i + 1)

        def old_line(offset: int) -> int:
            return self.origin[bisect.bisect_right(starts, offset) - 1]

        origin: list[int] = []
        line_starts = True  # the next character written begins a line

        def copy(a: int, b: int) -> None:
            nonlocal line_starts
            if a >= b:
                return
            if line_starts:
                origin.append(old_line(a))
            j = old.find("\n", a, b)
            while j != -1:
                if j + 1 < b:
                    origin.append(old_line(j + 1))
                j = old.find("\n", j + 1, b)
            line_starts = old[b - 1] == "\n"

        def insert(text: str, at: int) -> None:
            nonlocal line_starts
            if not text:
                return
            here = old_line(at)
            if line_starts:
                origin.append(here)
            origin.extend(here for _ in range(text.count("\n", 0, len(text) - 1)))
            line_starts = text[-1] == "\n"

        pos = 0
        for edit in sorted(edits, key=lambda e: (e.start, e.end)):
            copy(pos, edit.start)
            insert(edit.text, edit.start)
            pos = edit.end
        copy(pos, len(old))
        if line_starts:  # the (empty) line after a final newline, as count("\n") + 1 has it
            origin.append(old_line(len(old)))
        return _LineMap("", origin)


def _unreadable_target(fix: Fix, context: Context) -> str | None:
    """Why a fix must not be taken: it rewrites a file that exists but could not be read exactly."""
    for write in fix.files:
        why = context.why_unreadable(write.path)
        if why:
            return f"{write.path} left alone: {why}; dockfix never writes a file it could not read exactly"
    return None


@dataclass(frozen=True, slots=True)
class FileWrite:
    """A whole new text for a file of the build context (a .dockerignore)."""

    path: str
    text: str


@dataclass(frozen=True, slots=True)
class Fix:
    transform: str
    message: str
    line: int  # the Dockerfile line the fix is about (suppressions use it)
    edits: tuple[Edit, ...] = ()
    safe: bool = True  # False: changes meaning a little, applied only with --unsafe-fixes
    files: tuple[FileWrite, ...] = ()


@dataclass(frozen=True, slots=True)
class Note:
    """Why a transform left something alone (shown with --verbose)."""

    transform: str
    message: str
    line: int | None = None


Finder = Callable[[Tree, Context], Iterable["Fix | Note"]]


@dataclass(frozen=True)
class Transform:
    name: str
    summary: str
    find: Finder = field(repr=False)


class _Taken:
    """The edits chosen in one transform's turn, sorted, so a clash is found by bisection
    (checking each new edit against all of them was quadratic in the number of fixes)."""

    def __init__(self) -> None:
        self.edits: list[Edit] = []
        self._starts: list[int] = []

    def clashes(self, edit: Edit) -> bool:
        # Chosen edits never overlap, so sorted by (start, end) their ends never decrease: only
        # the last one starting before edit.end can reach into it.
        i = bisect.bisect_left(self._starts, edit.end) - 1
        return i >= 0 and overlaps(edit, self.edits[i])

    def add(self, edits: tuple[Edit, ...]) -> None:
        for edit in edits:
            i = bisect.bisect_right(self.edits, edit)
            self.edits.insert(i, edit)
            self._starts.insert(i, edit.start)


class EngineBug(RuntimeError):
    """A transform produced text that does not parse, or the pipeline did not converge."""


@dataclass
class Outcome:
    source: str
    output: str
    fixes: list[Fix] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # context files written: path -> text
    rounds: int = 0
    ignored_file: bool = False  # `# dockfix: ignore-file` (every transform) is in the file

    @property
    def changed(self) -> bool:
        return self.output != self.source or bool(self.files)


def run_pipeline(text: str, context: Context, transforms: Sequence[Transform],
                 unsafe: bool = False) -> Outcome:
    """Apply the transforms to a fixpoint. Raises ParseError for bad input, EngineBug for ours."""
    forget_scripts()
    tree = parse(text)
    suppress = Suppressions.of(tree)
    outcome = Outcome(source=text, output=text, ignored_file=ALL in suppress.file)
    notes: dict[tuple[str, str, int | None], Note] = {}
    lines = _LineMap(text)
    for round_number in range(1, MAX_ROUNDS + 1):
        outcome.rounds = round_number
        changed = False
        for transform in transforms:
            chosen: list[Fix] = []
            taken = _Taken()
            for item in transform.find(tree, context):
                if isinstance(item, Note):
                    # Notes describe the user's file: a later round sees dockfix's own rewrite
                    # ("already multi-stage" after the split), so only the first round's count.
                    if round_number == 1:
                        note = replace(item, line=lines.original(item.line))
                        notes.setdefault((note.transform, note.message, note.line), note)
                    continue
                if (not unsafe and not item.safe) or _suppressed(item, tree, suppress):
                    continue
                if any(taken.clashes(e) for e in item.edits):
                    continue  # the next round sees it again on the new text
                lost = _unreadable_target(item, context)
                if lost:  # writing it would replace content dockfix never saw
                    line = lines.original(item.line)
                    notes.setdefault((item.transform, lost, line), Note(item.transform, lost, line))
                    continue
                chosen.append(item)
                taken.add(item.edits)
            if not chosen:
                continue
            new_files = {w.path: w.text for f in chosen for w in f.files if context.read(w.path) != w.text}
            new_text = apply_edits(tree.source, taken.edits) if taken.edits else tree.source
            if new_text == tree.source and not new_files:
                continue
            try:
                new_tree = parse(new_text)
            except ParseError as err:
                raise EngineBug(f"transform {transform.name} produced a file that does not parse: {err}") from err
            outcome.fixes.extend(replace(f, line=lines.original(f.line)) for f in chosen)
            lines = lines.after(tree.source, taken.edits)
            tree = new_tree
            suppress = Suppressions.of(tree)
            for path, body in new_files.items():
                context.write(path, body)
                outcome.files[path] = body
            changed = True
        if not changed:
            outcome.output = tree.source
            outcome.notes = sorted(notes.values(), key=lambda n: n.line or 0)
            outcome.fixes.sort(key=lambda f: f.line)  # stable: pipeline order within a line
            return outcome
    raise EngineBug(f"the pipeline did not converge in {MAX_ROUNDS} rounds")
