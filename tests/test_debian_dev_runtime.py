"""The -dev -> runtime libraries table: the generator's selection on small fake Packages
stanzas (tools/regen_debian_dev_runtime.py, no network), and the shipped table's answers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from dockfix.data import debian_dev_runtime

TOOLS = Path(__file__).resolve().parent.parent / "tools"


def _tool() -> ModuleType:
    sys.path.insert(0, str(TOOLS))  # the tool imports its sibling _debian_indices
    try:
        spec = importlib.util.spec_from_file_location("regen_debian_dev_runtime", TOOLS / "regen_debian_dev_runtime.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(TOOLS))


regen = _tool()

# Stanzas shaped like Debian's (fields as they appear there), trimmed to what the selection reads.
PACKAGES = """\
Package: libpq-dev
Source: postgresql-15
Section: libdevel
Depends: libpq5 (= 15.8-0+deb12u1), libssl-dev, zlib1g-dev

Package: libpq5
Source: postgresql-15
Section: libs
Depends: libc6 (>= 2.34), libssl3 (>= 3.0.0)

Package: libssl-dev
Source: openssl
Section: libdevel
Depends: libssl3 (= 3.0.14-1~deb12u2)

Package: libssl3
Source: openssl
Section: libs

Package: zlib1g-dev
Source: zlib
Section: libdevel
Depends: zlib1g (= 1:1.2.13.dfsg-1), libc6-dev | libc-dev
Provides: libz-dev

Package: zlib1g
Source: zlib
Section: libs

Package: libwebp-dev
Source: libwebp
Section: libdevel
Depends: libwebp7 (= 1.2.4-0.2), libwebpmux3 (= 1.2.4-0.2), libwebpdemux2 (= 1.2.4-0.2), webp-doc

Package: libwebp7
Source: libwebp
Section: libs

Package: libegl-dev
Source: libglvnd
Section: libdevel
Depends: libegl1, libgl-dev

Package: libegl1
Source: libglvnd
Section: libs

Package: libgl-dev
Source: libglvnd
Section: libs
Depends: libgl1

Package: libgl1
Source: libglvnd
Section: libs

Package: libwebpmux3
Source: libwebp
Section: libs

Package: libwebpdemux2
Source: libwebp
Section: libs

Package: webp-doc
Source: libwebp
Section: doc

Package: libjpeg-dev
Source: libjpeg-turbo
Section: libdevel
Depends: libjpeg62-turbo-dev

Package: libjpeg62-turbo-dev
Source: libjpeg-turbo
Section: libdevel
Depends: libc-dev, libjpeg62-turbo (= 1:2.1.5-2)

Package: libjpeg62-turbo
Source: libjpeg-turbo (1:2.1.5-2)
Section: libs

Package: default-libmysqlclient-dev
Source: mysql-defaults
Section: database
Depends: libmariadb-dev-compat

Package: libmariadb-dev-compat
Source: mariadb
Section: libdevel
Depends: libmariadb-dev (= 1:10.11.6-0+deb12u1)

Package: libmariadb-dev
Source: mariadb
Section: libdevel
Depends: libmariadb3 (= 1:10.11.6-0+deb12u1), libssl-dev, zlib1g-dev

Package: libmariadb3
Source: mariadb
Section: libs

Package: libncurses-dev
Source: ncurses
Section: libdevel
Depends: libtinfo6 (= 6.4-4), libncurses6 (= 6.4-4), ncurses-bin
Provides: libncurses5-dev

Package: libncurses6
Source: ncurses
Section: libs

Package: libtinfo6
Source: ncurses
Section: libs

Package: ncurses-bin
Source: ncurses
Section: utils

Package: libtinfo-dev
Source: ncurses
Section: oldlibs
Depends: libtinfo6, libncurses-dev

Package: libxslt1-dev
Source: libxslt
Section: libdevel
Depends: libxslt1.1 (= 1.1.35-1), libxml2-dev
Provides: libxslt-dev

