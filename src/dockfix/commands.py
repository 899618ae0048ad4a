"""Which package manager a simple command runs, and what it asks of it: the one recogniser.

Every transform, the split, the checklist and the facts read a RUN's commands through
`recognise(argv)`; none matches program names of its own. It knows the Python tools
(pip, uv, poetry, pipenv, conda and its kin, pipx, pdm, hatch, venv/virtualenv) and
the system ones (apt, apk, dnf/yum/microdnf). `python -m pip` is pip, `python -m venv`
is venv; a program named by its path (`/opt/venv/bin/pip`) is recognised by its name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from dockfix.shell import Command

_PIP = re.compile(r"pip(\d(\.\d+)?)?")
_PYTHON = re.compile(r"python(\d(\.\d+)?)?")
_PROGRAMS = {
    "uv": "uv", "poetry": "poetry", "pipenv": "pipenv", "pipx": "pipx", "pdm": "pdm", "hatch": "hatch",
    "conda": "conda", "mamba": "conda", "micromamba": "conda", "virtualenv": "venv",
    "apt-get": "apt", "apt": "apt", "apk": "apk", "dnf": "dnf", "yum": "dnf", "microdnf": "dnf",
}
PYTHON_MANAGERS = frozenset({"pip", "uv", "poetry", "pipenv", "pipx", "pdm", "hatch", "conda", "venv"})
SYSTEM_MANAGERS = frozenset({"apt", "apk", "dnf"})
# A system manager's subcommands: its verb is the first of its arguments that is one (an option's
# value, `-o Dpkg::Options::=...` or `--virtual .build-deps`, is never taken for it).
_SYSTEM_VERBS = {
    "apt": frozenset({"update", "upgrade", "dist-upgrade", "full-upgrade", "install", "reinstall", "remove", "purge",
                      "autoremove", "autopurge", "clean", "autoclean", "distclean", "build-dep", "source",
                      "download", "check", "satisfy", "list", "search", "show", "policy", "markauto"}),
    "apk": frozenset({"add", "del", "update", "upgrade", "cache", "fix", "info", "search", "fetch", "verify"}),
    "dnf": frozenset({"install", "reinstall", "remove", "erase", "update", "upgrade", "clean", "makecache",
                      "groupinstall", "group", "module", "config-manager", "autoremove", "localinstall", "builddep",
                      "distro-sync", "downgrade", "info", "list", "search"}),
}


@dataclass(frozen=True, slots=True)
class Invocation:
    """A command that runs a package manager.

    manager: "pip", "uv", "poetry", "pipenv", "pipx", "pdm", "hatch", "conda" (mamba and
    micromamba too), "venv" (python -m venv, virtualenv), "apt" (apt-get, apt), "apk",
    "dnf" (yum, microdnf too).
    """

    manager: str
    program: str  # the program's own name (`pip3`, `python3` for `python3 -m pip`, `apt-get`, `yum`)
    args: tuple[str, ...]  # the words after it (after `-m pip` for `python -m pip`)
    version: str = ""  # the Python version in the program's name (`3` of pip3, `2.7` of python2.7)

    @property
    def words(self) -> list[str]:
        """The arguments that are not options (a rough cut for the Python tools: an option's
        value counts too, `pip --index-url URL install` has the URL first)."""
        return [a for a in self.args if not a.startswith("-")]

    @property
    def verb(self) -> str:
        """The subcommand ("" when none): `install` of pip, `pip` of `uv pip install`, `add` of apk."""
        verbs = _SYSTEM_VERBS.get(self.manager)
        if verbs is not None:
            return next((a for a in self.args if a in verbs), "")
        return next((a for a in self.args if not a.startswith("-")), "")

    @property
    def python_install(self) -> tuple[str, str] | None:
        """(tool, verb) when it installs into a Python environment from an index or lockfile:
        ("pip", "install"), ("uv", "sync"), ("uv", "install") for `uv pip install`, ("uv",
        "pip-sync") for `uv pip sync`, ("poetry", "install" or "sync")."""
        words = self.words
        if self.manager == "pip" and words[:1] == ["install"]:
            return "pip", "install"
        if self.manager == "uv":
            if words[:1] == ["sync"]:
                return "uv", "sync"
            if words[:2] == ["pip", "install"]:
                return "uv", "install"
            if words[:2] == ["pip", "sync"]:
                return "uv", "pip-sync"
        if self.manager == "poetry" and words[:1] in (["install"], ["sync"]):
            return "poetry", words[0]
        return None

    @property
    def creates_venv(self) -> bool:
        """`python -m venv`, `virtualenv`, `uv venv`."""
        return self.manager == "venv" or self.manager == "uv" and self.words[:1] == ["venv"]

    @property
    def cleans_cache(self) -> bool:
        """`uv cache clean|prune`, `uv clean`, `pip cache purge|remove`, `poetry cache clear`."""
        words = self.words
        if self.manager == "uv":
            return words[:2] in (["cache", "clean"], ["cache", "prune"]) or words[:1] == ["clean"]
        if self.manager == "pip":  # (`pip --cache-dir DIR cache purge`: the verb is DIR in the rough cut)
            return "cache" in words[:2] and words[0] not in ("install", "download", "uninstall", "wheel")
        return self.manager == "poetry" and words[:2] == ["cache", "clear"]

    @property
    def python2(self) -> bool:
        """pip2, python2 -m pip: Python 2's tools."""
        return self.version.startswith("2")


