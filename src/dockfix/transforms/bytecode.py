"""bytecode: compile installed packages at build time, and sync uv projects
from their lockfile without dev dependencies.

uv does not compile bytecode unless asked (UV_COMPILE_BYTECODE=1); pip does
by default, unless `--no-compile`. `uv sync` with a uv.lock in the image gets
`--locked` and `--no-dev`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator

from dockfix.context import Context
from dockfix.diagnostics import NOT_PYTHON, UNSAFE, Rule
from dockfix.edits import Edit
from dockfix.engine import Fix, Note, Transform
from dockfix.facts import app_code_naming, module_guesses, not_python_reason, uv_run_outside
from dockfix.manifests import toml
from dockfix.model import Install, Model, command_env, env_before, parent, per_tree
from dockfix.syntax import Comment, Instruction, Tree
from dockfix.transforms._installs import ensure_env, is_set, remove_word, unquote
from dockfix.views import Copy, mounts, stages

NAME = "bytecode"
GROUP_FLAGS = ("--no-dev", "--only-dev", "--dev", "--group", "--only-group", "--all-groups",
               "--no-default-groups", "--no-group")
DEV_STAGE_WORDS = ("dev", "test", "ci", "local", "debug", "lint")

UV_COMPILE = Rule("DF301", NAME, "uv-compile-bytecode", "ENV UV_COMPILE_BYTECODE=1 before a stage's first uv install")
UV_LOCKED = Rule("DF302", NAME, "uv-sync-locked", "uv sync --locked: install exactly uv.lock, fail when it is stale",
                 UNSAFE)
UV_NO_DEV = Rule("DF303", NAME, "uv-sync-no-dev", "uv sync --no-dev: leave the dev dependency group out of the image",
                 UNSAFE)
PIP_COMPILE = Rule("DF304", NAME, "pip-compile-bytecode", "drop pip's --no-compile: pip compiles what it installs",
                   UNSAFE)
RULES = (UV_COMPILE, UV_LOCKED, UV_NO_DEV, PIP_COMPILE)
UV_RUN_LATER = "uv-run-later"  # the kind of UV_NO_DEV's note when a later `uv run` would sync dev again


def _words(inst: Install) -> list[str]:
    return [a.partition("=")[0] for a in inst.args]


def _compile_decided(tree: Tree, instr: Instruction, inst: Install) -> bool:
    words = _words(inst)
    return ("UV_COMPILE_BYTECODE" in command_env(tree, instr, inst)
            or any(w in ("--compile-bytecode", "--compile", "--no-compile-bytecode", "--no-compile") for w in words))


def _uv_compile(tree: Tree, context: Context, runs: list[tuple[Instruction, tuple[Install, ...]]]) -> Iterator[Fix | Note]:
    for instr, found in runs:
        uv = [i for i in found if i.tool == "uv"]
        if not uv or all(_compile_decided(tree, instr, i) for i in uv):
            continue
        refusal = _bytecode_refused(tree, context, instr)
        if refusal:
            yield UV_COMPILE.note(f"UV_COMPILE_BYTECODE not added: {refusal}", instr.line)
            return
        why = "compile installed packages to bytecode at build time, not at every container start"
        yield UV_COMPILE.fix(why + " (UV_COMPILE_BYTECODE=1)", instr.line,
                             (ensure_env(tree, instr, "UV_COMPILE_BYTECODE", "1"),))
        return


_SAYS_BYTECODE = re.compile(r"bytecode|\.pyc\b|\bpyc\b|__pycache__", re.IGNORECASE)


def _bytecode_refused(tree: Tree, context: Context, instr: Instruction) -> str | None:
    """Why compiling bytecode would go against what the author or the runtime says (None: it does not)."""
    env = env_before(tree, instr)
    if is_set(env, "PYTHONDONTWRITEBYTECODE"):
        return "the author set PYTHONDONTWRITEBYTECODE (they may want no .pyc files in the image)"
    # (Both are the file's: looked for once per tree, not once per stage.)
    said = per_tree(tree, (NAME, "says-bytecode"), lambda: next(
        (n for n in tree.nodes if isinstance(n, Comment) and _SAYS_BYTECODE.search(n.text)), None))
    if said is not None:
        return f"the author wrote about bytecode (line {said.line}); their choice is kept"
    starts = per_tree(tree, (NAME, "uv-run-at-start"), lambda: _uv_run_at_start(tree))
    if starts is not None:
        return (f"the container starts with `uv run` (line {starts}), which syncs again at every start and would "
                "then recompile every package each time (--no-sync or UV_NO_SYNC=1 avoids that)")
    outside = uv_run_outside(context)
    if outside:
        return (f"{outside[0]} line {outside[1]} starts a container with `uv run`, which syncs again at every "
                "start and would then recompile every package each time (--no-sync or UV_NO_SYNC=1 avoids that)")
    return None


def _uv_run_at_start(tree: Tree) -> int | None:
    """The line of a CMD or ENTRYPOINT that runs `uv run` without --no-sync (and no UV_NO_SYNC set)."""
    for other in tree.instructions:
        if other.name not in ("CMD", "ENTRYPOINT"):
            continue
        words = _words_of(other)
        if _runs_uv_run(words) and "--no-sync" not in words and not is_set(env_before(tree, other), "UV_NO_SYNC"):
            return other.line
    return None


def _words_of(instr: Instruction) -> list[str]:
    return instr.exec_form or instr.args.split()


def _runs_uv_run(words: list[str]) -> bool:
    names = [w.rsplit("/", 1)[-1] for w in words]
    return any(a == "uv" and b == "run" for a, b in zip(names, names[1:]))


def _pip_compile(tree: Tree, instr: Instruction, inst: Install) -> Iterator[Fix | Note]:
    env = command_env(tree, instr, inst)
    if "PIP_NO_COMPILE" in env:
        yield PIP_COMPILE.note("PIP_NO_COMPILE is set: pip leaves bytecode to the first import (left as the author chose)",
                               instr.line)
        return
    for word in inst.words()[1:]:
        if word.value == "--no-compile":
            edit = remove_word(tree, instr, inst.part, word)
            if edit is None:
                yield PIP_COMPILE.note("cannot remove --no-compile cleanly from this layout", instr.line)
                return
            yield PIP_COMPILE.fix("let pip compile bytecode at build time (drop --no-compile)", instr.line, (edit,))


def _lockfile_in_image(tree: Tree, instr: Instruction) -> bool:
    """A COPY/ADD from the context before instr, or a bind mount on it, brings uv.lock."""
    if id(instr) in per_tree(tree, (NAME, "lock-copied"), lambda: _lock_copied(tree)):
        return True
    for mount in mounts(instr):
        if unquote(mount.type) == "bind" and not mount.options.get("from"):
            if _brings_lock(unquote(mount.options.get("source", mount.options.get("src", ".")))):
                return True
    return False


def _lock_copied(tree: Tree) -> set[int]:
    """The instructions (ids) that a COPY/ADD from the context before them (in their stage or
    one it is built FROM) gives uv.lock."""
    out: set[int] = set()
    ends: list[bool] = []  # per stage: uv.lock is there at its end
    for stage in stages(tree):
        up = parent(tree, stage)
        there = up is not None and ends[up.index]
        for other in stage.instructions:
            if there:
                out.add(id(other))
            elif other.name in ("COPY", "ADD") and not Copy(other).from_:
                there = any(_brings_lock(src) for src in Copy(other).sources)
        ends.append(there)
    return out


def _brings_lock(source: str) -> bool:
    source = source.removeprefix("./").rstrip("/") or "."
    return source in (".", "uv.lock") or fnmatch.fnmatchcase("uv.lock", source)


def _uv_run_later(tree: Tree, instr: Instruction) -> bool:
    """`uv run` in a later RUN, CMD or ENTRYPOINT: it syncs the default groups, dev included."""
    last = per_tree(tree, (NAME, "last-uv-run"), lambda: _last_uv_run(tree))
    return last is not None and last > instr.start


def _last_uv_run(tree: Tree) -> int | None:
    """Where the last RUN, CMD or ENTRYPOINT that calls `uv run` starts."""
    for other in reversed(tree.instructions):
        if other.name not in ("RUN", "CMD", "ENTRYPOINT"):
            continue
        if _runs_uv_run(_words_of(other)):
            return other.start
    return None


def _dev_group(context: Context) -> list[object]:
    """The requirements of pyproject.toml's dev group (uv's legacy dev-dependencies included)."""
    data = toml(context, "pyproject.toml") or {}
    groups = data.get("dependency-groups", {})
    dev = groups.get("dev") if isinstance(groups, dict) else None
    legacy = data.get("tool", {}).get("uv", {}).get("dev-dependencies")
    # Strings, or {include-group = "..."} tables: any entry means there is a group to leave out.
    return [*(dev if isinstance(dev, list) else []), *(legacy if isinstance(legacy, list) else [])]


def _dev_requirements(context: Context, dev: list[object]) -> list[str] | None:
    """The dev group's requirement strings, its {include-group = NAME} tables followed (PEP 735);
    None when an entry is neither, or names a group pyproject.toml does not have."""
    groups = (toml(context, "pyproject.toml") or {}).get("dependency-groups", {})
    out: list[str] = []
    todo, seen = list(dev), set()
    while todo:
        entry = todo.pop()
        if isinstance(entry, str):
            out.append(entry)
            continue
        name = entry.get("include-group") if isinstance(entry, dict) else None
        included = groups.get(name) if isinstance(groups, dict) and isinstance(name, str) else None
        if not isinstance(included, list):
            return None
        if name not in seen:
            seen.add(name)
            todo.extend(included)
    return out


_WORD_BREAK = re.compile(r"[\s\"'\[\],;&|()<>`=]+")


def _dev_tool_run(tree: Tree, instr: Instruction, requirements: list[str]) -> tuple[int, str] | None:
    """(line, name) of this or a later RUN, CMD, ENTRYPOINT or HEALTHCHECK that runs a dev-group
    package: its program (`pytest`, `/app/.venv/bin/ruff`: a console script is mostly named as its
    distribution) or its module (`python -m pytest`). Without the dev group that command fails.
    Such a word counts wherever it stands: one that only looks like a program keeps --no-dev
    out (a refusal), never adds it."""
    programs: set[str] = set()
    modules: set[str] = set()
    for requirement in requirements:
        guesses = module_guesses(requirement)
        if guesses:
            programs.update((guesses[0], guesses[0].replace("_", "-")))
            modules.update(guesses)
    if not programs:
        return None
    for other in tree.instructions:
        if other.start < instr.start or other.name not in ("RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK"):
            continue
        text = other.args + "".join(h.body for h in other.heredocs)
        if other is instr:  # the sync itself, after its `uv sync` words: `uv sync && pytest`
            text = text[text.find(" sync") + 1:]
        words = [w.rsplit("/", 1)[-1] for w in _WORD_BREAK.split(text) if w]
        for before, word in zip(["", *words], words):
            if word in programs or (before == "-m" and word in modules):
                return other.line, word
    return None


def _dev_used_elsewhere(context: Context, dev: list[object]) -> str | None:
    """Why the image may still need its dev group: the repository runs `uv run` in a container
    (compose, Makefile), or the app's own code names a dev package."""
    outside = uv_run_outside(context)
    if outside:
        return (f"{outside[0]} line {outside[1]} runs `uv run` in a container: the image may be used for "
                "development or tests")
    named = app_code_naming(context, [d for d in dev if isinstance(d, str)])
    if named:
        return f"{named[0]} names {named[1]}, of the dev group"
    return None


