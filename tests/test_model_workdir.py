"""The working folder at each instruction (dockfix.model.workdir_before, folder_before)."""

from __future__ import annotations

import pytest

from dockfix.model import UNKNOWN_FOLDER, folder_before, workdir_before
from dockfix.split.classify import Classifier
from dockfix.split.equivalence import final_config
from dockfix.syntax import parse
from dockfix.views import stages


def at_last(dockerfile: str) -> str | None:
    """The folder the file's last instruction runs in."""
    tree = parse(dockerfile)
    return workdir_before(tree, tree.instructions[-1])


@pytest.mark.parametrize(("dockerfile", "folder"), [
    ("FROM python:3.12\nRUN x\n", "/"),  # an official image that sets no WORKDIR
    ("FROM scratch\nRUN x\n", "/"),
    ("FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim\nRUN x\n", "/"),  # FROM python, uv copied in
    ("FROM ghcr.io/astral-sh/uv:0.5.1\nRUN x\n", "/io"),  # uv's bare image works in /io
    ("ARG IMAGE=python:3.12\nFROM ${IMAGE}\nRUN x\n", "/"),  # the base named by a global ARG's default
    ("FROM python:3.12\nWORKDIR /app\nWORKDIR src\nWORKDIR ../lib/\nRUN x\n", "/app/lib"),  # relative joins
    ("FROM python:3.12\nWORKDIR app\nRUN x\n", "/app"),
    ('FROM python:3.12\nWORKDIR "/my app"\nRUN x\n', "/my app"),  # quotes removed, as BuildKit does
    ("FROM python:3.12\nARG APP=/srv/app\nWORKDIR $APP/web\nRUN x\n", "/srv/app/web"),
    ("FROM python:3.12\nENV HOME=/home/me\nWORKDIR ${HOME}\nWORKDIR code\nRUN x\n", "/home/me/code"),
    ("FROM python:3.12\nARG APP=/arg\nENV APP=/env\nWORKDIR $APP\nRUN x\n", "/env"),  # ENV wins over ARG
    ("FROM python:3.12\nWORKDIR ${APP:-/fallback}\nRUN x\n", "/fallback"),
    ("ARG APP=/global\nFROM python:3.12\nARG APP\nWORKDIR $APP\nRUN x\n", "/global"),  # the global default
    ("FROM python:3.12 AS base\nWORKDIR /app\nFROM base\nRUN x\n", "/app"),  # inherited through FROM <stage>
    ("FROM python:3.12 AS base\nWORKDIR /app\nFROM base\nWORKDIR sub\nRUN x\n", "/app/sub"),
    ("FROM python:3.12 AS base\nENV APP=/srv\nFROM base\nWORKDIR $APP\nRUN x\n", "/srv"),  # the parent's ENV
    ("FROM corp/image\nWORKDIR /app\nRUN x\n", "/app"),  # an absolute WORKDIR is known on any base
    ("FROM python:3.12\nWORKDIR $NOPE\nWORKDIR /again\nRUN x\n", "/again"),
])
def test_known_folders(dockerfile, folder):
    assert at_last(dockerfile) == folder


@pytest.mark.parametrize("dockerfile", [
    "FROM corp/image\nRUN x\n",  # a base whose recipe is not known may set a WORKDIR
    "FROM golang:1.22\nRUN x\n",  # an official image that sets one (/go)
    "FROM corp/image\nWORKDIR app\nRUN x\n",  # relative to the unknown one
    "FROM corp/image AS base\nFROM base\nRUN x\n",  # inherited, still unknown
    "FROM python:3.12\nWORKDIR $NOPE\nRUN x\n",  # a variable of no known value
    "FROM python:3.12\nWORKDIR $NOPE\nWORKDIR sub\nRUN x\n",
    "FROM python:3.12\nENV DIR=$NOPE/x\nWORKDIR $DIR\nRUN x\n",  # an ENV that holds it as written
])
def test_unknown_folders(dockerfile):
    assert at_last(dockerfile) is None


def test_an_unknown_folder_is_symbolic_so_relative_paths_still_compare():
    tree = parse("FROM corp/image\nWORKDIR app\nRUN x\nWORKDIR $NOPE/y\nRUN y\nCOPY . $NOPE/y\n")
    run_x, run_y = tree.instructions[2], tree.instructions[4]
    assert folder_before(tree, run_x).path == UNKNOWN_FOLDER + "/app"
    assert folder_before(tree, run_y).path == "/$NOPE/y"
    assert not folder_before(tree, run_x).known and not folder_before(tree, run_y).known


def test_each_stage_starts_from_its_own_base():
    tree = parse("FROM python:3.12\nWORKDIR /a\nFROM corp/image\nRUN x\nFROM python:3.12\nRUN y\n")
    assert workdir_before(tree, tree.instructions[3]) is None
    assert workdir_before(tree, tree.instructions[5]) == "/"


def test_the_split_reads_the_models_folder():
    # Classifier keeps no folder of its own: each step's is the model's ("?" when not known)
    tree = parse("FROM python:3.12\nARG APP=/srv\nWORKDIR $APP\nRUN pip install .\nWORKDIR $NOPE\nRUN pip install .\n")
    classifier = Classifier(tree)
    steps = [classifier.step(i) for i in stages(tree)[0].instructions]
    assert [s.workdir for s in steps] == ["/", "/", "/srv", "/srv", "?"]


@pytest.mark.parametrize(("dockerfile", "folder"), [
    ("FROM python:3.12\nWORKDIR /app\nWORKDIR src\n", "/app/src"),
    ("FROM python:3.12 AS base\nWORKDIR /app\nFROM base\nCMD x\n", "/app"),  # the image keeps its parent's
    ("FROM corp/image\nWORKDIR app\n", UNKNOWN_FOLDER + "/app"),  # the same symbol in both files compared
])
def test_the_split_s_equivalence_check_reads_the_image_s_folder_from_the_model(dockerfile, folder):
    assert final_config(parse(dockerfile)).settings["workdir"] == folder
