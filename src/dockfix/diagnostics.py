"""Diagnostics: what a transform reports (a Fix, a Note) and the stable rule codes they carry.

Every fix and note names its rule by a code (`DF102`), its transform (`apt`),
its applicability (safe, unsafe, display-only), its message and its line.
Codes are stable: a code is never reused for another rule, and reports,
`--select`/`--ignore`, the config and pragmas all speak them.

    DF0xx  the pipeline's own (not a Python image, an unknown name in a pragma)
    DF1xx ... DF9xx  one family per transform (`dockfix --list` shows each; tests/test_rules.py
                     checks that no two transforms share one)

A transform declares its rules next to its code (`RULES` in its module, one
row each in the "Rules" table of its page) and yields `RULE.fix(...)` or
`RULE.note(...)`; notes share the code of the rule they are about. A rule does
one thing, so each can be selected alone: apt's list cleanup (DF101) and its
`--no-install-recommends` (DF102) are two rules.

A name a user writes (in `--select`, `--ignore`, `[tool.dockfix]`,
`# dockfix: ignore=`) may be a code, a code prefix (`DF1`), a rule's name
(`apt-no-recommends`), a transform's name (every rule of it) or a hadolint
code a rule fixes (`DL3009`). `# hadolint ignore=DL3009` above an instruction
means the same as `# dockfix: ignore=DL3009`: the user told hadolint the
finding is intended, so the rules that would fix it leave it alone.

This module is below the engine (the model layer): it knows no transform;
`Catalog` is built from the rules of whatever transforms it is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from dockfix.edits import Edit

SAFE, UNSAFE, DISPLAY_ONLY = "safe", "unsafe", "display-only"
APPLICABILITIES = (SAFE, UNSAFE, DISPLAY_ONLY)

_CODE = re.compile(r"DF\d{3}")
_PREFIX = re.compile(r"DF\d{0,2}")
_HADOLINT = re.compile(r"(DL|SC)\d{4}")


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
    code: str = ""  # its rule (every fix of a transform that declares rules has one)
    # The last line it is about: the end of the instruction at `line` or of the lines its edits
    # touch, whichever is later (set by the engine, in the user's lines; None: not known).
    end_line: int | None = None

    @property
    def applicability(self) -> str:
        return SAFE if self.safe else UNSAFE


@dataclass(frozen=True, slots=True)
class Note:
    """Why a transform left something alone (shown with --verbose)."""

    transform: str
    message: str
    line: int | None = None
    code: str = ""  # the rule it is about (or a DF0xx code of the pipeline)
    kind: str = ""  # within its rule, a stable name for this kind of note (the checklist reads it)
    end_line: int | None = None  # the last line of the instruction at `line` (set by the engine)

    @property
    def applicability(self) -> str:
        return DISPLAY_ONLY


@dataclass(frozen=True, slots=True)
class Rule:
    """One thing a transform does, selectable and suppressible on its own."""

    code: str  # DF + three digits, stable
    transform: str  # "" for the pipeline's own codes (DF0xx)
    name: str  # kebab-case, unique among rules and transforms
    summary: str  # what its fix does, in a line
    applicability: str = SAFE  # of its fixes: safe, unsafe, or display-only (it only ever notes)
    hadolint: tuple[str, ...] = ()  # the hadolint codes its fix clears

    def __post_init__(self) -> None:
        if not _CODE.fullmatch(self.code):
            raise ValueError(f"rule code {self.code!r} is not DF followed by three digits")
        if self.applicability not in APPLICABILITIES:
            raise ValueError(f"rule {self.code}: applicability {self.applicability!r} is not one of {APPLICABILITIES}")

    def fix(self, message: str, line: int, edits: Iterable[Edit] = (), files: Iterable[FileWrite] = ()) -> Fix:
        """A fix of this rule; safe or not as the rule is."""
        if self.applicability == DISPLAY_ONLY:
            raise ValueError(f"rule {self.code} is display-only: it has no fixes")
        return Fix(self.transform, message, line, tuple(edits), self.applicability == SAFE, tuple(files), self.code)

    def note(self, message: str, line: int | None = None, kind: str = "", transform: str | None = None) -> Note:
        """A note about this rule (`transform`: which one says it, for the pipeline's own codes)."""
        return Note(self.transform if transform is None else transform, message, line, self.code, kind)

    def answers_to(self, name: str) -> bool:
        """Whether a name a user wrote designates this rule (see the module's docstring)."""
        upper, lower = name.upper(), name.lower()
        return (upper == self.code or lower == self.name or (bool(self.transform) and lower == self.transform)
                or upper in self.hadolint or (_PREFIX.fullmatch(upper) is not None and self.code.startswith(upper)))


# The pipeline's own codes: every transform may report them.
NOT_PYTHON = Rule("DF001", "", "not-python", "the file does not build a Python image: every transform leaves it alone",
                  DISPLAY_ONLY)
UNKNOWN_NAME = Rule("DF002", "", "unknown-name", "a `# dockfix: ignore=` pragma names no rule, transform or code "
                    "dockfix knows (it suppresses nothing)", DISPLAY_ONLY)
GENERAL: tuple[Rule, ...] = (NOT_PYTHON, UNKNOWN_NAME)


class UnknownNames(KeyError):
    """Names that designate no rule; args[0] says which, each with a did-you-mean when one is close."""

    def __init__(self, described: list[str]):
        super().__init__(", ".join(described))
        self.described = described

    def __str__(self) -> str:
        return str(self.args[0])


class Catalog:
    """The rules of some transforms (and the pipeline's own), and what users' names designate."""

    def __init__(self, rules: Iterable[Rule], transforms: Iterable[str] = ()):
        self.rules: tuple[Rule, ...] = (*GENERAL, *rules)
        self.by_code = {r.code: r for r in self.rules}
        self.transforms = tuple(dict.fromkeys([*transforms, *(r.transform for r in self.rules if r.transform)]))
        if len(self.by_code) != len(self.rules):
            raise ValueError("two rules share a code")
        spellings = [*self.by_code, *(r.name for r in self.rules), *self.transforms]
        if len(set(spellings)) != len(spellings):
            raise ValueError("a rule's name is another rule's or a transform's")
        self._spellings = [*spellings, *sorted({h for r in self.rules for h in r.hadolint})]

    def codes(self, names: Iterable[str]) -> frozenset[str]:
        """The codes the names designate together."""
        wanted = list(names)
        return frozenset(r.code for r in self.rules if any(r.answers_to(n) for n in wanted))

    def knows(self, name: str) -> bool:
        return name.lower() in self.transforms or any(r.answers_to(name) for r in self.rules)

    def describe_unknown(self, name: str) -> str:
        """`DF1O2 (did you mean DF102?)`: an unknown name, with the closest known one if any is close."""
        if _HADOLINT.fullmatch(name.upper()):
            return f"{name} (a hadolint code no dockfix rule fixes)"
        import difflib  # only for a name that is not known: most runs never spell one wrong

        close = difflib.get_close_matches(name, self._spellings, n=1, cutoff=0.6)
        if not close:
            close = difflib.get_close_matches(name.upper(), self._spellings, n=1, cutoff=0.6)
        return f"{name} (did you mean {close[0]}?)" if close else name

    def check(self, names: Iterable[str]) -> None:
        """Raise UnknownNames for the names that designate nothing (each once, in order)."""
        unknown = [n for n in dict.fromkeys(names) if not self.knows(n)]
        if unknown:
            raise UnknownNames([self.describe_unknown(n) for n in unknown])
