"""The semantic model of one parse: what a Dockerfile's instructions mean, computed once.

Transforms, the split and the checklist ask the same questions of every RUN, in every
round: which stage is this, what does it build FROM, which shell texts does the RUN run,
which package managers do they call, what are ENV/ARG/USER at this point. The answers are
computed once per tree and kept with it (`Model.of(tree)`, in `Tree.derived`): a tree is
never edited in place (an edit makes a new tree and a new model), so they stay true, and
they go when the tree goes. Nothing is kept in module globals.

- stages and their parents (`FROM <stage>`), the stage of each instruction;
- which instructions run a POSIX shell (not a Windows stage, not after a PowerShell SHELL);
- for each RUN its shell texts (`Part`: its line, and the here-documents that run as shell,
  per views.heredoc_roles) and the package-manager commands in them (dockfix.commands);
- the environment (ENV, ARG, `export`, inline `K=V`), the USER and the WORKDIR at each instruction.
"""

from __future__ import annotations

import posixpath
import re
import weakref
from bisect import bisect_right
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from dockfix.commands import Invocation, invocation
from dockfix.expand import Budget, expand
from dockfix.lazy import cached_property
from dockfix.shell import Command, Script, Word, parse_script
from dockfix.syntax import Heredoc, Instruction, Tree, unquote
from dockfix.views import Run, Stage, heredoc_roles, key_values, stages

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WINDOWS = re.compile(r"windows|nanoserver|servercore", re.I)
T = TypeVar("T")
_MISSING: Any = object()  # Model.memo: a key not computed yet (a value may be None)


@dataclass(frozen=True)
class Part:
    """One shell text of a RUN: its line (doc None) or a heredoc body the shell runs."""

    script: Script
    doc: Heredoc | None

    def span(self, instr: Instruction, word: Word) -> tuple[int, int]:
        """Source offsets of a word."""
        if self.doc is None:
            return instr.source_offset(instr.args_start + word.start), instr.source_offset(instr.args_start + word.end - 1) + 1
        return self.doc.body_start + word.start, self.doc.body_start + word.end


@dataclass(frozen=True)
class Called:
    """A package-manager command of a RUN: what it runs (dockfix.commands), where it is."""

    invocation: Invocation
    command: Command
    part: Part
    index: int  # position of the command in its part (for `export` lines before it)


@dataclass(frozen=True)
class Install:
    """A command that installs into a Python environment (Invocation.python_install)."""

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
    return bool(eq) and bool(_NAME.fullmatch(name))


def classify(cmd: Command) -> tuple[str, str] | None:
    """(tool, verb) of a command that installs into a Python environment (see Install)."""
    found = invocation(cmd)
    return found.python_install if found else None


