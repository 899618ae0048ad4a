"""Reading Dockerfiles strictly and writing them atomically.

A write goes to a temporary file in the same folder, takes the original's
mode, and replaces the original with one rename, but only if the file still
holds exactly the bytes that were read: an editor or another run that
changed it meanwhile wins, and dockfix reports the conflict.
"""

from __future__ import annotations

import glob
import os
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Larger files are refused before they are read: no real Dockerfile comes near (the largest
# of 126 real ones is 20 KB), and a bound keeps a batch over unvetted repositories
# from spending minutes on one generated or hostile file. Documented in docs/usage.md (Limits).
MAX_SIZE = 1024 * 1024


class InputError(Exception):
    """A problem with the user's file; the message names what is wrong."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Source:
    path: Path
    raw: bytes
    text: str


def read_limited(path: Path, limit: int = MAX_SIZE, kind: str = "files") -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or InputError.

    Every file dockfix opens goes through here: a FIFO, device or socket (a
    committed `pyproject.toml -> /dev/zero`) is refused without blocking or
    reading, and a file that grows past the limit while read is refused too.
    The type is checked on the opened descriptor, so a swap in between is seen.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError("no such file") from None
    except IsADirectoryError:
        raise InputError("is a directory") from None
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
        os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputError("is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise InputError("not a regular file (a device, FIFO or socket); not read")
        raise InputError(f"file too large ({st.st_size} bytes; dockfix reads {kind} up to {limit} bytes)")
    # os.read, not a buffered file object: that allocated a buffer of the limit (1 MiB) per file
    # read, 30 us against 8. The first read asks for one byte more than the file holds, so a
    # second one usually finds its end; later ones, 64 KiB at most (a file that grows).
    chunks: list[bytes] = []
    size, want = 0, min(limit, st.st_size) + 1
    try:
        while size <= limit:
            chunk = os.read(fd, want)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            want = min(limit + 1 - size, 1 << 16)
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise InputError(f"file too large (over {limit} bytes; dockfix reads {kind} up to {limit} bytes)")
    return data


def read_source(path: Path) -> Source:
    return decode_source(path, read_limited(path, MAX_SIZE, "Dockerfiles"))


def decode_source(path: Path, raw: bytes) -> Source:
    """A Dockerfile's bytes (from a file or standard input) as text, or InputError."""
    if len(raw) > MAX_SIZE:
        raise InputError(f"file too large (over {MAX_SIZE} bytes; dockfix reads Dockerfiles up to {MAX_SIZE} bytes)")
    if b"\x00" in raw:
        raise InputError("binary file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise InputError("not UTF-8 text", line) from None
    if not text.removeprefix("\ufeff").strip():  # a BOM alone is still an empty file
        raise InputError("empty file")
    return Source(path, raw, text)


def check_writable(path: Path) -> None:
    """Refuse what --write must not touch: links and read-only files (even as root)."""
    if path.is_symlink():
        raise InputError("is a symbolic link; dockfix does not write through links")
    mode = path.stat().st_mode
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        raise InputError("file is read-only")


def write_atomic(path: Path, text: str, expected: bytes | None) -> list[str]:
    """Replace path's content with text; expected=None means the file must not exist yet."""
    return write_together([(path, text, expected)])


Change = tuple[Path, str, "bytes | None"]  # (path, new text, bytes it must still hold; None: must not exist)


class WriteError(InputError):
    """A write refused or failed; `target` is the file it was about, and nothing was written."""

    def __init__(self, target: Path, message: str):
        super().__init__(message)
        self.target = target


def write_together(changes: Sequence[Change]) -> list[str]:
    """Write several files all-or-nothing (a Dockerfile and its .dockerignore).

    Every new content is first written to a temporary file beside its target
    (mode, owner, group and extended attributes copied from the original where
    permitted); only when all are ready is each checked to still hold the bytes
    that were read and renamed over its target. A failure before the renames
    writes nothing; one during them puts back what was already renamed. Returns
    notes on what a reader should know (a hard link split). Raises WriteError.
    """
    staged: list[tuple[Path, str, bytes | None]] = []
    notes: list[str] = []
    try:
        for path, text, expected in changes:
            try:
                tmp, note = _stage(path, text, expected)
            except InputError as err:
                raise WriteError(path, err.message) from None
            except OSError as err:
                raise WriteError(path, f"cannot write: {err.strerror}") from None
            staged.append((path, tmp, expected))
            if note:
                notes.append(note)
        done: list[tuple[Path, str, bytes | None]] = []
        for (path, tmp, expected), (_, text, _) in zip(staged, changes):
            try:
                _check_unchanged(path, expected)
                os.replace(tmp, path)
            except (InputError, OSError) as err:
                message = err.message if isinstance(err, InputError) else f"cannot write: {err.strerror}"
                _put_back(done)
                raise WriteError(path, message) from None
            done.append((path, text, expected))
    finally:
        for _, tmp, _ in staged:
            _unlink_quietly(tmp)
    return notes


def _stage(path: Path, text: str, expected: bytes | None) -> tuple[str, str | None]:
    """A temporary file beside path holding text, dressed as path is; and a note, if any."""
    st = None
    note = None
    if expected is not None:
        check_writable(path)
        st = path.stat()
        if st.st_nlink > 1:
            note = (f"{path.name} had {st.st_nlink} hard links: it is written as a new file, "
                    "the other links keep the old content")
    elif path.is_symlink():
        raise InputError(f"{path.name} is a symbolic link; dockfix does not write through links")
    elif path.exists():
        raise InputError(f"{path.name} appeared while dockfix ran; not overwritten")
    clean_stale_temps(path)
    import tempfile  # a write only (it imports shutil, random and the compressors)

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        if st is None:
            os.chmod(tmp, 0o644 & ~_umask())
        else:
            _dress_like(tmp, path, st)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    return tmp, note


def _dress_like(tmp: str, path: Path, st: os.stat_result) -> None:
    """Owner, group (where permitted), extended attributes and mode of the original."""
    if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except PermissionError:
            try:  # a user may still keep the group, if a member of it
                os.chown(tmp, -1, st.st_gid)
            except PermissionError:
                pass
    if hasattr(os, "listxattr"):
        try:
            names = os.listxattr(path)
        except OSError:
            names = []
        for name in names:
            try:
                os.setxattr(tmp, name, os.getxattr(path, name))
            except OSError:
                pass  # e.g. a security.* attribute only root may set
    os.chmod(tmp, stat.S_IMODE(st.st_mode))  # after chown, which may clear set-id bits


def _check_unchanged(path: Path, expected: bytes | None) -> None:
    if expected is None:
        if path.exists() or path.is_symlink():
            raise InputError(f"{path.name} appeared while dockfix ran; not overwritten")
        return
    if read_limited(path, max(MAX_SIZE, len(expected)) + 1) != expected:
        raise InputError("file changed while dockfix ran; not overwritten")


def _put_back(done: list[tuple[Path, str, bytes | None]]) -> None:
    """Undo renames already made (best effort: the original bytes, or no file)."""
    for path, text, expected in reversed(done):
        try:
            if expected is None:
                os.unlink(path)
            else:
                write_together([(path, expected.decode("utf-8", "surrogateescape"), text.encode("utf-8"))])
        except (InputError, OSError, UnicodeError):
            pass


TEMP_SUFFIX = ".dockfix"
STALE_AFTER = 60.0  # seconds: a live run keeps its temporary file for milliseconds


def clean_stale_temps(path: Path, min_age: float = STALE_AFTER) -> list[Path]:
    """Remove dockfix's own temporary files for `path` left by a killed run (older than min_age)."""
    removed: list[Path] = []
    now = time.time()
    try:
        candidates = list(path.parent.glob(f".{glob.escape(path.name)}.*{TEMP_SUFFIX}"))
    except OSError:
        return removed
    for tmp in candidates:
        middle = tmp.name[len(path.name) + 2: -len(TEMP_SUFFIX)]
        if len(middle) != 8 or "." in middle:  # mkstemp's 8 random characters, nothing else
            continue
        try:
            st = tmp.lstat()
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and now - st.st_mtime >= min_age:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            pass
    return removed


def _unlink_quietly(name: str) -> None:
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
