"""multistage: split a single-stage Python Dockerfile into a builder and a slim runtime.

The builder is the original file up to its last dependency install, on the
same base, with the installs going into one virtual environment. The runtime
is the original file on the slim variant of the base, with the installs
replaced by a copy of that environment (same path, same owner) and the
build-only packages left out. Every split passes the static equivalence
check or the file is left alone.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from dockfix.commands import invocation
from dockfix.context import Context
from dockfix.data import slim_programs
from dockfix.diagnostics import UNSAFE, Rule
from dockfix.edits import Edit, apply_edits, remove_word, replace_logical
from dockfix.engine import Fix, Note, Transform
from dockfix.facts import not_python_reason, uv_run_outside
from dockfix.model import env_at_end, per_tree
from dockfix.split import (
    apt_python,
    between,
    builder_apt,
    classify,
    debian_runtime,
    dependencies,
    equivalence,
    images,
    pipx,
    programs,
    uv_project,
    venv_first,
)
from dockfix.split.classify import Classifier, Step, resolve
from dockfix.syntax import Blank, Instruction, Tree, parse, shell_words
from dockfix.transforms._installs import MANAGED_ENV
from dockfix.views import Copy, Run, global_args, key_values, stages

NAME = "multistage"
SPLIT = Rule("DF601", NAME, "multistage-split", "split a single-stage image into a builder and a slim runtime that "
             "copies the environment", UNSAFE)
RULES = (SPLIT,)
SYSTEM_VENV = "/opt/venv"
# pip-to-uv's rule: its rewrite of the builder makes a split worth it (_uv_builder); a code, since a
# transform never imports another (docs/design.md).
PIP_TO_UV = "DF701"
_CONDA = re.compile(r"\b(conda|mamba|micromamba)\b")
_PIPENV = re.compile(r"\bpipenv\b")
_METADATA = ("CMD", "ENTRYPOINT", "LABEL", "EXPOSE", "HEALTHCHECK", "STOPSIGNAL", "MAINTAINER")


class Skip(Exception):
    """Why the split leaves the file alone; `kind` marks the reasons others ask about."""

    def __init__(self, why: str, kind: str = ""):
        super().__init__(why)
        self.kind = kind


NOTHING_TO_GAIN = "nothing-to-gain"  # the note's kind: the image is already what a split would make
UV_PROJECT = "uv-project"  # the note's kind: why a uv project's runtime keeps the source, or stays editable
BUILDER_APT = "builder-apt"  # the note's kind: an apt RUN the builder leaves out (its base has the packages), or keeps
KEPT_DEV = "kept-dev"  # the note's kind: a -dev package the runtime keeps, for want of its libraries


@dataclass
class Plan:
    tree: Tree
    from_: Instruction
    runtime: images.Runtime
    base_word: tuple[int, int]  # logical span of the image in the FROM line
    runtime_word: str  # the image as the runtime FROM writes it
    steps: list[Step]
    first: int  # index in steps of the first and last install
    last: int
    venv: str
    system: bool  # installs went to the interpreter's site-packages: the builder makes SYSTEM_VENV
    owner: str | None  # --chown for the copy (the installs ran as this non-root user)
    keep_uv_binary: bool
    builder_only: frozenset[int] = frozenset()  # RUNs between the installs that write only into the environment
    builder_copy: dict[int, tuple[str, ...]] = field(default_factory=dict)  # downloading RUNs -> their files
    copy_at: int = -1  # step index before which the runtime copies the environment (the last install's, or
    # that of a RUN between the installs that needs the packages: split/between)
    venv_at: int = -1  # step index before which the builder makes SYSTEM_VENV (system installs only)
    apt_edits: dict[int, list[Edit] | None] = field(default_factory=dict)  # step index -> runtime edits; None: drop
    builder_edits: dict[int, list[Edit]] = field(default_factory=dict)  # step index -> edits of its builder copy
    source_copies: set[int] = field(default_factory=set)  # COPYs of the project the runtime does without
    build_env: set[int] = field(default_factory=set)  # ENV lines of uv's install settings: builder only
    uv_runs: bool = False  # uv runs in the runtime (its commands, or compose/make running `uv run` there)
    runtime_programs: set[str] = field(default_factory=set)  # what the runtime stage runs (split/programs)
    notes: list[str] = field(default_factory=list)  # why a uv project keeps its source in the runtime
    copies: tuple[str, ...] = ()  # the folders the runtime copies from the builder (default: (venv,))
    debian: apt_python.Base | None = None  # a Debian base with Python from apt: the runtime is the same image
    debian_install: apt_python.Runtime | None = None  # what the runtime's apt lines install then
    builder_apt: builder_apt.Found = field(default_factory=builder_apt.Found)  # apt RUNs the full base makes moot
    uv_gain: bool = False  # the split's gain is pip-to-uv's rewrite of its builder (no smaller image)
    venv_first: venv_first.VenvFirst | None = None  # the install RUN's venv, made before the manifests instead


def find(tree: Tree, context: Context) -> Iterator[Fix | Note]:
    try:
        plan = make_plan(tree, context)
    except Skip as why:
        yield SPLIT.note(f"not split: {why}", _from_line(tree), kind=why.kind)
        return
    text = render(plan)
    problems = check(tree, text, plan)
    if problems:
        yield SPLIT.note("not split: the split would change the image configuration (a dockfix bug): "
                         + "; ".join(problems), plan.from_.line)
        return
    for note in plan.notes:
        yield SPLIT.note(note, plan.from_.line, kind=UV_PROJECT)
    for line, note in plan.builder_apt.notes:
        yield SPLIT.note(note, line, kind=BUILDER_APT)
    for line, note in _kept_dev(plan):
        yield SPLIT.note(note, line, kind=KEPT_DEV)
    start = plan.from_.start
    gain = f"; the gain is build speed: pip-to-uv ({PIP_TO_UV}) installs with uv in the builder" if plan.uv_gain else ""
    yield SPLIT.fix(f"split into a builder stage and a {plan.runtime.image} runtime that copies "
                    f"{' and '.join(plan.copies or (plan.venv,))}{gain}",
                    plan.from_.line, (Edit(start, len(tree.source), text[start:]),))


# Each regex is searched only when its word is in the text (a match holds it): a search with `\b`
# and alternatives over a whole file cost about 0.1 ms a file, an `in` a hundredth of that.
def _names_pipenv(text: str) -> bool:
    return "pipenv" in text and bool(_PIPENV.search(text))


def _names_conda(text: str) -> bool:
    return ("conda" in text or "mamba" in text) and bool(_CONDA.search(text))


def _from_line(tree: Tree) -> int | None:
    return next((i.line for i in tree.instructions if i.name == "FROM"), None)


def check(before: Tree, text: str, plan: Plan) -> list[str]:
    """The static equivalence check on a rendered split."""
    # (with the file's parse memo and tree, as the engine re-parses: the split's lines that are the
    # file's own are copied, their RUNs not lexed again)
    after = parse(text, before.memo, before)
    if len(stages(after)) != 2:
        return [f"expected 2 stages, found {len(stages(after))}"]
    left_out = frozenset(k for i in plan.build_env for k, _ in key_values(plan.steps[i].instr))
    allow = equivalence.Allowance(SYSTEM_VENV if plan.system else None, left_out)
    return equivalence.differences(before, after, allow)


# -- planning -----------------------------------------------------------------------------


def make_plan(tree: Tree, context: Context) -> Plan:
    reason = not_python_reason(tree, context)
    if reason:
        raise Skip(reason)
    found = stages(tree)
    if len(found) != 1:
        raise Skip("already multi-stage" if found else "no FROM instruction")
    stage = found[0]
    every = " ".join(i.logical for i in tree.instructions) + " ".join(h.body for i in tree.instructions for h in i.heredocs)
    if any(i.name == "ONBUILD" for i in tree.instructions):
        raise Skip("ONBUILD instructions run in images built from this one; the split cannot place them")
    if _names_pipenv(every) or context.exists("Pipfile"):
        raise Skip("pipenv project: its environment location is not known statically (not handled yet)")
    if _names_conda(every) or "conda" in stage.base or "mamba" in stage.base:
        raise Skip("conda environment: not handled by the split")
    base, span = _base(tree, stage.from_)
    runtime = images.runtime_for(base)
    debian: apt_python.Base | None = None
    if isinstance(runtime, str):
        apt = apt_python.base(base)  # Python from apt: the runtime is the same image (split/apt_python)
        if not isinstance(apt, apt_python.Base):
            raise Skip(apt or runtime)
        debian, runtime = apt, apt.runtime()
    runtime_word = _runtime_word(stage.from_.logical[stage.from_.args_start + span[0]:stage.from_.args_start + span[1]],
                                 base, runtime.image)
    classifier = Classifier(tree)
    steps = [classifier.step(instr) for instr in stage.instructions]
    env = env_at_end(tree, stage)  # the stage's ENV and ARG values at its end (the image's ENV)
    if debian is not None and not apt_python.installs_python(steps):
        raise Skip(f"base image {base}: no apt install of python3 in the file (on a Debian base, only a venv made "
                   "by the python3 apt installs is split)")
    for step in steps:
        if step.kind == "mixed":
            raise Skip(f"line {step.instr.line}: {step.reason}")
    installs = [i for i, s in enumerate(steps) if s.kind == "install"]
    if not installs:
        raise Skip("no dependency install (pip, uv, poetry) to move into a builder")
    first, last = installs[0], installs[-1]
    commands = [c for i in installs for c in steps[i].installs if c.tool not in ("glue", "poetry-config")]
    if not all(c.target for c in commands):
        raise Skip("an install dockfix cannot place")
    for command in commands:
        if command.problem:
            raise Skip(f"line {_line(steps, command)}: {command.problem}")
    targets = {c.target for c in commands}
    if len(targets) > 1 and "system" in targets:
        # Upgrading the system's own pip/setuptools/wheel only serves the builder.
        if all(set(_names(c.packages)) <= _TOOLING for c in commands if c.target == "system" and c.tool == "pip"):
            targets.discard("system")
    if len(targets) != 1:
        raise Skip(f"installs go to several environments ({', '.join(sorted(targets))})")
    target = targets.pop()
    system = target == "system"
    copies = _pipx_copies(commands) if target == pipx.TARGET else ()
    venv = SYSTEM_VENV if system else copies[0] if copies else target
    users = {stage.user_at(s.instr) for s in steps if any(c.target == target for c in s.installs)}
    first = next(i for i in installs if any(c.target == target for c in steps[i].installs))
    if len(users) != 1:
        raise Skip("installs run as different users")
    user = resolve(users.pop(), env)
    if user is None:
        raise Skip("the installing USER is not known statically")
    if system and user not in ("root", "0"):
        raise Skip("pip installs as a non-root user without a venv (user site-packages)")
    if system and SYSTEM_VENV in every:
        raise Skip(f"{SYSTEM_VENV} is already used by the Dockerfile")
    if any(c.tool == "uv-sync" or (c.tool == "venv" and c.command.argv[0] == "uv") for c in commands):
        _check_uv_python(runtime, context, env)
    suites = [runtime.distribution] if runtime.distribution else list(slim_programs.suites())
    # pipx writes several folders (home, bin, man): their common parent stands for them all
    folders = posixpath.commonpath(copies) if copies else venv
    as_root = frozenset(i for i, s in enumerate(steps) if resolve(stage.user_at(s.instr), env)
                        in ("root", "0"))
    place = between.placement(steps, first, last, folders, target, suites, runtime.version, context, as_root)
    if isinstance(place, str):
        raise Skip(place)
    if debian is not None:
        why = apt_python.venv_reason(steps, target, debian)
        if why:
            raise Skip(why)
    plan = Plan(tree, stage.from_, runtime, span, runtime_word, steps, first, last, venv, system,
                None if user in ("root", "0") else user, keep_uv_binary=False, copies=copies, copy_at=place.copy_at,
                builder_only=place.builder_only, builder_copy=dict(place.builder_copy),
                debian=debian)
    if debian is not None:
        plan.debian_install = _debian_install(plan, debian)
    _check_tools(plan, context)
    plan.venv_at = _venv_position(plan) if system else -1
    if not system:
        plan.venv_first = hoisted = venv_first.find(steps, first, venv, context)
        if hoisted is not None:
            plan.builder_edits.setdefault(hoisted.install, []).append(
                Edit(*venv_first.cut(steps[hoisted.install], hoisted.command, hoisted.rest), ""))
    plan.build_env = _build_env(plan)
    if not system:
        _uv_project(plan, context, env)
    plan.apt_edits = {i: _runtime_apt(tree, steps[i], _decide(plan)) for i in range(last) if steps[i].kind == "apt"}
    _check_apt_lists(plan)
    plan.builder_apt = builder_apt.find(steps, last, base, runtime)
    reason = _nothing_to_gain(plan, env)
    if reason:
        why_not = _uv_builder(plan, context)
        if why_not is not None:
            raise Skip(f"nothing to gain: {reason}{why_not}", NOTHING_TO_GAIN)
    return plan


def _pipx_copies(commands: list[classify.InstallCommand]) -> tuple[str, ...]:
    """The folders every pipx install wrote (split.pipx.folders): one set for all of them."""
    found = {c.copies for c in commands if c.tool == "pipx"}
    if len(found) != 1:
        raise Skip("pipx installs write to different folders (PIPX_HOME, PIPX_BIN_DIR or the user changed)")
    return found.pop()


def _build_env(plan: Plan) -> set[int]:
    """ENV lines that only set uv's install settings (UV_LINK_MODE, UV_COMPILE_BYTECODE: what
    cache-mounts and bytecode write above an install) stay in the builder when the runtime runs
    no uv (its image has none, nothing runs it) and nothing after them reads them: the final
    image's environment stays the original's."""
    if plan.uv_runs or "astral-sh/uv" in plan.runtime.image:
        return set()
    out = set()
    for index, step in enumerate(plan.steps[: plan.last]):
        pairs = key_values(step.instr) if step.instr.name == "ENV" else []
        if not pairs or not all(k in MANAGED_ENV for k, _ in pairs):
            continue
        read = re.compile(r"\$\{?(?:" + "|".join(re.escape(k) for k, _ in pairs) + r")\b")
        if any(read.search(later.instr.logical) for later in plan.steps[index + 1 :]):
            continue
        out.add(index)
    return out


def _uv_project(plan: Plan, context: Context, env: Mapping[str, str]) -> None:
    """A uv project that is a package is synced with --no-editable in the builder (built into
    the venv as a wheel, as uv's Docker guide does), and when the image runs one of its entry
    points the runtime copies only the venv: the copy of the source tree stays in the builder.
    Both rely on the pyproject.toml the build copies in; otherwise a note says why not."""
    syncs = [(i, c) for i in range(plan.first, plan.last + 1) for c in plan.steps[i].installs
             if c.tool == "uv-sync" and c.target == plan.venv]
    if not syncs:
        return
    index, first_sync = syncs[-1]
    project = uv_project.read(plan.steps[index].workdir, plan.steps[:index], context)
    if isinstance(project, str):
        plan.notes.append(f"uv sync kept editable: the project is not known ({project})")
        return
    if not project.package:
        return  # uv installs only the dependencies: nothing is editable, the source is the app
    if plan.uv_runs:
        plan.notes.append("uv sync kept editable: the runtime runs uv, whose `uv run` would install the project "
                          "again as editable")
        return
    for i, command in syncs:
        argv = command.command.argv
        if "--no-editable" in argv or env.get("UV_NO_EDITABLE") or "$" in " ".join(w.raw for w in command.command.words):
            continue
        instr = plan.steps[i].instr
        if instr.heredocs:
            plan.notes.append(f"line {instr.line}: uv sync in a heredoc kept editable (dockfix does not edit heredocs)")
            return
        end = instr.source_offset(instr.args_start + command.command.end - 1) + 1
        plan.builder_edits.setdefault(i, []).append(Edit(end, end, " --no-editable"))
    installs_project = any("--no-install-project" not in c.command.argv and not
                           {"--only-group", "--only-dev"} & set(c.command.argv) for _, c in syncs)
    why = _runtime_needs_source(plan, project, context) if installs_project else "no uv sync installs the project"
    if why:
        plan.notes.append(f"the runtime keeps the project's source: {why}")


def _runtime_needs_source(plan: Plan, project: uv_project.Project, context: Context) -> str | None:
    """None when the runtime can do without the COPY of the project folder (and marks those
    COPYs in plan.source_copies); otherwise why it cannot."""
    folder = plan.steps[plan.last].workdir
    copies = []
    for i, step in enumerate(plan.steps):
        if step.kind != "copy" or step.instr.name not in ("COPY", "ADD") or step.into != folder:
            continue
        copy = Copy(step.instr)
        if copy.from_ or copy.sources not in (["."], ["./"]):
            continue
        if copy.chown or copy.chmod or step.instr.name == "ADD":
            return f"line {step.instr.line}: the copy sets owners or modes the app may rely on"
        copies.append(i)
    if not copies:
        return "no `COPY . " + folder + "` to leave in the builder"
    entry, words = _entry(plan)
    if entry is None:
        return "the image's command is not known statically"
    if entry.startswith(plan.venv.rstrip("/") + "/bin/"):
        entry = entry.rsplit("/", 1)[1]
    why = uv_project.runtime_needs_source(project, posixpath.dirname(project.pyproject), entry, context)
    if why:
        return why
    for word in words:
        rel = word[len(folder.rstrip("/")) + 1:] if word.startswith(folder.rstrip("/") + "/") else word
        if context.exists(rel.strip("/") or "."):
            return f"the command names `{word}`, a file of the copied folder"
    for i in range(copies[0] + 1, len(plan.steps)):
        if _runs_in_runtime(plan, i) and plan.steps[i].instr.name == "RUN":
            return f"line {plan.steps[i].instr.line}: a RUN after the copy may read the source"
    plan.source_copies.update(copies)
    return None


def _entry(plan: Plan) -> tuple[str | None, list[str]]:
    """The program the image runs (ENTRYPOINT's first word, else CMD's) and every word of its
    command and health check."""
    last = {s.instr.name: s.instr for s in plan.steps if s.instr.name in ("CMD", "ENTRYPOINT", "HEALTHCHECK")}
    words: list[str] = []
    for name in ("ENTRYPOINT", "CMD", "HEALTHCHECK"):
        instr = last.get(name)
        if instr is not None:
            found = instr.exec_form if instr.exec_form is not None else [
                w for w, _, _ in shell_words(instr.args, instr.escape)]
            words += [w for w in found if not (name == "HEALTHCHECK" and w in ("CMD", "NONE"))]
    runs = last.get("ENTRYPOINT") or last.get("CMD")
    if runs is None or not words or any("$" in w for w in words):
        return None, words
    first = (runs.exec_form if runs.exec_form is not None else [w for w, _, _ in shell_words(runs.args, runs.escape)])
    return (first[0] if first else None), words


# Installing these into the system only serves the builder (the installers themselves).
_TOOLING = {"pip", "setuptools", "wheel", "poetry", "uv", "poetry-plugin-export", "pipx"}
_SEEDED = {"pip", "setuptools", "wheel"}  # what `python -m venv` puts into a venv (or pip can add there)


def _venv_position(plan: Plan) -> int:
    """Where the builder makes the venv: after system installs of the installers
    themselves (poetry, uv, pip upgrades), so they stay behind in the builder instead
    of riding along in the copied environment, unless the runtime runs them."""
    used = plan.runtime_programs
    for index in range(plan.first, plan.last + 1):
        step = plan.steps[index]
        commands = [c for c in step.installs if c.tool not in ("glue", "poetry-config")]
        if step.kind != "install" or not commands:
            continue
        if all(c.tool == "pip" and c.target == "system" and set(_names(c.packages)) <= _TOOLING
               and not set(_names(c.packages)) & used for c in commands):
            continue
        return _before_manifests(plan, index)
    return _before_manifests(plan, plan.first)


def _before_manifests(plan: Plan, index: int) -> int:
    """Move the venv's creation above the COPY lines right before the install: making it reads
    no project file, so a dependency change then re-runs only the install, not `python -m venv`."""
    while index > 0:
        step = plan.steps[index - 1]
        if step.kind != "copy" or step.instr.name not in ("COPY", "ADD") or Copy(step.instr).from_:
            break
        index -= 1
    return index


def _names(packages: tuple[str, ...]) -> list[str]:
    return [re.split(r"[<>=!~\[ ]", p, maxsplit=1)[0].lower() for p in packages] or ["?"]


def _line(steps: list[Step], command) -> int:
    return next(s.instr.line for s in steps if command in s.installs)


def _base(tree: Tree, from_: Instruction) -> tuple[str, tuple[int, int]]:
    """The FROM image with ARG defaults resolved, and its logical span (relative to args_start)."""
    words = shell_words(from_.args, from_.escape)
    if not words:
        raise Skip("FROM without an image")
    raw, start, end = words[0]
    defaults = {k: v for a in global_args(tree) if a.name == "ARG" for k, v in key_values(a) if v is not None}
    base = resolve(raw, defaults)
    if base is None:
        raise Skip(f"FROM {raw} goes through a build ARG without a default: the base is not known statically")
    return base, (start, end)


def _runtime_word(raw: str, base: str, slim: str) -> str:
    """The runtime image as written: the slim variant, keeping the ARG references of `raw`."""
    if raw == base or slim == base:
        return slim if raw == base else raw
    # python:${V} -> python:${V}-slim: only when the change is an insertion after the ARG part.
    k = next((i for i in range(len(base)) if i >= len(slim) or base[i] != slim[i]), len(base))
    inserted = slim[k : k + len(slim) - len(base)]
    suffix = base[k:]
    if slim != base[:k] + inserted + suffix or not raw.endswith(suffix) or "$" in suffix:
        raise Skip(f"FROM {raw}: the slim variant cannot be written through the build ARG")
    head = raw[: len(raw) - len(suffix)]
    if "$" not in head and head != base[:k]:
        raise Skip(f"FROM {raw}: the slim variant cannot be written through the build ARG")
    return head + inserted + suffix


def _check_uv_python(runtime: images.Runtime, context: Context, env: Mapping[str, str]) -> None:
    """uv downloads a managed Python into its home when the base's does not fit the project:
    a venv made on it would not run on the runtime, which has only the base's interpreter."""
    chosen = env.get("UV_PYTHON", "")
    if (chosen and not chosen.startswith("/usr/local/bin/python")) or env.get("UV_PYTHON_PREFERENCE") == "only-managed":
        raise Skip("uv is told to use another interpreter (UV_PYTHON or UV_PYTHON_PREFERENCE)")
    pinned = (context.read(".python-version") or "").strip().splitlines()
    if pinned and not (runtime.version and (pinned[0] + ".").startswith(runtime.version + ".")
                       or runtime.version and (runtime.version + ".").startswith(pinned[0] + ".")):
        raise Skip(f".python-version asks for {pinned[0]}, which the base image may not have: uv would download it")
    text = context.read("pyproject.toml")
    if not text:
        return
    import tomllib  # only when a TOML file is read: its import costs more than most runs' work

    try:
        requires = tomllib.loads(text).get("project", {}).get("requires-python")
    except tomllib.TOMLDecodeError:
        raise Skip("pyproject.toml does not parse") from None
    if requires and not images.python_allowed(runtime.version, requires):
        raise Skip(f"requires-python {requires!r} may not admit the base's Python: uv would download one")


# The system interpreter's files: its programs and console scripts (the official images keep
# only Python's in /usr/local/bin) and its site-packages. After a system install moves to the
# venv, such a path still names a file, but no longer the one the installs wrote.
_SYSTEM_PYTHON = re.compile(r"/usr/local/bin/[\w.-]|/usr/(?:local/)?lib/python[\d.]*/(?:site|dist)-packages"
                            r"|/usr/bin/(?:python|pip)")


def _check_system_paths(plan: Plan, context: Context) -> None:
    """pip into the system moves to /opt/venv: nothing may name the system interpreter's paths
    or replace PATH (the venv's bin folder must stay first)."""
    for step in plan.steps[plan.first :]:
        instr = step.instr
        if instr.name == "ENV":
            for key, value in key_values(instr):
                if key == "PATH" and value is not None and "$PATH" not in value and "${PATH}" not in value:
                    raise Skip(f"line {instr.line}: ENV PATH replaces the search path the venv must lead")
    for step in plan.steps:
        if step.instr.name == "ENV" and any(k == "VIRTUAL_ENV" for k, _ in key_values(step.instr)):
            raise Skip(f"line {step.instr.line}: VIRTUAL_ENV is set but the installs go to the system")
        text = step.instr.logical + "".join(h.body for h in step.instr.heredocs)
        if step.kind != "install" and _SYSTEM_PYTHON.search(text):
            raise Skip(f"line {step.instr.line}: names the system interpreter's files, which the venv does not change")
    for path in _scripts(context):
        if _SYSTEM_PYTHON.search(context.read(path) or ""):
            raise Skip(f"{path} names the system interpreter's files, which the venv does not change")


def _scripts(context: Context) -> list[str]:
    return [p for p in context.listing() if p.endswith((".sh", ".bash")) or p.rsplit("/", 1)[-1] in ("entrypoint", "start")]


def _check_tools(plan: Plan, context: Context) -> None:
    # What the runtime stage runs: its kept RUNs, CMD, ENTRYPOINT, HEALTHCHECK and the scripts they start.
    ran = programs.executed([(step, plan.steps[:i]) for i, step in enumerate(plan.steps) if _runs_in_runtime(plan, i)],
                            context)
    plan.runtime_programs = used = ran.programs
    if plan.system:
        _check_system_paths(plan, context)
    # What the copied environment holds (a system-wide install of uv or poetry next to a
    # venv stays in the builder).
    target = _target(plan)
    # pipx put into the system interpreter stays in the builder, unless the installs go there too
    behind = not plan.system and any(c.tool == "pip" and c.target == "system" and "pipx" in _names(c.packages)
                                     for s in plan.steps for c in s.installs)
    if plan.copies or behind:
        line = next((u.line for u in ran.uses if u.program == "pipx"), None) or _runs_pipx(plan)
        if line:
            raise Skip(f"line {line}: pipx runs in the runtime, but stays in the builder with the installs")
    pip_packages = " ".join(p for s in plan.steps for c in s.installs if c.target == target for p in c.packages)
    outside = uv_run_outside(context)  # compose `command:`, `docker compose run` in a Makefile
    uv_used = bool(used & {"uv", "uvx"}) or outside is not None
    plan.uv_runs = uv_used
    if uv_used:
        in_base = "astral-sh/uv" in plan.runtime.image
        copied = any(s.kind == "uv-binary" for s in plan.steps)
        if not (in_base or copied or re.search(r"(^|\s)uv([=<>~\s]|$)", pip_packages)):
            where = f"{outside[0]} line {outside[1]} runs `uv run` in a container" if outside else \
                "uv runs in the runtime (CMD, ENTRYPOINT or a later RUN)"
            raise Skip(f"{where} but the runtime would not have uv")
        plan.keep_uv_binary = copied and not in_base
    if "poetry" in used:
        if not re.search(r"(^|\s)poetry([=<>~\s]|$)", pip_packages):
            raise Skip("poetry runs in the runtime but is not installed into the environment the runtime gets")
        if any(c.tool == "poetry-config" for s in plan.steps for c in s.installs):
            raise Skip("poetry runs in the runtime but its settings were written by `poetry config` in the builder")
    if plan.debian is not None:
        _check_debian(plan, ran, context, target)
        return
    # Build-only packages the runtime leaves out (gcc, -dev headers) take the libraries they
    # depend on with them (gcc brings libgomp1): on the same base too, a library a dependency
    # needs must then be installed by the runtime.
    dropped = [(s.instr.line, p) for s in plan.steps[: plan.last] if s.kind == "apt"
               for p, _ in s.apt_packages if debian_runtime.is_build_only(p)]
    if not plan.runtime.changed and not dropped:
        return
    installed = _runtime_packages(plan)
    if plan.runtime.changed:
        _check_programs(plan, ran, installed)
    lost = (f"{_image(plan)} has and {plan.runtime.image} lacks" if plan.runtime.changed else
            f"the build-only packages the runtime leaves out (line {dropped[0][0]}: "
            f"{', '.join(sorted({p for _, p in dropped}))}) may have brought")
    known = dependencies.installed(plan.steps, target, context)
    if isinstance(known, str):
        raise Skip(f"the installed dependencies are not known ({known}), so neither are the system libraries "
                   + (f"they need on {plan.runtime.image}" if plan.runtime.changed else f"they need, which {lost}"))
    linked = set()  # what the runtime installs the library of (PYPI_SYSTEM_LIBRARY names it)
    for package, library in debian_runtime.PYPI_SYSTEM_LIBRARY.items():
        provided = library in installed or any(debian_runtime.stands_for(p, library) for p in installed)
        if dependencies.normalize(package) in known.names and not provided:
            raise Skip(f"{package} links against {library}, which {lost}")
        linked.add(dependencies.normalize(package))
    if plan.runtime.changed:
        built = debian_runtime.source_build(known.names - linked, known.requirements, plan.runtime.version)
        if built:
            raise Skip(f"{built}: pip builds it from source against the builder image's libraries, which {lost}")
    forced = _forced_source_build(plan, known.read, context)
    if forced:
        raise Skip(f"{forced} asks for builds from source (no-binary): they link against whatever system "
                   f"libraries the build finds, which {lost}")


_NO_BINARY = re.compile(r"no[-_]binary", re.IGNORECASE)


def _forced_source_build(plan: Plan, read: list[str], context: Context) -> str | None:
    """Where the builder asks pip, uv or poetry to build from source (`--no-binary`, PIP_NO_BINARY,
    UV_NO_BINARY, installer.no-binary; on a command line, in the environment or in a requirements
    file it read). Such a build links against the libraries of the image it runs in (Pillow against
    the full image's libtiff), which no table of distributions can name."""
    for step in plan.steps[: plan.last + 1]:
        text = step.instr.logical + "".join(h.body for h in step.instr.heredocs)
        if _NO_BINARY.search(text):
            return f"line {step.instr.line}"
    return next((source for source in read if _NO_BINARY.search(context.read(source) or "")), None)


def _target(plan: Plan) -> str:
    """The install target of the plan's commands (InstallCommand.target)."""
    return "system" if plan.system else pipx.TARGET if plan.copies else plan.venv


def _runs_pipx(plan: Plan) -> int | None:
    """The line of a RUN the runtime keeps that calls pipx (`python -m pipx` too)."""
    return next((step.instr.line for i, step in enumerate(plan.steps) if _runs_in_runtime(plan, i) and any(
        (found := invocation(c)) is not None and found.manager == "pipx" for c in step.commands)), None)


def _debian_install(plan: Plan, debian: apt_python.Base) -> apt_python.Runtime:
    """What the runtime's apt lines install on a Debian base with Python from apt."""
    installs: list[apt_python.Install] = []
    for step in plan.steps[: plan.last]:
        text = step.instr.logical + "".join(h.body for h in step.instr.heredocs)
        if "apt.conf" in text:
            raise Skip(f"line {step.instr.line}: writes apt's configuration, which may change what the installs bring")
        if step.kind != "apt":
            continue
        commands: dict[int, apt_python.Install] = {}
        for word, command in step.apt_packages:
            if id(command) not in commands:
                on = apt_python.recommends_on(command.argv)
                if on is None:
                    raise Skip(f"line {step.instr.line}: an apt option on Recommends dockfix does not read")
                commands[id(command)] = apt_python.Install([], on)
            commands[id(command)].words.append(word)
        installs += commands.values()
    found = apt_python.runtime_install(installs, debian)
    if isinstance(found, str):
        raise Skip(found)
    return found


def _check_debian(plan: Plan, ran: programs.Executed, context: Context, target: str) -> None:
    """On a Debian base with Python from apt, the runtime is the same image without the build-only
    packages: nothing it runs may come with them, and every system library a source-built
    dependency links against stays (split/apt_python)."""
    assert plan.debian is not None and plan.debian_install is not None
    if ran.unknown:
        raise Skip(f"what the runtime runs is not known ({ran.unknown}), so neither is whether its apt lines keep it")
    texts = [(s.instr.line, s.instr.logical) for i, s in enumerate(plan.steps) if _runs_in_runtime(plan, i)]
    why = (apt_python.program_reason(ran.uses, plan.debian_install, plan.debian, plan.venv)
           or apt_python.module_reason(texts, plan.venv))
    if why:
        raise Skip(why)
    known = dependencies.installed(plan.steps, target, context)
    if isinstance(known, str):
        raise Skip(f"the installed dependencies are not known ({known}), so neither are the system libraries they "
                   "need at run time")
    original = {w for s in plan.steps[: plan.last] if s.kind == "apt" for w, _ in s.apt_packages}
    why = apt_python.libraries_reason(known.names, plan.debian_install, original)
    if why:
        raise Skip(why)


def _check_programs(plan: Plan, ran: programs.Executed, installed: set[str]) -> None:
    """Every program the runtime stage runs is on the slim image, or installed there by an apt
    line the runtime keeps, or the split is refused: knowledge from dockfix's table of the
    programs in the official images (data/slim_programs.json, made by building them)."""
    if ran.unknown:
        raise Skip(f"what the runtime runs is not known ({ran.unknown}), so neither is whether {plan.runtime.image} "
                   "has it")
    uses = ran.uses
    version = plan.runtime.version
    suites = [plan.runtime.distribution] if plan.runtime.distribution else list(slim_programs.suites())
    for use in uses:
        for suite in suites:
            slim = slim_programs.slim_has(use.program, suite, version)
            full = slim_programs.full_has(use.program, suite, version)
            if slim is True or full is False:
                continue  # on the slim image, or not on the full one either: the split changes nothing
            package = slim_programs.full_only_package(use.program, suite, version)
            if package is not None and package in installed:
                continue
            where = f"line {use.line}" + (f" ({use.via})" if use.via else "")
            if slim is None:
                raise Skip(f"{where}: whether {plan.runtime.image} has `{use.program}` is not known (dockfix's "
                           f"table of the images' programs covers {', '.join(slim_programs.suites())})")
            raise Skip(f"{where}: `{use.program}` comes with {_image(plan)} but not with {plan.runtime.image}"
                       + (f" (Debian package {package})" if package else ""))


def _runs_in_runtime(plan: Plan, index: int) -> bool:
    step = plan.steps[index]
    if step.instr.name == "RUN":  # installs move to the builder; apt lines run apt-get
        return step.kind == "other" and index not in plan.builder_only and index not in plan.builder_copy
    return step.instr.name in ("CMD", "ENTRYPOINT", "HEALTHCHECK")


def _runtime_packages(plan: Plan) -> set[str]:
    """Debian packages the runtime stage installs (build-only ones left out, -dev as their library)."""
    out: set[str] = set()
    for i, step in enumerate(plan.steps):
        if i > plan.last and step.instr.name == "RUN":
            out.update(w.value for c in step.commands for w in c.words)  # kept as written
        elif step.kind == "apt":
            for package, _ in step.apt_packages:
                if not debian_runtime.is_build_only(package):
                    out.update(debian_runtime.runtime_libraries(package, plan.runtime.distribution) or (package,))
    return out


def _image(plan: Plan) -> str:
    return plan.from_.logical[plan.from_.args_start + plan.base_word[0]: plan.from_.args_start + plan.base_word[1]]


@dataclass
class Estimate:
    """What the final image loses and gains with the split, as far as the file tells (no sizes):
    the static estimate behind "nothing to gain"."""

    left_behind: list[str] = field(default_factory=list)  # files the runtime no longer carries
    caches: list[str] = field(default_factory=list)  # download caches the installs leave in a layer
    added: list[str] = field(default_factory=list)  # what the split itself puts into the final image


def estimate(plan: Plan, env: Mapping[str, str]) -> Estimate:
    """`env`: the stage's environment at its end (model.env_at_end)."""
    out = Estimate()
    if plan.runtime.changed:
        out.left_behind.append(f"{_image(plan)}'s build tools and libraries ({plan.runtime.image} instead)")
    for index, edits in sorted(plan.apt_edits.items()):
        if edits is None or edits:
            out.left_behind.append(f"the build-only packages of line {plan.steps[index].instr.line}")
    out.left_behind += [f"the uv binary of line {s.instr.line}" for s in plan.steps
                        if s.kind == "uv-binary" and not plan.keep_uv_binary]
    target = _target(plan)
    for index, step in enumerate(plan.steps):
        for command in step.installs:
            if command.tool == "pip" and command.target == "system" and (target != "system" or index < plan.venv_at):
                if plan.system and set(_names(command.packages)) <= _SEEDED:
                    continue  # an upgraded pip stays behind, but the new venv brings its own
                out.left_behind.append(f"what line {step.instr.line} installs into the system interpreter "
                                       f"({' '.join(_names(command.packages))})")
            elif command.tool in _CACHES and not _cache_kept_out(step, command, env):
                out.caches.append(f"{_CACHES[command.tool]} cache (line {step.instr.line})")
    if plan.system:
        # python -m venv seeds pip (and setuptools before Python 3.12) into the environment it makes.
        old = not plan.runtime.version or _version(plan.runtime.version) < (3, 12)
        out.added.append(f"pip{' and setuptools' if old else ''} in the new {SYSTEM_VENV} (python -m venv)")
    return out


def _nothing_to_gain(plan: Plan, env: Mapping[str, str]) -> str | None:
    """Why the split would not make the image smaller (None: it would). Caches count only when
    the split adds nothing: a cache mount (DF201) keeps them out of the image without a venv."""
    found = estimate(plan, env)
    if found.left_behind or (found.caches and not found.added):
        return None
    said = f"already on {plan.runtime.image}, with no build-only packages or tools to leave behind"
    if found.caches:
        return (f"{said}; it would drop only {', '.join(found.caches)}, which a cache mount keeps out of the "
                f"image as well, and add {'; '.join(found.added)}")
    if found.added:
        return f"{said}, and no cache in a layer; it would add {'; '.join(found.added)}"
    return f"{said}, and no cache in a layer"


def _uv_builder(plan: Plan, context: Context) -> str | None:
    """None when this run rewrites the split's builder so that every install in it is a uv install
    into a venv `uv venv` makes: pip-to-uv selected, unsafe fixes on, no pragma against it, and
    its own checks accepting the builder (asked through the engine on the rendered split, the
    tree it sees next: its decision, not a copy of it). Then the split builds faster than the
    original (lab: pip-install-dot) and the venv gets no pip or setuptools, so a split that
    leaves nothing behind is still a gain. Otherwise what to add to the refusal: pip-to-uv's own
    reason when it runs and refuses, else nothing."""
    text = render(plan)
    if check(plan.tree, text, plan):
        return ""  # find refuses it with the problems
    start = plan.from_.start
    found = context.findings_of(PIP_TO_UV, plan.tree, (Edit(start, len(plan.tree.source), text[start:]),))
    fixes = [f for f in found if isinstance(f, Fix)]
    if not fixes:
        said = "; ".join(n.message for n in found if isinstance(n, Note))
        return f"; and pip-to-uv ({PIP_TO_UV}) would not install with uv in its builder ({said})" if said else ""
    after = parse(apply_edits(text, [e for f in fixes for e in f.edits]), plan.tree.memo, plan.tree)  # (as check's)
    classifier = Classifier(after)
    commands = [c for i in stages(after)[0].instructions for c in classifier.step(i).installs if c.tool != "glue"]
    plan.uv_gain = any(c.tool == "uv-pip" for c in commands) and all(
        c.tool == "uv-pip" or (c.tool == "venv" and c.command.argv[0] == "uv") for c in commands)
    if not plan.uv_gain:
        return f"; and with pip-to-uv ({PIP_TO_UV}) its builder would still install with more than uv"
    return None


_CACHES = {"pip": "pip's download", "uv-sync": "uv's", "uv-pip": "uv's", "poetry": "poetry's"}
_NO_CACHE_ENV = {"pip": "PIP_NO_CACHE_DIR", "uv-sync": "UV_NO_CACHE", "uv-pip": "UV_NO_CACHE", "poetry": "POETRY_NO_CACHE"}
_CLEANERS = {"pip": ("cache", ("purge", "remove")), "uv": ("cache", ("clean", "prune")), "poetry": ("cache", ("clear",))}


def _cache_kept_out(step: Step, command: classify.InstallCommand, env: Mapping[str, str]) -> bool:
    """Whether the install's download cache stays out of the layer: turned off (a flag, its
    variable), on a cache mount, or removed by the same RUN (`rm` of a .cache folder, a cache
    cleaning command)."""
    argv = command.command.argv
    if command.tool == "pip":
        off = any(len(a) >= len("--no-ca") and "--no-cache-dir".startswith(a) for a in argv)  # optparse abbreviations
    else:
        off = any(a in ("--no-cache", "-n") for a in argv)
    name = _NO_CACHE_ENV[command.tool]
    value = command.command.assignments.get(name, env.get(name))
    # pip reads any value of PIP_NO_CACHE_DIR, even "off", as "no cache"
    if off or (value is not None if command.tool == "pip" else (value or "").lower() not in ("", "0", "false", "no")):
        return True
    if any(m.type == "cache" for m in Run(step.instr).mounts):
        return True
    for other in step.commands:
        words = other.argv
        prog = words[0].rsplit("/", 1)[-1] if words else ""
        if prog == "rm" and any("/.cache" in w or w in (".cache", "~/.cache") for w in words[1:]):
            return True
        rest = [w for w in words[1:] if not w.startswith("-")]
        cleaner = _CLEANERS.get("pip" if prog.startswith(("pip", "python")) else prog)
        if cleaner and cleaner[0] in rest[:2] and any(v in rest[:3] for v in cleaner[1]):
            return True
    return False


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:2])


