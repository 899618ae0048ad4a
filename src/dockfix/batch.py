"""Many files through dockfix: in-process or in worker processes.

Results come back in the order of the files given (the command line sorts
them by path), whatever the number of workers, so output is the same with
--jobs 1 and --jobs 8. Small runs (one file: pre-commit) and --jobs 1 stay
in-process: starting a pool costs more than it saves, and its modules are
not even imported then.

One bad file never stops the batch. A file that trips a dockfix bug fails
with a "dockfix bug" result; a file that takes longer than the time limit,
or whose worker process dies (killed, out of memory, a crash below Python),
fails alone, and the other files are still processed.

In worker processes the time limit is kept from outside, with no signal:
the parent waits for results with a deadline, kills a worker past its
file's deadline and starts another; the other workers go on. When a worker
is gone the parent knows where it stood: a worker does one file at a time
and sends its result before it reads the next, so of the files it held
without a result only the first can have been started, and the others go
to another worker. For that first file the parent looks at the disk: a
write renames a finished temporary file over the old one, so a file is
either exactly as it was when handed out (same inode, size and mtime: "left
untouched") or replaced as a whole, and the result says which. The
temporary files dockfix may have left for it are removed.

In-process, only a signal can stop a transform that never returns, and a
signal lands anywhere: in the per-file handler (which it then escapes, and
the run crashes), between the creation of a temporary file and the code
that would remove it, or in a finaliser (which swallows it, and the file
has no limit left). So the alarm, once due, repeats every TICK seconds and
raises only where that is safe: inside the engine's run (run_pipeline,
called by process_file before it writes anything), and not in a __del__ or
the weakref machinery. Elsewhere it waits for the next tick; a file past
its limit but already writing finishes, and is reported. (A finaliser we
cannot tell apart, a plain weakref callback, swallows the exception
silently, and the next tick raises again.) A crash below Python, or a kill,
in-process ends the run: it is the pool that survives those.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path

from dockfix import runner
from dockfix.runner import FAILED, FileResult, Options, display_path, process_file

DEFAULT_TIMEOUT = 60.0  # seconds per file; a real Dockerfile takes milliseconds
MIN_FILES_PER_WORKER = 8  # below this, a pool's start-up costs more than it saves
TICK = 0.05  # seconds between two alarms once a file's time is up (in-process)
HELD_PER_WORKER = 4  # files a worker holds: it never waits for the parent between two, and few go back if it dies
START_LIMIT = 60.0  # seconds a new worker process may take to say it is ready (its start-up, not a file's time)
CLOSE_GRACE = 2.0  # seconds workers get to finish the file in hand when a run is cut short
READY = "ready"  # a worker's first message; then (index, FileResult) per file, in the order it got them

# What processing a Dockerfile may write beside it: the Dockerfile, and its ignore file (the
# dockerignore transform writes `<name>.dockerignore` if there is one, else `.dockerignore`).
_CONTEXT_FILES = (".dockerignore", "{name}.dockerignore")
_TEMP = "[a-z0-9_]{8}"  # tempfile.mkstemp's random part, as fileio names a temporary file: .NAME.XXXXXXXX.dockfix


class FileTimeout(BaseException):
    """Raised inside the engine's run of a file when its time is up (a BaseException: no handler swallows it)."""


def process_one(path: Path, options: Options, timeout: float | None = DEFAULT_TIMEOUT,
                show_traceback: bool = False) -> FileResult:
    """One file in this process, never raising: a problem with the file, a timeout or a dockfix bug becomes
    a failed result."""
    try:
        with _time_limit(timeout):
            return process_file(path, options)
    except FileTimeout:  # raised only inside run_pipeline: nothing was written
        return FileResult(display_path(path), FAILED, error=f"took longer than {timeout:g} s; "
                          "file left untouched (raise the limit with --timeout)")
    except (Exception, SystemExit) as err:  # a dockfix bug: say so, keep going, leave the file alone
        if show_traceback:
            raise
        return FileResult(display_path(path), FAILED, error=f"dockfix bug ({type(err).__name__}: {err}); "
                          "file left untouched; rerun with --show-traceback and report it", bug=True)


