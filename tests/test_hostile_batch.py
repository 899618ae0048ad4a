"""Hostile repositories, batch side: a worker killed or stopped mid-file, a time limit hit in the wrong place.

Each test runs the real command in a subprocess, through a small wrapper that replaces a
function before dockfix starts (worker processes are forked, so they inherit it): it kills
the process, or makes it hang, at a chosen point of one file's processing (the "victim"),
and the test checks what the run reports against what is on disk. No hook in dockfix.

Nothing is timed: --timeout is LIMIT seconds, the slow parts take seconds longer, and
every run has a generous timeout as a guard against a hang (a regression fails instead).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

NEEDS_FIX = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\n"
LIMIT = 5  # --timeout, seconds: a normal file takes well under it even on a loaded machine
SLOW = LIMIT + 3  # seconds the slow parts take
HANG_GUARD = 120  # seconds a whole run may take before the test calls it hung

WRAPPER = """
import os, signal, sys, tempfile, time, weakref
from pathlib import Path
import dockfix.runner as runner

def victim(path):
    return Path(path).parent.name == "victim"

real_pipeline, real_replace, real_mkstemp = runner.run_pipeline, os.replace, tempfile.mkstemp
SLOW = {slow}
{hook}
from dockfix.cli import main
sys.argv = ["dockfix", *sys.argv[1:]]
main()
"""

# After the victim's new text is renamed into place: the worker dies with the file rewritten.
KILLED_AFTER_RENAME = """
def replace(src, dst, *args, **kwargs):
    real_replace(src, dst, *args, **kwargs)
    if victim(dst) and Path(dst).name == "Dockerfile":
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
"""

# Half-way through writing the victim's temporary file: the worker dies with the file as it was.
KILLED_IN_TEMP = """
def mkstemp(*args, **kwargs):
    fd, name = real_mkstemp(*args, **kwargs)
    if victim(name):
        os.write(fd, b"FROM python:3.12-sl")
        os.kill(os.getpid(), signal.SIGKILL)
    return fd, name
tempfile.mkstemp = mkstemp
"""

HANGS_IN_TEMP = """
def mkstemp(*args, **kwargs):
    fd, name = real_mkstemp(*args, **kwargs)
    if victim(name):
        while True:
            time.sleep(0.01)
    return fd, name
tempfile.mkstemp = mkstemp
"""

HANGS_AFTER_RENAME = """
def replace(src, dst, *args, **kwargs):
    real_replace(src, dst, *args, **kwargs)
    if victim(dst) and Path(dst).name == "Dockerfile":
        while True:
            time.sleep(0.01)
os.replace = replace
"""

# A dockfix bug whose message is slow to make: the time limit is due inside the per-file handler.
SLOW_ERROR_MESSAGE = """
class SlowError(Exception):
    def __str__(self):
        time.sleep(SLOW)
        return "slow to describe"

def pipeline(text, context, *args, **kwargs):
    if context.root.name == "victim":
        raise SlowError()
    return real_pipeline(text, context, *args, **kwargs)
runner.run_pipeline = pipeline
"""

# The time limit is due inside a finaliser (which swallows exceptions), then the transform never returns.
SLOW_WEAKREF_CALLBACK = """
class Thing:
    pass

def pipeline(text, context, *args, **kwargs):
    if context.root.name == "victim":
        thing = Thing()
        ref = weakref.ref(thing, lambda r: time.sleep(SLOW))
        del thing
        while True:
            time.sleep(0.01)
    return real_pipeline(text, context, *args, **kwargs)
runner.run_pipeline = pipeline
"""

SLOW_DEL = """
class Thing:
    def __del__(self):
        time.sleep(SLOW)

def pipeline(text, context, *args, **kwargs):
    if context.root.name == "victim":
        thing = Thing()
        del thing
        while True:
            time.sleep(0.01)
    return real_pipeline(text, context, *args, **kwargs)
