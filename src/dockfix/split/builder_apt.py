"""Which apt RUNs a split's builder can leave out: those whose every package the full python
base already has installed ("0 newly installed", after an `apt-get update` of 5-15 s).

The facts come from dockfix's table of the full images' packages (data/full_image_packages,
generated from the images' Dockerfiles and Debian's Packages metadata). Only the builder
changes: the runtime, on the slim image, still gets the runtime libraries the RUN stands for
(multistage's own filtering). A RUN is left out only when all of these hold, otherwise it stays
and, when the base is one the table describes, a note says why:

- the base is an official full python image (`python:3.12`, `python:3.12-bookworm`) of a
  Debian suite and Python version the table holds (no suite in the tag: every suite it holds);
- the RUN does nothing but `apt-get update`, `apt-get install` and cache cleanup (no purge,
  no other program), with options that only quiet apt or leave out Recommends and Suggests;
- every word it installs is a plain package name the table lists (no version, release,
  architecture, pattern or variable);
- no later RUN of the builder calls apt without its own `apt-get update` (the image has no
  package lists: the left-out RUN may be the one that fetched them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dockfix.commands import invocation
from dockfix.data import full_image_packages as table
from dockfix.split.classify import Step
from dockfix.split.images import OFFICIAL_PYTHON, Runtime, split_reference

_VERBS = {"update", "install", "clean", "autoclean", "distclean"}
_QUIET = re.compile(r"^-[yq]+$")
_OPTIONS = {"--yes", "--assume-yes", "--quiet", "--no-install-recommends", "--no-install-suggests"}


@dataclass
class Found:
    drops: set[int] = field(default_factory=set)  # step indices the builder leaves out
    notes: list[tuple[int, str]] = field(default_factory=list)  # (line of the RUN, message)


def find(steps: list[Step], last: int, base: str, runtime: Runtime) -> Found:
    """The apt RUNs among steps[:last] (the builder's, before its last install) to leave out."""
    found = Found()
    suites = _suites(base, runtime)
    if not suites:
        return found
    for index, step in enumerate(steps[:last]):
        if step.kind != "apt":
            continue
        why = _keep(steps, index, last, base, suites)
        words = " ".join(word for word, _ in step.apt_packages)
        line = step.instr.line
        if why:
            found.notes.append((line, f"line {line}: the builder keeps `apt-get install {words}`: {why}"))
            continue
        found.drops.add(index)
        found.notes.append((line, f"line {line}: the builder leaves out `apt-get install {words}`: {base} already "
                                  f"has {'it' if len(step.apt_packages) == 1 else 'them'} (dockfix's table of the "
                                  f"full python images' packages, {table.generated()})"))
    return found


def _suites(base: str, runtime: Runtime) -> tuple[str, ...]:
    """The table's suites the full base may be built on; () when the table does not describe it."""
    name, _, digest = split_reference(base)
    if not runtime.changed or digest or not OFFICIAL_PYTHON.match(name):
        return ()
    suites = (runtime.distribution,) if runtime.distribution else table.suites()
    if not all(s in table.suites() and table.covers(s, runtime.version) for s in suites):
        return ()
    return tuple(suites)


def _keep(steps: list[Step], index: int, last: int, base: str, suites: tuple[str, ...]) -> str | None:
    """Why the apt RUN steps[index] stays in the builder, or None when it can go."""
    for command in steps[index].commands:
        found = invocation(command)
        if found is None or found.manager != "apt":
            continue
        if found.verb not in _VERBS:
            return f"it runs `{found.program} {found.verb}`"
        if found.verb == "install":
            odd = [a for a in found.args if a.startswith("-") and not (_QUIET.match(a) or a in _OPTIONS)]
            if odd:
                return f"option {odd[0]} may change what apt installs"
    for word, _ in steps[index].apt_packages:
        if not table.plain(word):
            return f"`{word}` is not a plain package name"
        missing = [s for s in suites if not table.has(s, word)]
        if missing:
            where = f" on {', '.join(missing)}" if len(suites) > 1 else ""
            return f"{word} is not among {base}'s packages{where} (dockfix's table of the full python images' packages)"
    for later in steps[index + 1 : last + 1]:
        verbs = later.apt_verbs()
        if verbs and "update" not in verbs:
            return f"line {later.instr.line} runs apt without its own `apt-get update`"
    return None