# -- the runtime's system packages ----------------------------------------------------------


def _decide(plan: Plan) -> Callable[[str], str | None]:
    """What the runtime's apt lines do with a package word: None keeps it, "" leaves it out,
    another name installs that instead."""
    if plan.runtime.alpine:
        return lambda word: None
    if plan.debian_install is not None:
        return plan.debian_install.changes.get
    distribution = plan.runtime.distribution
    return lambda word: "" if debian_runtime.is_build_only(word) else _libraries(word, distribution)


def _kept_dev(plan: Plan) -> list[tuple[int, str]]:
    """A note for each -dev package the runtime keeps because its libraries are not known
    (when in doubt, keep): the user learns what it costs and why."""
    if plan.runtime.alpine:
        return []
    decide, seen, out = _decide(plan), set(), []
    for step in plan.steps[: plan.last]:
        if step.kind != "apt":
            continue
        for word, _ in step.apt_packages:
            if (not word.endswith("-dev") or word in seen or "$" in word or "=" in word
                    or debian_runtime.is_build_only(word) or decide(word) is not None):
                continue
            seen.add(word)
            why = (apt_python.kept_reason(word, plan.debian) if plan.debian is not None
                   else debian_runtime.kept_reason(word, plan.runtime.distribution))
            out.append((step.instr.line, f"line {step.instr.line}: the runtime keeps {word}: {why}"))
    return out


