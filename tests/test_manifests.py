"""manifests: reading ignore files, requirements files and pyproject.toml as the tools do."""

from __future__ import annotations

import tomllib

import pytest

from dockfix.context import Context
from dockfix.manifests import (
    IgnoreRules,
    ignore_file_name,
    is_local_path,
    needs_git,
    pipfile_blockers,
    poetry_blockers,
    requirements,
    uv_blockers,
    uv_lock_local,
    uv_lock_virtual,
    uv_package,
)

# --- .dockerignore, as Docker reads it ------------------------------------------------

IGNORE = [
    # (ignore file, path, excluded)
    ("*.pyc", "a.pyc", True),
    ("*.pyc", "pkg/a.pyc", False),  # anchored at the root, unlike .gitignore
    ("**/*.pyc", "pkg/sub/a.pyc", True),
    ("build", "build/lib/x.py", True),  # a folder excludes what it holds
    ("build", "src/build/x.py", False),
    ("build/", "build/x", True),  # a trailing slash is dropped
    ("./dist", "dist/a.whl", True),
    ("/dist", "dist/a.whl", True),
    ("# .git", ".git/HEAD", False),  # a comment
    ("*\n!app.py", "app.py", False),  # an exception
    ("*\n!app.py", "other.py", True),
    ("!app.py\n*", "app.py", True),  # the last matching line wins
    ("docs\n!docs/keep.md", "docs/keep.md", False),
    ("  .venv  ", ".venv/bin/python", True),  # blanks around a pattern are trimmed
    ("", "anything", False),
]


@pytest.mark.parametrize("text,path,excluded", IGNORE, ids=[f"{t!r}->{p}" for t, p, _ in IGNORE])
def test_ignore_rules_read_as_docker_does(text, path, excluded):
    assert IgnoreRules.parse(text).excludes(path) is excluded


def test_the_context_root_is_never_excluded():
    assert not IgnoreRules.parse("*").excludes(".")


def test_plus_adds_patterns_after_the_file():
    rules = IgnoreRules.parse("*\n!dist").plus("dist")
    assert rules.excludes("dist/a.whl") and rules.negations() == ["dist"]


def test_a_dockerfile_s_own_ignore_file_wins():
    both = Context(files={"Dockerfile.dockerignore": "", ".dockerignore": ""}, dockerfile="Dockerfile")
    assert ignore_file_name(both) == "Dockerfile.dockerignore"
    assert ignore_file_name(Context(files={".dockerignore": ""})) == ".dockerignore"


# --- requirements files ---------------------------------------------------------------

def test_includes_are_followed_relative_to_the_including_file():
    files = {
        "req/prod.txt": "-r base.txt\n--constraint=../constraints.txt\ngunicorn\n",
        "req/base.txt": "-c ../constraints.txt\n-rextra.txt\nflask  # web\n",
        "req/extra.txt": "-r prod.txt\n",  # a cycle ends
        "constraints.txt": "werkzeug<4\n",
    }
    found = requirements(Context(files=files), "req/prod.txt")
    assert found.files == ["req/prod.txt", "req/base.txt", "constraints.txt", "req/extra.txt"]
    assert not found.missing and not found.local


def test_a_missing_include_is_reported():
    found = requirements(Context(files={"r.txt": "-r nope.txt\n"}), "r.txt")
    assert found.files == ["r.txt"] and found.missing == ["nope.txt"]


def test_an_include_out_of_the_context_is_missing():
    found = requirements(Context(files={"r.txt": "-r ../shared.txt\n"}), "r.txt")
    assert found.missing == ["../shared.txt"]


@pytest.mark.parametrize("line", ["-e .", "--editable=./lib", "./pkg", "file:///src/x", "dist/app-1.0-py3-none-any.whl",
                                  "-f ./wheels", "-e \\\n  .", "lib @ file:///app/lib"])
def test_lines_that_install_the_code_are_found(line):
    assert requirements(Context(files={"r.txt": f"flask\n{line}\n"}), "r.txt").local


@pytest.mark.parametrize("line", ["flask==3.0", "name @ https://example.com/x.whl", "git+https://github.com/a/b.git",
                                  "requests[socks]>=2; python_version >= '3.8'", "--index-url https://pypi.org/simple",
                                  "# ./commented"])
def test_lines_from_an_index_are_not_local(line):
    assert not requirements(Context(files={"r.txt": f"{line}\n"}), "r.txt").local


@pytest.mark.parametrize("spec,local", [
    (".", True), ("..", True), ("./x", True), ("/abs/x", True), ("pkg/sub", True), ("x.whl", True), ("x.tar.gz", True),
    ("file:x", True), ("flask", False), ("flask==3", False), ("https://x/y.whl", False), ("git+ssh://x", False),
    ("name @ file:///x", True), ("name@https://x", False), ("name @ git+https://x/y.git@v1", False),
])
def test_is_local_path(spec, local):
    assert is_local_path(spec) is local


# --- pyproject.toml and friends ---------------------------------------------------------

def _toml(text: str) -> dict:
    return tomllib.loads(text)