class Model:
    """The meaning of one tree, computed on first use (see the module's docstring)."""

    def __init__(self, tree: Tree) -> None:
        # The tree holds its model (Tree.derived): the model holds the tree weakly, so a tree
        # and its model go by reference counting when the engine drops them, not at the next
        # run of the cycle collector (over a batch of files, a growing heap of dead trees).
        self._tree = weakref.ref(tree)
        self.budget = Budget()  # what the variable expansions of the file may still cost
        self._memo: dict[Any, Any] = {}
        self._parts: dict[int, tuple[Part, ...]] = {}
        self._called: dict[int, tuple[Called, ...]] = {}
        self._installs: dict[int, tuple[Install, ...]] = {}

    @property
    def tree(self) -> Tree:
        found = self._tree()
        assert found is not None, "a model outlived its tree"
        return found

    @classmethod
    def of(cls, tree: Tree) -> Model:
        """The tree's model (made on first use, kept with the tree)."""
        # (no typing.cast: a function call, and this runs hundreds of times a file)
        found: Model | None = tree.derived.get(cls)
        if found is None:
            found = tree.derived[cls] = cls(tree)
        return found

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """compute(), once per tree and key: a transform's own question of the whole file."""
        found: T = self._memo.get(key, _MISSING)
        if found is _MISSING:
            found = self._memo[key] = compute()
        return found

    # The model's own whole-file passes, asked per RUN or install by several transforms: cached
    # properties rather than memo keys, so that a question is one attribute read (no closure
    # made and no key looked up per call).
    @cached_property
    def env_snapshots(self) -> dict[int, Env]:
        """The environment before each instruction (see _env_snapshots)."""
        return self._env_pass[0]

    @cached_property
    def env_ends(self) -> list[Env]:
        """Per stage, the environment at its end (after its last ENV and ARG)."""
        return self._env_pass[1]

    @cached_property
    def _env_pass(self) -> tuple[dict[int, Env], list[Env]]:
        return _env_snapshots(self.tree)

    @cached_property
    def user_lines(self) -> dict[int, tuple[Instruction | None, _Journal, int]]:
        """The USER and the users created before each instruction (see _user_lines)."""
        return _user_lines(self.tree)

    @cached_property
    def folders(self) -> dict[int, Folder]:
        """The working folder before each instruction (see _folders)."""
        return self._folder_pass[0]

    @cached_property
    def folder_ends(self) -> list[Folder]:
        """Per stage, the working folder at its end (the image's WORKDIR)."""
        return self._folder_pass[1]

    @cached_property
    def _folder_pass(self) -> tuple[dict[int, Folder], list[Folder]]:
        return _folders(self.tree)

    @cached_property
    def under_unknown_base(self) -> set[int]:
        """The instructions of stages whose chain starts FROM an image not known to run as root."""
        return _under_unknown_base(self.tree)

    @cached_property
    def stages(self) -> tuple[Stage, ...]:
        return tuple(stages(self.tree))

    @cached_property
    def stage_of(self) -> dict[int, Stage]:
        """id(instruction) -> its stage."""
        return {id(i): s for s in self.stages for i in s.instructions}

    @cached_property
    def parents(self) -> list[Stage | None]:
        """For each stage, the earlier stage `FROM <name>` builds on (the last of that name)."""
        by_name: dict[str, Stage] = {}
        out: list[Stage | None] = []
        for stage in self.stages:
            out.append(by_name.get(stage.base.lower()))
            if stage.name:
                by_name[stage.name.lower()] = stage
        return out

    @cached_property
    def not_posix(self) -> frozenset[int]:
        """The instructions (ids) that run in a Windows stage or after a SHELL that is not POSIX."""
        out: set[int] = set()
        whole: list[bool] = []  # per stage: all of it (a Windows base, or a parent stage that is not POSIX)
        shell_at: set[int] = set()  # stages with a SHELL that is not POSIX
        for stage in self.stages:
            up = self.parents[stage.index]
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

    def parts(self, instr: Instruction) -> tuple[Part, ...]:
        """The shell texts a RUN executes: its line, and each here-document that runs as shell
        (views.heredoc_roles); () for exec form or a shell that is not POSIX."""
        found = self._parts.get(id(instr))
        if found is None:
            found = self._parts[id(instr)] = tuple(self._read_parts(instr))
        return found

    def _read_parts(self, instr: Instruction) -> Iterator[Part]:
        if id(instr) in self.not_posix:
            return
        # The line's Part depends on the instruction's text only: kept on the instruction (a
        # re-parse copies an unchanged one with it), made once per file rather than per tree.
        line: Part | None = instr.__dict__.get("line-part")
        if line is None:
            run = Run(instr)
            if run.form == "exec":
                return
            line = instr.__dict__["line-part"] = Part(run.script, None)
        yield line
        for role in heredoc_roles(instr):
            if role.runs_shell:
                yield Part(parse_script(role.heredoc.body, instr.memo), role.heredoc)

    def _line_only(self, instr: Instruction) -> bool:
        """The RUN's shell text is its line alone (the Part kept on the instruction): what is read
        from it depends on its text only, so it is kept on the instruction too, as the Part is (a
        re-parse copies an unchanged one), made once per file rather than per tree."""
        found = self.parts(instr)
        return len(found) == 1 and found[0].doc is None

    def called(self, instr: Instruction) -> tuple[Called, ...]:
        """The package-manager commands of a RUN's shell texts, in order."""
        found = self._called.get(id(instr))
        if found is None:
            if self._line_only(instr):
                found = instr.__dict__.get("line-called")
                if found is None:
                    found = instr.__dict__["line-called"] = self._read_called(instr)
            else:
                found = self._read_called(instr)
            self._called[id(instr)] = found
        return found

    def _read_called(self, instr: Instruction) -> tuple[Called, ...]:
        return tuple(Called(inv, cmd, part, index) for part in self.parts(instr)
                     for index, cmd in enumerate(part.script.commands) if (inv := invocation(cmd)) is not None)

    def installs(self, instr: Instruction) -> tuple[Install, ...]:
        """The commands of a RUN that install into a Python environment."""
        found = self._installs.get(id(instr))
        if found is None:
            if self._line_only(instr):  # (kept on the instruction: see _line_only)
                found = instr.__dict__.get("line-installs")
                if found is None:
                    found = instr.__dict__["line-installs"] = self._read_installs(instr)
            else:
                found = self._read_installs(instr)
            self._installs[id(instr)] = found
        return found

    def _read_installs(self, instr: Instruction) -> tuple[Install, ...]:
        return tuple(Install(*kind, c.command, c.part, c.index) for c in self.called(instr)
                     if (kind := c.invocation.python_install) is not None)