def _libraries(word: str, distribution: str | None) -> str | None:
    """The runtime libraries of a -dev package, as the words that replace it; None keeps it."""
    libraries = debian_runtime.runtime_libraries(word, distribution)
    return " ".join(libraries) if libraries else None


def _runtime_apt(tree: Tree, step: Step, decide: Callable[[str], str | None]) -> list[Edit] | None:
    """Edits that keep an apt RUN's runtime packages; [] keeps it as written, None drops it."""
    instr = step.instr
    removed, replaced = [], []
    by_command: dict[int, list[bool]] = {}
    for word, command in step.apt_packages:
        keep = True
        change = None if "$" in word or "=" in word else decide(word)
        if change == "":
            removed.append((word, command))
            keep = False
        elif change:
            replaced.append((word, command, change))
        by_command.setdefault(id(command), []).append(keep)
    if not removed and not replaced:
        return []
    emptied = [all(not k for k in keeps) for keeps in by_command.values()]
    if all(emptied):
        return None
    if any(emptied):
        raise Skip(f"line {instr.line}: an apt RUN with several installs of build-only packages")
    base = instr.args_start
    edits = []
    doomed = [w for word, c in removed for w in c.words if w.value == word]
    edits += _remove_words(tree, instr, [(base + w.start, base + w.end) for w in doomed])
    for word, command, library in replaced:
        w = next(w for w in command.words if w.value == word)
        edits.append(replace_logical(instr, base + w.start, base + w.end, library))
    return edits


