"""cache-mounts: what the transform recognises and decides, as tables (the
whole rewrites are golden cases under golden/cache-mounts/)."""

from __future__ import annotations

import pytest

from dockfix import parse
from dockfix.context import Context
from dockfix.engine import Fix, Note, run_pipeline
from dockfix.model import classify, env_before, user_before
from dockfix.shell import parse_script
from dockfix.syntax import ParseError
from dockfix.transforms import cache_mounts

COMMANDS = {
    "pip": ("pip install -r r.txt", ("pip", "install")),
    "pip3-path": ("/opt/venv/bin/pip3 install x", ("pip", "install")),
    "pip3.12": ("pip3.12 install x", ("pip", "install")),
    "python-m-pip": ("python3 -m pip install x", ("pip", "install")),
    "pip-global-option": ("pip --disable-pip-version-check install x", ("pip", "install")),
    "uv-sync": ("uv sync --locked", ("uv", "sync")),
    "uv-global-option": ("uv --no-cache pip install x", ("uv", "install")),
    "uv-pip-sync": ("uv pip sync r.txt", ("uv", "pip-sync")),
    "poetry": ("poetry install --no-root", ("poetry", "install")),
    "inline-env": ("VIRTUAL_ENV=/v uv pip install x", ("uv", "install")),
    "pip-download": ("pip download x", None),
    "pip-show": ("pip show install", None),
    "pipenv": ("pipenv install", None),
    "uv-venv": ("uv venv", None),
    "uv-run": ("uv run pip install x", None),
}


@pytest.mark.parametrize("text,expected", COMMANDS.values(), ids=COMMANDS.keys())
def test_classify(text, expected):
    assert classify(parse_script(text).commands[0]) == expected


USERS = {
    "root": ("FROM python\nRUN true\n", ("root", "/root", "0")),
    "useradd-m-u": ("FROM python\nRUN useradd -m -u 1000 app\nUSER app\nRUN true\n", ("app", "/home/app", "1000")),
    "useradd-home-dir": ("FROM python\nRUN useradd --uid 999 --home-dir /srv/app app\nUSER app:app\nRUN true\n",
                         ("app", "/srv/app", "999")),
    "useradd-no-uid": ("FROM python\nRUN useradd -m app\nUSER app\nRUN true\n", ("app", "/home/app", None)),
    "adduser-home": ("FROM python\nRUN adduser --system --uid 1000 --home /var/lib/r r\nUSER r\nRUN true\n",
                     ("r", "/var/lib/r", "1000")),
    "adduser-system": ("FROM python\nRUN adduser --system --uid 1000 r\nUSER r\nRUN true\n", ("r", None, "1000")),
    "numeric-user": ("FROM python\nRUN useradd -m -u 1001 app\nUSER 1001\nRUN true\n", ("app", "/home/app", "1001")),
    # a build argument is only today's default: the mount names the variable, as useradd did
    "uid-from-arg": ("FROM python\nARG UID=1002\nRUN useradd -m -u ${UID} app\nUSER app\nRUN true\n",
                     ("app", "/home/app", "${UID}")),
    "uid-from-arg-quoted": ('FROM python\nARG UID=1002\nRUN useradd -m -u "$UID" app\nUSER app\nRUN true\n',
                            ("app", "/home/app", "${UID}")),
    "uid-arg-not-in-scope": ("FROM python AS a\nARG UID=1002\nRUN useradd -m -u ${UID} app\nUSER app\n"
                             "FROM a\nRUN true\n", ("app", "/home/app", None)),
    "uid-arg-changed": ("FROM python\nARG UID=1002\nRUN useradd -m -u ${UID} app\nUSER app\nENV UID=7\n"
                        "RUN true\n", ("app", "/home/app", None)),
    "uid-set-in-the-run": ("FROM python\nARG UID=1002\nRUN export UID=9 && useradd -m -u $UID app\nUSER app\n"
                           "RUN true\n", ("app", "/home/app", None)),
    "uid-from-an-expression": ("FROM python\nARG UID=1002\nRUN useradd -m -u ${UID}0 app\nUSER app\nRUN true\n",
                               ("app", "/home/app", None)),
    # a home made from a name that is a build argument: --build-arg USERNAME=bob moves it
    "name-from-arg": ("FROM python\nARG USERNAME=app\nRUN useradd -m -u 1000 $USERNAME\nUSER $USERNAME\nRUN true\n",
                      ("app", None, "1000")),
    "name-from-arg-explicit-home": ("FROM python\nARG USERNAME=app\nRUN useradd -m -d /srv/app -u 1000 $USERNAME\n"
                                    "USER $USERNAME\nRUN true\n", ("app", "/srv/app", "1000")),
    "base-dir-from-arg": ("FROM python\nARG BASE=/srv\nRUN useradd -m -b $BASE -u 1000 app\nUSER app\nRUN true\n",
                          ("app", None, "1000")),
    "numeric-user-from-arg": ("FROM python\nARG UID=1002\nUSER ${UID}\nRUN true\n", ("1002", None, "${UID}")),
    "env-home": ("FROM python\nRUN useradd -u 5 app\nENV HOME=/app\nUSER app\nRUN true\n", ("app", "/app", "5")),
    "base-image-user": ("FROM jupyter/base-notebook\nUSER jovyan\nRUN true\n", ("jovyan", None, None)),
    "inherited-stage": ("FROM python AS a\nRUN useradd -m -u 7 app\nUSER app\nFROM a\nRUN true\n",
                        ("app", "/home/app", "7")),
}