Package: libxslt1.1
Source: libxslt
Section: libs

Package: libxml2-dev
Source: libxml2
Section: libdevel
Depends: libxml2 (= 2.9.14+dfsg-1.3~deb12u1)

Package: libxml2
Source: libxml2
Section: libs

Package: libalt-dev
Source: alt
Section: libdevel
Depends: libalt-gnutls1 | libalt-openssl1

Package: libalt-gnutls1
Source: alt
Section: libs

Package: libalt-openssl1
Source: alt
Section: libs

Package: libother-dev
Source: other
Section: libdevel
Depends: libpq5, other-tools

Package: other-tools
Source: other
Section: utils

Package: libheaders-dev
Source: headers
Section: libdevel
Depends: libstdc++-12-dev

Package: build-essential
Section: devel
Depends: libc6-dev | libc-dev, g++

Package: g++
Source: gcc-defaults
Section: devel
Depends: libstdc++-12-dev

Package: libstdc++-12-dev
Source: gcc-12
Section: libdevel
Depends: libstdc++6, libc6-dev

Package: libstdc++6
Source: gcc-12
Section: libs

Package: libc6-dev
Source: glibc
Section: libdevel
Depends: libc6
Provides: libc-dev

Package: libc6
Source: glibc
Section: libs

Package: libmixed-dev
Source: mixed
Section: libdevel
Depends: libmixed-headers-dev, libmixed-more-dev

Package: libmixed-headers-dev
Source: mixed
Section: libdevel

Package: libmixed-more-dev
Source: mixed
Section: libdevel
Depends: libmixed1

Package: libmixed1
Source: mixed
Section: libs

Package: liba-dev
Source: cycle
Section: libdevel
Depends: libb-dev

Package: libb-dev
Source: cycle
Section: libdevel
Depends: liba-dev

Package: libvirtual-dev
Source: virtual
Section: libdevel
Depends: libvirtual-runtime