def _blanks_between(instr: Instruction, end: int, start: int) -> bool:
    """Only blanks of one physical line between two words of the logical line."""
    gap = instr.logical[end:start]
    return not gap.strip(" \t") and instr.source_offset(start) - instr.source_offset(end) == start - end


def _remove_words(tree: Tree, instr: Instruction, spans: list[tuple[int, int]]) -> list[Edit]:
    """Remove words; a word alone on its continuation line takes the line with it."""
    esc = instr.escape
    whole = []
    runs: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        line = tree.lines[tree.line_at(instr.source_offset(start)) - 1]
        body = line.text.strip()
        word = instr.logical[start:end]
        if body in (word, f"{word} {esc}", f"{word}{esc}", f"{word}\t{esc}"):
            whole.append(line)
        elif runs and _blanks_between(instr, runs[-1][1], start):
            runs[-1] = (runs[-1][0], end)  # next to the word before: they go as one (their edits would overlap)
        else:
            runs.append((start, end))
    partial = [remove_word(instr, start, end) for start, end in runs]
    edits = [Edit(line.start, line.end, "") for line in whole]
    last_code = instr.code_lines[-1]
    if any(line.number == last_code.number for line in whole):
        # The instruction's last line goes: the last surviving line must lose its continuation escape.
        gone = {line.number for line in whole}
        keep = [ln for ln in instr.code_lines if ln.number not in gone][-1]
        text = keep.text.rstrip(" \t")
        if text.endswith(esc):
            cut = len(text) - 1
            while cut > 0 and text[cut - 1] in " \t":
                cut -= 1
            edits.append(Edit(keep.start + cut, keep.content_end, ""))
    return partial + edits


