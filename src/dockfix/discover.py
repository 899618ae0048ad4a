"""Which files a path on the command line means."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

PATTERNS = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile", "Containerfile", "Containerfile.*")
SKIP_DIRS = frozenset({"node_modules", "vendor", "third_party", "site-packages", "__pycache__", "venv"})


def is_dockerfile_name(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in PATTERNS) and not name.endswith((".dockfix", ".orig", ".rej"))


def dockerfiles_under(folder: Path, include_hidden: bool = False) -> list[Path]:
    """Every Dockerfile below a folder, sorted; hidden and vendored folders skipped."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if (include_hidden or not d.startswith(".")) and d not in SKIP_DIRS)
        for name in sorted(files):
            if is_dockerfile_name(name):
                found.append(Path(root) / name)
    return found
