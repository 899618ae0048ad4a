"""`[tool.dockfix]` in the nearest pyproject.toml above a Dockerfile.

    [tool.dockfix]
    select = ["apt", "cache-mounts"]   # only these transforms (default: all)
    ignore = ["dockerignore"]          # never these
    unsafe-fixes = true                # also apply fixes that change meaning a little
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    source: Path | None = None


def find_config(start: Path) -> Config:
    """The [tool.dockfix] table of the nearest pyproject.toml that has one."""
    folder = start.resolve()
    for candidate in (folder, *folder.parents):
        found = _load(candidate / "pyproject.toml")
        if found is not None:
            return found
        if (candidate / ".git").exists():
            break
    return Config()


@lru_cache(maxsize=256)
def _load(path: Path) -> Config | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"{path}: {err}") from err
    table = data.get("tool", {}).get("dockfix")
    if table is None:
        return None
    unknown = set(table) - {"select", "ignore", "unsafe-fixes"}
    if unknown:
        raise ConfigError(f"{path}: unknown [tool.dockfix] keys: {', '.join(sorted(unknown))}")
    select = table.get("select")
    return Config(
        select=tuple(select) if select is not None else None,
        ignore=tuple(table.get("ignore", ())),
        unsafe_fixes=bool(table.get("unsafe-fixes", False)),
        source=path,
    )
