"""lockfile-first: install dependencies from the manifests before the code is copied.

`COPY . .` before `RUN pip install -r requirements.txt` makes every code change
re-run the install. When the install reads only manifests (requirements files
and what they include, pyproject.toml with uv.lock or poetry.lock, Pipfile.lock),
those files are copied first, the install runs, then the code is copied:
- an install that reads nothing but manifests moves with them (the code copy
  goes below it);
- `uv sync` / `poetry install` that also install the project keep their place
  after the code, and a dependencies-only run (`--no-install-project`,
  `--no-root`) with the same flags goes before it;
- a `uv sync` of a project uv never installs (pyproject.toml says it is not a
  package, uv.lock records it as virtual and installs nothing from the build
  context, its options read nothing else) reads only the manifests: it moves
  whole, as a dependencies install does.
Everything else stays in order. Anything uncertain is left alone with a Note.
"""

from __future__ import annotations

import posixpath
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from dockfix.commands import invocation
from dockfix.context import Context
from dockfix.diagnostics import NOT_PYTHON, Rule
from dockfix.edits import Edit, insert_after, insert_before
from dockfix.engine import Fix, Note, Transform
from dockfix.expand import expand
from dockfix.facts import not_python_reason
from dockfix.manifests import (
    IgnoreRules,
    ignore_rules,
    pipfile_blockers,
    poetry_blockers,
    requirements,
    static_dependencies,
    toml,
    uv_blockers,
    uv_lock_local,
    uv_lock_virtual,
    uv_package,
)
from dockfix.model import Model, budget, classify, env_at, env_before
from dockfix.pragmas import Suppressions
from dockfix.syntax import Instruction, Tree
from dockfix.transforms._installs import keyword_case
from dockfix.transforms._reads import (
    CODE,
    DEPS,
    NOTHING,
    SPLIT,
    Step,
    against,
    command_steps,
    is_setting,
    overlap,
    resolve,
    uv_sync_env_blocker,
    uv_sync_option_blocker,
)
from dockfix.views import Copy, Stage, key_values, stages

NAME = "lockfile-first"
DEPS_FIRST = Rule("DF401", NAME, "dependencies-before-code", "copy the manifests first and install the dependencies "
                  "before the code is copied")
RULES = (DEPS_FIRST,)
PROJECT_ITSELF = "project-itself"  # the kind of a note: the install stays because it installs the project itself
PROJECT_ONLY = "project-only"  # ... and only the project (`--no-deps`): its dependencies come from elsewhere
SYNC_WHOLE = "uv-sync-whole"  # the kind of a note: a uv sync of a virtual project went before the code whole
SYNC_SPLIT = "uv-sync-split"  # ... or was split in two although the project is not a package: why
_BLANK_LINE = re.compile(r"[ \t]*\r?\n")

INERT_INSTRUCTIONS = frozenset({"LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "HEALTHCHECK", "STOPSIGNAL", "MAINTAINER",
                                "SHELL", "ONBUILD", "USER"})


def find(tree: Tree, context: Context) -> Iterator[Fix | Note]:
    reason = not_python_reason(tree, context)
    if reason:
        yield NOT_PYTHON.note(reason, transform=NAME)
        return
    suppress = Suppressions.of(tree)
    folders = Model.of(tree).folders
    for stage in stages(tree):
        # The last install the code copy can move below wins: the installs before it move
        # with it, in one fix (one install per round would not converge on many installs).
        # The folder each instruction runs in (dockfix.model's; symbolic when the base's is
        # not known: paths relative to it still compare right)
        workdirs = {id(i): folders[id(i)].path for i in stage.instructions}
        codes = _code_copies(tree, context, stage, workdirs)
        regions: dict[int, _Region] = {}  # what lies around each code copy, read once for all installs
        notes: list[list[Fix | Note]] = []
        runs = [(k, i) for k, i in enumerate(stage.instructions) if i.name == "RUN"]
        for position, instr in reversed(runs):  # (its position: a lookup per RUN was quadratic)
            found = list(_plan(tree, context, stage, workdirs, instr, position, suppress, codes[position], regions))
            if any(isinstance(f, Fix) for f in found):
                yield from found  # the fix, and the note on how a uv sync moved
                break
            notes.append(found)
        else:
            for found in reversed(notes):
                yield from found


