"""What cache-mounts and bytecode share: Python installs in RUNs, the environment
they run in, who runs them, and the edits both transforms make.

An install is a simple command of a RUN's shell text (its line, or a heredoc
body the shell runs): `uv sync`, `uv pip install|sync`, `pip install`
(pip, pip3, python -m pip), `poetry install|sync`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

from dockfix.edits import Edit, insert_before
from dockfix.expand import Budget, expand
from dockfix.shell import Command, Script, Word, parse_script
from dockfix.syntax import Comment, Heredoc, Instruction, Tree
from dockfix.views import Run, Stage, key_values, mounts, stages

_PIP = re.compile(r"pip(\d(\.\d+)?)?$")
_PYTHON = re.compile(r"python(\d(\.\d+)?)?$")
_SHELLS = ("sh", "bash", "ash", "dash", "zsh")
FALSY = ("", "0", "false", "no", "off", "n", "f")


@dataclass(frozen=True)
class Part:
    """One shell text of a RUN: its line (doc None) or a heredoc body."""

    script: Script
    doc: Heredoc | None

    def span(self, instr: Instruction, word: Word) -> tuple[int, int]:
        """Source offsets of a word."""
        if self.doc is None:
            return instr.source_offset(instr.args_start + word.start), instr.source_offset(instr.args_start + word.end - 1) + 1
        return self.doc.body_start + word.start, self.doc.body_start + word.end


@dataclass(frozen=True)
class Install:
    tool: str  # "uv", "pip" or "poetry"
    verb: str  # "sync", "install" (uv pip install is "install", uv pip sync is "pip-sync")
    command: Command
    part: Part
    index: int  # position of the command in its part (for `export` lines before it)

    @property
    def args(self) -> list[str]:
        """The words after the program (options and subcommands)."""
        return self.command.argv[1:]

    def words(self) -> list[Word]:
        """The command's words after its leading VAR=value assignments."""
        words = list(self.command.words)
        while words and _is_assign(words[0].value):
            words.pop(0)
        return words


def _is_assign(value: str) -> bool:
    name, eq, _ = value.partition("=")
    return bool(eq) and bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name))


def _subcommands(args: list[str]) -> list[str]:
    """Words that are not options (a rough cut: option values count too)."""
    return [a for a in args if not a.startswith("-")]


def classify(cmd: Command) -> tuple[str, str] | None:
    argv = cmd.argv
    if not argv:
        return None
    prog = argv[0].rsplit("/", 1)[-1]
    rest = argv[1:]
    if _PYTHON.match(prog) and rest[:2] == ["-m", "pip"]:
        prog, rest = "pip", rest[2:]
    words = _subcommands(rest)
    if _PIP.match(prog) and words[:1] == ["install"]:
        return "pip", "install"
    if prog == "uv" and words[:1] == ["sync"]:
        return "uv", "sync"
    if prog == "uv" and words[:2] == ["pip", "install"]:
        return "uv", "install"
    if prog == "uv" and words[:2] == ["pip", "sync"]:
        return "uv", "pip-sync"
    if prog == "poetry" and words[:1] in (["install"], ["sync"]):
        return "poetry", words[0]
    return None


_WINDOWS = re.compile(r"windows|nanoserver|servercore", re.I)

T = TypeVar("T")
_PER_TREE: WeakKeyDictionary[Tree, dict[Any, Any]] = WeakKeyDictionary()


def per_tree(tree: Tree, key: Any, compute: Callable[[], T]) -> T:
    """compute(), once per tree and key: transforms ask the same questions of every RUN, each
    round (a tree is never edited in place: an edit makes a new tree)."""
    memo = _PER_TREE.setdefault(tree, {})
    if key not in memo:
        memo[key] = compute()
    found: T = memo[key]
    return found


def budget(tree: Tree) -> Budget:
    """What the variable expansions of one file may still cost (see dockfix.expand)."""
    return per_tree(tree, "budget", Budget)


def posix_shell(tree: Tree, instr: Instruction) -> bool:
    """False for a Windows stage or a SHELL that is not a POSIX shell (PowerShell, cmd)."""
    found = _NOT_POSIX.get(tree)
    if found is None:  # one pass per tree: asked per RUN, a scan per call was quadratic
        found = _NOT_POSIX[tree] = _not_posix(tree)
    return id(instr) not in found


