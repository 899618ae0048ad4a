"""The fix engine: run the pipeline until the text stops changing.

Each round runs every transform in pipeline order on a fresh parse of the
current text, applies the fixes whose edits do not overlap, and re-parses.
A fix that breaks the syntax, or a pipeline that has not converged after
MAX_ROUNDS, is dockfix's bug: it raises EngineBug and nothing is written.
"""

from __future__ import annotations

import bisect
import copy
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, overload

from dockfix.context import Context
from dockfix.diagnostics import GENERAL, SAFE, UNKNOWN_NAME, Catalog, Rule
from dockfix.diagnostics import FileWrite as FileWrite
from dockfix.diagnostics import Fix as Fix
from dockfix.diagnostics import Note as Note
from dockfix.edits import Edit, apply_edits, overlaps
from dockfix.expand import Budget
from dockfix.model import Model
from dockfix.pragmas import ALL, Designated, Suppressions
from dockfix.syntax import ParseError, Tree, parse

MAX_ROUNDS = 8
_GENERAL_CODES = frozenset(r.code for r in GENERAL)


def _suppressed(fix: Fix, rule: Designated, tree: Tree, suppress: Suppressions) -> bool:
    """A suppression of the fix's rule on any line the fix is about or its edits touch (the split
    edits from FROM to the end of the file: an instruction suppressed anywhere in it stops it)."""
    if suppress.blocks(rule, fix.line):
        return True
    for edit in fix.edits:
        first = tree.line_at(edit.start)
        last = tree.line_at(max(edit.start, edit.end - 1))
        if any(suppress.blocks(rule, line) for line in range(first, last + 1)):
            return True
    return False


@dataclass(frozen=True, slots=True)
class _Bare:
    """What a suppression can name of a transform that declares no rules: its name."""

    transform: str

    def answers_to(self, name: str) -> bool:
        return name.lower() == self.transform


def _unknown_names(suppress: Suppressions, catalog: Catalog) -> list[Note]:
    """A note for each name of a `# dockfix:` pragma that designates nothing (each once per line)."""
    out: dict[tuple[int, str], Note] = {}
    for pragma in suppress.pragmas:
        for name in pragma.names:
            if not catalog.knows(name):
                message = (f"`# dockfix:` pragma names an unknown rule or transform: {catalog.describe_unknown(name)}; "
                           "it suppresses nothing (see dockfix --list)")
                out.setdefault((pragma.line, name), UNKNOWN_NAME.note(message, pragma.line, transform="dockfix"))
    return list(out.values())


_LINE_REF = re.compile(r"\bline (\d+)\b")


def _end_line(tree: Tree, line: int | None, edits: Sequence[Edit] = ()) -> int | None:
    """The last line (of `tree`) a diagnostic at `line` is about: the end of the instruction that
    starts there, or of the lines its edits touch, whichever is later (None: no line)."""
    if line is None:
        return None
    starts = Model.of(tree).memo("instructions-by-line", lambda: {i.line: i for i in tree.instructions})
    found = starts.get(line)
    end = found.end_line if found is not None else line
    for edit in edits:
        end = max(end, tree.line_at(max(edit.start, edit.end - 1)))
    return end


