"""The settings of the nearest dockfix.toml, or `[tool.dockfix]` of the nearest pyproject.toml, above a Dockerfile.

    [tool.dockfix]                     # pyproject.toml; in dockfix.toml the same keys at the top level
    select = ["apt", "cache-mounts"]   # only these transforms (default: all)
    ignore = ["dockerignore"]          # never these
    unsafe-fixes = true                # also apply fixes that change meaning a little

Where the search looks: from the Dockerfile's folder up to the root of the
repository it is in (the nearest folder holding `.git`), and no further.
Outside any repository it does not climb above the folder named on the
command line (`stop`; by default the Dockerfile's own folder), so a stray
`/tmp/pyproject.toml` never applies to a checkout under /tmp. In each folder
a dockfix.toml comes first (it always applies, even empty); a pyproject.toml
applies when it has a [tool.dockfix] table. `load_config` reads one named
file instead (`--config FILE`).

A value of the wrong type (`select = "apt"`, `unsafe-fixes = "false"`) or an
unknown key (`unsafe_fixes`: did you mean unsafe-fixes?) is a one-line error
naming the file and line, never a guess. A config file is read through
fileio.read_limited: a FIFO, device or oversized file is an error, not a hang.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dockfix.fileio import InputError, read_limited

KEYS = ("select", "ignore", "unsafe-fixes")
OWN_FILE = "dockfix.toml"  # the same keys at the top level


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    source: Path | None = None


def find_config(start: Path, stop: Path | None = None, folders: Folders | None = None) -> Config:
    """The [tool.dockfix] table of the nearest pyproject.toml that has one.

    Searched from `start` up to the repository root; outside a repository,
    up to `stop` if it is `start` or above it, else `start` alone. `folders`:
    what this run already knows of the folders (a new one looks at each afresh).
    """
    known = folders if folders is not None else Folders()
    folder = known.real(os.fspath(start))
    chain = [folder]
    while (up := os.path.dirname(chain[-1])) != chain[-1]:
        chain.append(up)
    root = next((c for c in chain if known.has_git(c)), None)
    if root is None:
        limit = known.real(os.fspath(stop)) if stop is not None else folder
        root = limit if limit in chain else folder
    for candidate in chain[: chain.index(root) + 1]:
        found = known.config_in(candidate)
        if found is not None:
            return found
    return Config()


class Folders:
    """What one run learns of folders, each asked once: where a folder really is (its parent's
    answer and one lstat, not a walk of every folder above it), whether it holds `.git`, the
    config in it. A batch's files share the folders above them, and looking again cost each file
    about 0.15 ms, a twentieth of its --check. One per run (runner.Options holds it): a config
    file edited while the run goes on is read as it was when its folder was first asked about.
    Bounded: past LIMIT folders it starts over."""

    LIMIT = 20_000

    def __init__(self) -> None:
        self._real: dict[str, str] = {}
        self._git: dict[str, bool] = {}
        self._config: dict[str, Config | None] = {}

    def _full(self) -> None:
        if len(self._real) + len(self._git) + len(self._config) >= self.LIMIT:
            self._real.clear()
            self._git.clear()
            self._config.clear()

    def real(self, folder: str) -> str:
        """os.path.realpath(folder)."""
        found = self._real.get(folder)
        if found is not None:
            return found
        # Up to the nearest folder already known (or one the shortcut does not cover), then down
        # again, one lstat a folder (a loop: a folder 1,100 deep is no recursion error).
        below: list[tuple[str, str]] = []  # (folder, its last name), the deepest first
        current = folder
        while (found := self._real.get(current)) is None:
            parent, name = os.path.split(current)
            if os.sep != "/" or not name or name in (".", "..") or parent.endswith("/") and parent.strip("/"):
                found = self._keep(current, os.path.realpath(current))
                break
            below.append((current, name))
            current = parent or os.curdir
        for sub, name in reversed(below):
            path = os.path.join(found, name)
            found = self._keep(sub, os.path.realpath(path) if os.path.islink(path) else path)
        return found

    def _keep(self, folder: str, real: str) -> str:
        self._full()
        self._real[folder] = real
        return real

    def has_git(self, folder: str) -> bool:
        found = self._git.get(folder)
        if found is None:
            found = os.path.lexists(os.path.join(folder, ".git"))
            self._full()
            self._git[folder] = found
        return found

    def config_in(self, folder: str) -> Config | None:
        """The config of a folder's own dockfix.toml or pyproject.toml (None: neither has one).
        A ConfigError is not kept: the next file that asks raises it again."""
        if folder in self._config:
            return self._config[folder]
        found = None
        for name in (OWN_FILE, "pyproject.toml"):
            found = _read(Path(folder) / name)
            if found is not None:
                break
        self._full()
        self._config[folder] = found
        return found


def load_config(path: Path) -> Config:
    """The settings in one named file (`--config FILE`): a pyproject.toml's [tool.dockfix] table (none: the
    defaults), any other file's top level, as in dockfix.toml."""
    path = Path(path).resolve()
    if not path.exists():
        raise ConfigError(f"{path}: no such file")
    return _read(path) or Config(source=path)


