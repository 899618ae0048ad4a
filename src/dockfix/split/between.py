"""RUN instructions between two dependency installs: where a split's runtime may run them.

The runtime stage replaces the installs with one copy of the finished environment. In the
original, a RUN between two installs ran with the packages of the installs before it, and
before those after it. For each such RUN, from what it runs (split/programs: the programs of
its commands, substitutions and scripts) and the paths its words name:

- only system programs (on the full image, per dockfix's table of the images' programs, and
  not the interpreter's) and no path of the environment: its place relative to the copy does
  not matter; it stays where it is (and runs in the builder as well);
- the interpreter, pip, a console script, or a program the table does not have: it needs the
  packages. The runtime copies the environment just before it, provided every install after it
  only adds packages (a pip or uv pip install, no upgrade or reinstall flag, naming none of the
  packages the installs before it named): the RUN then sees the packages it saw, plus others;
- a path into the environment, or a folder above it given to a command that acts on whole
  trees (chown, chmod, rm, cp, mv, find...): refused, since the copy holds what the later
  installs made of those files;
- what cannot be read (a variable dockfix cannot resolve, a script it cannot read, `uv run`,
  which syncs the environment itself): refused.

A later version of a package one of the earlier installs pulled in indirectly is not checked:
the installs' own requirement names are what dockfix reads (split/dependencies).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from dockfix.context import Context
from dockfix.data import slim_programs
from dockfix.split import dependencies, programs
from dockfix.split.classify import InstallCommand, Step, absolute, resolve
from dockfix.views import Copy

# Commands that change files already in a folder tree: given a folder above the environment,
# they reach into it. Those that put files into a folder too (a copy of a project folder into
# the one that holds the environment may bring a stale one).
_CHANGING = frozenset({"chown", "chmod", "chgrp", "rm", "find", "setfacl"})
_TREE_COMMANDS = _CHANGING | {"cp", "mv", "rsync", "tar"}
# Programs that look a program up on PATH, where the environment's bin folder comes first.
_LOOKUPS = frozenset({"which", "whereis"})
# Programs that change the environment themselves when they run (uv run syncs the project first).
_MANAGERS = frozenset({"uv", "uvx", "poetry", "pipenv", "pdm", "hatch", "conda", "mamba"})
_PACKAGE_MANAGERS = frozenset({"apt-get", "apt", "apk", "dpkg"})
# pip into the system interpreter: its packages and scripts, and the folders above them.
_SYSTEM_LIB = "/usr/local/lib/python"
_SYSTEM_PACKAGES = (_SYSTEM_LIB, "/usr/lib/python")  # site-packages, and Debian's dist-packages
_ABOVE_SYSTEM = frozenset({"/usr", "/usr/local", "/usr/local/lib", "/usr/local/bin"})
_ADDING_VERBS = frozenset({"install"})
_UPGRADE_FLAGS = frozenset({"-U", "--upgrade", "--force-reinstall", "-I", "--ignore-installed", "--reinstall",
                            "--upgrade-package", "-P", "--reinstall-package", "--upgrade-strategy"})


BUILDER = "="  # needs(): the RUN writes only into the environment: the builder alone runs it
REFUSED = "!"  # needs(): the RUN cannot be placed in the runtime


@dataclass(frozen=True)
class Place:
    """Where the runtime copies the environment (a step index), or why the split is refused."""

    copy_at: int
    why: str = ""  # the RUN that needs the environment there (for notes and docs)
    builder_only: frozenset[int] = frozenset()  # RUNs whose every write lands in the environment
    builder_copy: tuple[tuple[int, tuple[str, ...]], ...] = ()  # downloading RUNs: the paths the runtime copies


def placement(steps: list[Step], first: int, last: int, venv: str, target: str, suites: list[str],
              version: str | None, context: Context, as_root: frozenset[int] = frozenset()) -> Place | str:
    """The step before which the runtime copies the environment (`last`, the last install's
    place, unless a RUN between the installs needs the packages), or why it cannot be known.
    `as_root`: the steps that run as root (a downloading RUN's files are copied only then: the
    copy cannot give them another owner's group)."""
    copy_at = last
    why = ""
    builder_only = set()
    builder_copy = []
    for index in range(first + 1, last):
        step = steps[index]
        if step.instr.name != "RUN" or step.kind not in ("other",):
            continue
        need = needs(step, steps[:index], venv, target == "system", suites, version, context)
        if need.startswith(REFUSED):
            return f"line {step.instr.line}: a RUN between dependency installs {need[1:]}"
        if need.startswith(BUILDER):
            builder_only.add(index)
        elif need and copy_at == last:
            copy_at, why = index, need
        elif not need and index in as_root and (files := downloads(step, venv)) and not any(
                f in later.instr.logical for later in steps[index + 1 : last + 1] for f in files):
            builder_copy.append((index, files))  # nothing after it in the builder names its files
    if copy_at == last:
        return Place(last, builder_only=frozenset(builder_only), builder_copy=tuple(builder_copy))
    problem = _later_installs_only_add(steps, copy_at, last, venv, target, context)
    if problem:
        return (f"line {steps[copy_at].instr.line}: a RUN between dependency installs {why}, and {problem}: "
                "the runtime cannot give it the packages it had")
    return Place(copy_at, why, frozenset(builder_only), tuple(builder_copy))


def needs(step: Step, before: list[Step], venv: str, system: bool, suites: list[str], version: str | None,
           context: Context) -> str:
    """"" (runs only system programs on no path of the environment), what it needs the
    environment for, BUILDER and what it writes (every write lands in the environment: the copy
    carries it), or REFUSED and why it cannot run in the runtime at all."""
    ran = programs.executed([(step, before)], context)
    if ran.unknown:
        return f"{REFUSED}runs what dockfix cannot read ({ran.unknown})"
    named = _names_environment(step, venv, system)
    if named:
        into = _writes_only_into(step, venv)
        if into:
            return f"{BUILDER}writes only into the environment ({into}), which the copy carries"
        return REFUSED + named
    for use in ran.uses:
        if use.program in _MANAGERS:
            return f"{REFUSED}runs `{use.program}`, which manages the environment itself"
    for use in ran.uses:
        if not use.script and not _system_program(use.program, suites, version):
            return f"runs `{use.program}`" + (f" ({use.via})" if use.via else "") + ", which needs the installed packages"
    for use in ran.uses:
        if use.program in _LOOKUPS:
            for name in use.args:
                if not name.startswith("-") and not _system_program(name, suites, version):
                    return f"looks `{name}` up on the search path, where the environment's programs come first"
    return ""


# Programs whose writes dockfix can name: output only through redirections, or the paths
# their arguments name (after a mode or owner operand), or their last argument; curl and wget
# with their output file named.
_REDIRECT_ONLY = frozenset({"echo", "printf", "cat", "true", ":", "set", "export"})
_ALL_OPERANDS = {"mkdir": "dir", "touch": "write", "rm": "delete", "rmdir": "delete", "tee": "write"}
_AFTER_FIRST = frozenset({"chmod", "chown", "chgrp"})
_LAST_OPERAND = frozenset({"ln", "cp", "install"})
_VALUED = frozenset({"-m", "--mode", "-o", "--owner", "-g", "--group"})  # options that take a value
_OUTPUT = {"curl": ("-o", "--output"), "wget": ("-O", "--output-document")}


def _writes(step: Step) -> list[tuple[str, str]] | None:
    """Every path the RUN writes, resolved, with how ("write", "dir", "delete", "mode",
    "download"); None when that is not known (a program outside the table above, a
    substitution, a path through a variable without a known value, a relative path after `cd`)."""
    env = step.env or {}
    moves = any(c.argv[:1] == ["cd"] for c in step.commands)
    out: list[tuple[str, str]] = []
    for command in step.commands:
        argv = command.argv
        if not argv:
            continue
        if any("$(" in w.raw or "`" in w.raw for w in command.words):
            return None
        name = posixpath.basename(argv[0])
        words: list[str] = []
        targets: list[tuple[str, str]] = []
        rest = iter(argv[1:])
        for word in rest:
            option = word.split("=", 1)[0]
            if word in (">", ">>", "1>", "1>>"):
                targets.append((next(rest, ""), "write"))
            elif word.startswith(">") and len(word) > 1:
                targets.append((word.lstrip(">"), "write"))
            elif name in _OUTPUT and option in _OUTPUT[name]:
                targets.append((word.split("=", 1)[1] if "=" in word else next(rest, ""), "download"))
            elif name in _OUTPUT and word.startswith(_OUTPUT[name][0]) and len(word) > 2:
                targets.append((word[2:], "download"))  # curl -ofile
            elif word in _VALUED and name not in _OUTPUT:
                next(rest, "")
            elif word in ("-t", "--target-directory") or word.startswith("--target-directory="):
                return None  # cp -t DIR: the destination comes first
            elif not word.startswith("-") or word == "-":
                words.append(word)
        if name in _ALL_OPERANDS:
            targets += [(w, _ALL_OPERANDS[name]) for w in words]
        elif name in _AFTER_FIRST:
            targets += [(w, "mode") for w in words[1:]]
        elif name in _LAST_OPERAND and len(words) >= 2:
            targets.append((words[-1], "write"))
        elif name in _OUTPUT:
            if not any(how == "download" for _, how in targets):
                return None  # wget's file named after the URL, curl -O
        elif name not in _REDIRECT_ONLY:
            return None
        for target, how in targets:
            value = resolve(target, env) if "$" in target else target
            if not value or (not value.startswith("/") and (moves or step.workdir == "?")):
                return None
            out.append((absolute(value, step.workdir), how))
    return out


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _writes_only_into(step: Step, venv: str) -> str:
    """The paths the RUN writes (shown) when each is in the environment; else ""."""
    found = _writes(step)
    if not found or not all(_inside(path, venv) or path == "/dev/null" for path, _ in found):
        return ""
    return ", ".join(f"`{path}`" for path, _ in found[:3])


def downloads(step: Step, venv: str) -> tuple[str, ...]:
    """The files and folders a RUN that downloads (curl -o, wget -O) leaves in the image, when
    they are all it writes, none is in or above the environment and it deletes nothing: the
    builder can run it and the runtime copy them. () otherwise."""
    found = _writes(step)
    if not found or not any(how == "download" for _, how in found):
        return ()
    made = {path for path, how in found if how in ("write", "dir", "download")}
    for path, how in found:
        if how == "delete" or path == "/dev/null" or _inside(path, venv) or _inside(venv, path):
            return ()
        if how == "mode" and path not in made:
            return ()  # a mode on a file the RUN did not make
    # a folder the RUN made that holds another of its files comes with that file's copy
    return tuple(sorted(p for p in made if not any(o != p and _inside(o, p) for o in made)))


def _system_program(program: str, suites: list[str], version: str | None) -> bool:
    """On the full image in every suite, and not one of the interpreter's programs (python, pip...);
    or the system's package manager (alpine's apk too, which the Debian table does not hold)."""
    if program in _PACKAGE_MANAGERS:
        return True
    if slim_programs.interpreter_program(program, version) is not False:
        return False
    return all(slim_programs.full_has(program, suite, version) is True for suite in suites)


def _names_environment(step: Step, venv: str, system: bool) -> str:
    """Why the RUN's words reach into the environment ("" when they do not)."""
    env = step.env or {}
    exec_form = step.instr.exec_form
    # (argv, its arguments as (as written, quotes removed)); an exec-form RUN is one command, unquoted
    commands = [(exec_form, [(w, w) for w in exec_form[1:]])] if exec_form else [
        (c.argv, [(w.raw, w.value) for w in c.words[len(c.words) - len(c.argv) + 1:]]) for c in step.commands]
    for argv, arguments in commands:
        if not argv:
            continue
        tree_command = posixpath.basename(argv[0]) in _TREE_COMMANDS
        changing = posixpath.basename(argv[0]) in _CHANGING
        for raw, written in arguments:  # (the program's own word: running it is a use, not a write)
            if "$(" in raw or "`" in raw:
                continue  # its programs are read (split/programs); its value is not a path we can know
            value = written
            if value.startswith(("$HOME", "${HOME}")) and "HOME" not in env:
                value = "~"  # the user's home: the image's, for the USER of the RUN
            if "$" in value:
                value = resolve(value, env) or ""
                if not value:
                    if "/" in written or written.startswith("$"):
                        return f"names `{written}`, which dockfix cannot resolve (it may be the environment)"
                    continue
            if not value.startswith(("/", ".", "~")) and "/" not in value:
                continue
            if value.startswith("~"):
                if venv.startswith(("/root", "/home")):
                    return f"names `{written}`, a path in a home folder, where the environment is"
                continue
            if not value.startswith("/") and step.workdir == "?":
                return f"names `{written}` in a working folder dockfix does not know (it may be the environment)"
            path = absolute(value.rstrip("/") or "/", step.workdir)
            if path == venv or path.startswith(venv.rstrip("/") + "/"):
                return f"writes or reads the environment's files (`{written}`)"
            # (pip into the system: the venv is the split's own, no file of the build holds one; only
            # commands that change what is already there reach into it)
            if (changing if system else tree_command) and (path == "/" or venv.startswith(path.rstrip("/") + "/")):
                return f"reaches into the environment's folder (`{argv[0]} ... {written}`)"
            if system and path.startswith(_SYSTEM_PACKAGES):
                return f"names the system interpreter's packages (`{written}`), which the split moves to {venv}"
            if system and changing and (path in _ABOVE_SYSTEM or path.startswith(_SYSTEM_LIB)):
                return (f"reaches into the system interpreter's packages (`{argv[0]} ... {written}`), which the "
                        f"split moves to {venv}")
    return ""


def _may_write_into(step: Step, venv: str, context: Context) -> bool:
    """Whether a COPY may put files into the environment: its folder is the environment's or above
    it, and a source is not a file of the build context (a folder, a pattern, another stage's)."""
    into = step.into
    if into is None:
        return True
    if into != venv and not venv.startswith(into.rstrip("/") + "/"):
        return False
    copy = Copy(step.instr)
    if copy.from_ or step.instr.name == "ADD":
        return True
    for source in copy.sources:
        landing = posixpath.join(into, posixpath.basename(source.rstrip("/")))
        if any(c in source for c in "*?[$") or not context.exists(source) or context.is_dir(source):
            return True
        if landing == venv or landing.startswith(venv.rstrip("/") + "/"):
            return True
    return False


_BARE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a distribution name alone: no version, extras or URL


def _bare(command: InstallCommand) -> bool:
    """A pip/uv pip install whose requirements are all names alone on its command line."""
    argv = command.command.argv
    verb = next((i for i, a in enumerate(argv) if a == "install"), None)
    if verb is None:
        return False
    args = argv[verb + 1:]
    return bool(args) and all(_BARE.fullmatch(a) or a in ("--no-cache-dir", "-q", "--quiet", "--no-compile",
                                                          "--disable-pip-version-check") for a in args)


def _later_installs_only_add(steps: list[Step], copy_at: int, last: int, venv: str, target: str,
                             context: Context) -> str:
    """"" when every install after `copy_at` only adds packages the earlier ones did not name
    (and nothing after it writes into the environment's folder); otherwise what may change."""
    for index in range(copy_at + 1, last + 1):
        step = steps[index]
        if step.instr.name in ("COPY", "ADD") and step.kind == "copy" and _may_write_into(step, venv, context):
            return f"line {step.instr.line} copies into the environment's folder after it"
        for command in step.installs:
            if command.target != target or command.tool == "glue":
                continue
            argv = command.command.argv
            if command.tool not in ("pip", "uv-pip") or not _ADDING_VERBS & set(argv):
                return f"line {step.instr.line} (`{' '.join(argv[:3])}`) may change or remove installed packages"
            flags = {a.split("=", 1)[0] for a in argv if a.startswith("-")}
            if flags & _UPGRADE_FLAGS:
                return f"line {step.instr.line} upgrades or reinstalls packages ({', '.join(sorted(flags & _UPGRADE_FLAGS))})"
    before = dependencies.installed(steps[:copy_at], target, context)
    # `pip install gunicorn` of a package already there changes nothing (pip and uv keep what
    # satisfies a requirement without a version, unless told to upgrade): such commands are
    # read apart, and only their names without a version may repeat an earlier one's
    after = dependencies.installed(steps[: last + 1], target, context, start=copy_at + 1, skip=_bare)
    for found in (before, after):
        if isinstance(found, str):
            return f"what the installs name is not known ({found})"
    assert not isinstance(before, str) and not isinstance(after, str)
    both = sorted(before.names & after.names)
    if both:
        return f"a later install names {', '.join(both[:4])} again (another version may replace it)"
    return ""
