"""Where each instruction of a single-stage Python Dockerfile goes in a split.

Every RUN is read as shell commands and sorted by what it does:

- "install": changes a Python environment (pip, uv, poetry, venv creation),
  possibly with build tooling around it (apt-get of build-only packages,
  cache cleanup, `cd`, `set -e`): it runs in the builder only;
- "apt": installs Debian packages and nothing else: the builder runs it as
  written, the runtime keeps its runtime packages;
- "other": anything else; it stays in the runtime in its place (and runs in
  the builder too when it comes before the last install).

A RUN that mixes an install with anything dockfix cannot place is "mixed",
and the file is left alone.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from dockfix.commands import SYSTEM_MANAGERS, invocation
from dockfix.expand import Budget, expand
from dockfix.model import budget, env_before, overlay, user_before, workdir_before
from dockfix.shell import Command, Script
from dockfix.split import pipx
from dockfix.split.debian_runtime import is_build_only
from dockfix.syntax import Instruction, Tree
from dockfix.views import Copy, Run

_PIP_TARGET_FLAGS = ("--user", "--target", "-t", "--prefix", "--root")
_CACHE_DIRS = ("/root/.cache", "~/.cache", "$HOME/.cache", "${HOME}/.cache", "/tmp", "/var/lib/apt/lists",
               "/var/cache/apt", "/var/cache/debconf")
_APT_VERBS = {"update", "install", "clean", "autoclean", "distclean", "autoremove", "purge", "remove"}


@dataclass(frozen=True)
class InstallCommand:
    tool: str  # "pip", "uv-pip", "uv-sync", "poetry", "venv", "pipx"
    command: Command
    target: str  # an environment path, "system" (the interpreter's own site-packages) or "?"
    problem: str | None = None  # why the split cannot move it
    packages: tuple[str, ...] = ()  # what pip (or pipx) installs (names as written)
    copies: tuple[str, ...] = ()  # pipx: the folders the install writes (split.pipx.folders)


@dataclass
class Step:
    instr: Instruction
    kind: str  # "install", "apt", "uv-binary", "copy", "config", "metadata", "other", "mixed"
    installs: list[InstallCommand] = field(default_factory=list)
    apt_packages: list[tuple[str, Command]] = field(default_factory=list)  # (package word, its command)
    commands: list[Command] = field(default_factory=list)
    reason: str | None = None
    into: str | None = None  # COPY/ADD: the absolute folder it copies into, when that is known
    workdir: str = "/"  # the working folder the instruction runs in ("?" when not known)
    env: Mapping[str, str] | None = None  # RUN: the ENV and ARG values it runs with (model.env_before)

    def apt_verbs(self) -> list[str]:
        """What the step asks apt to do (`update`, `install`, ...), in order."""
        return [f.verb for c in self.commands if (f := invocation(c)) is not None and f.manager == "apt"]


@dataclass
class Scope:
    """What the classifier knows at an instruction besides the model's environment, USER and
    WORKDIR (dockfix.model): the venvs made so far, poetry's settings, where pipx is."""

    venvs: dict[str, str] = field(default_factory=dict)  # path -> creator ("venv" seeds pip, "uv" does not)
    poetry: dict[str, str] = field(default_factory=dict)  # poetry settings from `poetry config`
    pipx_from: str | None = None  # "system" once a pip install put pipx into the image's Python


def resolve(text: str, env: Mapping[str, str], partial: bool = False, budget: Budget | None = None,
            escape: str | None = None) -> str | None:
    """Expand $X, ${X} and ${X:-default} from `env`; None when a variable is unknown
    (or, with `partial`, leave unknown ones as written). See dockfix.expand (the limits;
    `escape` for text as written in the Dockerfile)."""
    return expand(text, env, partial=partial, budget=budget, escape=escape)


def absolute(path: str, workdir: str) -> str:
    path = path.rstrip("/") or "/"
    return posixpath.normpath(path if path.startswith("/") else posixpath.join(workdir, path))


def shell_script(instr: Instruction) -> Script | None:
    run = Run(instr)
    if run.form != "shell":
        return None
    return run.script


def _flag_value(argv: list[str], *names: str) -> str | None:
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def _has_flag(argv: list[str], *names: str) -> bool:
    return any(a == n or a.startswith(n + "=") for a in argv for n in names)


def _bin_parent(path: str) -> str | None:
    """`/opt/venv/bin/pip` -> `/opt/venv`."""
    folder = posixpath.dirname(path)
    return posixpath.dirname(folder) if posixpath.basename(folder) == "bin" else None


