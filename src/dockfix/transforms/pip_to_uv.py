"""pip-to-uv: a builder stage's pip installs become `uv pip install` into a venv made by `uv venv`.

A builder here is a stage that makes a virtual environment with `python -m venv <path>`
which a later stage copies (`COPY --from=<stage> <path> ...`), where every pip install
of the stage goes into that environment. The venv creation becomes uv's binaries copied
from its pinned image and `uv venv`; each `pip install` becomes `uv pip install` with a
uv cache mount. Only what dockfix knows uv reads the same way is translated; anything
else (an unknown option, --user, a pip setting, a requirements file it cannot read, a
later `pip` command, which a uv venv does not have) leaves the stage alone with a note.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from dockfix.commands import invocation
from dockfix.context import Context
from dockfix.diagnostics import UNSAFE, Rule
from dockfix.edits import Edit, remove_instruction, replace_instruction, replace_logical
from dockfix.engine import Fix, Note, Transform
from dockfix.facts import not_python_reason
from dockfix.model import Install, called, command_env, installs, parent, user_before
from dockfix.shell import Word
from dockfix.split import dependencies
from dockfix.split.classify import Classifier, InstallCommand, Step, resolve
from dockfix.split.images import split_reference
from dockfix.syntax import Instruction, Tree
from dockfix.transforms._installs import add_flag, keyword_case, may_set_variable, remove_word
from dockfix.views import Copy, Run, Stage, global_args, key_values, stages

NAME = "pip-to-uv"
UV_BUILDER = Rule("DF701", NAME, "pip-to-uv-builder", "a builder stage's pip installs become uv pip install into a "
                  "venv made by uv venv (pinned uv, cache on a mount)", UNSAFE)
RULES = (UV_BUILDER,)
UV_VERSION = "0.13.7"  # the version uv's Docker guide shows (docs.astral.sh/uv/guides/integration/docker)
UV_IMAGE = f"ghcr.io/astral-sh/uv:{UV_VERSION}"
UV_CACHE = "/root/.cache/uv"

_OFFICIAL_PYTHON = re.compile(r"^(docker\.io/)?(library/)?python:[^$]+$")
# uv refuses older interpreters ("Python 3.6.8 is not supported. Please use Python 3.8 or newer.",
# astral-sh/uv#10898): `uv venv` on them fails the build.
UV_OLDEST_PYTHON = (3, 8)
_TAG_VERSION = re.compile(r"^(\d+)(?:\.(\d+))?")

# pip options uv's pip interface reads the same way (uv pip install --help).
_KEEP_FLAG = {"--no-deps", "--upgrade", "-U", "--require-hashes", "--force-reinstall",
              "--no-index", "-q", "--quiet", "-v", "--verbose"}
_KEEP_VALUE = {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
               "--extra-index-url", "-f", "--find-links", "--only-binary", "--no-binary"}
_RENAME_FLAG = {"--pre": "--prerelease=allow"}
_RENAME_VALUE = {"--trusted-host": "--allow-insecure-host"}
# pip's own output and cache settings: nothing uv needs (the cache is a mount).
_DROP_FLAG = {"--no-cache-dir", "--disable-pip-version-check", "--no-warn-script-location", "--no-input",
              "--no-compile", "--compile"}
_DROP_VALUE = {"--root-user-action", "--progress-bar"}
_EXTRA_INDEX = ("--extra-index-url",)

# pip settings from the environment: cosmetic ones uv can ignore, the index ones it has its own names for.
_PIP_ENV_HARMLESS = {"PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK", "PIP_ROOT_USER_ACTION",
                     "PIP_NO_WARN_SCRIPT_LOCATION", "PIP_PROGRESS_BAR", "PIP_NO_INPUT", "PIP_DEFAULT_TIMEOUT"}
_PIP_ENV_UV = {"PIP_INDEX_URL": "UV_INDEX_URL", "PIP_EXTRA_INDEX_URL": "UV_EXTRA_INDEX_URL"}

# Lines of a requirements file uv reads as pip does.
_REQ_OPTIONS = {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
                "--extra-index-url", "-f", "--find-links", "--no-index", "--only-binary", "--no-binary",
                "--trusted-host"}

# What a uv venv lacks that a `python -m venv` one has: pip (and setuptools before Python 3.12).
_USES_PIP = re.compile(r"(^|[\s/;&|(`\"'])pip[0-9.]*($|[\s;&|)`\"'])|-m\s+pip\b|ensurepip|easy_install"
                       r"|pkg_resources|\bsetuptools\b")
_IMPORTS_PIP = re.compile(r"^\s*(import|from)\s+(pkg_resources|setuptools|pip)\b", re.M)
# An app's own Python running pip in a subprocess (`[sys.executable, "-m", "pip", ...]`): the
# venv's interpreter has no pip module.
_RUNS_PIP_MODULE = re.compile(r"""["']-m["']\s*,\s*["']pip["']""")

