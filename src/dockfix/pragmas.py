"""Inline suppressions, in the spirit of hadolint's `# hadolint ignore=`.

    # dockfix: ignore                  the next instruction, every transform
    # dockfix: ignore=apt,cache-mounts the next instruction, those transforms
    # dockfix: ignore-file             the whole file (anywhere in it)
    # dockfix: ignore-file=bytecode    the whole file, that transform
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockfix.syntax import Comment, Tree

_PRAGMA = re.compile(r"#\s*dockfix:\s*(ignore-file|ignore)\b\s*(?:=\s*([\w\-, ]+))?\s*$", re.I)
ALL = "*"


@dataclass(frozen=True)
class Suppressions:
    file: frozenset[str]
    by_line: dict[int, frozenset[str]]  # instruction line range start -> names

    @classmethod
    def of(cls, tree: Tree) -> Suppressions:
        file: set[str] = set()
        by_line: dict[int, frozenset[str]] = {}
        for node in tree.nodes:
            if isinstance(node, Comment):
                m = _PRAGMA.match(node.text)
                if m and m.group(1).lower() == "ignore-file":
                    file |= _names(m.group(2))
        for instr in tree.instructions:
            names: set[str] = set()
            for comment in instr.leading_comments:
                m = _PRAGMA.match(comment.text)
                if m and m.group(1).lower() == "ignore":
                    names |= _names(m.group(2))
            if names:
                for line in range(instr.line, instr.end_line + 1):
                    by_line[line] = frozenset(names)
        return cls(frozenset(file), by_line)

    def blocks(self, transform: str, line: int) -> bool:
        if ALL in self.file or transform in self.file:
            return True
        names = self.by_line.get(line, frozenset())
        return ALL in names or transform in names


def _names(group: str | None) -> set[str]:
    if not group:
        return {ALL}
    return {n.strip() for n in group.split(",") if n.strip()}
