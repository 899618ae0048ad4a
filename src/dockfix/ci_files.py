"""CI files through dockfix: which files are CI files, which belong to a Dockerfile's repository, and
one CI file read, rewritten by the transforms that rewrite CI files (ci-cache), diffed, maybe written.

A CI file is `.github/workflows/*.yml|yaml` or `.gitlab-ci.yml`, at the root
of a repository: the nearest folder above a Dockerfile holding `.git`
(outside a repository: the folder named on the command line that holds it).
Nothing in a repository runs: its CI files are read as text (bounded, regular
files only, never through a symbolic link) and parsed as YAML data.

A CI file is only rewritten where it builds a Dockerfile of this run: the
repository answers `dockerfile(rel)` by looking at the disk (a regular file
inside the root, not through a link, that dockfix parses) and, when the run
named Dockerfiles, by whether it is one of them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockfix.config import Folders
from dockfix.fileio import MAX_SIZE, InputError, WriteError, read_limited, write_together

GITHUB, GITLAB = "github", "gitlab"
WORKFLOW_SUFFIXES = (".yml", ".yaml")


def ci_kind(path: Path) -> str | None:
    """"github" for a workflow, "gitlab" for a GitLab CI file, None for anything else (by where it is)."""
    if path.name == ".gitlab-ci.yml":
        return GITLAB
    if path.suffix in WORKFLOW_SUFFIXES and path.parent.name == "workflows" and path.parent.parent.name == ".github":
        return GITHUB
    return None


def ci_root(path: Path, kind: str) -> Path:
    """The repository root of a CI file: the folder holding .github (or .gitlab-ci.yml)."""
    return path.parent if kind == GITLAB else path.parent.parent.parent


def repository_of(dockerfile: Path, roots: Iterable[Path] = (), folders: Folders | None = None) -> Path:
    """The root of a Dockerfile's repository: the nearest folder holding `.git`, else the highest named
    folder holding it, else its own folder. `folders`: what the run already knows of folders (a batch's
    files share the folders above them: each is resolved and looked at once)."""
    known = folders if folders is not None else Folders()
    folder = known.real(os.fspath(dockerfile.parent))
    chain = [folder]  # the folder and every folder above it
    while (up := os.path.dirname(chain[-1])) != chain[-1]:
        chain.append(up)
    for candidate in chain:
        if known.has_git(candidate):
            return Path(candidate)
    holding = [real for r in roots if (real := known.real(os.fspath(r))) in chain]
    return Path(min(holding, key=lambda r: len(Path(r).parts)) if holding else folder)


def ci_files_of(root: Path) -> list[Path]:
    """The CI files at a repository root: regular files, not links, in a .github/workflows that is no link."""
    found: list[Path] = []
    gitlab = root / ".gitlab-ci.yml"
    if _regular(gitlab):
        found.append(gitlab)
    workflows = root / ".github" / "workflows"
    if _real_dir(root / ".github") and _real_dir(workflows):
        try:
            with os.scandir(workflows) as entries:
                names = sorted(e.name for e in entries if e.name.endswith(WORKFLOW_SUFFIXES))
        except OSError:
            names = []
        found.extend(workflows / n for n in names if _regular(workflows / n))
    return found


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


class DiskRepository:
    """The Dockerfiles of a repository, as a CI file's builds name them (paths relative to its root)."""

    def __init__(self, root: Path, run: frozenset[str] | None):
        self.root = root.resolve()
        self.run = run  # the resolved paths of this run's Dockerfiles (None: any Dockerfile of the repository)

    def dockerfile(self, rel: str) -> str | None:
        from dockfix.syntax import ParseError, parse

        path = self.root / rel
        here = self.root
        for part in Path(rel).parts:  # never through a link: it may lead anywhere
            here = here / part
            if here.is_symlink():
                return "is reached through a symbolic link"
        try:
            raw = read_limited(path, MAX_SIZE, "Dockerfiles")
            parse(raw.decode("utf-8"))
        except InputError as err:
            return "does not exist" if err.message == "no such file" else f"could not be read ({err.message})"
        except (UnicodeDecodeError, ParseError):
            return "is not a Dockerfile dockfix can parse"
        if self.run is not None and str(path.resolve()) not in self.run:
            return "is not one of the Dockerfiles of this run"
        return None


