"""Regenerate src/dockfix/data/full_image_packages.json: the Debian packages every full
`python:3.X-<suite>` image has installed, from Debian's own package metadata.

    uv run python tools/regen_full_image_packages.py \\
        --python-repo PATH/TO/docker-library/python \\
        --buildpack-deps-repo PATH/TO/docker-library/buildpack-deps     # as root, on Debian

What the split needs to know before it leaves an `apt-get install` out of its builder
on a full python base: is every package it names installed there already?

How:
1. The package lists, read from the images' own Dockerfiles (the repositories may be
   clones or bare git folders; HEAD, or --python-ref / --buildpack-deps-ref, is read
   and its commit recorded): every `apt-get install` of docker-library/buildpack-deps'
   `debian/<suite>/curl`, `scm` and main Dockerfiles, and of docker-library/python's
   `3.X/<suite>/Dockerfile` for every Python version there, parsed with dockfix's own
   Dockerfile and shell parsers. A RUN that purges what it installed (`apt-get purge`,
   the `savedAptMark` idiom) installs nothing that stays.
2. The Packages indices of Debian main (amd64) for each suite, downloaded by
   tools/regen_debian_recommends.py's private `apt-get update`.
3. The installed set: those lists plus the base image's packages, closed under
   Depends and Pre-Depends. The base is debian:<suite> (debootstrap --variant=minbase:
   Priority required, and apt). A python Dockerfile that runs `apt-get purge
   --auto-remove` after marking every package automatic (3.14 on) keeps only what a
   manually installed, Essential or Protected package depends on: for it the base is
   only the Essential and Protected packages. Only what is certain counts: a clause
   with alternatives (`a | b`) adds nothing (apt's choice depends on what is there),
   and a virtual package only when one package provides it. The table is the
   intersection over every Python version of the suite, so it holds for any of them.
4. A reviewed metapackage (build-essential: nothing but its dependencies) that is not
   installed, but whose every Depends clause an installed package meets, is listed
   apart: `apt-get install build-essential` there adds no program or library.

The table can only err by leaving a package out (then the install stays): every
package it lists is named by an image's Dockerfile or is a hard dependency of one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import _debian_indices  # noqa: E402  (tools/ is on sys.path when this file runs)
import regen_debian_recommends as debian  # tools/ is on sys.path when this file runs

from dockfix.commands import invocation
from dockfix.syntax import parse
from dockfix.views import Run

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "dockfix" / "data" / "full_image_packages.json"
SUITES = debian.SUITES
BUILDPACK_DOCKERFILES = ("debian/{suite}/curl/Dockerfile", "debian/{suite}/scm/Dockerfile", "debian/{suite}/Dockerfile")
PYTHON_DOCKERFILE = re.compile(r"^(3\.\d+(?:-rc)?)/(bookworm|trixie)/Dockerfile$")


def git_show(repo: Path, ref: str, path: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "show", f"{ref}:{path}"], capture_output=True, text=True,
                          check=True).stdout


def git_commit(repo: Path, ref: str) -> dict[str, str]:
    out = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%H %cI", ref], capture_output=True,
                         text=True, check=True).stdout.split()
    return {"commit": out[0], "date": out[1]}


def installs(dockerfile: str) -> tuple[list[str], bool]:
    """(the packages the Dockerfile's RUNs install and keep, whether a RUN autoremoves every
    package no manual one needs)."""
    kept: list[str] = []
    autoremoves = False
    for instr in parse(dockerfile).instructions:
        if instr.name != "RUN":
            continue
        named, purges = [], False
        for cmd in Run(instr).script.commands:
            found = invocation(cmd)
            if found is None or found.manager != "apt":
                if cmd.argv[:2] == ["apt-mark", "auto"]:
                    purges = True
                continue
            if found.verb == "install":
                after = found.args[found.args.index("install") + 1:]
                named += [a for a in after if not a.startswith("-")]
            elif found.verb in ("purge", "remove", "autoremove"):
                purges = True
                autoremoves = autoremoves or "--auto-remove" in found.args or found.verb == "autoremove"
        if not purges:
            kept += named
    return kept, autoremoves


def certain_closure(suite: debian.Suite, roots: set[str]) -> set[str]:
    """Every package certainly installed with `roots`: Depends and Pre-Depends clauses without
    alternatives, a virtual name only through its single provider."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        fields = suite.packages[name]
        for field in ("Pre-Depends", "Depends"):
            for alternatives in debian._clauses(fields.get(field, "")):
                if len(alternatives) == 1 and (real := suite.real(alternatives[0])):
                    stack.append(real)
    return seen


