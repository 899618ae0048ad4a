"""The generated table of the python images' programs (src/dockfix/data/slim_programs.json).

The facts asserted here are known independently of the generator: the slim
images are debian:SUITE-slim plus ca-certificates, netbase and tzdata (no curl,
no compiler), the full images are buildpack-deps (curl, wget, git, gcc, make...).
"""

from __future__ import annotations

import re

import pytest

from dockfix.data import slim_programs as sp

SUITES = ("bookworm", "trixie")


def test_the_table_covers_both_suites_and_names_its_sources():
    assert set(SUITES) <= set(sp.suites())
    data = sp._data()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["generated"])
    for repo in ("docker-library/python", "docker-library/buildpack-deps"):
        assert re.fullmatch(r"[0-9a-f]{40}", data["sources"][repo]["commit"])
    assert sp.sources()["debian"]["bookworm"].startswith("12.")
    assert sp.sources()["debian"]["trixie"].startswith("13.")
    assert data["path"] == ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]


@pytest.mark.parametrize("suite", SUITES)
def test_slim_has_the_base_system_and_the_interpreter(suite):
    for program in ("sh", "bash", "dash", "ls", "cp", "sed", "grep", "awk", "tar", "gzip", "find", "xargs",
                    "apt-get", "dpkg", "openssl", "python", "python3", "pip", "pip3", "pydoc3", "python3-config"):
        assert sp.slim_has(program, suite) is True, program


@pytest.mark.parametrize("suite", SUITES)
def test_slim_lacks_the_buildpack_deps_tools_and_full_has_them(suite):
    for program in ("curl", "wget", "git", "gcc", "cc", "g++", "make", "ssh", "hg", "svn", "patch", "unzip",
                    "file", "ps", "convert", "pkg-config"):
        assert sp.slim_has(program, suite) is False, program
        assert sp.full_has(program, suite) is True, program


@pytest.mark.parametrize("suite", SUITES)
def test_the_package_that_gives_the_slim_runtime_a_program(suite):
    expected = {"curl": "curl", "wget": "wget", "git": "git", "make": "make", "gcc": "gcc", "cc": "gcc",
                "ssh": "openssh-client", "hg": "mercurial", "svn": "subversion", "ps": "procps", "file": "file",
                "unzip": "unzip", "patch": "patch"}
    for program, package in expected.items():
        assert sp.full_only_package(program, suite) == package, program
    assert sp.full_only_package("bash", suite) is None  # slim has it
    assert sp.full_only_package("python3", suite) is None  # /usr/local/bin/python3 in both
    assert sp.full_only_package("no-such-program", suite) is None


@pytest.mark.parametrize("suite", SUITES)
def test_neither_image_has_what_buildpack_deps_does_not_install(suite):
    for program in ("bzr", "netstat", "sqlite3", "vim", "nano", "jq"):
        assert sp.slim_has(program, suite) is False, program
        assert sp.full_has(program, suite) is False, program


def test_versioned_interpreter_programs_need_the_python_version():
    assert sp.slim_has("python3.12", "bookworm", "3.12") is True
    assert sp.slim_has("python3.12", "bookworm", "3.13.1") is False
    assert sp.slim_has("python3.12", "bookworm") is None
    assert sp.slim_has("python3.99", "bookworm") is None
    # 2to3 until 3.12 (lib2to3 was removed in 3.13); wheel's script where the Dockerfile installs wheel
    assert sp.slim_has("2to3", "trixie", "3.12") is True
    assert sp.slim_has("2to3", "trixie", "3.13") is False
    assert sp.slim_has("2to3", "trixie") is None
    assert sp.slim_has("wheel", "bookworm", "3.11") is True
    assert sp.slim_has("wheel", "bookworm", "3.12") is False
    assert sp.full_only_package("2to3", "trixie") is None  # unknown without a version: no advice


def test_unknown_suites_are_not_guessed():
    for suite in ("bullseye", "alpine3.20", "sid"):
        assert sp.slim_has("sh", suite) is None
        assert sp.full_has("curl", suite) is None
        assert sp.full_only_package("curl", suite) is None
