"""Hostile repositories, configuration: values of the wrong type, a pyproject.toml that is a
device or a FIFO, a stray pyproject.toml above the checkout, and a long run that meets
one pyproject.toml after another at the same path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockfix.config import ConfigError, find_config
from dockfix.runner import FAILED, Options, process_file

APT = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\n"


def project(root: Path, table: str, git: bool = True) -> Path:
    """A repository with a pyproject.toml holding `table`, and a Dockerfile one folder down."""
    root.mkdir(parents=True, exist_ok=True)
    if git:
        (root / ".git").mkdir()
    (root / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n{table}\n')
    (root / "docker").mkdir()
    path = root / "docker" / "Dockerfile"
    path.write_text(APT)
    return path


def outside_any_repository(folder: Path) -> None:
    if any((p / ".git").exists() for p in (folder, *folder.parents)):
        pytest.skip(f"{folder} is inside a git repository; the test needs a folder outside any")


@pytest.mark.parametrize("line, message", [
    ('select = "apt"', 'select must be a list of transform names, like select = ["apt"], not a string ("apt")'),
    ("select = 5", "select must be a list of transform names"),
    ('ignore = ["apt", 3]', 'ignore must be a list of transform names, like ignore = ["apt"], '
                            'not a list holding a number (["apt", 3])'),
    ('ignore = [""]', "not a list holding an empty string"),
    ('unsafe-fixes = "false"', 'unsafe-fixes must be true or false, not a string ("false")'),
    ("unsafe-fixes = 0", "unsafe-fixes must be true or false, not a number (0)"),
    ("'unsafe-fixes' = []", "unsafe-fixes must be true or false, not a list ([])"),
])
def test_a_value_of_the_wrong_type_is_a_clear_error_naming_file_and_line(tmp_path, line, message):
    path = project(tmp_path, f"[tool.dockfix]\n{line}")
    where = f"{tmp_path.resolve() / 'pyproject.toml'}:5: [tool.dockfix] "
    with pytest.raises(ConfigError) as caught:
        find_config(path.parent)
    assert str(caught.value).startswith(where) and message in str(caught.value)
    result = process_file(path, Options(mode="write"))
    assert result.status == FAILED and not result.bug
    assert result.error.startswith(f"configuration: {where}") and "\n" not in result.error
    assert "unknown transform" not in result.error
    assert path.read_text() == APT


@pytest.mark.parametrize("text, message", [
    ('[project]\nname = "x"\n\n[tool]\ndockfix = 3\n', "pyproject.toml:5: [tool.dockfix] must be a table"),
    ('tool = 3\n[project]\nname = "x"\n', "pyproject.toml:1: [tool] must be a table"),
])
def test_a_tool_table_of_the_wrong_type_is_not_a_dockfix_bug(tmp_path, text, message):
    path = project(tmp_path, "")
    (tmp_path / "pyproject.toml").write_text(text)
    result = process_file(path, Options(mode="diff"))
    assert result.status == FAILED and not result.bug, result.error
    assert message in result.error


def test_unsafe_fixes_false_as_a_string_does_not_turn_them_on(tmp_path):
    path = project(tmp_path, '[tool.dockfix]\nunsafe-fixes = "false"')
    result = process_file(path, Options(mode="check"))
    assert result.status == FAILED and not any(not f.safe for f in result.fixes)


def test_a_stray_pyproject_above_a_folder_outside_any_repository_does_not_apply(tmp_path):
    outside_any_repository(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.dockfix]\nselect = ["bytecode"]\n')
    path = tmp_path / "checkout" / "docker" / "Dockerfile"
    path.parent.mkdir(parents=True)
    path.write_text(APT)
    assert find_config(path.parent).source is None
    assert {f.transform for f in process_file(path, Options(mode="check")).fixes} >= {"apt"}
    # the folder named on the command line bounds the search; a pyproject.toml in it applies
    (tmp_path / "checkout" / "pyproject.toml").write_text('[tool.dockfix]\nselect = ["bytecode"]\n')
    assert find_config(path.parent, stop=tmp_path / "checkout").select == ("bytecode",)
    assert find_config(path.parent, stop=path.parent).source is None
    assert find_config(path.parent, stop=tmp_path / "elsewhere").source is None  # not above: start alone
    # inside a repository the search goes up to its root, and no further
    (tmp_path / "checkout" / ".git").mkdir()
    assert find_config(path.parent).source == (tmp_path / "checkout" / "pyproject.toml").resolve()
    (tmp_path / "checkout" / "pyproject.toml").unlink()
    assert find_config(path.parent, stop=tmp_path).source is None


def test_a_long_run_sees_each_pyproject_as_it_is_now(tmp_path):
    path = project(tmp_path, '[tool.dockfix]\nselect = ["apt"]')
    pyproject = tmp_path / "pyproject.toml"
    assert find_config(path.parent).select == ("apt",)
    pyproject.write_text('[tool.dockfix]\nselect = ["bytecode", "apt"]\n')  # the next checkout, same path
    assert find_config(path.parent).select == ("bytecode", "apt")
    pyproject.unlink()
    assert find_config(path.parent).source is None
    pyproject.write_text('[tool.dockfix]\nignore = ["apt"]\n')  # an absent file was not remembered as absent
    assert find_config(path.parent).ignore == ("apt",)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_pyproject_that_is_not_a_regular_file_is_a_one_line_error(tmp_path, kind):
    path = project(tmp_path, "")
    pyproject = tmp_path / "pyproject.toml"
    pyproject.unlink()
    if kind == "fifo":
        os.mkfifo(pyproject)
    else:
        pyproject.symlink_to("/dev/zero")
    # In a subprocess with a memory cap and a time limit: a reader that blocks or reads forever fails, not hangs.
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30));"
            "from dockfix.cli import main; sys.argv = ['dockfix', *sys.argv[1:]]; main()")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-c", code, "--check", "--timeout", "10", str(path)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "configuration: " in done.stderr and "not a regular file" in done.stderr, done.stderr
    assert path.read_text() == APT


def test_the_folder_named_on_the_command_line_bounds_the_config_search(tmp_path):
    """`dockfix /srv/proj` outside a repository: /srv/proj/pyproject.toml applies to
    /srv/proj/svc/Dockerfile, and nothing above /srv/proj does."""
    outside_any_repository(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.dockfix]\nselect = ["bytecode"]\n')  # stray, above
    proj = tmp_path / "proj"
    path = proj / "svc" / "Dockerfile"
    path.parent.mkdir(parents=True)
    path.write_text(APT)
    (proj / "pyproject.toml").write_text('[tool.dockfix]\nignore = ["apt"]\n')
    named = Options(mode="check", roots=(proj.resolve(),))
    assert "apt" not in {f.transform for f in process_file(path, named).fixes}
    assert "apt" in {f.transform for f in process_file(path, Options(mode="check")).fixes}  # file named alone