class _time_limit:
    """SIGALRM after `seconds`, then every TICK until the file is done; see the module's docstring
    (main thread of a POSIX process only; elsewhere no limit)."""

    def __init__(self, seconds: float | None):
        usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        self.seconds = seconds if seconds and usable else None

    def __enter__(self) -> None:
        if self.seconds:
            self.previous = signal.signal(signal.SIGALRM, _expire)
            self.hook = sys.unraisablehook
            sys.unraisablehook = self._unraisable
            signal.setitimer(signal.ITIMER_REAL, self.seconds, TICK)

    def __exit__(self, *exc) -> None:
        if self.seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
            sys.unraisablehook = self.hook

    def _unraisable(self, unraisable) -> None:
        """A FileTimeout swallowed by a finaliser we could not tell apart is not news: the next tick raises again."""
        if unraisable.exc_type is not FileTimeout:
            self.hook(unraisable)


def _expire(signum, frame) -> None:
    if _interruptible(frame):
        raise FileTimeout()


_WEAKREF_MODULES = ("weakref.py", "_weakrefset.py")  # weak caches and their callbacks (the transforms' caches)


def _interruptible(frame) -> bool:
    """Whether the code a signal interrupted is the engine's run of a file, where raising is safe: the run
    has no effect outside itself (process_file writes only after it returns) and process_one catches what
    it raises. Not in a finaliser (which swallows it) nor in a weak dictionary's bookkeeping."""
    engine_run = getattr(runner.run_pipeline, "__code__", None)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "__del__" or os.path.basename(code.co_filename) in _WEAKREF_MODULES:
            return False
        caller = frame.f_back
        if caller is not None and caller.f_code is process_file.__code__:
            return code is engine_run
        frame = caller
    return False


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
    return _Pool(files, options, workers, timeout).results()


# --- worker processes ---------------------------------------------------------------------------


def _serve(conn, inherited, options: Options, timeout: float | None) -> None:
    """A worker process: one file at a time, its result sent before the next is read (the parent relies on it).

    The parent keeps the time limit. If the parent is gone (killed), nobody stops a file that never
    ends, so past twice the limit and 10 s more the worker ends itself: SIGALRM's default action, no
    handler, nothing to escape or swallow (the parent, if there, reports it as the time limit).
    """
    import pickle  # a pool's messages only: a one-file run has no pool

    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        switch = 2 * timeout + 10 if timeout and hasattr(signal, "setitimer") else None
        if switch:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
        for other in inherited:  # the parent's ends, copied by fork: a worker must see EOF when the parent is gone
            other.close()
        conn.send(READY)
        while True:
            index, name = conn.recv()  # EOFError when the parent is done (or gone)
            if switch:
                signal.setitimer(signal.ITIMER_REAL, switch)
            result = process_one(Path(name), options, timeout=None)  # no signal raised in here
            if switch:
                signal.setitimer(signal.ITIMER_REAL, 0)
            try:
                message = pickle.dumps((index, result), pickle.HIGHEST_PROTOCOL)
            except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as err:  # a dockfix bug
                message = pickle.dumps((index, FileResult(result.path, FAILED, error=f"dockfix bug (result not "
                                                          f"sendable: {type(err).__name__}: {err})", bug=True)))
            conn.send_bytes(message)
    except (EOFError, OSError):
        pass
    finally:
        os._exit(0)  # no atexit handlers or stream flushes copied from the parent


class _Held:
    __slots__ = ("before", "index")

    def __init__(self, index: int, before: tuple):
        self.index = index
        self.before = before  # _identities of what the file's processing may replace, when it was handed out


class _Worker:
    def __init__(self, process, conn):
        self.process = process
        self.conn = conn
        self.held: deque[_Held] = deque()  # in the order sent: the first is the one in hand
        self.ready = False
        self.since = time.monotonic()  # when the file in hand started (until ready: when the process did)