def _expanded(tree: Tree, instr: Instruction, path: str) -> str:
    """A COPY destination's path with the variables BuildKit substitutes there (the ENV and ARG
    defaults before the instruction, read by dockfix.model), so `WORKDIR $APP` and `COPY . /srv/app`
    name one folder when APP is /srv/app; a variable of no known value stays as written (a
    symbolic folder, equal to itself)."""
    if "$" not in path:
        return path
    return expand(path, env_before(tree, instr), partial=True, budget=budget(tree)) or path


def _destination(tree: Tree, instr: Instruction, workdir: str) -> str:
    """The image folder or file a COPY/ADD writes to."""
    return resolve(workdir, _expanded(tree, instr, Copy(instr).destination))


# --- the code copy -----------------------------------------------------------------


@dataclass
class CodeCopy:
    instr: Instruction
    source: str  # context folder it copies ("" for the whole context)
    dest: str  # folder in the image
    dest_text: str

    def context_path(self, image_path: str) -> str | None:
        """Where an image path under the copy's destination comes from in the context."""
        if image_path != self.dest and not image_path.startswith(self.dest.rstrip("/") + "/"):
            return None
        rel = posixpath.relpath(image_path, self.dest)
        return posixpath.normpath(posixpath.join(self.source, rel)) if self.source else rel


def _code_copy(tree: Tree, instr: Instruction, context: Context, workdir: str) -> CodeCopy | None | str:
    """A COPY/ADD of a context folder (CodeCopy), a Note text when it is one we cannot read, else None."""
    if instr.name not in ("COPY", "ADD") or instr.flag("from") is not None or instr.heredocs:
        return None
    copy = Copy(instr)
    broad = [s for s in copy.sources if s in (".", "./") or s.endswith("/") or ("$" not in s and "*" not in s
                                                                               and context.is_dir(s) and s not in ("",))]
    if not broad:
        return None
    if len(copy.sources) != 1 or "$" in copy.sources[0] or any(c in copy.sources[0] for c in "*?["):
        return f"line {instr.line}: a copy of several sources or a pattern"
    source = copy.sources[0].strip("/")
    while source.startswith("./"):
        source = source[2:]
    source = "" if source in (".", "") else posixpath.normpath(source)
    return CodeCopy(instr, source, _destination(tree, instr, workdir), copy.destination)


# --- the plan for one install RUN ------------------------------------------------


def _code_copies(tree: Tree, context: Context, stage: Stage,
                 workdirs: dict[int, str]) -> list[tuple[int, CodeCopy | str | None]]:
    """For each position in the stage, the last code copy before it: (its position, the
    CodeCopy or why it cannot be read), or (-1, None). One pass (a walk back per RUN was quadratic)."""
    out: list[tuple[int, CodeCopy | str | None]] = []
    last: tuple[int, CodeCopy | str | None] = (-1, None)
    for index, instr in enumerate(stage.instructions):
        out.append(last)
        found = _code_copy(tree, instr, context, workdirs[id(instr)])
        if found:
            last = (index, found)
    return out