def _not_posix(tree: Tree) -> frozenset[int]:
    """The instructions (ids) that run in a Windows stage or after a SHELL that is not POSIX."""
    out: set[int] = set()
    whole: list[bool] = []  # per stage: all of it (a Windows base, or a parent stage that is not POSIX)
    shell_at: set[int] = set()  # stages with a SHELL that is not POSIX
    for stage in stages(tree):
        up = parent(tree, stage)
        if _WINDOWS.search(stage.base) or (up is not None and (whole[up.index] or up.index in shell_at)):
            whole.append(True)
            out.update(id(i) for i in stage.instructions)
            continue
        whole.append(False)
        tainted = False
        for other in stage.instructions:
            if tainted:
                out.add(id(other))
            elif other.name == "SHELL" and other.exec_form and other.exec_form[0].rsplit("/", 1)[-1].rsplit(
                    "\\", 1)[-1].lower().removesuffix(".exe") in ("powershell", "pwsh", "cmd"):
                tainted = True
                shell_at.add(stage.index)
    return frozenset(out)


_NOT_POSIX: WeakKeyDictionary[Tree, frozenset[int]] = WeakKeyDictionary()


def parts(tree: Tree, instr: Instruction) -> list[Part]:
    """The shell texts a RUN executes; [] for exec form or a shell that is not POSIX."""
    memo = _PARTS.setdefault(tree, {})  # asked for every earlier RUN of many RUNs: parse each once
    if id(instr) not in memo:
        memo[id(instr)] = tuple(_parts(tree, instr))
    return list(memo[id(instr)])


_PARTS: WeakKeyDictionary[Tree, dict[int, tuple[Part, ...]]] = WeakKeyDictionary()


def _parts(tree: Tree, instr: Instruction) -> list[Part]:
    run = Run(instr)
    if run.form == "exec" or not posix_shell(tree, instr):
        return []
    line = Part(run.script, None)
    if run.form == "shell":
        return [line]
    out = [line]
    argv = [c.argv for c in run.script.commands]
    runs_body = not any(a and not a[0].startswith("<<") and a[0].rsplit("/", 1)[-1] not in _SHELLS for a in argv)
    for doc in instr.heredocs:
        body = tree.source[doc.body_start:doc.body_end]
        first = body.split("\n", 1)[0]
        if not runs_body or (first.startswith("#!") and not any(s in first for s in _SHELLS)):
            continue
        out.append(Part(parse_script(body), doc))
    return out


def installs(tree: Tree, instr: Instruction) -> list[Install]:
    out = []
    for part in parts(tree, instr):
        for index, cmd in enumerate(part.script.commands):
            kind = classify(cmd)
            if kind:
                out.append(Install(kind[0], kind[1], cmd, part, index))
    return out


# --- the environment a command runs in ---------------------------------------

def stage_of(tree: Tree, instr: Instruction) -> Stage | None:
    found = _STAGE_OF.get(tree)
    if found is None:  # one map per tree: asked per instruction, a scan per call was quadratic
        found = _STAGE_OF[tree] = {id(i): s for s in stages(tree) for i in s.instructions}
    return found.get(id(instr))


_STAGE_OF: WeakKeyDictionary[Tree, dict[int, Stage]] = WeakKeyDictionary()


def parent(tree: Tree, stage: Stage) -> Stage | None:
    """The earlier stage `FROM <name>` builds on (the last one of that name); None for an image."""
    return per_tree(tree, "parents", lambda: _parents(tree))[stage.index]


def _parents(tree: Tree) -> list[Stage | None]:
    by_name: dict[str, Stage] = {}
    out: list[Stage | None] = []
    for stage in stages(tree):
        out.append(by_name.get(stage.base.lower()))
        if stage.name:
            by_name[stage.name.lower()] = stage
    return out


def chain(tree: Tree, stage: Stage) -> list[Stage]:
    """The stage and the stages it is built FROM, base first."""
    out = [stage]
    up = parent(tree, stage)
    while up is not None:
        out.append(up)
        up = parent(tree, up)
    out.reverse()
    return out


