"""The engine for CI files: a transform's `find_ci` on a workflow or GitLab CI file, its fixes applied.

A CI file is not a Dockerfile, so it has its own small engine, with the
same contract as run_pipeline: rules selected by code, suppressions, notes
kept, edits that never overlap, an output that parses and is a fixpoint
(a second look finds nothing more to do, or it is dockfix's bug and nothing
is written).

Suppressions are YAML comments with the Dockerfile's pragma syntax:

    # dockfix: ignore-file[=names]      anywhere: the whole file
    # dockfix: ignore[=names]           on its own line: the block that starts on the next line
    uses: docker/...  # dockfix: ignore  after a value: the block that starts on that line

A block is a line and the lines below it that are more indented (a job, a
step, a key and its value), so a pragma above a job covers all its steps.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from dockfix.diagnostics import GENERAL, UNKNOWN_NAME, Catalog, Fix, Note, Rule
from dockfix.edits import Edit, apply_edits, overlaps
from dockfix.engine import EngineBug, Outcome, Transform
from dockfix.pragmas import ALL, comment_pragma, pragma_names

_GENERAL_CODES = frozenset(r.code for r in GENERAL)
_COMMENT = re.compile(r"(?:^|\s)(#.*)$")


class Repository(Protocol):
    """The repository a CI file belongs to, as far as a transform may know it."""

    def dockerfile(self, rel: str) -> str | None:
        """None when `rel` (relative to the repository root) is one of the Dockerfiles of this run;
        else why not (missing, outside the repository, not read, not in this run)."""
        ...


@dataclass
class CiContext:
    repository: Repository
    takes: Callable[[str, Sequence[int]], bool]  # would a fix of this code on these lines be applied?


CiFinder = Callable[[str, str, CiContext], Iterable["Fix | Note"]]


@dataclass(frozen=True)
class _Pragma:
    line: int  # the comment's line
    covers: tuple[int, int]  # first and last line of the block it covers
    names: frozenset[str]
    written: tuple[str, ...]


class YamlSuppressions:
    def __init__(self, text: str):
        self.file: set[str] = set()
        self.blocks: list[_Pragma] = []
        lines = text.split("\n")
        for number, raw in enumerate(lines, start=1):
            found = _COMMENT.search(raw)
            if not found or "dockfix" not in found.group(1):
                continue
            kind, names = comment_pragma(found.group(1).rstrip("\r"))
            if not kind:
                continue
            written = pragma_names(found.group(1).rstrip("\r"))
            own_line = not raw[: found.start(1)].strip()
            if kind == "file":
                self.file |= names
                self.blocks.append(_Pragma(number, (0, -1), frozenset(names), written))
                continue
            start = _next_content(lines, number) if own_line else number
            if start is None:
                continue
            self.blocks.append(_Pragma(number, (start, _block_end(lines, start)), frozenset(names), written))

    def blocks_rule(self, rule: Rule, lines: Iterable[int]) -> bool:
        if _names(rule, self.file):
            return True
        wanted = list(lines)
        return any(p.covers[0] <= line <= p.covers[1] and _names(rule, p.names) for p in self.blocks for line in wanted)

    def unknown(self, catalog: Catalog) -> list[Note]:
        out: dict[tuple[int, str], Note] = {}
        for pragma in self.blocks:
            for name in pragma.written:
                if not catalog.knows(name):
                    message = (f"`# dockfix:` pragma names an unknown rule or transform: "
                               f"{catalog.describe_unknown(name)}; it suppresses nothing (see dockfix --list)")
                    out.setdefault((pragma.line, name), UNKNOWN_NAME.note(message, pragma.line, transform="dockfix"))
        return list(out.values())


def _names(rule: Rule, names: Iterable[str]) -> bool:
    return any(n == ALL or rule.answers_to(n) for n in names)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _next_content(lines: list[str], after: int) -> int | None:
    for number in range(after + 1, len(lines) + 1):
        if _is_content(lines[number - 1]):
            return number
    return None


def _block_end(lines: list[str], start: int) -> int:
    """The last line of the block starting at `start`: the lines below it that are more indented, and
    for a key, the items of a sequence written at the key's own indentation (`steps:` then `- uses:`)."""
    head = lines[start - 1]
    own = _indent(head)
    item = head.lstrip().startswith("- ") or head.strip() == "-"
    last = start
    for number in range(start + 1, len(lines) + 1):
        line = lines[number - 1]
        if not _is_content(line):
            continue
        indent = _indent(line)
        if indent > own or (indent == own and not item and line.lstrip().startswith("-")):
            last = number
            continue
        break
    return last