# -- rendering ----------------------------------------------------------------------------


def render(plan: Plan) -> str:
    tree, eol = plan.tree, plan.tree.eol
    upper = plan.from_.keyword.isupper() or not plan.from_.keyword.islower()
    kw = (lambda k: k) if upper else str.lower
    builder_name = "builder"
    edits: list[Edit] = []
    builder = [_builder_from(plan, builder_name, kw)]
    venv_lines = [f'{kw("RUN")} python -m venv {SYSTEM_VENV}',
                  f'{kw("ENV")} VIRTUAL_ENV={SYSTEM_VENV} PATH="{SYSTEM_VENV}/bin:$PATH"']
    moved = {index for index, step in enumerate(plan.steps[: plan.last])
             if step.instr.name not in _METADATA and _builder_only(plan, index)}
    early = plan.first < plan.copy_at < plan.last  # the runtime copies the environment before a RUN that needs it
    gone = {id(plan.steps[i].instr) for i in moved | plan.source_copies | ({plan.last} if early else set())
            if i not in plan.builder_copy}  # (a downloading RUN leaves its files' copy in its place)
    behind: dict[int, int] = {}
    for index, step in enumerate(plan.steps[: plan.last + 1]):
        instr = step.instr
        if instr.name in _METADATA:
            continue
        if plan.system and index == plan.venv_at:
            builder += [line + eol for line in venv_lines]
        if plan.venv_first is not None and index == plan.venv_first.at:
            builder.append(f'{kw("RUN")} {venv_first.text(plan.steps[plan.venv_first.install], plan.venv_first.command)}'
                           + eol)
        if index not in plan.builder_apt.drops:
            builder.append(_text(tree, instr, with_comments=id(instr) in gone or index == plan.last,
                                 edits=plan.builder_edits.get(index, ())))
        if early and index == plan.copy_at:
            edits.append(Edit(_block_start(instr), _block_start(instr), _copy_lines(plan, kw, builder_name, None)))
        if index == plan.last and not early:
            edits.append(Edit(_block_start(instr), instr.end, _copy_lines(plan, kw, builder_name, instr)))
        elif index in plan.builder_copy:  # the builder downloads; the runtime copies the files, in place
            files = plan.builder_copy[index]
            ending = eol if tree.source[instr.end - len(eol):instr.end] == eol else ""
            edits.append(Edit(instr.start, instr.end, eol.join(
                f"{kw('COPY')} --from={builder_name} {f} {f}" for f in files) + ending))
        elif id(instr) in gone:
            edits.append(_removal(tree, instr, gone, behind))
        elif kept := plan.apt_edits.get(index):
            edits += kept
    edits += [_removal(tree, plan.steps[i].instr, gone, behind) for i in sorted(plan.source_copies) if i > plan.last]
    builder.append(eol)
    edits.append(Edit(plan.from_.start, plan.from_.start, "".join(builder)))
    s, e = plan.base_word
    if plan.runtime_word != _image(plan):
        edits.append(replace_logical(plan.from_, plan.from_.args_start + s, plan.from_.args_start + e, plan.runtime_word))
    return apply_edits(tree.source, edits)