def _global_args(tree: Tree) -> dict[str, str]:
    env = {}
    for instr in tree.instructions:
        if instr.name == "FROM":
            break
        if instr.name == "ARG":
            env.update({k: v for k, v in key_values(instr) if v is not None})
    return env


class _Journal:
    """Values set one after another, read as they were after the first `at` settings: a
    snapshot per instruction costs nothing (copying the environment at each was quadratic)."""

    __slots__ = ("base", "history", "count")

    def __init__(self, base: Mapping[str, Any]) -> None:
        self.base = base  # what holds before the first setting
        self.history: dict[str, tuple[list[int], list[Any]]] = {}
        self.count = 0

    def set(self, key: str, value: Any) -> None:
        self.count += 1
        found = self.history.get(key)
        if found is None:
            self.history[key] = ([self.count], [value])
        else:
            found[0].append(self.count)
            found[1].append(value)

    def get(self, key: str, at: int) -> Any:
        found = self.history.get(key)
        if found is not None:
            k = bisect_right(found[0], at)
            if k:
                return found[1][k - 1]
        return self.base.get(key)

    def keys(self, at: int) -> Iterator[str]:
        yield from (k for k, (when, _) in self.history.items() if when[0] <= at)
        yield from self.base

    def final(self) -> Mapping[str, Any]:
        """Everything as it is after the last setting (a new dict, or the base when nothing was set)."""
        if not self.history:
            return self.base
        return {**self.base, **{k: values[-1] for k, (_, values) in self.history.items()}}


class Env(Mapping[str, str]):
    """A read-only environment: journals read at a point, the first that holds a key wins."""

    __slots__ = ("layers",)

    def __init__(self, *layers: tuple[_Journal, int]) -> None:
        self.layers = layers

    def get(self, key: str, default: Any = None) -> Any:
        for journal, at in self.layers:
            value = journal.get(key, at)
            if value is not None:
                return value
        return default

    def __getitem__(self, key: str) -> str:
        value: str | None = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k for journal, at in self.layers for k in journal.keys(at)))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"Env({dict(self)!r})"


_NO_ENV = Env()


def overlay(top: dict[str, str], env: Mapping[str, str]) -> Mapping[str, str]:
    """`top` over `env`, without copying env (ChainMap writes to `top` only)."""
    return ChainMap(top, cast("MutableMapping[str, str]", env))


def env_before(tree: Tree, instr: Instruction) -> Mapping[str, str]:
    """ENV (inherited through FROM <stage>) and this stage's ARG defaults before instr."""
    found = _ENV.get(tree)
    if found is None:  # one pass per tree: asked per install, a scan per call was quadratic
        found = _ENV[tree] = _env_snapshots(tree)
    return found.get(id(instr), _NO_ENV)


def _env_snapshots(tree: Tree) -> dict[int, Env]:
    """The environment before each instruction of each stage (instructions between two
    ENV/ARG share one snapshot)."""
    spend = budget(tree)
    globals_ = _global_args(tree)
    inherited = _inherited_env(tree)
    out: dict[int, Env] = {}
    for stage in stages(tree):
        env = _Journal(inherited[stage.index])
        args = _Journal({})
        snapshot = Env((env, 0), (args, 0))  # ENV wins over an ARG of the same name
        for other in stage.instructions:
            out[id(other)] = snapshot
            if other.name not in ("ENV", "ARG"):
                continue
            for key, value in key_values(other):
                scope = Env((args, args.count), (env, env.count))  # a value reads the ARG first
                if other.name == "ARG":
                    value = value if value is not None else globals_.get(key)
                    if value is not None:
                        args.set(key, expand(value, scope, budget=spend) or value)
                elif value is not None:
                    env.set(key, expand(value, scope, budget=spend) or value)
            snapshot = Env((env, env.count), (args, args.count))
    return out


