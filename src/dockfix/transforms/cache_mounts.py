"""cache-mounts: keep pip/uv/poetry download caches on a BuildKit cache mount.

The cache then survives between builds and never lands in the image, so the
flags that only kept it out of the image (`--no-cache-dir`, `--no-cache`)
go. uv also gets `UV_LINK_MODE=copy`: it cannot hardlink from a mount.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from dockfix.commands import invocation, program_name
from dockfix.context import Context
from dockfix.diagnostics import NOT_PYTHON, Rule
from dockfix.edits import Edit
from dockfix.engine import Fix, Note, Transform
from dockfix.expand import expand
from dockfix.facts import not_python_reason
from dockfix.model import (
    UNKNOWN_BASE_USER,
    Install,
    User,
    base_known,
    budget,
    command_env,
    env_at,
    env_before,
    installs,
    overlay,
    parent,
    parts,
    per_tree,
    posix_shell,
    user_before,
)
from dockfix.syntax import Instruction, Tree
from dockfix.transforms._installs import add_flag, cache_mount_targets, ensure_env, is_set, option_value, remove_word
from dockfix.views import Run, stages

NAME = "cache-mounts"
CACHE_ENV = {"pip": "PIP_CACHE_DIR", "uv": "UV_CACHE_DIR", "poetry": "POETRY_CACHE_DIR"}
CACHE_SUBDIR = {"pip": "pip", "uv": "uv", "poetry": "pypoetry"}

# One rule: the mount, the flags that only kept the cache out of the image, and uv's copy link mode
# (it cannot hardlink from a mount) are one change; any of them alone would be wrong or useless.
CACHE_MOUNT = Rule("DF201", NAME, "download-cache-mount", "pip/uv/poetry download caches on a BuildKit cache mount "
                   "(their --no-cache-dir dropped; uv copies from it: UV_LINK_MODE=copy)", hadolint=("DL3042",))
RULES = (CACHE_MOUNT,)


@dataclass
class Cache:
    """Where one install keeps its download cache, or why that is not known."""

    target: str | None = None
    reason: str | None = None
    defeating: list = field(default_factory=list)  # words that turn the cache off


def _defeats(inst: Install, word: str) -> bool:
    if inst.tool == "pip":
        return len(word) >= len("--no-ca") and "--no-cache-dir".startswith(word)  # optparse abbreviations
    if inst.tool == "uv":
        return word in ("--no-cache", "-n", "--no-cache-dir")
    return word == "--no-cache"


def _no_cache_env(inst: Install) -> str:
    return "PIP_NO_CACHE_DIR" if inst.tool == "pip" else "UV_NO_CACHE" if inst.tool == "uv" else "POETRY_NO_CACHE"


def _disabled_by_env(inst: Install, env: Mapping[str, str]) -> bool:
    key = _no_cache_env(inst)
    # pip treats any value of PIP_NO_CACHE_DIR, even "off" or "0", as "no cache".
    return key in env if inst.tool == "pip" else is_set(env, key)


def _cache(tree: Tree, instr: Instruction, inst: Install, user: User) -> Cache:
    if user.name == UNKNOWN_BASE_USER:
        return Cache(reason="no USER line, and the base image may run as a user of its own (dockfix knows the "
                            "default user of official images only): the cache folder and its owner are not known")
    env = command_env(tree, instr, inst)
    if not base_known(tree, instr) and not (option_value(inst.args, "--cache-dir") or env.get(CACHE_ENV[inst.tool])):
        # Its HOME, XDG_CACHE_HOME or cache variables may place the cache anywhere (jupyter: /home/jovyan).
        return Cache(reason=f"the base image's environment is not known (dockfix knows official images only): "
                            f"{CACHE_ENV[inst.tool]} or --cache-dir in the Dockerfile would say where the cache is")
    name = _no_cache_env(inst)
    if name not in inst.command.assignments and _disabled_by_env(inst, env):
        return Cache(reason=f"{name} is set for the stage: {inst.tool} keeps no cache to mount")
    words = inst.words()
    defeating = [w for w in words[1:] if _defeats(inst, w.value)]
    defeating += [w for w in inst.command.words[: len(inst.command.words) - len(words)] if w.value.startswith(name + "=")]
    if inst.tool == "poetry" and not _poetry_venv_elsewhere(tree, instr, env):
        return Cache(reason="poetry may create its virtualenv inside its cache folder: a mount there would keep it out of the image")
    explicit = option_value(inst.args, "--cache-dir") if inst.tool != "poetry" else None
    explicit = explicit or env.get(CACHE_ENV[inst.tool])
    if explicit is None and env.get("XDG_CACHE_HOME"):
        explicit = env["XDG_CACHE_HOME"].rstrip("/") + "/" + CACHE_SUBDIR[inst.tool]
    if explicit is None:
        if not user.home:
            return Cache(reason=f"the home folder of USER {user.name} is unknown")
        explicit = f"{user.home.rstrip('/')}/.cache/{CACHE_SUBDIR[inst.tool]}"
    target = expand(explicit, overlay({"HOME": user.home or "$HOME"}, env), budget=budget(tree))
    if not target or not target.startswith("/") or "$" in target:
        return Cache(reason=f"the {inst.tool} cache folder {explicit!r} is not a known absolute path")
    if user.uid is None:
        return Cache(reason=f"the uid of USER {user.name} is unknown: a cache mount would not be writable")
    return Cache(target=target.rstrip("/"), defeating=defeating)


_POETRY_SETTINGS = ("virtualenvs.create false", "virtualenvs.in-project true")


def _poetry_venv_elsewhere(tree: Tree, instr: Instruction, env: Mapping[str, str]) -> bool:
    """Poetry's default virtualenv folder is inside its cache folder."""
    if env.get("VIRTUAL_ENV") or env.get("POETRY_VIRTUALENVS_PATH"):
        return True
    if env.get("POETRY_VIRTUALENVS_CREATE", "").lower() in ("false", "0", "no"):
        return True
    if is_set(env, "POETRY_VIRTUALENVS_IN_PROJECT"):
        return True
    first = per_tree(tree, (NAME, "poetry-config"), lambda: _first_poetry_config(tree))
    return first is not None and first <= instr.start