# What a shell word's value drops of its text (dockfix.shell: quotes, escapes, line continuations):
# a program name recognise() reads is, once these are taken out of the text, a piece of it.
_QUOTING = str.maketrans("", "", "'\"\\\r\n")
# Every name recognise() takes for a Python package manager holds one of these: pip3 holds "pip",
# python3 (-m pip, -m venv) "python", the others are their own (a name holding another is left out).
_PYTHON_NAMES = {"pip", "python", *(p for p, m in _PROGRAMS.items() if m in PYTHON_MANAGERS)}
_PYTHON_NAME_PARTS = tuple(sorted(n for n in _PYTHON_NAMES if not any(o != n and o in n for o in _PYTHON_NAMES)))


def may_run_python_manager(text: str) -> bool:
    """False when no command of this shell text can be a Python package manager's (recognise):
    no name of one is in the text even with its quotes, escapes and line continuations taken out.
    True says nothing: parse it. (No expansion either way: `$PIP install` is no command of pip's.)"""
    plain = text.translate(_QUOTING)
    return any(name in plain for name in _PYTHON_NAME_PARTS)


def program_name(word: str) -> str:
    """A program's name without its folder (`/usr/bin/apt-get` -> `apt-get`)."""
    return word.rsplit("/", 1)[-1]


def invocation(cmd: Command) -> Invocation | None:
    """recognise(cmd.argv), once per command: kept on it as its argv is (a command is immutable,
    and every transform asks of every command)."""
    found = cmd.__dict__.get("invocation", _UNSEEN)
    if found is _UNSEEN:
        found = cmd.__dict__["invocation"] = recognise(cmd.argv)
    return cast("Invocation | None", found)


_UNSEEN = object()


def recognise(argv: list[str]) -> Invocation | None:
    """The package manager a command's words (its argv, after assignments and `sudo`) run, or None."""
    if not argv:
        return None
    program = program_name(argv[0])
    rest = tuple(argv[1:])
    if program.startswith("python") and (m := _PYTHON.fullmatch(program)):
        if rest[:1] == ("-m",) and len(rest) > 1:
            module = rest[1]
            if module == "pip":
                return Invocation("pip", program, rest[2:], m.group(1) or "")
            if module in ("venv", "virtualenv"):
                return Invocation("venv", program, rest[2:], m.group(1) or "")
            if module == "pipx":  # pipx's documented way to run it before its bin folder is on PATH
                return Invocation("pipx", program, rest[2:], m.group(1) or "")
        return None
    if program.startswith("pip") and (m := _PIP.fullmatch(program)):
        return Invocation("pip", program, rest, m.group(1) or "")
    manager = _PROGRAMS.get(program)
    return Invocation(manager, program, rest) if manager else None