def build(indices: dict[str, dict[str, debian.Package]], releases: dict[str, dict[str, str]],
          lists: dict[str, dict[str, tuple[list[str], bool]]], sources: dict) -> dict:
    installed: dict[str, list[str]] = {}
    virtual: dict[str, dict[str, str]] = {}
    metapackages: dict[str, dict[str, list[str]]] = {}
    for suite_name, packages in indices.items():
        suite = debian.Suite(packages)
        required = {n for n, f in packages.items() if f.get("Priority") == "required"} | {"apt"}
        essential = {n for n, f in packages.items() if f.get("Essential") == "yes" or f.get("Protected") == "yes"}
        every: set[str] | None = None
        for version, (names, autoremoves) in sorted(lists[suite_name].items()):
            real = {n: suite.real(n) for n in names}
            missing = sorted(n for n, r in real.items() if r is None)
            if missing:
                sys.exit(f"python {version} on {suite_name}: {missing} are not packages of the suite")
            roots = {r for r in real.values() if r} | (essential if autoremoves else required)
            found = certain_closure(suite, roots)
            every = found if every is None else every & found
        assert every is not None, f"no python Dockerfile for {suite_name}"
        installed[suite_name] = sorted(every)
        virtual[suite_name] = {name: providers[0] for name, providers in sorted(suite.providers.items())
                               if name not in packages and len(providers) == 1 and providers[0] in every}
        metapackages[suite_name] = {name: sorted(met) for name in debian.METAPACKAGES
                                    if name not in every and (met := _met(suite, name, every)) is not None}
    return {
        "about": "The Debian packages installed in every full python:3.X-<suite> image (FROM buildpack-deps:<suite>): "
                 "the packages their Dockerfiles install, plus debian:<suite>'s, closed under Depends and "
                 "Pre-Depends (clauses without alternatives only). `virtual`: a name one installed package "
                 "provides, which apt-get install takes as that package. `metapackages`: a package whose only "
                 "content is its dependencies (reviewed: build-essential), not installed, with every Depends and "
                 "Pre-Depends clause met by an installed package (listed): installing it adds no program or "
                 "library.",
        "generated": dt.date.today().isoformat(),
        "command": "uv run python tools/regen_full_image_packages.py --python-repo ... --buildpack-deps-repo ...",
        "source": "the Packages indices of Debian main (amd64), downloaded by apt-get update with a private "
                  "configuration from a Debian mirror; the images' Dockerfiles at the commits below",
        "dockerfiles": sources,
        "suites": releases,
        "python_versions": {s: sorted(v) for s, v in lists.items()},
        "installed": {s: textwrap.wrap(" ".join(names), 110, break_on_hyphens=False) for s, names in installed.items()},
        "virtual": virtual,
        "metapackages": metapackages,
    }


def _met(suite: debian.Suite, name: str, installed: set[str]) -> set[str] | None:
    """The installed packages that meet each of `name`'s Depends and Pre-Depends clauses, or None
    when a clause has no installed alternative."""
    met = set()
    for field in ("Pre-Depends", "Depends"):
        for alternatives in debian._clauses(suite.packages[name].get(field, "")):
            here = [real for a in alternatives if (real := suite.real(a)) in installed]
            if not here:
                return None
            met.add(here[0])
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python-repo", type=Path, required=True, help="docker-library/python (clone or git dir)")
    parser.add_argument("--python-ref", default="HEAD")
    parser.add_argument("--buildpack-deps-repo", type=Path, required=True, help="docker-library/buildpack-deps")
    parser.add_argument("--buildpack-deps-ref", default="HEAD")
    parser.add_argument("--mirror", help="Debian archive URI (default: the first one in /etc/apt/sources.list*)")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    mirror = args.mirror or _debian_indices.system_mirror()
    if not mirror:
        sys.exit("no Debian mirror found in /etc/apt/sources.list*: pass --mirror")
    lists: dict[str, dict[str, tuple[list[str], bool]]] = {}
    tree = subprocess.run(["git", "-C", str(args.python_repo), "ls-tree", "-r", "--name-only", args.python_ref],
                          capture_output=True, text=True, check=True).stdout.split()
    for suite in SUITES:
        base = [n for path in BUILDPACK_DOCKERFILES
                for n in installs(git_show(args.buildpack_deps_repo, args.buildpack_deps_ref, path.format(suite=suite)))[0]]
        lists[suite] = {}
        for path in tree:
            match = PYTHON_DOCKERFILE.match(path)
            if match and match[2] == suite:
                names, autoremoves = installs(git_show(args.python_repo, args.python_ref, path))
                lists[suite][match[1]] = (base + names, autoremoves)
    sources = {
        "docker-library/buildpack-deps": {**git_commit(args.buildpack_deps_repo, args.buildpack_deps_ref),
                                          "files": list(BUILDPACK_DOCKERFILES)},
        "docker-library/python": {**git_commit(args.python_repo, args.python_ref), "files": ["3.X/<suite>/Dockerfile"]},
    }
    with tempfile.TemporaryDirectory(prefix="dockfix-apt-") as tmp:
        indices, releases = _debian_indices.download(mirror, Path(tmp))
        data = build({s: debian.parse_packages(t) for s, t in indices.items()}, releases, lists, sources)
    Path(args.out).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = ", ".join(f"{s}: {len(' '.join(lines).split())}" for s, lines in data["installed"].items())
    print(f"wrote {args.out} (installed packages {counts})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