def _first_poetry_config(tree: Tree) -> int | None:
    """Where the first RUN that configures poetry's virtualenv elsewhere starts (its
    variables read in its own environment)."""
    spend = budget(tree)
    for other in tree.instructions:
        if other.name != "RUN":
            continue
        text = " ".join(Run(other).scripts())
        if "$" in text:
            text = expand(text, env_before(tree, other), budget=spend) or text
        if any(setting in text for setting in _POETRY_SETTINGS):
            return other.start
    return None


class _Cleaners:
    """The commands of a RUN that empty or remove a cache folder (a RUN cannot remove a
    mount point): cache-cleaning commands by tool, and the paths its `rm`s remove. Each
    command is read once, whatever the number of installs asking."""

    def __init__(self, tree: Tree, instr: Instruction, home: str | None) -> None:
        self.tools: dict[str, tuple[tuple[int, int], str]] = {}  # tool -> (order, its first cleaning command)
        self.exact: dict[str, tuple[tuple[int, int], str]] = {}  # a path an `rm` removes -> (order, what)
        self.inside: dict[str, tuple[tuple[int, int], str]] = {}  # a folder whose content an `rm` removes
        self.answers: dict[tuple[str, str], str | None] = {}
        # an `rm` of a path dockfix cannot resolve (`rm -rf $(poetry config cache-dir)`): its literal
        # start, which any folder it may remove begins with
        self.unresolved: list[tuple[str, tuple[tuple[int, int], str]]] = []
        spend = budget(tree)
        order = 0
        for part in parts(tree, instr):
            for index, cmd in enumerate(part.script.commands):
                order += 1
                argv = cmd.argv
                found = invocation(cmd)
                if found is not None and found.cleans_cache:
                    self.tools.setdefault(found.manager, ((order, 0), " ".join(argv[:3])))
                if not argv or program_name(argv[0]) != "rm":
                    continue
                words = [a for a in argv[1:] if not a.startswith("-")]
                env = overlay({"HOME": home or ""}, env_at(tree, instr, part, index))  # the rm's own environment
                for position, arg in enumerate(words):
                    path = expand(arg.replace("~", "$HOME", 1) if arg.startswith("~") else arg, env, budget=spend)
                    if not path or "$" in path or "`" in path:
                        literal = re.split(r"[$`*?\[]", arg, maxsplit=1)[0]
                        self.unresolved.append((literal, ((order, position), f"rm {arg}, a path dockfix cannot resolve")))
                        continue
                    glob = path.endswith("/*")
                    path = path[:-2] if glob else path.rstrip("/")
                    entry = ((order, position), f"rm {arg}")
                    if not glob:
                        self.exact.setdefault(path, entry)
                    self.inside.setdefault(path, entry)

    def of(self, tool: str, target: str) -> str | None:
        """The first command that cleans `target` (the cache folder of `tool`), if any."""
        key = (tool, target)
        if key not in self.answers:
            found = [self.tools.get(tool), self.exact.get(target)]
            found += [self.inside.get(target[:k]) for k in range(len(target)) if target[k] == "/"]
            found += [entry for literal, entry in self.unresolved if target.startswith(literal)]
            self.answers[key] = min((f for f in found if f), default=(None, None))[1]
        return self.answers[key]