def _inherited_env(tree: Tree) -> list[Mapping[str, str]]:
    """For each stage, the ENV its ancestors set (their ARGs are not inherited), each value
    read with the ENV before it."""
    spend = budget(tree)
    parents = {p.index for p in _parents(tree) if p is not None}
    out: list[Mapping[str, str]] = []
    ends: dict[int, Mapping[str, str]] = {}  # a parent stage -> its ENV at its end, its ancestors' included
    for stage in stages(tree):
        up = parent(tree, stage)
        inherited = ends[up.index] if up is not None else {}
        out.append(inherited)
        if stage.index not in parents:
            continue
        env: dict[str, str] | None = None  # a copy only when the stage sets something
        for other in stage.instructions:
            if other.name == "ENV":
                for key, value in key_values(other):
                    if value is not None:
                        env = dict(inherited) if env is None else env
                        env[key] = expand(value, env, budget=spend) or value
        ends[stage.index] = inherited if env is None else env
    return out


_ENV: WeakKeyDictionary[Tree, dict[int, Env]] = WeakKeyDictionary()


def command_env(tree: Tree, instr: Instruction, inst: Install) -> Mapping[str, str]:
    """env_before, plus `export K=V` earlier in the same shell text, plus inline K=V."""
    return env_at(tree, instr, inst.part, inst.index)


def env_at(tree: Tree, instr: Instruction, part: Part, index: int) -> Mapping[str, str]:
    """The environment of the index-th command of a shell text of a RUN (see command_env)."""
    exports, marks = per_tree(tree, ("exports", id(instr), id(part.script)), lambda: _exports(tree, instr, part))
    env: Mapping[str, str] = Env((exports, marks[index]))
    assigned = part.script.commands[index].assignments
    if assigned:
        own: dict[str, str] = {}
        env = overlay(own, env)
        spend = budget(tree)
        for key, value in assigned.items():
            own[key] = expand(value, env, budget=spend) or value
    return env


def _exports(tree: Tree, instr: Instruction, part: Part) -> tuple[_Journal, list[int]]:
    """The `export K=V` of a shell text, and how many of them come before each command."""
    journal = _Journal(env_before(tree, instr))
    marks = []
    spend = budget(tree)
    for cmd in part.script.commands:
        marks.append(journal.count)
        argv = cmd.argv
        if argv[:1] == ["export"]:
            for word in argv[1:]:
                key, eq, value = word.partition("=")
                if eq:
                    journal.set(key, expand(value, Env((journal, journal.count)), budget=spend) or value)
    return journal, marks


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def is_set(env: Mapping[str, str], key: str) -> bool:
    return key in env and env[key].strip().lower() not in FALSY


def option_value(args: list[str], *names: str) -> str | None:
    """The value of `--name value` or `--name=value` (last one wins)."""
    found = None
    for i, arg in enumerate(args):
        for name in names:
            if arg.startswith(name + "="):
                found = arg[len(name) + 1 :]
            elif arg == name and i + 1 < len(args):
                found = args[i + 1]
    return found


# --- who runs it -------------------------------------------------------------

@dataclass(frozen=True)
class User:
    name: str
    home: str | None
    uid: str | None  # None: unknown; "0" for root


def user_before(tree: Tree, instr: Instruction) -> User:
    """The USER in effect for instr, with the home and uid found where it was created."""
    env = env_before(tree, instr)
    found = _USERS.get(tree)
    if found is None:  # one pass per tree: asked per install, a scan per call was quadratic
        found = _USERS[tree] = _user_lines(tree)
    last_user, created, at = found.get(id(instr), (None, None, 0))
    user = expand(last_user.args.split(":")[0].strip(), env, budget=budget(tree)) or "?" if last_user else "root"
    home_env = env.get("HOME")
    if user in ("root", "0"):
        return User("root", home_env or "/root", "0")
    made = created.get(user, at) if created is not None else None
    if made:
        name, home, uid = made
        return User(name or user, home_env or home, uid if uid and uid.isdigit() else None)
    return User(user, home_env, user if user.isdigit() else None)


_Made = tuple[str | None, str | None, str | None]  # (name, home, uid) a useradd/adduser gives


