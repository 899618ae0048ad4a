"""Safe on repositories nobody vetted.

- dockfix never executes anything from a repository (no process is started during a run);
- --write never follows a symbolic link out of the tree it was given, and never writes through one;
- pathological inputs are processed in time linear in their size, or refused above the
  documented size limit (fileio.MAX_SIZE), and never hang or crash the batch.

Time is never asserted (the suite runs on loaded machines): each pathological input runs in a
subprocess with a timeout (a regression fails instead of hanging), and linearity is the ratio
of the WORK done for an input four times larger, work being the Python function calls and
lines dockfix executes (sys.settrace events: deterministic, whatever the machine's load). A
linear algorithm gives about 4, a quadratic one about 16; the bound is 5.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockfix.cli import EXIT_CHANGES, EXIT_ERROR, app
from dockfix.fileio import MAX_SIZE

from .conftest import ROOT

NEEDS_FIX = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\n"
COPY_ALL = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"


def dockfix(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- nothing from a repository is executed -------------------------------------------

def test_a_run_starts_no_process(tmp_path, monkeypatch, corpus):
    # Every corpus file, each in its own folder with files a build would run (a setup.py, a
    # Makefile, an executable script), and the bundled example: any process started fails the test.
    for path in corpus:
        folder = tmp_path / "repos" / path.name
        write(folder / "Dockerfile", path.read_bytes().decode("utf-8", "replace"))
        write(folder / "setup.py", "raise SystemExit('executed')\n")
        hook = write(folder / "entrypoint.sh", "#!/bin/sh\ntouch EXECUTED\n")
        hook.chmod(0o755)
    shutil.copytree(ROOT / "examples" / "fastapi-app", tmp_path / "repos" / "example")
    started = []

    def refuse(*args, **kwargs):
        started.append(args)
        raise AssertionError(f"dockfix started a process: {args!r}")

    for module, name in [(subprocess, "Popen"), (os, "system"), (os, "popen"), (os, "posix_spawn"),
                         (os, "posix_spawnp"), (os, "execv"), (os, "execve"), (os, "execvp"), (os, "fork")]:
        if hasattr(module, name):
            monkeypatch.setattr(module, name, refuse)
    monkeypatch.chdir(tmp_path)
    for mode in ("--check", "--diff", "--write"):
        result = dockfix(mode, "--unsafe-fixes", "--jobs", "1", "repos")
        assert result.exit_code in (EXIT_CHANGES, EXIT_ERROR), result.stderr
    assert started == []
    assert not list((tmp_path / "repos").rglob("EXECUTED"))


# --- links -----------------------------------------------------------------------------

@pytest.fixture
def outside(tmp_path):
    """A folder beside the tree, with a Dockerfile dockfix would change."""
    folder = tmp_path / "outside"
    write(folder / "Dockerfile", NEEDS_FIX)
    write(folder / "requirements.txt", "flask\n")
    return folder


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_write_on_a_folder_does_not_follow_a_linked_folder_out_of_the_tree(tmp_path, outside, monkeypatch):
    tree = tmp_path / "tree"
    write(tree / "Dockerfile", NEEDS_FIX)
    (tree / "shared").symlink_to(outside, target_is_directory=True)
    (tree / "deep").mkdir()
    (tree / "deep" / "Dockerfile").symlink_to(outside / "Dockerfile")
    before = _snapshot(outside)
    monkeypatch.chdir(tmp_path)
    result = dockfix("--write", "--select", "apt", "--include-hidden", "--no-ignore", "tree")
    assert result.exit_code == EXIT_CHANGES, result.stderr
    assert "rm -rf /var/lib/apt/lists" in (tree / "Dockerfile").read_text()  # the tree's own file is fixed
    assert _snapshot(outside) == before
    assert (tree / "deep" / "Dockerfile").is_symlink()


def test_write_never_writes_through_a_named_link(tmp_path, outside, monkeypatch):
    (tmp_path / "Dockerfile").symlink_to(outside / "Dockerfile")
    before = _snapshot(outside)
    monkeypatch.chdir(tmp_path)
    result = dockfix("--write", "--select", "apt", "Dockerfile")
    assert result.exit_code == EXIT_ERROR
    assert "symbolic link" in result.stderr
    assert _snapshot(outside) == before and (tmp_path / "Dockerfile").is_symlink()


@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_a_linked_dockerignore_is_never_written_through_nor_read(tmp_path, outside, monkeypatch, dangling):
    repo = tmp_path / "repo"
    write(repo / "Dockerfile", COPY_ALL)
    write(repo / "requirements.txt", "flask\n")
    write(outside / "secret", "TOKEN=hunter2\n")
    (repo / ".dockerignore").symlink_to(outside / ("missing" if dangling else "secret"))
    before, dockerfile = _snapshot(outside), (repo / "Dockerfile").read_bytes()
    monkeypatch.chdir(tmp_path)
    for mode in ("--diff", "--write"):
        result = dockfix(mode, "--select", "dockerignore", "repo")
        assert result.exit_code == EXIT_ERROR
        assert "repo/.dockerignore is a symbolic link" in result.stderr
        assert "hunter2" not in result.stdout + result.stderr
    assert _snapshot(outside) == before and not (outside / "missing").exists()
    assert (repo / "Dockerfile").read_bytes() == dockerfile  # nothing half-applied


# --- pathological inputs ---------------------------------------------------------------

# Each builds a Dockerfile from a size n (an expression of n), or a dict of the files of the
# build context (the Dockerfile among them); the test counts the work for n and 4n.
SHAPES = {
    "heredoc-never-ends": '"FROM python:3.12\\nRUN <<EOF\\n" + "echo hi\\n" * n',
    "nested-parentheses": '"FROM python:3.12\\nRUN echo " + "$(" * n + "x" + ")" * n + "\\n"',
    "nested-quoting": '"FROM python:3.12\\nRUN echo " + "\\"$(echo \'" * n + "x" + "\')\\"" * n + "\\n"',
    "nested-subshells": '"FROM python:3.12\\nRUN " + "(" * n + "pip install x" + ")" * n + "\\n"',
    "unclosed-quote": '"FROM python:3.12\\nRUN echo \\"" + "a " * n + "\\n"',
    "one-long-line": '"FROM python:3.12\\nRUN pip install " + "pkg " * n + "\\n"',
    "many-instructions": '"FROM python:3.12\\n" + ("RUN apt-get update && apt-get install -y curl\\n"'
                         ' "COPY . /app\\nRUN pip install -r requirements.txt\\n") * (n // 50)',
    # The four (2,500 to 5,000 segments took 39 s to 153 s; 10,000 RUN lines 45 s; 10,000
    # stages 85 s; 400 `!` lines beside 10,000 files 30 s):
    "pipe-segments": '"FROM python:3.12\\nRUN " + "pip install a | " * n + "true\\n"',
    "install-lines": '"FROM python:3.12\\n" + "RUN pip install a\\n" * n',
    "stages": '"FROM python:3.12\\n" * n + "RUN pip install a\\n"',
    "dockerignore-negations": (
        '{"Dockerfile": "FROM python:3.12\\nWORKDIR /app\\nCOPY . .\\nRUN pip install -r requirements.txt\\n",'
        ' "requirements.txt": "flask\\n", ".dockerignore": "*.log\\n" + "".join(f"!files/f{i}.txt\\n" for i in range(n)),'
        ' **{f"files/f{i}.txt": "" for i in range(25 * n)}}'),
}
SHAPES["continuation"] = (  # added apart: its escapes are easier to read on their own
    '"FROM python:3.12\\nRUN apt-get update && apt-get install -y \\\\\\n" + "    pkg \\\\\\n" * n + "    last\\n"')

PROBE = """
import json, sys
from pathlib import Path
import dockfix.runner as runner
from dockfix.batch import process_one
from dockfix.runner import Options

