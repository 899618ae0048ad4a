"""Many files through dockfix: in-process or in a pool of worker processes.

Results come back in the order of the files given (the command line sorts
them by path), whatever the number of workers, so output is the same with
--jobs 1 and --jobs 8. Small runs (one file: pre-commit) stay in-process:
starting a pool costs more than it saves, and its modules are not even
imported then. Each file has a time limit; a file that exceeds it, or that
crashes dockfix, becomes a failed result and the batch goes on.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from dockfix.runner import FAILED, FileResult, Options, display_path, process_file

DEFAULT_TIMEOUT = 60.0  # seconds per file; a real Dockerfile takes milliseconds
MIN_FILES_PER_WORKER = 8  # below this, a pool's start-up costs more than it saves


class FileTimeout(BaseException):
    """Raised inside a file's processing when its time limit is up (a BaseException: no handler swallows it)."""


def process_one(path: Path, options: Options, timeout: float | None = DEFAULT_TIMEOUT,
                show_traceback: bool = False) -> FileResult:
    """One file, never raising: a problem with the file, a timeout or a dockfix bug becomes a failed result."""
    with _time_limit(timeout):
        try:
            return process_file(path, options)
        except FileTimeout:
            return FileResult(display_path(path), FAILED, error=f"took longer than {timeout:g} s; "
                              "file left untouched (raise the limit with --timeout)")
        except Exception as err:  # a dockfix bug: say so, keep going, leave the file alone
            if show_traceback:
                raise
            return FileResult(display_path(path), FAILED, error=f"dockfix bug ({type(err).__name__}: {err}); "
                              "file left untouched; rerun with --show-traceback and report it", bug=True)


class _time_limit:
    """SIGALRM after `seconds` (main thread of a POSIX process only; elsewhere no limit)."""

    def __init__(self, seconds: float | None):
        usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        self.seconds = seconds if seconds and usable else None

    def __enter__(self) -> None:
        if self.seconds:
            self.previous = signal.signal(signal.SIGALRM, _expire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc) -> None:
        if self.seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)


def _expire(signum, frame):
    raise FileTimeout()


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def workers_for(files: int, jobs: int) -> int:
    """How many worker processes a run of `files` files gets (1: in-process)."""
    return max(1, min(jobs, files // MIN_FILES_PER_WORKER))


def run_files(files: Sequence[Path], options: Options, jobs: int = 1, timeout: float | None = DEFAULT_TIMEOUT,
              show_traceback: bool = False) -> Iterator[FileResult]:
    """A result per file, in the order given, as soon as it and every earlier one are done.

    A pool's workers are forked here, before the caller starts any thread (a
    progress bar): forking a process with other threads running can deadlock.
    """
    workers = 1 if show_traceback else workers_for(len(files), jobs)
    if workers == 1:
        return (process_one(path, options, timeout, show_traceback) for path in files)
    return _pooled(files, options, workers, timeout)


_WORKER_SETTINGS: tuple[Options, float | None] | None = None


def _init_worker(options: Options, timeout: float | None) -> None:
    global _WORKER_SETTINGS
    _WORKER_SETTINGS = (options, timeout)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


def _work(path: Path) -> FileResult:
    options, timeout = _WORKER_SETTINGS
    return process_one(path, options, timeout)


def _start(files: Sequence[Path], options: Options, workers: int, timeout: float | None):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Chunks amortise the round trips; small enough that the workers finish together.
    chunksize = max(1, min(64, len(files) // (workers * 8)))
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                               initializer=_init_worker, initargs=(options, timeout))
    return pool, pool.map(_work, files, chunksize=chunksize)  # submits everything: the workers start now


def _pooled(files: Sequence[Path], options: Options, workers: int, timeout: float | None) -> Iterator[FileResult]:
    pool, results = _start(files, options, workers, timeout)
    return _collect(pool, results, files, options, workers, timeout)


def _collect(pool, results, files, options, workers, timeout) -> Iterator[FileResult]:
    from concurrent.futures.process import BrokenProcessPool

    done = 0
    while True:
        try:
            for result in results:
                done += 1
                yield result
            return
        except BrokenProcessPool:
            pass
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        # A worker died (killed, out of memory, a crash below Python). The first file not yet
        # reported runs alone in a fresh process, so the one that kills its process is found and
        # fails alone; every breakage settles at least one file, so the batch always finishes.
        yield _alone(files[done], options, timeout)
        done += 1
        if done == len(files):
            return
        pool, results = _start(files[done:], options, workers, timeout)
        files = files[done:]
        done = 0


def _alone(path: Path, options: Options, timeout: float | None) -> FileResult:
    from concurrent.futures.process import BrokenProcessPool

    pool, results = _start([path], options, 1, timeout)
    try:
        return next(iter(results))
    except BrokenProcessPool:
        return FileResult(display_path(path), FAILED, error="the worker process died on this file (killed, or out "
                          "of memory); file left untouched")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