def _user_lines(tree: Tree) -> dict[int, tuple[Instruction | None, _Journal, int]]:
    """For each instruction: the last USER before it (through FROM <stage>), and the users the
    RUNs before it create, by name and by uid (the last RUN that creates one wins; in a RUN,
    its first command that does)."""
    spend = budget(tree)
    parents = {p.index for p in _parents(tree) if p is not None}
    out: dict[int, tuple[Instruction | None, _Journal, int]] = {}
    ends: dict[int, tuple[Instruction | None, Mapping[str, _Made]]] = {}
    for stage in stages(tree):
        up = parent(tree, stage)
        last_user, inherited = ends[up.index] if up is not None else (None, {})
        created = _Journal(inherited)
        for other in stage.instructions:
            out[id(other)] = (last_user, created, created.count)
            if other.name == "USER":
                last_user = other
            elif other.name == "RUN":
                made: dict[str, _Made] = {}
                env = env_before(tree, other)
                for part in parts(tree, other):
                    for cmd in part.script.commands:
                        found = _created(cmd, env, spend)
                        if found is not None:
                            for key in (found[0], found[2]):
                                if key is not None:
                                    made.setdefault(key, found)
                for key, found in made.items():
                    created.set(key, found)
        if stage.index in parents:
            ends[stage.index] = (last_user, created.final())
    return out


_USERS: WeakKeyDictionary[Tree, dict[int, tuple[Instruction | None, _Journal, int]]] = WeakKeyDictionary()
_ADDERS = ("useradd", "adduser")


def _created(cmd: Command, env: Mapping[str, str], spend: Budget) -> _Made | None:
    """(name, home, uid) of the user cmd creates with useradd/adduser (variables read in env)."""
    raw = cmd.argv
    if not raw or ("$" not in raw[0] and raw[0].rsplit("/", 1)[-1] not in _ADDERS):
        return None
    argv = [expand(a, env, budget=spend) or a for a in raw]
    if argv[0].rsplit("/", 1)[-1] not in _ADDERS:
        return None
    tool = argv[0].rsplit("/", 1)[-1]
    with_value = {"-d", "--home-dir", "--home", "-h", "-u", "--uid", "-g", "--gid", "-G", "--groups", "-s",
                  "--shell", "-c", "--comment", "-k", "--skel", "-e", "--expiredate", "-f", "--inactive",
                  "-K", "--key", "-p", "--password", "--ingroup", "--gecos", "-Z", "--selinux-user",
                  "-b", "--base-dir", "--firstuid", "--lastuid", "--add_extra_groups", "--conf"}
    opts: dict[str, str] = {}
    names = []
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--") and "=" in arg:
            key, _, value = arg.partition("=")
            opts[key] = value
        elif arg in with_value and i + 1 < len(argv):
            opts[arg] = argv[i + 1]
            i += 1
        elif arg.startswith("-"):
            opts[arg] = ""
        else:
            names.append(arg)
        i += 1
    name = names[0] if names else None
    uid = opts.get("-u") or opts.get("--uid")
    # A uid or home read from a variable is only today's default: a build argument can change it
    # (--build-arg USER_UID=1001), and a mount with it written out would then not be the user's.
    given = dict(zip(raw[1:], raw[2:]))
    if any("$" in given.get(flag, "") or f"{flag}=$" in " ".join(raw) for flag in ("-u", "--uid")):
        uid = None
    if any("$" in given.get(flag, "") or f"{flag}=$" in " ".join(raw) for flag in ("-d", "--home-dir", "--home", "-h")):
        return name, None, uid
    if tool == "useradd":
        home = opts.get("-d") or opts.get("--home-dir")
        base = opts.get("-b") or opts.get("--base-dir") or "/home"
        home = home or f"{base.rstrip('/')}/{name}"
    else:
        home = opts.get("--home") or opts.get("-h")
        system = "--system" in opts or "-S" in opts
        home = home or (None if system else f"/home/{name}")
    return name, home, uid


# --- cache mounts already there ------------------------------------------------

def cache_mount_targets(instr: Instruction, env: Mapping[str, str], spend: Budget | None = None) -> list[tuple[str, str]]:
    """(type, absolute target) of the RUN's mounts, variables expanded where known."""
    out = []
    for mount in mounts(instr):
        target = unquote(mount.target)
        target = expand(target, env, budget=spend) or target
        out.append((unquote(mount.type), target.rstrip("/") or "/"))
    return out