def per_tree(tree: Tree, key: Any, compute: Callable[[], T]) -> T:
    """compute(), once per tree and key (Model.memo)."""
    return Model.of(tree).memo(key, compute)


def budget(tree: Tree) -> Budget:
    """What the variable expansions of one file may still cost (see dockfix.expand)."""
    return Model.of(tree).budget


def posix_shell(tree: Tree, instr: Instruction) -> bool:
    """False for a Windows stage or a SHELL that is not a POSIX shell (PowerShell, cmd)."""
    return id(instr) not in Model.of(tree).not_posix


def parts(tree: Tree, instr: Instruction) -> list[Part]:
    """The shell texts a RUN executes (Model.parts)."""
    return list(Model.of(tree).parts(instr))


def installs(tree: Tree, instr: Instruction) -> list[Install]:
    """The commands of a RUN that install into a Python environment (Model.installs)."""
    return list(Model.of(tree).installs(instr))


def called(tree: Tree, instr: Instruction) -> tuple[Called, ...]:
    """The package-manager commands of a RUN (Model.called)."""
    return Model.of(tree).called(instr)


# --- stages -------------------------------------------------------------------

def stage_of(tree: Tree, instr: Instruction) -> Stage | None:
    return Model.of(tree).stage_of.get(id(instr))


def parent(tree: Tree, stage: Stage) -> Stage | None:
    """The earlier stage `FROM <name>` builds on (the last one of that name); None for an image."""
    return Model.of(tree).parents[stage.index]


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
    # one pass per tree: asked per install, a scan per call was quadratic
    return Model.of(tree).env_snapshots.get(id(instr), _NO_ENV)


def env_at_end(tree: Tree, stage: Stage) -> Mapping[str, str]:
    """ENV (inherited through FROM <stage>) and the stage's ARG defaults after its last instruction."""
    return Model.of(tree).env_ends[stage.index]


def _env_snapshots(tree: Tree) -> tuple[dict[int, Env], list[Env]]:
    """The environment before each instruction of each stage (instructions between two
    ENV/ARG share one snapshot), and each stage's at its end. As BuildKit's dispatcher keeps it:
    one environment that ENV and ARG both set, the later winning (an ARG after an ENV of the
    same name overrides it for the build, as an ENV after an ARG does), an ARG without a value
    taking the global ARG's default, a stage starting with the ENV its parent stage's image
    keeps (its ENV values as they were expanded, not its ARGs). A value is expanded with the
    variables known before it; a variable of no known value (the base image's PATH) stays as
    written in it (`ENV PATH=$VENV/bin:$PATH` holds `/opt/venv/bin:$PATH`)."""
    spend = budget(tree)
    globals_ = _global_args(tree)
    model = Model.of(tree)
    parents = {p.index for p in model.parents if p is not None}
    images: dict[int, Mapping[str, str]] = {}  # a parent stage -> the ENV its image keeps
    out: dict[int, Env] = {}
    ends: list[Env] = []
    for stage in model.stages:
        up = model.parents[stage.index]
        inherited = images[up.index] if up is not None else {}
        env = _Journal(inherited)
        image: dict[str, str] | None = {} if stage.index in parents else None  # what ENV sets here
        snapshot = Env((env, 0))
        for other in stage.instructions:
            out[id(other)] = snapshot
            if other.name not in ("ENV", "ARG"):
                continue
            for key, value in key_values(other):
                if value is None and other.name == "ARG":
                    value = globals_.get(key)
                if value is not None:
                    value = expand(value, Env((env, env.count)), partial=True, budget=spend) or value
                    env.set(key, value)
                    if image is not None and other.name == "ENV":
                        image[key] = value
            snapshot = Env((env, env.count))
        ends.append(snapshot)
        if image is not None:
            images[stage.index] = {**inherited, **image} if image else inherited
    return out, ends


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


