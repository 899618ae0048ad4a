"""The optimisation checklist of one Dockerfile: which items pass, which fail,
and which transform would fix a failing one (safely or not).

The verdicts reuse the transforms' own analysis: the whole pipeline runs on
the text (unsafe fixes included) and every fix it would apply marks its item
as failing and fixable (the item of a fix is the item of its rule's code).
Static facts of the unchanged file, and the notes of the rules (by code, and
by a note's kind, never by its text), then say why the other items pass, fail
with no fix, or do not apply. Like a transform, this
module does no I/O of its own: it reads the tree and asks the Context (whose
overlay receives the files the pipeline would write, as in a dry run).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockfix.commands import SYSTEM_MANAGERS
from dockfix.context import Context
from dockfix.diagnostics import Rule
from dockfix.engine import EngineBug, Fix, Note, Transform, run_pipeline
from dockfix.facts import not_python_reason
from dockfix.manifests import ignore_file_name, toml
from dockfix.model import Install, called, command_env, installs
from dockfix.split.classify import resolve
from dockfix.syntax import Instruction, Tree
from dockfix.transforms import (
    PIPELINE,
    apt,
    bytecode,
    cache_mounts,
    ci_cache,
    dockerignore,
    lockfile_first,
    multistage,
)
from dockfix.transforms._installs import is_set
from dockfix.transforms.dockerignore import context_absent
from dockfix.views import Copy, Stage, global_args, key_values, mounts, stages

if TYPE_CHECKING:
    from dockfix.ci_files import CiReport

PASS, FAIL, NA = "pass", "fail", "n/a"

ITEMS: tuple[tuple[str, str], ...] = (
    ("slim-base", "slim base image"),
    ("multi-stage", "multi-stage build"),
    ("cache-mounts", "cache mounts for installs"),
    ("bytecode", "bytecode compiled at build time"),
    ("no-dev", "no dev dependencies"),
    ("deps-first", "dependency layers before code"),
    ("dockerignore", ".dockerignore present and adequate"),
    ("apt-cleanup", "apt cleanup"),
    ("locked", "uv installs the lockfile (--locked)"),
    ("buildkit", "BuildKit enabled (CI builds)"),
    ("ci-cache", "layer cache kept between CI runs"),
)
TITLES = dict(ITEMS)

_SLIM = re.compile(r"slim|alpine|distroless|chainguard|wolfi|minimal|micro|busybox|^scratch$", re.I)
_OS_INSTALL_VERBS = frozenset({"install", "add", "reinstall", "groupinstall", "localinstall"})
_DEV_REQUIREMENTS = re.compile(r"(^|/)requirements[-_.]?(dev|test|tests|lint|docs)\w*\.txt$|\[(dev|test|tests)\]", re.I)
_POETRY_PROD = ("--only=main", "--without=dev", "--no-dev", "--only-root")


# The item each rule's fixes improve.
ITEM_OF_RULE: dict[str, str] = {
    **{r.code: "apt-cleanup" for r in apt.RULES},
    cache_mounts.CACHE_MOUNT.code: "cache-mounts",
    bytecode.UV_COMPILE.code: "bytecode",
    bytecode.PIP_COMPILE.code: "bytecode",
    bytecode.UV_LOCKED.code: "locked",
    bytecode.UV_NO_DEV.code: "no-dev",
    lockfile_first.DEPS_FIRST.code: "deps-first",
    **{r.code: "dockerignore" for r in dockerignore.RULES},
    multistage.SPLIT.code: "multi-stage",
    **{r.code: "ci-cache" for r in ci_cache.RULES},
}


@dataclass(frozen=True)
class Fixer:
    transform: str
    message: str
    safe: bool
    code: str = ""


@dataclass(frozen=True)
class Item:
    key: str
    status: str  # PASS, FAIL or NA
    detail: str  # why, in a few words
    fixers: tuple[Fixer, ...] = ()

    @property
    def title(self) -> str:
        return TITLES[self.key]

    @property
    def fix(self) -> str:
        """Which transforms fix it, and whether --unsafe-fixes is needed ("" when dockfix cannot)."""
        if not self.fixers:
            return ""
        names = ", ".join(dict.fromkeys(f.transform for f in self.fixers))
        safe = {f.safe for f in self.fixers}
        return f"{names} ({'safe' if safe == {True} else 'unsafe' if safe == {False} else 'safe, more unsafe'})"

    @property
    def fixable_safely(self) -> bool:
        """A plain `dockfix --write` (no --unsafe-fixes) improves it."""
        return any(f.safe for f in self.fixers)


@dataclass(frozen=True)
class Checklist:
    items: tuple[Item, ...]
    error: str | None = None  # the pipeline failed (a dockfix bug): verdicts are static only

    def item(self, key: str) -> Item:
        return next(i for i in self.items if i.key == key)


def item_of(fix: Fix) -> str:
    """The checklist item a fix improves: its rule's (a rule of no item: none)."""
    return ITEM_OF_RULE.get(fix.code, "")


