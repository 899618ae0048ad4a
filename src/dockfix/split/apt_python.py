"""The split of a Debian image that installs Python from apt: the runtime is the same image.

    FROM debian:bookworm-slim
    RUN apt-get update && apt-get install -y python3 python3-venv gcc python3-dev libpq-dev
    RUN python3 -m venv /venv && /venv/bin/pip install -r requirements.txt

The builder is the file up to the last install; the runtime starts from the SAME base, so
the venv's interpreter (its bin/python3 links to /usr/bin/python3) is the same file there,
and its apt lines leave out what only the build needed. Each decision rests on a table:

- left out: compilers and headers (split/debian_runtime's build-only table) and what only
  makes a venv (VENV_ONLY: python3-pip, python3-venv), and only packages that
  data/debian_python's real install of the suite covered;
- a -dev package becomes its runtime libraries (split/debian_runtime: data/debian_dev_runtime's
  table, from Debian's metadata), when data/debian_python's real install covered it;
- python3 stays: named in the runtime's install when only a package left out brought it;
- ca-certificates stays when the original got it (data/debian_recommends: what Depends and
  Recommends bring, with each install's --no-install-recommends as written) and the runtime
  would not: it is named in the runtime's install;
- no program the runtime stage runs may come with a package left out (data/debian_python's
  `vanish`: every program those packages brought in the real install).

Anything else is a reason to leave the file alone, returned as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dockfix.data import debian_python, debian_recommends
from dockfix.split import debian_runtime, images
from dockfix.split.classify import Step
from dockfix.split.debian_runtime import BUILD_ONLY, PYPI_SYSTEM_LIBRARY, is_build_only, runtime_libraries, stands_for
from dockfix.split.dependencies import normalize
from dockfix.split.programs import Use

# Only making the venv needs these (pip and the wheels ensurepip seeds it from): the runtime
# runs the venv the builder made, whose own pip came from those wheels.
VENV_ONLY = frozenset({"python3-pip", "python3-venv", "python3-pip-whl", "python3-setuptools-whl"})
_VENV_VERSIONED = re.compile(r"^(?:python3\.\d+-venv|python3\.\d+-dev|libpython3\.\d+-dev)$")
_VIRTUAL = frozenset({"libc-dev"})  # no package has this name: apt installs a provider
_LIBRARY = re.compile(r"^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)/)?(?:library/)?(?P<name>[a-z0-9._-]+)$")
# The interpreter a venv of the split is made with: Debian's, by the name apt installs it under.
_INTERPRETER = re.compile(r"^(?:/usr/bin/)?python3(?:\.(\d+))?$")
_PYTHON_PACKAGE = re.compile(r"^python3(?:\.\d+)?(?:-venv|-pip|-full|-dev|-minimal)?$")
_MODULE = re.compile(r"-m\s*(pip|venv|ensurepip)\b")
# The -dev packages tools/regen_debian_python.py installs to see what programs they bring: a -dev
# package becomes its libraries on a Debian base only when that install covered it (another may
# bring a program the runtime runs). The ones the corpus installs most; add one and regenerate.
DEV_CANDIDATES = frozenset({
    "libpq-dev", "libjpeg-dev", "libjpeg62-turbo-dev", "libxml2-dev", "libxslt1-dev", "libffi-dev", "libssl-dev",
    "default-libmysqlclient-dev", "libmariadb-dev", "libmariadb-dev-compat", "zlib1g-dev", "libyaml-dev",
    "libpng-dev", "libwebp-dev", "libfreetype6-dev", "libfreetype-dev", "liblcms2-dev", "libopenjp2-7-dev",
    "libtiff-dev", "libtiff5-dev", "libsqlite3-dev", "libbz2-dev", "liblzma-dev", "libzstd-dev", "libsasl2-dev",
    "libldap2-dev", "libldap-dev", "unixodbc-dev", "libmagic-dev", "libgeos-dev", "libcairo2-dev", "libxmlsec1-dev",
    "libkrb5-dev", "libgmp-dev", "libsnappy-dev", "libgdbm-dev", "libreadline-dev", "libncurses-dev",
    "libncurses5-dev", "libcurl4-openssl-dev", "libpcre3-dev", "libevent-dev",
})


def DROPPED_CANDIDATES(python: str) -> frozenset[str]:  # noqa: N802 (a table the generator reads)
    """Every package the split may leave out on a suite whose Python is `python`: what
    tools/regen_debian_python.py installs to see what they bring."""
    versioned = {f"{tool}-{n}" for tool in ("gcc", "g++", "cpp") for n in (12, 13, 14)}
    return frozenset((BUILD_ONLY - _VIRTUAL) | VENV_ONLY | versioned | DEV_CANDIDATES
                     | {f"python{python}-venv", f"python{python}-dev", f"libpython{python}-dev"})


@dataclass(frozen=True)
class Base:
    """A Debian base the split knows: the suites its tag may mean, all in dockfix's tables."""

    image: str
    suites: tuple[str, ...]

    @property
    def distribution(self) -> str | None:
        return self.suites[0] if len(self.suites) == 1 else None

    @property
    def python(self) -> str | None:
        versions = {debian_python.python(s) for s in self.suites}
        return versions.pop() if len(versions) == 1 else None

    def runtime(self) -> images.Runtime:
        return images.Runtime(self.image, self.distribution, changed=False, version=self.python)