class _Mounts:
    """The mounts a RUN has: which cover a folder (as `covers` says), found by the folder's
    parents and a bisection, not by comparing with every mount."""

    def __init__(self, existing: list[tuple[str, str]]) -> None:
        self.any = {target for _, target in existing}
        self.cache = {target for kind, target in existing if kind == "cache"}
        self.sorted = sorted(self.any)

    def _parents(self, path: str) -> Iterator[str]:
        yield path
        yield from (path[:k] for k in range(1, len(path)) if path[k] == "/")

    def full(self, target: str) -> bool:
        """A cache mount at the folder or a parent of it."""
        return any(p in self.cache for p in self._parents(target.rstrip("/") or "/"))

    def same(self, target: str) -> bool:
        """Any mount at the folder, a parent or a child of it."""
        path = target.rstrip("/") or "/"
        if any(p in self.any for p in self._parents(path)):
            return True
        k = bisect_left(self.sorted, path + "/")
        return k < len(self.sorted) and self.sorted[k].startswith(path + "/")


def plan(tree: Tree, instr: Instruction) -> tuple[list[Edit], list[str], list[Note], bool]:
    """(edits, what they do, notes, whether uv's cache is on a mount) for one RUN."""
    found = installs(tree, instr)
    if not found:
        return [], [], [], False
    user = user_before(tree, instr)
    env = env_before(tree, instr)
    existing = _Mounts(cache_mount_targets(instr, env, budget(tree)))
    cleaners = _Cleaners(tree, instr, user.home)
    edits: list[Edit] = []
    done: list[str] = []
    notes: list[Note] = []
    uv_mounted = False
    added: set[str] = set()
    for inst in found:
        cache = _cache(tree, instr, inst, user)
        if cache.target is None:
            notes.append(CACHE_MOUNT.note(f"{inst.tool} cache not mounted: {cache.reason}", instr.line))
            continue
        cleaner = cleaners.of(inst.tool, cache.target)
        full = existing.full(cache.target)
        if not full and existing.same(cache.target):
            continue  # another mount (bind, tmpfs, a sub-folder) owns that place: leave it
        uv_mounted |= inst.tool == "uv" and bool(full or not cleaner)
        if cleaner:
            if not full:
                notes.append(CACHE_MOUNT.note(f"{inst.tool} cache not mounted: the RUN cleans it ({cleaner})", instr.line))
            continue
        if not full and cache.target not in added:
            uid = f",uid={user.uid}" if user.uid != "0" else ""
            edits.append(add_flag(tree, instr, f"--mount=type=cache,target={cache.target}{uid}"))
            done.append(f"mount a cache at {cache.target}")
            added.add(cache.target)
        for word in cache.defeating:
            edit = remove_word(tree, instr, inst.part, word)
            if edit is None:
                return [], [], [CACHE_MOUNT.note(f"cannot remove {word.value} cleanly from this layout", instr.line)], False
            edits.append(edit)
            done.append(f"drop {word.value}")
    return edits, done, notes, uv_mounted


def _links_by_copy(tree: Tree, instr: Instruction) -> bool:
    """Whether every uv install of the RUN already links by copy."""
    uv = [i for i in installs(tree, instr) if i.tool == "uv"]
    return all(command_env(tree, instr, i).get("UV_LINK_MODE") or option_value(i.args, "--link-mode") for i in uv)


def find(tree: Tree, context: Context) -> Iterator[Fix | Note]:
    reason = not_python_reason(tree, context)
    if reason:
        yield NOT_PYTHON.note(reason, transform=NAME)
        return
    provided: set[int] = set()  # stages given UV_LINK_MODE in this pass (their children inherit it)
    inherits: list[bool] = []  # per stage: a stage it is built FROM was given it (a flag per stage, not a walk up)
    for stage in stages(tree):
        up = parent(tree, stage)
        inherited = up is not None and (inherits[up.index] or up.index in provided)
        inherits.append(inherited)
        needs_link_mode = None
        for instr in stage.instructions:
            if instr.name != "RUN":
                continue
            if Run(instr).form == "exec":
                continue
            if not posix_shell(tree, instr):
                if any(w in instr.args for w in ("pip", "uv ", "poetry")):
                    yield CACHE_MOUNT.note("not a POSIX shell (Windows or PowerShell)", instr.line)
                continue
            edits, done, notes, uv_mounted = plan(tree, instr)
            yield from notes
            if edits:
                yield CACHE_MOUNT.fix("; ".join(done) + " (hadolint DL3042)", instr.line, edits)
            if uv_mounted and needs_link_mode is None and not _links_by_copy(tree, instr):
                needs_link_mode = instr
        if needs_link_mode is not None and not inherited:
            provided.add(stage.index)
            yield CACHE_MOUNT.fix("uv copies from the cache mount (UV_LINK_MODE=copy): it cannot hardlink across it",
                                  needs_link_mode.line, (ensure_env(tree, needs_link_mode, "UV_LINK_MODE", "copy"),))


TRANSFORM = Transform(NAME, "pip/uv/poetry download caches on a BuildKit cache mount, out of the image", find, RULES)
