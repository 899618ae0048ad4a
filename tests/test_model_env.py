"""The environment at each instruction (dockfix.model.env_before, env_at_end): BuildKit's rules,
read by every transform and by the split's classifier alike."""

from __future__ import annotations

from dockfix.model import env_at_end, env_before
from dockfix.split.classify import Classifier
from dockfix.syntax import parse
from dockfix.views import stages


def _before_last(text: str) -> dict[str, str]:
    tree = parse(text)
    return dict(env_before(tree, tree.instructions[-1]))


def test_a_value_keeps_the_unknown_variables_and_expands_the_known_ones() -> None:
    env = _before_last("FROM python:3.12\nENV VENV=/opt/venv\nENV PATH=$VENV/bin:$PATH\nENV VENV=/other\nRUN true\n")
    # (substituted when the ENV runs: a later VENV does not move PATH; the base image's PATH is not known)
    assert env["PATH"] == "/opt/venv/bin:$PATH" and env["VENV"] == "/other"


def test_the_later_of_env_and_arg_wins() -> None:
    # BuildKit's dispatcher adds an ARG's value to the same environment ENV sets (dispatchArg: AddEnv)
    assert _before_last("FROM python:3.12\nARG A=arg\nENV A=env\nRUN true\n")["A"] == "env"
    assert _before_last("FROM python:3.12\nENV A=env\nARG A=arg\nRUN true\n")["A"] == "arg"
    assert _before_last("FROM python:3.12\nARG A=1\nARG A=2\nRUN true\n")["A"] == "2"
    assert _before_last("FROM python:3.12\nENV A=env\nARG A\nRUN true\n")["A"] == "env"  # no value: no change


def test_a_stage_arg_without_a_value_takes_the_global_default_and_env_is_inherited() -> None:
    text = ("ARG VENV=/opt/venv\nFROM python:3.12 AS base\nARG VENV\nARG ONLY_HERE=1\nENV HOME_DIR=/srv\n"
            "FROM base\nRUN true\n")
    env = _before_last(text)
    assert env == {"HOME_DIR": "/srv"}  # a parent stage's ENV, not its ARGs
    tree = parse(text)
    assert dict(env_at_end(tree, stages(tree)[0])) == {"VENV": "/opt/venv", "ONLY_HERE": "1", "HOME_DIR": "/srv"}


def test_the_classifier_reads_the_models_environment() -> None:
    tree = parse("ARG VENV=/opt/venv\nFROM python:3.12\nARG VENV\nRUN python -m venv $VENV\n"
                 "ENV PATH=$VENV/bin:$PATH\nRUN pip install flask\n")
    classifier = Classifier(tree)
    steps = [classifier.step(i) for i in stages(tree)[0].instructions]
    assert steps[-1].env is env_before(tree, steps[-1].instr)
    assert [c.target for c in steps[1].installs] == ["/opt/venv"]  # the global default, not "?"
    assert [c.target for c in steps[-1].installs] == ["/opt/venv"]  # the venv first on PATH


def test_a_child_stage_inherits_the_env_values_as_its_parent_expanded_them() -> None:
    # the image keeps ENV X as expanded when it ran (with the parent's ARG), not `$V` to read again
    env = _before_last("FROM python:3.12 AS base\nARG V=1\nENV X=/srv/$V\nENV A=env\nARG A=arg\n"
                       "FROM base\nRUN true\n")
    assert env == {"X": "/srv/1", "A": "env"}  # (an ARG changes the build's environment, not the image's)