def _uv_sync(tree: Tree, context: Context, instr: Instruction, inst: Install, stage_name: str | None) -> Iterator[Fix | Note]:
    words = _words(inst)
    first_cd = per_tree(tree, (NAME, "first-cd", id(inst.part.script)), lambda: next(
        (k for k, c in enumerate(inst.part.script.commands) if c.argv[:1] == ["cd"]), None))
    if any(w in ("--directory", "--project") for w in words) or (first_cd is not None and first_cd < inst.index):
        return  # which lockfile it reads is not the context's uv.lock
    if not context.exists("uv.lock") or not _lockfile_in_image(tree, instr):
        return
    env = command_env(tree, instr, inst)
    sync = next(w for w in inst.words() if w.value == "sync")
    _, end = inst.part.span(instr, sync)
    hidden = [w.raw for w in inst.words() if "$" in w.raw or "`" in w.raw]
    if hidden:  # `uv sync $UV_OPTIONS`: it may already say --frozen (uv rejects it with --locked) or a group
        yield UV_LOCKED.note(f"--locked and --no-dev not added: {hidden[0]} may already choose the lockfile mode "
                             "or the groups", instr.line)
        return
    if not ({"--locked", "--frozen"} & set(words)) and not (is_set(env, "UV_LOCKED") or is_set(env, "UV_FROZEN")):
        yield UV_LOCKED.fix("install exactly what uv.lock says, failing when it is stale (uv sync --locked)",
                            instr.line, (Edit(end, end, " --locked"),))
    dev = _dev_group(context)
    if set(GROUP_FLAGS) & set(words) or "UV_NO_DEV" in env or "UV_DEV" in env or not dev:
        return
    if _uv_run_later(tree, instr):
        yield UV_NO_DEV.note("dev dependencies kept: a later `uv run` would sync the dev group again"
                             " (ENV UV_NO_DEV=1 covers both)", instr.line, kind=UV_RUN_LATER)
        return
    if stage_name and any(part in DEV_STAGE_WORDS for part in stage_name.lower().replace("_", "-").split("-")):
        yield UV_NO_DEV.note(f"dev dependencies kept: stage {stage_name} looks like a development stage", instr.line)
        return
    requirements = _dev_requirements(context, dev)
    if requirements is None:
        yield UV_NO_DEV.note("dev dependencies kept: the dev group includes a group pyproject.toml does not define",
                             instr.line)
        return
    tool = _dev_tool_run(tree, instr, requirements)
    if tool is not None:
        yield UV_NO_DEV.note(f"dev dependencies kept: line {tool[0]} runs {tool[1]}, of the dev group", instr.line)
        return
    elsewhere = _dev_used_elsewhere(context, dev)
    if elsewhere:
        yield UV_NO_DEV.note(f"dev dependencies kept: {elsewhere}", instr.line)
        return
    yield UV_NO_DEV.fix("leave the dev dependency group out of the image (uv sync --no-dev)", instr.line,
                        (Edit(end, end, " --no-dev"),))


