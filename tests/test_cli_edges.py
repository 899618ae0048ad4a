"""The command line at the edges a daily user touches (issue 14): standard input for editors, the
hidden-fixes hint, the conventions other linters taught (-V, --exit-zero, --statistics,
--show-fixes, an empty folder), colour, and configuration files (--config, dockfix.toml,
an unknown key said once per run).

In-process through typer.testing.CliRunner (stdin is its `input`), as tests/test_cli.py does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockfix.cli import EXIT_CHANGES, EXIT_CLEAN, EXIT_ERROR, app

NEEDS_FIX = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\n"
FIXED = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
CLEAN = 'FROM python:3.12-slim\nCMD ["python"]\n'
# A Python app copied whole with no .dockerignore: the dockerignore transform would create one.
APP = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n"
SGR = re.compile("\x1b\\[[0-9;]*m")


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()  # a repository: the config search stops here
    return tmp_path


def dockfix(*args: str, input: str | bytes | None = None):
    result = CliRunner().invoke(app, list(args), input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    return result


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- standard input ------------------------------------------------------------------------------

def test_stdin_diff_and_check_name_the_text_dash(work):
    diffed = dockfix("--diff", "--select", "apt", "-", input=NEEDS_FIX)
    assert diffed.exit_code == EXIT_CHANGES
    assert diffed.stdout.startswith("diff --git a/- b/-\n--- a/-\n+++ b/-\n")
    checked = dockfix("--check", "--select", "apt", "-", input=NEEDS_FIX)
    assert (checked.exit_code, checked.stdout) == (EXIT_CHANGES, "-:2: [apt] DF101 remove the apt package lists after "
                                                                 "installing (hadolint DL3009)\n")
    assert dockfix("--check", "-", input=CLEAN).exit_code == EXIT_CLEAN
    assert list(work.iterdir()) == [work / ".git"]  # nothing written


def test_write_dash_prints_the_fixed_text_and_exits_0(work):
    fixed = dockfix("--write", "--select", "apt", "-", input=NEEDS_FIX)
    assert (fixed.exit_code, fixed.stdout, fixed.stderr) == (EXIT_CLEAN, FIXED, "")
    same = dockfix("--write", "-", input=CLEAN)  # nothing to fix: the text as it came
    assert (same.exit_code, same.stdout) == (EXIT_CLEAN, CLEAN)
    crlf = NEEDS_FIX.replace("\n", "\r\n")
    assert dockfix("--write", "--select", "apt", "-", input=crlf.encode()).stdout_bytes == \
        FIXED.replace("\n", "\r\n").encode()
    assert list(work.iterdir()) == [work / ".git"]


@pytest.mark.parametrize("text, message", [
    (b"FROM python:3.12\nRUN <<EOF\necho\n", "-:2: error: unterminated heredoc 'EOF'"),
    (b"FROM python:3.12\nLABEL a=\xe9\n", "-:2: error: not UTF-8 text"),
    (b"", "-: error: empty file"),
])
def test_write_dash_echoes_text_it_cannot_fix_and_exits_2(work, text, message):
    result = dockfix("--write", "-", input=text)
    assert result.exit_code == EXIT_ERROR
    assert result.stdout_bytes == text  # an editor's buffer is never replaced by nothing
    assert result.stderr.splitlines() == [message]


def test_stdin_filename_gives_the_context_the_config_and_the_name(work):
    svc = work / "svc"
    write(svc / "requirements.txt", "flask\n")
    write(svc / "app.py", "print('hi')\n")
    write(svc / "dockfix.toml", 'select = ["dockerignore"]\n')
    checked = dockfix("--check", "--stdin-filename", "svc/Dockerfile", input=APP)  # alone, it implies -
    assert checked.exit_code == EXIT_CHANGES
    assert checked.stdout.startswith("svc/Dockerfile:1: [dockerignore] DF501 exclude from the build context"), checked.stdout
    diffed = dockfix("--diff", "--stdin-filename", "svc/Dockerfile", "-", input=APP)
    assert "+++ b/svc/.dockerignore\n" in diffed.stdout  # the context file, shown...
    written = dockfix("--write", "--stdin-filename", "svc/Dockerfile", "-", input=APP)
    assert (written.exit_code, written.stdout) == (EXIT_CLEAN, APP)  # the Dockerfile needs nothing else
    assert written.stderr.splitlines() == [
        "svc/Dockerfile: warning: svc/.dockerignore not written (standard input: dockfix writes no file); "
        "run dockfix --write on the Dockerfile itself to create it"]
    assert not (svc / ".dockerignore").exists() and not (svc / "Dockerfile").exists()  # ...never written


def test_stdin_goes_alone(work):
    write(work / "Dockerfile", NEEDS_FIX)
    for args, message in [(["-", "Dockerfile"], "- (standard input) goes alone"),
                          (["--stdin-filename", "x/Dockerfile", "Dockerfile"], "--stdin-filename names standard input"),
                          (["--write", "--format", "json", "-"], "--write - prints the fixed text")]:
        result = dockfix(*args, input=NEEDS_FIX)
        assert result.exit_code == EXIT_ERROR and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("dockfix: error: ") and message in result.stderr


def test_stdin_json_names_the_file(work):
    result = dockfix("--check", "--format", "json", "--select", "apt", "--stdin-filename", "a/Dockerfile", input=NEEDS_FIX)
    document = json.loads(result.stdout)
    assert [f["path"] for f in document["files"]] == ["a/Dockerfile"] and result.stderr == ""


# --- the hint ------------------------------------------------------------------------------------

def test_hidden_fixes_are_counted_and_hinted_with_safe_fixes_only(work):
    write(work / "Dockerfile", NEEDS_FIX)
    safe = dockfix("--check", "--select", "apt", "Dockerfile")
    assert safe.stderr == "1 hidden fix can be enabled with --unsafe-fixes\n"  # --no-install-recommends
    unsafe = dockfix("--check", "--select", "apt", "--unsafe-fixes", "Dockerfile")
    assert unsafe.stderr == "" and "(hadolint DL3015)" in unsafe.stdout  # --no-install-recommends
    document = json.loads(dockfix("--check", "--format", "json", "--select", "apt", "Dockerfile").stdout)
    assert document["files"][0]["hidden_fixes"] == 1
    write(work / "b" / "Dockerfile", NEEDS_FIX)
    both = dockfix("--check", "--select", "apt", ".")
    assert both.stderr.splitlines() == ["2 hidden fixes can be enabled with --unsafe-fixes",
                                        "2 files: 2 changed, 0 unchanged, 0 skipped, 0 failed"]


def test_no_hint_when_nothing_is_hidden(work):
    write(work / "Dockerfile", "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends "
          "curl\n")
    result = dockfix("--check", "--select", "apt", "Dockerfile")
    assert result.exit_code == EXIT_CHANGES and result.stderr == ""
    assert json.loads(dockfix("--check", "--format", "json", "Dockerfile").stdout)["files"][0]["hidden_fixes"] == 0


# --- conventions ---------------------------------------------------------------------------------

def test_dash_v_capital_is_the_version():
    short, long = dockfix("-V"), dockfix("--version")
    assert short.exit_code == long.exit_code == EXIT_CLEAN
    assert short.stdout == long.stdout and re.fullmatch(r"dockfix \d+\.\d+\.\d+\S*\n", short.stdout)


def test_exit_zero_turns_changes_into_0_but_not_errors(work):
    write(work / "Dockerfile", NEEDS_FIX)
    result = dockfix("--check", "--exit-zero", "--select", "apt", "Dockerfile")
    assert result.exit_code == EXIT_CLEAN and "Dockerfile:2: [apt]" in result.stdout
    assert dockfix("--check", "--exit-zero", "missing/Dockerfile").exit_code == EXIT_ERROR


def test_statistics_count_fixes_per_transform_instead_of_listing_them(work):
    for name in ("a", "b", "c"):
        write(work / name / "Dockerfile", NEEDS_FIX)
    result = dockfix("--check", "--statistics", "--select", "apt", ".")
    assert result.exit_code == EXIT_CHANGES
    assert result.stdout.splitlines() == ["3  apt", "3  hidden: need --unsafe-fixes"]
    unsafe = dockfix("--diff", "--statistics", "--select", "apt", "--unsafe-fixes", ".")
    assert unsafe.stdout.splitlines() == ["6  apt  (3 unsafe)"]  # no diff printed
    assert dockfix("--statistics", "--format", "json", ".").exit_code == EXIT_ERROR


def test_show_fixes_lists_what_write_did(work):
    path = write(work / "Dockerfile", NEEDS_FIX)
    result = dockfix("--write", "--show-fixes", "--select", "apt", "Dockerfile")
    assert result.exit_code == EXIT_CHANGES and path.read_text() == FIXED
    assert result.stderr.splitlines()[:2] == [
        "fixed Dockerfile (1 fix)",
        "Dockerfile:2: [apt] DF101 remove the apt package lists after installing (hadolint DL3009)"]


def test_help_says_what_jobs_defaults_to_without_a_zero():
    result = dockfix("--help")
    assert result.exit_code == EXIT_CLEAN
    text = " ".join(result.stdout.split())
    assert "all cores unless given" in text and "[default: 0]" not in text
    for option in ("--stdin-filename", "--exit-zero", "--statistics", "--show-fixes", "--config", "-V"):
        assert option in text


def test_an_unknown_option_is_one_line(work):
    result = dockfix("--chekc", "Dockerfile")
    assert result.exit_code == EXIT_ERROR and result.stderr.count("\n") == 1
    assert result.stderr.startswith("dockfix: error: unrecognized arguments: --chekc")


def test_options_may_follow_paths(work):
    write(work / "Dockerfile", NEEDS_FIX)
    write(work / "b" / "Dockerfile", NEEDS_FIX)
    result = dockfix("Dockerfile", "--check", "b/Dockerfile", "--select", "apt")
    assert result.exit_code == EXIT_CHANGES and result.stdout.count(": [apt]") == 2


# --- colour --------------------------------------------------------------------------------------

def test_color_always_colours_into_a_pipe_and_never_does_not(work):
    write(work / "Dockerfile", NEEDS_FIX)
    coloured = dockfix("--check", "--color", "always", "--select", "apt", "Dockerfile", "missing/Dockerfile")
    assert "\x1b[" in coloured.stdout and "\x1b[" in coloured.stderr
    assert SGR.sub("", coloured.stdout) == dockfix("--check", "--select", "apt", "Dockerfile").stdout
    assert "missing/Dockerfile: error: no such file" in SGR.sub("", coloured.stderr)
    diffed = dockfix("--diff", "--color", "always", "--select", "apt", "Dockerfile")
    assert "\x1b[32m+RUN" in diffed.stdout and "\x1b[31m-RUN" in diffed.stdout
    plain = dockfix("--check", "--color", "never", "--select", "apt", "Dockerfile", "missing/Dockerfile")
    assert "\x1b" not in plain.stdout + plain.stderr


def test_an_unknown_colour_is_refused(work):
    result = dockfix("--color", "sometimes", "Dockerfile")
    assert result.exit_code == EXIT_ERROR
    assert result.stderr == "dockfix: error: --color takes auto, always or never, not 'sometimes'\n"


# --- configuration -------------------------------------------------------------------------------

def test_an_unknown_key_is_said_once_per_run_with_a_did_you_mean(work):
    write(work / "pyproject.toml", '[project]\nname = "x"\n\n[tool.dockfix]\nunsafe_fixes = true\n')
    for i in range(5):
        write(work / f"s{i}" / "Dockerfile", NEEDS_FIX)
    result = dockfix("--check", ".")
    assert result.exit_code == EXIT_ERROR and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 3, result.stderr
    assert lines[0] == (f"s0/Dockerfile: error: configuration: {work.resolve() / 'pyproject.toml'}:5: unknown "
                        "[tool.dockfix] keys: unsafe_fixes (did you mean unsafe-fixes?) (dockfix knows select, "
                        "ignore, unsafe-fixes)")
    assert lines[1] == "dockfix: error: the same configuration error for 4 more files"
    assert lines[2] == "5 files: 0 changed, 0 unchanged, 0 skipped, 5 failed"


def test_dockfix_toml_comes_before_pyproject_in_a_folder(work):
    write(work / "pyproject.toml", '[tool.dockfix]\nselect = ["bytecode"]\n')
    write(work / "dockfix.toml", 'select = ["apt"]\n')
    write(work / "Dockerfile", NEEDS_FIX)
    assert "[apt]" in dockfix("--check", "Dockerfile").stdout
    (work / "dockfix.toml").write_text("")  # an empty dockfix.toml still applies: the defaults, all transforms
    assert dockfix("--check", "Dockerfile").exit_code == EXIT_CHANGES
    (work / "dockfix.toml").write_text('select = "apt"\n')
    result = dockfix("--check", "Dockerfile")
    assert result.exit_code == EXIT_ERROR
    assert f"{work.resolve() / 'dockfix.toml'}:1: select must be a list of transform names" in result.stderr


def test_config_names_one_file_for_every_dockerfile(work):
    write(work / "pyproject.toml", '[tool.dockfix]\nselect = ["bytecode"]\n')  # the nearest: not used
    write(work / "ci" / "settings.toml", 'select = ["apt"]\nunsafe-fixes = true\n')
    write(work / "Dockerfile", NEEDS_FIX)
    result = dockfix("--check", "--config", "ci/settings.toml", "Dockerfile")
    assert result.exit_code == EXIT_CHANGES and result.stdout.count("[apt]") == 2  # the unsafe one too
    write(work / "ci" / "pyproject.toml", '[tool.dockfix]\nignore = ["apt"]\n')
    assert dockfix("--check", "--config", "ci/pyproject.toml", "Dockerfile").stdout.count("[apt]") == 0


@pytest.mark.parametrize("text, message", [
    (None, "no such file"),
    ('selekt = ["apt"]\n', "1: unknown settings.toml keys: selekt (did you mean select?)"),
    ("select = [\n", "settings.toml: "),
])
def test_a_bad_config_file_is_one_usage_error(work, text, message):
    if text is not None:
        write(work / "settings.toml", text)
    write(work / "a" / "Dockerfile", NEEDS_FIX)
    write(work / "b" / "Dockerfile", NEEDS_FIX)
    result = dockfix("--check", "--config", "settings.toml", ".")
    assert result.exit_code == EXIT_ERROR and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("dockfix: error: configuration: ")
    assert message in result.stderr, result.stderr
