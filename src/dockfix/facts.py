"""Facts several transforms need: does this Dockerfile build a Python image?"""

from __future__ import annotations

import re

from dockfix.context import Context
from dockfix.syntax import Tree
from dockfix.views import Copy, stages

_PYTHON_BASE = re.compile(r"(^|/)(python|pypy)[:@]|(^|/)(python|pypy)$|astral-sh/uv|miniconda|micromamba|/python-", re.I)
_PYTHON_RUN = re.compile(r"\b(pip3?|uv|poetry|pipenv|python3?(\.\d+)?|conda|pdm|hatch)\b")
_MANIFESTS = ("pyproject.toml", "requirements.txt", "setup.py", "Pipfile", "poetry.lock", "uv.lock", "setup.cfg")


def not_python_reason(tree: Tree, context: Context) -> str | None:
    """None when the Dockerfile builds a Python image; otherwise why it does not look like one."""
    for stage in stages(tree):
        if _PYTHON_BASE.search(stage.base):
            return None
        for instr in stage.instructions:
            if instr.name == "RUN" and _PYTHON_RUN.search(instr.logical[instr.args_start:] + "".join(h.body for h in instr.heredocs)):
                return None
            if instr.name in ("CMD", "ENTRYPOINT") and _PYTHON_RUN.search(instr.args):
                return None
            if instr.name == "COPY" and Copy(instr).from_ and "uv" in (Copy(instr).from_ or ""):
                return None
    if any(context.exists(m) for m in _MANIFESTS):
        return None
    return "not a Python image (no Python base, install or manifest found)"
