"""Rule codes (issue 11, item 3): every fix and note carries a stable code; selection, config,
pragmas (dockfix's and hadolint's) and --explain speak codes, rule names, transform names and
the hadolint codes a rule fixes; an unknown name is reported once with a did-you-mean; the
checklist reads codes, never message text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dockfix.checklist import FAIL, PASS, checklist
from dockfix.context import Context
from dockfix.diagnostics import DISPLAY_ONLY, GENERAL, NOT_PYTHON, SAFE, UNKNOWN_NAME, Fix, Note, UnknownNames
from dockfix.engine import EngineBug, Transform, run_pipeline
from dockfix.pages import page
from dockfix.pragmas import Suppressions
from dockfix.runner import FAILED, Options, process_file
from dockfix.syntax import parse
from dockfix.transforms import CATALOG, PIPELINE, RULES, choose, explain, rule

from .test_golden import discover, load_case

APT = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\nCMD [\"python\"]\n"
CLEANUP = "rm -rf /var/lib/apt/lists/*"
NO_RECOMMENDS = "--no-install-recommends"
UV_SYNC = ('FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv\nWORKDIR /app\n'
           'COPY pyproject.toml uv.lock ./\nRUN uv sync\nCOPY . .\nCMD ["python", "-m", "app"]\n')
UV_FILES = {"pyproject.toml": '[project]\nname = "app"\nversion = "1"\n[dependency-groups]\ndev = ["pytest"]\n',
            "uv.lock": "", "app/__init__.py": ""}


def _run(text: str, select=None, ignore=(), files=None, unsafe=True):
    return run_pipeline(text, Context(files=dict(files or {})), choose(select, ignore), unsafe=unsafe)


# --- the catalogue and the pages --------------------------------------------------------------

def test_every_transform_declares_its_rules_in_one_code_family():
    families = {}
    for transform in PIPELINE:
        assert transform.rules, f"{transform.name} declares no rules (RULES in its module)"
        family = {r.code[:3] for r in transform.rules}
        assert len(family) == 1, f"{transform.name}: one family of codes (DFn..), not {sorted(family)}"
        assert family.isdisjoint(families.values()), f"{transform.name} shares a code family"
        families[transform.name] = family.pop()
        assert all(r.transform == transform.name for r in transform.rules)
    codes = [r.code for r in RULES]
    assert len(codes) == len(set(codes)) and not {r.code for r in GENERAL} & set(codes)


_ROW = re.compile(r"^\| (DF\d{3}) \| ([\w-]+) \| (.+?) \| ([\w-]+) \| (.+?) \|$", re.M)


@pytest.mark.parametrize("transform", PIPELINE, ids=[t.name for t in PIPELINE])
def test_each_page_has_a_rules_table_matching_its_module(transform):
    text = page(transform.name)
    assert text and "\n## Rules\n" in text
    rows = [(code, name, applicability, hadolint) for code, name, _, applicability, hadolint in _ROW.findall(text)]
    assert rows == [(r.code, r.name, r.applicability, ", ".join(r.hadolint) or "-") for r in transform.rules]


def test_the_golden_cases_report_every_fix_and_note_with_a_code_of_its_transform():
    by_transform = {t.name: {r.code: r for r in t.rules} for t in PIPELINE}
    seen = set()
    for case_id, folder in discover():
        case = load_case(folder, case_id)
        outcome = run_pipeline(case.source, Context(files=case.context_files()), PIPELINE, unsafe=True)
        for item in [*outcome.fixes, *outcome.notes]:
            rules = by_transform[item.transform]
            if isinstance(item, Note) and item.code in {r.code for r in GENERAL}:
                continue
            assert item.code in rules, (case_id, item)
            found = rules[item.code]
            assert item.applicability == (found.applicability if isinstance(item, Fix) else DISPLAY_ONLY), (case_id, item)
            seen.add(item.code)
    # ci-cache's rules are about CI files: their goldens are golden/ci-cache (tests/test_golden_ci.py)
    dockerfile_rules = {r.code for r in RULES if not r.code.startswith("DF8")}
    assert seen >= dockerfile_rules - {"DF104"}, sorted(dockerfile_rules - seen)


def test_a_fix_without_one_of_its_transforms_codes_is_dockfix_bug():
    def find(tree, context):
        yield Fix("apt", "no code", 1)

    bad = Transform("apt", "", find, PIPELINE[1].rules)
    with pytest.raises(EngineBug, match="code 'none'"):
        run_pipeline(APT, Context(), [bad])


def test_names_designate_rules():
    assert CATALOG.codes(["DF102"]) == {"DF102"}
    assert CATALOG.codes(["df102", "apt-lists-cleanup"]) == {"DF101", "DF102"}
    assert CATALOG.codes(["apt"]) == {"DF101", "DF102", "DF103", "DF104"}
    assert CATALOG.codes(["DF3"]) == {"DF301", "DF302", "DF303", "DF304"}
    assert CATALOG.codes(["DL3015"]) == {"DF102"} and CATALOG.codes(["DL3040"]) == {"DF104"}
    assert rule("DL3009").code == "DF101" and rule("apt") is None


# --- selection: per rule, not per transform -------------------------------------------------------

def test_select_by_code_runs_only_that_rule():
    out = _run(APT, select=["DF102"]).output
    assert NO_RECOMMENDS in out and CLEANUP not in out


def test_select_by_hadolint_code():
    out = _run(APT, select=["DL3009"]).output
    assert CLEANUP in out and NO_RECOMMENDS not in out
    assert NO_RECOMMENDS in _run(APT, select=["DL3015"]).output


def test_ignore_one_rule_of_a_transform_keeps_its_others():
    out = _run(APT, ignore=["DF101"]).output
    assert NO_RECOMMENDS in out and CLEANUP not in out
    out = _run(UV_SYNC, select=["bytecode"], ignore=["uv-sync-locked"], files=UV_FILES).output
    assert "RUN uv sync --no-dev\n" in out and "UV_COMPILE_BYTECODE=1" in out
    out = _run(UV_SYNC, select=["DF303"], files=UV_FILES).output
    assert out == UV_SYNC.replace("RUN uv sync\n", "RUN uv sync --no-dev\n")


def test_a_transform_with_no_selected_rule_does_not_run():
    chosen = {t.name: t for t in choose(["DF303"])}
    assert chosen["bytecode"].selected == {"DF303"} and chosen["bytecode"].runs
    assert not chosen["apt"].runs and chosen["apt"].selected == frozenset()
    assert all(t.selected is None for t in choose(None))


def test_notes_of_an_unselected_rule_are_dropped_but_the_pipelines_own_are_kept():
    text = "FROM debian:12\nRUN apt-get update && apt-get install -y $PKGS\n"
    assert [n.code for n in _run(text.replace("debian:12", "python:3.12"), select=["apt"]).notes] == ["DF102"]
    assert _run(text.replace("debian:12", "python:3.12"), select=["apt"], ignore=["DF102"]).notes == []
    assert {n.code for n in _run(text, select=["DF102"]).notes} == {NOT_PYTHON.code}


def test_dotenv_can_be_selected_without_the_other_entries():
    text = 'FROM python:3.12-slim\nCOPY app.py .\nCMD ["python", "app.py"]\n'
    files = {"app.py": "", ".env": "SECRET=1\n", ".git/HEAD": ""}
    alone = _run(text, select=["DF502"], files=files).files
    assert list(alone) == [".dockerignore"] and "**/.env" in alone[".dockerignore"]
    assert ".git" not in alone[".dockerignore"]
    both = _run(text, select=["dockerignore"], files=files).files[".dockerignore"]
    assert ".git" in both and "**/.env" in both


def test_an_unknown_name_on_the_command_line_or_in_the_config_says_what_was_meant(tmp_path):
    with pytest.raises(UnknownNames) as caught:
        choose(["DF1O2", "aptt"], ["DL3008"])
    assert str(caught.value) == ("DF1O2 (did you mean DF102?), aptt (did you mean apt?), "
                                 "DL3008 (a hadolint code no dockfix rule fixes)")
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.dockfix]\nignore = ["DF1O2"]\n')
    (tmp_path / "Dockerfile").write_text(APT)
    result = process_file(tmp_path / "Dockerfile", Options(mode="write"))
    assert result.status == FAILED and "DF1O2 (did you mean DF102?)" in result.error
    assert (tmp_path / "Dockerfile").read_text() == APT


# --- pragmas -----------------------------------------------------------------------------------------

def _above_run(comment: str, text: str = APT) -> str:
    return text.replace("RUN", f"{comment}\nRUN", 1)


@pytest.mark.parametrize("comment", ["# dockfix: ignore=DF102", "# dockfix: ignore=apt-no-recommends",
                                     "# hadolint ignore=DL3015", "# hadolint ignore=DL3008, DL3015",
                                     "# hadolint global ignore=DL3015", "# dockfix: ignore-file=DL3015"])
def test_a_pragma_by_code_or_hadolint_code_suppresses_that_rule_only(comment):
    out = _run(_above_run(comment)).output
    assert CLEANUP in out and NO_RECOMMENDS not in out


def test_a_hadolint_pragma_above_another_instruction_suppresses_nothing():
    text = APT.replace("CMD", "# hadolint ignore=DL3009,DL3015\nCMD")
    out = _run(text).output
    assert CLEANUP in out and NO_RECOMMENDS in out


def test_an_unknown_name_in_a_pragma_is_reported_once_with_a_did_you_mean():
    text = _above_run("# dockfix: ignore=DF1O2,apt") + "# dockfix: ignore-file=cache-mount\n"
    outcome = _run(text + "RUN apt-get update && apt-get install -y --no-install-recommends git\n", select=["apt"])
    assert outcome.rounds == 2 and outcome.output.count(CLEANUP) == 1  # apt still suppressed on line 3
    assert [(w.code, w.line) for w in outcome.warnings] == [(UNKNOWN_NAME.code, 2), (UNKNOWN_NAME.code, 5)]
    assert "DF1O2 (did you mean DF102?)" in outcome.warnings[0].message
    assert "cache-mount (did you mean cache-mounts?)" in outcome.warnings[1].message
    assert not _run(_above_run("# hadolint ignore=DL3008,SC2086")).warnings  # hadolint's own codes: not ours


# --- --explain -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["DF102", "apt-no-recommends", "DL3015"])
def test_explain_a_rule_points_at_it_on_its_transforms_page(name):
    text = explain(name)
    assert text.startswith("DF102 apt-no-recommends (unsafe fix; fixes hadolint DL3015)\n")
    assert text.endswith(page("apt"))
    assert explain("apt") == page("apt") and explain("DF9") is None


# --- the checklist reads codes (its verdicts are those of the message-reading version) ---------------

def _item(tmp_path: Path, text: str, files: dict[str, str], key: str):
    return checklist(parse(text), Context(files=files)).item(key)


@pytest.mark.parametrize("deps, status", [("[]", PASS), ('["flask"]', FAIL)])
def test_deps_first_passes_when_the_install_is_the_project_and_it_declares_no_dependencies(tmp_path, deps, status):
    text = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install .\nCMD ["app"]\n'
    files = {"pyproject.toml": f'[project]\nname = "app"\nversion = "1"\ndependencies = {deps}\n', "app/__init__.py": ""}
    item = _item(tmp_path, text, files, "deps-first")
    assert item.status == status and not item.fixers


def test_no_dev_fails_on_a_later_uv_run_but_not_on_a_development_stage(tmp_path):
    later = UV_SYNC.replace("RUN uv sync", "RUN uv sync --locked").replace('["python", "-m", "app"]', '["uv", "run", "app"]')
    item = _item(tmp_path, later, dict(UV_FILES), "no-dev")
    assert item.status == FAIL and "a later `uv run`" in item.detail and not item.fixers
    stage = UV_SYNC.replace("slim\n", "slim AS test\n", 1).replace("RUN uv sync", "RUN uv sync --locked") \
        + "FROM python:3.12-slim\nCOPY --from=test /app /app\n"
    notes = _run(stage, files=UV_FILES).notes
    assert any(n.code == "DF303" and "development stage" in n.message for n in notes)
    assert _item(tmp_path, stage, dict(UV_FILES), "no-dev").status == PASS


def test_the_checklist_names_the_rule_of_each_fixer():
    text = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\n"
    item = checklist(parse(text), Context(files={"app.py": ""})).item("apt-cleanup")
    assert item.status == FAIL and [f.code for f in item.fixers] == ["DF102", "DF101"]
    assert item.fix == "apt (safe, more unsafe)"


def test_the_split_rules_keep_their_own_safety():
    assert [(r.code, r.applicability) for r in RULES if r.transform in ("apt", "bytecode")] == [
        ("DF101", SAFE), ("DF102", "unsafe"), ("DF103", SAFE), ("DF104", SAFE),
        ("DF301", SAFE), ("DF302", "unsafe"), ("DF303", "unsafe"), ("DF304", "unsafe")]


# --- what the runner reports -------------------------------------------------------------------------

def test_a_file_result_carries_codes_the_pragma_warning_and_the_skip_reason_by_code(tmp_path):
    (tmp_path / "Dockerfile").write_text(_above_run("# dockfix: ignore=DF1O2"))
    result = process_file(tmp_path / "Dockerfile", Options(mode="check"))
    assert [f.code for f in result.fixes] == ["DF101"]
    assert result.warnings == ("line 2: `# dockfix:` pragma names an unknown rule or transform: DF1O2 (did you "
                               "mean DF102?); it suppresses nothing (see dockfix --list)",)
    (tmp_path / "Dockerfile").write_text("FROM node:20\nRUN npm ci\n")
    skipped = process_file(tmp_path / "Dockerfile", Options(mode="check", select=("DF102",)))
    assert skipped.skip_reason == "not a Python image" and {n.code for n in skipped.notes} == {NOT_PYTHON.code}



def test_hadolint_ignore_dl3042_keeps_the_authors_pip_cache():
    # docs/review.md, paperless-ngx: the cache mount overrode `# hadolint ignore=DL3042` on the line above.
    text = ("FROM python:3.12-slim\nCOPY requirements.txt .\n# hadolint ignore=DL3042\n"
            "RUN pip install -r requirements.txt\nRUN pip install --no-cache-dir gunicorn\n")
    out = _run(text, select=["cache-mounts"], files={"requirements.txt": "flask\n"}).output
    assert out.splitlines()[3] == "RUN pip install -r requirements.txt"
    assert out.splitlines()[4].startswith("RUN --mount=type=cache,target=/root/.cache/pip pip install gunicorn")


@pytest.mark.parametrize("comment, line_names, file_names", [
    ("# DOCKFIX: ignore", {3: frozenset({"*"})}, frozenset()),
    ("# dockf\u0131x: ignore", {3: frozenset({"*"})}, frozenset()),  # (re.I: dotless i; the text is not ASCII)
    ("# Hadolint ignore=DL3009", {3: frozenset({"DL3009"})}, frozenset()),
    ("# hadolint global ignore=DL3015", {}, frozenset({"DL3015"})),
    ("# nothing to see", {}, frozenset()),
])
def test_pragmas_are_read_in_any_case(comment, line_names, file_names):
    # (a file that names neither dockfix nor hadolint is not read comment by comment)
    found = Suppressions.of(parse(f"FROM python:3\n{comment}\nRUN pip install x\n"))
    assert (found.by_line, found.file) == (line_names, file_names)