# Distributions that run pip themselves at run time, which a uv venv does not have (each with where;
# read in their sources). Only those the installs name are checked: a dependency of a dependency is not.
RUNS_PIP = {
    "mlflow": "mlflow/utils/environment.py runs `python -m pip install --dry-run` to check a logged model's "
              "requirements",
}


# poetry versions that install into a venv with no pip in it (a uv venv), proven by lab builds
# (lab/README.md, "poetry without pip"): since 1.4 poetry writes wheels with its own installer
# and runs the pip wheel it bundles for what remains; [low, high) as (major, minor).
POETRY_WITHOUT_PIP = ((1, 4), (3, 0))
_POETRY_RANGE_TEXT = ">=1.4,<3"
_POETRY_PIN = re.compile(r"^poetry(?:\[[^\]]*\])?\s*===?\s*([0-9]+\.[0-9]+(?:\.[0-9]+)?)\s*$", re.I)


class Refuse(Exception):
    """Why the stage keeps pip."""


@dataclass
class Plan:
    edits: list[Edit] = field(default_factory=list)
    compile: list[bool] = field(default_factory=list)  # per install: pip compiled bytecode
    extra_index: bool = False  # an extra index anywhere: uv must pick the best match across indexes, as pip does
    env_renames: list[Edit] = field(default_factory=list)
    renamed: set[str] = field(default_factory=set)
    converted: int = 0
    copies: dependencies.CopiesBefore | None = None  # the stage's COPY/ADD steps, for requirements files


def find(tree: Tree, context: Context) -> Iterator[Fix | Note]:
    if not_python_reason(tree, context):
        return
    every = stages(tree)
    for stage in every:
        found = _builder(tree, stage, every)
        if found is None:
            continue
        venv, venv_instr, users = found
        try:
            edits, converted = _plan(tree, context, stage, venv, venv_instr, users)
        except (Refuse, dependencies.Unknown) as why:
            yield UV_BUILDER.note(f"pip not replaced by uv in the builder: {why}", venv_instr.line)
            continue
        how = "installs with uv pip install (pinned uv {}, cache on a mount)" if converted else \
            "poetry installs into it (pinned uv {}; the venv has no pip or setuptools)"
        yield UV_BUILDER.fix(f"the builder makes {venv} with uv venv and {how.format(UV_VERSION)}", venv_instr.line,
                             edits)


def _venv_command(step: Step) -> InstallCommand | None:
    for command in step.installs:
        argv = command.command.argv
        found = invocation(command.command)
        if command.tool == "venv" and found and found.program == argv[0] and found.program.startswith("python") \
                and not found.python2 and argv[2:3] == ["venv"]:
            return command
    return None


