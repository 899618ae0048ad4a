"""Regenerate src/dockfix/data/debian_dev_runtime.json: each Debian `-dev` package's runtime libraries.

    uv run python tools/regen_debian_dev_runtime.py            # as root, on a Debian machine

The multi-stage split installs, in the slim runtime, the shared libraries that code
compiled against a `-dev` package links to, instead of the `-dev` package itself
(`libpq-dev` -> `libpq5`). This records them from Debian's own metadata:

1. the Packages indices of `main` (amd64) of each suite in SUITES, downloaded by
   `apt-get update` with a private configuration (tools/_debian_indices.py, shared
   with tools/regen_debian_recommends.py);
2. for every binary package named `*-dev` (`default-libmysqlclient-dev` too), per suite:
   its Depends and Pre-Depends, first alternative of each (apt's choice; a virtual name
   with one provider is that provider), that are shared library packages
   (`is_library`: not a development package; Section libs, or a `lib*` name that is not a
   -bin, -doc, -common, -dbg package nor in a development or documentation section) built from the
   same Source as the -dev package: all of them (libwebp-dev -> libwebp7, libwebpdemux2,
   libwebpmux3: Pillow links the three);
3. a -dev package with none of those stands for the -dev packages it depends on
   (libjpeg-dev -> libjpeg62-turbo-dev -> libjpeg62-turbo; default-libmysqlclient-dev ->
   libmariadb-dev-compat -> libmariadb-dev -> libmariadb3; libkrb5-dev -> krb5-multidev,
   Section libdevel): the union of their answers, and no answer when one of them has none
   (or when it depends on no development package). The compiler's own development packages
   (build-essential's Depends, closed: libc6-dev, libstdc++-12-dev) are never followed: every
   image has their libraries, and a header-only library (libboost1.74-dev) stands for nothing
   of theirs. A -dev package with libraries of its own stands for those of the same-source
   -dev packages it depends on too (libncurses5-dev: libtinfo6, and libncurses6 through
   libncurses-dev).

Only -dev packages with an answer are stored, per suite: a suite that lacks a package,
or a package without an answer, means "not known" (the split keeps the -dev package).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _debian_indices import Package, clauses, indices_from_command_line, parse_packages  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "dockfix" / "data" / "debian_dev_runtime.json"
TOOLCHAIN = "build-essential"  # what Debian builds C and C++ with
EVERY = "every suite"  # the key of the answers all suites share

# Sections of packages that are not what a compiled program loads at run time.
_NOT_RUNTIME_SECTIONS = ("libdevel", "devel", "doc")
_NOT_RUNTIME_SUFFIXES = ("-dev", "-bin", "-doc", "-common", "-dbg")


def source(packages: Mapping[str, Package], name: str) -> str:
    """The source package `name` is built from (`Source: foo (1.2-3)` for a binNMU)."""
    value = packages[name].get("Source", "")
    return value.split()[0] if value.strip() else name


def section(packages: Mapping[str, Package], name: str) -> str:
    return packages[name].get("Section", "").rpartition("/")[2]


def is_development(packages: Mapping[str, Package], name: str) -> bool:
    """A development package: a `-dev` name, or Section libdevel (krb5-multidev)."""
    return name.endswith("-dev") or section(packages, name) == "libdevel"


def is_library(packages: Mapping[str, Package], name: str) -> bool:
    """A shared library package: Section libs, or a lib* name that is not headers, programs or docs."""
    if is_development(packages, name) or "-dev-" in name:  # (libgl-dev is filed under libs)
        return False
    where = section(packages, name)
    return where == "libs" or (name.startswith("lib") and not name.endswith(_NOT_RUNTIME_SUFFIXES)
                               and where not in _NOT_RUNTIME_SECTIONS)


def depends(packages: Mapping[str, Package], providers: Mapping[str, list[str]], name: str) -> list[str]:
    """What apt installs for each Depends and Pre-Depends clause of `name`: the first alternative
    (a virtual one with a single provider: that provider; with several or none: nothing)."""
    out = []
    fields = packages[name]
    for clause in clauses(fields.get("Pre-Depends", "")) + clauses(fields.get("Depends", "")):
        first = clause[0]
        offered = [first] if first in packages else providers.get(first, [])
        real = offered[0] if len(offered) == 1 else None
        if real is not None and real != name and real not in out:
            out.append(real)
    return out


def provided(packages: Mapping[str, Package]) -> dict[str, list[str]]:
    """Virtual name -> the packages that provide it."""
    out: dict[str, list[str]] = {}
    for name, fields in packages.items():
        for clause in clauses(fields.get("Provides", "")):
            out.setdefault(clause[0], [])
            if name not in out[clause[0]]:
                out[clause[0]].append(name)
    return out


def compiler_packages(packages: Mapping[str, Package], providers: Mapping[str, list[str]]) -> set[str]:
    """build-essential and what its Depends bring (libc6-dev, libstdc++-12-dev, libgcc-12-dev...):
    the compiler's own, whose libraries (libc6, libstdc++6) every image has. A -dev package that
    depends on them (libboost1.74-dev on libstdc++-12-dev) does not stand for them: followed, they
    would answer the toolchain's sanitizer runtimes for a header-only library."""
    seen: set[str] = set()
    stack = [TOOLCHAIN] if TOOLCHAIN in packages else []
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(depends(packages, providers, name))
    return seen


