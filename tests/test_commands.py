"""The one recogniser of package-manager commands (dockfix.commands), as a table."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockfix.commands import PYTHON_MANAGERS, may_run_python_manager, recognise
from dockfix.model import Model, installs
from dockfix.shell import parse_script
from dockfix.syntax import parse

CASES = [
    # (command line, manager, verb, python_install)
    ("pip install flask", "pip", "install", ("pip", "install")),
    ("pip3.12 --no-cache-dir install -r requirements.txt", "pip", "install", ("pip", "install")),
    ("/opt/venv/bin/pip install .", "pip", "install", ("pip", "install")),
    ("python3 -m pip install -U pip", "pip", "install", ("pip", "install")),
    ("python -m pip cache purge", "pip", "cache", None),
    ("pip2 install six", "pip", "install", ("pip", "install")),
    ("pip list", "pip", "list", None),
    ("uv sync --frozen", "uv", "sync", ("uv", "sync")),
    ("uv pip install -r requirements.txt", "uv", "pip", ("uv", "install")),
    ("uv pip sync requirements.txt", "uv", "pip", ("uv", "pip-sync")),
    ("uv venv /opt/venv", "uv", "venv", None),
    ("poetry install --no-root", "poetry", "install", ("poetry", "install")),
    ("poetry sync", "poetry", "sync", ("poetry", "sync")),
    ("poetry config virtualenvs.create false", "poetry", "config", None),
    ("pipenv install --deploy --system", "pipenv", "install", None),
    ("pipx install black", "pipx", "install", None),
    ("python3 -m pipx install black", "pipx", "install", None),
    ("micromamba install -y python=3.12", "conda", "install", None),
    ("mamba env create -f environment.yml", "conda", "env", None),
    ("python3 -m venv /venv", "venv", "/venv", None),
    ("virtualenv /venv", "venv", "/venv", None),
    ("apt-get -o Dpkg::Options::=--force-confold -y install curl", "apt", "install", None),
    ("/usr/bin/apt-get update", "apt", "update", None),
    ("apk add --virtual .build-deps gcc", "apk", "add", None),
    ("apk --no-cache del .build-deps", "apk", "del", None),
    ("yum -y install gcc", "dnf", "install", None),
    ("microdnf clean all", "dnf", "clean", None),
]


@pytest.mark.parametrize("line, manager, verb, python_install", CASES, ids=[c[0] for c in CASES])
def test_a_command_is_recognised(line, manager, verb, python_install):
    found = recognise(line.split())
    assert found is not None
    assert (found.manager, found.verb, found.python_install) == (manager, verb, python_install)


@pytest.mark.parametrize("line", ["python3 app.py", "python -m http.server", "pipeline run", "uvicorn app:app",
                                  "apt-cache policy", "echo pip install", "make install", ""])
def test_other_commands_are_not(line):
    assert recognise(line.split()) is None


def test_python_versions_are_kept():
    assert recognise(["pip2", "install", "six"]).python2
    assert recognise(["python2.7", "-m", "pip", "install", "six"]).python2
    assert not recognise(["python3.12", "-m", "pip", "install", "six"]).python2


def test_cache_cleaners():
    cleaners = ["uv cache clean", "uv cache prune --ci", "pip cache purge", "python3 -m pip cache remove x",
                "poetry cache clear --all pypi"]
    assert all(recognise(c.split()).cleans_cache for c in cleaners)
    assert not recognise("pip install cache".split()).cleans_cache


def test_the_model_is_the_trees_own_and_built_once():
    tree = parse("FROM python:3.12\nRUN pip install flask && apt-get install -y curl\n")
    model = Model.of(tree)
    assert Model.of(tree) is model  # kept with the tree, not in a module-level cache
    assert Model.of(parse(tree.source)) is not model  # a new parse, a new model
    run = tree.instructions[1]
    assert [c.invocation.manager for c in model.called(run)] == ["pip", "apt"]
    assert [(i.tool, i.verb) for i in installs(tree, run)] == [("pip", "install")]
    assert model.called(run) is model.called(run)


def test_a_heredoc_that_is_data_is_not_read_for_installs():
    tree = parse("FROM python:3.12\nRUN cat > /setup.sh <<EOF\npip install flask\nEOF\n"
                 "RUN <<EOF\npip install django\nEOF\n")
    data, script = tree.instructions[1], tree.instructions[2]
    assert installs(tree, data) == []
    assert [i.command.argv[2] for i in installs(tree, script)] == ["django"]


def test_a_tree_and_its_model_go_by_reference_counting():
    """The tree holds its model and the model holds the tree weakly: no cycle keeps a file's trees
    alive until the cycle collector runs (over a batch, a growing heap of dead trees)."""
    import gc
    import weakref

    enabled = gc.isenabled()
    gc.disable()
    try:
        tree = parse("FROM python:3.12\nRUN pip install flask\nUSER app\n")
        assert installs(tree, tree.instructions[1]) and Model.of(tree).stages
        gone = weakref.ref(tree)
        del tree
        assert gone() is None
    finally:
        if enabled:
            gc.enable()


# --- the cheap test before a parse: may a text run a Python package manager? -------------------

NAMES = ["pip", "pip3.12", "/opt/venv/bin/pip", "python3 -m pip", "python -m venv", "uv", "poetry", "pipenv", "pipx",
         "pdm", "hatch", "conda", "mamba", "micromamba", "virtualenv", "apt-get", "echo"]
# What the shell takes out of a word's value: quotes, escapes, line continuations.
SPLITS = ["", "", "", "''", '""', "\\\n", "\\\r\n", "\\"]
AROUND = ["", " x", " install -r r.txt", " && ls", "; ", "sudo ", "A=1 ", "$(", "`", "'", '"', "\n", "<<EOF\n"]


@st.composite
def texts(draw):
    """Shell text holding manager names split by quotes, escapes and continuations."""
    out = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(NAMES))
        out.append(draw(st.sampled_from(AROUND)))
        out.append("".join(c + draw(st.sampled_from(SPLITS)) for c in name))
        out.append(draw(st.sampled_from(AROUND)))
    return "".join(out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts())
def test_a_text_said_not_to_run_a_python_manager_runs_none(text):
    if not may_run_python_manager(text):
        found = [c.argv for c in parse_script(text).commands if (r := recognise(c.argv)) and r.manager in PYTHON_MANAGERS]
        assert found == []


@pytest.mark.parametrize("line", [c[0] for c in CASES if recognise(c[0].split()).manager in PYTHON_MANAGERS]
                         + ["p'i'p install x", 'u"v" sync', "pi\\\np install x", "po\\\r\netry install", "mic\\romamba x"])
def test_every_python_manager_may_run(line):
    assert may_run_python_manager(line)
    assert any(recognise(c.argv) for c in parse_script(line).commands)


@pytest.mark.parametrize("line", ["apt-get install -y curl", "npm ci && node build.js", "echo '$PI''P'"])
def test_texts_without_a_manager_name_are_told_apart(line):
    assert not may_run_python_manager(line)
