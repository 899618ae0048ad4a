"""Typed views of instructions for transforms: what they mean, not how they look.

Views are computed from the lossless tree and keep logical positions where a
transform may want to edit (a RUN's shell text, a COPY's sources).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from dockfix.lazy import cached_property
from dockfix.shell import Script, Word, heredoc_marker, operands, parse_script
from dockfix.syntax import Heredoc, Instruction, Tree, shell_words, unquote

_BLANKS = re.compile(r"[ \t\v\f\r]+")
T = TypeVar("T")


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

    @property
    def script(self) -> Script:
        """The shell-form command line, positions relative to `args_start`."""
        # Kept on the instruction, not on this view: every transform makes its own Run of the
        # same RUN, and a re-parse copies an unchanged instruction with what it kept, so the
        # line is not cut out and looked up in the parse memo again per view and per round.
        return _kept(self.instr, "run-script", _run_script)

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


def _run_script(instr: Instruction) -> Script:
    return parse_script(instr.logical[instr.args_start :], instr.memo)


# ---- here-documents: a RUN's script, a shell's input, another program's code, or data ----

POSIX_SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "mksh"})
_LONE = re.compile(r"\d*<<-?[^<]+")
_PREFIXES = ("sudo", "exec", "command", "env", "nohup", "time")


@dataclass(frozen=True)
class HeredocRole:
    """What a RUN does with one of its here-documents.

    kind:
    - "script": the RUN's command line is only the marker (`RUN <<EOF`): BuildKit runs the
      body as the RUN's shell script (or, with a `#!` line naming a POSIX shell, as a file
      that shell runs);
    - "shell": the body is the standard input of a POSIX shell that reads its commands from
      it (`RUN bash <<EOF`, `sh -e <<EOF`, `bash -s arg <<EOF`);
    - "program": code for another interpreter (`python3 <<EOF`, a `#!/usr/bin/python3` line);
    - "data": anything else (`cat > /setup.sh <<EOF`, `tee`, a pipe into a shell, input of
      `bash -c` or of a script, another file descriptor, a COPY or ADD file).
    Only "script" and "shell" bodies are shell that runs: parse and edit only those.
    (A "script" body runs with the RUN's shell: a SHELL instruction is the caller's concern.)
    """

    heredoc: Heredoc
    kind: str
    interpreter: str | None  # the program that reads the body, when known ("bash", "python3")
    errexit: bool  # the shell runs it with -e (`sh -e <<EOF`, `#!/bin/sh -e`)

    @property
    def runs_shell(self) -> bool:
        return self.kind in ("script", "shell")


def heredoc_roles(instr: Instruction) -> list[HeredocRole]:
    """The role of each here-document of an instruction, in order (see HeredocRole)."""
    docs = instr.heredocs
    if not docs:
        return []
    if instr.name != "RUN" or instr.exec_form is not None:
        return [HeredocRole(doc, "data", None, False) for doc in docs]
    commands = Run(instr).script.commands
    if len(docs) == 1 and len(commands) == 1 and len(commands[0].words) == 1 and _LONE.fullmatch(commands[0].words[0].raw):
        first = docs[0].body.split("\n", 1)[0].rstrip("\r")
        if not first.startswith("#!"):
            return [HeredocRole(docs[0], "script", None, False)]
        program, options = _shebang(first)
        kind = "script" if program in POSIX_SHELLS else "program"
        return [HeredocRole(docs[0], kind, program or None, kind == "script" and _errexit_option(options))]
    markers = [(cmd, w) for cmd in commands for w in cmd.words if (m := heredoc_marker(w.raw)) and m[0]]
    if len(markers) != len(docs):  # not BuildKit's reading of the line: know nothing
        return [HeredocRole(doc, "data", None, False) for doc in docs]
    return [_role(doc, cmd.words) for doc, (cmd, _) in zip(docs, markers)]


def _role(doc: Heredoc, words: tuple[Word, ...]) -> HeredocRole:
    argv = [w.value for w in operands(words)]
    i = 0
    while i < len(argv) and ("=" in argv[i] and not argv[i].startswith("-") or argv[i] in _PREFIXES):
        i += 1
        while i < len(argv) and argv[i - 1] in _PREFIXES and argv[i].startswith("-"):
            i += 1  # `sudo -E`, `env -i`
    if doc.fd not in (None, 0) or i >= len(argv):
        return HeredocRole(doc, "data", None, False)
    program = argv[i].rsplit("/", 1)[-1]
    options = argv[i + 1 :]
    if program in POSIX_SHELLS:
        reads_stdin = True
        j = 0
        while j < len(options):
            opt = options[j]
            if opt == "--":
                reads_stdin = j + 1 == len(options)
                break
            if not opt or opt[0] not in "-+" or opt in ("-", "+"):
                reads_stdin = opt == "-"  # `bash script.sh`: the body is the script's input
                break
            if opt.endswith("o") and not opt.startswith("--"):
                j += 2  # `-o pipefail`, `-eo pipefail`
                continue
            if "c" in opt and not opt.startswith("--"):
                reads_stdin = False  # `bash -c '...'`: the commands come from the argument
                break
            if "s" in opt and not opt.startswith("--"):
                break  # `-s`: commands from stdin, the rest are its arguments
            j += 1
        if reads_stdin:
            return HeredocRole(doc, "shell", program, _errexit_option(options))
        return HeredocRole(doc, "data", program, False)
    if re.fullmatch(r"python[\d.]*|pypy[\d.]*|node|perl|ruby|php|pwsh|powershell|lua|tclsh|Rscript", program):
        return HeredocRole(doc, "program", program, False)
    return HeredocRole(doc, "data", program, False)


def _shebang(line: str) -> tuple[str, list[str]]:
    words = line[2:].split()
    if words and words[0].rsplit("/", 1)[-1] == "env":
        words = [w for w in words[1:] if not w.startswith("-")] or [""]  # `env -S bash -e`: options dropped
    return (words[0].rsplit("/", 1)[-1], words[1:]) if words else ("", [])


def _errexit_option(options: list[str]) -> bool:
    """`-e` among a shell's options (`-eux`, `-o errexit`), before its operands."""
    for index, opt in enumerate(options):
        if opt in ("-o", "+o"):
            if index + 1 < len(options) and options[index + 1] == "errexit":
                return opt == "-o"
            continue
        if re.fullmatch(r"-[a-zA-Z]+", opt) and "e" in opt:
            return True
        if not opt.startswith(("-", "+")):
            return False
    return False