def _check_apt_lists(plan: Plan) -> None:
    """A runtime RUN that calls apt without its own `apt-get update` read the package lists an
    earlier RUN fetched: when that RUN stays in the builder, the runtime has no lists (slim images
    ship none) and the install fails."""
    fetched_by: Step | None = None
    for index, step in enumerate(plan.steps):
        verbs = step.apt_verbs()
        if not verbs:
            continue
        if _builder_only(plan, index):
            if "update" in verbs:
                fetched_by = step
        elif "update" in verbs:
            fetched_by = None
        elif fetched_by is not None:
            raise Skip(f"line {step.instr.line} runs apt without its own `apt-get update`: it reads the lists "
                       f"line {fetched_by.instr.line} fetched, and that RUN stays in the builder")


def _builder_only(plan: Plan, index: int) -> bool:
    step = plan.steps[index]
    return step.kind == "install" or index in plan.builder_only or index in plan.builder_copy or plan.apt_edits.get(index, []) is None or (
        step.kind == "uv-binary" and not plan.keep_uv_binary) or _copied_again(plan, index) or (
        index in plan.build_env)


_MANIFEST = re.compile(r"^(?:[\w*?.-]+\.(?:toml|lock|txt|in|cfg)|Pipfile|Pipfile\.lock|setup\.py|\.python-version)$")


