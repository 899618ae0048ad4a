"""What a built package needs at run time on Debian bookworm/trixie.

A `-dev` package brings headers (builder only) and depends on the shared
libraries that compiled extensions link against: those must stay in the
runtime image. Which they are is data/debian_dev_runtime's table, generated
from Debian's package metadata; a -dev package it has no answer for is kept in
the runtime (when in doubt, keep).
"""

from __future__ import annotations

import re

from dockfix.data import debian_dev_runtime, pypi_source_builds

# Compilers and build tools: the runtime never needs them to *run* built code.
BUILD_ONLY = frozenset({
    "build-essential", "gcc", "g++", "cpp", "make", "cmake", "ninja-build", "pkg-config", "pkgconf",
    "autoconf", "automake", "libtool", "gfortran", "swig", "cargo", "rustc", "libc6-dev", "libc-dev",
    "linux-libc-dev", "python3-dev", "python-dev", "libpython3-dev", "python3-wheel", "dpkg-dev",
})
_VERSIONED_TOOL = re.compile(r"^(gcc|g\+\+|cpp|gfortran|python3\.\d+)-(\d+|dev)$")

# PyPI distributions that are usually built from source against a system library the full
# python image provides and the slim one lacks (import fails without it).
PYPI_SYSTEM_LIBRARY = {
    "psycopg2": "libpq5",
    "mysqlclient": "libmariadb3",
    "python-ldap": "libldap-2.5-0",
    "pyodbc": "libodbc2",
    "python-magic": "libmagic1",
    "pycairo": "libcairo2",
    "pygobject": "libgirepository-1.0-1",
    "pygraphviz": "libgvc6",
    "weasyprint": "libpango-1.0-0",
    "cairosvg": "libcairo2",
    "gssapi": "libkrb5-3",
    "xmlsec": "libxmlsec1",
    "python-snappy": "libsnappy1v5",
    # wheels that leave OpenMP to the system (gcc brings libgomp1; slim images lack it)
    "xgboost": "libgomp1",
    "lightgbm": "libgomp1",
}


def source_build(names: set[str], requirements: dict[str, list[str]], python: str | None) -> str | None:
    """Why one of `names` (normalised distributions; `requirements`: what asked for each) is compiled
    from source by pip on CPython `python` (the tag's version: "3.11", "3.11.4"; "3" or None when it
    does not say: then on any CPython the table covers), from data/pypi_source_builds' table of
    PyPI's files; None when each installs a wheel, is pure Python or is not in the table."""
    minor = ".".join(python.split(".")[:2]) if python and python.count(".") >= 1 else None
    covered = pypi_source_builds.pythons()
    if minor is not None and minor not in covered:
        return None  # a CPython the table does not cover: not known
    for name in sorted(n for n in names if pypi_source_builds.known(n)):
        for version in [minor] if minor else reversed(covered):
            built = pypi_source_builds.source_builds(name, requirements.get(name, []), version)
            if built is not None:
                unread = "" if built.compiled else " (its sdist could not be read: it may compile code)"
                said = "" if minor else f"; the tag does not name its Python, and CPython {version} is one it may be"
                return f"{built} (PyPI's files{said}){unread}"
    return None


# The releases a tag that does not name one (python:3.12) may be built on.
_MOVING = ("bookworm", "trixie")


def runtime_libraries(package: str, distribution: str | None) -> tuple[str, ...] | None:
    """The runtime libraries a -dev package stands for on `distribution` ("bookworm", "trixie", or
    None when the tag does not say, e.g. python:3.12, which moves with Debian releases: then only
    an answer that is the same on both): None when there is no answer, and the -dev package
    must then stay."""
    if distribution is not None:
        return debian_dev_runtime.libraries(package, distribution)
    answers = {debian_dev_runtime.libraries(package, suite) for suite in _MOVING}
    return answers.pop() if len(answers) == 1 else None


def kept_reason(package: str, distribution: str | None) -> str:
    """Why `package` has no runtime libraries on `distribution` (runtime_libraries gave None)."""
    known = debian_dev_runtime.suites()
    if distribution is not None and distribution not in known:
        return f"dockfix's table of -dev packages covers Debian {' and '.join(known)}, not {distribution}"
    answers = {suite: debian_dev_runtime.libraries(package, suite) for suite in ((distribution,) if distribution else _MOVING)}
    missing = [suite for suite, found in answers.items() if found is None]
    if missing:
        return (f"the package metadata of Debian {' and '.join(missing)} names no runtime library for it (headers "
                "only, not a package of that release, or a -dev package it stands for has none)")
    return ("its runtime libraries differ between "
            + " and ".join(f"Debian {suite} ({' '.join(found or ())})" for suite, found in answers.items())
            + ", and the tag does not say which release it is built on (a tag that does lets dockfix name them)")


def stands_for(package: str, library: str) -> bool:
    """Is `library` one of the runtime libraries -dev `package` stands for on some release?"""
    return any(library in (debian_dev_runtime.libraries(package, suite) or ()) for suite in _MOVING)


def is_build_only(package: str) -> bool:
    return package in BUILD_ONLY or bool(_VERSIONED_TOOL.match(package))
