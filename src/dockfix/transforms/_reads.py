"""What each command of a RUN reads and writes, for lockfile-first.

A command is one of: DEPS (installs dependencies from manifests only), SPLIT
(installs dependencies and the project: `uv sync`, `poetry install`),
NOTHING (reads nothing from the code: apt-get, useradd, settings) or CODE
(reads the code, or may). Local paths it reads or writes are kept apart:
whether they touch the code depends on where the code copy puts it.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from dockfix.commands import SYSTEM_MANAGERS, invocation, program_name
from dockfix.manifests import is_local_path
from dockfix.model import Part, parts, per_tree
from dockfix.shell import Command
from dockfix.syntax import Instruction, Tree

DEPS, NOTHING, SPLIT, CODE = "deps", "nothing", "split", "code"
# Programs that read nothing from the build's working folder (safe to run before the code is there).
# (System package managers, dockfix.commands.SYSTEM_MANAGERS, read none either.)
INERT_PROGRAMS = frozenset({"useradd", "adduser", "groupadd", "addgroup", "mkdir", "echo", "true", "set", "export",
                            "rm"})
_PIP_VALUE = {"-i", "--index-url", "--extra-index-url", "--index", "--default-index", "--trusted-host", "--timeout",
              "--retries", "--log", "--cache-dir", "--src", "--upgrade-strategy", "--only-binary", "--no-binary",
              "--platform", "--python-version", "--implementation", "--abi", "--progress-bar", "--python", "-p",
              "--python-platform", "--index-strategy", "--keyring-provider", "--resolution", "--prerelease",
              "--exclude-newer", "--link-mode", "--reinstall-package", "--upgrade-package", "-P", "--extra",
              "--no-build-package", "--torch-backend", "--config-settings", "-C", "--proxy", "--cert",
              "--client-cert", "--root-user-action", "--report", "--python-executable"}
_PIP_WRITES_HERE = {"-t", "--target", "--prefix", "--root"}


@dataclass
class Step:
    """What one command of the install RUN reads."""

    kind: str  # DEPS, NOTHING, SPLIT or CODE
    command: Command
    part: Part
    reads: list[tuple[str, bool]] = field(default_factory=list)  # (path in the image, required)
    requirement_files: list[str] = field(default_factory=list)  # read with pip's -r/-c rules
    suffix: str = ""  # for SPLIT: the flag that makes it install dependencies only
    project: tuple[str, str] | None = None  # (tool, folder in the image) whose pyproject must be checked
    why: str | None = None  # for CODE: what it reads from the code
    # (image path, why, the project itself): reads the code if under the copy
    local: list[tuple[str, str, bool]] = field(default_factory=list)
    venv: bool = False  # creates a virtualenv (a .venv in the code copy could land on it)
    itself: bool = False  # for CODE: it installs the project itself (a local path such as `.`)
    project_arg: str = ""  # pip: the operand that names a local project (`.`), as in argv
    twin: str = ""  # for a SPLIT pip install of a project: its dependencies-only command, as text
    deps: tuple[str, ...] = ()  # ... and the requirement strings that command installs


def resolve(base: str, path: str) -> str:
    """An image path from a folder and a path relative to it (a variable is kept as a folder)."""
    path = path.strip("'\"")
    if path.startswith("$"):
        path = "/" + path
    return posixpath.normpath(posixpath.join(base, path))


def command_steps(tree: Tree, instr: Instruction, workdir: str) -> list[Step]:
    """Every command of a RUN (its line and heredoc scripts), in order."""
    # Remembered per tree: lockfile-first asks again for every earlier RUN of each install.
    return list(per_tree(tree, ("steps", id(instr), workdir), lambda: tuple(
        _step(cmd, part, workdir) for part in parts(tree, instr) for cmd in part.script.commands)))


def _step(cmd: Command, part: Part, workdir: str) -> Step:
    argv = cmd.argv
    program = program_name(argv[0]) if argv else ""
    found = invocation(cmd)
    kind = found.python_install if found else None
    if kind and kind[0] == "pip" or kind == ("uv", "install") or kind == ("uv", "pip-sync"):
        return _pip_step(cmd, part, workdir, sync=kind == ("uv", "pip-sync"))
    if kind == ("uv", "sync"):
        return _project_step(cmd, part, workdir, "uv", ("uv.lock", ".python-version", "uv.toml"),
                             "--no-install-project", ("--no-install-project",), ("--project", "--directory"))
    if kind and kind[0] == "poetry":
        if "--only-root" in argv:
            return Step(CODE, cmd, part, why="`poetry install --only-root` installs the project only")
        return _project_step(cmd, part, workdir, "poetry", ("poetry.lock", "poetry.toml"), "--no-root",
                             ("--no-root",), ("-C", "--directory", "-P", "--project"))
    if found and found.manager == "pipenv" and any(v in argv[1:] for v in ("install", "sync")):
        if any(is_local_path(a) or a in ("-e", "--editable") for a in argv[2:] if not a.startswith("--")):
            return Step(CODE, cmd, part, why="pipenv installs a local path")
        return Step(DEPS, cmd, part, reads=[(resolve(workdir, "Pipfile"), True), (resolve(workdir, "Pipfile.lock"), False),
                                            (resolve(workdir, ".env"), False)], project=("pipenv", workdir))
    if not argv or program in INERT_PROGRAMS or found and found.manager in SYSTEM_MANAGERS or is_setting(argv):
        return Step(NOTHING, cmd, part, local=_writes(argv, workdir))
    if found and found.creates_venv:
        return Step(NOTHING, cmd, part, venv=True)
    return Step(CODE, cmd, part, why=f"`{program}` may read the code")


def is_setting(argv: list[str]) -> bool:
    """A setting that reads no code and is safe to repeat in the dependencies-only twin:
    `set -e`, `export NAME=value`, `poetry config NAME VALUE` (not `--local`: it writes
    poetry.toml into the project folder, which the code copy may replace)."""
    if not argv:
        return True  # NAME=value only
    program = argv[0].rsplit("/", 1)[-1]
    return program in ("set", "export") or program == "poetry" and argv[1:2] == ["config"] and "--local" not in argv


def _pip_step(cmd: Command, part: Part, workdir: str, sync: bool) -> Step:
    argv = cmd.argv
    args = argv[argv.index("install" if "install" in argv else "sync") + 1:]
    step = Step(NOTHING, cmd, part)
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        value = inline if eq else (args[i + 1] if i + 1 < len(args) else "")
        short = arg[:2] if arg[:2] in ("-r", "-c", "-e", "-f", "-t") and len(arg) > 2 and not arg.startswith("--") else None
        if short:
            name, value, eq = short, arg[2:], "="
        if name in ("-r", "--requirement", "--requirements", "-c", "--constraint", "--constraints", "--override",
                    "-b", "--build-constraint"):
            step.requirement_files.append(resolve(workdir, value))
        elif name in ("-e", "--editable", "-f", "--find-links"):
            if is_local_path(value):
                step.local.append((_local(workdir, value), f"`{name} {value}` installs from a local path", False))
            elif name in ("-e", "--editable"):  # a VCS checkout goes into ./src
                return Step(CODE, cmd, part, why=f"`{name} {value}` checks out into the working folder")
        elif name in _PIP_WRITES_HERE:
            return Step(CODE, cmd, part, why=f"`{name}` installs into a folder the code copy may overwrite")
        elif name in ("--group", "--config-file"):
            return Step(CODE, cmd, part, why=f"`{name}` reads project files")
        elif name in _PIP_VALUE:
            pass
        elif arg.startswith("-"):
            i += 1
            continue
        elif sync:
            step.requirement_files.append(resolve(workdir, arg))
            i += 1
            continue
        elif is_local_path(arg):
            step.local.append((_local(workdir, arg), f"`{arg}` is a local path (the project itself)", True))
            step.project_arg = step.project_arg or arg
        else:
            i += 1
            continue
        i += 1 if eq else 2
    if any(f.endswith(("pyproject.toml", "setup.py", "setup.cfg")) for f in step.requirement_files):
        return Step(CODE, cmd, part, why="it reads the project's metadata")
    if step.requirement_files:
        step.kind = DEPS
    return step


_REDIRECT = re.compile(r"^(?:\d|&)?>>?(.*)$")


def _writes(argv: list[str], workdir: str) -> list[tuple[str, str, bool]]:
    """Paths a command that reads no code still removes or writes (`rm`, `> file`): moved
    before the code copy it would act on nothing, or be overwritten by the copy."""
    out, targets = [], []
    for i, word in enumerate(argv):
        if m := _REDIRECT.match(word):
            target = m.group(1) or (argv[i + 1] if i + 1 < len(argv) else "")
            if target and not target.startswith("&"):
                targets.append(target)
    if argv and argv[0].rsplit("/", 1)[-1] == "rm":
        targets += [a for a in argv[1:] if not a.startswith("-") and a not in targets and not _REDIRECT.match(a)]
    for target in targets:
        out.append((_local(workdir, target), f"`{argv[0]}` changes `{target}`, where the code copy puts files", False))
    return out


def _local(workdir: str, path: str) -> str:
    """The image folder a local path reads (up to its first wildcard); "" when unknown."""
    path = path.strip("'\"").removeprefix("file://").removeprefix("file:")
    if "$" in path or path.startswith("~"):
        return ""
    literal = re.split(r"[*?\[]", path, maxsplit=1)[0]
    return resolve(workdir, literal or ".")


def against(steps: list[Step], dest: str) -> list[Step]:
    """The steps as they stand with a code copy to `dest`: a local path under it
    (or one we cannot resolve) reads the code; one elsewhere was put in place earlier."""
    out = []
    for step in steps:
        inside = [(why, itself) for path, why, itself in step.local if not path or overlap(path, dest)]
        out.append(Step(CODE, step.command, step.part, why=inside[0][0], itself=inside[0][1],
                        project_arg=step.project_arg if len(inside) == 1 else "") if inside else step)
    return out


def _project_step(cmd: Command, part: Part, workdir: str, tool: str, optional: tuple[str, ...], suffix: str,
                  deps_flags: tuple[str, ...], folder_flags: tuple[str, ...]) -> Step:
    argv = cmd.argv
    folder = workdir
    for i, arg in enumerate(argv):
        for flag in folder_flags:
            if arg == flag and i + 1 < len(argv):
                folder = resolve(workdir, argv[i + 1])
            elif arg.startswith(flag + "="):
                folder = resolve(workdir, arg[len(flag) + 1:])
    reads = [(posixpath.join(folder, "pyproject.toml"), True)] + [(posixpath.join(folder, f), False) for f in optional]
    kind = DEPS if any(a in deps_flags for a in argv) else SPLIT
    return Step(kind, cmd, part, reads=reads, suffix=suffix if kind == SPLIT else "", project=(tool, folder))


# `uv sync` options that read nothing from the project folder beyond pyproject.toml, uv.lock,
# uv.toml and .python-version (uv's CLI reference for `uv sync` and its global options):
# which groups and extras, lock mode, install mode, indexes given as URLs, the cache, output.
_UV_SYNC_SWITCHES = frozenset({
    "--locked", "--frozen", "--no-dev", "--dev", "--only-dev", "--all-extras", "--no-default-groups",
    "--all-groups", "--inexact", "--exact", "--active", "--no-active", "--no-install-project",
    "--no-install-workspace", "--no-install-local", "--no-editable", "--compile-bytecode", "--no-compile-bytecode",
    "--dry-run", "--check", "--no-cache", "-n", "--offline", "--no-progress", "-q", "--quiet", "-v", "--verbose",
    "--reinstall", "--refresh", "-U", "--upgrade", "--no-build", "--no-binary", "--no-build-isolation",
    "--no-sources", "--native-tls", "--no-python-downloads", "--managed-python", "--no-managed-python",
    "--no-config"})
_UV_SYNC_VALUES = frozenset({
    "--extra", "--no-extra", "--group", "--no-group", "--only-group", "--no-install-package",
    "--no-editable-package", "--link-mode", "--python", "-p", "--python-platform", "--index", "--default-index",
    "--index-url", "-i", "--extra-index-url", "--index-strategy", "--keyring-provider", "--resolution",
    "--prerelease", "--fork-strategy", "--exclude-newer", "--exclude-newer-package", "--config-setting", "-C",
    "--upgrade-package", "-P", "--reinstall-package", "--refresh-package", "--no-build-package",
    "--no-binary-package", "--no-build-isolation-package", "--cache-dir", "--python-preference", "--color",
    "--allow-insecure-host", "--output-format", "--project", "--directory"})
_UV_SYNC_TREE = {"--package": "syncs a workspace member", "--all-packages": "syncs every workspace member",
                 "--script": "reads a script's inline metadata", "--config-file": "reads a settings file",
                 "--find-links": "may read packages from a folder", "-f": "may read packages from a folder"}


# uv's environment variables that name files or folders it would read (settings, requirement
# files, a project folder, find-links, an index that may be a local folder).
_UV_SYNC_ENV_PATHS = ("UV_CONFIG_FILE", "UV_CONSTRAINT", "UV_BUILD_CONSTRAINT", "UV_OVERRIDE", "UV_EXCLUDE",
                      "UV_PROJECT", "UV_WORKING_DIR", "UV_WORKING_DIRECTORY", "UV_FIND_LINKS")
_UV_SYNC_ENV_INDEXES = ("UV_INDEX", "UV_DEFAULT_INDEX", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL")


def uv_sync_env_blocker(env: Mapping[str, str]) -> str | None:
    """Why uv may read more of the build context than its manifests, from the environment a
    `uv sync` runs with (None: no variable of uv's names a file or a local folder)."""
    for name in _UV_SYNC_ENV_PATHS:
        if env.get(name):
            return f"{name} is set (it names a file or folder uv reads)"
    for name in _UV_SYNC_ENV_INDEXES:
        value = env.get(name)
        if value and "://" not in value:
            return f"{name} is set to `{value}`, which may be a local folder"
    return None


def uv_sync_option_blocker(cmd: Command) -> str | None:
    """Why a `uv sync` may read more of the project folder than its manifests, from its options
    (None: every option is one known to read nothing else). An option dockfix does not know,
    or a word it cannot read (`$UV_ARGS`), is a reason."""
    found = invocation(cmd)
    words = list(found.args) if found else []
    if "sync" in words:
        words.remove("sync")
    i = 0
    while i < len(words):
        word = words[i]
        name, eq, _ = word.partition("=")
        if "$" in word or "`" in word:
            return f"`{word}` is not known statically"
        if name in _UV_SYNC_TREE:
            return f"`{name}` {_UV_SYNC_TREE[name]}"
        if name in _UV_SYNC_VALUES:
            i += 1 if eq else 2
            continue
        if word in _UV_SYNC_SWITCHES:
            i += 1
            continue
        return f"`{word}` is not an option dockfix knows to read nothing from the project folder"
    return None


def overlap(a: str, b: str) -> bool:
    """Whether one image folder holds the other."""
    a, b = a.rstrip("/") or "/", b.rstrip("/") or "/"
    return a == b or a.startswith(b + "/") or b.startswith(a + "/") or a == "/" or b == "/"