def base(ref: str) -> Base | str | None:
    """The Debian base `ref` names; a reason when it is Debian or Ubuntu but not one dockfix has
    tables for; None when it is neither."""
    name = images.split_reference(ref)[0]
    match = _LIBRARY.match(name)
    if not match or match["name"] not in ("debian", "ubuntu"):
        return None
    if match["name"] == "ubuntu":
        return (f"base image {ref} is Ubuntu: dockfix's tables of what build-only packages bring (their programs, "
                "Depends and Recommends) are made from Debian's packages, not Ubuntu's")
    found = debian_recommends.base_image(ref)
    if found.kind != "debian":
        return found.reason or f"base image {ref}: not a Debian image dockfix has tables for"
    missing = [s for s in found.suites if s not in debian_python.suites()]
    if missing or not found.suites:
        return (f"base image {ref}: dockfix's table of the programs build-only packages bring covers Debian "
                f"{', '.join(debian_python.suites())}, not {', '.join(missing) or 'this tag'}")
    return Base(ref, found.suites)


def venv_reason(steps: Sequence[Step], target: str, known: Base) -> str | None:
    """Why the installs are not pip into a venv made by apt's python3 in the file (None: they are)."""
    if target == "system":
        return ("pip installs into Debian's own Python, not into a venv the file makes with `python3 -m venv`: "
                "the split of a Debian base copies such a venv")
    made = None
    for index, step in enumerate(steps):
        for command in step.installs:
            if command.target != target or command.tool in ("glue", "poetry-config"):
                continue
            program = command.command.argv[0] if command.command.argv else ""
            if command.tool == "venv":
                interpreter = _INTERPRETER.match(program)
                if interpreter is None or (interpreter[1] and f"3.{interpreter[1]}" != known.python):
                    return (f"line {step.instr.line}: the venv is made by `{program}`, not by the python3 Debian "
                            "installs (`python3 -m venv`)")
                made = index if made is None else made
            elif command.tool != "pip":
                return (f"line {step.instr.line}: {command.tool} on a Debian base (only pip into a venv made by "
                        "`python3 -m venv` is split there)")
    if made is None:
        return f"{target} is not a venv the file makes with `python3 -m venv`"
    if not installs_python(steps[:made], only_apt=True):
        return "the python3 that makes the venv is not installed by an apt line before it"
    return None


def installs_python(steps: Sequence[Step], only_apt: bool = False) -> bool:
    """Does an apt install among `steps` (an apt-only RUN, with `only_apt`) install python3?"""
    return any((step.kind == "apt" or not only_apt) and any(_PYTHON_PACKAGE.match(w) for w, _ in step.apt_packages)
               for step in steps)


def leaves_out(package: str, known: Base) -> bool:
    """A package only the build needs, that the table's install of every suite covered."""
    build_only = is_build_only(package) or package in VENV_ONLY or bool(_VENV_VERSIONED.match(package))
    return build_only and all(package in debian_python.covered(s) for s in known.suites)


@dataclass
class Install:
    """One apt install command before the last dependency install: its package words and
    whether it installs Recommends."""

    words: list[str]
    recommends: bool


@dataclass
class Runtime:
    """What the runtime's apt lines install: `changes` maps a package word of the original to ""
    (left out) or to the name the runtime installs instead; `packages` is every name they install."""

    changes: dict[str, str] = field(default_factory=dict)
    packages: set[str] = field(default_factory=set)
    added: list[str] = field(default_factory=list)  # named because only a package left out brought them


def recommends_on(argv: Sequence[str]) -> bool | None:
    """Does this apt-get install bring Recommends (None: an option dockfix does not read)?"""
    on = True
    for arg in argv:
        if arg == "--no-install-recommends":
            on = False
        elif arg == "--install-recommends":
            on = True
        elif "Install-Recommends" in arg:
            value = arg.split("=", 1)[1].strip("'\"").lower() if "=" in arg else ""
            if value in ("false", "0", "no", "off"):
                on = False
            elif value in ("true", "1", "yes", "on"):
                on = True
            else:
                return None
    return on