# --- where it runs ------------------------------------------------------------

UNKNOWN_FOLDER = "/<workdir of the base image>"  # Folder.path's root when the base's WORKDIR is not known

# Images whose WORKDIR is "/", by their own recipes: Docker Official Images whose Dockerfiles set
# no WORKDIR (not golang's /go, php's /var/www/html, ...), scratch, and uv's images with a
# distribution in the tag (FROM python/debian/alpine, with uv copied in: astral-sh/uv's
# build-docker.yml). uv's bare image (`ghcr.io/astral-sh/uv:0.5`) works in /io.
_ROOT_FOLDER_IMAGES = re.compile(
    r"scratch|(docker\.io/)?(library/)?(python|debian|ubuntu|alpine|buildpack-deps|busybox)([:@].*)?"
    r"|ghcr\.io/astral-sh/uv:[^@]*-[^@]*(@.*)?")
_UV_BARE = re.compile(r"ghcr\.io/astral-sh/uv(:[^@-]*)?(@.*)?")


@dataclass(frozen=True)
class Folder:
    """The working folder at an instruction, normalised. When it is not `known`, `path` is
    symbolic: under UNKNOWN_FOLDER (a base that may set a WORKDIR of its own) or naming a
    variable of no known value as written (`/$APP`), so that two paths read against the same
    unknown folder still compare right."""

    path: str
    known: bool


def folder_before(tree: Tree, instr: Instruction) -> Folder:
    """The working folder instr runs in (symbolic when not known: see Folder)."""
    return Model.of(tree).folders.get(id(instr), _UNKNOWN)


def folder_at_end(tree: Tree, stage: Stage) -> Folder:
    """The working folder a stage's image keeps (its WORKDIR; symbolic when not known)."""
    return Model.of(tree).folder_ends[stage.index]


def workdir_before(tree: Tree, instr: Instruction) -> str | None:
    """The absolute working folder instr runs in; None when it is not known (a base image whose
    WORKDIR dockfix does not know, a variable of no known value)."""
    found = folder_before(tree, instr)
    return found.path if found.known else None


_UNKNOWN = Folder(UNKNOWN_FOLDER, False)


def _base_folder(tree: Tree, stage: Stage, globals_: Mapping[str, str]) -> Folder:
    """The WORKDIR of the image a stage is FROM, when its recipe is known (its name read with
    the global ARGs' defaults)."""
    base = stage.base
    if "$" in base:
        base = expand(base, globals_, budget=budget(tree)) or base
    base = base.lower()
    if _ROOT_FOLDER_IMAGES.fullmatch(base):
        return Folder("/", True)
    if _UV_BARE.fullmatch(base):
        return Folder("/io", True)
    return _UNKNOWN


def _folders(tree: Tree) -> tuple[dict[int, Folder], list[Folder]]:
    """The working folder before each instruction, and each stage's at its end, as BuildKit sets
    it: from the base image's (or the parent stage's at its end), each WORKDIR joined to the one
    before, its variables expanded with the ENV and ARG values before it."""
    out: dict[int, Folder] = {}
    ends: list[Folder] = []  # per stage, its folder at its end
    globals_: dict[str, str] | None = None  # the global ARGs' defaults, read once a base names a variable
    model = Model.of(tree)
    for stage in model.stages:
        up = model.parents[stage.index]
        if up is None and globals_ is None and "$" in stage.base:
            globals_ = _global_args(tree)
        current = ends[up.index] if up is not None else _base_folder(tree, stage, globals_ or {})
        for instr in stage.instructions:
            out[id(instr)] = current
            if instr.name == "WORKDIR":
                current = _workdir(tree, instr, current)
        ends.append(current)
    return out, ends


def _workdir(tree: Tree, instr: Instruction, before: Folder) -> Folder:
    """The folder after a WORKDIR: its path with the variables BuildKit substitutes there (a
    variable of no known value kept as written, a folder of its own), relative to `before`."""
    path = instr.args.strip()
    known = True
    if "$" in path:
        env, spend = env_before(tree, instr), budget(tree)
        found = expand(path, env, escape=instr.escape, budget=spend)
        # (an ENV value that read a variable of no known value holds it as written: still unknown)
        known = found is not None and "$" not in found
        path = found if found is not None else expand(path, env, partial=True, escape=instr.escape,
                                                      budget=spend) or path
    path = path.strip("'\"")
    if path.startswith("$"):
        path = "/" + path
    if not path.startswith("/"):
        known = known and before.known
        path = posixpath.join(before.path, path)
    return Folder(posixpath.normpath(path), known)


