"""`--color always` colours the checklist's table even into a pipe (issue 14, item 3): the caller
decides colour, rich does not second-guess it from the stream."""

from __future__ import annotations

from typer.testing import CliRunner

from dockfix.cli import app

DOCKERFILE = "FROM python:3.12\nCOPY . .\nRUN pip install -r requirements.txt\n"


def test_checklist_colour_follows_the_option_not_the_stream(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("NO_COLOR", raising=False)
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "requirements.txt").write_text("flask\n")
    always = CliRunner().invoke(app, ["--checklist", "--color", "always", "Dockerfile"])
    never = CliRunner().invoke(app, ["--checklist", "--color", "never", "Dockerfile"])
    auto = CliRunner().invoke(app, ["--checklist", "Dockerfile"])  # a pipe: plain
    assert always.exit_code == never.exit_code == auto.exit_code == 1  # items fail
    assert "\x1b[" in always.stdout
    assert "\x1b[" not in never.stdout and "\x1b[" not in auto.stdout
    assert never.stdout == auto.stdout and "FAIL" in never.stdout