runner.run_pipeline = pipeline
"""

VICTIM = "good/07/victim/Dockerfile"
SUMMARY = "21 files: 20 changed, 0 unchanged, 0 skipped, 1 failed"


@pytest.fixture
def repos(tmp_path) -> Path:
    """Twenty Dockerfiles to fix and the victim among them: enough for a pool of two workers."""
    for i in range(20):
        write(tmp_path / "good" / f"{i:02}" / "Dockerfile", NEEDS_FIX)
    write(tmp_path / VICTIM, NEEDS_FIX)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run(hook: str, jobs: str, cwd: Path) -> subprocess.CompletedProcess:
    script = WRAPPER.format(slow=SLOW, hook=hook)
    try:
        return subprocess.run([sys.executable, "-c", script, "--write", "--select", "apt", "--jobs", jobs,
                               "--timeout", str(LIMIT), "good"], cwd=cwd, capture_output=True, text=True,
                              timeout=HANG_GUARD, env={**os.environ, "NO_COLOR": "1"})
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"the run hung (no time limit left?); stderr so far: {hung.stderr!r}")


def check_the_batch_went_on(done: subprocess.CompletedProcess, repos: Path) -> str:
    """Exit 2, every other file fixed and reported once, one error line (returned), the summary, no
    temporary file left anywhere."""
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert lines[-1] == SUMMARY, done.stderr
    fixed = sorted(line.split()[1] for line in lines if line.startswith("fixed "))
    assert fixed == [f"good/{i:02}/Dockerfile" for i in range(20)], done.stderr
    errors = [line for line in lines if ": error: " in line]
    assert lines[-2] == "20 hidden fixes can be enabled with --unsafe-fixes", done.stderr  # apt's unsafe fix
    assert len(errors) == 1 and len(lines) == 23, done.stderr
    assert errors[0].startswith(f"{VICTIM}: error: "), done.stderr
    for i in range(20):
        assert (repos / "good" / f"{i:02}" / "Dockerfile").read_text() != NEEDS_FIX
    assert [p.name for p in repos.rglob("*") if p.name.endswith(".dockfix")] == []
    return errors[0].removeprefix(f"{VICTIM}: error: ")


# --- a worker killed (kill -9, the out-of-memory killer) ---------------------------------

def test_a_worker_killed_after_rewriting_a_file_is_reported_with_the_file_rewritten(repos):
    # Before: the file was run again in a fresh process, found already fixed, and reported
    # "unchanged", and the run exited 1 as if nothing had gone wrong.
    done = run(KILLED_AFTER_RENAME, "2", repos)
    error = check_the_batch_went_on(done, repos)
    assert error.startswith("the worker process died on this file (killed, or out of memory); "
                            "the file changed meanwhile, most likely rewritten before the worker died"), error
    assert (repos / VICTIM).read_text() == (repos / "good" / "00" / "Dockerfile").read_text()  # the whole new text


def test_a_worker_killed_while_writing_leaves_the_file_untouched_and_no_temporary_file(repos):
    done = run(KILLED_IN_TEMP, "2", repos)
    error = check_the_batch_went_on(done, repos)
    assert error == "the worker process died on this file (killed, or out of memory); file left untouched"
    assert (repos / VICTIM).read_text() == NEEDS_FIX


# --- the time limit ------------------------------------------------------------------------

def test_a_worker_stopped_at_its_time_limit_while_writing_leaves_no_temporary_file(repos):
    # Before: the alarm fired between the creation of the temporary file and the code that removes it.
    done = run(HANGS_IN_TEMP, "2", repos)
    error = check_the_batch_went_on(done, repos)
    assert error == f"took longer than {LIMIT} s; file left untouched (raise the limit with --timeout)"
    assert (repos / VICTIM).read_text() == NEEDS_FIX


def test_a_worker_stopped_at_its_time_limit_after_rewriting_says_the_file_was_rewritten(repos):
    # Before: "file left untouched", of a file that had been rewritten.
    done = run(HANGS_AFTER_RENAME, "2", repos)
    error = check_the_batch_went_on(done, repos)
    assert error.startswith(f"took longer than {LIMIT} s; the file changed meanwhile, most likely rewritten "
                            "before the worker was stopped"), error
    assert (repos / VICTIM).read_text() != NEEDS_FIX


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_time_limit_due_in_the_per_file_handler_never_takes_the_run(repos, jobs):
    # Before: the alarm's exception escaped the handler and the whole run crashed (a traceback, exit 1).
    done = run(SLOW_ERROR_MESSAGE, jobs, repos)
    error = check_the_batch_went_on(done, repos)
    if jobs == "1":  # in-process: the alarm waits until the handler is done
        assert error.startswith("dockfix bug (SlowError: slow to describe); file left untouched"), error
    else:  # a worker: stopped by the parent at the limit
        assert error == f"took longer than {LIMIT} s; file left untouched (raise the limit with --timeout)"
    assert (repos / VICTIM).read_text() == NEEDS_FIX


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("hook", [SLOW_WEAKREF_CALLBACK, SLOW_DEL], ids=["weakref-callback", "__del__"])
def test_the_time_limit_due_in_a_finaliser_is_not_lost(repos, hook, jobs):
    # Before: the finaliser swallowed the alarm's exception ("Exception ignored in ...") and the
    # transform after it, which never returns, ran with no limit: the run hung.
    done = run(hook, jobs, repos)
    error = check_the_batch_went_on(done, repos)
    assert error == f"took longer than {LIMIT} s; file left untouched (raise the limit with --timeout)"
    assert "Exception ignored" not in done.stderr
    assert (repos / VICTIM).read_text() == NEEDS_FIX


# The victim's worker writes its process id, then never returns.
HANGS_AND_SAYS_WHO = """
def pipeline(text, context, *args, **kwargs):
    if context.root.name == "victim":
        Path(os.environ["WORKER_PID_FILE"]).write_text(str(os.getpid()))
        while True:
            time.sleep(0.01)
    return real_pipeline(text, context, *args, **kwargs)
runner.run_pipeline = pipeline
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended (its new parent may never reap it)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_hung_worker_does_not_outlive_its_killed_parent(repos, tmp_path):
    # Before: a worker stuck in a file ran forever once its parent was killed (the parent's
    # deadline went with it); now it ends itself past twice the limit plus 10 s.
    pid_file = tmp_path / "worker.pid"
    script = WRAPPER.format(slow=SLOW, hook=HANGS_AND_SAYS_WHO)
    parent = subprocess.Popen([sys.executable, "-c", script, "--check", "--select", "apt", "--jobs", "2",
                               "--timeout", str(LIMIT), "good"], cwd=repos, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env={**os.environ, "WORKER_PID_FILE": str(pid_file)})
    try:
        for _ in range(HANG_GUARD * 10):
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.1)
        worker = int(pid_file.read_text())
    finally:
        parent.kill()
        parent.wait(timeout=HANG_GUARD)
    for _ in range(HANG_GUARD * 10):
        if not alive(worker):
            break
        time.sleep(0.1)
    else:
        os.kill(worker, 9)
        pytest.fail("the worker was still running, stuck in its file, long after its parent was killed")