class _Pool:
    """Worker processes, each holding a few files; results in order; deadlines kept by killing."""

    def __init__(self, files: Sequence[Path], options: Options, workers: int, timeout: float | None):
        import multiprocessing

        self.files = files
        self.options = options
        self.timeout = timeout or None
        self.fork = "fork" in multiprocessing.get_all_start_methods()
        self.context = multiprocessing.get_context("fork" if self.fork else None)
        self.pending: deque[int] = deque(range(len(files)))  # indices not handed to a worker
        self.done: dict[int, FileResult] = {}  # results not yet yielded
        self.want = workers
        self.start_error = ""
        self.pool: list[_Worker] = []
        self._staff()

    # The parent's loop: hand out files, wait for results or a deadline, settle what is lost.

    def results(self) -> Iterator[FileResult]:
        from multiprocessing.connection import wait

        reported = 0
        try:
            while reported < len(self.files):
                if reported in self.done:
                    yield self.done.pop(reported)
                    reported += 1
                    continue
                self._staff()
                self._hand_out()
                if not self.pool:
                    continue  # _staff failed what no worker can take
                ready = wait([w.conn for w in self.pool] + [w.process.sentinel for w in self.pool],
                             self._until_next_deadline())
                for worker in list(self.pool):
                    gone = worker.process.sentinel in ready
                    if (worker.conn in ready and not self._receive(worker)) or gone:
                        self._lose(worker, timed_out=False)
                now = time.monotonic()
                for worker in list(self.pool):
                    deadline = self._deadline(worker)
                    if deadline is not None and now >= deadline:
                        self._lose(worker, timed_out=True)
        finally:
            self._close()

    def _staff(self) -> None:
        """Workers up to the pool's size while files wait; if none can start, those files fail."""
        while len(self.pool) < self.want and self.pending:
            worker = self._spawn()
            if worker is None:
                self.want = len(self.pool)
                break
            self.pool.append(worker)
        if not self.pool:
            for index in self.pending:
                self.done[index] = FileResult(display_path(self.files[index]), FAILED, error="could not start a "
                                              f"worker process ({self.start_error}); file left untouched")
            self.pending.clear()

    def _spawn(self) -> _Worker | None:
        import warnings

        parent_end, child_end = self.context.Pipe()
        inherited = [parent_end, *(w.conn for w in self.pool)] if self.fork else []
        process = self.context.Process(target=_serve, args=(child_end, inherited, self.options, self.timeout),
                                       daemon=True, name="dockfix-worker")
        try:
            with warnings.catch_warnings():  # 3.12+ warns of fork with threads running (a progress bar's);
                warnings.simplefilter("ignore", DeprecationWarning)  # the worker touches none of their locks
                process.start()
        except OSError as err:
            self.start_error = err.strerror or str(err)
            parent_end.close()
            return None
        finally:
            child_end.close()
        return _Worker(process, parent_end)

    def _hand_out(self) -> None:
        for worker in self.pool:
            while self.pending and len(worker.held) < HELD_PER_WORKER:
                index = self.pending.popleft()
                path = self.files[index]
                held = _Held(index, _identities(path))  # before the worker can have started it
                try:
                    worker.conn.send((index, os.fspath(path)))
                except OSError:  # the worker is gone: its sentinel says so
                    self.pending.appendleft(index)
                    break
                if not worker.held and worker.ready:
                    worker.since = time.monotonic()
                worker.held.append(held)

    def _deadline(self, worker: _Worker) -> float | None:
        if not worker.ready:
            return worker.since + START_LIMIT
        if worker.held and self.timeout:
            # `since` is when the parent saw the previous result, after the worker went on to this file;
            # or when it handed this file to an idle worker, a pipe's delivery before the file started.
            return worker.since + self.timeout
        return None

    def _until_next_deadline(self) -> float | None:
        deadlines = [d for d in map(self._deadline, self.pool) if d is not None]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _receive(self, worker: _Worker) -> bool:
        """Take every message waiting from a worker; False if it is gone or sent nonsense."""
        import pickle

        try:
            while worker.conn.poll():
                message = worker.conn.recv()
                if message == READY:
                    worker.ready = True
                else:
                    index, result = message
                    if not worker.held or worker.held[0].index != index or not isinstance(result, FileResult):
                        return False
                    worker.held.popleft()
                    self.done[index] = result
                worker.since = time.monotonic()
        except (EOFError, OSError):  # gone; OSError: cut off in the middle of a message
            return False
        except (pickle.UnpicklingError, ValueError, TypeError, AttributeError):  # not a message of ours
            return False
        return True

    def _lose(self, worker: _Worker, timed_out: bool) -> None:
        """A worker that died or is past its deadline: stop it, keep what it sent, settle what it held."""
        self.pool.remove(worker)
        worker.process.kill()
        worker.process.join()
        if hasattr(signal, "SIGALRM") and worker.process.exitcode == -signal.SIGALRM:
            timed_out = True  # it ended itself past its time (see _serve)
        worker.process.close()
        self._receive(worker)  # results it sent before it went are real results
        worker.conn.close()
        if not worker.ready:  # it never started: it did nothing, and the next one might not start either
            self.want = max(0, self.want - 1)
            self.start_error = "a worker did not start" if timed_out else "a worker died on start-up"
        elif worker.held:
            first = worker.held.popleft()
            self.done[first.index] = self._settle(first, timed_out)
        self.pending.extendleft(reversed([h.index for h in worker.held]))  # never started: another worker's

    def _settle(self, held: _Held, timed_out: bool) -> FileResult:
        """The result of the file a worker had in hand when it died or was killed: what the disk says."""
        path = self.files[held.index]
        busy = {self.files[h.index].parent for w in self.pool for h in w.held}
        # Another worker may be writing the folder's ignore file for a Dockerfile beside this one.
        _remove_temporaries(path, everything=path.parent not in busy)
        names = _writable_names(path)
        changed = [name for name, before, now in zip(names, held.before, _identities(path), strict=True) if before != now]
        if timed_out:
            what, untouched = f"took longer than {self.timeout:g} s", "file left untouched (raise the limit with --timeout)"
            before = "before the worker was stopped"
        else:
            what, untouched = "the worker process died on this file (killed, or out of memory)", "file left untouched"
            before = "before the worker died"
        if not changed:
            error = f"{what}; {untouched}"
        else:
            which = " and ".join("the file" if name == path.name else name for name in changed)
            error = (f"{what}; {which} changed meanwhile, most likely rewritten {before} (a write is atomic: the "
                     "whole new text, never a mix); review it with git diff")
        return FileResult(display_path(path), FAILED, error=error)

    def _close(self) -> None:
        """Workers stop: at once when idle; when the run is cut short (Ctrl-C), after the file in hand, or
        are killed after CLOSE_GRACE seconds."""
        for worker in self.pool:
            worker.conn.close()  # EOF; a worker with a file in hand cannot send its result and stops
        until = time.monotonic() + CLOSE_GRACE
        for worker in self.pool:
            worker.process.join(max(0.0, until - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
                if worker.held:
                    path = self.files[worker.held[0].index]
                    _remove_temporaries(path, everything=False)
        self.pool.clear()


def _writable_names(path: Path) -> list[str]:
    return [path.name, *(name.format(name=path.name) for name in _CONTEXT_FILES)]


def _identities(path: Path) -> tuple[tuple[int, int, int, int] | None, ...]:
    """Which file each name in its folder is, for what processing `path` may write (None: no file)."""
    folder = os.path.dirname(path)  # strings, not Path: this runs for every file of a batch
    found: list[tuple[int, int, int, int] | None] = []
    for name in _writable_names(path):
        try:
            st = os.lstat(os.path.join(folder, name))
            found.append((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            found.append(None)
    return tuple(found)


def _remove_temporaries(path: Path, everything: bool) -> None:
    """Remove the temporary files a stopped worker may have left beside `path`: only dockfix's
    own (.NAME.XXXXXXXX.dockfix, this user's regular files), only in that folder; its ignore file's
    too when `everything`."""
    names = _writable_names(path) if everything else [path.name]
    pattern = re.compile("|".join(re.escape(f".{name}.") + _TEMP + re.escape(".dockfix") for name in names))
    try:
        with os.scandir(path.parent) as entries:
            found = [e for e in entries if pattern.fullmatch(e.name)]
    except OSError:
        return
    uid = os.getuid() if hasattr(os, "getuid") else None
    for entry in found:
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and (uid is None or st.st_uid == uid):
                os.unlink(entry.path)
        except OSError:
            pass