class _Region:
    """A code copy and the rest of its stage, read forward once for all the installs after
    it (a walk over everything between the copy and each install was quadratic): the first
    instruction it cannot move below, the dependency installs it would cross, the first RUN
    that makes a virtualenv, and the dependency installs before it."""

    def __init__(self, tree: Tree, stage: Stage, workdirs: dict[int, str], code: CodeCopy, code_at: int) -> None:
        self.tree, self.stage, self.workdirs, self.code, self.code_at = tree, stage, workdirs, code, code_at
        self.read = code_at + 1  # instructions before this position have been read
        self.blocker: tuple[int, str] | None = None  # (position, why) of the first one it cannot cross
        self.crossing: list[tuple[Instruction, list[Step]]] = []
        self.crossing_at: list[int] = []  # their positions
        self.venv_at: int | None = None
        self._priors: tuple[set[tuple[str, str]], set[str], list[frozenset[str]], bool] | None = None

    def _read_up_to(self, position: int) -> None:
        instructions = self.stage.instructions
        while self.read < position:
            at, instr = self.read, instructions[self.read]
            self.read += 1
            if instr.name == "RUN" and self.venv_at is None and any(
                    s.venv for s in command_steps(self.tree, instr, self.workdirs[id(instr)])):
                self.venv_at = at
            if self.blocker is None:
                crossing: list[tuple[Instruction, list[Step]]] = []
                why = _cannot_cross(self.tree, self.code, [instr], self.workdirs, crossing)
                if why:
                    self.blocker = (at, why)
                for found in crossing:
                    self.crossing.append(found)
                    self.crossing_at.append(at)

    def cannot_cross(self, position: int, crossing: list[tuple[Instruction, list[Step]]]) -> str | None:
        """_cannot_cross for the instructions between the copy and `position`."""
        self._read_up_to(position)
        if self.blocker is not None and self.blocker[0] < position:
            return self.blocker[1]
        crossing.extend(self.crossing[:bisect_left(self.crossing_at, position)])
        return None

    def venv_before(self, position: int) -> bool:
        """A RUN between the copy and `position` makes a virtualenv."""
        self._read_up_to(position)
        return self.venv_at is not None and self.venv_at < position

    def named_before(self, deps: tuple[str, ...]) -> bool:
        """An install before the code copy names one of these requirements (as argv words): the twin,
        perhaps from a list edited since; a second one would only repeat it (the project's own
        install still installs what it misses)."""
        for instr in self.stage.instructions[:self.code_at]:
            if instr.name == "RUN" and any(set(deps) & set(s.command.argv) for s in
                                           command_steps(self.tree, instr, self.workdirs[id(instr)])):
                return True
        return False

    def already_first(self, steps: list[Step]) -> bool:
        """Every install of the RUN already has a dependencies-only twin before the code copy: the
        same project, or (without one) all its requirement files read by one install."""
        if self._priors is None:
            projects: set[tuple[str, str]] = set()
            files: set[str] = set()
            sets: list[frozenset[str]] = []
            for instr in self.stage.instructions[:self.code_at]:
                if instr.name == "RUN":
                    for prior in command_steps(self.tree, instr, self.workdirs[id(instr)]):
                        if prior.kind != DEPS:
                            continue
                        if prior.project:
                            projects.add(prior.project)
                        else:
                            files.update(prior.requirement_files)
                            sets.append(frozenset(prior.requirement_files))
            self._priors = (projects, files, sets, bool(sets))
        projects, files, sets, plain = self._priors
        for step in steps:
            if step.kind not in (DEPS, SPLIT):
                continue
            if step.twin:
                found = self.named_before(step.deps)
            elif step.project:
                found = step.project in projects
            else:
                wanted = set(step.requirement_files)
                found = plain if not wanted else (wanted <= files and (
                    len(wanted) == 1 or any(wanted <= one for one in sets)))
            if not found:
                return False
        return True


