"""`--format github` and `--format gitlab` in the shapes their hosts document, and what SARIF
gained for code scanning (issue 14, item 6): fingerprints that survive moved lines, encoded URIs,
a warning for a folder without a Dockerfile.

GitHub: workflow commands, `::warning file={name},line={line},title={title}::{message}`, with the
runner's escapes (actions/toolkit, packages/core/src/command.ts: `%`, CR, LF in data; also `:` and
`,` in properties). GitLab: the Code Quality report, a JSON array of issues with `description`,
`check_name`, `fingerprint`, `severity` (info, minor, major, critical, blocker) and
`location.path` plus `location.lines.begin` (docs.gitlab.com, ci/testing/code_quality).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from dockfix.cli import EXIT_CHANGES, EXIT_CLEAN, EXIT_ERROR, app

NEEDS_FIX = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\n"
BROKEN = "FROM python:3.12\nRUN <<EOF\necho\n"
APT_CLEANUP = "remove the apt package lists after installing (hadolint DL3009)"

# GitLab's Code Quality report, as its documentation lists the required fields.
GITLAB_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {"type": "object", "required": ["path", "lines"],
                         "properties": {"path": {"type": "string", "minLength": 1},
                                        "lines": {"type": "object", "required": ["begin"],
                                                  "properties": {"begin": {"type": "integer", "minimum": 1}}}}},
        },
    },
}
# ::command key=value,key=value::message, one per line; values and message hold no raw CR, LF or %.
COMMAND = re.compile(r"::(warning|notice|error)( [a-zA-Z]+=[^,:\r\n]*(,[a-zA-Z]+=[^,:\r\n]*)*)?::[^\r\n]*")


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    return tmp_path


def dockfix(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def unescape_property(value: str) -> str:  # the runner's side (command.ts, toCommandProperties' inverse)
    return value.replace("%2C", ",").replace("%3A", ":").replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def test_github_annotations_one_command_per_fix_and_failure(work):
    write(work / "svc" / "Dockerfile", NEEDS_FIX)
    write(work / "bad" / "Dockerfile", BROKEN)
    result = dockfix("--check", "--format", "github", "--select", "apt", "--unsafe-fixes", ".")
    assert result.exit_code == EXIT_ERROR and result.stderr == ""
    lines = result.stdout.splitlines()
    assert all(COMMAND.fullmatch(line) for line in lines), lines
    assert lines == [
        "::error file=bad/Dockerfile,line=2,title=dockfix::unterminated heredoc 'EOF'",
        "::notice file=svc/Dockerfile,line=2,title=dockfix DF102 [apt]::install without recommended packages "
        "(hadolint DL3015) (unsafe fix: --unsafe-fixes)",
        f"::warning file=svc/Dockerfile,line=2,title=dockfix DF101 [apt]::{APT_CLEANUP}",
    ]


def test_github_values_are_escaped_as_the_runner_reads_them(work):
    folder = "a,b:c%d"  # each would end a property or be read as an escape
    write(work / folder / "Dockerfile", NEEDS_FIX)
    result = dockfix("--check", "--format", "github", "--select", "apt", "--no-unsafe-fixes", folder)
    assert result.exit_code == EXIT_CHANGES
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("::warning")]
    assert COMMAND.fullmatch(line), line
    properties = dict(p.split("=", 1) for p in line.split("::")[1].split(" ", 1)[1].split(","))
    assert unescape_property(properties["file"]) == f"{folder}/Dockerfile"
    assert properties["file"] == "a%2Cb%3Ac%25d/Dockerfile"


def test_github_a_clean_run_prints_nothing_and_an_empty_folder_warns(work):
    write(work / "Dockerfile", 'FROM python:3.12-slim\nCMD ["python"]\n')
    (work / "empty").mkdir()
    result = dockfix("--check", "--format", "github", "Dockerfile", "empty")
    assert result.exit_code == EXIT_CLEAN
    assert result.stdout == "::warning title=dockfix::empty: no Dockerfile found in this folder\n"


def test_gitlab_code_quality_report_has_the_documented_shape(work):
    write(work / "svc" / "Dockerfile", NEEDS_FIX)
    write(work / "other" / "Dockerfile", NEEDS_FIX)  # the same fixes in another file: other fingerprints
    write(work / "bad" / "Dockerfile", BROKEN)
    result = dockfix("--check", "--format", "gitlab", "--select", "apt", "--unsafe-fixes", ".")
    assert result.exit_code == EXIT_ERROR and result.stderr == ""
    issues = json.loads(result.stdout)
    jsonschema.validate(issues, GITLAB_SCHEMA)
    assert len(issues) == 5
    assert len({i["fingerprint"] for i in issues}) == 5  # unique, as GitLab requires
    by_path = {}
    for issue in issues:
        by_path.setdefault(issue["location"]["path"], []).append(issue)
    assert sorted(by_path) == ["bad/Dockerfile", "other/Dockerfile", "svc/Dockerfile"]
    (error,) = by_path["bad/Dockerfile"]
    assert (error["severity"], error["check_name"], error["location"]["lines"]["begin"]) == ("major", "dockfix/error", 2)
    severities = sorted((i["severity"], i["check_name"]) for i in by_path["svc/Dockerfile"])
    assert severities == [("info", "dockfix/DF102"), ("minor", "dockfix/DF101")]
    assert all(i["location"]["lines"]["begin"] == 2 for i in by_path["svc/Dockerfile"])


def test_gitlab_a_clean_run_is_an_empty_array(work):
    write(work / "Dockerfile", 'FROM python:3.12-slim\nCMD ["python"]\n')
    result = dockfix("--check", "--format", "gitlab", "Dockerfile")
    assert (result.exit_code, json.loads(result.stdout)) == (EXIT_CLEAN, [])


def _sarif(*args: str) -> dict:
    return json.loads(dockfix("--check", "--format", "sarif", *args).stdout)


def test_sarif_fingerprints_survive_moved_lines_and_differ_per_finding(work):
    path = write(work / "Dockerfile", NEEDS_FIX)
    before = _sarif("--select", "apt", "--unsafe-fixes", "Dockerfile")["runs"][0]["results"]
    path.write_text("# a comment above\n\n" + NEEDS_FIX)
    after = _sarif("--select", "apt", "--unsafe-fixes", "Dockerfile")["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after] == [4, 4]
    prints = [r["partialFingerprints"]["dockfixFix/v1"] for r in before]
    assert prints == [r["partialFingerprints"]["dockfixFix/v1"] for r in after]
    assert len(set(prints)) == 2 and all(re.fullmatch("[0-9a-f]{64}", p) for p in prints)


def test_sarif_uris_are_encoded_and_an_empty_folder_is_a_warning(work):
    write(work / "my app" / "Dockerfile", NEEDS_FIX)
    (work / "empty").mkdir()
    run = _sarif("--select", "apt", "my app", "empty")["runs"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {"my%20app/Dockerfile"}
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True  # a warning does not fail the run
    assert [(n["level"], n["message"]["text"]) for n in invocation["toolExecutionNotifications"]] == [
        ("warning", "no Dockerfile found in this folder")]


def test_a_folder_without_dockerfiles_in_json(work):
    (work / "empty").mkdir()
    result = dockfix("--check", "--format", "json", "empty")
    document = json.loads(result.stdout)
    assert result.exit_code == EXIT_CLEAN and result.stderr == ""
    assert document["files"] == [] and document["warnings"] == [
        {"path": "empty", "message": "no Dockerfile found in this folder"}]