class Classifier:
    """Reads the instructions of one stage of `tree`, in order (step)."""

    def __init__(self, tree: Tree) -> None:
        self.scope = Scope()
        self.budget = budget(tree)  # the expansions of one file share it (the model's)
        self.tree = tree  # the file: its environment, who runs an instruction, the folder it runs in
        self.instr: Instruction | None = None  # the instruction being read
        self.workdir = "?"  # the folder it runs in (dockfix.model's; "?" when not known)
        self.env: Mapping[str, str] = {}  # the ENV and ARG values it runs with (dockfix.model's)

    def step(self, instr: Instruction) -> Step:
        self.workdir = workdir_before(self.tree, instr) or "?"
        self.env = env_before(self.tree, instr)
        step = self._step(instr)
        step.workdir = self.workdir
        if instr.name == "RUN":
            step.env = self.env
        return step

    def _step(self, instr: Instruction) -> Step:
        self.instr = instr
        name = instr.name
        if name in ("ENV", "ARG", "WORKDIR", "USER", "SHELL", "VOLUME"):
            return Step(instr, "config")
        if name in ("CMD", "ENTRYPOINT", "LABEL", "EXPOSE", "HEALTHCHECK", "STOPSIGNAL", "MAINTAINER"):
            return Step(instr, "metadata")
        if name in ("COPY", "ADD"):
            source = Copy(instr).from_ or ""
            if "astral-sh/uv" in source:
                return Step(instr, "uv-binary")
            return Step(instr, "copy", into=self._copy_folder(Copy(instr)))
        if name == "RUN":
            return self._run(instr)
        return Step(instr, "other")

    def _copy_folder(self, copy: Copy) -> str | None:
        """The folder a COPY puts its sources in: its destination when that names a folder
        (a trailing slash, `.`, several sources, or a whole folder copied)."""
        dest = resolve(copy.destination, self.env, budget=self.budget)
        folder = dest is not None and (dest.endswith("/") or dest in (".", "..") or len(copy.sources) > 1
                                       or copy.sources in (["."], ["./"]))
        if not folder or dest is None or (not dest.startswith("/") and self.workdir == "?"):
            return None
        return absolute(dest, self.workdir)

    def _run(self, instr: Instruction) -> Step:
        script = shell_script(instr)
        text = " ".join(Run(instr).scripts()) if Run(instr).form != "exec" else " ".join(instr.exec_form or [])
        if script is None:
            if re.search(r"\b(pip3?|uv|poetry)\b[^\n;&|]*\b(install|sync)\b|-m\s+venv\b", text):
                return Step(instr, "mixed", reason="a dependency install in an exec-form or heredoc RUN")
            return Step(instr, "other")
        if not script.balanced:
            return Step(instr, "other", reason="shell text too complex")
        step = Step(instr, "other", commands=list(script.commands))
        apk_deleted, apt_purged = _words_of(script)
        activated: str | None = None
        others: list[Command] = []
        apt_seen = False
        for cmd in script.commands:
            argv = cmd.argv
            if not argv:
                continue
            if argv[0] in (".", "source") and len(argv) > 1 and argv[1].endswith("/bin/activate"):
                activated = absolute(posixpath.dirname(posixpath.dirname(argv[1])), self.workdir)
                continue
            if argv[0] == "cd" and len(argv) > 1:
                continue  # only glue: a `cd` inside an install RUN changes nothing after it
            install = self._install(cmd, argv, activated)
            if install is not None:
                step.installs.append(install)
                continue
            manager = invocation(cmd)
            if manager is not None and manager.manager == "apt":
                if manager.verb in _APT_VERBS:
                    apt_seen = True
                    if manager.verb == "install":
                        words = [w for w in cmd.words if w.value == "install"]
                        after = cmd.words[cmd.words.index(words[0]) + 1 :] if words else ()
                        step.apt_packages += [(w.value, cmd) for w in after if not w.value.startswith("-")]
                    continue
            if _glue(argv) or _apk_build_deps(cmd, apk_deleted):
                continue
            others.append(cmd)
        if step.installs:
            step.kind = "install"
            if others:
                shown = " ".join(others[0].argv)[:60]
                step.kind, step.reason = "mixed", f"RUN mixes a dependency install with other setup (`{shown}`)"
            elif apt_seen:
                kept = [p for p, _ in step.apt_packages if not is_build_only(p) and p not in apt_purged]
                if kept:
                    step.kind = "mixed"
                    step.reason = ("RUN installs system packages the runtime may need with the dependencies "
                                   f"({', '.join(kept[:4])})")
        elif apt_seen and not others and step.apt_packages:
            step.kind = "apt"
        return step

    def _install(self, cmd: Command, argv: list[str], activated: str | None) -> InstallCommand | None:
        scope = self.scope
        found = invocation(cmd)
        if found is None or found.manager in SYSTEM_MANAGERS or found.python2:
            return None  # (Python 2's pip installs where no environment of the split is: app setup)
        rest = list(found.args)
        explicit = _bin_parent(argv[0]) if "/" in argv[0] else None
        if found.manager == "venv":
            return self._venv(cmd, rest, "venv")
        if found.manager == "pip":
            verb = found.verb
            if verb not in ("install", "uninstall"):
                if verb in ("list", "show", "check", "debug", "--version", "-V") and not any(
                        ">" in w.raw for w in cmd.words):
                    return InstallCommand("glue", cmd, "")  # only prints
                return None if verb in ("config", "cache", "freeze") \
                    else InstallCommand("pip", cmd, "?", f"`pip {verb}` is not handled")
            packages = tuple(a for a in rest[rest.index(verb) + 1 :] if not a.startswith("-"))
            target = self._pip_target(explicit, argv[0], activated)
            problem = None
            if _has_flag(rest, *_PIP_TARGET_FLAGS):
                problem = "pip installs outside an environment (--user, --target, --prefix or --root)"
            elif target == "?":
                problem = f"pip at {argv[0]} is not an environment dockfix knows"
            if verb == "install" and target == "system" and problem is None and any(
                    re.split(r"[<>=!~\[ ;]", p, maxsplit=1)[0].lower() == "pipx" for p in packages):
                scope.pipx_from = "system"
            return InstallCommand("pip", cmd, target, problem, packages)
        if found.manager == "pipx":
            return self._pipx(cmd, found.verb, found.args)
        if found.manager == "uv":
            return self._uv(cmd, rest, activated)
        if found.manager == "poetry":
            verb = found.verb
            if verb == "config":
                values = [a for a in rest[rest.index("config") + 1 :] if not a.startswith("-")]
                if len(values) >= 2:
                    scope.poetry[values[0]] = values[1]
                return InstallCommand("poetry-config", cmd, "", None)
            if verb in ("install", "sync"):
                target = self._poetry_target(activated)
                problem = None if target != "?" else (
                    "poetry makes its virtualenv in its cache folder under a hashed name; set "
                    "POETRY_VIRTUALENVS_IN_PROJECT=true or POETRY_VIRTUALENVS_CREATE=false")
                return InstallCommand("poetry", cmd, target, problem)
            if verb in ("run", "export", "build", "--version", "self", "check", "lock", "show"):
                return None
            return InstallCommand("poetry", cmd, "?", f"`poetry {verb}` is not handled")
        return InstallCommand(found.program, cmd, "?", f"{found.program} is not handled by the split")

    def _pipx(self, cmd: Command, verb: str, args: tuple[str, ...]) -> InstallCommand | None:
        scope = self.scope
        env = overlay(dict(cmd.assignments), self.env)
        # the home of the user the install runs as (model.user_before: USER, useradd, ENV HOME)
        home = user_before(self.tree, self.instr).home if self.instr else env.get("HOME")
        reading = pipx.read(verb, args, env, home, scope.pipx_from)
        if reading is None:
            return None
        if reading.kind == "prints":
            return InstallCommand("glue", cmd, "")
        if reading.kind == "refuse":
            return InstallCommand("pipx", cmd, "?", reading.problem)
        return InstallCommand("pipx", cmd, pipx.TARGET, None, reading.specs, reading.copies)

    def _pip_target(self, explicit: str | None, program: str, activated: str | None) -> str:
        if "/" in program:
            if explicit is None:
                return "?"
            path = absolute(explicit, self.workdir)
            return path if path in self.scope.venvs else "?"
        if activated:
            return activated
        return self._path_venv(seeded_only=True) or "system"

    def _path_venv(self, seeded_only: bool) -> str | None:
        """The known environment whose bin folder comes first on PATH, if any."""
        path = self.env.get("PATH", "")
        for part in path.split(":"):
            parent = _bin_parent(part + "/x") if part.endswith("/bin") else None
            if parent is None:
                continue
            parent = absolute(parent, "/")
            if parent in self.scope.venvs and (not seeded_only or self.scope.venvs[parent] == "venv"):
                return parent
            if parent == self.env.get("VIRTUAL_ENV"):
                return parent
            return None  # another bin folder comes first
        return None

    def _venv(self, cmd: Command, rest: list[str], creator: str) -> InstallCommand:
        paths = [resolve(a, self.env, budget=self.budget) for a in rest if not a.startswith("-")]
        if len(paths) != 1 or not paths[0]:
            return InstallCommand("venv", cmd, "?", "a venv created at a path dockfix cannot resolve")
        path = absolute(paths[0], self.workdir)
        self.scope.venvs[path] = creator
        problem = "a venv that sees system site-packages" if "--system-site-packages" in rest else None
        return InstallCommand("venv", cmd, path, problem)

    def _uv(self, cmd: Command, rest: list[str], activated: str | None) -> InstallCommand | None:
        verbs = [a for a in rest if not a.startswith("-")]
        verb = verbs[0] if verbs else ""
        env = self.env
        if verb == "venv":
            given = resolve(verbs[1], env, budget=self.budget) if len(verbs) > 1 else ".venv"
            if not given:
                return InstallCommand("venv", cmd, "?", "a venv created at a path dockfix cannot resolve")
            path = absolute(given, self.workdir)
            self.scope.venvs[path] = "venv" if "--seed" in rest else "uv"
            return InstallCommand("venv", cmd, path, "uv venv with --python" if _has_flag(rest, "--python", "-p") else None)
        if verb == "pip" and len(verbs) > 1 and verbs[1] in ("install", "uninstall", "sync"):
            if _has_flag(rest, "--system") or env.get("UV_SYSTEM_PYTHON", "").lower() in ("1", "true"):
                return InstallCommand("uv-pip", cmd, "?", "uv pip --system installs into the system interpreter")
            if _has_flag(rest, "--python", "-p", "--target", "--prefix"):
                return InstallCommand("uv-pip", cmd, "?", "uv pip with --python, --target or --prefix")
            target = activated or env.get("VIRTUAL_ENV") or self._dot_venv()
            return InstallCommand("uv-pip", cmd, absolute(target, self.workdir) if target else "?",
                                  None if target else "uv pip without a known environment")
        if verb == "sync":
            if _has_flag(rest, "--project", "--directory", "--python", "-p", "--script"):
                return InstallCommand("uv-sync", cmd, "?", "uv sync with --project, --directory, --python or --script")
            if "--active" in rest:
                target = env.get("VIRTUAL_ENV") or activated
            else:
                target = env.get("UV_PROJECT_ENVIRONMENT") or ".venv"
            if not target:
                return InstallCommand("uv-sync", cmd, "?", "uv sync --active without an active environment")
            path = absolute(target, self.workdir)
            self.scope.venvs.setdefault(path, "uv")
            return InstallCommand("uv-sync", cmd, path)
        if verb == "cache" or verb == "--version":
            return InstallCommand("glue", cmd, "")
        if verb in ("run", "lock", "export", "tree"):
            return None
        return InstallCommand("uv", cmd, "?", f"`uv {verb}` is not handled by the split")

    def _dot_venv(self) -> str | None:
        here = absolute(".venv", self.workdir)
        return here if here in self.scope.venvs else None

    def _poetry_target(self, activated: str | None) -> str:
        env, config = self.env, self.scope.poetry
        create = (env.get("POETRY_VIRTUALENVS_CREATE") or config.get("virtualenvs.create") or "true").lower()
        in_project = (env.get("POETRY_VIRTUALENVS_IN_PROJECT") or config.get("virtualenvs.in-project") or "").lower()
        if activated or env.get("VIRTUAL_ENV"):
            return activated or env["VIRTUAL_ENV"]
        if create in ("false", "0"):
            return self._path_venv(seeded_only=False) or "system"
        if in_project in ("true", "1"):
            return absolute(".venv", self.workdir)
        return "?"