def _plan(tree: Tree, context: Context, stage: Stage, workdirs: dict[int, str], install: Instruction, position: int,
          suppress: Suppressions, last_code: tuple[int, CodeCopy | str | None],
          regions: dict[int, _Region]) -> Iterator[Fix | Note]:
    code_at, code = last_code
    if code is None:  # no code copy before the install: nothing to move (and its commands need no reading)
        return
    workdir = workdirs[id(install)]
    steps = command_steps(tree, install, workdir)
    if not any(s.kind in (DEPS, SPLIT) or s.local or classify(s.command) for s in steps):
        return
    if isinstance(code, str):
        yield DEPS_FIRST.note(f"code copied before the install ({code})", install.line)
        return
    earlier = stage.instructions[:code_at]
    steps = [_project_twin(tree, context, code, install, workdir, s, lambda: _copied_before(tree, earlier, workdirs))
             for s in against(steps, code.dest)]
    syncs = [_whole_sync(tree, install, context, code, s) for s in steps]
    steps = [s for s, _ in syncs]
    sync_notes = [(note, kind) for _, (note, kind) in syncs if note]
    if not any(s.kind in (DEPS, SPLIT) for s in steps):
        builds = next((s for s in steps if s.kind == CODE and classify(s.command)), None)
        if builds:
            kind = "" if not builds.itself else PROJECT_ONLY if "--no-deps" in builds.command.argv else PROJECT_ITSELF
            yield DEPS_FIRST.note(f"install at line {install.line} stays after the code copy: {builds.why}",
                                  install.line, kind)
        return
    if suppress.blocks(DEPS_FIRST, code.instr.line):
        return
    region = regions.get(code_at)
    if region is None:
        region = regions[code_at] = _Region(tree, stage, workdirs, code, code_at)
    if region.already_first(steps):
        return
    crossing: list[tuple[Instruction, list[Step]]] = []  # dependency installs between: they move too
    blocker = region.cannot_cross(position, crossing)
    if blocker:
        yield DEPS_FIRST.note(f"install at line {install.line} stays after the code copy: {blocker}", install.line)
        return
    moving = all(s.kind in (DEPS, NOTHING) for s in steps)
    wanted = steps if moving else _deps_prefix(steps)
    if isinstance(wanted, tuple):
        why, itself = wanted
        yield DEPS_FIRST.note(f"install at line {install.line} stays after the code copy: {why}", install.line,
                              PROJECT_ITSELF if itself else "")
        return
    venv_made = region.venv_before(position) or any(s.venv for s in command_steps(tree, install, workdir))
    files = _files(context, code, crossing, wanted, venv_made)
    if isinstance(files, str):
        yield DEPS_FIRST.note(f"install at line {install.line} stays after the code copy: {files}", install.line)
        return
    # The manifests go right above the first install that reads them: what comes before stays cached.
    first = crossing[0][0] if crossing else install
    copies = _manifest_copies(tree, code, files, workdirs[id(first)], stage.instructions[:code_at], workdirs)
    ahead = [insert_before(tree, first, copies)] if copies and first is not install else []
    own = copies if first is install else []  # copies that go right above the install itself
    if moving:
        # The code copy moves below the install; a blank line around it moves with it.
        gap = _blank_after(tree, code.instr.end) if _blank_before(tree, _block_start(code.instr)) else 0
        block = ([""] if gap else []) + _block_lines(tree, code.instr)
        edits = (Edit(_block_start(code.instr), code.instr.end + gap, ""), *ahead,
                 *_maybe(insert_before(tree, install, own) if own else None), insert_after(tree, install, block))
        message = f"install dependencies before copying the code ({_names(files)} first)"
    else:
        run = _deps_run(tree, install, wanted)
        if position > code_at + 1:  # the twin needs what comes between (a tool installed, ENV): the code copy moves down
            # Blank lines on both sides of the code copy would meet: one goes with it.
            gap = _blank_after(tree, code.instr.end) if _blank_before(tree, _block_start(code.instr)) else 0
            edits = (Edit(_block_start(code.instr), code.instr.end + gap, ""), *ahead,
                     insert_before(tree, install, [*own, run, *_block_lines(tree, code.instr)]))
        else:
            edits = (insert_before(tree, code.instr, [*own, run]),)
        source = _names(files) or "pyproject.toml's [project].dependencies"
        message = f"install dependencies from {source} before copying the code, the project after it"
    yield DEPS_FIRST.fix(message, install.line, edits)
    for note, kind in sync_notes:
        yield DEPS_FIRST.note(f"uv sync at line {install.line} {note}", install.line, kind)


