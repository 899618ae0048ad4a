"""Facts several transforms need: does this Dockerfile build a Python image?"""

from __future__ import annotations

import re

from dockfix.commands import PYTHON_MANAGERS, may_run_python_manager
from dockfix.context import Context
from dockfix.model import called, per_tree
from dockfix.syntax import Instruction, Tree
from dockfix.views import Copy, stages

_PYTHON_BASE = re.compile(r"(^|/)(python|pypy)[:@]|(^|/)(python|pypy)$|astral-sh/uv|miniconda|micromamba|/python-", re.I)
_PYTHON_RUN = re.compile(r"\b(pip3?|uv|poetry|pipenv|python3?(\.\d+)?|conda|pdm|hatch)\b")
_MANIFESTS = ("pyproject.toml", "requirements.txt", "setup.py", "Pipfile", "poetry.lock", "uv.lock", "setup.cfg")


def not_python_reason(tree: Tree, context: Context) -> str | None:
    """None when the Dockerfile builds a Python image; otherwise why it does not look like one."""
    # Every transform asks first, each round: answered once per tree (and context).
    return per_tree(tree, ("not-python", id(context)), lambda: _not_python_reason(tree, context))


def _runs_python_tooling(tree: Tree, instr: Instruction) -> bool:
    """A RUN that calls a Python package manager (dockfix.commands, through the model), or whose
    text names Python's tools at all (`python3 setup.py`, `apt-get install python3-dev`)."""
    text = instr.logical[instr.args_start:] + "".join(h.body for h in instr.heredocs)
    if _PYTHON_RUN.search(text):
        return True
    # The RUN's shell is parsed only when the text may name a manager: in an image that is not
    # Python's, this question is the only one asked of its RUNs.
    return may_run_python_manager(text) and any(c.invocation.manager in PYTHON_MANAGERS for c in called(tree, instr))


def _not_python_reason(tree: Tree, context: Context) -> str | None:
    for stage in stages(tree):
        if _PYTHON_BASE.search(stage.base):
            return None
        for instr in stage.instructions:
            if instr.name == "RUN" and _runs_python_tooling(tree, instr):
                return None
            if instr.name in ("CMD", "ENTRYPOINT") and _PYTHON_RUN.search(instr.args):
                return None
            if instr.name == "COPY" and Copy(instr).from_ and "uv" in (Copy(instr).from_ or ""):
                return None
    if any(context.exists(m) for m in _MANIFESTS):
        return None
    return "not a Python image (no Python base, install or manifest found)"


# How the repository runs its image besides CMD: compose files start services with `command:`,
# Makefiles and justfiles run `docker compose run SERVICE ...`. dockfix cannot tell which image
# such a line runs, so any of them counts.
_RUNNERS = re.compile(r"(^|/)((docker-)?compose[\w.-]*\.ya?ml|[Mm]akefile|GNUmakefile|[Jj]ustfile|[\w-]+\.mk)$")
_UV_RUN = re.compile(r"\buv\s+run\b(?!.*--no-sync)")
_DOCKER = re.compile(r"\bdocker\b|\bcompose\b|\bpodman\b")


def uv_run_outside(context: Context) -> tuple[str, int] | None:
    """A compose file, Makefile or justfile of the context that runs `uv run` (without --no-sync)
    in a container: (path, line). A Makefile line counts only when it also runs docker/compose."""
    for path in context.listing():
        if not _RUNNERS.search(path):
            continue
        compose = path.endswith((".yml", ".yaml"))
        for number, line in enumerate((context.read(path) or "").splitlines(), 1):
            if line.lstrip().startswith("#") or not _UV_RUN.search(line):
                continue
            if compose or _DOCKER.search(line):
                return path, number
    return None


_NOT_APP = re.compile(r"(^|/)(tests?|testing|docs?|scripts)/|(^|/)(test_[^/]*|[^/]*_test|conftest|noxfile|setup)\.py$")
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def module_guesses(requirement: str) -> list[str]:
    """Import names a distribution likely provides: its normalised name, and without a framework
    prefix (django-debug-toolbar -> debug_toolbar). A guess that misses only keeps a refusal from
    being made; it never makes a change."""
    found = _REQUIREMENT_NAME.match(requirement)
    if not found:
        return []
    name = re.sub(r"[-.]+", "_", found.group(1).lower())
    out = [name]
    for prefix in ("django_", "flask_", "python_", "py"):
        if name.startswith(prefix) and len(name) > len(prefix) + 2:
            out.append(name[len(prefix):])
    return out


def app_code_naming(context: Context, requirements: list[str]) -> tuple[str, str] | None:
    """(path, module) of a Python file of the app (tests, docs, scripts and setup left out) that names
    one of these requirements' modules as a word: an import, or a string such as INSTALLED_APPS'."""
    modules = {m: r for r in requirements for m in module_guesses(r)}
    if not modules:
        return None
    pattern = re.compile(r"\b(" + "|".join(re.escape(m) for m in sorted(modules, key=len, reverse=True)) + r")\b")
    for path in context.listing():
        if not path.endswith(".py") or _NOT_APP.search(path):
            continue
        for line in (context.read(path) or "").splitlines():
            if line.lstrip().startswith("#"):
                continue
            hit = pattern.search(line)
            if hit and ("import" in line or "'" in line or '"' in line):
                return path, hit.group(1)
    return None