def _copied_again(plan: Plan, index: int) -> bool:
    """A COPY of manifests for an install that moved to the builder, when the runtime
    copies the whole context into the same folder later with nothing in between that
    could read them: the runtime gets the same files without that layer."""
    step = plan.steps[index]
    if step.kind != "copy" or step.instr.name != "COPY" or step.into is None:
        return False
    copy = Copy(step.instr)
    if copy.from_ or copy.link or not copy.sources or not all(_MANIFEST.match(s.removeprefix("./")) for s in copy.sources):
        return False
    for later_index in range(index + 1, len(plan.steps)):
        later = plan.steps[later_index]
        if later.kind == "copy" and later.instr.name == "COPY":
            again = Copy(later.instr)
            if (again.sources in (["."], ["./"]) and later.into == step.into and not again.from_
                    and (again.chown, again.chmod, again.link) == (copy.chown, copy.chmod, copy.link)):
                return True
            continue
        if later.kind == "install" and later_index <= plan.last:
            continue  # goes to the builder
        if later.kind in ("config", "metadata") and later.instr.name != "SHELL":
            continue
        return False
    return False


def _builder_from(plan: Plan, name: str, kw) -> str:
    from_ = plan.from_
    words = shell_words(from_.args, from_.escape)
    flags = "".join(f.text + " " for f in from_.flags)
    image = words[0][0]
    return f"{from_.keyword} {flags}{image} {kw('AS')} {name}{plan.tree.eol}"