def _whole_sync(tree: Tree, install: Instruction, context: Context, code: CodeCopy,
                step: Step) -> tuple[Step, tuple[str, str]]:
    """A `uv sync` that would be split in two (SPLIT) whose project uv never installs: a DEPS
    step, which goes before the code whole, when the facts say it reads only the manifests
    (pyproject.toml says the project is not a package, uv.lock records it as virtual and
    installs nothing from the build context, no option reads more). Then the note saying so;
    else the step as it was, and why not when the project is not a package (a package's sync
    is split as always, without a note)."""
    if step.kind != SPLIT or not step.project or step.project[0] != "uv":
        return step, ("", "")
    folder = code.context_path(step.project[1])
    pyproject = posixpath.normpath(posixpath.join(folder or ".", "pyproject.toml"))
    data = toml(context, pyproject) if folder is not None else None
    if data is None:
        return step, ("", "")  # (_files says why the install stays where it is)
    package, decided = uv_package(data)
    if package:
        return step, ("", "")
    lock = posixpath.normpath(posixpath.join(folder or ".", "uv.lock"))
    index = next(i for i, c in enumerate(step.part.script.commands) if c is step.command)
    why = uv_sync_option_blocker(step.command) or uv_sync_env_blocker(env_at(tree, install, step.part, index)) or (
        f"{lock} is excluded by .dockerignore" if ignore_rules(context).excludes(lock) else None) or uv_lock_virtual(
        data, toml(context, lock))
    if why:
        return step, (f"is split in two, not moved whole before the code ({pyproject} {decided}, but {why})",
                      SYNC_SPLIT)
    return replace(step, kind=DEPS, suffix=""), (
        f"goes before the code whole: {pyproject} {decided} and {lock} records the project as virtual, with no "
        "package from the build context, so uv installs nothing from the code", SYNC_WHOLE)


def _project_twin(tree: Tree, context: Context, code: CodeCopy, install: Instruction, workdir: str,
                  step: Step, copied: Callable[[], set[tuple[str, str]]]) -> Step:
    """`pip install .` of a project whose dependencies pyproject.toml lists statically: a SPLIT
    step whose dependencies-only twin names them (`pip install 'click>=8'`); the install of the
    project keeps its place after the code copy, as written (pip finds the dependencies there
    and installs only what the list no longer covers, so a list edited later stays correct).
    Otherwise the step as it was, its note saying why."""
    if step.kind != CODE or not step.itself or not _project_folder(step.project_arg):
        return step  # (a wheel or archive, `dist/*.whl`, is a built package: its metadata is not read)
    why = _twin_blocker(context, code, workdir, step, copied)
    if isinstance(why, str):
        return replace(step, why=f"{step.why}, and its dependencies cannot go first: {why}")
    word = next(w for w in reversed(step.command.words) if w.value == step.project_arg)
    start, end = step.part.span(install, word)
    first, last = step.part.span(install, step.command.words[0])[0], step.part.span(install, step.command.words[-1])[1]
    twin = tree.source[first:start] + " ".join(why) + tree.source[end:last]
    return replace(step, kind=SPLIT, twin=twin, deps=tuple(_unquote(q) for q in why))


def _project_folder(arg: str) -> bool:
    """A local operand that names a project folder (`.`, `./app`, `.[dev]`), not a file or a pattern."""
    path = arg.strip("'\"").split("[", 1)[0]
    return bool(path) and not any(c in path for c in "*?$") and not path.endswith((".whl", ".tar.gz", ".zip"))


