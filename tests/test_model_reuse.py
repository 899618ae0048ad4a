"""What the model and the views keep on an instruction survives a re-parse only while it is
true: a RUN whose text did not change keeps its script (the same object, not parsed or looked
up again), an edited one gets its new text's; and the environment and users read on the tree
after an edit are the ones a fresh parse of the same text gives."""

from __future__ import annotations

from dockfix import parse
from dockfix.model import Model, called, env_before, installs, user_before
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


def test_a_run_s_commands_and_installs_survive_a_reparse_only_while_its_text_does() -> None:
    text = BEFORE + "RUN pip install flask && apt-get update\nRUN <<EOF\npip install django\nEOF\n"
    old = parse(text)
    kept = {i.logical: (Model.of(old).called(i), Model.of(old).installs(i)) for i in old.instructions if i.name == "RUN"}
    edited = text.replace("# a comment\n", "").replace("ARG BASE", "# a comment\nARG BASE") \
        .replace("pip install flask", "pip install flask==3")
    new = parse(edited, old.memo, old)
    fresh = parse(edited)
    for instr, other in zip(new.instructions, fresh.instructions, strict=True):
        if instr.name != "RUN":
            continue
        assert [(c.invocation, c.command, c.index) for c in called(new, instr)] == \
            [(c.invocation, c.command, c.index) for c in called(fresh, other)]
        assert [(i.tool, i.verb, i.command) for i in installs(new, instr)] == \
            [(i.tool, i.verb, i.command) for i in installs(fresh, other)]
        if instr.logical in kept and not instr.heredocs:  # the line alone: the same objects, not made again
            assert Model.of(new).called(instr) is kept[instr.logical][0]
            assert Model.of(new).installs(instr) is kept[instr.logical][1]
    assert [i.command.argv for i in installs(new, new.instructions[-2])] == [["pip", "install", "flask==3"]]
    assert [i.command.argv for i in installs(new, new.instructions[-1])] == [["pip", "install", "django"]]