def checklist(tree: Tree, context: Context, transforms: Sequence[Transform] = PIPELINE,
              ci: CiReport | None = None) -> Checklist:
    """Every checklist item for one Dockerfile (its tree and its build context); `ci`: what the CI files
    of its repository do with it (read by the caller; None: not read, and the CI items are n/a)."""
    not_python = not_python_reason(tree, context)
    if not_python:
        return Checklist(tuple(Item(key, NA, not_python) for key, _ in ITEMS))
    facts = _Facts(tree, context, ci)  # before the pipeline writes into the context's overlay
    error = None
    fixes: list[Fix] = []
    notes: list[Note] = []
    try:
        outcome = run_pipeline(tree.source, context, transforms, unsafe=True)
        fixes, notes = outcome.fixes, outcome.notes
        fixes = [*fixes, *(ci.fixes if ci is not None else ())]
    except Exception as err:  # noqa: BLE001 - as in the CLI: a transform's bug must not hide the static verdicts
        kind = "" if isinstance(err, EngineBug) else f"{type(err).__name__}: "
        error = f"dockfix bug, verdicts from static facts only ({kind}{err})"
    pending: dict[str, list[Fixer]] = {}
    for fix in fixes:
        pending.setdefault(item_of(fix), []).append(Fixer(fix.transform, fix.message, fix.safe, fix.code))
    items = []
    for key, _ in ITEMS:
        status, detail = getattr(facts, key.replace("-", "_"))(notes)
        fixers = tuple(pending.get(key, ()))
        if key == "slim-base" and status == FAIL:  # the split's runtime stage is a slim image
            fixers = tuple(pending.get("multi-stage", ()))
        if fixers and status != NA:
            status, detail = FAIL, next((f for f in fixers if f.safe), fixers[0]).message
        items.append(Item(key, status, detail, fixers if status == FAIL else ()))
    return Checklist(tuple(items), error)


def _notes(notes: list[Note], rule: Rule, kind: str | None = None) -> list[Note]:
    """The notes of a rule (of one kind of them, when given)."""
    return [n for n in notes if n.code == rule.code and (kind is None or n.kind == kind)]