def _twin_blocker(context: Context, code: CodeCopy, workdir: str, step: Step,
                  copied: Callable[[], set[tuple[str, str]]]) -> list[str] | str:
    """The quoted requirement words of the twin, or why there is none."""
    argv = step.command.argv
    runs = invocation(step.command)
    if runs is None or runs.manager != "pip":
        # uv reads its settings ([tool.uv] of pyproject.toml, uv.toml: indexes, sources) from the project
        # folder, which the twin would run without
        return "only pip's install of a project is split (uv reads its settings from the project's files)"
    if step.part.doc is not None:
        return "the install is in a heredoc"
    if "--no-deps" in argv:
        return "it installs the project alone (--no-deps)"
    if any(a in ("-e", "--editable") or a.startswith(("--editable=", "-r", "--requirement", "-c", "--constraint"))
           for a in argv):
        return "the install also reads requirement files or is editable"
    if "[" in step.project_arg:
        return f"`{step.project_arg}` asks for optional extras"
    project = resolve(workdir, step.project_arg)
    folder = code.context_path(project)
    if folder is not None:
        path = posixpath.normpath(posixpath.join(folder, "pyproject.toml"))
    else:  # the code copy brings a package folder (`COPY app ./app`); pyproject.toml came in by a COPY of its own
        wanted = posixpath.join(project, "pyproject.toml")
        found = [source for source, image_path in copied() if image_path == wanted]
        if len(found) != 1:
            return f"the project folder `{step.project_arg}` holds more than the code copy brings, and its " \
                   "pyproject.toml is not copied on its own before it"
        path = found[0]
    data = toml(context, path)
    if data is None:
        return f"{path} is missing or not valid TOML (a setup.py project's dependencies are known only by building it)"
    deps = static_dependencies(data)
    if isinstance(deps, str):
        return deps
    if not deps:
        return "pyproject.toml lists no dependencies: there is nothing to install before the code"
    quoted = [_quote(d) for d in deps]
    bad = next((d for d, q in zip(deps, quoted, strict=True) if q is None), None)
    if bad is not None:
        return f"dependency `{bad}` cannot be quoted for the shell"
    return [q for q in quoted if q is not None]


def _quote(requirement: str) -> str | None:
    """A requirement as one shell word: single quotes, or double quotes when it holds one."""
    text = " ".join(requirement.split())
    if re.fullmatch(r"[A-Za-z0-9._=-]+", text):  # (no `[`: the shell would read `pkg[x]` as a pattern)
        return text
    if "'" not in text:
        return f"'{text}'"
    if not any(c in text for c in '"$`\\!'):
        return f'"{text}"'
    return None


def _unquote(word: str) -> str:
    return word[1:-1] if word[:1] in ("'", '"') else word


def _maybe(edit: Edit | None) -> tuple[Edit, ...]:
    return (edit,) if edit else ()


def _names(files: list[tuple[str, str]]) -> str:
    return ", ".join(c for c, _ in files)


def _cannot_cross(tree: Tree, code: CodeCopy, between: list[Instruction], workdirs: dict[int, str],
                  crossing: list[tuple[Instruction, list[Step]]]) -> str | None:
    """Why the code copy cannot move below these instructions (None: it can). Dependency
    installs from manifests among them go into `crossing`: their manifests are copied too."""
    copy_text = code.instr.logical
    for instr in between:
        name = instr.name
        if name in INERT_INSTRUCTIONS:
            continue
        if name in ("ENV", "ARG"):
            if any(f"${k}" in copy_text or f"${{{k}" in copy_text for k, _ in key_values(instr)):
                return f"line {instr.line} sets a variable the code copy uses"
            continue
        if name == "WORKDIR":
            if not code.dest_text.startswith("/"):
                return f"the code copy's destination is relative and line {instr.line} changes the folder"
            continue
        if name in ("COPY", "ADD"):
            dest = _destination(tree, instr, workdirs[id(instr)])
            if overlap(dest, code.dest):
                return f"line {instr.line} copies into the same folder"
            continue
        if name == "RUN":
            steps = against(command_steps(tree, instr, workdirs[id(instr)]), code.dest)
            if not steps or any(s.kind not in (NOTHING, DEPS) for s in steps):
                return f"the RUN at line {instr.line} may read the code"
            if any(s.kind == DEPS for s in steps):
                crossing.append((instr, steps))
            continue
        return f"line {instr.line} ({name}) comes between"
    return None