def _at_or_after(line: int | None, end: int | None) -> int | None:
    """An end line never before its line: lines an edit moved map to where they were, which
    may be above the line the diagnostic is at (the split's builder holds moved lines)."""
    return end if end is None or line is None else max(end, line)


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

    def in_message(self, message: str) -> str:
        """A message's `line N` (a line of the current text) as the user's line."""
        if "line " not in message:
            return message
        return _LINE_REF.sub(lambda m: f"line {self.original(int(m[1]))}", message)

    def after(self, old: str, edits: Sequence[Edit]) -> _LineMap:
        """The map for the text `edits` make of `old` (whose map this is)."""
        # A line's index is the number of newlines before it, counted in C: a list of every line's
        # start, then a bisection and an append per line copied, cost about a microsecond a line.
        was_at = self.origin

        def old_line(offset: int) -> int:
            return was_at[old.count("\n", 0, offset)]

        origin: list[int] = []
        line_starts = True  # the next character written begins a line

        def copy(a: int, b: int) -> None:
            nonlocal line_starts
            if a >= b:
                return
            first = old.count("\n", 0, a)  # the line a is on
            if line_starts:
                origin.append(was_at[first])
            # the lines that start inside (a, b): after each newline in [a, b - 1), in order
            origin.extend(was_at[first + 1: first + 1 + old.count("\n", a, b - 1)])
            line_starts = old[b - 1] == "\n"

        def replaced(a: int, b: int) -> dict[str, list[int]]:
            """The old lines wholly inside [a, b), by text: where a rewritten line came from."""
            found: dict[str, list[int]] = {}
            begin = a if a == 0 or old[a - 1] == "\n" else old.find("\n", a, b) + 1
            if begin == 0 and a > 0:
                return found  # no line starts inside
            line = old.count("\n", 0, begin)  # begin's line (each turn starts the next one)
            while begin < b:
                end = old.find("\n", begin, b)
                if end == -1:
                    if b < len(old):
                        break  # the last line goes on after the edit
                    end = b
                text = old[begin:end].rstrip("\r")
                if text.strip():
                    found.setdefault(text, []).append(was_at[line])
                begin = end + 1
                line += 1
            return found

        def insert(text: str, at: int, was: dict[str, list[int]]) -> None:
            nonlocal line_starts
            if not text:
                return
            here = old_line(at)
            starts = [0] if line_starts else []
            j = text.find("\n", 0, len(text) - 1)
            while j != -1:
                starts.append(j + 1)
                j = text.find("\n", j + 1, len(text) - 1)
            for start in starts:
                end = text.find("\n", start)
                # A line the edit writes as it was (an instruction the split moves or keeps) maps to
                # where it was; a new one, to where the edit is (each old line taken once first).
                lines = was.get(text[start: end if end != -1 else len(text)].rstrip("\r"))
                origin.append(lines.pop(0) if lines and len(lines) > 1 else lines[0] if lines else here)
            line_starts = text[-1] == "\n"

        pos = 0
        for edit in sorted(edits, key=lambda e: (e.start, e.end)):
            copy(pos, edit.start)
            insert(edit.text, edit.start, replaced(edit.start, edit.end) if edit.text.count("\n") > 1 else {})
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


Finder = Callable[[Tree, Context], Iterable["Fix | Note"]]


