"""Reading strictly and writing atomically, below the CLI.

tests/test_cli.py covers what a user sees (read-only, links, a file changed
meanwhile, mode/CRLF/BOM through --write, the bad-input messages). Here: the
exact bytes, new files (a .dockerignore), leftovers after a failed write,
and the limits.
"""

from __future__ import annotations

import os
import stat

import pytest

from dockfix.fileio import MAX_SIZE, InputError, read_source, write_atomic


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".dockfix"))


@pytest.mark.parametrize("raw", [
    b"\xef\xbb\xbfFROM x\r\nRUN a\r\n",
    b"FROM x\nRUN a \\\r\n  b\nCMD c",  # mixed endings, no final newline
    "FROM x\nLABEL who=\"Zo\u00eb \u2603\"\n".encode(),
])
def test_read_then_write_is_byte_exact(tmp_path, raw):
    path = tmp_path / "Dockerfile"
    path.write_bytes(raw)
    source = read_source(path)
    assert source.raw == raw and source.text.encode("utf-8") == raw  # the BOM stays in the text
    write_atomic(path, source.text, source.raw)
    assert path.read_bytes() == raw and _leftovers(tmp_path) == []


def test_write_keeps_an_unusual_mode(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text("FROM x\n")
    path.chmod(0o604)
    write_atomic(path, "FROM y\n", b"FROM x\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o604 and path.read_text() == "FROM y\n"


def test_a_new_file_gets_the_umask_mode_and_is_never_written_over(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / ".dockerignore", ".venv\n", None)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / ".dockerignore").stat().st_mode) == 0o640
    with pytest.raises(InputError, match="appeared while dockfix ran"):
        write_atomic(tmp_path / ".dockerignore", "other\n", None)
    assert (tmp_path / ".dockerignore").read_text() == ".venv\n"


def test_a_new_file_is_not_written_through_a_dangling_link(tmp_path):
    (tmp_path / ".dockerignore").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InputError, match="symbolic link"):
        write_atomic(tmp_path / ".dockerignore", ".venv\n", None)
    assert not (tmp_path / "elsewhere").exists()


def test_a_changed_file_is_refused_and_no_temporary_file_is_left(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text("FROM x\n# edited\n")
    with pytest.raises(InputError, match="changed while dockfix ran"):
        write_atomic(path, "FROM y\n", b"FROM x\n")
    assert path.read_text() == "FROM x\n# edited\n" and _leftovers(tmp_path) == []


@pytest.mark.parametrize("raw, message, line", [
    (b"FROM x\nRUN a\n\x00", "binary file", None),
    (b"FROM x\nRUN a\nLABEL x=\xff\n", "not UTF-8 text", 3),
    (b"\xef\xbb\xbf", "empty file", None),
    (b" \r\n\t\n", "empty file", None),
])
def test_bad_content_errors(tmp_path, raw, message, line):
    path = tmp_path / "Dockerfile"
    path.write_bytes(raw)
    with pytest.raises(InputError) as err:
        read_source(path)
    assert err.value.message.startswith(message) and err.value.line == line


def test_limits_and_folders(tmp_path):
    big = tmp_path / "Dockerfile"
    big.write_bytes(b"FROM x\n" + b"#" * MAX_SIZE)
    with pytest.raises(InputError, match="file too large"):
        read_source(big)
    with pytest.raises(InputError, match="is a directory"):
        read_source(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        read_source(tmp_path / "missing")