def covers(outer: str, inner: str) -> bool:
    """Whether path `outer` is `inner` or one of its parents (or children)."""
    outer, inner = outer.rstrip("/") or "/", inner.rstrip("/") or "/"
    return outer == inner or inner.startswith(outer + "/") or outer.startswith(inner + "/")


# --- edits -------------------------------------------------------------------

def remove_word(tree: Tree, instr: Instruction, part: Part, word: Word) -> Edit | None:
    """Remove a word with the blanks that set it apart; None when that would
    leave a continuation escape before an empty line (the author's layout
    cannot absorb it)."""
    start, end = part.span(instr, word)
    src = tree.source
    line = tree.lines[tree.line_at(start) - 1]
    before = start
    while before > line.start and src[before - 1] in " \t":
        before -= 1
    first_arg = part.doc is None and word.start == 0  # blanks before it belong to `RUN [flags]`
    if before > line.start and not first_arg:
        return Edit(before, end, "")
    after = end
    while after < line.content_end and src[after] in " \t":
        after += 1
    escape = instr.escape if part.doc is None else "\\"
    rest = src[after:line.content_end]
    if rest and rest != escape:
        return Edit(start, after, "")
    if rest == escape and part.doc is None:
        return Edit(line.start, line.end, "")  # the word had the continued line to itself
    if part.doc is None and word.start > 0:
        # The last line of a continued RUN: take the escape of the line before.
        logical = instr.args_start + word.start
        back = logical
        while back > instr.args_start and instr.logical[back - 1] in " \t":
            back -= 1
        cut = instr.source_offset(back - 1) + 1
        if "#" not in src[cut:start]:
            return Edit(cut, end, "")
    return None


def add_flag(tree: Tree, instr: Instruction, flag: str) -> Edit:
    """Add a flag after the RUN's flags; on its own line when the author puts arguments on one."""
    pos = instr.source_offset(instr.args_start)
    line = tree.lines[tree.line_at(pos) - 1]
    first = instr.code_lines[0]
    if line.number != first.number and not tree.source[line.start:pos].strip(" \t"):
        # Arguments open a continued line: the flag gets its own line, right
        # after the line before (so above any comment lines in between).
        indent = tree.source[line.start:pos]
        prev = max((ln for ln in instr.code_lines if ln.number < line.number), key=lambda ln: ln.number)
        body = prev.text.rstrip(" \t")
        body = body[:-1] if body.endswith(instr.escape) else body
        sep = body[len(body.rstrip(" \t")) :] or " "
        eol = prev.eol or tree.eol
        return Edit(prev.end, prev.end, f"{indent}{flag}{sep}{instr.escape}{eol}")
    return Edit(pos, pos, flag + " ")


MANAGED_ENV = ("UV_LINK_MODE", "UV_COMPILE_BYTECODE")


def ensure_env(tree: Tree, instr: Instruction, key: str, value: str) -> Edit:
    """Set key=value for instr: join a one-line ENV of settings we manage right
    above it (so both transforms share one line), else a new ENV line above it
    and its comments."""
    start = instr.leading_comments[0].start if instr.leading_comments else instr.start
    previous = None
    for node in tree.nodes:
        if node.end == start and not isinstance(node, Comment):
            previous = node
    if (isinstance(previous, Instruction) and previous.name == "ENV" and len(previous.lines) == 1
            and "=" in (previous.args.split() or [""])[0]  # an ENV with no arguments is not ours to join
            and all(k in MANAGED_ENV for k, _ in key_values(previous))):
        pos = previous.lines[0].content_end
        return Edit(pos, pos, f" {key}={value}")
    return insert_before(tree, instr, [f"{keyword_case(tree, 'ENV')} {key}={value}"])


def keyword_case(tree: Tree, keyword: str) -> str:
    """The keyword in the file's own case (most files use upper case)."""
    lower = sum(1 for i in tree.instructions if i.keyword.islower())
    return keyword.lower() if lower > len(tree.instructions) / 2 else keyword
