"""Hostile repositories, output: file names and contents that try to forge report lines,
reach the terminal with escape sequences, or crash the printing of a name that is not UTF-8.

Names are made in tmp_path as bytes (os.fsdecode keeps a byte that is not UTF-8 as
a lone surrogate, which is how dockfix meets it). The CLI runs in-process, where
stdout is strict UTF-8 as under an ordinary UTF-8 locale, except where a real
terminal is needed (a pseudo-terminal in a subprocess).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dockfix.cli as cli_module
from dockfix.checklist_report import run_checklists
from dockfix.cli import EXIT_CHANGES, EXIT_ERROR, app
from dockfix.diff import quote_path
from dockfix.formats import show_name, show_text

NEEDS_FIX = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\n"
ESC = "\x1b]0;owned\x07\x1b[2J"  # set the terminal's title, clear the screen

# Folder names, as bytes: each breaks something when printed raw.
HOSTILE = {
    "newline": b"a\nb/Dockerfile:9: [apt] forged",
    "escape": b"e" + ESC.encode(),
    "carriage-return": b"ok\rhidden",
    "not-utf8": b"caf\xe9",
    "quote-backslash": b'q"b\\s',
    "bidi": "rlo\u202eevil".encode(),
}
PRINTABLE = {"space": b"sp ace", "utf8": "café".encode()}  # shown as they are


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def dockfix(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def make(folder: Path, name: bytes, text: str = NEEDS_FIX) -> Path:
    target = Path(os.fsdecode(os.path.join(os.fsencode(folder), name)))
    target.mkdir(parents=True)
    (target / "Dockerfile").write_text(text)
    return target / "Dockerfile"


def assert_clean_lines(text: str, count: int) -> None:
    """count lines, each ending in a newline, no control character or bidi override in any."""
    assert text.count("\n") == count, text
    assert all(line.isprintable() for line in text.splitlines()), text


@pytest.mark.parametrize("kind", HOSTILE)
def test_check_prints_one_escaped_line_per_fix_whatever_the_folder_name(work, kind):
    make(work, HOSTILE[kind])
    make(work / "z", "café".encode())
    result = dockfix("--check", "--select", "apt", ".")
    assert result.exit_code == EXIT_CHANGES, result.output
    assert_clean_lines(result.stdout, 2)
    first, second = result.stdout.splitlines()
    shown = show_name(os.fsdecode(HOSTILE[kind]) + "/Dockerfile")
    assert shown.startswith('"') and first.startswith(f"{shown}:2: [apt] ")
    assert second.startswith("z/café/Dockerfile:2: [apt] ")  # a printable name is shown as it is


@pytest.mark.parametrize("kind", HOSTILE)
def test_write_and_verbose_reports_escape_the_name(work, kind):
    make(work, HOSTILE[kind])
    result = dockfix("--write", "-v", "--select", "apt", ".")
    assert result.exit_code == EXIT_CHANGES, result.output
    fixed = [line for line in result.stderr.splitlines() if line.startswith("fixed ")]
    assert fixed == [f"fixed {show_name(os.fsdecode(HOSTILE[kind]) + '/Dockerfile')} (1 fix)"]
    assert all(line.isprintable() for line in result.stderr.splitlines())


def test_a_name_that_is_not_utf8_does_not_crash_json_or_sarif(work):
    make(work, b"caf\xe9\xff")
    result = dockfix("--format", "json", "--select", "apt", ".")
    assert result.exit_code == EXIT_CHANGES, result.output
    record = json.loads(result.stdout_bytes.decode("utf-8"))["files"][0]
    assert os.fsencode(record["path"]) == b"caf\xe9\xff/Dockerfile"  # round-trips to the bytes on disk
    assert record["status"] == "changed"
    sarif = dockfix("--format", "sarif", "--select", "apt", ".")
    assert sarif.exit_code == EXIT_CHANGES, sarif.output
    location = json.loads(sarif.stdout_bytes.decode("utf-8"))["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "caf%E9%FF/Dockerfile"


def test_sarif_uris_are_percent_encoded(work):
    make(work, b"sp ace")
    sarif = dockfix("--format", "sarif", "--select", "apt", ".")
    location = json.loads(sarif.stdout)["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "sp%20ace/Dockerfile"


def test_diff_headers_quote_names_as_git_does_and_git_apply_takes_them(work):
    repo = work / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    for name in [*HOSTILE.values(), *PRINTABLE.values()]:
        make(repo, name)
    os.chdir(repo)
    result = dockfix("--diff", "--select", "apt", ".")
    assert result.exit_code == EXIT_CHANGES, result.output
    patch = result.stdout_bytes
    headers = [line for line in patch.split(b"\n") if line.startswith((b"diff --git", b"--- ", b"+++ "))]
    assert len(headers) == 3 * (len(HOSTILE) + len(PRINTABLE))  # no name broke a header line
    assert b'diff --git "a/a\\nb/Dockerfile:9: [apt] forged/Dockerfile" ' in patch
    assert b'--- "a/caf\\351/Dockerfile"\n' in patch
    assert b'+++ "b/caf\\303\\251/Dockerfile"\n' in patch
    assert b"--- a/sp ace/Dockerfile\t\n" in patch  # git's tab after a name with a space
    assert b"\x1b" not in patch and b"\r" not in patch
    (repo / ".patch").write_bytes(patch)
    done = subprocess.run(["git", "apply", "-v", ".patch"], cwd=repo, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert dockfix("--check", "--select", "apt", ".").stdout == ""  # every file got its change


@pytest.mark.parametrize("path, quoted", [
    ("a/Dockerfile", "a/Dockerfile"),
    ("a/sp ace/Dockerfile", "a/sp ace/Dockerfile"),
    ("a/t\tb\nc", '"a/t\\tb\\nc"'),
    ('a/q"\\', '"a/q\\"\\\\"'),
    ("a/\x1b\x7f\x01", '"a/\\033\\177\\001"'),
    ("a/café", '"a/caf\\303\\251"'),
    (os.fsdecode(b"a/\xff"), '"a/\\377"'),
])
def test_quote_path_follows_git(path, quoted):
    assert quote_path(path) == quoted


def test_a_message_from_file_content_is_escaped(work):
    (work / "Dockerfile").write_text(f"FROM python:3.12-slim\n{ESC}X y\n")
    result = dockfix("--check", "Dockerfile")
    assert result.exit_code == EXIT_ERROR
    assert result.stderr == "Dockerfile:2: error: unknown instruction: \\033]0;owned\\a\\033[2JX\n"


def test_usage_errors_escape_what_the_user_typed(work):
    result = dockfix("--check", "--select", f"apt,{ESC}", "Dockerfile")
    assert result.exit_code == EXIT_ERROR
    assert_clean_lines(result.stderr, 1)
    assert "unknown rule or transform: \\033]0;owned" in result.stderr


def test_the_diff_body_is_exact_in_a_pipe_and_escaped_on_a_terminal(work):
    text = NEEDS_FIX + f'RUN echo "{ESC}\rhi\u202e"\r\n'
    (work / "Dockerfile").write_text(text, newline="")
    piped = dockfix("--diff", "--select", "apt", "Dockerfile")
    assert f'\n RUN echo "{ESC}\rhi\u202e"\r\n'.encode() in piped.stdout_bytes  # the content, byte for byte
    on_tty = _run_on_a_terminal(["--diff", "--select", "apt", "Dockerfile"], work)
    assert b"\x1b" not in on_tty and b"\xe2\x80\xae" not in on_tty
    assert b'RUN echo "\\033]0;owned\\a\\033[2J\\rhi\\342\\200\\256"' in on_tty


def _run_on_a_terminal(args: list[str], cwd: Path) -> bytes:
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen([sys.executable, "-c", "from dockfix.cli import main; main()", *args], cwd=cwd,
                               stdout=follower, stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert process.wait(timeout=120) == EXIT_CHANGES, out
    return out.replace(b"\r\n", b"\n")  # the terminal's own line ends


def test_checklist_names_and_rich_markup_in_names(work, capsys):
    path = make(work, b"x[/]\n" + ESC.encode()).relative_to(work)
    for color in (False, True):  # plain text, and a rich table (whose title is not read as markup)
        code = run_checklists([path], color)
        out, err = capsys.readouterr()
        out = re.sub("\x1b\\[[0-9;]*m", "", out)  # the table's own colours (forced: the caller asked for them)
        assert code in (0, 1), err
        assert all(line.isprintable() for line in out.splitlines()), out
        assert out.lstrip().startswith('"x[/]\\n\\033]0;owned\\a\\033[2J/Dockerfile": '), out


def test_any_failure_is_one_line_and_exit_2(work, monkeypatch):
    make(work, b"plain")

    def broken(*args, **kwargs):
        raise RuntimeError(f"boom\n{ESC}")

    monkeypatch.setattr(cli_module, "run_files", broken)
    result = dockfix("--check", ".")
    assert result.exit_code == EXIT_ERROR
    assert_clean_lines(result.stderr, 1)
    assert result.stderr.startswith("dockfix: error: dockfix bug (RuntimeError: boom\\n\\033]0;owned")


def test_show_text_keeps_printable_text_and_escapes_the_rest():
    assert show_text("curl [apt] ü 中") == "curl [apt] ü 中"
    assert show_text("a\nb\tc\x1b\u2028" + os.fsdecode(b"\xff")) == "a\\nb\\tc\\033\\342\\200\\250\\377"
    assert show_name('say "hi"') == '"say \\"hi\\""'