def _builder(tree: Tree, stage: Stage, every: list[Stage]) -> tuple[str, Instruction, list[Stage]] | None:
    """(venv path, the RUN that makes it, the stages that copy it) when a later stage copies
    a venv this stage makes with `python -m venv`."""
    if not any(c.invocation.manager == "venv" and c.invocation.program.startswith("python")
               for i in stage.instructions if i.name == "RUN" for c in called(tree, i)):
        return None  # no `python -m venv` (the classifier below is the costly part: most stages have none)
    names = {str(stage.index)} | ({stage.name.lower()} if stage.name else set())
    if not any(other.name == "COPY" and (Copy(other).from_ or "").lower() in names
               for later in every[stage.index + 1 :] for other in later.instructions):
        return None  # no later stage copies anything from this one: no venv of it is copied (nor classified)
    classifier = Classifier(tree)
    made: dict[str, Instruction] = {}
    for instr in stage.instructions:
        step = classifier.step(instr)
        command = _venv_command(step)
        if command is not None and command.target not in ("?", ""):
            made[command.target] = instr
    if not made:
        return None
    for path, instr in made.items():
        users = []
        for later in every[stage.index + 1 :]:
            for other in later.instructions:
                if other.name != "COPY":
                    continue
                copy = Copy(other)
                if (copy.from_ or "").lower() in names and any(
                        posixpath.normpath("/" + s.strip("/")) == path for s in copy.sources):
                    users.append(later)
        if users:
            return path, instr, users
    return None


def _plan(tree: Tree, context: Context, stage: Stage, venv: str, venv_instr: Instruction,
          users: list[Stage]) -> tuple[list[Edit], int]:
    """The edits, and how many RUNs of pip became uv (0: poetry installs into the venv)."""
    every = stages(tree)
    if parent(tree, stage) is not None:
        raise Refuse("the stage is built FROM another stage, whose interpreter dockfix does not know")
    # `FROM python:${PYTHON_VERSION}-slim`: the global ARGs' defaults name the image a plain build uses.
    defaults = {k: v for a in global_args(tree) if a.name == "ARG" for k, v in key_values(a) if v is not None}
    base = resolve(stage.base, defaults) if "$" in stage.base else stage.base
    if base is None or not _OFFICIAL_PYTHON.match(base):
        raise Refuse(f"the base {stage.base} is not an official python image: where its interpreter is "
                     "is not known")
    version = _TAG_VERSION.match(split_reference(base)[1] or "")
    if version and version[2] and (int(version[1]), int(version[2])) < UV_OLDEST_PYTHON:
        raise Refuse(f"{base} has Python {version[1]}.{version[2]}: uv supports Python "
                     f"{'.'.join(map(str, UV_OLDEST_PYTHON))} and newer")
    for other in every:
        if parent(tree, other) is stage:
            raise Refuse(f"stage {other.index} is built FROM this stage and would lose pip")
    classifier = Classifier(tree)
    steps = [classifier.step(i) for i in stage.instructions]
    at = stage.instructions.index(venv_instr)
    venv_step = steps[at]
    venv_cmd = _venv_command(venv_step)
    assert venv_cmd is not None
    if len(venv_step.commands) != 1 or Run(venv_instr).form != "shell" or venv_instr.flags:
        raise Refuse(f"line {venv_instr.line}: the RUN that makes the venv does more than `python -m venv`")
    venv_argv = venv_cmd.command.argv
    if any(a.startswith("-") for a in venv_argv[3:]) or venv_cmd.command.assignments:
        raise Refuse(f"line {venv_instr.line}: `python -m venv` with options")
    if any(k == "PATH" for s in steps[:at] if s.instr.name == "ENV" for k, _ in key_values(s.instr)):
        raise Refuse("ENV PATH is set before the venv is made: which python makes it is not known")
    text = _texts(stage.instructions)
    for marker in ("pip.conf", "PIP_CONFIG_FILE", "pip config"):
        if marker in text:
            raise Refuse(f"a pip configuration ({marker}) is in play; uv does not read it")
    if any(m in text for m in ("UV_CACHE_DIR", "XDG_CACHE_HOME", "UV_NO_CACHE")):
        raise Refuse("the stage sets where caches go (UV_CACHE_DIR, XDG_CACHE_HOME or UV_NO_CACHE)")
    _check_later_pip(tree, context, stage, steps, at, users, every)
    for instr in stage.instructions:  # a setting with no value (a build argument) is not in any env
        for key, _ in key_values(instr) if instr.name in ("ARG", "ENV") else ():
            if key.startswith("PIP_") and key not in _PIP_ENV_HARMLESS:
                if instr.name == "ARG" or key not in _PIP_ENV_UV:
                    raise Refuse(f"line {instr.line}: {key} is set for the stage; uv does not read it"
                                 + (" (renaming a build argument would change how the image is built)"
                                    if instr.name == "ARG" else ""))

    plan = Plan()
    poetry = False
    for index, step in enumerate(steps):
        if not step.installs or index == at:
            continue
        tools = {c.tool for c in step.installs}
        if tools <= {"glue"}:
            raise Refuse(f"line {step.instr.line}: runs pip or uv outside an install")
        if step.kind != "install":
            raise Refuse(f"line {step.instr.line}: {step.reason or 'the RUN does more than install'}")
        if index < at and all(c.tool in ("poetry-config", "glue") or c.tool == "pip" and c.target == "system"
                              and not c.problem for c in step.installs):
            continue  # a tool for the builder (poetry, its settings, a pip upgrade) in the system interpreter
        for command in step.installs:
            if command.tool in ("poetry-config", "glue") or command.tool == "poetry" and index > at:
                poetry = _poetry_into(tree, step, command, venv) or poetry
                continue
            if command.tool != "pip":
                raise Refuse(f"line {step.instr.line}: the stage also installs with {command.tool}")
            if command.problem:
                raise Refuse(f"line {step.instr.line}: {command.problem}")
            if command.target != venv:
                raise Refuse(f"line {step.instr.line}: a pip install into {command.target}, not {venv}")
        if index < at and "pip" in tools:
            raise Refuse(f"line {step.instr.line}: a pip install before the venv is made")
        if "pip" in tools:
            _convert_run(tree, context, stage, steps, index, venv, plan)
    if poetry:
        _poetry_version(tree, steps[:at])
    elif not plan.converted:
        raise Refuse("no pip install to convert")
    _check_runs_pip(steps, venv, context)
    plan.edits += _venv_lines(tree, venv_instr, venv_argv, venv, plan)
    return plan.edits + plan.env_renames, plan.converted