# --- who runs it -------------------------------------------------------------

@dataclass(frozen=True)
class User:
    name: str
    home: str | None
    uid: str | None  # None: unknown; "0" for root


# Images whose default user is root, by their own recipes: Docker Official Images (docker-library's
# Dockerfiles set no USER) and uv's images. Any other base may set a USER of its own (jupyter's
# jovyan, a vendor's app user), so with no USER line the user is not known.
_ROOT_IMAGES = re.compile(
    r"(docker\.io/)?(library/)?(python|pypy|debian|ubuntu|alpine|buildpack-deps|fedora|centos|rockylinux|almalinux"
    r"|amazonlinux|oraclelinux|busybox|node|golang|rust|ruby|php|perl|eclipse-temurin|openjdk|amazoncorretto"
    r"|ghcr\.io/astral-sh/uv)([:@].*)?")
UNKNOWN_BASE_USER = "?base"  # User.name when no USER line says and the base image's own user is not known


def _base_runs_as_root(tree: Tree, stage: Stage) -> bool:
    """The image a stage chain starts FROM runs as root (its name read with the global ARGs' defaults)."""
    # A tag dockfix cannot expand still names the image: python:${PYTHON_VER}-slim is python.
    base = (expand(stage.base, _global_args(tree), budget=budget(tree)) or stage.base).lower()
    return base == "scratch" or bool(_ROOT_IMAGES.fullmatch(base))


def base_known(tree: Tree, instr: Instruction) -> bool:
    """The image instr's stage chain starts FROM is one whose user and environment dockfix knows."""
    return id(instr) not in Model.of(tree).under_unknown_base


def user_before(tree: Tree, instr: Instruction) -> User:
    """The USER in effect for instr, with the home and uid found where it was created."""
    env = env_before(tree, instr)
    # one pass per tree: asked per install, a scan per call was quadratic
    found = Model.of(tree).user_lines
    last_user, created, at = found.get(id(instr), (None, None, 0))
    unknown_base = not base_known(tree, instr)
    if last_user is None and unknown_base:
        return User(UNKNOWN_BASE_USER, None, None)
    written = last_user.args.split(":")[0].strip() if last_user else "root"
    user = expand(written, env, budget=budget(tree)) or "?" if last_user else "root"
    home_env = env.get("HOME")
    if user in ("root", "0"):  # a base of unknown recipe may set HOME (jupyter's is /home/jovyan, even for root)
        return User("root", home_env or (None if unknown_base else "/root"), "0")
    made = created.get(user, at) if created is not None else None
    if made:
        name, home, uid, ref = made
        if ref is not None:  # given through a variable: the mount names it too, if it still holds that value
            return User(name or user, home_env or home, ref if uid and env.get(ref[2:-1]) == uid else None)
        return User(name or user, home_env or home, uid if uid and uid.isdigit() else None)
    ref = reference(written)
    if ref is not None and user.isdigit():
        return User(user, home_env, ref)  # USER ${UID}: BuildKit expands it in the mount as in USER
    return User(user, home_env, user if user.isdigit() and "$" not in written else None)


_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def reference(word: str) -> str | None:
    """`${NAME}` when the word is one variable and nothing else (`$NAME`, `"${NAME}"`), else None."""
    found = _VARIABLE.fullmatch(unquote(word))
    return f"${{{found[1] or found[2]}}}" if found else None


def _under_unknown_base(tree: Tree) -> set[int]:
    """The instructions (ids) of stages whose chain starts FROM an image not known to run as root."""
    out: set[int] = set()
    known: list[bool] = []  # per stage, its chain's verdict (a walk down each chain was quadratic)
    for stage in Model.of(tree).stages:
        up = parent(tree, stage)
        known.append(known[up.index] if up is not None else _base_runs_as_root(tree, stage))
        if not known[-1]:
            out.update(id(i) for i in stage.instructions)
    return out


# (name, home, uid, uid_ref) a useradd/adduser gives: uid_ref is the `${NAME}` the uid was given
# through (BuildKit expands build ARGs and ENV in a mount's uid=, which the lab checks), uid its value.
_Made = tuple[str | None, str | None, str | None, str | None]