@pytest.mark.parametrize("text,expected", USERS.values(), ids=USERS.keys())
def test_user_before(text, expected):
    tree = parse(text)
    user = user_before(tree, tree.instructions[-1])
    assert (user.name, user.home, user.uid) == expected


def test_env_follows_stages_and_args():
    tree = parse("ARG CACHE=/c\nFROM python AS a\nENV A=1\nARG B=2\nFROM a\nARG CACHE\nENV D=$CACHE/x\nRUN true\n")
    assert env_before(tree, tree.instructions[-1]) == {"A": "1", "CACHE": "/c", "D": "/c/x"}


def _fixes(text: str) -> list[Fix | Note]:
    tree = parse(text)
    return list(cache_mounts.find(tree, Context(files={})))


LEFT_ALONE = {
    "removes-cache-glob": "FROM python\nRUN pip install x && rm -rf /root/.cache/*\n",
    "removes-home-cache": "FROM python\nRUN pip install x && rm -rf ~/.cache\n",
    "pip-cache-purge": "FROM python\nRUN pip install x && pip cache purge\n",
    "relative-cache-dir": "FROM python\nENV UV_CACHE_DIR=.cache\nRUN uv sync\n",
    "unknown-variable": "FROM python\nRUN pip install --cache-dir=$SOMEWHERE x\n",
    "bind-mount-on-cache": "FROM python\nRUN --mount=type=bind,source=c,target=/root/.cache/pip pip install x\n",
    "windows": "FROM python:3.12-windowsservercore\nRUN pip install --no-cache-dir x\n",
    "powershell": "FROM python:3.12\nSHELL [\"pwsh\", \"-Command\"]\nRUN pip install --no-cache-dir x\n",
    "python-heredoc": "FROM python\nRUN python3 <<EOF\nimport os\nos.system('pip install x')\nEOF\n",
}


@pytest.mark.parametrize("text", LEFT_ALONE.values(), ids=LEFT_ALONE.keys())
def test_left_alone(text):
    assert not [f for f in _fixes(text) if isinstance(f, Fix)]


def test_cleaning_a_subfolder_keeps_the_mount():
    fixes = [f for f in _fixes("FROM python\nRUN pip install x && rm -rf /root/.cache/pip/http\n") if isinstance(f, Fix)]
    assert len(fixes) == 1


def test_one_mount_for_two_installs_and_every_defeating_flag_goes():
    text = "FROM python\nRUN pip install --no-cache-dir a && pip install --no-cache b\n"
    out = run_pipeline(text, Context(files={}), [cache_mounts.TRANSFORM]).output
    assert out == "FROM python\nRUN --mount=type=cache,target=/root/.cache/pip pip install a && pip install b\n"


def test_pip_and_uv_in_one_run_get_two_mounts():
    text = "FROM python\nRUN pip install uv && uv pip install --system x\n"
    out = run_pipeline(text, Context(files={}), [cache_mounts.TRANSFORM]).output
    assert "--mount=type=cache,target=/root/.cache/pip --mount=type=cache,target=/root/.cache/uv pip install" in out
    assert "ENV UV_LINK_MODE=copy\nRUN" in out


