"""What the model and the views keep on an instruction survives a re-parse only while it is
true: a RUN whose text did not change keeps its script (the same object, not parsed or looked
up again), an edited one gets its new text's; and the environment and users read on the tree
after an edit are the ones a fresh parse of the same text gives."""

from __future__ import annotations

from dockfix import parse
from dockfix.model import env_before, user_before
from dockfix.views import Run

BEFORE = """\
ARG BASE=python:3.12-slim
FROM $BASE AS build
ENV APP=/app PATH=/opt/venv/bin:$PATH
RUN useradd -m -u 1001 app
USER app
RUN pip install -r requirements.txt
FROM build
ARG MODE=prod
ENV MODE=$MODE HOME=/home/$APP
RUN echo $MODE
"""

# one RUN edited, lines added above the others (so the unchanged ones move)
AFTER = BEFORE.replace("ARG BASE", "# a comment\nARG BASE").replace("echo $MODE", "echo $MODE done")


def test_an_unchanged_run_keeps_its_script_and_an_edited_one_does_not() -> None:
    old = parse(BEFORE)
    scripts = {i.logical: Run(i).script for i in old.instructions if i.name == "RUN"}
    new = parse(AFTER, old.memo, old)
    fresh = parse(AFTER)
    for instr, other in zip(new.instructions, fresh.instructions, strict=True):
        if instr.name != "RUN":
            continue
        assert Run(instr).script == Run(other).script
        if instr.logical in scripts:
            assert Run(instr).script is scripts[instr.logical]
        else:
            assert "done" in instr.logical and Run(instr).script.commands[0].argv == ["echo", "$MODE", "done"]


def test_environment_and_users_after_a_reparse_are_a_fresh_parse_s() -> None:
    old = parse(BEFORE)
    for instr in old.instructions:  # the first tree's model computed, as in the engine's first round
        env_before(old, instr), user_before(old, instr)
    new = parse(AFTER, old.memo, old)
    fresh = parse(AFTER)
    for instr, other in zip(new.instructions, fresh.instructions, strict=True):
        assert dict(env_before(new, instr)) == dict(env_before(fresh, other))
        assert user_before(new, instr) == user_before(fresh, other)
    last = new.instructions[-1]
    assert env_before(new, last)["HOME"] == "/home//app" and user_before(new, last).uid == "1001"