def _poetry_into(tree: Tree, step: Step, command: InstallCommand, venv: str) -> bool:
    """Whether the command is `poetry install` into the venv (True) or a setting (False);
    Refuse when poetry installs elsewhere or would not find the venv."""
    if command.tool != "poetry":
        return False
    line = step.instr.line
    if command.problem:
        raise Refuse(f"line {line}: {command.problem}")
    if command.target != venv:
        raise Refuse(f"line {line}: poetry installs into {command.target}, not {venv}")
    found = {i.command.start: i for i in installs(tree, step.instr) if i.part.doc is None}.get(command.command.start)
    if found is None or command_env(tree, step.instr, found).get("VIRTUAL_ENV") != venv:
        raise Refuse(f"line {line}: VIRTUAL_ENV is not {venv} at `poetry install` (poetry finds a venv it did not "
                     "make only through VIRTUAL_ENV)")
    return True


def _poetry_version(tree: Tree, before: list[Step]) -> None:
    """The poetry that installs into the venv is one proven to need no pip there: the version
    the stage pins where it installs poetry (`pip install poetry==X`), in POETRY_WITHOUT_PIP."""
    pins = []
    for step in before:
        by_start = {i.command.start: i for i in installs(tree, step.instr) if i.part.doc is None}
        for command in step.installs:
            inst = by_start.get(command.command.start)
            env = command_env(tree, step.instr, inst) if inst else {}
            for package in command.packages:
                text = resolve(package.strip("'\""), env) or package
                match = _POETRY_PIN.match(text)
                if match:
                    pins.append(match.group(1))
                elif re.match(r"^poetry(\[[^\]]*\])?\s*([<>=!~;]|$)", text, re.I):
                    pins.append("")
    if len(pins) != 1 or not pins[0]:
        raise Refuse("poetry installs into the venv, but which poetry is not pinned in the stage (`pip install "
                     "poetry==X.Y.Z` before the venv): only poetry " + _POETRY_RANGE_TEXT + " is known to install "
                     "into a venv without pip")
    version = tuple(int(p) for p in pins[0].split(".")[:2])
    low, high = POETRY_WITHOUT_PIP
    if not low <= version < high:
        raise Refuse(f"poetry {pins[0]} installs into the venv: only poetry {_POETRY_RANGE_TEXT} is known to "
                     "install into a venv without pip")