def _glue(argv: list[str]) -> bool:
    """Commands an install RUN may carry without making it app setup."""
    if argv[0] in ("set", "export", "true", ":", "cd"):
        return True
    if argv[0] == "rm":
        # Caches (pip's, poetry's `$(poetry config cache-dir)`, apt lists) and stale bytecode.
        paths = [a for a in argv[1:] if not a.startswith("-")]
        return bool(paths) and all(any(p.startswith(c) for c in _CACHE_DIRS) or "cache" in p.lower()
                                   for p in paths)
    if argv[0] == "find" and argv[-1:] == ["-delete"] and any(a in ("*.pyc", "*.pyo") for a in argv):
        return True
    return False


def _apk_build_deps(cmd: Command, deleted: set[str]) -> bool:
    """`apk add --virtual NAME ...` whose NAME the same RUN deletes (`deleted`: the words of
    its `apk del` commands), and that `apk del`."""
    argv = cmd.argv
    if len(argv) < 3 or _manager(cmd) != "apk":
        return False
    if argv[1] == "add":
        name = _flag_value(argv, "--virtual", "-t")
        return bool(name) and name in deleted
    return "del" in argv[1:3]


def _manager(cmd: Command) -> str | None:
    found = invocation(cmd)
    return found.manager if found else None


def _words_of(script: Script) -> tuple[set[str], set[str]]:
    """The words of the script's `apk ... del ...` commands, and of its `apt-get|apt ...
    purge|remove ...` ones: collected once (a scan of every command for each `apk add` or
    each package was quadratic)."""
    apk_del: set[str] = set()
    apt_purge: set[str] = set()
    for cmd in script.commands:
        argv = cmd.argv
        manager = _manager(cmd)
        if manager == "apk" and "del" in argv:
            apk_del.update(argv)
        elif manager == "apt" and ("purge" in argv or "remove" in argv):
            apt_purge.update(argv)
    return apk_del, apt_purge