def runtime_libraries(packages: Mapping[str, Package]) -> dict[str, tuple[str, ...]]:
    """Every -dev package of the suite with an answer -> its runtime libraries (sorted)."""
    providers = provided(packages)
    toolchain = compiler_packages(packages, providers)
    answers: dict[str, tuple[str, ...] | None] = {}
    walking: set[str] = set()

    def answer(dev: str) -> tuple[str, ...] | None:
        if dev in answers:
            return answers[dev]
        if dev in walking:
            return None  # a cycle of -dev packages without a library of their own: not known
        walking.add(dev)
        deps = depends(packages, providers, dev)
        same = [d for d in deps if source(packages, d) == source(packages, dev)]
        own = {d for d in same if is_library(packages, d)}
        # A -dev package of the same source stands for its libraries too (libncurses5-dev: libtinfo6
        # itself, libncurses6 through libncurses-dev); without a library of its own, every -dev
        # package it depends on does (default-libmysqlclient-dev -> libmariadb-dev-compat).
        followed = [d for d in (same if own else deps) if is_development(packages, d) and d not in toolchain]
        found = [answer(d) for d in followed]
        result: tuple[str, ...] | None = None
        if (own or followed) and all(f is not None for f in found):  # one without an answer: not known
            result = tuple(sorted(own.union(*(f for f in found if f is not None))))
        walking.discard(dev)
        answers[dev] = result
        return result

    out = {}
    for name in sorted(packages):
        if is_development(packages, name):
            found = answer(name)
            if found:
                out[name] = found
    for virtual, offered in sorted(providers.items()):  # `apt-get install libxslt-dev`: libxslt1-dev
        if virtual.endswith("-dev") and virtual not in packages and len(offered) == 1 and offered[0] in out:
            out[virtual] = out[offered[0]]
    return out


def build(indices: Mapping[str, Mapping[str, Package]], releases: Mapping[str, Mapping[str, str]]) -> dict:
    return {
        "about": "For each Debian -dev package, per suite: the shared library packages that code compiled "
                 "against it links to, which a runtime image installs instead of the -dev package. They are "
                 "its Depends (first alternative) that are library packages of the same Source; a -dev package "
                 "with none stands for the -dev packages it depends on. A -dev package a suite does not list "
                 "has no known answer there.",
        "generated": dt.date.today().isoformat(),
        "command": "uv run python tools/regen_debian_dev_runtime.py",
        "source": "the Packages indices of Debian main (amd64), downloaded by apt-get update "
                  "with a private configuration from a Debian mirror",
        "suites": {suite: dict(releases[suite]) for suite in indices},
        "libraries": by_suite({suite: runtime_libraries(packages) for suite, packages in indices.items()}),
    }


def by_suite(answers: Mapping[str, Mapping[str, tuple[str, ...]]]) -> dict[str, dict[str, str]]:
    """The answers every suite shares once (under EVERY), then each suite's own: a -dev package
    under a suite's name has that answer there, whatever EVERY says."""
    suites = list(answers)
    shared = set.intersection(*(set(found) for found in answers.values())) if answers else set()
    shared = {dev for dev in shared if len({answers[s][dev] for s in suites}) == 1}
    out = {EVERY: {dev: " ".join(answers[suites[0]][dev]) for dev in sorted(shared)}}
    for suite in suites:
        out[suite] = {dev: " ".join(libs) for dev, libs in sorted(answers[suite].items()) if dev not in shared}
    return out


def render(data: dict) -> str:
    """JSON with one -dev package a line: a regeneration diffs line by line."""
    return json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def main() -> int:
    out, indices, releases = indices_from_command_line(__doc__.split("\n\n")[0], OUT)
    data = build({suite: parse_packages(text) for suite, text in indices.items()}, releases)
    out.write_text(render(data), encoding="utf-8")
    shared = len(data["libraries"][EVERY])
    sizes = ", ".join(f"{suite}: {shared + len(own)}" for suite, own in data["libraries"].items() if suite != EVERY)
    print(f"wrote {out} (-dev packages with an answer: {sizes})")
    return 0


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("note: apt-get update usually needs root (it writes its lock files)", file=sys.stderr)
    raise SystemExit(main())
