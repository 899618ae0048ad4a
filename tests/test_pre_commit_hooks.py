"""The pre-commit hook definitions: they run dockfix on exactly the files dockfix calls Dockerfiles."""

from __future__ import annotations

import re
import shlex

import pytest

from dockfix.discover import is_dockerfile_name

from .conftest import ROOT

yaml = pytest.importorskip("yaml")

SAMPLES = [
    "Dockerfile", "Dockerfile.dev", "Dockerfile.prod.arm64", "Dockerfile.", "app.Dockerfile", "app.dockerfile",
    ".Dockerfile", "Containerfile", "Containerfile.ci", "Dockerfile.orig", "Dockerfile.rej", "Dockerfile.dockfix",
    "app.Dockerfile.orig", "Dockerfile.dev.rej", "dockerfile", "DOCKERFILE", "Dockerfiles", "MyDockerfile",
    "Dockerfile-dev", "app.DOCKERFILE", "Containerfiles", "containerfile", "Dockerfile.yaml", "README.md",
    "docker-compose.yml", ".dockerignore", "Dockerfile.dockerignore", "Dockerfile.dockfix.bak", "x.Dockerfilex",
]


def hooks() -> dict[str, dict]:
    return {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}


def test_hooks_check_and_write_with_the_installed_script():
    found = hooks()
    assert shlex.split(found["dockfix"]["entry"]) == ["dockfix", "--check"]
    assert shlex.split(found["dockfix-write"]["entry"]) == ["dockfix", "--write"]
    assert {h["language"] for h in found.values()} == {"python"}


@pytest.mark.parametrize("hook", ["dockfix", "dockfix-write"])
@pytest.mark.parametrize("folder", ["", "services/api/", "a.b/c/"])
def test_files_regex_matches_exactly_the_names_dockfix_discovers(hook, folder):
    pattern = re.compile(hooks()[hook]["files"])
    # pre-commit searches the path relative to the repository root with re.search
    wrong = [name for name in SAMPLES if bool(pattern.search(folder + name)) != is_dockerfile_name(name)]
    assert wrong == []
    # the folder's own name never decides: a Dockerfile-named folder with an ordinary file in it
    assert not pattern.search(folder + "Dockerfile.d/notes.txt")