def find(tree: Tree, context: Context) -> Iterator[Fix | Note]:
    reason = not_python_reason(tree, context)
    if reason:
        yield NOT_PYTHON.note(reason, transform=NAME)
        return
    model = Model.of(tree)
    provided: set[int] = set()  # stages given UV_COMPILE_BYTECODE in this pass (their children inherit it)
    inherits: list[bool] = []  # per stage: a stage it is built FROM was given it (a flag per stage, not a walk up)
    for stage in model.stages:
        up = model.parents[stage.index]
        inherits.append(up is not None and (inherits[up.index] or up.index in provided))
        # The stage's RUNs that install into a Python environment, read once for the two passes below
        # (an exec-form RUN has none: the model reads no shell in it).
        runs = [(instr, found) for instr in stage.instructions if instr.name == "RUN" and (found := model.installs(instr))]
        if not runs:
            continue
        if not inherits[-1]:
            fixes = list(_uv_compile(tree, context, runs))
            provided.update(stage.index for f in fixes if isinstance(f, Fix))
            yield from fixes
        for instr, found in runs:
            for inst in found:
                if inst.tool == "pip":
                    yield from _pip_compile(tree, instr, inst)
                elif inst.tool == "uv" and inst.verb == "sync":
                    yield from _uv_sync(tree, context, instr, inst, stage.name)


TRANSFORM = Transform(NAME, "bytecode compiled at build time; uv sync from the lockfile without dev dependencies", find,
                      RULES)