def _kept(instr: Instruction, key: str, compute: Callable[[Instruction], T]) -> T:
    """compute(instr), kept on the instruction as its cached properties are: its text never
    changes (an edit makes a new tree), and every transform makes its own view of it."""
    found: T | None = instr.__dict__.get(key)
    if found is None:
        found = instr.__dict__[key] = compute(instr)
    return found


@dataclass(frozen=True)
class Copy:
    instr: Instruction

    @property
    def _paths(self) -> list[str]:
        return _kept(self.instr, "copy-paths", _copy_paths)

    @property
    def sources(self) -> list[str]:
        return self._paths[:-1]

    @property
    def destination(self) -> str:
        return self._paths[-1] if self._paths else ""

    @property
    def from_(self) -> str | None:
        flag = self.instr.flag("from")
        return flag.value if flag else None

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


def _copy_paths(instr: Instruction) -> list[str]:
    exec_form = instr.exec_form
    if exec_form is not None:
        return exec_form
    # BuildKit splits COPY/ADD arguments on blanks only (a path with a space needs the
    # JSON form), then removes quotes and escapes word by word.
    # Its blanks are [\t\v\f\r ] (str.split() would also split at \x1c-\x1f and U+3000).
    return [unquote(w, instr.escape) for w in _BLANKS.split(instr.args) if w]


def key_values(instr: Instruction) -> list[tuple[str, str | None]]:
    """ENV/ARG/LABEL pairs, in both `K=V ...` and the legacy `K V` syntax."""
    return list(_kept(instr, "key-values", _key_values))


def _key_values(instr: Instruction) -> tuple[tuple[str, str | None], ...]:
    esc = instr.escape
    words = shell_words(instr.args, esc)
    if not words:
        return ()
    if instr.name == "ENV" or instr.name == "LABEL":
        if "=" not in words[0][0]:
            # BuildKit splits the legacy form at the first blank (its reWhitespace, [\t\v\f\r ]+), quotes or not:
            # `ENV 'a b'` is 'a = b'.
            key, *rest = _BLANKS.split(instr.args, maxsplit=1)
            return ((unquote(key, esc), unquote(rest[0] if rest else "", esc)),)
    pairs = []
    for word, _, end in words:
        if end == len(instr.args) and (len(word) - len(word.rstrip(esc))) % 2:
            # BuildKit's word splitter skips an escape that ends the text, and makes no word of it alone
            word = word[:-1]
            if not word:
                continue
        key, eq, value = word.partition("=")
        pairs.append((unquote(key, esc), unquote(value, esc) if eq else None))
    return tuple(pairs)


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
    # per tree, kept with it (Tree.derived). A new list each call.
    found = tree.derived.get(Stage)
    if found is None:
        out: list[Stage] = []
        for instr in tree.instructions:
            if instr.name == "FROM":
                out.append(Stage(len(out), instr))
            elif out:
                out[-1].instructions.append(instr)
        found = tree.derived[Stage] = tuple(out)
    return list(found)


def global_args(tree: Tree) -> list[Instruction]:
    """ARG instructions before the first FROM."""
    out = []
    for instr in tree.instructions:
        if instr.name == "FROM":
            break
        out.append(instr)
    return out