Package: one-provider
Source: virtual
Section: libs
Provides: libvirtual-runtime
"""


@pytest.fixture(scope="module")
def answers() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = regen.runtime_libraries(regen.parse_packages(PACKAGES))
    return found


@pytest.mark.parametrize(("dev", "libraries"), [
    ("libpq-dev", ("libpq5",)),  # its own library; libssl-dev and zlib1g-dev are other sources
    ("libwebp-dev", ("libwebp7", "libwebpdemux2", "libwebpmux3")),  # every library of its source; not the doc
    ("libjpeg-dev", ("libjpeg62-turbo",)),  # no library of its own: its -dev Depends
    ("default-libmysqlclient-dev", ("libmariadb3",)),  # two -dev hops, across sources
    ("libmariadb-dev-compat", ("libmariadb3",)),  # Section libdevel, not named *-dev
    ("libncurses-dev", ("libncurses6", "libtinfo6")),  # ncurses-bin is a program package
    ("libtinfo-dev", ("libncurses6", "libtinfo6")),  # its own library and its same-source -dev's
    ("libncurses5-dev", ("libncurses6", "libtinfo6")),  # a virtual -dev name, one provider
    ("libxslt-dev", ("libxslt1.1",)),
    ("libxslt1-dev", ("libxslt1.1",)),  # libxml2-dev is another source: its library comes as libxslt1.1's Depends
    ("libalt-dev", ("libalt-gnutls1",)),  # apt's choice: the first alternative
    ("libvirtual-dev", ("one-provider",)),  # a virtual Depends with a single provider, Section libs
    ("libc6-dev", ("libc6",)),
    ("libegl-dev", ("libegl1", "libgl1")),  # libgl-dev, filed under libs, is a -dev: its library counts
])
def test_selection(answers: dict[str, tuple[str, ...]], dev: str, libraries: tuple[str, ...]) -> None:
    assert answers[dev] == libraries


@pytest.mark.parametrize(("dev", "why"), [
    ("libother-dev", "the library it depends on is another source's, and it has no -dev Depends"),
    ("libheaders-dev", "headers only: the compiler's own -dev packages (build-essential's) are not followed"),
    ("libmixed-dev", "one of the -dev packages it stands for has no answer"),
    ("liba-dev", "a cycle of -dev packages without a library"),
    ("libb-dev", "a cycle of -dev packages without a library"),
    ("libpq5", "not a development package"),
])
def test_no_answer(answers: dict[str, tuple[str, ...]], dev: str, why: str) -> None:
    assert dev not in answers, why


def test_virtual_names_follow_their_only_provider(answers: dict[str, tuple[str, ...]]) -> None:
    assert answers["libz-dev"] == answers["zlib1g-dev"] == ("zlib1g",)


def test_suites_share_one_entry_and_keep_their_own() -> None:
    stored = regen.by_suite({"bookworm": {"libpq-dev": ("libpq5",), "libssl-dev": ("libssl3",), "old-dev": ("old1",)},
                             "trixie": {"libpq-dev": ("libpq5",), "libssl-dev": ("libssl3t64",)}})
    assert stored == {regen.EVERY: {"libpq-dev": "libpq5"},
                      "bookworm": {"libssl-dev": "libssl3", "old-dev": "old1"},
                      "trixie": {"libssl-dev": "libssl3t64"}}


# ---- the shipped table --------------------------------------------------------------------

# The answers the goldens and the lab fixtures rely on (golden/multistage/*: pip-build-deps-*,
# dev-table-*, debian-apt-python*, between-apt-runtime-packages, ...).
SHIPPED = [
    ("libpq-dev", "bookworm", "libpq5"),
    ("libpq-dev", "trixie", "libpq5"),
    ("libjpeg-dev", "bookworm", "libjpeg62-turbo"),
    ("libssl-dev", "bookworm", "libssl3"),
    ("libssl-dev", "trixie", "libssl3t64"),
    ("libxml2-dev", "trixie", "libxml2"),
    ("libffi-dev", "bookworm", "libffi8"),
    ("zlib1g-dev", "bookworm", "zlib1g"),
    ("uuid-dev", "bookworm", "libuuid1"),
    ("libwebp-dev", "bookworm", "libwebp7 libwebpdemux2 libwebpmux3"),
    ("default-libmysqlclient-dev", "bookworm", "libmariadb3"),
    ("default-libmysqlclient-dev", "trixie", "libmariadb3"),
]


@pytest.mark.parametrize(("dev", "suite", "libraries"), SHIPPED, ids=[f"{d}-{s}" for d, s, _ in SHIPPED])
def test_shipped_answers(dev: str, suite: str, libraries: str) -> None:
    assert debian_dev_runtime.libraries(dev, suite) == tuple(libraries.split())


@pytest.mark.parametrize(("dev", "suite"), [
    ("libeigen3-dev", "bookworm"),  # headers only (golden dev-table-no-answer keeps it)
    ("libuuid-dev", "bookworm"),  # not a Debian package
    ("libpcre3-dev", "trixie"),  # gone from trixie
    ("libpq-dev", "bullseye"),  # not a suite of the table
    ("libpq-dev", "every suite"),  # the storage key is not a suite
])
def test_shipped_no_answer(dev: str, suite: str) -> None:
    assert debian_dev_runtime.libraries(dev, suite) is None


def test_shipped_table_is_small_and_dated() -> None:
    assert debian_dev_runtime.suites() == ("bookworm", "trixie")
    assert debian_dev_runtime.generated()
    data = debian_dev_runtime._data()
    assert set(data["libraries"]) == {"every suite", "bookworm", "trixie"}
    for suite, found in data["libraries"].items():
        for dev, libraries in found.items():
            assert libraries and not any(lib.endswith("-dev") for lib in libraries.split()), (suite, dev)