def _texts(instrs: list[Instruction]) -> str:
    return "\n".join(i.logical + "".join(h.body for h in i.heredocs) for i in instrs)


def _check_later_pip(tree: Tree, context: Context, stage: Stage, steps: list[Step], at: int,
                     users: list[Stage], every: list[Stage]) -> None:
    """pip (and setuptools, pkg_resources) used after the venv is made: a uv venv has none."""
    for step in steps[at + 1 :]:
        if any(c.tool == "pip" for c in step.installs):
            continue  # an install: converted, or refused with its own reason below
        if step.instr.name in ("RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK") and _USES_PIP.search(_texts([step.instr])):
            raise Refuse(f"line {step.instr.line}: runs pip or uses setuptools, which a uv venv does not have")
    runtime = {s.index for s in users}
    for other in every:  # stages built on a stage that copies the venv get it too
        up = parent(tree, other)
        if up is not None and up.index in runtime:
            runtime.add(other.index)
    for other in every:
        if other.index not in runtime:
            continue
        for instr in other.instructions:
            if instr.name in ("RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK") and _USES_PIP.search(_texts([instr])):
                raise Refuse(f"line {instr.line}: runs pip or uses setuptools, which a uv venv does not have")
    for path in context.listing():
        name = path.rsplit("/", 1)[-1]
        if path.endswith(".py"):
            text = context.read(path) or ""
            found = _IMPORTS_PIP.search(text)
            if found:
                raise Refuse(f"{path} imports {found.group(2)}, which a uv venv does not have")
            if _RUNS_PIP_MODULE.search(text):
                raise Refuse(f"{path} runs `python -m pip`, which a uv venv does not have")
        elif path.endswith((".sh", ".bash")) or name in ("entrypoint", "start", "docker-entrypoint"):
            if _USES_PIP.search(context.read(path) or ""):
                raise Refuse(f"{path} runs pip, which a uv venv does not have")


def _check_runs_pip(steps: list[Step], venv: str, context: Context) -> None:
    """A distribution the installs name that runs pip itself at run time (RUNS_PIP). What the
    installs bring is read from the command and the manifests (split/dependencies); when that is
    not known, neither is this (a limit on the page)."""
    found = dependencies.installed(steps, venv, context)
    if isinstance(found, str):
        return
    for name in sorted(found.names & RUNS_PIP.keys()):
        raise Refuse(f"{name} runs pip at run time ({RUNS_PIP[name]}), and a uv venv has no pip")


@dataclass
class _Option:
    words: list[Word]  # the option and its value word, if separate
    name: str
    value: str | None


def _options(words: list[Word]) -> Iterator[_Option | Word]:
    """The words after `install`: options (with their values) and operands."""
    i = 0
    while i < len(words):
        word = words[i]
        value = word.value
        if not value.startswith("-") or value == "-":
            yield word
            i += 1
            continue
        name, eq, attached = value.partition("=") if value.startswith("--") else (value, "", "")
        takes = name in _KEEP_VALUE | set(_RENAME_VALUE) | _DROP_VALUE
        if takes and not eq:
            if i + 1 >= len(words):
                raise Refuse(f"`{value}` without its value")
            yield _Option([word, words[i + 1]], name, words[i + 1].value)
            i += 2
            continue
        yield _Option([word], name, attached if eq else None)
        i += 1


