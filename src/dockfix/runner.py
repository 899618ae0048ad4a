"""One file through dockfix: read, fix, diff, maybe write. Results are data.

`process_file` never raises for a problem with the user's file: it returns a
FileResult saying what happened, so a batch can count results and go on.

Standard input (`dockfix - < Dockerfile`, or an editor) goes through the same
function with the text already read: the path then only names the file (its
folder is the build context and the start of the config search, its name is
the one reports show), and nothing is ever written, neither the Dockerfile
(`--write -` gives the fixed text back in the result) nor a context file such
as a new `.dockerignore` (the result says so in a warning).

With safe fixes only, a file whose transforms proposed an unsafe fix is run a
second time with unsafe fixes on, to count what `--unsafe-fixes` would add
(`hidden_fixes`, the "N hidden fixes" hint). Files with no unsafe proposal,
most of them, are run once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockfix.config import ConfigError, Folders, find_config, load_config
from dockfix.context import Context
from dockfix.diagnostics import NOT_PYTHON as NOT_PYTHON_NOTE
from dockfix.diff import Replacement, replacements, unified_diff
from dockfix.engine import EngineBug, Transform, run_pipeline
from dockfix.fileio import Change, InputError, Source, WriteError, read_source, write_together
from dockfix.syntax import ParseError
from dockfix.transforms import choose

CHANGED, UNCHANGED, SKIPPED, FAILED = "changed", "unchanged", "skipped", "failed"
STATUSES = (CHANGED, UNCHANGED, SKIPPED, FAILED)

# Why a whole file was left alone (the reason a batch summary counts it under).
NOT_PYTHON = "not a Python image"
IGNORE_FILE = "dockfix: ignore-file"


@dataclass(frozen=True)
class Options:
    mode: str = "diff"  # "diff", "write" or "check"
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool | None = None  # None: as the config says
    roots: tuple[Path, ...] = ()  # the folders named on the command line: outside a repository, the
    # config search climbs no higher than the one that holds the file
    config: Path | None = None  # --config FILE: this file for every Dockerfile, no search
    count_hidden: bool = True  # with safe fixes only, count what --unsafe-fixes would add
    dockerfiles: frozenset[str] | None = None  # this run's Dockerfiles (resolved): the builds a CI file may rewrite
    diffs: bool = True  # make each result's diff and replacements (a text --check shows neither)
    folders: Folders = field(default_factory=Folders, compare=False, repr=False)  # what this run knows of folders


@dataclass(frozen=True)
class Applied:
    transform: str
    message: str
    line: int
    safe: bool
    code: str = ""  # the rule's code (DF101)
    end_line: int | None = None  # the last line it is about (the instruction's, the edits'), when known


@dataclass(frozen=True)
class FileResult:
    path: str
    status: str
    fixes: tuple[Applied, ...] = ()
    notes: tuple[Applied, ...] = ()
    diff: str = ""
    error: str | None = None
    error_line: int | None = None
    bug: bool = False  # the error is dockfix's fault, not the input's
    written: tuple[str, ...] = field(default=())
    skip_reason: str | None = None  # status SKIPPED: why the whole file was left alone
    warnings: tuple[str, ...] = ()  # what a user should know about the write (a hard link split)
    hidden_fixes: int = 0  # unsafe fixes not applied: how many more --unsafe-fixes would apply
    output: str | None = None  # standard input: the whole text after the fixes (None: not asked for)
    # per changed file (its path as the diff names it): the spans of its old text the fixes replace
    # (SARIF's fixes); the same change as `diff`, in offsets rather than hunks
    replacements: tuple[tuple[str, tuple[Replacement, ...]], ...] = ()

    def error_text(self) -> str:
        where = f"{self.path}:{self.error_line}" if self.error_line else self.path
        return f"{where}: error: {self.error}"


def display_path(path: Path) -> str:
    name = str(path)
    rel = os.path.normpath(name) if os.sep == "/" and not name.startswith("/") else ""
    if rel == ".." or rel.startswith("../") or not rel:
        # (relpath reads the working folder twice: a relative path that stays below it is its own
        # relative path, normalised, and most paths of a batch are)
        try:
            rel = os.path.relpath(path)
        except ValueError:
            rel = str(path)
    return Path(rel).as_posix() if not rel.startswith("..") else path.as_posix()


def process_file(path: Path, options: Options, source: Source | None = None, name: str | None = None) -> FileResult:
    """One Dockerfile through the pipeline; `source` given: its text, from standard input (see the module's
    docstring), and `name` what reports call it (default: the path)."""
    shown = name if name is not None else display_path(path)
    stdin = source is not None
    if not stdin and (path.name == ".gitlab-ci.yml" or path.parent.name == "workflows"):  # cheap test first
        from dockfix.ci_files import ci_kind, process_ci_file

        if ci_kind(path):  # a GitHub workflow or a GitLab CI file: the transforms' CI rewrites
            return process_ci_file(path, options, shown)
    hidden = 0
    try:
        if source is None:
            source = read_source(path)
        transforms, unsafe = chosen_for(path, options)
        real_folder = options.folders.real(os.fspath(path.parent))
        context = Context.for_dockerfile(path, real_folder)
        # Called here, not in a helper: batch's time limit interrupts run_pipeline only when process_file calls it.
        memo: dict[Any, Any] = {}  # the file's shell parses, shared by its two runs (Tree.memo)
        outcome = run_pipeline(source.text, context, transforms, unsafe=unsafe, memo=memo)
        if not unsafe and options.count_hidden and outcome.proposed_unsafe:
            try:
                with_unsafe = run_pipeline(source.text, Context.for_dockerfile(path, real_folder), transforms,
                                           unsafe=True, memo=memo, previous=outcome.first,
                                           resume=outcome.divergence)
                hidden = sum(not f.safe for f in with_unsafe.fixes)
            except Exception:  # noqa: BLE001 - only a hint: a bug on the unsafe path must not fail a safe run
                hidden = 0
    except (InputError, ParseError) as err:
        return FileResult(shown, FAILED, error=err.message, error_line=err.line)
    except ConfigError as err:
        return FileResult(shown, FAILED, error=f"configuration: {err}")
    except KeyError as err:  # the command line's names are checked before: these are a config file's
        return FileResult(shown, FAILED, error=f"configuration: unknown rule or transform: {err.args[0]} "
                          "(see dockfix --list)")
    except (EngineBug, RecursionError) as err:
        return FileResult(shown, FAILED, error=f"dockfix bug, file left untouched: {err}", bug=True)
    fixes = tuple(Applied(f.transform, f.message, f.line, f.safe, f.code, _end(f.line, f.end_line))
                  for f in outcome.fixes)
    notes = tuple(Applied(n.transform, n.message, n.line or 0, True, n.code, _end(n.line, n.end_line))
                  for n in outcome.notes)
    pragmas = tuple(f"line {w.line}: {w.message}" for w in outcome.warnings)  # an unknown name in a pragma
    output = outcome.output if stdin and options.mode == "write" else None
    if not outcome.changed:
        reason = _skip_reason(outcome.ignored_file, notes)
        return FileResult(shown, SKIPPED if reason else UNCHANGED, notes=notes, skip_reason=reason,
                          warnings=pragmas, hidden_fixes=hidden, output=output)
    folder = Path(shown).parent
    diffs = options.diffs
    parts = [unified_diff(source.text, outcome.output, shown)] if diffs and outcome.output != source.text else []
    spans = [(shown, replacements(source.text, outcome.output))] if diffs and outcome.output != source.text else []
    changes: list[Change] = [(path, outcome.output, source.raw)] if outcome.output != source.text else []
    for rel, text in sorted(outcome.files.items()):
        target = path.parent / rel
        if target.is_symlink():  # never read or write through it (it may lead out of the tree)
            return FileResult(shown, FAILED, fixes, notes, error=f"{display_path(target)} is a symbolic link; "
                              "dockfix does not write through links")
        old = context.raw.get(rel)
        if old is None and context.why_unreadable(rel):
            # the engine never rewrites a file it could not read exactly; this is the last guard
            return FileResult(shown, FAILED, fixes, notes, error=f"{display_path(target)} could not be read "
                              "exactly; nothing written", bug=True)
        changes.append((target, text, old))
        old_text = old.decode("utf-8") if old is not None else None
        if diffs:
            parts.append(unified_diff(old_text, text, (folder / rel).as_posix()))
            spans.append(((folder / rel).as_posix(), replacements(old_text, text)))
    diff = "".join(parts)
    written: list[str] = []
    warnings: list[str] = list(pragmas)
    if stdin:  # nothing is written: the fixed text goes back to the caller, a context file nowhere
        warnings += [f"{(folder / rel).as_posix()} not written (standard input: dockfix writes no file); "
                     "run dockfix --write on the Dockerfile itself to create it"
                     for rel in sorted(outcome.files)] if options.mode == "write" else []
        return FileResult(shown, CHANGED, fixes, notes, diff, warnings=tuple(warnings), hidden_fixes=hidden,
                          output=output, replacements=tuple(spans))
    if options.mode == "write":
        try:
            warnings += write_together(changes)
        except WriteError as err:
            what = "" if err.target == path else f"{display_path(err.target)}: "
            tail = "; nothing written" if len(changes) > 1 else ""
            return FileResult(shown, FAILED, fixes, notes, diff, error=f"{what}{err.message}{tail}",
                              replacements=tuple(spans))
        written = [display_path(target) for target, _, _ in changes]
    return FileResult(shown, CHANGED, fixes, notes, diff, written=tuple(written), warnings=tuple(warnings),
                      hidden_fixes=hidden, replacements=tuple(spans))


def _end(line: int | None, end: int | None) -> int | None:
    """An end line to report: known, and not before the line."""
    return max(line, end) if line and end else None


def chosen_for(path: Path, options) -> tuple[tuple[Transform, ...], bool]:
    """The transforms (narrowed to the selected rules) and the unsafe-fixes setting for one file:
    the command line over the config found for it. Raises ConfigError."""
    config = load_config(options.config) if options.config else find_config(
        path.parent, _config_stop(path, options.roots, options.folders), options.folders)
    select = options.select if options.select is not None else config.select
    transforms = choose(select, (*options.ignore, *config.ignore))
    return transforms, config.unsafe_fixes if options.unsafe_fixes is None else options.unsafe_fixes


def _config_stop(path: Path, roots: tuple[Path, ...], folders: Folders) -> Path | None:
    """The highest folder named on the command line that holds path (None: the file's own folder)."""
    folder = folders.real(os.fspath(path.parent))
    holding = [r for r in roots if folder == os.fspath(r) or folder.startswith(os.fspath(r).rstrip("/") + "/")]
    return min(holding, key=lambda r: len(r.parts)) if holding else None


def _skip_reason(ignored_file: bool, notes: tuple[Applied, ...]) -> str | None:
    """Why dockfix had nothing to look at in this file, if so (not: why it found nothing to fix)."""
    if ignored_file:
        return IGNORE_FILE
    if any(n.code == NOT_PYTHON_NOTE.code for n in notes):
        return NOT_PYTHON
    return None
