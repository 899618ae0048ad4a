"""Which PyPI releases pip builds from source: the generator on recorded simple-index pages
(tools/regen_pypi_source_builds.py, no network), the table reader on small tables, and the
shipped table's answers."""

from __future__ import annotations

import importlib.util
import io
import json
import tarfile
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from dockfix.data import pypi_source_builds
from dockfix.split import debian_runtime

HERE = Path(__file__).resolve().parent
TOOL = HERE.parent / "tools" / "regen_pypi_source_builds.py"
PAGES = HERE / "pypi_simple"  # PEP 691 JSON pages as PyPI answered them, trimmed to a few releases


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("regen_pypi_source_builds", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


regen = _tool()


def page(name: str) -> dict:
    return json.loads((PAGES / f"{name}.json").read_text(encoding="utf-8"))


def tar_bytes(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


# --- the generator, on recorded pages -------------------------------------------------------------

def test_recorded_psutil_page_wheels_by_cpython_and_architecture():
    entry = regen.entry(page("psutil"))
    assert entry["compiled"] is True and entry["why"] == "it has wheels for platforms"
    assert entry["latest"] == "6.1.1"
    assert entry["releases"] == "5.9.8 6.1.1"
    # 5.9.8: a cp36-abi3 manylinux wheel for x86_64 only (aarch64 builds the sdist); 6.1.1: both
    assert entry["builds"] == {" ".join(regen.PYTHONS): "a."}


def test_recorded_uwsgi_page_sdists_only_in_any_spelling():
    downloads = []

    def fetch(url: str, size: int) -> bytes:
        downloads.append(url.rsplit("/", 1)[1])
        return tar_bytes({"uwsgi-2.0.31/uwsgiconfig.py": b"", "uwsgi-2.0.31/core/utils.c": b"int x;"})

    entry = regen.entry(page("uwsgi"), fetch)
    assert entry["releases"] == "2.0.19 2.0.23 2.0.31"  # uWSGI-2.0.19.tar.gz counts as uwsgi's
    assert entry["builds"] == {" ".join(regen.PYTHONS): "sss"}
    assert downloads == ["uwsgi-2.0.31.tar.gz"]  # the newest sdist, read once
    assert entry["compiled"] is True and "uwsgi-2.0.31.tar.gz holds sources that compile" in entry["why"]


def test_an_sdist_that_cannot_be_read_leaves_compiled_unknown():
    entry = regen.entry(page("uwsgi"), lambda url, size: b"not an archive")
    assert entry["compiled"] is None and "builds" in entry
    assert regen.entry(page("uwsgi"))["compiled"] is None  # nothing downloaded


def test_a_pure_python_sdist_keeps_no_releases():
    entry = regen.entry(page("uwsgi"), lambda url, size: tar_bytes({"uwsgi-2.0.31/setup.py": b"setup(name='x')",
                                                                   "uwsgi-2.0.31/uwsgi.py": b""}))
    assert entry["compiled"] is False and "holds no sources" in entry["why"]
    assert "builds" not in entry and "releases" not in entry


@pytest.mark.parametrize(("files", "compiled"), [
    ({"p-1/setup.py": b"from setuptools import Extension\nsetup(ext_modules=[Extension('p', ['p.c'])])"}, True),
    ({"p-1/setup.py": b"setup(cffi_modules=['build.py:ffi'])"}, True),
    ({"p-1/src/lib.rs": b"", "p-1/pyproject.toml": b""}, True),
    ({"p-1/p/_speedups.pyx": b""}, True),
    ({"p-1/setup.py": b"setup(name='p')", "p-1/p/__init__.py": b""}, False),
])
def test_sdist_compiled_reads_sources_and_setup_py(files, compiled):
    assert regen.sdist_compiled("p-1.tar.gz", tar_bytes(files)) is compiled
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    assert regen.sdist_compiled("p-1.zip", out.getvalue()) is compiled


def test_flags_follow_requires_python_and_wheel_tags():
    files = [
        {"filename": "p-1.0.tar.gz", "requires-python": ">=3.8"},
        {"filename": "p-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"},
        {"filename": "p-1.0-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"},
        {"filename": "p-1.0-cp311-cp311-musllinux_1_1_x86_64.whl"},  # Alpine's: not for Debian images
        {"filename": "p-2.0.tar.gz", "requires-python": ">=3.12"},
        {"filename": "p-2.0-py3-none-any.whl", "requires-python": ">=3.13"},
        {"filename": "p-3.0-cp312-abi3-manylinux_2_39_x86_64.whl", "yanked": True},  # newer glibc than bookworm's
        {"filename": "p-3.0-cp312-abi3-manylinux_2_28_aarch64.whl", "yanked": True},
        {"filename": "p-3.0.zip", "yanked": "broken"},
    ]
    entry = regen.entry({"name": "P", "files": files})
    assert entry["releases"] == "1.0 2.0 3.0" and entry["yanked"] == "3.0"
    assert entry["latest"] == "2.0"  # 3.0 is yanked
    by_python = {p: flags for key, flags in entry["builds"].items() for p in key.split()}
    assert by_python["3.8"] == "s-s"  # 2.0 has no file for 3.8; 3.0's sdist names no Requires-Python
    assert by_python["3.11"] == ".-s"  # musllinux does not count
    assert by_python["3.12"] == "ssx"  # 3.0: manylinux_2_39 is past bookworm's glibc: x86_64 builds it
    assert by_python["3.13"] == "s.x"


def test_top_names_reads_hugovk_rows(tmp_path):
    path = tmp_path / "top.json"
    path.write_text(json.dumps({"rows": [{"project": "boto3", "download_count": 9}, {"project": "uwsgi"}]}))
    assert regen.top_names(path, 1) == ["boto3"]


def test_main_merges_into_a_table(tmp_path, monkeypatch):
    out = tmp_path / "table.json"
    monkeypatch.setattr(regen, "fetch_page", lambda name, index=regen.INDEX: page(name) if name in ("psutil",) else None)
    assert regen.main(["psutil", "--out", str(out)]) == 0
    monkeypatch.setattr(regen, "fetch_page", lambda name, index=regen.INDEX: page("uwsgi"))
    monkeypatch.setattr(regen, "fetch_sdist", lambda url, size: None)
    assert regen.main(["uwsgi", "--merge", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert sorted(data["distributions"]) == ["psutil", "uwsgi"] and data["pythons"] == list(regen.PYTHONS)


# --- the reader -----------------------------------------------------------------------------------

TABLE = {
    "generated": "2026-12-02",
    "pythons": ["3.11", "3.12"],
    "distributions": {
        "sdistonly": {"compiled": True, "releases": "1.0 2.0", "builds": {"3.11 3.12": "ss"}},
        "mixed": {"compiled": True, "releases": "1.0 1.1 2.0rc1 2.0 2.1", "yanked": "2.1",
                  "builds": {"3.11": "s.s.s", "3.12": "sss.a"}},
        "unread": {"compiled": None, "releases": "1.0", "builds": {"3.11 3.12": "s"}},
        "pure": {"compiled": False, "latest": "0.6.2"},
        "wheels": {"compiled": True, "latest": "5.0"},
    },
}


@pytest.fixture
def table(monkeypatch):
    monkeypatch.setattr(pypi_source_builds, "_data", lambda: TABLE)


@pytest.mark.parametrize(("name", "requirements", "python", "answer"), [
    ("sdistonly", ["sdistonly==1.0"], "3.11", "sdistonly 1.0 has no wheel for Linux on CPython 3.11"),
    ("sdistonly", [], "3.12", "sdistonly 2.0 has no wheel for Linux on CPython 3.12"),  # the latest
    ("sdistonly", ["sdistonly==3.0"], "3.11", None),  # newer than the table: not known
    ("sdistonly", ["sdistonly==${V}"], "3.11", "sdistonly has no wheel for Linux on CPython 3.11, in any release"),
    ("sdistonly", ["sdistonly @ https://example.org/s.tar.gz"], "3.11",
     "sdistonly has no wheel for Linux on CPython 3.11, in any release"),
    ("sdistonly", ["sdistonly==1.0"], "3.10", None),  # a CPython the table does not cover
    ("mixed", [], "3.11", None),  # 2.1 is yanked: pip takes 2.0, which has a wheel
    ("mixed", ["mixed==2.1"], "3.12", "mixed 2.1 has no wheel for Linux aarch64 on CPython 3.12"),  # pinned: yanked too
    ("mixed", ["mixed<2"], "3.11", None),  # 1.1
    ("mixed", ["mixed<2", "mixed!=1.1"], "3.11", "mixed 1.0 has no wheel for Linux on CPython 3.11"),
    ("mixed", ["mixed==2.0rc1"], "3.11", "mixed 2.0rc1 has no wheel for Linux on CPython 3.11"),
    ("mixed", ["mixed>=1.1,<2.0"], "3.11", None),  # <2.0 admits no 2.0 pre-release (PEP 440): 1.1
    ("mixed", ["mixed[extra]==1.0; python_version >= '3'"], "3.12", "mixed 1.0 has no wheel for Linux on CPython 3.12"),
    ("mixed", ["mixed==${V}"], "3.12", None),  # an unread requirement, and some releases have wheels
    ("unread", [], "3.11", "unread 1.0 has no wheel for Linux on CPython 3.11"),
    ("pure", ["pure==0.6.2"], "3.11", None),
    ("wheels", [], "3.11", None),
    ("absent", [], "3.11", None),
])
def test_source_builds_picks_the_release_pip_would(table, name, requirements, python, answer):
    found = pypi_source_builds.source_builds(name, requirements, python)
    assert (str(found) if found else None) == answer


def test_the_split_reason_names_the_cpython_and_an_unread_sdist(table):
    reason = debian_runtime.source_build({"unread", "pure"}, {}, "3.11.4")
    assert reason == ("unread 1.0 has no wheel for Linux on CPython 3.11 (PyPI's files) (its sdist could not be "
                      "read: it may compile code)")
    assert debian_runtime.source_build({"wheels", "pure"}, {}, "3.11") is None
    assert debian_runtime.source_build({"sdistonly"}, {}, "3.13") is None  # not covered: not known
    # a tag without a minor version: any CPython the table covers, the newest first
    assert debian_runtime.source_build({"mixed"}, {}, "3") is None  # 2.0 has wheels on both
    assert debian_runtime.source_build({"mixed"}, {"mixed": ["mixed==2.1"]}, None) == (
        "mixed 2.1 has no wheel for Linux aarch64 on CPython 3.12 (PyPI's files; the tag does not name its Python, "
        "and CPython 3.12 is one it may be)")


# --- the shipped table ----------------------------------------------------------------------------

def test_shipped_table_knows_uwsgi_is_compiled_from_source_and_flask_is_pure():
    assert str(pypi_source_builds.source_builds("uwsgi", ["uwsgi==2.0.23"], "3.11")) == (
        "uwsgi 2.0.23 has no wheel for Linux on CPython 3.11")
    assert pypi_source_builds.known("flask") and pypi_source_builds.source_builds("flask", [], "3.11") is None
    assert pypi_source_builds.source_builds("psutil", ["psutil==6.1.1"], "3.11") is None