def test_uv_projects_that_need_more_than_the_manifests():
    assert uv_blockers(_toml("[project]\nname = 'a'\ndependencies = ['flask']\n")) == []
    assert "a uv workspace" in uv_blockers(_toml("[tool.uv.workspace]\nmembers = ['p/*']\n"))[0]
    assert "lib comes from a local path" in uv_blockers(_toml("[tool.uv.sources]\nlib = { path = '../lib' }\n"))[0]
    assert "lib comes from a local path" in uv_blockers(_toml("[tool.uv.sources]\nlib = { workspace = true }\n"))[0]
    assert uv_blockers(_toml("[tool.uv.sources]\nlib = { git = 'https://x' }\n")) == []
    assert "dynamic" in uv_blockers(_toml("[project]\nname = 'a'\ndynamic = ['dependencies']\n"))[0]
    assert uv_blockers(_toml("[project]\nname = 'a'\ndynamic = ['version']\n")) == []


def test_poetry_projects_that_need_more_than_the_manifests():
    assert poetry_blockers(_toml("[tool.poetry.dependencies]\npython = '^3.12'\nflask = '*'\n")) == []
    assert poetry_blockers(_toml("[tool.poetry.dependencies]\nlib = { path = 'lib', develop = true }\n"))
    assert poetry_blockers(_toml("[tool.poetry.group.dev.dependencies]\nlib = { path = 'lib' }\n"))
    assert poetry_blockers(_toml("[project]\ndependencies = ['lib @ file:///lib']\n"))


def test_pipfile_local_packages():
    assert pipfile_blockers(_toml("[packages]\nflask = '*'\n")) == []
    assert pipfile_blockers(_toml("[packages]\nlib = { path = './lib', editable = true }\n"))


@pytest.mark.parametrize("text,needed", [
    ("[build-system]\nrequires = ['setuptools>=68', 'setuptools-scm>=8']\n", True),
    ("[build-system]\nrequires = ['hatchling']\n[tool.hatch.version]\nsource = 'vcs'\n", True),
    ("[tool.poetry-dynamic-versioning]\nenable = true\n", True),
    ("[build-system]\nrequires = ['hatchling']\n[project]\nversion = '1.0'\n", False),
    (None, False),
])
def test_needs_git(text, needed):
    assert needs_git(_toml(text) if text is not None else None) is needed


# --- uv.lock: a project uv never installs --------------------------------------------

APP = "[project]\nname = 'Shop_App'\nversion = '1'\ndependencies = ['Flask>=3', 'gunicorn']\n"
LOCK = """version = 1
revision = 3

[[package]]
name = "flask"
version = "3.1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "gunicorn"
version = "23.0.0"
source = { git = "https://github.com/benoitc/gunicorn?rev=23.0.0#abc" }

[[package]]
name = "shop-app"
version = "1"
source = { virtual = "." }

[package.metadata]
requires-dist = [{ name = "flask", specifier = ">=3" }, { name = "gunicorn" }]
"""


@pytest.mark.parametrize("text,package,decided", [
    ("[project]\nname = 'a'\n", False, "has no [build-system]"),
    ("[build-system]\nrequires = ['hatchling']\n", True, "declares [build-system]"),
    ("[build-system]\nrequires = ['hatchling']\n[tool.uv]\npackage = false\n", False, "sets tool.uv.package = false"),
    ("[tool.uv]\npackage = true\n", True, "sets tool.uv.package = true"),
])
def test_uv_decides_whether_the_project_is_a_package(text, package, decided):
    assert uv_package(_toml(text)) == (package, decided)


def test_a_virtual_project_locked_from_an_index_and_git_reads_nothing_else():
    assert uv_lock_virtual(_toml(APP), _toml(LOCK)) is None


@pytest.mark.parametrize("lock,why", [
    (None, "missing"),
    (LOCK.replace("version = 1\n", "version = 2\n", 1), "format version 2"),
    (LOCK.replace('name = "shop-app"', 'name = "other"'), "locks no package Shop_App (stale"),
    (LOCK.replace('{ virtual = "." }', '{ editable = "." }'), 'source { editable = "." }, not virtual'),
    (LOCK.replace(', { name = "gunicorn" }', ""), "(flask) are not pyproject.toml's (flask, gunicorn): stale"),
    (LOCK + '\n[manifest]\nmembers = ["shop-app", "lib"]\n', "a workspace"),
    (LOCK.replace('{ registry = "https://pypi.org/simple" }', '{ editable = "libs/flask" }'), "flask from the build"),
    (LOCK.replace('{ registry = "https://pypi.org/simple" }', '{ directory = "libs/flask" }'), "flask from the build"),
    (LOCK.replace('{ registry = "https://pypi.org/simple" }', '{ path = "flask.whl" }'), "flask from the build"),
    (LOCK.replace('{ registry = "https://pypi.org/simple" }', '{ virtual = "libs/flask" }'), "flask from the build"),
    (LOCK.replace('{ registry = "https://pypi.org/simple" }', '{ registry = "wheels" }'), "flask from the build"),
    (LOCK.replace('{ registry = "https://pypi.org/simple" }', '{ url = "file:///w/flask.whl" }'), "flask from the"),
    (LOCK.replace('source = { registry = "https://pypi.org/simple" }\n', ""), "flask from the build context ((none))"),
])
def test_uv_lock_facts_that_refuse(lock, why):
    found = uv_lock_virtual(_toml(APP), None if lock is None else _toml(lock))
    assert found is not None and why in found


def test_a_package_lock_reads_the_context_only_through_packages_other_than_the_root():
    lock = _toml(LOCK.replace('{ virtual = "." }', '{ editable = "." }'))
    assert uv_lock_local(lock, "shop-app") is None
    assert "flask" in (uv_lock_local(_toml(LOCK.replace("https://pypi.org/simple", "./wheels")), "shop-app") or "")
