"""Batch runs over many repositories: same output whatever the workers, one summary, exit codes.

These run the real command in a subprocess (worker pools fork; the in-process test runner
captures output in ways a pool would not see), each with a timeout.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dockfix.batch import MIN_FILES_PER_WORKER, workers_for

NEEDS_FIX = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\n"
CLEAN = 'FROM python:3.12-slim\nCMD ["python"]\n'
NOT_PYTHON = "FROM node:20\nRUN npm ci\n"
BAD = "FROM python:3.12\nRUN <<EOF\necho hi\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def org(tmp_path) -> Path:
    """Twelve repositories side by side: 40 Dockerfiles to process (15 to fix, 12 clean, 12 not
    Python, 1 bad), and ignored and vendored ones that must not be."""
    root = tmp_path / "org"
    for r in range(12):
        repo = root / f"repo{r:02}"
        (repo / ".git").mkdir(parents=True)
        write(repo / ".gitignore", "build/\n")
        write(repo / "Dockerfile", NEEDS_FIX)
        write(repo / "svc" / "api.Dockerfile", CLEAN)
        write(repo / "web" / "Dockerfile", NOT_PYTHON)
        write(repo / "build" / "Dockerfile", NEEDS_FIX)  # ignored by the repository's .gitignore
        write(repo / "node_modules" / "x" / "Dockerfile", NEEDS_FIX)  # vendored
        if r % 4 == 0:
            write(repo / "deploy" / "Dockerfile.prod", NEEDS_FIX)
    write(root / "repo05" / "broken" / "Dockerfile", BAD)
    return root


def dockfix(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dockfix", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "NO_COLOR": "1"}, **kwargs)


def test_pool_size_for_small_and_large_runs():
    assert workers_for(1, 8) == 1  # pre-commit: one file, no pool
    assert workers_for(MIN_FILES_PER_WORKER * 2 - 1, 8) == 1
    assert workers_for(MIN_FILES_PER_WORKER * 2, 8) == 2
    assert workers_for(10_000, 8) == 8


@pytest.mark.parametrize("mode", ["--check", "--diff"])
def test_one_and_two_workers_print_the_same_bytes(org, mode):
    one = dockfix(mode, "--select", "apt", "--jobs", "1", "org", cwd=org.parent)
    two = dockfix(mode, "--select", "apt", "--jobs", "2", "org", cwd=org.parent)
    assert (one.returncode, one.stdout, one.stderr) == (two.returncode, two.stdout, two.stderr)
    assert one.returncode == 2


def test_summary_order_and_exit_code_of_a_batch_with_one_bad_file(org):
    done = dockfix("--check", "--select", "apt", "--jobs", "2", "org", cwd=org.parent)
    assert done.returncode == 2  # a failure outranks changes
    stderr = done.stderr.splitlines()
    assert stderr == ["org/repo05/broken/Dockerfile:2: error: unterminated heredoc 'EOF'",
                      "15 hidden fixes can be enabled with --unsafe-fixes",  # apt's --no-install-recommends
                      "40 files: 15 changed, 12 unchanged, 12 skipped (12 not a Python image), 1 failed"]
    listed = [line.split(":")[0] for line in done.stdout.splitlines()]
    assert listed == sorted(listed, key=lambda p: Path(p).parts)  # path order
    assert len(listed) == 15 and not any("/build/" in p or "node_modules" in p for p in listed)
    assert "\x1b[" not in done.stderr  # no progress bar outside a terminal


def test_write_fixes_every_file_but_the_bad_one_and_a_second_run_is_clean(org):
    first = dockfix("--write", "--select", "apt", "org", cwd=org.parent)
    assert first.returncode == 2
    assert (org / "repo03" / "Dockerfile").read_text().endswith("rm -rf /var/lib/apt/lists/*\n")
    assert (org / "repo05" / "broken" / "Dockerfile").read_text() == BAD
    assert (org / "repo03" / "build" / "Dockerfile").read_text() == NEEDS_FIX  # ignored: untouched
    (org / "repo05" / "broken" / "Dockerfile").unlink()
    again = dockfix("--check", "--select", "apt", "org", cwd=org.parent)
    assert (again.returncode, again.stdout) == (0, "")
    assert again.stderr.splitlines()[-1].endswith(": 0 changed, 27 unchanged, 12 skipped (12 not a Python image), 0 failed")


def test_exit_codes_clean_changes_error(org):
    repo = org / "repo01"
    assert dockfix("--check", "--select", "apt", "svc", cwd=repo).returncode == 0
    assert dockfix("--check", "--select", "apt", ".", cwd=repo).returncode == 1
    assert dockfix("--check", "--select", "apt", ".", "missing", cwd=repo).returncode == 2


def test_a_single_file_prints_no_summary(org):
    done = dockfix("--check", "--select", "apt", "Dockerfile", cwd=org / "repo01")
    assert (done.returncode, done.stderr) == (1, "1 hidden fix can be enabled with --unsafe-fixes\n")


def test_the_same_file_named_twice_is_processed_once(org):
    repo = org / "repo01"
    done = dockfix("--check", "--select", "apt", "Dockerfile", "./Dockerfile", ".", cwd=repo)
    assert done.stdout.count("Dockerfile:2: [apt]") == 1
    assert done.stderr.splitlines()[-1].startswith("3 files: 1 changed")


def test_hidden_vendored_and_ignored_files_on_request(org):
    repo = org / "repo01"
    default = dockfix("--check", "--select", "apt", ".", cwd=repo)
    everything = dockfix("--check", "--select", "apt", "--include-hidden", "--no-ignore", ".", cwd=repo)
    assert "build/Dockerfile" not in default.stdout and "node_modules" not in default.stdout
    assert "build/Dockerfile:2" in everything.stdout and "node_modules/x/Dockerfile:2" in everything.stdout


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_progress_bar_on_a_terminal_only(org):
    main, secondary = os.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "dockfix", "--check", "--select", "apt", "--jobs", "1", "org"],
                              cwd=org.parent, stdout=subprocess.PIPE, stderr=secondary, timeout=120,
                              env={**os.environ, "TERM": "xterm", "COLUMNS": "100"})
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(main)
    shown = b"".join(chunks).decode("utf-8", "replace")
    shown = re.sub("\x1b\\[[0-9;]*m", "", shown)  # the colours of the report lines on a terminal
    assert done.returncode == 2
    assert "0/40" in shown  # the bar counts files
    assert "org/repo05/broken/Dockerfile:2: error: unterminated heredoc" in shown
    assert shown.rstrip().endswith("40 files: 15 changed, 12 unchanged, 12 skipped (12 not a Python image), 1 failed")
    assert done.stdout.decode().count(": [apt]") == 15  # stdout, a pipe, only has the results
    json_run = subprocess.run([sys.executable, "-m", "dockfix", "--check", "--format", "json", "org"],
                              cwd=org.parent, capture_output=True, timeout=120)
    assert json_run.stderr == b""


def test_a_file_that_kills_its_worker_fails_alone(tmp_path):
    # A stand-in for a crash below Python or the out-of-memory killer: the worker process exits.
    for i in range(20):
        write(tmp_path / "good" / f"{i:02}" / "Dockerfile", NEEDS_FIX)
    write(tmp_path / "good" / "07" / "crash" / "Dockerfile", NEEDS_FIX)
    script = (
        "import os, sys\n"
        "import dockfix.runner as runner\n"
        "real = runner.run_pipeline\n"
        "def pipeline(text, context, *a, **k):\n"
        "    if context.root.name == 'crash':\n"
        "        os._exit(3)\n"
        "    return real(text, context, *a, **k)\n"
        "runner.run_pipeline = pipeline\n"
        "from dockfix.cli import main\n"
        "sys.argv = ['dockfix', *sys.argv[1:]]\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script, "--check", "--select", "apt", "--jobs", "2", "good"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "good/07/crash/Dockerfile: error: the worker process died on this file (killed, or out of memory); "
        "file left untouched",
        "20 hidden fixes can be enabled with --unsafe-fixes",
        "21 files: 20 changed, 0 unchanged, 0 skipped, 1 failed"]
    assert done.stdout.count(": [apt]") == 20
