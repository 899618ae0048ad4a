"""Start-up (issue 14, item 5): what a short run imports, counted, never timed.

`dockfix --version`, a one-file `--check` (pre-commit) and `--write -` (an editor's save) run
often and briefly, so their cost is mostly imports. The command line is read with argparse:
typer, and pydantic which typer uses for every parameter, are never imported by a run (they were
about 100 ms of a 0.35 s single-file check). pathspec is imported only when an ignore pattern is
matched. tests/test_import_cost.py checks the batch and colour machinery stays out of a one-file
run; this file checks the rest. Figures: docs/editors.md and the issue's report.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import atexit, sys
def report():
    import json
    sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
atexit.register(report)
sys.argv = ["dockfix", *sys.argv[1:]]
from dockfix.cli import main
main()
"""

NEVER = ("typer", "click", "pydantic", "pydantic_core", "rich", "multiprocessing", "concurrent.futures")
# Needed by some runs only, each imported where it is used: a config or manifest file (tomllib), a
# write (tempfile), --explain (importlib.resources), a pool (pickle). (difflib is too, but a check
# that finds changes computes their diff, for the JSON report.)
WHEN_USED = ("tomllib", "tempfile", "importlib.resources", "pickle")
NEEDS_FIX = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\n"


def imported_by(*args: str, cwd: Path, stdin: str | None = None) -> tuple[subprocess.CompletedProcess, set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True,
                          input=stdin, timeout=120, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return done, set(json.loads(line.removeprefix("MODULES ")))


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_version_imports_no_other_dockfix_module_and_no_library(tmp_path):
    done, modules = imported_by("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("dockfix "), done.stderr
    assert sorted(m for m in modules if m.startswith("dockfix")) == ["dockfix", "dockfix.cli"]
    assert not _top(modules) & {*NEVER, "pathspec", "tomllib"}
    assert len(modules) < 110, len(modules)  # the interpreter's own start-up is about 60


def test_a_one_file_check_imports_no_typer_pydantic_or_pathspec(tmp_path):
    (tmp_path / "Dockerfile").write_text(NEEDS_FIX)
    done, modules = imported_by("--check", "Dockerfile", cwd=tmp_path)
    assert done.returncode == 1 and "Dockerfile:2: [apt]" in done.stdout, done.stderr  # the pipeline ran
    assert "dockfix.transforms" in modules
    assert not _top(modules) & {*NEVER, "pathspec"}, sorted(_top(modules) & {*NEVER, "pathspec"})
    assert not modules & set(WHEN_USED), sorted(modules & set(WHEN_USED))


def test_what_a_run_needs_is_still_imported_when_it_needs_it(tmp_path):
    """The lazy imports are real imports: a config file is read, a write writes, a diff is shown."""
    (tmp_path / "Dockerfile").write_text(NEEDS_FIX)
    (tmp_path / "dockfix.toml").write_text('select = ["apt"]\n')
    done, modules = imported_by("--diff", "Dockerfile", cwd=tmp_path)
    assert done.returncode == 1 and "+++ b/Dockerfile" in done.stdout, done.stderr
    assert {"tomllib", "difflib"} <= modules
    done, modules = imported_by("--write", "Dockerfile", cwd=tmp_path)
    assert done.returncode == 1 and "rm -rf /var/lib/apt/lists/*" in (tmp_path / "Dockerfile").read_text(), done.stderr
    assert "tempfile" in modules


def test_an_editors_save_imports_no_batch_machinery(tmp_path):
    done, modules = imported_by("--write", "-", "--stdin-filename", "Dockerfile", cwd=tmp_path, stdin=NEEDS_FIX)
    assert done.returncode == 0 and done.stdout.endswith("rm -rf /var/lib/apt/lists/*\n"), done.stderr
    assert "dockfix.batch" not in modules  # one text, in-process: no pool, no time-limit machinery
    assert not _top(modules) & set(NEVER)


def test_the_compatibility_app_is_still_a_typer_app():
    """Embedding and typer.testing.CliRunner: `dockfix.cli.app` is built on first use."""
    import typer

    from dockfix import cli

    assert isinstance(cli.app, typer.Typer)
