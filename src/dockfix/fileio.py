"""Reading Dockerfiles strictly and writing them atomically.

A write goes to a temporary file in the same folder, takes the original's
mode, and replaces the original with one rename, but only if the file still
holds exactly the bytes that were read: an editor or another run that
changed it meanwhile wins, and dockfix reports the conflict.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Larger files are refused before they are read: no real Dockerfile comes near (the largest
# of 126 real ones is 20 KB), and a bound keeps a batch over unvetted repositories
# from spending minutes on one generated or hostile file. Documented in the README.
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


def read_limited(path: Path, limit: int = MAX_SIZE, what: str = "file") -> bytes:
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
            raise InputError(f"not a regular {what} (a device, FIFO or socket); not read")
        raise InputError(f"{what} too large ({st.st_size} bytes; dockfix reads up to {limit} bytes)")
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as err:
            raise InputError(f"cannot read: {err.strerror}") from None
    if len(data) > limit:
        raise InputError(f"{what} too large (over {limit} bytes; dockfix reads up to {limit} bytes)")
    return data


def read_source(path: Path) -> Source:
    raw = read_limited(path, MAX_SIZE, "file")
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


def write_atomic(path: Path, text: str, expected: bytes | None) -> None:
    """Replace path's content with text; expected=None means the file must not exist yet."""
    data = text.encode("utf-8")
    folder = path.parent
    mode = None
    if expected is not None:
        check_writable(path)
        mode = stat.S_IMODE(path.stat().st_mode)
    elif path.is_symlink():
        raise InputError(f"{path.name} is a symbolic link; dockfix does not write through links")
    elif path.exists():
        raise InputError(f"{path.name} appeared while dockfix ran; not overwritten")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".dockfix", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode if mode is not None else 0o644 & ~_umask())
        if expected is not None and path.read_bytes() != expected:
            raise InputError("file changed while dockfix ran; not overwritten")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
