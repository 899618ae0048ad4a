"""split/pipx: what a pipx command is to the split, and which folders an install writes.

Whole files (the split made, or refused with its note) are golden/multistage/pipx-*;
these tests pin pipx's path rules (pypa/pipx src/pipx/paths.py) as dockfix reads them.
"""

from __future__ import annotations

import pytest

from dockfix.split.pipx import folders, read

ROOT_DEFAULT = ("/root/.local",)

FOLDERS = [
    ({}, "/root", False, ROOT_DEFAULT),  # home, bin and manual folders of every pipx version
    ({}, "/home/app", False, ("/home/app/.local",)),
    ({"PIPX_HOME": "/opt/pipx", "PIPX_BIN_DIR": "/opt/pipx/bin"}, "/root", False, ("/opt/pipx",)),
    ({"PIPX_HOME": "/opt/pipx", "PIPX_BIN_DIR": "/opt/bin"}, "/root", False, ("/opt/pipx", "/opt/bin")),
    ({"PIPX_HOME": "/opt/tools/pipx", "PIPX_BIN_DIR": "/opt/tools"}, "/root", False, ("/opt/tools",)),
    ({"PIPX_HOME": "/opt/pipx"}, "/root", False, ("/opt/pipx", "/root/.local")),  # bin still ~/.local/bin
    ({"PIPX_HOME": "~/pipx"}, "/srv", False, ("/srv/pipx", "/srv/.local")),
    ({"PIPX_HOME": "/opt/pipx", "PIPX_BIN_DIR": "/opt/pipx/bin"}, None, False, ("/opt/pipx",)),  # no home needed
    ({"PIPX_GLOBAL_HOME": "/opt/pipx", "PIPX_GLOBAL_BIN_DIR": "/opt/pipx/bin"}, "/root", True, ("/opt/pipx",)),
    ({"XDG_DATA_HOME": "/data", "PIPX_HOME": "/data/pipx"}, "/root", False, ("/data/pipx", "/root/.local")),
]


@pytest.mark.parametrize(("env", "home", "is_global", "expected"), FOLDERS, ids=[str(f[0]) for f in FOLDERS])
def test_the_folders_an_install_writes(env, home, is_global, expected):
    assert folders(is_global, env, home) == expected


REFUSED = [
    ({}, None, False, "home is not known"),  # a user dockfix does not know the home of
    ({}, "$HOME_DIR", False, "home is not known"),
    ({}, "/root", True, "PIPX_GLOBAL_BIN_DIR is /usr/local/bin"),  # --global links into the base image's folder
    ({"PIPX_HOME": "/opt/pipx", "PIPX_BIN_DIR": "/usr/local/bin"}, "/root", False, "a folder of the base image"),
    ({"PIPX_HOME": "/usr/local/pipx", "PIPX_BIN_DIR": "/opt/bin"}, "/root", False, "a folder of the base image"),
    ({"PIPX_HOME": "pipx"}, "/root", False, "cannot resolve"),  # relative: the working folder of each run
    ({"PIPX_HOME": "${TOOLS}/pipx"}, "/root", False, "cannot resolve"),
    ({"PIPX_HOME": "~"}, "/root", False, "a folder of the base image"),
    ({"XDG_DATA_HOME": "/data"}, "/root", False, "depends on its version"),
]


@pytest.mark.parametrize(("env", "home", "is_global", "why"), REFUSED, ids=[str(r[0]) + r[3] for r in REFUSED])
def test_folders_that_cannot_be_known_or_copied(env, home, is_global, why):
    found = folders(is_global, env, home)
    assert isinstance(found, str) and why in found


def test_an_install_reads_its_specs_and_preinstalls():
    reading = read("install", ("install", "--include-deps", "--suffix", "@1", "black==24.10.0", "--preinstall",
                               "black-plugin", "ruff"), {}, "/root", "system")
    assert reading is not None and reading.kind == "install"
    assert reading.specs == ("black==24.10.0", "ruff", "black-plugin")
    assert reading.copies == ROOT_DEFAULT


def test_the_older_spec_option_installs_the_spec():
    reading = read("install", ("install", "--spec", "git+https://example.org/tool.git", "tool"), {}, "/root", "system")
    assert reading is not None and reading.specs == ("git+https://example.org/tool.git",)


READINGS = [
    ("install", ("install", "httpie"), None, "refuse", "does not come from a pip install"),
    ("install", ("install", "--system-site-packages", "httpie"), "system", "refuse", "site-packages"),
    ("install", ("install", "--python", "python3.11", "httpie"), "system", "refuse", "python3.11"),
    ("install", ("install", "--python=/usr/local/bin/python3.12", "httpie"), "system", "install", None),
    ("install", ("install", "--lock", "pylock.toml", "httpie"), "system", "refuse", "lock file"),
    ("install", ("install", "httpie", "--pip-args", "-c constraints.txt"), "system", "refuse", "-c"),
    ("install", ("install", "httpie", "--pip-args=--no-cache-dir"), "system", "install", None),
    ("install", ("install",), "system", "refuse", "without a package"),
    ("inject", ("inject", "ansible-core", "boto3"), "system", "refuse", "pipx inject"),
    ("runpip", ("runpip", "httpie", "install", "x"), "system", "refuse", "pipx runpip"),
    ("ensurepath", ("ensurepath",), "system", "refuse", "start-up files"),
    ("upgrade", ("upgrade", "httpie"), "system", "refuse", "not handled"),
    ("list", ("list", "--short"), "system", "prints", None),
    ("", ("--version",), None, "prints", None),
]


@pytest.mark.parametrize(("verb", "args", "pipx_from", "kind", "why"), READINGS, ids=[" ".join(r[1]) for r in READINGS])
def test_what_a_pipx_command_is(verb, args, pipx_from, kind, why):
    reading = read(verb, args, {}, "/root", pipx_from)
    assert reading is not None and reading.kind == kind
    assert (reading.problem is None) if why is None else (why in (reading.problem or ""))


def test_pipx_run_is_not_an_install():
    assert read("run", ("run", "cowsay", "-t", "hi"), {}, "/root", "system") is None


def test_the_default_python_setting_counts_like_the_option():
    reading = read("install", ("install", "httpie"), {"PIPX_DEFAULT_PYTHON": "/usr/bin/python3"}, "/root", "system")
    assert reading is not None and reading.kind == "refuse" and "/usr/bin/python3" in (reading.problem or "")