def decode_ci(raw: bytes) -> str:
    if b"\x00" in raw:
        raise InputError("binary file (contains NUL bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError("not UTF-8 text", raw[: err.start].count(b"\n") + 1) from None


def yaml_check(text: str) -> None:
    """Raises when the text is not one YAML document (the engine's guard on a rewrite)."""
    import yaml

    yaml.compose(text, Loader=yaml.SafeLoader)


def process_ci_file(path: Path, options, shown: str):  # -> FileResult (runner's types: imported lazily)
    """One CI file through the transforms that rewrite CI files; a FileResult as for a Dockerfile."""
    from dockfix.ci_engine import run_ci
    from dockfix.config import ConfigError
    from dockfix.diff import unified_diff
    from dockfix.engine import EngineBug
    from dockfix.runner import CHANGED, FAILED, SKIPPED, UNCHANGED, Applied, FileResult, chosen_for
    from dockfix.transforms._ci import CiParseError

    kind = ci_kind(path) or GITHUB
    try:
        raw = read_limited(path, MAX_SIZE, "CI files")
        text = decode_ci(raw)
        transforms, unsafe = chosen_for(path, options)
        repository = DiskRepository(ci_root(path, kind), options.dockerfiles)
        outcome = run_ci(text, kind, repository, transforms, unsafe, check=yaml_check)
    except (InputError, CiParseError) as err:
        return FileResult(shown, FAILED, error=err.message, error_line=err.line)
    except ConfigError as err:
        return FileResult(shown, FAILED, error=f"configuration: {err}")
    except KeyError as err:
        return FileResult(shown, FAILED, error=f"configuration: unknown rule or transform: {err.args[0]} "
                          "(see dockfix --list)")
    except (EngineBug, RecursionError) as err:
        return FileResult(shown, FAILED, error=f"dockfix bug, file left untouched: {err}", bug=True)
    fixes = tuple(Applied(f.transform, f.message, f.line, f.safe, f.code, f.end_line) for f in outcome.fixes)
    notes = tuple(Applied(n.transform, n.message, n.line or 0, True, n.code) for n in outcome.notes)
    warnings = tuple(f"line {w.line}: {w.message}" for w in outcome.warnings)
    if outcome.output == text:
        status = SKIPPED if outcome.ignored_file else UNCHANGED
        return FileResult(shown, status, notes=notes, warnings=warnings,
                          skip_reason="dockfix: ignore-file" if outcome.ignored_file else None)
    diff = unified_diff(text, outcome.output, shown)
    written: tuple[str, ...] = ()
    if options.mode == "write":
        try:
            extra = write_together([(path, outcome.output, raw)])
        except WriteError as err:
            return FileResult(shown, FAILED, fixes, notes, diff, error=err.message)
        warnings += tuple(extra)
        written = (shown,)
    return FileResult(shown, CHANGED, fixes, notes, diff, written=written, warnings=warnings)


@dataclass(frozen=True)
class CiReport:
    """What the CI files of a Dockerfile's repository do with it, for the checklist."""

    builds: tuple[tuple[str, Any], ...] = ()  # (CI file, transforms.ci_cache.BuildFact) for each build of it
    fixes: tuple[Any, ...] = ()  # the ci-cache fixes for its builds (diagnostics.Fix)
    errors: tuple[str, ...] = field(default=())  # CI files that could not be read


def ci_report(dockerfile: Path) -> CiReport:
    """Read the CI files of the Dockerfile's repository: its builds there, and what ci-cache would fix."""
    from dockfix.ci_engine import run_ci
    from dockfix.transforms import PIPELINE
    from dockfix.transforms._ci import CiParseError
    from dockfix.transforms.ci_cache import build_facts

    root = repository_of(dockerfile)
    repository = DiskRepository(root, frozenset({str(dockerfile.resolve())}))
    builds: list[tuple[str, Any]] = []
    fixes: list[Any] = []
    errors: list[str] = []
    for file in ci_files_of(root):
        rel = file.relative_to(root).as_posix()
        kind = ci_kind(file) or GITHUB
        try:
            text = decode_ci(read_limited(file, MAX_SIZE, "CI files"))
            builds.extend((rel, fact) for fact in build_facts(text, kind, repository))
            fixes.extend(run_ci(text, kind, repository, PIPELINE, unsafe=True, check=yaml_check).fixes)
        except (InputError, CiParseError) as err:
            errors.append(f"{rel}: {err.message}")
    # The cache fixes first (DF801, DF803): the checklist says the first one, and the setup step (DF802) serves it.
    return CiReport(tuple(builds), tuple(sorted(fixes, key=lambda f: f.code != "DF801" and f.code != "DF803")),
                    tuple(errors))