@dataclass(frozen=True)
class Transform:
    name: str
    summary: str
    find: Finder = field(repr=False)
    rules: tuple[Rule, ...] = ()  # what it does, one rule each (its fixes and notes carry their codes)
    selected: frozenset[str] | None = None  # the codes of its rules to apply (None: all; empty: it does not run)
    # A transform that rewrites CI files too: find_ci(text, kind, CiContext) -> fixes and notes (dockfix.ci_engine).
    find_ci: Callable[..., Iterable[Fix | Note]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        strays = [r.code for r in self.rules if r.transform != self.name]
        if strays:
            raise ValueError(f"transform {self.name}: rules {', '.join(strays)} belong to another transform")

    @property
    def runs(self) -> bool:
        return self.selected is None or bool(self.selected)


class _Taken:
    """The edits chosen in one transform's turn, sorted, so a clash is found by bisection
    (checking each new edit against all of them was quadratic in the number of fixes)."""

    def __init__(self) -> None:
        self.edits: list[Edit] = []
        self._starts: list[int] = []
        self.paths: set[str] = set()  # context files written (two whole texts for one file clash)

    def clashes(self, edit: Edit) -> bool:
        # Chosen edits never overlap, so sorted by (start, end) their ends never decrease: only
        # the last one starting before edit.end can reach into it.
        i = bisect.bisect_left(self._starts, edit.end) - 1
        return i >= 0 and overlaps(edit, self.edits[i])

    def fix_clashes(self, fix: Fix) -> bool:
        return any(w.path in self.paths for w in fix.files) or any(self.clashes(e) for e in fix.edits)

    def add(self, fix: Fix) -> None:
        self.paths.update(w.path for w in fix.files)
        for edit in fix.edits:
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
    warnings: list[Note] = field(default_factory=list)  # what the user should fix in their own file (DF002)
    # A transform proposed an unsafe fix (selected or not, applied or not): when none did in a safe
    # run, a run with unsafe fixes on would take the same steps (the runner's hidden-fix count).
    proposed_unsafe: bool = False
    # The first parse of the source: a second run on the same text (the runner's hidden-fix count)
    # copies its instructions, as a round's re-parse does, rather than parsing them again.
    first: Tree | None = field(default=None, repr=False, compare=False)
    # In a safe run, where it and the same run with unsafe fixes on part (see Divergence).
    divergence: Divergence | None = field(default=None, repr=False, compare=False)

    @property
    def changed(self) -> bool:
        return self.output != self.source or bool(self.files)


@dataclass
class Divergence:
    """Where a safe run stood at the start of the turn in which it first met an unsafe fix or
    asked about an unsafe rule (Outcome.proposed_unsafe). Until that turn the safe run and the
    same run with unsafe fixes on take the same steps (the premise of the runner's hidden-fix
    count: when it never happens, they take the same steps throughout), so the unsafe run can
    go on from here (run_pipeline's `resume`) instead of doing them all again."""

    round_number: int
    index: int  # the transform's place among the running ones
    tree: Tree
    lines: _LineMap
    notes: dict[tuple[str, str, int | None], Note]
    writes: int
    quiet: dict[str, tuple[Tree, int]]
    changed: bool  # a transform changed the text earlier in that round
    fixes: list[Fix]
    files: dict[str, str]
    budget: tuple[int, int] | None  # what the tree's expansions could still spend then (None: all)
    ignored_file: bool
    warnings: list[Note]


def _rule_of(item: Fix | Note, transform: Transform, rules: dict[str, Rule]) -> Designated:
    """The rule a fix or note is about; a transform that declares rules must name one of them."""
    if not transform.rules:
        return _Bare(transform.name)
    rule = rules.get(item.code)
    if rule is None and not (isinstance(item, Note) and item.code in _GENERAL_CODES):
        what = "fix" if isinstance(item, Fix) else "note"
        raise EngineBug(f"transform {transform.name} reported a {what} with code {item.code or 'none'!r}, "
                        f"not one of its rules ({', '.join(rules)}): {item.message}")
    return rule or _Bare(transform.name)


def _findings_of(running: list[tuple[Transform, dict[str, Rule]]], unsafe: bool, context: Context,
                 outcome: Outcome) -> Callable[[str, Tree, Sequence[Edit]], list[Fix | Note]]:
    """What the run would take of one rule on the text some edits make of a tree
    (Context.findings_of): the fixes and notes of that rule its transform finds there, the fixes
    filtered as run_pipeline filters them (safe or unsafe fixes on, no suppression in that text,
    no unreadable target), the notes' lines mapped back to the tree's. Nothing when the rule is
    not selected, or unsafe while unsafe fixes are off; nor for a rule asked about while its own
    answer is being made (a transform asking about itself, through another)."""
    asking: set[str] = set()

    def findings(code: str, tree: Tree, edits: Sequence[Edit]) -> list[Fix | Note]:
        found = next(((t, rules[code]) for t, rules in running if code in rules), None)
        if found is None or code in asking:
            return []
        transform, rule = found
        if transform.selected is not None and code not in transform.selected:
            return []
        if not unsafe and rule.applicability != SAFE:
            # Not even looked for: this run takes none of its fixes. The asker may then decide
            # otherwise than with unsafe fixes on, so the safe run no longer tells that nothing is
            # hidden (Outcome.proposed_unsafe: the runner counts in an unsafe run).
            outcome.proposed_unsafe = True
            return []
        after = parse(apply_edits(tree.source, edits), tree.memo, tree) if edits else tree
        suppress = Suppressions.of(after)
        lines = _LineMap(tree.source).after(tree.source, edits)
        out: list[Fix | Note] = []
        asking.add(code)
        try:
            for item in transform.find(after, context):
                if item.code != code:
                    continue
                if isinstance(item, Note):
                    out.append(replace(item, line=lines.original(item.line), message=lines.in_message(item.message)))
                elif (unsafe or item.safe) and not _suppressed(item, rule, after, suppress) \
                        and not _unreadable_target(item, context):
                    out.append(item)
        finally:
            asking.discard(code)
        return out

    return findings


def run_pipeline(text: str, context: Context, transforms: Sequence[Transform],
                 unsafe: bool = False, memo: dict[Any, Any] | None = None, previous: Tree | None = None,
                 resume: Divergence | None = None) -> Outcome:
    """Apply the transforms to a fixpoint. Raises ParseError for bad input, EngineBug for ours.

    A transform runs when any of its rules is selected (`Transform.selected`); its fixes and notes
    of the other rules are dropped (the pipeline's own notes, DF0xx, are always kept). `memo`: the
    file's parse memo (Tree.memo) from an earlier run on the same file, whose RUNs it need not parse again;
    `previous`, that run's first tree (Outcome.first), whose instructions are copied. `resume`: a
    safe run's Outcome.divergence, for the same text, transforms and a fresh context, unsafe on:
    this run goes on from there (see Divergence)."""
    if resume is not None and unsafe:
        found = _resume(text, context, transforms, resume)
        if found is not None:
            return found
    tree = parse(text, memo, previous)
    suppress = Suppressions.of(tree)
    outcome = Outcome(source=text, output=text, ignored_file=ALL in suppress.file, first=tree)
    if suppress.pragmas:  # (the catalog only tells the names of `# dockfix:` pragmas; most files have none)
        catalog = Catalog([r for t in transforms for r in t.rules], [t.name for t in transforms])
        outcome.warnings = _unknown_names(suppress, catalog)
    running = [(t, {r.code: r for r in t.rules}) for t in transforms if t.runs]
    context.run_findings = _findings_of(running, unsafe, context, outcome)
    try:
        return _rounds(tree, context, running, unsafe, outcome, suppress)
    finally:
        context.run_findings = None


def _resume(text: str, context: Context, transforms: Sequence[Transform], at: Divergence) -> Outcome | None:
    """run_pipeline with unsafe fixes on, from a safe run's divergence (see Divergence); None when
    that is not sure to be the same run: the expansions' budget of the tree it starts on ran out."""
    # A copy of the tree (its instructions copied, as a re-parse does): a model of its own, with
    # nothing the safe run computed later from it or its context, and the budget as it was then.
    tree = parse(at.tree.source, at.tree.memo, at.tree)
    model = Model.of(tree)
    if at.budget is not None:
        model.budget = Budget(*at.budget)
    outcome = Outcome(source=text, output=text, fixes=list(at.fixes), files=dict(at.files),
                      ignored_file=at.ignored_file, warnings=list(at.warnings))
    # The context as the safe run had written it then, on a copy with its own overlay: a run from
    # the start, when this one cannot stand for it, gets the context as it was given.
    scratch = copy.copy(context)
    scratch.overlay = dict(context.overlay)
    for path, body in at.files.items():
        scratch.write(path, body)
    running = [(t, {r.code: r for r in t.rules}) for t in transforms if t.runs]
    scratch.run_findings = _findings_of(running, True, scratch, outcome)
    try:
        found = _rounds(tree, scratch, running, True, outcome, Suppressions.of(tree), at)
    finally:
        scratch.run_findings = None
    # The copy's expansions spent what the safe run's had spent before (the model's answers are
    # computed again), so it had less to spend than the tree of a run from the start: when it never
    # ran out, neither would that one, and every expansion gave the same value.
    return found if model.budget.chars >= 0 and model.budget.steps >= 0 else None


def _rounds(tree: Tree, context: Context, running: list[tuple[Transform, dict[str, Rule]]], unsafe: bool,
            outcome: Outcome, suppress: Suppressions, start: Divergence | None = None) -> Outcome:
    """run_pipeline's rounds, until one changes nothing (from `start` on, when given)."""
    notes: dict[tuple[str, str, int | None], Note] = {}
    lines = _LineMap(tree.source) if start is None else start.lines
    # A transform is a function of the tree and the context: one that found nothing to apply in this
    # tree, with the context files as they are, would find nothing again. Its turn in a later round
    # is skipped while neither has changed since (the tree object, the number of context writes).
    writes = 0
    quiet: dict[str, tuple[Tree, int]] = {}
    first = 1
    if start is not None:
        notes, writes, first = dict(start.notes), start.writes, start.round_number
        quiet = {name: (tree if seen is start.tree else seen, count) for name, (seen, count) in start.quiet.items()}
    for round_number in range(first, MAX_ROUNDS + 1):
        outcome.rounds = round_number
        changed = start is not None and round_number == start.round_number and start.changed
        for index, (transform, rules) in enumerate(running):
            if start is not None and round_number == start.round_number and index < start.index:
                continue  # (taken by the safe run, the same way)
            seen = quiet.get(transform.name)
            if seen is not None and seen[0] is tree and seen[1] == writes:
                continue
            chosen: list[Fix] = []
            taken = _Taken()
            # A safe run notes where it may part from an unsafe one: what this turn starts from.
            watch = not unsafe and not outcome.proposed_unsafe
            if watch:
                known = len(notes)
                model = tree.derived.get(Model)
                budget = (model.budget.chars, model.budget.steps) if model is not None else None
            for item in transform.find(tree, context):
                if not outcome.proposed_unsafe and isinstance(item, Fix) and not item.safe:
                    outcome.proposed_unsafe = True
                rule = _rule_of(item, transform, rules)
                if transform.selected is not None and item.code not in transform.selected \
                        and item.code not in _GENERAL_CODES:
                    continue  # a rule of the transform that is not selected
                if isinstance(item, Note):
                    # Notes describe the user's file: a later round sees dockfix's own rewrite
                    # ("already multi-stage" after the split), so only the first round's count.
                    if round_number == 1:
                        line = lines.original(item.line)
                        note = replace(item, line=line, end_line=_at_or_after(line, lines.original(_end_line(tree, item.line))),
                                       message=lines.in_message(item.message))
                        notes.setdefault((note.transform, note.message, note.line), note)
                    continue
                if (not unsafe and not item.safe) or _suppressed(item, rule, tree, suppress):
                    continue
                if taken.fix_clashes(item):
                    continue  # the next round sees it again on the new text
                lost = _unreadable_target(item, context)
                if lost:  # writing it would replace content dockfix never saw
                    line = lines.original(item.line)
                    notes.setdefault((item.transform, lost, line), Note(item.transform, lost, line, item.code))
                    continue
                chosen.append(item)
                taken.add(item)
            if watch and outcome.proposed_unsafe:
                # (notes are only added: the first `known` are the turn's start; nothing else has changed yet)
                outcome.divergence = Divergence(
                    round_number, index, tree, lines, dict(list(notes.items())[:known]), writes, dict(quiet), changed,
                    list(outcome.fixes), dict(outcome.files), budget, outcome.ignored_file, list(outcome.warnings))
            if not chosen:
                quiet[transform.name] = (tree, writes)
                continue
            new_files = {w.path: w.text for f in chosen for w in f.files if context.read(w.path) != w.text}
            new_text = apply_edits(tree.source, taken.edits) if taken.edits else tree.source
            if new_text == tree.source and not new_files:
                quiet[transform.name] = (tree, writes)
                continue
            if new_text == tree.source:  # only context files were written: the same nodes, a new tree
                new_tree = Tree(tree.source, tree.nodes, tree.lines, tree.escape, memo=tree.memo)  # (and model)
            else:
                try:
                    new_tree = parse(new_text, tree.memo, tree)  # unchanged instructions are copied, not parsed
                except ParseError as err:
                    raise EngineBug(f"transform {transform.name} produced a file that does not parse: {err}") from err
            outcome.fixes.extend(replace(f, line=lines.original(f.line), end_line=_at_or_after(
                lines.original(f.line), lines.original(_end_line(tree, f.line, f.edits)))) for f in chosen)
            lines = lines.after(tree.source, taken.edits)
            tree = new_tree
            suppress = Suppressions.of(tree)
            for path, body in new_files.items():
                context.write(path, body)
                outcome.files[path] = body
                writes += 1
            changed = True
        if not changed:
            outcome.output = tree.source
            outcome.notes = sorted(notes.values(), key=lambda n: n.line or 0)
            outcome.fixes.sort(key=lambda f: f.line)  # stable: pipeline order within a line
            return outcome
    raise EngineBug(f"the pipeline did not converge in {MAX_ROUNDS} rounds")
