"""`uvx dockfix` from the built wheel: the script, the shipped pages and a real diff.

test_cli.py runs the script installed in the development environment (an
editable install, pages read from the checkout); this one builds the wheel a
user gets and runs it in uv's throwaway tool environment, so a file missing
from the wheel (a transform page, a subpackage) fails here.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from .conftest import ROOT
from .test_cli import git_apply

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    uv = shutil.which("uv")
    if uv is None:
        message = "uv is not on PATH (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([uv, "build", "--wheel", "--out-dir", str(out), str(ROOT)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("dockfix-*.whl")
    return built


def uvx(wheel, *args, cwd=None):
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("VIRTUAL_ENV", None)  # the tool gets its own environment, not the project's
    return subprocess.run(["uvx", "--from", str(wheel), "dockfix", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=env)


def test_uvx_runs_the_wheel_with_its_pages(wheel, tmp_path):
    version = uvx(wheel, "--version", cwd=tmp_path)
    assert (version.returncode, version.stdout.strip()) == (0, "dockfix 0.1.0"), version.stderr
    page = uvx(wheel, "--explain", "apt", cwd=tmp_path)
    assert page.returncode == 0, page.stderr
    assert page.stdout == (ROOT / "transforms" / "apt.md").read_text()


def test_uvx_diff_on_the_bundled_example_applies(wheel, tmp_path):
    shutil.copytree(ROOT / "examples" / "fastapi-app", tmp_path / "app")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, timeout=60)
    diff = uvx(wheel, "--diff", "app/Dockerfile", cwd=tmp_path)
    assert diff.returncode == 1, diff.stderr
    assert "--- a/app/Dockerfile\n+++ b/app/Dockerfile\n" in diff.stdout and "+++ b/app/.dockerignore" in diff.stdout
    git_apply(tmp_path, diff.stdout)
    again = uvx(wheel, "--check", "app/Dockerfile", cwd=tmp_path)
    assert (again.returncode, again.stdout) == (0, ""), again.stdout + again.stderr
