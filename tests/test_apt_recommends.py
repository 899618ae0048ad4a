"""--no-install-recommends knows what the Recommends brought, or leaves the install alone.

The facts come from src/dockfix/data/debian_recommends.json (generated from Debian's
Packages indices by tools/regen_debian_recommends.py); the rule is in the apt transform.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from dockfix.context import Context
from dockfix.data import debian_recommends as recommends
from dockfix.engine import run_pipeline
from dockfix.transforms import apt

# ---- the table -------------------------------------------------------------------------------


def test_the_table_says_when_and_from_what_it_was_generated():
    table = recommends.table()
    assert dt.date.fromisoformat(table.generated)
    assert {"bookworm", "trixie"} <= set(table.suites)
    assert table.consequential["ca-certificates"] == "tls"
    assert {"build-essential", "gcc", "g++", "libc6-dev", "make", "python3-dev"} <= set(table.consequential)
    assert all(re.match(r"\w[\w.-]*/[\w.-]+@[0-9a-f]{40}:", source) for source in table.sources.values())


@pytest.mark.parametrize("suite", ["bookworm", "trixie"])
def test_the_table_holds_the_facts_the_rule_relies_on(suite):
    # ca-certificates comes only as a Recommends: of curl through libcurl4, of wget and git directly
    for package in ("curl", "libcurl4", "wget", "git", "python3"):
        assert recommends.TLS in recommends.lost(suite, package), package
    # python3-pip recommends build-essential and python3-dev (and hard-depends on ca-certificates)
    assert {"build-essential", "python3-dev", "gcc", "libc6-dev", "make"} <= recommends.lost(suite, "python3-pip")
    assert recommends.TLS not in recommends.lost(suite, "python3-pip")
    assert recommends.lost(suite, "gcc") == {"libc6-dev"}
    # what the hard dependencies bring is not lost; a package absent from the table loses nothing
    assert recommends.lost(suite, "g++") == frozenset() and recommends.kept(suite, {"g++"}) >= {"gcc", "libc6-dev"}
    assert recommends.kept(suite, {"build-essential"}) >= {"gcc", "g++", "libc6-dev", "make"}
    assert recommends.lost(suite, "ca-certificates") == frozenset()


def test_a_virtual_package_with_one_provider_is_listed_under_its_name():
    # trixie's libcurl4 is provided by libcurl4t64 (the 64-bit time_t transition)
    assert recommends.lost("trixie", "libcurl4") == recommends.lost("trixie", "libcurl4t64") == {"ca-certificates"}


@pytest.mark.parametrize("suite", ["bookworm", "trixie"])
def test_what_the_official_images_ship(suite):
    ships = {kind: recommends.table().ships[kind][suite] for kind in recommends.table().ships}
    assert ships["debian"] == frozenset()
    assert ships["python-slim"] == {"ca-certificates"}
    assert {"ca-certificates", "gcc", "g++", "libc6-dev", "make"} <= ships["python"]
    assert "python3-dev" not in ships["python"] and "build-essential" not in ships["python"]


@pytest.mark.parametrize("ref, kind, suites", [
    ("debian:bookworm-slim", "debian", ("bookworm",)),
    ("debian:12.6-slim@sha256:" + "a" * 64, "debian", ("bookworm",)),
    ("docker.io/library/debian:trixie", "debian", ("trixie",)),
    ("debian", "debian", ("bookworm", "trixie")),
    ("debian:stable-slim", "debian", ("bookworm", "trixie")),
    ("python:3.12-slim", "python-slim", ("bookworm", "trixie")),
    ("python:3.12-slim-bookworm", "python-slim", ("bookworm",)),
    ("python:3.14.7-slim-trixie", "python-slim", ("trixie",)),
    ("python:3.12", "python", ("bookworm", "trixie")),
    ("python:3.13-bookworm", "python", ("bookworm",)),
    ("python:slim", "python-slim", ("bookworm", "trixie")),
    ("buildpack-deps:bookworm-curl", "buildpack-deps-curl", ("bookworm",)),
    ("python:3.11.4-slim-buster", None, ()),
    ("python:3.6", None, ()),
    ("python:3.12-alpine", None, ()),
    ("python@sha256:" + "b" * 64, None, ()),
    ("debian:bullseye-slim", None, ()),
    ("ubuntu:24.04", None, ()),
    ("registry.example.com/team/python-base:1", None, ()),
])
def test_base_images(ref, kind, suites):
    base = recommends.base_image(ref)
    assert (base.kind, base.suites) == (kind, suites)
    assert bool(base.reason) == (kind is None)


# ---- the rule ----------------------------------------------------------------------------------

def fix(text: str) -> tuple[str, list[str]]:
    outcome = run_pipeline(text, Context(files={}), (apt.TRANSFORM,), unsafe=True)
    return outcome.output, [n.message for n in outcome.notes]


def install_line(output: str) -> str:
    return next(line for line in output.splitlines() if "install" in line)


def test_ca_certificates_is_added_next_to_the_package_that_needed_it():
    out, notes = fix("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl python3\n")
    assert install_line(out) == ("RUN apt-get update && apt-get install --no-install-recommends -y curl "
                                 "ca-certificates python3 && rm -rf /var/lib/apt/lists/*")
    assert notes == []


def test_a_base_that_ships_ca_certificates_gets_no_addition():
    out, _ = fix("FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\n")
    assert "--no-install-recommends -y curl &&" in out and "ca-certificates" not in out


def test_toolchain_recommends_leave_the_install_alone_with_a_note():
    out, notes = fix("FROM ubuntu:24.04\nRUN apt-get install -y python3-pip\nRUN pip install numpy\n")
    assert "--no-install-recommends" not in out
    assert any("python3-pip brings" in n and "build-essential" in n and "python3-dev" in n for n in notes), notes

    out, notes = fix("FROM debian:bookworm-slim\nRUN apt-get install -y gcc python3\n")
    assert "--no-install-recommends" not in out
    assert any("gcc brings libc6-dev" in n and "debian:bookworm-slim does not ship" in n for n in notes), notes
    assert any("python3 brings ca-certificates" in n for n in notes), notes  # everything it would drop


@pytest.mark.parametrize("packages", ["gcc libc6-dev", "gcc g++", "build-essential python3-pip python3-dev",
                                      "python3-pip build-essential python3-dev"])
def test_what_the_install_names_or_hard_depends_on_is_not_lost(packages):
    out, notes = fix(f"FROM debian:bookworm-slim\nRUN apt-get install -y {packages}\nRUN pip install x\n")
    assert f"apt-get install --no-install-recommends -y {packages}\n" in out, notes


def test_a_metapackage_whose_parts_the_base_ships_is_not_lost():
    # python:3.12 (buildpack-deps) has gcc, g++, make, libc6-dev: build-essential adds nothing; python3-dev does
    out, notes = fix("FROM python:3.12\nRUN apt-get install -y python3-pip\n")
    assert "--no-install-recommends" not in out
    note = next(n for n in notes if "python3-pip brings" in n)
    assert "python3-dev" in note and "build-essential" not in note and "gcc" not in note


def test_an_unknown_base_and_a_package_in_the_table_is_left_alone():
    out, notes = fix("FROM registry.example.com/base:1\nRUN apt-get install -y curl\nRUN pip install x\n")
    assert "--no-install-recommends" not in out
    assert any("curl brings ca-certificates" in n and "registry.example.com/base:1 ships is not known" in n
               for n in notes), notes
    # a package the table does not list loses nothing, whatever the base
    out, _ = fix("FROM registry.example.com/base:1\nRUN apt-get install -y netbase\nRUN pip install x\n")
    assert "--no-install-recommends -y netbase" in out


@pytest.mark.parametrize("install", ["apt-get install -y $PKGS", "apt-get install -y ${EXTRA}",
                                     "apt-get install -y ./vendor.deb", "apt-get install -y 'python3-*'",
                                     "apt-get install -y -t bookworm-backports curl",
                                     "apt-get install -y curl/bookworm-backports",
                                     "apt-get install -y librust-serde-1-dev"])
def test_packages_not_known_statically_leave_the_install_alone(install):
    out, notes = fix(f"FROM python:3.12-slim\nARG PKGS=curl\nRUN {install}\nRUN pip install x\n")
    assert "--no-install-recommends" not in out
    assert any("not known statically" in n for n in notes), notes


def test_a_stage_built_from_another_stage_is_followed_to_its_root():
    text = ("FROM debian:bookworm-slim AS base\nRUN apt-get install -y python3\n"
            "FROM base AS app\nRUN apt-get install -y curl\nRUN curl -O https://example.com/x\n")
    out, _ = fix(text)
    assert "apt-get install --no-install-recommends -y curl ca-certificates\n" in out
    # what an earlier stage (or RUN) installed by name counts as present
    text = ("FROM debian:bookworm-slim AS base\nRUN apt-get install -y ca-certificates python3\n"
            "FROM base\nRUN apt-get install -y curl\n")
    out, _ = fix(text)
    assert "apt-get install --no-install-recommends -y curl\n" in out
    # a root the table does not describe stays unknown through the chain
    out, notes = fix("FROM ubuntu:24.04 AS base\nRUN pip install x\nFROM base\nRUN apt-get install -y curl\n")
    assert "--no-install-recommends" not in out and any("Ubuntu" in n for n in notes)


def test_the_base_is_read_through_arg_defaults():
    out, _ = fix("ARG PY=3.12\nFROM python:${PY}-slim\nRUN apt-get install -y curl\n")
    assert "--no-install-recommends -y curl\n" in out
    out, notes = fix("ARG BASE\nFROM ${BASE}\nRUN apt-get install -y curl\nRUN pip install x\n")
    assert "--no-install-recommends" not in out and any("build ARG" in n for n in notes), notes


@pytest.mark.parametrize("adds_source", [
    "echo 'deb http://example.com/apt stable main' > /etc/apt/sources.list.d/x.list",
    "add-apt-repository ppa:deadsnakes/ppa",
    "curl -fsSL https://deb.nodesource.com/setup_20.x | bash -",
])
def test_after_a_third_party_apt_source_the_install_is_left_alone(adds_source):
    out, notes = fix(f"FROM python:3.12\nRUN {adds_source}\nRUN apt-get update && apt-get install -y nodejs\n")
    assert "--no-install-recommends" not in out
    assert any("adds an apt source" in n for n in notes), notes


def test_trixie_names_from_bookworm_are_known_through_their_provider():
    out, _ = fix("FROM debian:trixie-slim\nRUN apt-get install -y libcurl4\nRUN python3 -V\n")
    assert "install --no-install-recommends -y libcurl4 ca-certificates\n" in out


def test_one_package_per_line_gets_a_line_of_its_own():
    text = ("FROM debian:bookworm-slim\nRUN apt-get update \\\n    && apt-get install -y \\\n"
            "        curl \\\n        python3-venv \\\n    && rm -rf /var/lib/apt/lists/*\n")
    out, _ = fix(text)
    assert "        curl \\\n        ca-certificates \\\n        python3-venv \\\n" in out


def test_heredoc_install():
    text = "FROM debian:bookworm-slim\nRUN <<EOF\napt-get update\napt-get install -y wget python3\nEOF\n"
    out, _ = fix(text)
    # (No `set -e` in the body: the lists cleanup is joined to the install with `&&`, see transforms/apt.md.)
    assert "apt-get install --no-install-recommends -y wget ca-certificates python3 && rm -rf" in out


def test_words_that_are_not_packages_are_skipped():
    out, notes = fix("FROM python:3.12-slim\nRUN apt-get -o Dpkg::Use-Pty=0 install -y -q curl `# for TLS` > /dev/null 2>&1\n")
    assert "install --no-install-recommends -y -q curl" in out, notes


def test_explicit_install_recommends_is_respected():
    out, _ = fix("FROM python:3.12-slim\nRUN apt-get install -y --install-recommends curl\n")
    assert "--no-install-recommends" not in out


# ---- apk: a cache mount on apk's cache ----------------------------------------------------------

@pytest.mark.parametrize("target", ["/var/cache/apk", "/etc/apk/cache", "/var/cache/apk/"])
def test_apk_keeps_its_cache_on_a_cache_mount(target):
    out, _ = fix(f"FROM python:3.12-alpine\nRUN --mount=type=cache,target={target} apk add gcc\n")
    assert "--no-cache" not in out


def test_apk_without_a_cache_mount_gets_no_cache():
    out, _ = fix("FROM python:3.12-alpine\nRUN --mount=type=cache,target=/root/.cache/pip apk add gcc\n")
    assert "apk add --no-cache gcc" in out


def test_gpg_and_ssh_packages_are_in_the_table_and_matter_only_when_used():
    """Corpus review (pytorch/serve): add-apt-repository needs gnupg, gpg-agent and dirmngr, which
    software-properties-common brings only as Recommends; build-essential's dpkg-dev recommends
    gnupg too, which no Python build needs."""
    from dockfix.context import Context
    from dockfix.data import debian_recommends as recommends
    from dockfix.engine import run_pipeline
    from dockfix.transforms import apt

    assert {"gnupg", "gpg-agent", "dirmngr"} <= recommends.lost("bookworm", "software-properties-common")
    ppa = ("FROM python:3.12-slim\nRUN apt-get update && apt-get install -y software-properties-common "
           "&& add-apt-repository -y ppa:x/y\n")
    assert "--no-install-recommends" not in run_pipeline(ppa, Context(files={}), [apt.TRANSFORM], unsafe=True).output
    plain = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y software-properties-common\n"
    assert "--no-install-recommends" in run_pipeline(plain, Context(files={}), [apt.TRANSFORM], unsafe=True).output