def _name(word: str) -> str:
    return re.split(r"[=:]", word, maxsplit=1)[0]


def _tls(suite: str, installs: Iterable[tuple[set[str], bool]]) -> bool:
    """Do these installs bring ca-certificates on `suite` (Depends always, Recommends when on)?"""
    for names, recommends in installs:
        if debian_recommends.TLS in debian_recommends.kept(suite, names):
            return True
        if recommends and any(debian_recommends.TLS in debian_recommends.lost(suite, n) for n in names):
            return True
    return False


def runtime_install(installs: list[Install], known: Base) -> Runtime | str:
    """The runtime's packages: build-only ones left out, -dev ones as their library, python3
    and ca-certificates named when only a package left out brought them; or why not."""
    out = Runtime()
    dropped: list[tuple[int, str]] = []
    original: list[tuple[set[str], bool]] = []
    kept: list[tuple[set[str], bool]] = []
    for index, install in enumerate(installs):
        names, survivors = set(), set()
        for word in install.words:
            name = _name(word)
            names.add(name)
            if "$" in word or "=" in word:
                survivors.add(name)  # as written (a version or a variable: when in doubt, keep)
            elif leaves_out(word, known):
                out.changes[word] = ""
                dropped.append((index, word))
            else:
                libraries = runtime_libraries(word, known.distribution)
                if libraries and all(runtime_libraries(word, s) == libraries and word in debian_python.covered(s)
                                     for s in known.suites):
                    out.changes[word] = " ".join(libraries)
                survivors.update(out.changes[word].split() if word in out.changes else [name])
        original.append((names, install.recommends))
        kept.append((survivors, install.recommends))
    present = set().union(*(names for names, _ in kept)) if kept else set()
    if "python3" not in present and any(re.match(r"(lib)?python3", w) for _, w in dropped):
        out.added.append("python3")  # the venv's interpreter, which a package left out brought
    if any(_tls(s, original) and not _tls(s, kept) for s in known.suites) and "ca-certificates" not in present:
        out.added.append("ca-certificates")
    for package in out.added:
        # Named where a package left out was: python3 in place of python3-venv, ca-certificates of python3-pip.
        spare = [w for _, w in dropped if out.changes.get(w) == ""]
        if not spare:
            return f"the runtime's apt install has no place to name {package}"
        chosen = next((w for w in spare if w.startswith("python3")), spare[0]) if package == "python3" else \
            next((w for w in spare if w == "python3-pip"), spare[0])
        out.changes[chosen] = package
        present.add(package)
    out.packages = present
    return out


def kept_reason(package: str, known: Base) -> str:
    """Why a -dev package stays in the runtime of a Debian base (runtime_install did not replace it)."""
    uncovered = [s for s in known.suites if package not in debian_python.covered(s)]
    if uncovered and all(runtime_libraries(package, s) for s in known.suites):
        return (f"dockfix's real install of Debian {' and '.join(uncovered)} (data/debian_python.json) did not "
                "include it, so the programs it brings are not known")
    return debian_runtime.kept_reason(package, known.distribution)


def libraries_reason(names: set[str], runtime: Runtime, original: set[str]) -> str | None:
    """A dependency built from source against a system library the runtime would not install."""
    for package, library in PYPI_SYSTEM_LIBRARY.items():
        if normalize(package) not in names:
            continue
        headers = [p for p in original if stands_for(p, library) and runtime.changes.get(p) != ""]
        if library not in runtime.packages and not headers:
            return f"{package} links against {library}, which the runtime's apt lines would not install"
    return None


def program_reason(uses: Iterable[Use], runtime: Runtime, known: Base, venv: str) -> str | None:
    """A program the runtime stage runs that comes with a package the runtime leaves out."""
    for use in uses:
        if use.path.startswith(venv.rstrip("/") + "/bin/"):
            continue  # the venv's own (its python links to /usr/bin/python3, which stays)
        for suite in known.suites:
            if not debian_python.vanishes(use.program, suite):
                continue
            package = debian_python.package_of(use.program, suite)
            if package is not None and package in runtime.packages:
                continue
            where = f"line {use.line}" + (f" ({use.via})" if use.via else "")
            return (f"{where}: `{use.program}` comes with {package or 'a package'} (Debian {suite}), which only the "
                    "build needs: the runtime would not have it")
    return None


def module_reason(texts: Iterable[tuple[int, str]], venv: str) -> str | None:
    """`python3 -m pip` (or venv, ensurepip) run in the runtime by Debian's python3, whose pip
    and venv modules come with python3-pip and python3-venv."""
    for line, text in texts:
        if _MODULE.search(text) and venv.rstrip("/") + "/bin/" not in text:
            return f"line {line}: runs Python's pip or venv module, which python3-pip and python3-venv bring"
    return None
