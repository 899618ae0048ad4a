"""split/apt_python: the split of a Debian base that installs Python from apt (whole rewrites:
golden/multistage/debian-apt-python*/)."""

from __future__ import annotations

import pytest

from dockfix.data import debian_python
from dockfix.split import apt_python
from dockfix.split.apt_python import Base, Install, recommends_on, runtime_install
from dockfix.split.programs import Use

BOOKWORM = Base("debian:bookworm-slim", ("bookworm",))
TRIXIE = Base("debian:trixie-slim", ("trixie",))
BOTH = Base("debian:stable-slim", ("bookworm", "trixie"))


@pytest.mark.parametrize("ref, suites", [("debian:bookworm-slim", ("bookworm",)), ("debian:12", ("bookworm",)),
                                         ("docker.io/library/debian:trixie", ("trixie",)),
                                         ("debian:stable-slim", ("bookworm", "trixie"))])
def test_debian_bases_with_tables(ref, suites):
    found = apt_python.base(ref)
    assert isinstance(found, Base) and found.suites == suites
    assert found.runtime().image == ref and not found.runtime().changed


@pytest.mark.parametrize("ref, says", [("ubuntu:24.04", "Ubuntu"), ("debian:bullseye-slim", "bullseye"),
                                       ("debian@sha256:" + "0" * 64, "digest")])
def test_debian_or_ubuntu_without_tables_is_a_reason(ref, says):
    found = apt_python.base(ref)
    assert isinstance(found, str) and says in found


@pytest.mark.parametrize("ref", ["python:3.12", "alpine:3.20", "buildpack-deps:bookworm", "myorg/debian-python:1"])
def test_other_images_are_not_this_shape(ref):
    assert apt_python.base(ref) is None


def test_the_python_of_each_suite():
    assert BOOKWORM.python == debian_python.python("bookworm") == "3.11"
    assert TRIXIE.python == "3.13"
    assert BOTH.python is None  # stable moved from one to the other


@pytest.mark.parametrize("argv, on", [(["apt-get", "install", "-y", "x"], True),
                                      (["apt-get", "install", "--no-install-recommends", "x"], False),
                                      (["apt-get", "-o", "APT::Install-Recommends=false", "install", "x"], False),
                                      (["apt-get", "-o", "APT::Install-Recommends=$R", "install", "x"], None)])
def test_recommends_on(argv, on):
    assert recommends_on(argv) is on


def test_build_only_and_venv_only_packages_are_left_out():
    found = runtime_install([Install(["python3", "python3-venv", "python3-pip", "gcc", "python3-dev"], True)], BOOKWORM)
    assert not isinstance(found, str)
    assert found.changes == {"python3-venv": "", "python3-pip": "", "gcc": "", "python3-dev": ""}
    assert found.packages == {"python3"} and found.added == []  # python3 Recommends ca-certificates: still there


def test_ca_certificates_named_when_only_python3_pip_brought_it():
    """python3-pip Depends on ca-certificates; python3 only Recommends it, and the install says
    --no-install-recommends: the runtime names it where python3-pip was."""
    found = runtime_install([Install(["python3", "python3-venv", "python3-pip", "libpq-dev"], False)], BOOKWORM)
    assert not isinstance(found, str)
    assert found.added == ["ca-certificates"]
    assert found.changes == {"python3-venv": "", "python3-pip": "ca-certificates", "libpq-dev": "libpq5"}


def test_python3_named_when_only_a_package_left_out_brought_it():
    found = runtime_install([Install(["python3-venv", "build-essential"], True)], BOOKWORM)
    assert not isinstance(found, str)
    assert found.changes == {"python3-venv": "python3", "build-essential": ""}


def test_nothing_named_when_nothing_left_out_brought_it():
    found = runtime_install([Install(["python3-full", "gcc"], True)], BOOKWORM)
    assert not isinstance(found, str) and found.changes == {"gcc": ""} and found.added == []


def test_a_library_a_source_build_links_must_stay():
    found = runtime_install([Install(["python3", "python3-venv", "gcc"], True)], BOOKWORM)
    assert not isinstance(found, str)
    assert "libpq5" in (apt_python.libraries_reason({"psycopg2"}, found, {"python3", "python3-venv", "gcc"}) or "")
    with_headers = runtime_install([Install(["python3", "gcc", "libpq-dev"], True)], BOOKWORM)
    assert not isinstance(with_headers, str)
    assert apt_python.libraries_reason({"psycopg2"}, with_headers, {"python3", "gcc", "libpq-dev"}) is None


def test_libraries_by_release():
    found = runtime_install([Install(["python3", "python3-venv", "libssl-dev"], False)], TRIXIE)
    assert not isinstance(found, str) and found.changes["libssl-dev"] == "libssl3t64"
    moving = runtime_install([Install(["python3", "python3-venv", "libssl-dev"], False)], BOTH)
    assert not isinstance(moving, str) and "libssl-dev" not in moving.changes  # the name differs: kept


def test_versions_and_variables_are_kept():
    found = runtime_install([Install(["python3", "gcc=4:12.2.0-3", "$EXTRA"], True)], BOOKWORM)
    assert not isinstance(found, str) and found.changes == {}


def test_a_program_of_a_package_left_out_is_a_reason():
    found = runtime_install([Install(["python3", "python3-venv", "gcc", "libpq-dev"], True)], BOOKWORM)
    assert not isinstance(found, str)
    assert "gcc" in (apt_python.program_reason([Use(9, "gcc", path="gcc")], found, BOOKWORM, "/venv") or "")
    assert "libpq-dev" in (apt_python.program_reason([Use(9, "pg_config")], found, BOOKWORM, "/venv") or "")
    ok = [Use(9, "python", path="/venv/bin/python"), Use(9, "python3"), Use(9, "sh"), Use(9, "gunicorn")]
    assert apt_python.program_reason(ok, found, BOOKWORM, "/venv") is None


def test_pip_module_outside_the_venv_is_a_reason():
    assert apt_python.module_reason([(7, "python3 -m pip list")], "/venv")
    assert apt_python.module_reason([(7, "/venv/bin/python -m pip list")], "/venv") is None