def test_never_adds_a_syntax_directive(corpus):
    from dockfix.transforms import PIPELINE
    for path in corpus:
        text = path.read_bytes().decode()
        try:
            out = run_pipeline(text, Context(files={}), PIPELINE, unsafe=True).output
        except ParseError:
            continue  # files dockfix cannot parse are another test's business
        assert out.count("# syntax=") == text.count("# syntax="), path.name


def test_a_uid_from_a_build_argument_is_the_argument_in_the_mount():
    """Issue 12, class 5: ARG USER_UID=1000 is a default (--build-arg USER_UID=1001 changes it):
    the mount says uid=${USER_UID}, which BuildKit expands as the RUN that made the user did
    (the lab's nonroot-uid-arg fixture builds it with another uid)."""
    from dockfix.context import Context
    from dockfix.engine import run_pipeline
    from dockfix.transforms import cache_mounts

    text = ("FROM python:3.12-slim\nARG USER_UID=1000\nRUN useradd -m -u $USER_UID app\nUSER app\n"
            "RUN pip install --user flask\n")
    outcome = run_pipeline(text, Context(files={}), [cache_mounts.TRANSFORM])
    assert "RUN --mount=type=cache,target=/home/app/.cache/pip,uid=${USER_UID} pip install" in outcome.output
    literal = text.replace("$USER_UID", "1000")
    assert "uid=1000" in run_pipeline(literal, Context(files={}), [cache_mounts.TRANSFORM]).output


BASES = {  # FROM ... ; RUN pip install --no-cache-dir x -> mounted?
    "official": ("FROM python:3.12-slim\n", True),
    "official-tag-unknown": ("ARG PY\nFROM python:${PY}-slim\n", True),
    "official-by-registry": ("FROM docker.io/library/python:3.12\n", True),
    "uv-image": ("FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim\n", True),
    "vendor-no-user": ("FROM jupyter/scipy-notebook:2024-05-27\n", False),
    "vendor-as-root": ("FROM jupyter/scipy-notebook:2024-05-27\nUSER root\n", False),  # its HOME is /home/jovyan
    "vendor-cache-dir-said": ("FROM jupyter/scipy-notebook:2024-05-27\nUSER root\nENV PIP_CACHE_DIR=/var/cache/pip\n", True),
    "image-through-arg": ("ARG FROM\nFROM ${FROM}\n", False),
    "stage-of-official": ("FROM python:3.12 AS base\nFROM base\n", True),
}


@pytest.mark.parametrize("head,mounted", BASES.values(), ids=BASES.keys())
def test_mounts_only_where_the_base_images_user_and_environment_are_known(head, mounted):
    text = head + "RUN pip install --no-cache-dir flask\n"
    out = run_pipeline(text, Context(files={}), [cache_mounts.TRANSFORM]).output
    assert ("--mount=type=cache" in out) is mounted
    assert ("--no-cache-dir" in out) is not mounted


REMOVALS = {  # an rm in the RUN -> is the pip cache still mounted?
    "command-substitution": ("rm -rf $(pip cache dir)", False),
    "unknown-variable-anywhere": ("rm -rf $CACHE", False),
    "unknown-variable-inside-the-cache": ("rm -rf /root/.cache/pip/$WHAT", True),  # inside the mount, not its point
    "unknown-variable-beside-the-cache": ("rm -rf /root/.cache/$WHAT", False),  # may be /root/.cache/pip
    "unknown-variable-elsewhere": ("rm -rf /tmp/$BUILD_DIR", True),
    "unknown-variable-above": ("rm -rf /root/$WHAT", False),  # may be /root/.cache
}


@pytest.mark.parametrize("rm,mounted", REMOVALS.values(), ids=REMOVALS.keys())
def test_an_rm_of_a_path_dockfix_cannot_resolve_blocks_the_mount_only_where_it_may_reach(rm, mounted):
    text = f"FROM python:3.12-slim\nRUN pip install flask && {rm}\n"
    out = run_pipeline(text, Context(files={}), [cache_mounts.TRANSFORM]).output
    assert ("--mount=type=cache" in out) is mounted
