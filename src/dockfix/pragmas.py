"""Inline suppressions, in the spirit of hadolint's `# hadolint ignore=`.

    # dockfix: ignore                   the next instruction, every rule
    # dockfix: ignore=apt,DF302         the next instruction, those rules
    # dockfix: ignore-file              the whole file (anywhere in it)
    # dockfix: ignore-file=bytecode     the whole file, those rules
    # hadolint ignore=DL3009            the next instruction, the rules that fix DL3009
    # hadolint global ignore=DL3015     the whole file, the rules that fix DL3015

A name is a rule's code, a code prefix, a rule's name, a transform's name or a
hadolint code a rule fixes (diagnostics.Rule.answers_to). The names are kept as
written; the engine asks whether one designates the rule of a fix, and reports
names of `# dockfix:` pragmas that designate nothing (hadolint's own pragmas name
hadolint's rules, most of which dockfix has nothing to do with: never reported).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, cast

from dockfix.syntax import Comment, Tree

_PRAGMA = re.compile(r"#\s*dockfix:\s*(ignore-file|ignore)\b\s*(?:=\s*([\w\-, ]+))?\s*$", re.I)
_HADOLINT = re.compile(r"#\s*hadolint\s+(global\s+)?ignore\s*=\s*([\w\-, ]+?)\s*$", re.I)
ALL = "*"


class Designated(Protocol):
    """What a suppression can name: a rule (or a transform that declares none)."""

    def answers_to(self, name: str) -> bool: ...


@dataclass(frozen=True)
class Pragma:
    """One `# dockfix:` pragma's names, where it is written (for the unknown-name report)."""

    line: int
    names: tuple[str, ...]


@dataclass(frozen=True)
class Suppressions:
    file: frozenset[str]
    by_line: dict[int, frozenset[str]]  # each line of a suppressed instruction -> names
    pragmas: tuple[Pragma, ...] = ()  # the `# dockfix:` pragmas that name rules (not every rule)

    @classmethod
    def of(cls, tree: Tree) -> Suppressions:
        """The tree's suppressions (read once per tree, kept with it: the engine and transforms ask)."""
        found = tree.derived.get(cls)
        if found is None:
            found = tree.derived[cls] = cls._read(tree)
        return cast(Suppressions, found)

    @classmethod
    def _read(cls, tree: Tree) -> Suppressions:
        if _unmentioned(tree.source):
            return cls(frozenset(), {})
        file: set[str] = set()
        by_line: dict[int, frozenset[str]] = {}
        pragmas: list[Pragma] = []
        for node in tree.nodes:
            if isinstance(node, Comment):
                kind, names = _read(node.text)
                if kind == "file":
                    file |= names
                written = _written(node.text)
                if written:
                    pragmas.append(Pragma(node.line, written))
        for instr in tree.instructions:
            found: set[str] = set()
            for comment in instr.leading_comments:
                kind, names = _read(comment.text)
                if kind == "next":
                    found |= names
            if found:
                for line in range(instr.line, instr.end_line + 1):
                    by_line[line] = frozenset(found)
        return cls(frozenset(file), by_line, tuple(pragmas))

    def blocks(self, rule: Designated, line: int) -> bool:
        """Whether a suppression of the whole file, or of the instruction on `line`, names the rule."""
        if _names(rule, self.file):
            return True
        names = self.by_line.get(line)
        return names is not None and _names(rule, names)


def _unmentioned(text: str) -> bool:
    """No pragma can be in this text: it names neither dockfix nor hadolint, in any case (both
    patterns need the word). Only for ASCII text: re.I also matches `ı` and the Kelvin sign, which
    lower() keeps. (One pass over the text; a case-blind regex search was slower than reading every comment.)"""
    if not text.isascii():
        return False
    lower = text.lower()
    return "dockfix" not in lower and "hadolint" not in lower


def _names(rule: Designated, names: frozenset[str]) -> bool:
    return ALL in names or any(rule.answers_to(n) for n in names)


def _read(text: str) -> tuple[str, set[str]]:
    """("file" or "next", the names) of a pragma comment; ("", set()) when it is none."""
    m = _PRAGMA.match(text)
    if m:
        return ("file" if m.group(1).lower() == "ignore-file" else "next"), set(_split(m.group(2))) or {ALL}
    m = _HADOLINT.match(text)
    if m:
        return ("file" if m.group(1) else "next"), set(_split(m.group(2)))
    return "", set()


def _written(text: str) -> tuple[str, ...]:
    """The names of a `# dockfix:` pragma, in the order written (none: it names every rule)."""
    m = _PRAGMA.match(text)
    return tuple(dict.fromkeys(_split(m.group(2)))) if m else ()


def _split(group: str | None) -> list[str]:
    if not group:
        return []
    return [n.strip() for n in group.split(",") if n.strip()]


# The same reading for comments outside a Dockerfile (a CI file's YAML comments: dockfix.ci_engine).
comment_pragma = _read
pragma_names = _written