class _Lines:
    def __init__(self, text: str):
        self.starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def at(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


def edit_lines(lines: _Lines, edit: Edit) -> list[int]:
    """The lines an edit changes. An insertion changes none: the fix's own line (the step or script item it
    is about) is what a suppression is asked about, so a transform can tell in advance (CiContext.takes)
    whether a fix it depends on will be taken."""
    if edit.start == edit.end:
        return []
    return list(range(lines.at(edit.start), lines.at(edit.end - 1) + 1))


def _last_line(lines: _Lines, fix: Fix) -> int:
    """The last line of the user's file a fix is about: its own, or the last its edits change or follow
    (the cache keys go after the last line of a step's `with:`)."""
    ends = [lines.at(e.end - 1) if e.end > e.start else lines.at(max(0, e.start - 1)) for e in fix.edits]
    return max([fix.line, *ends])


@dataclass
class _Round:
    fixes: list[Fix] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)


def run_ci(text: str, kind: str, repository: Repository, transforms: Sequence[Transform], unsafe: bool = False,
           check: Callable[[str], None] | None = None) -> Outcome:
    """The transforms' CI rewrites of one file (kind: "github" or "gitlab"), applied.

    `check` raises on an output that is not valid (a YAML parse); it is the engine's guard, not the
    transform's. A second run over the output that would still change it is EngineBug."""
    suppress = YamlSuppressions(text)
    catalog = Catalog([r for t in transforms for r in t.rules], [t.name for t in transforms])
    outcome = Outcome(source=text, output=text, ignored_file=ALL in suppress.file)
    outcome.warnings = suppress.unknown(catalog)
    first = _find(text, kind, repository, transforms, unsafe, suppress)
    outcome.notes = sorted(first.notes, key=lambda n: n.line or 0)
    outcome.fixes = sorted(first.fixes, key=lambda f: f.line)
    outcome.rounds = 1
    if not first.edits:
        return outcome
    output = apply_edits(text, first.edits)
    if check is not None:
        try:
            check(output)
        except Exception as err:  # noqa: BLE001 - any failure to read our own output is our bug
            raise EngineBug(f"the ci rewrite produced a file that does not parse: {err}") from err
    again = _find(output, kind, repository, transforms, unsafe, YamlSuppressions(output))
    if again.edits:
        raise EngineBug(f"the ci rewrite is not a fixpoint: a second run would apply {again.fixes[0].message!r}")
    outcome.output = output
    outcome.rounds = 2
    return outcome


def _find(text: str, kind: str, repository: Repository, transforms: Sequence[Transform], unsafe: bool,
          suppress: YamlSuppressions) -> _Round:
    lines = _Lines(text)
    found = _Round()
    for transform in transforms:
        if transform.find_ci is None or not transform.runs:
            continue
        rules = {r.code: r for r in transform.rules}

        def selected(code: str, t: Transform = transform) -> bool:
            return t.selected is None or code in t.selected

        def takes(code: str, at: Sequence[int], rules: dict[str, Rule] = rules) -> bool:
            rule = rules.get(code)
            return rule is not None and selected(code) and (unsafe or rule.applicability == "safe") \
                and not suppress.blocks_rule(rule, at)

        notes: dict[tuple[str, int | None], Note] = {}
        for item in transform.find_ci(text, kind, CiContext(repository, takes)):
            if item.code not in rules and not (isinstance(item, Note) and item.code in _GENERAL_CODES):
                raise EngineBug(f"transform {transform.name} reported code {item.code or 'none'!r}, not one of its "
                                f"rules: {item.message}")
            if not selected(item.code) and item.code not in _GENERAL_CODES:
                continue
            if isinstance(item, Note):
                notes.setdefault((item.message, item.line), item)
                continue
            touched = [item.line, *(line for e in item.edits for line in edit_lines(lines, e))]
            if not takes(item.code, touched):
                continue
            if any(overlaps(e, taken) for e in item.edits for taken in found.edits):
                raise EngineBug(f"transform {transform.name}: two ci fixes edit the same text ({item.message})")
            found.fixes.append(replace(item, end_line=_last_line(lines, item)))
            found.edits.extend(item.edits)
        found.notes.extend(notes.values())
    return found