def _find_install(by_start: dict[int, Install], instr: Instruction, command: InstallCommand) -> Install:
    inst = by_start.get(command.command.start)
    if inst is None:
        raise Refuse(f"line {instr.line}: the install is not in the RUN's own line (a heredoc)")
    return inst


def _convert_run(tree: Tree, context: Context, stage: Stage, steps: list[Step], index: int, venv: str,
                 plan: Plan) -> None:
    step = steps[index]
    instr = step.instr
    if Run(instr).form != "shell":
        raise Refuse(f"line {instr.line}: a pip install in an exec-form or heredoc RUN")
    user = user_before(tree, instr)
    if user.uid != "0":
        raise Refuse(f"line {instr.line}: installs as USER {user.name}; the uv cache mount is set up for root only")
    pip_commands = [c for c in step.installs if c.tool == "pip"]
    upgrades = [c for c in pip_commands if [p.split("=")[0].split("<")[0].split(">")[0].lower()
                                            for p in c.packages] == ["pip"]]
    if upgrades:
        if len(step.commands) == 1:  # `RUN pip install --upgrade pip` alone: a uv venv has no pip to upgrade
            plan.edits.append(remove_instruction(tree, instr))
            return
        raise Refuse(f"line {instr.line}: upgrades pip in a RUN that does more (a uv venv has no pip)")
    # one analysis of the RUN, looked up per command (a scan per command was quadratic)
    by_start = {i.command.start: i for i in installs(tree, instr) if i.part.doc is None}
    for command in pip_commands:
        if any(p.split("[")[0].split("=")[0].lower() == "pip" for p in command.packages):
            raise Refuse(f"line {instr.line}: installs pip itself with other packages")
        inst = _find_install(by_start, instr, command)
        _convert_command(tree, context, stage, steps, index, venv, inst, plan)
    removed = _removes_uv_cache(step)
    if removed:
        raise Refuse(f"line {instr.line}: the RUN removes {removed}, where uv's cache mount would be (a RUN "
                     "cannot remove a mount point: the build would fail)")
    _mount(tree, instr, plan)
    plan.converted += 1


def _convert_command(tree: Tree, context: Context, stage: Stage, steps: list[Step], index: int, venv: str,
                     inst: Install, plan: Plan) -> None:
    instr = steps[index].instr
    env = command_env(tree, instr, inst)
    if any(k.startswith("PIP_") for k in inst.command.assignments):
        raise Refuse(f"line {instr.line}: a PIP_* setting on the command")
    _pip_env(tree, stage, instr, env, plan)
    words = inst.words()
    verb = next(i for i, w in enumerate(words) if w.value == "install")
    start, _ = inst.part.span(instr, words[0])
    _, end = inst.part.span(instr, words[verb])
    if "\n" in tree.source[start:end]:
        raise Refuse(f"line {instr.line}: the pip command is split across lines")
    explicit = "/" in words[0].value
    head = "uv pip install" + (f" --python {venv}" if explicit and env.get("VIRTUAL_ENV") != venv else "")
    if not explicit and env.get("VIRTUAL_ENV") != venv:
        if env.get("VIRTUAL_ENV") or not _first_on_path(env, venv):
            raise Refuse(f"line {instr.line}: VIRTUAL_ENV is not {venv} at the install, nor is {venv}/bin first "
                         "on PATH: uv would not find the venv")
        # Activated by PATH alone: the `pip` (or `python`) the shell finds is the venv's own, a fact
        # of the ENV PATH and the venv the stage made; uv is told the venv's interpreter, and the
        # image's environment stays as written.
        head = f"uv pip install --python {venv}/bin/python"
    plan.edits.append(Edit(start, end, head))
    compiles = True
    for item in _options(words[verb + 1 :]):
        if isinstance(item, Word):
            continue  # a requirement, `.`, a path or a URL: uv reads them as pip does
        name = item.name
        if name in ("--no-compile",):
            compiles = False
        if name in _KEEP_FLAG and item.value is None:
            continue
        if name in _KEEP_VALUE:
            if name in _EXTRA_INDEX:
                plan.extra_index = True
            if name in ("-r", "--requirement", "-c", "--constraint"):
                _requirements(context, steps, index, item.value or "", plan)
            continue
        if name in _RENAME_FLAG and item.value is None:
            plan.edits.append(_replace(tree, instr, inst, item.words[0], _RENAME_FLAG[name]))
            continue
        if name in _RENAME_VALUE:
            new = _RENAME_VALUE[name]
            word = item.words[0]
            plan.edits.append(_replace(tree, instr, inst, word, new if len(item.words) == 2 else f"{new}={item.value}"))
            continue
        if (name in _DROP_FLAG and item.value is None) or name in _DROP_VALUE:
            for word in item.words:
                edit = remove_word(tree, instr, inst.part, word)
                if edit is None:
                    raise Refuse(f"line {instr.line}: cannot remove {word.value} cleanly from this layout")
                plan.edits.append(edit)
            continue
        raise Refuse(f"line {instr.line}: pip option {name} has no known uv equivalent")
    plan.compile.append(compiles)


