"""How every bench script measures: interleaved repeated runs, min and median, whole process trees.

- Interleaved: round after round, every case runs once per round, so a burst of other work on
  the machine (2 cores shared with other engineers) slows one round of every case rather than
  all the runs of one case. The minimum is the figure least disturbed by that work; the median
  says how typical it is.
- CPU time is the child's own (os.wait4's rusage: the child and the descendants it waited for),
  which does not depend on what else runs; wall time does.
- Memory is the peak of the SUM of the resident sets of the process and all its descendants,
  sampled from /proc while it runs: a pool of workers uses the sum of their memory, where
  getrusage's ru_maxrss gives only the largest single process. Linux only; elsewhere None.
- Corpus files are the ones MANIFEST.tsv names (tests/conftest.py's corpus_files): its README.md
  and the manifest itself are not Dockerfiles.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
SAMPLE_EVERY = 0.01  # seconds between two memory samples


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the process and the descendants it waited for
    peak_kib: int | None  # peak of the summed RSS of the process tree (None: not sampled)
    returncode: int
    stderr: str


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc/*/stat (no /proc/PID/task/*/children on every kernel)."""
    tree: dict[int, list[int]] = {}
    for entry in os.scandir(PROC):
        if not entry.name.isdigit():
            continue
        try:
            stat = (PROC / entry.name / "stat").read_bytes()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rfind(b")") + 2:].split()  # after the command name, which may hold spaces
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _rss_kib(pid: int) -> int:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0  # gone, or a zombie (no VmRSS line)


def tree_rss_kib(root: int) -> int:
    """The summed resident set of `root` and all its descendants, now."""
    children = _children()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_kib(pid)
        todo.extend(children.get(pid, ()))
    return total


def run_once(argv: Sequence[str], cwd: Path | None = None, env: Mapping[str, str] | None = None,
             memory: bool = False, stdin: bytes | None = None, timeout: float = 3600) -> Run:
    """One run of argv, stdout discarded, stderr kept; memory=True samples the tree's RSS."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as given:
        if stdin is not None:
            given.write(stdin)
            given.seek(0)
        began = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=cwd, env=None if env is None else dict(env), stdin=given,
                                stdout=subprocess.DEVNULL, stderr=err)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], tree_rss_kib(proc.pid))
                done.wait(SAMPLE_EVERY)

        sampler = threading.Thread(target=sample, daemon=True) if memory and PROC.is_dir() else None
        if sampler:
            sampler.start()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # the rusage of this child alone
        finally:
            timer.cancel()
            done.set()
        wall = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        if sampler:
            sampler.join()
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    return Run(wall, usage.ru_utime + usage.ru_stime, peak[0] if sampler else None, proc.returncode, text)


def interleaved(cases: Mapping[str, Callable[[], Run]], rounds: int, warm_up: bool = True) -> dict[str, list[Run]]:
    """Every case once per round, `rounds` rounds; a first, unrecorded round warms caches up."""
    if warm_up:
        for case in cases.values():
            case()
    runs: dict[str, list[Run]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            runs[name].append(case())
    return runs


def min_median(values: Sequence[float]) -> tuple[float, float]:
    return min(values), statistics.median(values)


def load_note() -> str:
    return (f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
            "(other work on the machine raises wall times and medians; minima and CPU times less)")
