"""The optimisation checklist: verdicts on real Dockerfiles, which transform fixes what,
and the `--checklist` table a user reads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dockfix.checklist import FAIL, ITEMS, NA, PASS, checklist
from dockfix.checklist_report import EXIT_CLEAN, EXIT_ERROR, EXIT_FAILING, plain_table, run_checklists
from dockfix.context import Context
from dockfix.engine import run_pipeline
from dockfix.syntax import parse
from dockfix.transforms import PIPELINE

from .conftest import ROOT, read_exact

EXAMPLE = ROOT / "examples" / "fastapi-app"
EXPERTS = sorted(p.parent for p in (ROOT / "lab" / "fixtures").glob("*/expert.Dockerfile"))


def check(path: Path):
    return checklist(parse(read_exact(path)), Context.for_dockerfile(path))


def verdicts(result) -> dict[str, tuple[str, str]]:
    """item -> (status, fix), the two columns a user acts on."""
    return {i.key: (i.status, i.fix) for i in result.items}


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder / "Dockerfile"


def test_the_bundled_example_fails_what_dockfix_fixes_and_says_how():
    result = check(EXAMPLE / "Dockerfile")
    assert [i.key for i in result.items] == [key for key, _ in ITEMS]
    assert verdicts(result) == {
        "slim-base": (FAIL, "multistage (unsafe)"),
        "multi-stage": (FAIL, "multistage (unsafe)"),
        "cache-mounts": (FAIL, "cache-mounts (safe)"),
        "bytecode": (PASS, ""),
        "no-dev": (PASS, ""),
        "deps-first": (FAIL, "lockfile-first (safe)"),
        "dockerignore": (FAIL, "dockerignore (safe, more unsafe)"),
        "apt-cleanup": (FAIL, "apt (safe, more unsafe)"),
        "locked": (NA, ""),
        "buildkit": (NA, ""),  # its CI files are not read here (check() gives the checklist no CiReport)
        "ci-cache": (NA, ""),
    }
    assert "python:3.12-slim runtime" in result.item("slim-base").detail
    assert result.error is None
    # a dry run: the .dockerignore the pipeline would write stays in the context's overlay
    assert not (EXAMPLE / ".dockerignore").exists()


@pytest.mark.parametrize("fixture", EXPERTS, ids=[p.name for p in EXPERTS])
def test_expert_dockerfiles_mostly_pass(tmp_path, fixture):
    shutil.copytree(fixture, tmp_path / "app")
    app = tmp_path / "app"
    (app / "expert.Dockerfile").replace(app / "Dockerfile")
    if (app / "expert.dockerignore").exists():
        (app / "expert.dockerignore").replace(app / ".dockerignore")
    result = check(app / "Dockerfile")
    if all(i.status == NA for i in result.items):
        assert "not a Python image" in result.items[0].detail
        return
    for key in ("slim-base", "multi-stage", "cache-mounts", "bytecode", "no-dev", "deps-first"):
        assert result.item(key).status == PASS, (key, result.item(key).detail)
    failing = [i for i in result.items if i.status == FAIL]
    # The experts' .dockerignore files leave caches out that dockfix adds; nothing else fails.
    assert [i.key for i in failing] in ([], ["dockerignore"]), failing
    assert all(i.fixers for i in failing)


def test_uv_sync_items_come_from_the_bytecode_transform():
    result = check(ROOT / "golden" / "bytecode" / "uv-sync-lockfile" / "Dockerfile")
    got = verdicts(result)
    assert got["slim-base"] == (PASS, "")  # already slim: the split's runtime is no news
    assert got["bytecode"] == (FAIL, "bytecode (safe)")
    assert got["no-dev"] == (FAIL, "bytecode (unsafe)")
    assert got["locked"] == (FAIL, "bytecode (unsafe)")
    assert "--locked" in result.item("locked").detail


def test_after_all_fixes_nothing_is_left_that_dockfix_can_fix(tmp_path):
    shutil.copytree(EXAMPLE, tmp_path / "app")
    path = tmp_path / "app" / "Dockerfile"
    context = Context.for_dockerfile(path)
    outcome = run_pipeline(read_exact(path), context, PIPELINE, unsafe=True)
    path.write_text(outcome.output)
    for rel, text in outcome.files.items():
        (path.parent / rel).write_text(text)
    result = check(path)
    assert [i.key for i in result.items if i.fixers] == []
    assert {i.key for i in result.items if i.status == PASS} >= {
        "slim-base", "multi-stage", "cache-mounts", "deps-first", "dockerignore", "apt-cleanup"}


def test_what_dockfix_cannot_fix_fails_without_a_fixer(tmp_path):
    path = write(tmp_path, {
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\n"
                      "RUN --mount=type=cache,target=/root/.cache/pypoetry poetry install --no-root\n"
                      "COPY . .\nCMD [\"python\", \"-m\", \"app\"]\n",
        "pyproject.toml": "[tool.poetry]\nname = \"app\"\n",
        "poetry.lock": "",
        "app/__init__.py": "",
    })
    result = check(path)
    no_dev = result.item("no-dev")
    assert (no_dev.status, no_dev.fixers) == (FAIL, ())
    assert "poetry install includes the dev group" in no_dev.detail
    assert result.item("cache-mounts").status == PASS


def test_uv_sync_without_a_lockfile_is_not_locked(tmp_path):
    path = write(tmp_path, {
        "Dockerfile": "FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv\nWORKDIR /app\n"
                      "COPY . .\nRUN uv sync --frozen\n",
        "pyproject.toml": "[project]\nname = \"app\"\n",
    })
    assert check(path).item("locked").status == PASS
    path.write_text(path.read_text().replace(" --frozen", ""))
    locked = check(path).item("locked")
    assert locked.status == FAIL and "no uv.lock" in locked.detail


def test_not_a_python_image_is_not_applicable(tmp_path):
    path = write(tmp_path, {"Dockerfile": "FROM node:20\nRUN npm ci\n"})
    result = check(path)
    assert {i.status for i in result.items} == {NA}
    assert "not a Python image" in result.item("slim-base").detail


@pytest.mark.slow
def test_every_corpus_file_gets_a_checklist(corpus):
    for path in corpus:
        try:
            tree = parse(read_exact(path))
        except Exception:
            continue  # files the parser refuses are the CLI's business, not the checklist's
        try:
            run_pipeline(tree.source, Context(files={}, dockerfile=path.name), PIPELINE, unsafe=True)
            pipeline_error = None
        except Exception as err:
            pipeline_error = err
        result = checklist(tree, Context(files={}, dockerfile=path.name))
        # a transform's crash is reported, with the static verdicts, never raised
        assert (result.error is None) == (pipeline_error is None), (path.name, result.error)
        assert all(i.status in (PASS, FAIL, NA) for i in result.items)
        assert all(i.status == FAIL for i in result.items if i.fixers), path.name


# --- the report ----------------------------------------------------------------

def test_plain_table_lists_each_item_with_status_fix_and_reason(capsys):
    code = run_checklists([EXAMPLE / "Dockerfile"], use_color=False)
    out = capsys.readouterr().out.splitlines()
    assert code == EXIT_FAILING
    assert out[0].endswith("Dockerfile: 2 pass, 6 fail (6 fixable by dockfix), 3 n/a")
    assert len(out) == 1 + len(ITEMS)
    cache = next(line for line in out if "cache mounts for installs" in line)
    assert cache.split()[0] == "FAIL" and "cache-mounts (safe)" in cache and "/root/.cache/pip" in cache
    assert "\x1b[" not in "".join(out)


def test_a_clean_file_exits_0_and_a_broken_one_2(tmp_path, capsys):
    clean = write(tmp_path / "clean", {"Dockerfile": "FROM python:3.12-slim\nCMD [\"python\"]\n"})
    write(tmp_path / "broken", {"Dockerfile": "FROM python:3.12-slim\nRUN <<EOF\necho never ends\n"})
    assert run_checklists([clean], use_color=False) == EXIT_CLEAN
    assert run_checklists([tmp_path], use_color=False) == EXIT_ERROR  # a folder: both files, one fails
    captured = capsys.readouterr()
    assert "broken/Dockerfile" in captured.err and "error" in captured.err
    assert captured.out.count("clean/Dockerfile: ") == 2


def test_rich_table_on_a_terminal(capsys):
    result = check(EXAMPLE / "Dockerfile")
    run_checklists([EXAMPLE / "Dockerfile"], use_color=True)
    out = capsys.readouterr().out
    assert "dockfix fixes it with" in out and "lockfile-first (safe)" in out
    assert plain_table("x", result).count("\n") == 1 + len(ITEMS)


def test_checklist_option_on_the_command_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from dockfix.cli import app

    monkeypatch.chdir(tmp_path)
    shutil.copytree(EXAMPLE, tmp_path / "app")
    result = CliRunner().invoke(app, ["--checklist", "app"])
    assert result.exit_code == EXIT_FAILING, result.output
    assert result.stdout.startswith("app/Dockerfile: 2 pass, 6 fail (6 fixable by dockfix), 3 n/a\n")
    assert not (tmp_path / "app" / ".dockerignore").exists()  # a report, never a write
    assert CliRunner().invoke(app, ["--checklist"]).exit_code == EXIT_ERROR


def test_an_image_with_nothing_to_gain_from_a_split_does_not_fail_multi_stage():
    """An image a split cannot improve: 'not split: nothing to gain' is n/a, not FAIL (issue 14)."""
    from dockfix.checklist import NA, checklist
    from dockfix.context import Context
    from dockfix.syntax import parse

    text = ("FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
            "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n")
    # (the app imports pkg_resources: pip-to-uv refuses, so the split would not make the build faster either)
    result = checklist(parse(text), Context(files={"requirements.txt": "flask\n", "app.py": "import pkg_resources\n"}))
    item = next(i for i in result.items if i.key == "multi-stage")
    assert item.status == NA and "nothing to gain" in item.detail, item


def test_a_split_whose_gain_is_a_uv_builder_fails_multi_stage_with_its_fix():
    """Issue 13: the same image, where pip-to-uv would install with uv in the split's builder: the
    split is worth it for build speed, so multi-stage fails and names the (unsafe) fix."""
    from dockfix.checklist import FAIL, checklist
    from dockfix.context import Context
    from dockfix.syntax import parse

    text = ("FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
            "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n")
    result = checklist(parse(text), Context(files={"requirements.txt": "flask\n", "app.py": ""}))
    item = next(i for i in result.items if i.key == "multi-stage")
    assert item.status == FAIL and [f.code for f in item.fixers] == ["DF601"] and "build speed" in item.detail, item


@pytest.mark.parametrize("run, status", [
    ("RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*", PASS),
    ("RUN apk add --no-cache curl", PASS),
    ('RUN echo "run apt-get install -y curl yourself" > /HINT', NA),  # words of an echo install nothing
    ("RUN cat > /setup.sh <<EOF\napt-get install -y curl\nEOF", NA),  # a heredoc of data
], ids=["apt", "apk", "echo", "heredoc-data"])
def test_apt_cleanup_reads_the_install_through_the_recogniser(tmp_path, run, status):
    path = write(tmp_path, {"Dockerfile": f"FROM python:3.12-slim\n{run}\nCMD [\"python\"]\n"})
    assert check(path).item("apt-cleanup").status == status