def _first_on_path(env: Mapping[str, str], venv: str) -> bool:
    """The venv's bin folder is the first entry of PATH (a program without a slash is found there
    first: the venv has python and pip)."""
    first = env.get("PATH", "").split(":")[0]
    return "$" not in first and posixpath.normpath(first or ".") == posixpath.join(venv, "bin")


def _replace(tree: Tree, instr: Instruction, inst: Install, word: Word, text: str) -> Edit:
    start, end = inst.part.span(instr, word)
    return Edit(start, end, text)


def _pip_env(tree: Tree, stage: Stage, instr: Instruction, env: Mapping[str, str], plan: Plan) -> None:
    if not may_set_variable(tree, "PIP_"):
        return  # (a look at every variable per install was quadratic over many `export`s)
    keys = [k for k in env if k.startswith("PIP_")]
    for key in keys:
        if key in _PIP_ENV_HARMLESS:
            continue
        if key not in _PIP_ENV_UV:
            raise Refuse(f"{key} is set for the install; uv does not read it")
        if key == "PIP_EXTRA_INDEX_URL":
            plan.extra_index = True
        if key not in plan.renamed:
            plan.renamed.add(key)
            plan.env_renames += _rename_env(tree, stage, key)


def _rename_env(tree: Tree, stage: Stage, key: str) -> list[Edit]:
    """ENV PIP_INDEX_URL=... -> ENV UV_INDEX_URL=... in the builder (a build ARG keeps its name: refused)."""
    found = []
    for instr in stage.instructions:
        if instr.name == "ARG" and any(k == key for k, _ in key_values(instr)):
            raise Refuse(f"{key} is a build argument: uv reads {_PIP_ENV_UV[key]}, and renaming the "
                         "argument would change how the image is built")
        if instr.name == "ENV" and any(k == key for k, _ in key_values(instr)):
            found.append(instr)
    mentions = sum(i.logical.count(key) for i in tree.instructions)
    if len(found) != 1 or mentions != 1 or parent(tree, stage) is not None:
        raise Refuse(f"{key} is set or read in more than one place (or inherited): uv reads {_PIP_ENV_UV[key]}")
    instr = found[0]
    pos = instr.logical.find(key, instr.args_start)
    if instr.logical[pos + len(key): pos + len(key) + 1] not in ("=", " "):
        raise Refuse(f"line {instr.line}: {key} is written in a way dockfix cannot rename")
    edits = [replace_logical(instr, pos, pos + len(key), _PIP_ENV_UV[key])]
    return [e for e in edits if tree.source[e.start:e.end] == key] or _fail(instr, key)


