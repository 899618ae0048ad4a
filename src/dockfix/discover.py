"""Which files a path on the command line means.

A folder means every Dockerfile below it, as a careful user would pick them:
files that .gitignore (nested ones too, and .git/info/exclude) ignores are
left out, and so are hidden and vendored folders, unless asked
(`include_hidden`, `use_ignore=False`). Symbolic links are never followed
during a search, so a search never leaves the tree it was given. A file
named on the command line is always processed: discovery is only for folders.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

PATTERNS = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile", "Containerfile", "Containerfile.*")
SKIP_DIRS = frozenset({"node_modules", "vendor", "third_party", "site-packages", "__pycache__", "venv"})


# Not Dockerfiles though the patterns match them: BuildKit's per-Dockerfile ignore
# file (Dockerfile.dockerignore) and leftovers of editors and patch tools.
NOT_DOCKERFILES = (".dockerignore", ".dockfix", ".orig", ".rej")


def is_dockerfile_name(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in PATTERNS) and not name.endswith(NOT_DOCKERFILES)


class _Rules:
    """The ignore files that apply in one folder: (base folder, compiled spec), outermost first."""

    def __init__(self, layers: tuple[tuple[Path, object], ...] = ()):
        self.layers = layers

    def with_file(self, base: Path, ignore_file: Path) -> _Rules:
        spec = _compile(ignore_file)
        return _Rules((*self.layers, (base, spec))) if spec is not None else self

    def ignored(self, path: Path, is_dir: bool) -> bool:
        # Git's precedence: a deeper file beats a shallower one, a later line beats an earlier one.
        verdict = False
        for base, spec in self.layers:
            try:
                rel = path.relative_to(base).as_posix()
            except ValueError:
                continue
            rel += "/" if is_dir else ""
            for pattern in spec.patterns:
                if pattern.include is not None and pattern.match_file(rel) is not None:
                    verdict = pattern.include
        return verdict


def _compile(ignore_file: Path):
    try:
        if not ignore_file.is_file() or ignore_file.stat().st_size > 1 << 20:
            return None
        lines = ignore_file.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return None
    import pathspec  # only folder runs need it

    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    return spec if spec.patterns else None


def _repo_root(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _rules_above(folder: Path) -> _Rules:
    """The ignore files of the enclosing repository that apply to `folder` from above it."""
    folder = folder.resolve()
    root = _repo_root(folder)
    if root is None:
        return _Rules()
    rules = _Rules().with_file(root, root / ".git" / "info" / "exclude")
    chain = [root] + [root / part for part in _prefixes(folder.relative_to(root))]
    for base in chain[:-1]:  # the folder's own .gitignore is read by the walk
        rules = rules.with_file(base, base / ".gitignore")
    return rules


def _prefixes(rel: Path) -> list[Path]:
    parts = rel.parts
    return [Path(*parts[: i + 1]) for i in range(len(parts))]


def dockerfiles_under(folder: Path, include_hidden: bool = False, use_ignore: bool = True) -> list[Path]:
    """Every Dockerfile below a folder, sorted; ignored, hidden and vendored folders skipped."""
    found: list[Path] = []
    top = Path(folder)
    resolved_top = top.resolve()
    rules_of: dict[str, _Rules] = {}
    for root, dirs, files in os.walk(top):  # os.walk does not follow symlinked folders
        here = Path(root)
        real_here = resolved_top / here.relative_to(top)
        if use_ignore:
            inherited = rules_of.pop(root, None)
            if inherited is None:
                inherited = _rules_above(resolved_top)
            if root != str(top) and (here / ".git").exists():
                inherited = _Rules().with_file(real_here, real_here / ".git" / "info" / "exclude")  # a nested repository
            rules = inherited.with_file(real_here, real_here / ".gitignore")
        kept = []
        for d in sorted(dirs):
            if not include_hidden and (d.startswith(".") or d in SKIP_DIRS):
                continue
            if d == ".git":
                continue  # git's own files, never a project's
            if use_ignore and rules.ignored(real_here / d, is_dir=True):
                continue
            kept.append(d)
            if use_ignore:
                rules_of[os.path.join(root, d)] = rules
        dirs[:] = kept
        for name in sorted(files):
            path = here / name
            if not is_dockerfile_name(name) or path.is_symlink():
                continue  # a link may lead out of the tree; name the file itself to process it
            if use_ignore and rules.ignored(real_here / name, is_dir=False):
                continue
            found.append(path)
    return found
