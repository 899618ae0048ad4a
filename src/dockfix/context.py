"""The build context a transform may read: files beside the Dockerfile.

Transforms do no I/O; they ask the context, which reads lazily, caches, and
never leaves its root (a symbolic link out of the tree reads as missing).
Files a transform creates or rewrites (a .dockerignore) go into an overlay,
so the next round of the engine sees them as written.

A file that exists but cannot be read exactly (too large, not UTF-8, not a
regular file, no permission) reads as None like a missing one, but is listed
in `unreadable` with the reason: nothing may be written over it, since its
content would be lost (the engine drops such a write, the runner checks again).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from dockfix.fileio import InputError, read_limited

if TYPE_CHECKING:
    from dockfix.diagnostics import Fix, Note
    from dockfix.edits import Edit
    from dockfix.syntax import Tree

MAX_CONTEXT_FILE = 1 << 20  # larger context files are not read (lockfiles are far smaller)


class Context:
    def __init__(self, root: Path | None = None, files: Mapping[str, str] | None = None,
                 dockerfile: str = "Dockerfile", *, resolved: bool = False):
        self.root = (root if resolved else root.resolve()) if root else None  # resolved: root is a real path
        self.dockerfile = dockerfile  # the Dockerfile's name, relative to root
        self._files: dict[str, str | None] = dict(files or {})
        self._listing: list[str] | None = sorted(self._files) if root is None else None
        self.overlay: dict[str, str] = {}
        self.unreadable: dict[str, str] = {}  # rel -> why a file that exists could not be read exactly
        self.raw: dict[str, bytes] = {}  # rel -> the exact bytes read from disk
        self._indexed: tuple[list[str], frozenset[str], frozenset[str]] | None = None
        # Set by the engine for the length of a run (engine.run_pipeline): see findings_of.
        self.run_findings: Callable[[str, Tree, Sequence[Edit]], list[Fix | Note]] | None = None

    @classmethod
    def for_dockerfile(cls, path: Path, real_folder: str | None = None) -> Context:
        """`real_folder`: the folder's real path, when the caller knows it (config.Folders)."""
        if real_folder:
            return cls(Path(real_folder), dockerfile=path.name, resolved=True)
        return cls(path.parent, dockerfile=path.name)

    def findings_of(self, code: str, tree: Tree, edits: Sequence[Edit] = ()) -> list[Fix | Note]:
        """What the current run would take of rule `code` on the text `edits` make of `tree`: the
        fixes it would apply there (their edits are in that text) and the notes it would give (their
        lines, and the `line N` of their messages, are `tree`'s). Nothing when the run does not
        select the rule, when unsafe fixes are off and the rule's are unsafe, or when there is no
        run (a transform called alone); a fix a pragma in that text suppresses is left out. A
        transform can so count on a later transform's rewrite of its own output without importing
        it (docs/design.md)."""
        return self.run_findings(code, tree, edits) if self.run_findings is not None else []

    def read(self, rel: str) -> str | None:
        rel = _norm(rel)
        if rel in self.overlay:
            return self.overlay[rel]
        if rel not in self._files:
            self._files[rel] = self._read_disk(rel)
        return self._files[rel]

    def why_unreadable(self, rel: str) -> str | None:
        """Why a file that exists could not be read exactly (None: missing or read)."""
        rel = _norm(rel)
        if rel in self.overlay:
            return None
        self.read(rel)
        return self.unreadable.get(rel)

    def exists(self, rel: str) -> bool:
        rel = _norm(rel)
        if rel in self.overlay or self._files.get(rel) is not None:
            return True
        return rel in self._index()[0] or self.is_dir(rel)

    def is_dir(self, rel: str) -> bool:
        rel = _norm(rel).rstrip("/")
        if rel in ("", "."):
            return True
        return rel in self._index()[1]

    def listed(self, rel: str) -> bool:
        """Whether a path, as written (no normalising), is a listed file or a folder holding one."""
        files, folders = self._index()
        return rel in files or rel in folders

    def _index(self) -> tuple[frozenset[str], frozenset[str]]:
        """The listing as a set, and every folder above a listed path: constant-time questions
        (a scan of the listing per question was quadratic over many COPY sources)."""
        listing = self.listing()
        if self._indexed is None or self._indexed[0] is not listing:
            folders = {p.rstrip("/").rsplit("/", 1)[0] for p in listing if "/" in p.rstrip("/")}
            for folder in list(folders):
                while "/" in folder:
                    folder = folder.rsplit("/", 1)[0]
                    folders.add(folder)
            folders |= {p.rstrip("/") for p in listing if p.endswith("/")}  # a folder not walked
            self._indexed = (listing, frozenset(listing), frozenset(folders))
        return self._indexed[1], self._indexed[2]

    def glob(self, pattern: str) -> list[str]:
        """Files matching a glob, relative to the root ("*" does not cross "/")."""
        pat = _norm(pattern)
        return [p for p in self.listing() if fnmatch.fnmatchcase(p, pat) and p.count("/") == pat.count("/")]

    def listing(self) -> list[str]:
        """Every file of the context (two folder levels deep at most, hidden folders skipped)."""
        if self._listing is None:
            self._listing = sorted(set(self._walk()) | set(self.overlay))
        return self._listing

    def write(self, rel: str, text: str) -> None:
        rel = _norm(rel)
        self.overlay[rel] = text
        if self._listing is not None and rel not in self._listing:
            self._listing = sorted([*self._listing, rel])

    def _inside(self, rel: str) -> Path | None:
        if self.root is None:
            return None
        path = self.root / rel
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):  # RuntimeError: a symbolic link loop (Python 3.11)
            return None
        if resolved != self.root and self.root not in resolved.parents:
            return None
        return path

    def _read_disk(self, rel: str) -> str | None:
        path = self._inside(rel)
        if path is None:
            return None
        try:
            raw = read_limited(path, MAX_CONTEXT_FILE, "build-context files")
        except InputError as err:
            if path.exists() and not path.is_dir():
                self.unreadable[rel] = err.message
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw[: err.start].count(b"\n") + 1
            self.unreadable[rel] = f"not UTF-8 text (line {line})"
            return None
        self.raw[rel] = raw
        return text

    def _walk(self, max_depth: int = 3):
        if self.root is None:
            return
        stack = [(self.root, 0)]
        while stack:
            folder, depth = stack.pop()
            try:
                entries = list(folder.iterdir())
            except OSError:
                continue
            for entry in entries:
                rel = entry.relative_to(self.root).as_posix()
                if entry.is_symlink() and self._inside(rel) is None:
                    continue
                if entry.is_dir():
                    if depth + 1 < max_depth and not entry.name.startswith(".") and entry.name not in SKIP_DIRS:
                        stack.append((entry, depth + 1))
                    elif depth + 1 >= max_depth or entry.name.startswith("."):
                        yield rel + "/"  # a folder we did not walk still exists
                else:
                    yield rel


SKIP_DIRS = frozenset({"node_modules", "__pycache__", "venv", ".venv", "site-packages"})


def _norm(rel: str) -> str:
    rel = rel.replace("\\", "/")
    while rel.startswith("./"):
        rel = rel[2:]
    if rel in ("", "."):
        return "."
    if "//" not in rel and "/./" not in rel and not rel.endswith(("/", "/.")):
        return rel  # no empty or "." part: PurePosixPath would give it back as it is (most paths asked)
    return str(PurePosixPath(rel))