def build(n, folder):
    files = eval(sys.argv[1])
    for name, text in ({"Dockerfile": files} if isinstance(files, str) else files).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder / "Dockerfile"

count = 0
def trace(frame, event, arg):  # every call and every line executed
    global count
    count += 1
    return trace

def traced(call, *args, **kwargs):
    sys.settrace(trace)
    try:
        return call(*args, **kwargs)
    finally:
        sys.settrace(None)

def run(path):
    return process_one(path, Options("check", unsafe_fixes=True), timeout=None)

if sys.argv[4] == "pipeline":  # the transforms' passes only (not reading, diffing, reporting)
    pipeline = runner.run_pipeline
    runner.run_pipeline = lambda *args, **kwargs: traced(pipeline, *args, **kwargs) if tracing else pipeline(*args, **kwargs)
tracing = False
run(build(max(int(sys.argv[2]) // 16, 1), Path(sys.argv[3]) / "warm-up"))  # imports, compiled patterns: not the input's
out = {}
for size in (int(sys.argv[2]), 4 * int(sys.argv[2])):
    path = build(size, Path(sys.argv[3]) / str(size))
    count, tracing = 0, True
    result = run(path) if sys.argv[4] == "pipeline" else traced(run, path)
    tracing = False
    out[size] = {"size": path.stat().st_size, "work": count, "status": result.status, "error": result.error}
print(json.dumps(out))
"""


def measure_work(shape: str, n: int, folder: Path, scope: str = "file") -> tuple[dict, dict]:
    """The work (see the module's documentation) for the shape at n and 4n, in a fresh interpreter:
    of the whole run of the file (scope "file"), or of the transforms' pipeline only ("pipeline")."""
    done = subprocess.run([sys.executable, "-c", PROBE, shape, str(n), str(folder), scope],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    small, large = json.loads(done.stdout).values()
    return small, large


def assert_linear(name: str, small: dict, large: dict) -> None:
    assert large["size"] < MAX_SIZE, "the case must stay under the size limit to measure anything"
    assert large["status"] == small["status"] and large["error"] == small["error"]
    assert large["error"] is None or "dockfix bug" not in large["error"], large["error"]
    ratio = large["work"] / small["work"]
    assert ratio < 5, f"{name}: 4x the input took {ratio:.1f}x the work ({small} vs {large})"


# (shape, n): big enough that the input's work outweighs a run's fixed work, small enough that
# tracing every line stays quick (each RUN's script is parsed once per file, whatever its size:
# the file's parse memo, syntax.Instruction.memo).
CASES = [("continuation", 1_500), ("heredoc-never-ends", 5_000), ("nested-parentheses", 3_000),
         ("nested-quoting", 1_000), ("nested-subshells", 5_000), ("unclosed-quote", 5_000),
         ("one-long-line", 3_000), ("many-instructions", 2_000),
         ("pipe-segments", 250), ("install-lines", 250), ("stages", 500), ("dockerignore-negations", 40)]


@pytest.mark.slow  # subprocesses tracing every line: 1 to 5 s each
@pytest.mark.parametrize("shape, n", CASES, ids=[c[0] for c in CASES])
def test_pathological_input_takes_work_linear_in_its_size(tmp_path, shape, n):
    small, large = measure_work(SHAPES[shape], n, tmp_path)
    assert_linear(shape, small, large)


@pytest.mark.slow  # subprocesses timing real work: about 2 s each
def test_the_brief_s_sizes_finish_in_time(tmp_path):
    """A 100,000-line continuation, a heredoc that never ends over 100,000 lines and 50,000
    levels of nested parentheses: all under the size limit, all processed within the timeout."""
    folder = tmp_path / "repo"
    write(folder / "a" / "Dockerfile", "FROM python:3.12\nRUN apt-get install -y \\\n" + "  pkg \\\n" * 100_000 + "  x\n")
    write(folder / "b" / "Dockerfile", "FROM python:3.12\nRUN <<EOF\n" + "echo hi\n" * 100_000)
    write(folder / "c" / "Dockerfile", "FROM python:3.12\nRUN echo " + "$(" * 50_000 + "x" + ")" * 50_000 + "\n")
    write(folder / "d" / "Dockerfile", "FROM python:3.12\nRUN echo " + "'\"" * 50_000 + "\n")
    done = subprocess.run([sys.executable, "-m", "dockfix", "--check", "--format", "json", "--jobs", "1",
                           "--timeout", "60", str(folder)], capture_output=True, text=True, timeout=120)
    records = {Path(r["path"]).parent.name: r for r in json.loads(done.stdout)["files"]}
    assert set(records) == {"a", "b", "c", "d"}
    assert records["b"]["status"] == "failed" and "unterminated heredoc" in records["b"]["error"]["message"]
    for name in "acd":
        assert records[name]["status"] != "failed" or "dockfix bug" not in records[name]["error"]["message"]
        assert records[name]["error"] is None or "took longer" not in records[name]["error"]["message"]


@pytest.mark.slow  # subprocesses timing real work: about 2 s each
def test_files_above_the_size_limit_are_refused_quickly_with_a_clear_message(tmp_path):
    # A 10 MB file and a single 5 MB line: refused before they are read, and the batch goes on.
    write(tmp_path / "huge" / "Dockerfile", "FROM python:3.12\n" + "RUN echo hi\n" * (10 * 1024 * 1024 // 12))
    write(tmp_path / "line" / "Dockerfile", "FROM python:3.12\nRUN echo " + "x" * (5 * 1024 * 1024) + "\n")
    write(tmp_path / "good" / "Dockerfile", NEEDS_FIX)
    done = subprocess.run([sys.executable, "-m", "dockfix", "--check", "--select", "apt", "--jobs", "1", "huge",
                           "line", "good"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == EXIT_ERROR
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert sorted(errors) == [f"{name}/Dockerfile: error: file too large ({(tmp_path / name / 'Dockerfile').stat().st_size}"
                              f" bytes; dockfix reads Dockerfiles up to {MAX_SIZE} bytes)" for name in ("huge", "line")]
    assert "good/Dockerfile:2: [apt]" in done.stdout


@pytest.mark.slow  # subprocesses timing real work: about 2 s each
def test_a_file_that_takes_too_long_fails_alone_and_the_batch_goes_on(tmp_path):
    # A stand-in for a pathological file the limits above do not catch: a transform that never returns.
    write(tmp_path / "slow" / "Dockerfile", NEEDS_FIX)
    for i in range(20):  # enough files for a pool of two workers
        write(tmp_path / "good" / f"{i:02}" / "Dockerfile", NEEDS_FIX)
    script = (
        "import sys, time\n"
        "import dockfix.runner as runner\n"
        "real = runner.run_pipeline\n"
        "def pipeline(text, context, *a, **k):\n"
        "    if 'slow' in str(context.root):\n"
        "        while True: time.sleep(0.01)\n"
        "    return real(text, context, *a, **k)\n"
        "runner.run_pipeline = pipeline\n"
        "from dockfix.cli import main\n"
        "sys.argv = ['dockfix', *sys.argv[1:]]\n"
        "main()\n"
    )
    for jobs in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", script, "--check", "--select", "apt", "--jobs", jobs,
                               "--timeout", "1", "slow", "good"], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == EXIT_ERROR, done.stderr
        assert "slow/Dockerfile: error: took longer than 1 s; file left untouched" in done.stderr
        assert done.stdout.count(": [apt]") == 20 and "good/19/Dockerfile:2: [apt]" in done.stdout
        assert "21 files: 20 changed, 0 unchanged, 0 skipped, 1 failed" in done.stderr