def _deps_prefix(steps: list[Step]) -> list[Step] | tuple[str, bool]:
    """The commands of a dependencies-only RUN: every step up to the last install, code-free; or why
    there is none, and whether that is because a step installs the project itself."""
    last = max(i for i, s in enumerate(steps) if s.kind in (DEPS, SPLIT))
    prefix = steps[: last + 1]
    for step in prefix:
        if step.kind == CODE:
            return f"{step.why} before the dependencies install in the same RUN", step.itself
        if step.kind == NOTHING and not classify(step.command) and not is_setting(step.command.argv):
            return f"`{step.command.argv[0]}` runs in the same RUN before the install (split it by hand)", False
        if step.command.separator not in ("&&", None) and step is not prefix[-1]:
            return "its commands are not joined with &&", False
        if step.part.doc is not None:
            return "the install is in a heredoc", False
    return prefix


def _files(context: Context, code: CodeCopy, crossing: list[tuple[Instruction, list[Step]]], wanted: list[Step],
           venv_made: bool) -> list[tuple[str, str]] | str:
    """(context path, image path) of every manifest the steps read from the code copy: those of the
    installs the move crosses, then the install's own. Walked, not first listed: the first manifest
    missing ends it, and a list of every crossing step per install was quadratic in the installs
    after a code copy (perf3-lin's commit in perf3-model's module)."""
    rules = ignore_rules(context)
    out: list[tuple[str, str]] = []

    def add(context_path: str, image_path: str) -> None:
        if (context_path, image_path) not in out:
            out.append((context_path, image_path))

    def every() -> Iterator[Step]:
        for _, found in crossing:
            yield from found
        yield from wanted

    for step in every():
        for image_path in step.requirement_files:
            source = code.context_path(image_path)
            if source is None:
                continue
            found = requirements(context, source)
            if found.missing:
                return f"{found.missing[0]} is not in the build context"
            if found.local:
                return f"{found.files[0]} installs from a local path (`{found.local[0]}`)"
            for path in found.files:
                rel = posixpath.relpath(path, code.source or ".")
                if rel.startswith(".."):
                    return f"{path} is outside the copied folder"
                add(path, posixpath.normpath(posixpath.join(code.dest, rel)))
        for image_path, required in step.reads:
            source = code.context_path(image_path)
            if source is None:
                continue
            if context.read(source) is None or not required and rules.excludes(source):
                if required:
                    return f"{source} is not in the build context"
                continue
            add(source, image_path)
        if step.project:
            why = _project_blockers(context, code, step.project)
            if why:
                return why
    for source, _ in out:
        if rules.excludes(source):
            return f"{source} is excluded by .dockerignore"
    if not out and not any(s.twin for s in every()):
        return "it reads no manifest from the code copy"
    venv = _venv_in_context(context, rules, code) if venv_made or any(s.project for s in every()) else None
    if venv:
        return f"the code copy would overwrite the environment with {venv}/ (exclude it in .dockerignore)"
    return out


def _project_blockers(context: Context, code: CodeCopy, project: tuple[str, str]) -> str | None:
    tool, folder = project
    base = code.context_path(folder)
    if base is None:
        return None
    name = "Pipfile" if tool == "pipenv" else "pyproject.toml"
    data = toml(context, posixpath.join(base, name))
    if data is None:
        return f"{posixpath.join(base, name)} is missing or not valid TOML"
    check = {"uv": uv_blockers, "poetry": poetry_blockers, "pipenv": pipfile_blockers}[tool]
    reasons = check(data)
    if reasons:
        return reasons[0]
    root = (data.get("project") or {}).get("name")
    if tool != "uv" or not isinstance(root, str):
        return None
    # a package the lock installs from the context (find-links folder, `name @ file:`) is read by the dependencies' sync too
    lock = toml(context, posixpath.join(base, "uv.lock"))
    return uv_lock_local(lock, root) if lock is not None else None


def _venv_in_context(context: Context, rules: IgnoreRules, code: CodeCopy) -> str | None:
    for path in context.listing():
        top = path.rstrip("/").split("/")[0]
        if code.source and not path.startswith(code.source + "/"):
            continue
        if top in (".venv", "venv") or path.endswith("/pyvenv.cfg"):
            folder = path.rsplit("/pyvenv.cfg", 1)[0] if path.endswith("/pyvenv.cfg") else top
            if not rules.excludes(folder + "/bin/python"):
                return folder
    return None


