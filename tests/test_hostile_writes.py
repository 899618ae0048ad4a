"""Nothing a repository holds is lost: files dockfix cannot read exactly are never
written, and a file's changes (Dockerfile + .dockerignore) land all-or-nothing.

Hostile inputs are made here, in tmp_path; nothing here is a real secret.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from dockfix import fileio
from dockfix.context import MAX_CONTEXT_FILE, Context
from dockfix.runner import CHANGED, FAILED, Options, process_file

APP = ("FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
       "COPY . .\nCMD [\"python\", \"app.py\"]\n")
SECRETS = b"secrets/\n*.key\n"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # results name files relative to the working folder


def app(tmp_path: Path, ignore: bytes | None = None) -> Path:
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    if ignore is not None:
        (tmp_path / ".dockerignore").write_bytes(ignore)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(APP)
    return dockerfile


def test_the_fixture_does_rewrite_a_dockerignore(tmp_path):
    """The cases below only prove something if dockfix would otherwise extend this .dockerignore."""
    result = process_file(app(tmp_path, SECRETS), Options("write"))
    assert result.status == CHANGED and ".dockerignore" in result.written
    assert (tmp_path / ".dockerignore").read_bytes().startswith(SECRETS)


@pytest.mark.parametrize("content", [
    SECRETS + b"# padding\n" * (MAX_CONTEXT_FILE // 10 + 1),  # over the size a context file is read up to
    SECRETS + b"# caf\xe9 (Latin-1)\n",  # not UTF-8: decoding would put U+FFFD in its place
], ids=["over-1MiB", "latin-1"])
def test_a_dockerignore_dockfix_cannot_read_exactly_is_never_written(tmp_path, content):
    dockerfile = app(tmp_path, content)
    for mode in ("diff", "write"):
        result = process_file(dockerfile, Options(mode))
        assert result.status == CHANGED  # the Dockerfile's own fixes still apply
        assert "+++ b/.dockerignore" not in result.diff
        assert any(".dockerignore left alone" in n.message for n in result.notes), result.notes
    assert (tmp_path / ".dockerignore").read_bytes() == content


def test_a_fifo_in_the_build_context_neither_blocks_nor_is_replaced(tmp_path):
    dockerfile = app(tmp_path)
    os.mkfifo(tmp_path / ".dockerignore")
    os.unlink(tmp_path / "requirements.txt")
    os.mkfifo(tmp_path / "requirements.txt")  # a manifest the transforms read
    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(r=process_file(dockerfile, Options("write"))),
                              daemon=True)
    worker.start()
    worker.join(60)  # a hang guard, not a timing: reading a FIFO with no writer blocks forever
    assert not worker.is_alive(), "reading a FIFO blocked"
    assert stat.S_ISFIFO((tmp_path / ".dockerignore").lstat().st_mode)
    assert stat.S_ISFIFO((tmp_path / "requirements.txt").lstat().st_mode)


def test_a_link_to_a_device_in_the_context_is_not_read(tmp_path):
    dockerfile = app(tmp_path)
    (tmp_path / "pyproject.toml").symlink_to("/dev/zero")
    context = Context.for_dockerfile(dockerfile)
    assert context.read("pyproject.toml") is None  # leads out of the tree: reads as missing, nothing read
    inside = tmp_path / "zero"
    os.mkfifo(inside)
    assert Context.for_dockerfile(dockerfile).why_unreadable("zero") == "not a regular file (a device, FIFO or " \
                                                                          "socket); not read"


def test_read_limited_refuses_devices_and_oversize_without_reading_them():
    with pytest.raises(fileio.InputError, match="not a regular file"):
        fileio.read_limited(Path("/dev/zero"))
    with pytest.raises(fileio.InputError, match="is a directory"):
        fileio.read_limited(Path("/"))


def test_a_read_only_dockerignore_fails_the_file_and_writes_nothing(tmp_path):
    dockerfile = app(tmp_path, SECRETS)
    ignore = tmp_path / ".dockerignore"
    ignore.chmod(0o444)
    result = process_file(dockerfile, Options("write"))
    assert result.status == FAILED and result.written == ()
    assert result.error == ".dockerignore: file is read-only; nothing written"
    assert dockerfile.read_text() == APP and ignore.read_bytes() == SECRETS  # all-or-nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == [".dockerignore", "Dockerfile", "app.py",
                                                         "requirements.txt"]  # no temporary file left


def test_a_failure_between_the_renames_puts_the_first_file_back(tmp_path, monkeypatch):
    dockerfile = app(tmp_path, SECRETS)
    real = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(fileio.os, "replace", replace)
    result = process_file(dockerfile, Options("write"))
    monkeypatch.undo()
    assert result.status == FAILED and result.error == ".dockerignore: cannot write: No space left on device; " \
                                                        "nothing written"
    assert dockerfile.read_text() == APP and (tmp_path / ".dockerignore").read_bytes() == SECRETS
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".dockfix")]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another owner")
def test_write_as_root_keeps_owner_and_group(tmp_path):
    dockerfile = app(tmp_path, SECRETS)
    for path in (dockerfile, tmp_path / ".dockerignore"):
        os.chown(path, 1234, 5678)
    assert process_file(dockerfile, Options("write")).status == CHANGED
    for path in (dockerfile, tmp_path / ".dockerignore"):
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (1234, 5678), path.name


def test_write_keeps_extended_attributes(tmp_path):
    dockerfile = app(tmp_path)
    try:
        os.setxattr(dockerfile, "user.origin", b"kept")
    except OSError:
        pytest.skip("this file system has no user extended attributes")
    assert process_file(dockerfile, Options("write")).status == CHANGED
    assert os.getxattr(dockerfile, "user.origin") == b"kept"


def test_a_split_hard_link_is_reported(tmp_path):
    dockerfile = app(tmp_path)
    os.link(dockerfile, tmp_path / "Dockerfile.copy")
    result = process_file(dockerfile, Options("write"))
    assert result.status == CHANGED
    assert result.warnings == ("Dockerfile had 2 hard links: it is written as a new file, the other links keep "
                               "the old content",)
    assert (tmp_path / "Dockerfile.copy").read_text() == APP


def test_stale_temporary_files_of_a_killed_run_are_cleaned_and_fresh_ones_kept(tmp_path):
    dockerfile = app(tmp_path)
    stale, fresh = tmp_path / ".Dockerfile.abcd1234.dockfix", tmp_path / ".Dockerfile.efgh5678.dockfix"
    other = tmp_path / ".Dockerfile.notours"  # not dockfix's pattern: never touched
    for path in (stale, fresh, other):
        path.write_text("half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    assert process_file(dockerfile, Options("write")).status == CHANGED
    assert not stale.exists() and fresh.exists() and other.exists()


def test_a_fifo_named_dockerfile_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "Dockerfile")
    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(r=process_file(tmp_path / "Dockerfile", Options("write"))),
                              daemon=True)
    worker.start()
    worker.join(60)  # a hang guard: opening a FIFO with no writer blocks forever
    assert not worker.is_alive(), "reading a FIFO named Dockerfile blocked"
    assert outcome["r"].status == FAILED
    assert outcome["r"].error == "not a regular file (a device, FIFO or socket); not read"


def test_a_split_hard_link_is_said_on_the_command_line(tmp_path):
    from typer.testing import CliRunner

    from dockfix.cli import app as cli

    dockerfile = app(tmp_path)
    os.link(dockerfile, tmp_path / "Dockerfile.copy")
    result = CliRunner().invoke(cli, ["--write", "--select", "cache-mounts", "Dockerfile"])
    assert "Dockerfile: warning: Dockerfile had 2 hard links" in result.stderr


def test_a_symlink_loop_beside_a_dockerfile_is_not_a_crash(tmp_path):
    dockerfile = app(tmp_path)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    result = process_file(dockerfile, Options("check"))
    assert result.status == CHANGED and not result.bug, result.error


def test_checklist_of_a_folder_with_an_unreadable_gitignore_is_one_line_not_a_traceback(tmp_path):
    from dockfix.checklist_report import run_checklists

    (tmp_path / "repo").mkdir()
    app(tmp_path / "repo")
    (tmp_path / "repo" / ".gitignore").symlink_to(tmp_path / "repo" / ".gitignore")  # a loop
    assert run_checklists([tmp_path / "repo"], use_color=False) == 2
