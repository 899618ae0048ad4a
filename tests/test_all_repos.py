"""The all-repos autofixer, end to end on local repositories: all-repos clones them
from a JSON list, the autofixer commits dockfix's rewrite and pushes it to the "remote"."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockfix.context import Context
from dockfix.engine import run_pipeline
from dockfix.transforms import PIPELINE

from .conftest import ROOT

pytest.importorskip("all_repos")
pytestmark = pytest.mark.slow

GIT_ENV = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com", "GIT_COMMITTER_NAME": "Test",
           "GIT_COMMITTER_EMAIL": "test@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "NO_COLOR": "1"}


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60,
                          env={**os.environ, **GIT_ENV}).stdout


def bare_remote(tmp_path: Path, name: str, files: Path) -> Path:
    work = tmp_path / "work" / name
    shutil.copytree(files, work)
    git("init", "-q", "-b", "main", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "initial", cwd=work)
    remote = tmp_path / "remotes" / f"{name}.git"
    remote.parent.mkdir(exist_ok=True)
    git("clone", "-q", "--bare", str(work), str(remote), cwd=tmp_path)
    return remote


def python(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **GIT_ENV})


@pytest.fixture
def org(tmp_path):
    """Two repositories, one with a Dockerfile, cloned by all-repos; returns (tmp_path, remotes)."""
    docs = tmp_path / "docs-src"
    docs.mkdir()
    (docs / "README.md").write_text("no Dockerfile here\n")
    remotes = {"app": bare_remote(tmp_path, "app", ROOT / "examples" / "fastapi-app"),
               "docs": bare_remote(tmp_path, "docs", docs)}
    (tmp_path / "repos.json").write_text(json.dumps({k: str(v) for k, v in remotes.items()}))
    config = tmp_path / "all-repos.json"
    config.write_text(json.dumps({"output_dir": "output", "source": "all_repos.source.json_file",
                                  "source_settings": {"filename": "repos.json"},
                                  "push": "all_repos.push.merge_to_master", "push_settings": {}}))
    config.chmod(0o600)  # all-repos refuses a config others can read
    done = python("-m", "all_repos.clone", "-C", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path, remotes


def expected_dockerfile() -> tuple[str, dict[str, str]]:
    folder = ROOT / "examples" / "fastapi-app"
    outcome = run_pipeline((folder / "Dockerfile").read_text(), Context.for_dockerfile(folder / "Dockerfile"), PIPELINE)
    return outcome.output, outcome.files


def test_dry_run_shows_the_change_and_pushes_nothing(org):
    tmp_path, remotes = org
    done = python("-m", "dockfix.all_repos", "-C", "all-repos.json", "--dry-run", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "***output/app" in done.stdout and "***output/docs" not in done.stdout  # only repos with a Dockerfile
    assert "+RUN --mount=type=cache,target=/root/.cache/pip" in done.stdout  # all-repos shows the diff
    assert git("rev-list", "--count", "main", cwd=remotes["app"]).strip() == "1"


def test_a_real_run_commits_dockfixs_rewrite_to_the_remote(org):
    tmp_path, remotes = org
    done = python("-m", "dockfix.all_repos", "-C", "all-repos.json", "--commit-msg", "dockerfiles: dockfix",
                  cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    remote = remotes["app"]
    text, files = expected_dockerfile()
    assert git("show", "main:Dockerfile", cwd=remote) == text
    assert git("show", "main:.dockerignore", cwd=remote) == files[".dockerignore"]  # a new file is committed too
    messages = git("log", "--format=%s", "main", cwd=remote).splitlines()
    assert "dockerfiles: dockfix" in messages
    assert git("rev-list", "--count", "main", cwd=remotes["docs"]).strip() == "1"


def test_dockfix_options_are_passed_on(org):
    tmp_path, _ = org
    done = python("-m", "dockfix.all_repos", "-C", "all-repos.json", "--dry-run", "--select", "apt", "--unsafe-fixes",
                  cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--no-install-recommends" in done.stdout  # unsafe: only with --unsafe-fixes
    assert "--mount=type=cache" not in done.stdout  # cache-mounts was not selected


# Modules a hostile repository may hold to hijack `python -m dockfix` run inside its clone:
# dockfix itself, its dependencies, and standard modules it imports.
HIJACKS = ("dockfix/__init__.py", "dockfix/__main__.py", "typer.py", "tomllib.py", "rich/__init__.py",
           "pathspec.py", "difflib.py", "sitecustomize.py", "usercustomize.py")


def test_code_in_a_scanned_repository_never_runs(tmp_path):
    """A repository is untrusted: modules it holds are never imported by the dockfix run in its clone."""
    marker = tmp_path / "hijacked"
    src = tmp_path / "evil-src"
    shutil.copytree(ROOT / "examples" / "fastapi-app", src)
    payload = f"import pathlib\npathlib.Path({str(marker)!r}).write_text(__name__)\n"
    for name in HIJACKS:
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(payload)
    remote = bare_remote(tmp_path, "evil", src)
    (tmp_path / "repos.json").write_text(json.dumps({"evil": str(remote)}))
    config = tmp_path / "all-repos.json"
    config.write_text(json.dumps({"output_dir": "output", "source": "all_repos.source.json_file",
                                  "source_settings": {"filename": "repos.json"},
                                  "push": "all_repos.push.merge_to_master", "push_settings": {}}))
    config.chmod(0o600)
    assert python("-m", "all_repos.clone", "-C", str(config), cwd=tmp_path).returncode == 0
    for extra in (("--dry-run",), ()):
        done = python("-m", "dockfix.all_repos", "-C", "all-repos.json", *extra, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert not marker.exists(), f"the repository's {marker.read_text()} ran"
    text, _ = expected_dockerfile()
    assert git("show", "main:Dockerfile", cwd=remote) == text  # dockfix itself did run, and committed
