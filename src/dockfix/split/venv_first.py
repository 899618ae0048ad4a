"""The builder makes the venv before the manifests' COPY, when the install RUN made it (issue 13, item 1).

    COPY requirements.txt .
    RUN python3 -m venv /venv && /venv/bin/pip install -r requirements.txt

re-makes the venv on every dependency change (`python -m venv` seeds pip into it with ensurepip:
seconds, on the critical path of the rebuild). Making the venv reads no file of the project, so
the builder runs it as its own RUN above the COPY lines right before the install, and the
install RUN keeps the rest of its `&&` list. Only when all of these hold:

- the RUN is in shell form (no heredoc) and its first command makes the venv the split copies
  (`python -m venv`, `virtualenv`, `uv venv`), at the top level, followed by `&&` and more;
- the RUN has no flags but cache mounts (a bind mount or `--network` would not go with the
  venv's half);
- only COPY/ADD lines of the build context (no `--from`) come between the new place and the
  RUN, so the working folder, user and environment are the same at both, and none can write
  into the venv: each copies into a known folder that is neither the venv nor inside it, and
  when that folder is above the venv (`COPY requirements.txt .` into `/app`, venv `/app/venv`)
  it is a COPY of files the context has as regular files, named plainly (no wildcard, no
  variable), which land neither at the venv's path nor inside it (a folder's copy, or `ADD`,
  which unpacks archives, could bring an `/app/venv` along).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from dockfix.context import Context
from dockfix.shell import Command
from dockfix.split.classify import Step
from dockfix.views import Copy, mounts


@dataclass(frozen=True)
class VenvFirst:
    at: int  # the step index the venv's own RUN goes before (a COPY of the manifests)
    install: int  # the install step whose RUN made the venv
    command: Command  # the venv command, first in that RUN's `&&` list
    rest: Command  # the command after it, where the install RUN now starts


def find(steps: list[Step], first: int, venv: str, context: Context) -> VenvFirst | None:
    """Where the builder can make the venv before the manifests, or None (the RUN stays as written)."""
    step = steps[first]
    instr = step.instr
    if step.kind != "install" or instr.name != "RUN" or instr.heredocs or instr.exec_form is not None:
        return None
    if len(step.commands) < 2 or not step.installs:
        return None
    head, made = step.commands[0], step.installs[0]
    if made.tool != "venv" or made.command is not head or made.target != venv:
        return None
    if head.separator != "&&" or head.depth != 0 or step.commands[1].depth != 0:
        return None
    if any(f.name != "mount" for f in instr.flags) or any(m.type != "cache" for m in mounts(instr)):
        return None
    start, end = cut(step, head, step.commands[1])
    code = {ln.number for ln in instr.code_lines}
    if any(start <= ln.start < end for ln in instr.lines if ln.number not in code):
        return None  # a comment line inside the `&&` list: it would go with the venv's command
    at = first
    while at > 0 and _context_copy(steps[at - 1]):
        at -= 1
    if at == first or not all(_apart(steps[i], venv, context) for i in range(at, first)):
        return None
    return VenvFirst(at, first, head, step.commands[1])


def cut(step: Step, head: Command, rest: Command) -> tuple[int, int]:
    """The source span the install RUN loses: from the venv command to the next command's first word."""
    instr = step.instr
    return instr.source_offset(instr.args_start + head.start), instr.source_offset(instr.args_start + rest.start)


def text(step: Step, head: Command) -> str:
    """The venv command as written (its logical text: continuation escapes removed)."""
    instr = step.instr
    return instr.logical[instr.args_start + head.start: instr.args_start + head.end]


def _context_copy(step: Step) -> bool:
    return step.kind == "copy" and step.instr.name in ("COPY", "ADD") and not Copy(step.instr).from_


def _apart(step: Step, venv: str, context: Context) -> bool:
    """The copy cannot write into the venv (see the module's docstring)."""
    into = step.into
    if into is None or not into.startswith("/") or not venv.startswith("/"):
        return False
    if _within(into, venv):
        return False
    if not _within(venv, into):
        return True
    copy = Copy(step.instr)
    dest = copy.destination
    if step.instr.name != "COPY" or not copy.sources or "$" in dest or step.workdir == "?":
        return False
    at = posixpath.join(step.workdir, dest)
    for source in copy.sources:
        if any(c in source for c in "*?[$\\") or source.endswith("/") or not context.exists(source) \
                or context.is_dir(source):
            return False
        if any(_within(p, venv) for p in (at, posixpath.join(at, posixpath.basename(source)))):
            return False
    return True


def _within(path: str, folder: str) -> bool:
    """`path` is `folder` or inside it."""
    a, b = posixpath.normpath(path), posixpath.normpath(folder)
    return a == b or a.startswith(b.rstrip("/") + "/")
