"""What a `pipx` command does to the image, read for the split: which folders an install writes.

Facts from pipx's own source (pypa/pipx, src/pipx/paths.py, main.py, venv.py, read from
0.15 to 1.16.7; the lab built with 1.18.4) and its documentation (docs/how-to/configure-paths.md):

- every app gets its own virtual environment, PIPX_HOME/venvs/<app>; the pip backend's shared
  pip lives in PIPX_HOME/shared (PIPX_SHARED_LIBS), a Python fetched with --fetch-python in
  PIPX_HOME/py; the app's commands are linked into PIPX_BIN_DIR (symlinks into
  PIPX_HOME/venvs/<app>/bin on Linux), its manual pages into PIPX_MAN_DIR (1.3 and later);
- the defaults all lie under ~/.local: PIPX_HOME is ~/.local/pipx before 1.3 and
  $XDG_DATA_HOME/pipx (~/.local/share/pipx) since, unless ~/.local/pipx exists; PIPX_BIN_DIR
  ~/.local/bin; PIPX_MAN_DIR ~/.local/share/man; its logs ~/.local/state/pipx/log (1.16). So
  a copy of ~/.local carries them whatever pipx version the build installs;
- `--global` uses PIPX_GLOBAL_HOME (/opt/pipx), PIPX_GLOBAL_BIN_DIR (/usr/local/bin) and
  PIPX_GLOBAL_MAN_DIR (/usr/local/share/man);
- an environment's python is a symlink to the interpreter pipx ran on (sys.executable), or to
  PIPX_DEFAULT_PYTHON or --python: pipx installed by pip into the official image's Python
  runs on /usr/local/bin/python3.X, which the slim variant of the same tag has at that path.

The split copies the folders an install writes (its home and bin folder) at the same
paths, so the links stay valid; a folder of the base image itself (/usr/local/bin) cannot be
copied without the full image's files, and is a reason to refuse.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

TARGET = "pipx"  # the install target of every pipx install (its folders are in Reading.copies)
# pipx install options that take a value (pipx 1.16.7's parser, and --spec of earlier versions)
_VALUED = frozenset({"--suffix", "--python", "--fetch-python", "--preinstall", "--app", "--lock", "--index-url", "-i",
                     "--pip-args", "--cooldown", "--backend", "--upgrade-strategy", "--output",
                     "--include-resources-from", "--spec"})
_PRINTS = frozenset({"list", "environment", "completions"})  # verbs that only print (and `pipx --version`)
# Folders of the base image: the split cannot copy them without the full image's files.
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/var", "/tmp", "/run",
           "/proc", "/sys", "/dev", "/boot")
_PIP_READS = frozenset({"-r", "--requirement", "-c", "--constraint", "-e", "--editable"})


@dataclass(frozen=True)
class Reading:
    """What one pipx command is to the split."""

    kind: str  # "install", "prints" (changes nothing) or "refuse"
    problem: str | None = None  # why the split cannot move it (kind "refuse", or an install it cannot place)
    specs: tuple[str, ...] = ()  # what an install puts into the app's environment (as written)
    copies: tuple[str, ...] = ()  # the folders an install writes, which the runtime copies


def read(verb: str, args: tuple[str, ...], env: Mapping[str, str], home: str | None,
         pipx_from: str | None) -> Reading | None:
    """A pipx command (its arguments after the program, `env` the stage's environment with the
    command's own assignments, `home` the home of the user it runs as (None: not known), `pipx_from` where pipx came from:
    "system" after a pip install of pipx into the image's Python); None: not a change to an
    environment (`pipx run` runs an app: it is setup, not an install)."""
    if verb == "run":
        return None
    if verb in _PRINTS or (not verb and "--version" in args):
        return Reading("prints")
    if verb == "ensurepath":
        return Reading("refuse", "pipx ensurepath writes the shell's start-up files (~/.bashrc, ~/.profile), "
                                 "which the runtime would not get")
    if verb in ("inject", "runpip", "uninject"):
        return Reading("refuse", f"`pipx {verb}` changes an app's environment with packages dockfix does not list")
    if verb != "install":
        return Reading("refuse", f"`pipx {verb}` is not handled by the split")
    words = list(args[args.index("install") + 1:])
    options, specs = _options(words)
    problem = _problem(options, env, pipx_from)
    if problem:
        return Reading("refuse", problem)
    if "--spec" in options:  # older pipx: `pipx install --spec SPEC NAME` installs SPEC
        specs = [options["--spec"][-1]]
    specs += options.get("--preinstall", [])
    if not specs:
        return Reading("refuse", "pipx install without a package")
    copies = folders("--global" in args[: args.index("install")] or "--global" in options, env, home)
    if isinstance(copies, str):
        return Reading("refuse", copies)
    return Reading("install", specs=tuple(specs), copies=copies)


def _options(words: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """pipx install's options (each with its values) and its package specs."""
    options: dict[str, list[str]] = {}
    specs: list[str] = []
    it = iter(words)
    for word in it:
        if not word.startswith("-") or word == "-":
            specs.append(word)
            continue
        name, eq, value = word.partition("=")
        if name in _VALUED:
            if not eq:
                value = next(it, "")
            options.setdefault(name, []).append(value)
        else:
            options.setdefault(name, [])
    return options, specs


def _problem(options: dict[str, list[str]], env: Mapping[str, str], pipx_from: str | None) -> str | None:
    if pipx_from != "system":
        return ("pipx does not come from a pip install into the image's Python before it: the interpreter its apps' "
                "environments link to is not known")
    if "--system-site-packages" in options:
        return ("pipx install --system-site-packages: the app's environment sees the full image's site-packages, "
                "which the runtime does not have")
    python = (options.get("--python") or [env.get("PIPX_DEFAULT_PYTHON", "")])[-1]
    if python and not python.startswith("/usr/local/bin/python"):
        return (f"pipx install with Python `{python}`: the interpreter the app's environment links to is not known "
                "to be at the same path on the runtime")
    if "--lock" in options:
        return "pipx install --lock: dockfix does not read the lock file's packages"
    for value in options.get("--pip-args", []):
        try:
            pip_words = shlex.split(value)
        except ValueError:
            return f"pipx --pip-args {value!r} cannot be read"
        read = sorted({w.partition("=")[0] for w in pip_words} & _PIP_READS)
        if read:
            return f"pipx --pip-args {' '.join(read)}: what the requirements or constraints files install is not read"
    return None


def folders(is_global: bool, env: Mapping[str, str], home: str | None) -> tuple[str, ...] | str:
    """The folders a pipx install writes that the runtime needs (its home, where the apps'
    environments are, and its bin folder, whose links point into them), or why they are not known
    or cannot be copied."""
    if home is not None and ("$" in home or not home.startswith("/")):
        home = None
    for key in ("PIPX_HOME", "PIPX_BIN_DIR", "PIPX_GLOBAL_HOME", "PIPX_GLOBAL_BIN_DIR", "PIPX_SHARED_LIBS",
                "XDG_DATA_HOME"):
        value = env.get(key, "")
        if "$" in value or (value and not (value.startswith(("/", "~/")) or value == "~")):
            return f"pipx's folders depend on {key}={value}, which dockfix cannot resolve to a folder"
    prefix = "PIPX_GLOBAL_" if is_global else "PIPX_"
    found: dict[str, str | None] = {name: _path(env.get(prefix + name), home) for name in ("HOME", "BIN_DIR")}
    if not is_global and env.get("PIPX_SHARED_LIBS"):
        found["SHARED_LIBS"] = _path(env["PIPX_SHARED_LIBS"], home)
    if is_global:
        found["HOME"] = found["HOME"] or "/opt/pipx"
        found["BIN_DIR"] = found["BIN_DIR"] or "/usr/local/bin"
    else:
        local = posixpath.join(home, ".local") if home else None
        if not found["HOME"] and env.get("XDG_DATA_HOME"):
            return ("XDG_DATA_HOME is set without PIPX_HOME: pipx's home then depends on its version (it is "
                    "$XDG_DATA_HOME/pipx since 1.3, ~/.local/pipx before)")
        # ~/.local holds every default (the home of each pipx version, the bin and manual folders)
        found = {k: v or local for k, v in found.items()}
    missing = [prefix + k for k, v in found.items() if v is None]
    if missing:
        return (f"the installing user's home is not known statically (no ENV HOME, no useradd of the user in the "
                f"file), so neither is pipx's {', '.join(missing)}")
    for name, path in found.items():
        assert path is not None
        if path == "/" or any(path == s or path.startswith(s + "/") for s in _SYSTEM) or path == home:
            return (f"pipx's {prefix}{name} is {path}, a folder of the base image: the runtime cannot copy it "
                    "without the full image's files (set it to a folder of its own, e.g. /opt/pipx/bin)")
    paths = [p for p in found.values() if p is not None]
    out = [p for p in dict.fromkeys(paths) if not any(p.startswith(o + "/") for o in paths)]  # home first
    # The bin folder's links point into the home's venvs: the home is copied at the same path.
    venvs = posixpath.join(found["HOME"] or "", "venvs")
    assert any(venvs.startswith(o + "/") for o in out)
    return tuple(out)


def _path(value: str | None, home: str | None) -> str | None:
    """A pipx path variable as pipx reads it (expanduser, then absolute); None when not set or
    when it needs a home that is not known."""
    if not value:
        return None
    if value == "~" or value.startswith("~/"):
        if home is None:
            return None
        value = home + value[1:]
    return posixpath.normpath(value)