def _read(path: Path) -> Config | None:
    """The config in path, or None when there is no such file or (a pyproject.toml) it has no [tool.dockfix] table."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror}") from None
    # Keyed by what the file is now, not by its name alone: a long run (one checkout after another
    # in the same folder) never sees an earlier file's settings, and an absent file is not cached.
    return _load(path, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))


@lru_cache(maxsize=256)
def _load(path: Path, stamp: tuple[int, ...] = ()) -> Config | None:
    import tomllib  # only when a config file exists: most one-file runs have none

    try:
        text = read_limited(path).decode("utf-8")
        data = tomllib.loads(text)
    except InputError as err:
        raise ConfigError(f"{path}: {err.message}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: {err}") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{_where(path, text, None, 'tool')}: [tool] must be a table")
        table = tool.get("dockfix")
        if table is None:
            return None
        if not isinstance(table, dict):
            raise ConfigError(f"{_where(path, text, 'tool', 'dockfix')}: [tool.dockfix] must be a table")
        section: str | None = "tool.dockfix"
    else:  # dockfix.toml, or a file named by --config: the keys at the top level
        table, section = data, None
    label = f"[{section}] " if section else ""
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        import difflib

        hints = [f"{k} (did you mean {close[0]}?)" if (close := difflib.get_close_matches(k, KEYS, 1, 0.6)) else k
                 for k in unknown]
        raise ConfigError(f"{_where(path, text, section, unknown[0])}: unknown {label or path.name + ' '}keys: "
                          f"{', '.join(hints)} (dockfix knows {', '.join(KEYS)})")
    select = table.get("select")
    if select is not None:
        select = _names(path, text, section, "select", select)
    unsafe = table.get("unsafe-fixes", False)
    if not isinstance(unsafe, bool):
        raise ConfigError(f"{_where(path, text, section, 'unsafe-fixes')}: {label}unsafe-fixes "
                          f"must be true or false, not {_kind(unsafe)} ({_show(unsafe)})")
    return Config(select=select, ignore=_names(path, text, section, "ignore", table.get("ignore", [])),
                  unsafe_fixes=unsafe, source=path)


def _names(path: Path, text: str, section: str | None, key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.strip() for v in value)
    example = f'{key} = ["{value}"]' if isinstance(value, str) and value else f'{key} = ["apt"]'
    what = _kind(value) if not isinstance(value, list) else "a list holding " + next(
        _kind(v) for v in value if not (isinstance(v, str) and v.strip()))
    label = f"[{section}] " if section else ""
    raise ConfigError(f"{_where(path, text, section, key)}: {label}{key} must be a list of "
                      f"transform names, like {example}, not {what} ({_show(value)})")


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def _show(value: object, limit: int = 40) -> str:
    """The value in TOML-like spelling, cut short."""
    if isinstance(value, bool):
        shown = "true" if value else "false"
    elif isinstance(value, str):
        shown = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(value, list):
        shown = "[" + ", ".join(_show(v, limit) for v in value[:limit]) + "]"
    else:
        shown = str(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _where(path: Path, text: str, table: str | None, key: str) -> str:
    """`path:line` of `key` in `[table]` (or `path` when it cannot be found cheaply: dotted keys, inline tables)."""
    inside = table is None
    header = re.compile(r"\s*\[\s*" + re.escape(table or "") + r"\s*\]\s*(#.*)?$") if table else None
    assignment = re.compile(r"""\s*["']?""" + re.escape(key) + r"""["']?\s*=""")
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("["):
            inside = bool(header and header.match(line))
        elif inside and assignment.match(line):
            return f"{path}:{number}"
    return str(path)
