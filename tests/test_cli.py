"""The command line, as a user meets it: exit codes, diffs that apply, bad input.

Most tests run the typer app in-process (fast); one runs the installed
`dockfix` script in a subprocess.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dockfix.runner as runner_module
from dockfix.cli import EXIT_CHANGES, EXIT_CLEAN, EXIT_ERROR, app
from dockfix.edits import Edit
from dockfix.engine import Fix, Transform
from dockfix.transforms import PIPELINE

from .conftest import ROOT

NEEDS_FIX = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\n"
FIXED = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
CLEAN = "FROM python:3.12-slim\nCMD [\"python\"]\n"


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def dockfix(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def git_apply(folder: Path, patch: str) -> None:
    (folder / ".patch").write_bytes(patch.encode("utf-8"))
    for args in (["apply", "--check"], ["apply"]):
        done = subprocess.run(["git", "-c", "core.autocrlf=false", *args, ".patch"], cwd=folder,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr + patch
    (folder / ".patch").unlink()


# --- the three modes ---------------------------------------------------------

@pytest.mark.parametrize("text", [NEEDS_FIX, NEEDS_FIX.replace("\n", "\r\n"), NEEDS_FIX.rstrip("\n"),
                                  "\ufeff" + NEEDS_FIX], ids=["lf", "crlf", "no-final-newline", "bom"])
def test_diff_applies_with_git_apply_and_gives_the_written_file(work, text):
    write(work / "a" / "Dockerfile", text)
    write(work / "b" / "Dockerfile", text)
    diffed = dockfix("--diff", "--select", "apt", "a/Dockerfile")
    assert diffed.exit_code == EXIT_CHANGES
    assert diffed.stdout.startswith("diff --git a/a/Dockerfile b/a/Dockerfile\n")
    assert (work / "a" / "Dockerfile").read_bytes() == text.encode("utf-8")  # --diff writes nothing
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    git_apply(work, diffed.stdout_bytes.decode("utf-8"))  # .stdout turns "\r\n" into "\n"
    assert dockfix("--write", "--select", "apt", "b/Dockerfile").exit_code == EXIT_CHANGES
    assert (work / "a" / "Dockerfile").read_bytes() == (work / "b" / "Dockerfile").read_bytes()


def test_write_then_a_second_run_has_nothing_to_do(work):
    path = write(work / "Dockerfile", NEEDS_FIX)
    first = dockfix("--write", "--select", "apt", "Dockerfile")
    assert first.exit_code == EXIT_CHANGES and first.stdout == ""
    assert "fixed Dockerfile" in first.stderr
    assert path.read_text() == FIXED
    for mode in ("--write", "--check", "--diff"):
        again = dockfix(mode, "--select", "apt", "Dockerfile")
        assert (again.exit_code, again.stdout) == (EXIT_CLEAN, "")


def test_check_lists_file_and_line_and_writes_nothing(work):
    path = write(work / "Dockerfile", NEEDS_FIX)
    result = dockfix("--check", "--select", "apt", "Dockerfile")
    assert result.exit_code == EXIT_CHANGES
    assert result.stdout.splitlines() == ["Dockerfile:2: [apt] DF101 remove the apt package lists after installing "
                                          "(hadolint DL3009)"]
    assert path.read_text() == NEEDS_FIX


def test_default_mode_is_diff_and_a_clean_file_exits_0(work):
    write(work / "Dockerfile", CLEAN)
    result = dockfix("Dockerfile")
    assert (result.exit_code, result.stdout, result.stderr) == (EXIT_CLEAN, "", "")
    write(work / "Dockerfile", NEEDS_FIX)
    assert dockfix("--select", "apt", "Dockerfile").stdout.startswith("diff --git")


def test_modes_are_exclusive_and_a_path_is_required(work):
    for args in (["--diff", "--write", "Dockerfile"], []):
        result = dockfix(*args)
        assert result.exit_code == EXIT_ERROR
        assert result.stderr.startswith("dockfix: error: ") and result.stderr.count("\n") == 1


def test_unsafe_fixes_only_on_request(work):
    write(work / "Dockerfile", NEEDS_FIX)
    assert "--no-install-recommends" not in dockfix("--select", "apt", "Dockerfile").stdout
    assert "--no-install-recommends" in dockfix("--select", "apt", "--unsafe-fixes", "Dockerfile").stdout


# --- choosing files and transforms -------------------------------------------

def test_a_folder_means_every_dockerfile_below_it(work):
    names = ["Dockerfile", "svc/Dockerfile.dev", "svc/api.Dockerfile", "svc/worker.dockerfile",
             "deep/er/Containerfile"]
    for name in names:
        write(work / "repo" / name, NEEDS_FIX)
    for name in ["README.md", "svc/Dockerfile.orig", ".hidden/Dockerfile", "node_modules/x/Dockerfile"]:
        write(work / "repo" / name, NEEDS_FIX)
    result = dockfix("--check", "--select", "apt", "repo")
    listed = sorted({line.split(":")[0] for line in result.stdout.splitlines()})
    assert listed == sorted(f"repo/{n}" for n in names)


def test_select_and_ignore(work):
    write(work / "Dockerfile", NEEDS_FIX)
    assert dockfix("--check", "--ignore", "apt", "--select", "apt", "Dockerfile").exit_code == EXIT_CLEAN
    assert dockfix("--check", "--select", "apt", "Dockerfile").exit_code == EXIT_CHANGES
    unknown = dockfix("--check", "--select", "apt,nope", "Dockerfile")
    assert unknown.exit_code == EXIT_ERROR and "unknown rule or transform: nope" in unknown.stderr
    typo = dockfix("--check", "--ignore", "DF1O1", "Dockerfile")
    assert typo.exit_code == EXIT_ERROR and "unknown rule or transform: DF1O1 (did you mean DF101?)" in typo.stderr
    assert dockfix("--check", "--select", "DL3009", "Dockerfile").exit_code == EXIT_CHANGES
    assert dockfix("--check", "--select", "apt", "--ignore", "DF101", "Dockerfile").exit_code == EXIT_CLEAN


def test_list_shows_the_pipeline_in_order():
    result = dockfix("--list")
    assert result.exit_code == EXIT_CLEAN
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines if not line.startswith(" ")] == [t.name for t in PIPELINE]
    assert [line.split()[0] for line in lines if line.startswith(" ")] == [r.code for t in PIPELINE for r in t.rules]
    assert "  DF102  apt-no-recommends         unsafe  DL3015" in lines


def test_explain_a_rule_by_its_code_or_hadolint_code():
    for name in ("DF102", "DL3015"):
        result = dockfix("--explain", name)
        assert result.exit_code == EXIT_CLEAN and result.stdout.startswith("DF102 apt-no-recommends (unsafe fix")
        assert "## Rules" in result.stdout
    typo = dockfix("--explain", "DF1O2")
    assert typo.exit_code == EXIT_ERROR and "did you mean DF102?" in typo.stderr


def test_explain_prints_a_page_with_the_agreed_headings():
    result = dockfix("--explain", "apt")
    assert result.exit_code == EXIT_CLEAN
    for heading in ("What it does", "Why it matters", "Example", "Safety", "Limits"):
        assert f"## {heading}" in result.stdout
    missing = dockfix("--explain", "nope")
    assert missing.exit_code == EXIT_ERROR and missing.stderr.count("\n") == 1


# --- bad input: one line, exit 2, file untouched, the rest still processed ----

def _snapshot(path: Path):
    if not path.exists() and not path.is_symlink():
        return None
    st = path.lstat()
    return (path.read_bytes() if path.is_file() else None, st.st_mtime_ns, st.st_mode)


BAD_INPUTS = {
    "missing": (None, "no such file", None),
    "binary": (b"FROM x\n\x00\x01\x02", "binary file", None),
    "not-utf8": (b"FROM python:3.12\nLABEL a=\xe9t\xe9\n", "not UTF-8", 2),
    "unterminated-heredoc": ("FROM python:3.12\nRUN <<EOF\necho hi\n", "unterminated heredoc", 2),
    "empty": ("", "empty file", None),
    "blank-only": ("\n  \n", "empty file", None),
    "comments-only": ("# nothing here\n", "no instructions", None),
    "unknown-instruction": ("FROM python:3.12\n{% if x %}\nRUN x\n", "unknown instruction", 2),
}


@pytest.mark.parametrize("mode", ["--diff", "--write", "--check"])
@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_gets_one_line_and_the_batch_goes_on(work, name, mode):
    content, message, line = BAD_INPUTS[name]
    bad = work / "bad" / "Dockerfile"
    if content is not None:
        write(bad, content)
    good = write(work / "good" / "Dockerfile", NEEDS_FIX)
    before = _snapshot(bad)
    result = dockfix(mode, "--select", "apt", "bad/Dockerfile", "good/Dockerfile")
    assert result.exit_code == EXIT_ERROR
    errors = result.stderr.splitlines()
    mine = [e for e in errors if e.startswith("bad/Dockerfile")]
    assert len(mine) == 1, result.stderr
    where = f"bad/Dockerfile:{line}: " if line else "bad/Dockerfile: "
    assert mine[0].startswith(where + "error: ") and message in mine[0], mine[0]
    assert _snapshot(bad) == before
    # The other file was still processed.
    if mode == "--write":
        assert good.read_text() == FIXED
    elif mode == "--diff":
        assert "b/good/Dockerfile" in result.stdout
    else:
        assert "good/Dockerfile:2:" in result.stdout


def test_unreadable_file(work, monkeypatch):
    # Tests may run as root, where chmod 000 does not stop reading: fail the read itself.
    bad = write(work / "Dockerfile", NEEDS_FIX)
    real = os.open

    def os_open(path, *args, **kwargs):
        if Path(path).name == "Dockerfile" and Path(path).resolve().parent == work.resolve():
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    result = dockfix("--write", "Dockerfile")
    assert result.exit_code == EXIT_ERROR
    assert result.stderr == "Dockerfile: error: cannot read: Permission denied\n"
    monkeypatch.undo()
    assert bad.read_text() == NEEDS_FIX


def test_a_folder_without_dockerfiles_is_a_warning(work):
    write(work / "empty" / "README.md", "hi\n")
    good = write(work / "Dockerfile", NEEDS_FIX)
    result = dockfix("--write", "--select", "apt", "empty", "Dockerfile")
    assert result.exit_code == EXIT_CHANGES  # as ruff: nothing to do there is not an error
    assert result.stderr.splitlines()[0] == "empty: warning: no Dockerfile found in this folder"
    assert good.read_text() == FIXED
    alone = dockfix("--check", "empty")
    assert (alone.exit_code, alone.stdout) == (EXIT_CLEAN, "")


def test_read_only_file_is_refused_under_write_even_as_root(work):
    bad = write(work / "ro" / "Dockerfile", NEEDS_FIX)
    bad.chmod(0o444)
    good = write(work / "Dockerfile", NEEDS_FIX)
    before = _snapshot(bad)
    result = dockfix("--write", "--select", "apt", "ro/Dockerfile", "Dockerfile")
    assert result.exit_code == EXIT_ERROR
    assert "ro/Dockerfile: error: file is read-only" in result.stderr.splitlines()
    assert _snapshot(bad) == before and good.read_text() == FIXED
    # Reading it is fine: --diff and --check work on a read-only file.
    assert dockfix("--check", "--select", "apt", "ro/Dockerfile").exit_code == EXIT_CHANGES


def test_symlinked_dockerfile_is_refused_under_write(work):
    target = write(work / "real" / "Dockerfile", NEEDS_FIX)
    (work / "link").mkdir()
    (work / "link" / "Dockerfile").symlink_to(target)
    result = dockfix("--write", "--select", "apt", "link/Dockerfile")
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.splitlines() == ["link/Dockerfile: error: is a symbolic link; dockfix does not write "
                                          "through links"]
    assert target.read_text() == NEEDS_FIX and (work / "link" / "Dockerfile").is_symlink()


def test_a_file_changed_after_it_was_read_is_not_overwritten(work, monkeypatch):
    path = write(work / "Dockerfile", NEEDS_FIX)
    edited = NEEDS_FIX + "# edited meanwhile\n"
    real = runner_module.run_pipeline

    def slow_pipeline(*args, **kwargs):
        outcome = real(*args, **kwargs)
        path.write_text(edited)  # an editor saves while dockfix works
        return outcome

    monkeypatch.setattr(runner_module, "run_pipeline", slow_pipeline)
    result = dockfix("--write", "--select", "apt", "Dockerfile")
    assert result.exit_code == EXIT_ERROR
    assert result.stderr == "Dockerfile: error: file changed while dockfix ran; not overwritten\n"
    assert path.read_text() == edited
    assert [p.name for p in work.iterdir()] == ["Dockerfile"]  # no temporary file left behind


def test_write_keeps_mode_crlf_and_bom(work):
    text = "\ufeffFROM python:3.12-slim\r\nRUN apt-get update && \\\r\n    apt-get install -y curl\r\n"
    path = write(work / "Dockerfile", text)
    path.chmod(0o640)
    assert dockfix("--write", "--select", "apt", "Dockerfile").exit_code == EXIT_CHANGES
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfFROM") and raw.count(b"\r\n") == raw.count(b"\n") == 4
    assert raw.endswith(b"    rm -rf /var/lib/apt/lists/*\r\n")
    assert path.stat().st_mode & 0o777 == 0o640


# --- dockfix's own bugs --------------------------------------------------------

def _breaks_syntax(tree, context):
    yield Fix("breaker", "break it", 1, (Edit(0, 0, "NOT_AN_INSTRUCTION\n"),))


def _crashes(tree, context):
    raise ValueError("boom")


@pytest.mark.parametrize("find, message", [(_breaks_syntax, "does not parse"), (_crashes, "ValueError: boom")])
def test_a_dockfix_bug_is_reported_and_nothing_is_written(work, monkeypatch, find, message):
    path = write(work / "Dockerfile", NEEDS_FIX)
    other = write(work / "b" / "Dockerfile", NEEDS_FIX)
    broken = Transform("breaker", "", find)
    monkeypatch.setattr(runner_module, "choose", lambda select, ignore: (broken,) if select is None else PIPELINE[:0]
                        + tuple(t for t in PIPELINE if t.name in select))
    result = dockfix("--write", "Dockerfile")
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.count("\n") == 1 and "dockfix bug" in result.stderr and message in result.stderr
    assert path.read_text() == NEEDS_FIX
    assert dockfix("--write", "--select", "apt", "b/Dockerfile").exit_code == EXIT_CHANGES
    assert other.read_text() == FIXED
    if find is _crashes:  # asked for, the traceback is shown
        shown = CliRunner().invoke(app, ["--show-traceback", "--write", "Dockerfile"])
        assert isinstance(shown.exception, ValueError)


# --- the real script -----------------------------------------------------------

def test_installed_script_on_the_bundled_example(tmp_path):
    script = Path(sys.executable).parent / "dockfix"
    if not script.exists():
        pytest.skip(f"the dockfix console script is not installed beside {sys.executable}")
    shutil.copytree(ROOT / "examples" / "fastapi-app", tmp_path / "app")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    done = subprocess.run([str(script), "--diff", "app/Dockerfile"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == EXIT_CHANGES, done.stderr
    assert "Traceback" not in done.stderr
    git_apply(tmp_path, done.stdout)
    again = subprocess.run([str(script), "--check", "app/Dockerfile"], cwd=tmp_path, capture_output=True, text=True)
    assert (again.returncode, again.stdout) == (EXIT_CLEAN, ""), again.stdout + again.stderr