# --- the new text ------------------------------------------------------------------


def _manifest_copies(tree: Tree, code: CodeCopy, files: list[tuple[str, str]], workdir: str,
                     earlier: list[Instruction], workdirs: dict[int, str]) -> list[str]:
    """COPY lines for the manifests, one per destination folder, in the code copy's style."""
    have = _copied_before(tree, earlier, workdirs)
    keyword = keyword_case(tree, "COPY")
    flags = [code.instr.logical[f.start:f.end] for f in code.instr.flags if f.name in ("chown", "chmod", "link")]
    folders: dict[str, list[str]] = {}
    for source, image_path in files:
        if (source, image_path) in have:
            continue
        folders.setdefault(posixpath.dirname(image_path), []).append(source)
    lines = []
    for folder, sources in folders.items():
        below = posixpath.relpath(folder, code.dest)
        if "$" in code.dest_text and not below.startswith(".."):
            # the author's variable, not its value: a --build-arg still moves both copies
            dest = code.dest_text.rstrip("/") + ("" if below == "." else "/" + below) + "/"
        elif code.dest_text.startswith(("/", "$")):
            dest = (folder[1:] if folder.startswith("/$") else folder).rstrip("/") + "/"
        else:
            rel = posixpath.relpath(folder, workdir)
            dest = "./" if rel == "." else rel + "/"
        lines.append(" ".join([keyword, *flags, *sources, dest]))
    return lines


def _copied_before(tree: Tree, earlier: list[Instruction], workdirs: dict[int, str]) -> set[tuple[str, str]]:
    """(context file, image path) pairs that single-file COPYs already put in place."""
    out = set()
    for instr in earlier:
        if instr.name != "COPY" or instr.flag("from") is not None or instr.heredocs:
            continue
        copy = Copy(instr)
        dest = _destination(tree, instr, workdirs[id(instr)])
        into_folder = copy.destination.endswith("/") or copy.destination in (".", "./") or len(copy.sources) > 1
        for source in copy.sources:
            clean = posixpath.normpath(source)
            out.add((clean, posixpath.join(dest, posixpath.basename(clean)) if into_folder else dest))
    return out


def _deps_run(tree: Tree, install: Instruction, steps: list[Step]) -> str:
    """The install RUN's own text up to its last dependency install, each install that
    would also install the project given its dependencies-only flag."""
    pieces, at = [], install.start
    for step in steps:
        if step.twin:  # a pip install of the project: its dependencies named instead
            start, end = step.part.span(install, step.command.words[0])[0], step.part.span(install, step.command.words[-1])[1]
            pieces += [tree.source[at:start], step.twin]
            at = end
        elif step.kind == SPLIT:
            end = install.source_offset(install.args_start + step.command.end - 1) + 1
            pieces += [tree.source[at:end], " " + step.suffix]
            at = end
    end = install.source_offset(install.args_start + steps[-1].command.end - 1) + 1
    return "".join(pieces) + tree.source[at:end]


def _block_start(instr: Instruction) -> int:
    return instr.leading_comments[0].start if instr.leading_comments else instr.start


def _block_lines(tree: Tree, instr: Instruction) -> list[str]:
    return tree.source[_block_start(instr):instr.end].splitlines()


def _blank_before(tree: Tree, pos: int) -> bool:
    """Whether the line above `pos` (a line start) is blank."""
    source = tree.source
    if pos < 1 or source[pos - 1] != "\n":
        return False
    end = pos - 2 if pos >= 2 and source[pos - 2] == "\r" else pos - 1  # the end of the line above
    start = source.rfind("\n", 0, end)  # (not a slice of everything before: a copy per call)
    return start >= 0 and not source[start + 1:end].strip()


def _blank_after(tree: Tree, pos: int) -> int:
    """The length of the blank line starting at `pos` (0 when it is not blank)."""
    match = _BLANK_LINE.match(tree.source, pos)
    return match.end() - pos if match else 0


TRANSFORM = Transform(NAME, "copy manifests and lockfiles first and install dependencies before the code is copied", find,
                      RULES)
