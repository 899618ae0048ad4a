"""Typed views of instructions for transforms: what they mean, not how they look.

Views are computed from the lossless tree and keep logical positions where a
transform may want to edit (a RUN's shell text, a COPY's sources).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from weakref import WeakKeyDictionary

from dockfix.shell import Script, parse_script
from dockfix.syntax import Instruction, Tree, shell_words, unquote


@dataclass(frozen=True)
class Mount:
    options: dict[str, str]

    @property
    def type(self) -> str:
        return self.options.get("type", "bind")

    @property
    def target(self) -> str:
        return self.options.get("target") or self.options.get("dst") or self.options.get("destination", "")


def mounts(instr: Instruction) -> list[Mount]:
    out = []
    for value in instr.flag_values("mount"):
        options = {}
        for part in value.split(","):
            key, eq, val = part.partition("=")
            options[key.strip().lower()] = val.strip() if eq else "true"
        out.append(Mount(options))
    return out


@dataclass(frozen=True)
class Run:
    instr: Instruction

    @property
    def form(self) -> str:
        """"exec" (JSON), "heredoc" or "shell"."""
        if self.instr.heredocs:
            return "heredoc"
        return "exec" if self.instr.exec_form is not None else "shell"

    @cached_property
    def script(self) -> Script:
        """The shell-form command line, positions relative to `args_start`."""
        return parse_script(self.instr.logical[self.instr.args_start :])

    @property
    def mounts(self) -> list[Mount]:
        return mounts(self.instr)

    def scripts(self) -> list[str]:
        """All shell text the RUN executes: its line, or its heredoc bodies."""
        if self.form == "heredoc":
            return [h.body for h in self.instr.heredocs]
        if self.form == "exec":
            return []
        return [self.instr.args]


@dataclass(frozen=True)
class Copy:
    instr: Instruction

    @cached_property
    def _paths(self) -> list[str]:
        exec_form = self.instr.exec_form
        if exec_form is not None:
            return exec_form
        # BuildKit splits COPY/ADD arguments on blanks only (a path with a space needs the
        # JSON form), then removes quotes and escapes word by word.
        # Its blanks are [\t\v\f\r ] (str.split() would also split at \x1c-\x1f and U+3000).
        return [unquote(w, self.instr.escape) for w in re.split(r"[\t\v\f\r ]+", self.instr.args) if w]

    @property
    def sources(self) -> list[str]:
        return self._paths[:-1]

    @property
    def destination(self) -> str:
        return self._paths[-1] if self._paths else ""

    @property
    def from_(self) -> str | None:
        return self.instr.flag("from").value if self.instr.flag("from") else None

    @property
    def chown(self) -> str | None:
        f = self.instr.flag("chown")
        return f.value if f else None

    @property
    def chmod(self) -> str | None:
        f = self.instr.flag("chmod")
        return f.value if f else None

    @property
    def link(self) -> bool:
        return self.instr.flag("link") is not None


def key_values(instr: Instruction) -> list[tuple[str, str | None]]:
    """ENV/ARG/LABEL pairs, in both `K=V ...` and the legacy `K V` syntax."""
    esc = instr.escape
    words = shell_words(instr.args, esc)
    if not words:
        return []
    if instr.name == "ENV" or instr.name == "LABEL":
        if "=" not in words[0][0]:
            # BuildKit splits the legacy form at the first blank, quotes or not: `ENV 'a b'` is 'a = b'.
            key, *rest = re.split(r"[ \t]+", instr.args, maxsplit=1)
            return [(unquote(key, esc), unquote(rest[0] if rest else "", esc))]
    pairs = []
    for word, _, _ in words:
        key, eq, value = word.partition("=")
        pairs.append((unquote(key, esc), unquote(value, esc) if eq else None))
    return pairs


@dataclass
class Stage:
    index: int
    from_: Instruction
    instructions: list[Instruction] = field(default_factory=list)  # after FROM, up to the next FROM

    @cached_property
    def _from_words(self) -> list[str]:
        return [w for w, _, _ in shell_words(self.from_.args, self.from_.escape)]

    @property
    def base(self) -> str:
        return self._from_words[0] if self._from_words else ""

    @property
    def name(self) -> str | None:
        words = self._from_words
        if len(words) >= 3 and words[1].lower() == "as":
            return words[2]
        return None

    @property
    def platform(self) -> str | None:
        f = self.from_.flag("platform")
        return f.value if f else None

    def user_at(self, instr: Instruction) -> str:
        """The USER in effect when `instr` runs ("root" before any USER line)."""
        return self._users.get(id(instr), self._users[None])

    @cached_property
    def _users(self) -> dict[int | None, str]:
        # One pass per stage: asked per install, a scan per call was quadratic.
        users: dict[int | None, str] = {}
        user = "root"
        for other in self.instructions:
            users[id(other)] = user
            if other.name == "USER":
                user = other.args.split(":")[0] or "root"
        users[None] = user  # an instruction not in the stage: after all of it
        return users

    def env_at(self, instr: Instruction | None) -> dict[str, str]:
        """ENV and ARG defaults set in this stage before `instr` (None: all of them)."""
        env: dict[str, str] = {}
        for other in self.instructions:
            if other is instr:
                break
            if other.name in ("ENV", "ARG"):
                for key, value in key_values(other):
                    if value is not None:
                        env[key] = value
        return env


def stages(tree: Tree) -> list[Stage]:
    # Transforms ask for the stages of the same tree thousands of times a file: build them once
    # per tree (a tree is never edited in place: an edit makes a new tree). A new list each call.
    found = _STAGES.get(tree)
    if found is None:
        out: list[Stage] = []
        for instr in tree.instructions:
            if instr.name == "FROM":
                out.append(Stage(len(out), instr))
            elif out:
                out[-1].instructions.append(instr)
        found = _STAGES[tree] = tuple(out)
    return list(found)


_STAGES: WeakKeyDictionary[Tree, tuple[Stage, ...]] = WeakKeyDictionary()


def global_args(tree: Tree) -> list[Instruction]:
    """ARG instructions before the first FROM."""
    out = []
    for instr in tree.instructions:
        if instr.name == "FROM":
            break
        out.append(instr)
    return out