def _fail(instr: Instruction, key: str) -> list[Edit]:
    raise Refuse(f"line {instr.line}: {key} is written in a way dockfix cannot rename")


def _requirements(context: Context, steps: list[Step], index: int, path: str, plan: Plan) -> None:
    """Every line of the requirements files the install reads is one uv's pip interface reads alike."""
    if plan.copies is None:  # found once per stage: every step before each install was quadratic
        plan.copies = dependencies.CopiesBefore(steps)
    for source, line in dependencies.requirement_lines(path, steps[index], plan.copies(index), context,
                                                       follow=dependencies.INCLUDES):
        if line.startswith("-"):
            option = dependencies.split_option(line)[0]
            if option not in _REQ_OPTIONS:
                raise Refuse(f"{source}: `{option}` is a pip option uv does not read the same way")
            if option in _EXTRA_INDEX:
                plan.extra_index = True
            continue
        for option in re.findall(r"\s(--?[\w-]+)", " " + line):
            if option != "--hash":
                raise Refuse(f"{source}: `{option}` on a requirement line is pip-only")


def _removes_uv_cache(step: Step) -> str | None:
    """The path an `rm` of the RUN removes that is uv's cache folder, a parent of it, or a
    parent's content (`rm -rf /root/.cache`, `~/.cache/*`): the mount point would go with it."""
    for command in step.commands:
        argv = command.argv
        if not argv or argv[0].rsplit("/", 1)[-1] != "rm":
            continue
        for arg in argv[1:]:
            if arg.startswith("-"):
                continue
            path = re.sub(r"^(~|\$HOME|\$\{HOME\})(?=/|$)", "/root", arg).rstrip("/")
            path = path[:-2] if path.endswith("/*") else path
            if path and (UV_CACHE == path or UV_CACHE.startswith(path + "/")):
                return arg
    return None


def _mount(tree: Tree, instr: Instruction, plan: Plan) -> None:
    """The RUN gets uv's cache on a mount; a pip cache mount becomes it."""
    for flag in instr.flags:
        if flag.name != "mount" or flag.value is None:
            continue
        options = dict(p.partition("=")[::2] for p in flag.value.split(","))
        target = (options.get("target") or options.get("dst") or options.get("destination") or "").rstrip("/")
        if options.get("type") == "cache" and target == UV_CACHE:
            return
        if options.get("type") == "cache" and target == "/root/.cache/pip":
            rest = [p for p in flag.value.split(",") if not p.startswith(("type=", "target=", "dst=", "destination="))]
            value = ",".join([f"type=cache,target={UV_CACHE}", *rest])
            plan.edits.append(replace_logical(instr, flag.start, flag.end, f"--mount={value}"))
            return
    plan.edits.append(add_flag(tree, instr, f"--mount=type=cache,target={UV_CACHE}"))


def _venv_lines(tree: Tree, instr: Instruction, argv: list[str], venv: str, plan: Plan) -> list[Edit]:
    kw = lambda k: keyword_case(tree, k)  # noqa: E731
    env = ["UV_LINK_MODE=copy"]
    if plan.compile and all(plan.compile):
        env.append("UV_COMPILE_BYTECODE=1")  # pip compiles by default; uv only when asked
    elif any(plan.compile):
        raise Refuse("some pip installs compile bytecode and some do not (--no-compile)")
    if plan.extra_index:
        env.append("UV_INDEX_STRATEGY=unsafe-best-match")  # pip picks the best version across all indexes
    eol = tree.eol
    lines = [f"{kw('COPY')} --from={UV_IMAGE} /uv /uvx /bin/",
             *([f"{kw('ENV')} {' '.join(env)}"] if plan.converted else []),  # (poetry alone reads no UV_*)
             f"{kw('RUN')} uv venv --python /usr/local/bin/{argv[0]} {venv}"]
    return [replace_instruction(instr, eol.join(lines))]


TRANSFORM = Transform(NAME, "a builder's pip installs become uv pip install into a uv venv (unsafe)", find, RULES)
