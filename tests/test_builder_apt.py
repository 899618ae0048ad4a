"""The full python images' package table (src/dockfix/data/full_image_packages.json) and the
split's use of it: an apt RUN of the builder whose every package the full base already has is
left out (issue 13, item 2); anything dockfix does not know keeps the install.

The facts asserted about the table are known independently of its generator: buildpack-deps'
Dockerfiles name gcc, libpq-dev, libssl-dev...; python3-dev (Debian's own Python) is not in the
official images, whose Python lives under /usr/local.
"""

from __future__ import annotations

import re

import pytest

from dockfix.context import Context
from dockfix.data import full_image_packages as table
from dockfix.engine import run_pipeline
from dockfix.transforms import multistage

SUITES = ("bookworm", "trixie")
REQUIREMENTS = {"requirements.txt": "flask==3.0.3\n"}


def test_the_table_names_its_sources_and_date():
    data = table._data()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["generated"])
    for repo in ("docker-library/python", "docker-library/buildpack-deps"):
        assert re.fullmatch(r"[0-9a-f]{40}", data["dockerfiles"][repo]["commit"])
    assert data["suites"]["bookworm"]["version"].startswith("12.")
    assert data["suites"]["trixie"]["version"].startswith("13.")
    assert set(SUITES) <= set(table.suites())
    assert table.generated().startswith(data["generated"])


@pytest.mark.parametrize("suite", SUITES)
def test_buildpack_deps_packages_are_installed_and_debians_python_is_not(suite):
    for package in ("gcc", "g++", "make", "libc6-dev", "libpq-dev", "libpq5", "libssl-dev", "libffi-dev",
                    "libjpeg-dev", "curl", "git", "procps", "tk-dev", "uuid-dev", "libbluetooth-dev"):
        assert table.has(suite, package), package
    for package in ("python3-dev", "libpython3-dev", "libgeos-dev", "default-jdk", "nodejs", "rustc"):
        assert not table.has(suite, package), package


@pytest.mark.parametrize("suite", SUITES)
def test_a_metapackage_counts_when_its_dependencies_are_all_installed(suite):
    assert "build-essential" not in table._installed(suite)  # buildpack-deps installs its parts, not it
    assert table.has(suite, "build-essential")


def test_a_virtual_name_counts_through_its_single_installed_provider():
    assert table.has("bookworm", "libxslt-dev")  # provided by libxslt1-dev, which buildpack-deps installs


@pytest.mark.parametrize("word", ["libpq-dev=15.*", "libpq-dev/bookworm-backports", "gcc:amd64", "lib*-dev",
                                  "$PACKAGES", "./local.deb", ""])
def test_a_word_that_is_not_a_plain_package_name_is_not_known(word):
    assert not table.plain(word)
    assert not table.has("bookworm", word)


@pytest.mark.parametrize(("python", "covered"), [
    (None, True), ("3", True), ("3.11", True), ("3.11.9", True), ("3.14", True), ("3.9", False), ("3.7", False),
])
def test_the_python_versions_the_table_covers(python, covered):
    assert table.covers("bookworm", python) is covered


def _builder(text: str) -> tuple[str, list[str]]:
    outcome = run_pipeline(text, Context(files=dict(REQUIREMENTS)), (multistage.TRANSFORM,), unsafe=True)
    builder = outcome.output.split("\n\n")[0] if "AS builder" in outcome.output else ""
    return builder, [n.message for n in outcome.notes]


def _file(base: str, apt: str) -> str:
    return f"FROM {base}\n{apt}\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"


DROPPED = "RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev && rm -rf /var/lib/apt/lists/*"


@pytest.mark.parametrize("base", ["python:3.11", "python:3.12-bookworm", "python:3.13-trixie", "python:3",
                                  "docker.io/library/python:3.12"])
def test_the_builder_leaves_out_an_install_its_full_base_already_has(base):
    builder, notes = _builder(_file(base, DROPPED))
    assert builder.startswith(f"FROM {base} AS builder") and "apt-get" not in builder
    assert any("the builder leaves out `apt-get install gcc libpq-dev`" in n for n in notes), notes


@pytest.mark.parametrize(("apt", "why"), [
    ("RUN apt-get update && apt-get install -y libpq-dev=15.*", "`libpq-dev=15.*` is not a plain package name"),
    ("RUN apt-get update && apt-get install -y $BUILD_PACKAGES", "is not a plain package name"),
    ("RUN apt-get update && apt-get install -y -t bookworm-backports libpq-dev", "option -t may change"),
    ("RUN apt-get update && apt-get install -y gcc libgeos-dev", "libgeos-dev is not among python:3.12's packages"),
    ("RUN apt-get update && apt-get install -y python3-dev", "python3-dev is not among"),
])
def test_what_dockfix_does_not_know_keeps_the_install_with_a_note(apt, why):
    builder, notes = _builder(_file("python:3.12", apt))
    assert apt in builder
    assert any("the builder keeps" in n and why in n for n in notes), notes


@pytest.mark.parametrize("base", ["python:3.12-slim", "python:3.9", "python:3.12-bullseye",
                                  "ghcr.io/astral-sh/uv:python3.12-bookworm", "python:3.7"])
def test_a_base_the_table_does_not_describe_keeps_the_install_silently(base):
    builder, notes = _builder(_file(base, DROPPED))
    assert not any("the builder leaves out" in n or "the builder keeps" in n for n in notes), notes
    if builder:
        assert DROPPED in builder


def test_an_apt_run_that_also_purges_stays():
    apt = "RUN apt-get update && apt-get install -y gcc libpq-dev && apt-get purge -y gcc"
    builder, notes = _builder(_file("python:3.12", apt))
    assert apt in builder
    assert any("the builder keeps" in n and "it runs `apt-get purge`" in n for n in notes), notes