class _Facts:
    """Static verdicts on the unchanged file; a pending fix overrides them."""

    def __init__(self, tree: Tree, context: Context, ci: CiReport | None = None):
        self.tree, self.context, self.ci = tree, context, ci
        self.stages = stages(tree)
        self.runs = [i for i in tree.instructions if i.name == "RUN"]
        self.installs: list[tuple[Install, object]] = [(inst, instr) for instr in self.runs
                                                       for inst in installs(tree, instr)]
        # read through the one recogniser (dockfix.commands, through the model): an `apt-get
        # install` in an echo, a comment or a heredoc of data installs nothing
        self.os_installs = [i for i in self.runs if any(
            c.invocation.manager in SYSTEM_MANAGERS and c.invocation.verb in _OS_INSTALL_VERBS
            for c in called(tree, i))]
        self.context_absent = context_absent(tree, context)
        self.ignore_name = ignore_file_name(context)
        self.ignore_text = context.read(self.ignore_name)

    def _final(self) -> Stage | None:
        """The last stage, followed back through `FROM <earlier stage>`."""
        if not self.stages:
            return None
        by_name = {s.name.lower(): s for s in self.stages if s.name}
        stage, seen = self.stages[-1], set()
        while stage.base.lower() in by_name and stage.index not in seen:
            seen.add(stage.index)
            stage = by_name[stage.base.lower()]
        return stage

    def slim_base(self, notes):
        stage = self._final()
        if stage is None:
            return NA, "no FROM"
        base = stage.base
        if "$" in base:  # `FROM python:${PYTHON_VERSION}-slim`: what a build without --build-arg uses
            defaults = {k: v for a in global_args(self.tree) if a.name == "ARG" for k, v in key_values(a)
                        if v is not None}
            base = resolve(base, defaults) or base
        if "$" in base:
            return NA, f"the base is a build argument ({stage.base})"
        if _SLIM.search(base.rsplit("/", 1)[-1]):
            return PASS, stage.base
        return FAIL, f"{stage.base} is a full image"

    def multi_stage(self, notes):
        last = self.stages[-1] if self.stages else None
        names = {s.name.lower() for s in self.stages[:-1] if s.name} | {str(s.index) for s in self.stages[:-1]}
        if last is not None and len(self.stages) > 1 and (
                last.base.lower() in names
                or any(i.name in ("COPY", "ADD") and (Copy(i).from_ or "").lower() in names for i in last.instructions)):
            return PASS, f"{len(self.stages)} stages, the last copies from a build stage"
        if not self.installs and not self.os_installs:
            return NA, "nothing is installed: no build step to leave behind"
        why = _notes(notes, multistage.SPLIT)
        if why and why[0].kind == multistage.NOTHING_TO_GAIN:  # already what a split would make
            return NA, why[0].message
        return FAIL, why[0].message if why else "one stage: build tools stay in the image"

    def cache_mounts(self, notes):
        if not self.installs:
            return NA, "no pip, uv or poetry install"
        bare = [instr for inst, instr in self.installs if not any(m.type == "cache" for m in mounts(instr))]
        if not bare:
            n = len(self.installs)
            return PASS, f"{n} install{'s' if n != 1 else ''}, each with a cache mount"
        why = _notes(notes, cache_mounts.CACHE_MOUNT)
        return FAIL, why[0].message if why else f"{_lines(bare[0])}: install without a cache mount"

    def bytecode(self, notes):
        if not self.installs:
            return NA, "no pip, uv or poetry install"
        why = _notes(notes, bytecode.PIP_COMPILE)
        if why:
            return FAIL, why[0].message
        return PASS, "installs compile to bytecode at build time"

    def no_dev(self, notes):
        if not self.installs:
            return NA, "no pip, uv or poetry install"
        kept = _notes(notes, bytecode.UV_NO_DEV, bytecode.UV_RUN_LATER)
        if kept:
            return FAIL, kept[0].message
        for inst, instr in self.installs:
            words = inst.args
            if inst.tool == "poetry" and not any(w in _POETRY_PROD or w.startswith(("--only", "--without"))
                                                 for w in words):
                return FAIL, f"{_lines(instr)}: poetry install includes the dev group"
            if inst.tool in ("pip", "uv") and any(_DEV_REQUIREMENTS.search(w) for w in words):
                return FAIL, f"{_lines(instr)}: installs development requirements"
        return PASS, "no dev group or requirements installed"

    def deps_first(self, notes):
        if not self.installs:
            return NA, "no pip, uv or poetry install"
        stuck = _notes(notes, lockfile_first.DEPS_FIRST)
        if stuck and stuck[0].kind == lockfile_first.PROJECT_ITSELF and self._no_dependencies():
            return PASS, "the install builds the project, which declares no dependencies"
        if stuck and all(n.kind == lockfile_first.PROJECT_ONLY for n in stuck):
            return PASS, "the install after the code copy builds the project alone (--no-deps)"
        if stuck:
            return FAIL, stuck[0].message
        return PASS, "dependencies install before the code is copied"

    def _no_dependencies(self) -> bool:
        project = (toml(self.context, "pyproject.toml") or {}).get("project", {})
        return "dependencies" in project and not project["dependencies"] and not project.get("optional-dependencies")

    def dockerignore(self, notes):
        if self.context_absent:
            return NA, self.context_absent
        if self.ignore_text is None:
            return FAIL, f"no {self.ignore_name}"
        return PASS, f"{self.ignore_name} excludes what the build does not need"

    def apt_cleanup(self, notes):
        if not self.os_installs:
            return NA, "no system package install"
        return PASS, "package lists and caches removed or mounted"

    def locked(self, notes):
        syncs = [(inst, instr) for inst, instr in self.installs if inst.tool == "uv" and inst.verb == "sync"]
        if not syncs:
            return NA, "no uv sync"
        for inst, instr in syncs:
            env = command_env(self.tree, instr, inst)
            if not ({"--locked", "--frozen"} & set(inst.args)) and not (is_set(env, "UV_LOCKED") or is_set(env, "UV_FROZEN")):
                if not self.context.exists("uv.lock"):
                    return FAIL, f"{_lines(instr)}: uv sync without --locked, and no uv.lock beside the Dockerfile"
                return FAIL, f"{_lines(instr)}: uv sync may update the lock (no --locked or --frozen)"
        return PASS, "uv sync installs exactly uv.lock"

    def buildkit(self, notes):
        if self.ci is None:
            return NA, "the CI files of its repository were not read"
        if not self.ci.builds:
            return NA, "no CI file of its repository builds it (that dockfix can tell)"
        off = [(f, b) for f, b in self.ci.builds if b.buildkit == "off"]
        if off:
            file, build = off[0]
            return FAIL, f"{file}:{build.line}: {build.why}"
        unknown = [(f, b) for f, b in self.ci.builds if b.buildkit != "on"]
        if unknown:
            file, build = unknown[0]
            return NA, f"{file}:{build.line}: {build.why}"
        n = len(self.ci.builds)
        return PASS, f"{n} CI build{'s' if n != 1 else ''}, each with BuildKit"

    def ci_cache(self, notes):
        if self.ci is None:
            return NA, "the CI files of its repository were not read"
        if not self.ci.builds:
            return NA, "no CI file of its repository builds it (that dockfix can tell)"
        bare = [(f, b) for f, b in self.ci.builds if not b.cached]
        if bare:
            file, build = bare[0]
            return FAIL, f"{file}:{build.line}: built without a cache that outlives the job"
        n = len(self.ci.builds)
        return PASS, f"{n} CI build{'s' if n != 1 else ''}, each with a cache (cache-from)"


def _lines(instr: Instruction) -> str:
    """Where an instruction is: `line 4`, or `lines 4-6` when it is continued."""
    return f"line {instr.line}" if instr.end_line <= instr.line else f"lines {instr.line}-{instr.end_line}"
