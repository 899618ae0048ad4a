"""Reviewed tables for Debian bookworm/trixie: what a built package needs at run time.

A `-dev` package brings headers (builder only) and depends on the shared
library that compiled extensions link against: that library must stay in the
runtime image. Anything not listed here is kept in the runtime (when in
doubt, keep).
"""

from __future__ import annotations

import re

# Compilers and build tools: the runtime never needs them to *run* built code.
BUILD_ONLY = frozenset({
    "build-essential", "gcc", "g++", "cpp", "make", "cmake", "ninja-build", "pkg-config", "pkgconf",
    "autoconf", "automake", "libtool", "gfortran", "swig", "cargo", "rustc", "libc6-dev", "libc-dev",
    "linux-libc-dev", "python3-dev", "python-dev", "libpython3-dev", "python3-wheel", "dpkg-dev",
})
_VERSIONED_TOOL = re.compile(r"^(gcc|g\+\+|cpp|gfortran|python3\.\d+)-(\d+|dev)$")

# -dev package -> the runtime library package of the same source (bookworm and trixie names agree
# except where a pair is listed per release below).
DEV_TO_RUNTIME = {
    "libpq-dev": "libpq5",
    "libjpeg-dev": "libjpeg62-turbo",
    "libjpeg62-turbo-dev": "libjpeg62-turbo",
    "libxml2-dev": "libxml2",
    "libxslt1-dev": "libxslt1.1",
    "libxslt-dev": "libxslt1.1",
    "libffi-dev": "libffi8",
    "libssl-dev": "libssl3",
    "default-libmysqlclient-dev": "libmariadb3",
    "libmariadb-dev": "libmariadb3",
    "libmariadb-dev-compat": "libmariadb3",
    "zlib1g-dev": "zlib1g",
    "libyaml-dev": "libyaml-0-2",
    "libpng-dev": "libpng16-16",
    "libwebp-dev": "libwebp7",
    "libfreetype6-dev": "libfreetype6",
    "libfreetype-dev": "libfreetype6",
    "liblcms2-dev": "liblcms2-2",
    "libopenjp2-7-dev": "libopenjp2-7",
    "libtiff-dev": "libtiff6",
    "libtiff5-dev": "libtiff6",
    "libsqlite3-dev": "libsqlite3-0",
    "libbz2-dev": "libbz2-1.0",
    "liblzma-dev": "liblzma5",
    "libzstd-dev": "libzstd1",
    "libsasl2-dev": "libsasl2-2",
    "libldap2-dev": "libldap-2.5-0",
    "libldap-dev": "libldap-2.5-0",
    "unixodbc-dev": "libodbc2",
    "libmagic-dev": "libmagic1",
    "libgeos-dev": "libgeos-c1v5",
    "libcairo2-dev": "libcairo2",
    "libxmlsec1-dev": "libxmlsec1",
    "libkrb5-dev": "libkrb5-3",
    "libgmp-dev": "libgmp10",
    "libsnappy-dev": "libsnappy1v5",
    "libgdbm-dev": "libgdbm6",
    "libreadline-dev": "libreadline8",
    "libncurses-dev": "libncurses6",
    "libncurses5-dev": "libncurses6",
    "libuuid-dev": "libuuid1",
    "libcurl4-openssl-dev": "libcurl4",
    "libpcre3-dev": "libpcre3",
    "libevent-dev": "libevent-2.1-7",
}
# Trixie (13) renamed libraries in the 64-bit time_t transition; the names below were
# reviewed. A library missing from this map whose trixie name is not certain is listed in
# _TRIXIE_UNSURE: its -dev package stays in a trixie runtime (when in doubt, keep).
_TRIXIE_RENAMES = {
    "libssl3": "libssl3t64", "libcurl4": "libcurl4t64", "libpng16-16": "libpng16-16t64",
    "libevent-2.1-7": "libevent-2.1-7t64", "libreadline8": "libreadline8t64", "libgdbm6": "libgdbm6t64",
    "libmagic1": "libmagic1t64", "libxmlsec1": "libxmlsec1t64", "libgeos-c1v5": "libgeos-c1t64",
    "libldap-2.5-0": "libldap2",
}
_TRIXIE_UNSURE = frozenset({"libxml2", "libncurses6", "libpcre3"})

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

def runtime_package(package: str, distribution: str | None) -> str | None:
    """The runtime library a -dev package stands for on `distribution` ("bookworm", "trixie",
    or None when the tag does not say, e.g. python:3.12, which moves with Debian releases):
    None when there is no reviewed answer, and the -dev package must then stay."""
    library = DEV_TO_RUNTIME.get(package)
    if library is None:
        return None
    trixie = None if library in _TRIXIE_UNSURE else _TRIXIE_RENAMES.get(library, library)
    if distribution == "bookworm":
        return library
    if distribution == "trixie":
        return trixie
    if distribution is None:
        return library if trixie == library else None  # a name valid on both releases
    return None  # older releases were not reviewed


def is_build_only(package: str) -> bool:
    return package in BUILD_ONLY or bool(_VERSIONED_TOOL.match(package))