def _user_lines(tree: Tree) -> dict[int, tuple[Instruction | None, _Journal, int]]:
    """For each instruction: the last USER before it (through FROM <stage>), and the users the
    RUNs before it create, by name and by uid (the last RUN that creates one wins; in a RUN,
    its first command that does)."""
    spend = budget(tree)
    model = Model.of(tree)
    parents = {p.index for p in model.parents if p is not None}
    out: dict[int, tuple[Instruction | None, _Journal, int]] = {}
    ends: dict[int, tuple[Instruction | None, Mapping[str, _Made]]] = {}
    for stage in model.stages:
        up = parent(tree, stage)
        last_user, inherited = ends[up.index] if up is not None else (None, {})
        created = _Journal(inherited)
        for other in stage.instructions:
            out[id(other)] = (last_user, created, created.count)
            if other.name == "USER":
                last_user = other
            elif other.name == "RUN":
                made: dict[str, _Made] = {}
                for part in model.parts(other):
                    own: set[str] | None = None
                    for cmd in _adders(part):
                        found = _created(cmd, env_before(tree, other), spend)
                        if found is not None and found[3] is not None:
                            # a variable the script sets itself is not the one BuildKit expands in a mount
                            own = _own_variables(part.script) if own is None else own
                            if found[3][2:-1] in own:
                                found = (found[0], found[1], None, None)
                        if found is not None:
                            for key in (found[0], found[2]):
                                if key is not None:
                                    made.setdefault(key, found)
                for key, found in made.items():
                    created.set(key, found)
        if stage.index in parents:
            ends[stage.index] = (last_user, created.final())
    return out


_ADDERS = ("useradd", "adduser")


def _may_create(argv: list[str]) -> bool:
    """Whether a command may be useradd or adduser (its program named, or given through a variable)."""
    return bool(argv) and ("$" in argv[0] or argv[0].rsplit("/", 1)[-1] in _ADDERS)


def _adders(part: Part) -> tuple[Command, ...]:
    """The commands of a shell text that may be useradd or adduser (_may_create), kept on the Part:
    a RUN's line Part is kept on its instruction, so its commands are looked at once per file, not
    per tree (most RUNs have none)."""
    found: tuple[Command, ...] | None = part.__dict__.get("adders")
    if found is None:
        found = part.__dict__["adders"] = tuple(c for c in part.script.commands if _may_create(c.argv))
    return found


def _own_variables(script: Script) -> set[str]:
    """The variables a shell text sets itself (inline assignments, `export`)."""
    own = {k for cmd in script.commands for k in cmd.assignments}
    own |= {w.split("=", 1)[0] for cmd in script.commands if cmd.argv[:1] == ["export"] for w in cmd.argv[1:]}
    return own


def _created(cmd: Command, env: Mapping[str, str], spend: Budget) -> _Made | None:
    """(name, home, uid) of the user cmd creates with useradd/adduser (variables read in env)."""
    raw = cmd.argv
    if not _may_create(raw):
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
            names.append((arg, raw[i]))
        i += 1
    name = names[0][0] if names else None
    # a home made from a name given through a variable (useradd -m $USERNAME) is that variable's
    # default only: --build-arg USERNAME=bob moves it
    named_by_variable = bool(names) and "$" in names[0][1]
    uid = opts.get("-u") or opts.get("--uid")
    # A uid or home read from a variable is only today's default: a build argument can change it
    # (--build-arg USER_UID=1001), and a mount with it written out would then not be the user's.
    # A uid that is one variable is kept as that variable (the mount names it too); else unknown.
    given = dict(zip(raw[1:], raw[2:]))
    written = given.get("-u") or given.get("--uid") or next((a[6:] for a in raw if a.startswith("--uid=")), "")
    ref = None
    if "$" in written:
        ref = reference(written)
        if ref is None or not (uid or "").isdigit():
            uid, ref = None, None
    if any("$" in given.get(flag, "") or f"{flag}=$" in " ".join(raw)
           for flag in ("-d", "--home-dir", "--home", "-h", "-b", "--base-dir")):
        return name, None, uid, ref
    if tool == "useradd":
        home = opts.get("-d") or opts.get("--home-dir")
        base = opts.get("-b") or opts.get("--base-dir") or "/home"
        home = home or (None if named_by_variable else f"{base.rstrip('/')}/{name}")
    else:
        home = opts.get("--home") or opts.get("-h")
        system = "--system" in opts or "-S" in opts
        home = home or (None if system or named_by_variable else f"/home/{name}")
    return name, home, uid, ref