def _block_start(instr: Instruction) -> int:
    return instr.leading_comments[0].start if instr.leading_comments else instr.start


def _text(tree: Tree, instr: Instruction, with_comments: bool, edits: Sequence[Edit] = ()) -> str:
    """The instruction as written (with its comments when it goes to the builder only), with
    `edits` (offsets in the tree's source) applied."""
    start = _block_start(instr) if with_comments else instr.start
    text = apply_edits(tree.source[start:instr.end], [Edit(e.start - start, e.end - start, e.text) for e in edits])
    return text if text.endswith("\n") else text + tree.eol


def _copy_lines(plan: Plan, kw, builder: str, instr: Instruction | None) -> str:
    """The runtime's copy of the environment, in place of `instr` (None: inserted, ending its line)."""
    eol = plan.tree.eol
    chown = f" --chown={plan.owner}" if plan.owner else ""
    lines = [f"{kw('COPY')} --from={builder}{chown} {path} {path}" for path in plan.copies or (plan.venv,)]
    if plan.system:
        lines.append(f'{kw("ENV")} VIRTUAL_ENV={SYSTEM_VENV} PATH="{SYSTEM_VENV}/bin:$PATH"')
    ending = plan.tree.source[instr.end - len(eol): instr.end] if instr is not None else eol
    text = eol.join(lines)
    return text + eol if ending == eol else text


def _node_index(tree: Tree, start: int, instr: Instruction) -> tuple[int, int]:
    """(index of the first node starting at `start`, index of `instr`) in tree.nodes."""
    # one map per tree: a scan per removed instruction was quadratic
    index = per_tree(tree, (NAME, "node-index"), lambda: _index_nodes(tree))
    return index[0][start], index[1][id(instr)]


def _index_nodes(tree: Tree) -> tuple[dict[int, int], dict[int, int]]:
    by_start: dict[int, int] = {}
    for i, n in enumerate(tree.nodes):
        by_start.setdefault(n.start, i)
    return by_start, {id(n): i for i, n in enumerate(tree.nodes)}


def _removal(tree: Tree, instr: Instruction, gone: set[int] | None = None, behind: dict[int, int] | None = None) -> Edit:
    """Remove an instruction and its comments; a blank line after it goes too when one is before
    it (looking past the instructions `gone` also removes, so a run of them leaves one blank;
    `behind` remembers, per removed instruction, the node before its run: one step back each)."""
    start, end = _block_start(instr), instr.end
    nodes = tree.nodes
    first, last = _node_index(tree, start, instr)
    back = first - 1
    if gone:
        node = nodes[back] if back >= 0 else None
        if isinstance(node, Instruction) and id(node) in gone:
            cached = behind.get(id(node)) if behind is not None else None
            back = cached if cached is not None else _node_index(tree, _block_start(node), node)[0] - 1
            while back >= 0 and isinstance(nodes[back], Instruction) and id(nodes[back]) in gone:
                earlier = nodes[back]
                assert isinstance(earlier, Instruction)
                back = _node_index(tree, _block_start(earlier), earlier)[0] - 1
        if behind is not None:
            behind[id(instr)] = back
    before = nodes[back] if back >= 0 else None
    after = nodes[last + 1] if last + 1 < len(nodes) else None
    if isinstance(before, Blank) and isinstance(after, Blank):
        end = after.end
    return Edit(start, end, "")


TRANSFORM = Transform(NAME, "split a single-stage Python image into a builder and a slim runtime (unsafe)", find,
                      RULES)
