"""A single-file run (what pre-commit does on every commit) imports only what it needs.

Not timed: it checks which modules a real `dockfix --check FILE` process loaded.
Batch machinery (worker pools, progress bars), colour output and optional
integrations must be imported lazily, where they are used.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from .conftest import ROOT

PROBE = """
import atexit, json, sys
atexit.register(lambda: sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n"))
sys.argv = ["dockfix", *sys.argv[1:]]
from dockfix.cli import main
main()
"""

# Each is either heavy to import or needed only by another kind of run.
NOT_FOR_ONE_FILE = (
    "rich",  # colour and tables: only on a terminal, or for --checklist
    "multiprocessing", "concurrent.futures",  # worker pools: only for batches
    "dockfix.checklist", "dockfix.checklist_report",  # only for --checklist
    "dockfix.all_repos", "all_repos",  # the all-repos autofixer
    "yaml", "unidiff", "dockerfile", "hypothesis", "pytest",  # test-only packages
)


def imported_by(*args: str, cwd) -> tuple[subprocess.CompletedProcess, set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return done, set(json.loads(line.removeprefix("MODULES ")))


def test_single_file_check_imports_no_batch_colour_or_optional_modules(tmp_path):
    shutil.copytree(ROOT / "examples" / "fastapi-app", tmp_path / "app")
    done, modules = imported_by("--check", "app/Dockerfile", cwd=tmp_path)
    assert done.returncode == 1 and "app/Dockerfile:" in done.stdout, done.stderr  # it really ran the pipeline
    assert "dockfix.transforms.multistage" in modules
    loaded = sorted(m for m in NOT_FOR_ONE_FILE if m in modules)
    assert loaded == [], f"a single-file run imported {loaded}: import them where they are used"
