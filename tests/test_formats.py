"""`--format json` against its documented schema, `--format sarif` against SARIF 2.1.0's required structure."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from dockfix.cli import EXIT_CHANGES, EXIT_CLEAN, EXIT_ERROR, app
from dockfix.pages import page
from dockfix.transforms import RULES

NEEDS_FIX = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\n"
CLEAN = 'FROM python:3.12-slim\nCMD ["python"]\n'
NOT_PYTHON = "FROM node:20\nRUN npm ci\n"

_CODE = {"type": "string", "pattern": "^DF[0-9]{3}$"}
_APPLIED = {"type": "object", "required": ["transform", "message", "line", "end_line", "safe", "code"],
            "additionalProperties": False,
            "properties": {"transform": {"type": "string"}, "message": {"type": "string"},
                           "line": {"type": "integer", "minimum": 1}, "end_line": {"type": ["integer", "null"]},
                           "safe": {"type": "boolean"}, "code": _CODE}}
_NOTE = {"type": "object", "required": ["transform", "message", "line", "end_line", "code"], "additionalProperties": False,
         "properties": {"transform": {"type": "string"}, "message": {"type": "string"},
                        "line": {"type": ["integer", "null"]}, "end_line": {"type": ["integer", "null"]},
                        "code": _CODE}}
# The schema docs/formats.md documents (version 1).
JSON_SCHEMA = {
    "type": "object",
    "required": ["tool", "version", "schema_version", "mode", "files", "summary", "warnings"],
    "properties": {
        "tool": {"const": "dockfix"},
        "warnings": {"type": "array", "items": {"type": "object", "required": ["path", "message"],
                                                "additionalProperties": False,
                                                "properties": {"path": {"type": "string"},
                                                               "message": {"type": "string"}}}},
        "version": {"type": "string"},
        "schema_version": {"const": 1},
        "mode": {"enum": ["diff", "write", "check"]},
        "files": {"type": "array", "items": {
            "type": "object",
            "required": ["path", "status", "fixes", "notes", "skip_reason", "error", "written", "warnings",
                         "hidden_fixes", "diff"],
            "additionalProperties": False,
            "properties": {
                "path": {"type": "string"},
                "status": {"enum": ["changed", "unchanged", "skipped", "failed"]},
                "fixes": {"type": "array", "items": _APPLIED},
                "notes": {"type": "array", "items": _NOTE},
                "skip_reason": {"type": ["string", "null"]},
                "error": {"oneOf": [{"type": "null"}, {
                    "type": "object", "required": ["message", "line", "bug"], "additionalProperties": False,
                    "properties": {"message": {"type": "string"}, "line": {"type": ["integer", "null"]},
                                   "bug": {"type": "boolean"}}}]},
                "written": {"type": "array", "items": {"type": "string"}},
                "warnings": {"type": "array", "items": {"type": "string"}},
                "hidden_fixes": {"type": "integer", "minimum": 0},
                "diff": {"type": "string"},
            }}},
        "summary": {"type": "object", "required": ["files", "changed", "unchanged", "skipped", "failed", "skip_reasons"],
                    "properties": {k: {"type": "integer", "minimum": 0}
                                   for k in ("files", "changed", "unchanged", "skipped", "failed")}
                    | {"skip_reasons": {"type": "object", "additionalProperties": {"type": "integer"}}}},
    },
}

_MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}}
_LOCATION = {"type": "object", "required": ["physicalLocation"], "properties": {"physicalLocation": {
    "type": "object", "required": ["artifactLocation"],
    "properties": {"artifactLocation": {"type": "object", "required": ["uri"], "properties": {"uri": {"type": "string"}}},
                   "region": {"type": "object", "required": ["startLine"],
                              "properties": {"startLine": {"type": "integer", "minimum": 1}}}}}}}
# The parts of the SARIF 2.1.0 schema that code-scanning services require, as the standard words them.
SARIF_SCHEMA = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string", "format": "uri"},
        "runs": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
            "type": "object", "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name", "rules"],
                    "properties": {"name": {"const": "dockfix"}, "rules": {"type": "array", "items": {
                        "type": "object", "required": ["id", "shortDescription", "help"],
                        "properties": {"id": {"type": "string"}, "shortDescription": _MESSAGE,
                                       "fullDescription": _MESSAGE,
                                       "help": {"type": "object", "required": ["text"]}}}}}}}},
                "invocations": {"type": "array", "items": {
                    "type": "object", "required": ["executionSuccessful"],
                    "properties": {"executionSuccessful": {"type": "boolean"},
                                   "toolExecutionNotifications": {"type": "array", "items": {
                                       "type": "object", "required": ["message", "level"],
                                       "properties": {"message": _MESSAGE, "level": {"const": "error"},
                                                      "locations": {"type": "array", "items": _LOCATION}}}}}}},
                "results": {"type": "array", "items": {
                    "type": "object", "required": ["ruleId", "message", "locations", "level"],
                    "properties": {"ruleId": {"type": "string"}, "ruleIndex": {"type": "integer", "minimum": 0},
                                   "message": _MESSAGE, "level": {"enum": ["note", "warning"]},
                                   "locations": {"type": "array", "minItems": 1, "items": _LOCATION}}}},
            }}},
    },
}


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, text in {"a/Dockerfile": NEEDS_FIX, "b/Dockerfile": CLEAN, "c/Dockerfile": NOT_PYTHON,
                       "d/Dockerfile": "FROM python:3.12\nRUN <<EOF\necho\n"}.items():
        path = tmp_path / "repo" / name
        path.parent.mkdir(parents=True)
        path.write_text(text)
    return tmp_path


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.mark.parametrize("mode", ["--check", "--diff", "--write"])
def test_json_follows_the_documented_schema_with_a_record_per_file(work, mode):
    result = run(mode, "--select", "apt", "--unsafe-fixes", "--format", "json", "repo")
    assert result.exit_code == EXIT_ERROR and result.stderr == ""  # everything is in the document
    document = json.loads(result.stdout)
    jsonschema.validate(document, JSON_SCHEMA)
    records = {r["path"]: r for r in document["files"]}
    assert list(records) == ["repo/a/Dockerfile", "repo/b/Dockerfile", "repo/c/Dockerfile", "repo/d/Dockerfile"]
    a = records["repo/a/Dockerfile"]
    assert a["status"] == "changed" and {f["line"] for f in a["fixes"]} == {2}
    assert {(f["transform"], f["safe"]) for f in a["fixes"]} == {("apt", True), ("apt", False)}
    assert a["diff"].startswith("diff --git a/repo/a/Dockerfile")  # in every mode: what changes (or changed)
    assert a["written"] == (["repo/a/Dockerfile"] if mode == "--write" else [])
    assert records["repo/b/Dockerfile"]["status"] == "unchanged"
    c = records["repo/c/Dockerfile"]
    assert c["status"] == "skipped" and c["skip_reason"] == "not a Python image"
    d = records["repo/d/Dockerfile"]
    assert d["status"] == "failed" and d["error"]["line"] == 2 and "unterminated heredoc" in d["error"]["message"]
    assert document["summary"] == {"files": 4, "changed": 1, "unchanged": 1, "skipped": 1, "failed": 1,
                                   "skip_reasons": {"not a Python image": 1}}


def test_json_of_a_clean_run(work):
    result = run("--check", "--format", "json", "repo/b/Dockerfile")
    assert result.exit_code == EXIT_CLEAN
    document = json.loads(result.stdout)
    jsonschema.validate(document, JSON_SCHEMA)
    assert [r["status"] for r in document["files"]] == ["unchanged"]


def test_sarif_has_the_required_structure_rules_results_and_notifications(work):
    result = run("--check", "--select", "apt", "--unsafe-fixes", "--format", "sarif", "repo")
    assert result.exit_code == EXIT_ERROR
    document = json.loads(result.stdout)
    jsonschema.validate(document, SARIF_SCHEMA)
    (sarif_run,) = document["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.code for r in RULES]  # every rule, by its code
    for rule, found in zip(rules, RULES):
        assert rule["name"] == found.name and rule["properties"]["transform"] == found.transform
        assert rule["help"]["text"].startswith(f"{found.code} {found.name} (")  # the rule, then its page
        assert rule["help"]["text"].endswith(page(found.transform))
    results = sarif_run["results"]
    assert {(r["ruleId"], r["level"]) for r in results} == {("DF101", "warning"), ("DF102", "note")}
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        location = r["locations"][0]["physicalLocation"]
        assert (location["artifactLocation"]["uri"], location["region"]["startLine"]) == ("repo/a/Dockerfile", 2)
    (invocation,) = sarif_run["invocations"]
    assert invocation["executionSuccessful"] is False
    (failure,) = invocation["toolExecutionNotifications"]
    assert "unterminated heredoc" in failure["message"]["text"]
    assert failure["locations"][0]["physicalLocation"]["region"]["startLine"] == 2


def test_sarif_of_a_clean_run_is_successful_and_empty(work):
    result = run("--check", "--format", "sarif", "repo/b/Dockerfile")
    document = json.loads(result.stdout)
    jsonschema.validate(document, SARIF_SCHEMA)
    assert document["runs"][0]["results"] == []
    assert document["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_check_prints_file_line_per_pending_change(work):
    result = run("--check", "--select", "apt", "--unsafe-fixes", "repo/a/Dockerfile")
    assert result.exit_code == EXIT_CHANGES
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("repo/a/Dockerfile:2: [apt] ") for line in lines)


def test_an_unknown_format_is_a_usage_error(work):
    result = run("--format", "xml", "repo")
    assert result.exit_code == EXIT_ERROR and result.stderr == ("dockfix: error: unknown format: xml "
                                                      "(text, json, sarif, github or gitlab)\n")


def test_the_formats_page_documents_the_json_fields():
    page = (Path(__file__).resolve().parents[1] / "docs" / "formats.md").read_text()
    section = page[page.index("## `--format json`"):]
    for field in JSON_SCHEMA["properties"]["files"]["items"]["required"]:
        assert f"`{field}`" in section, field
