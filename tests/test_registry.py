"""Adding a transform touches its module, its page and its golden cases only (docs/design.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dockfix.transforms import ORDER, PIPELINE

ROOT = Path(__file__).resolve().parents[1]
TRANSFORMS = ROOT / "src" / "dockfix" / "transforms"


def test_every_transform_module_is_in_the_pipeline_with_its_page_and_goldens():
    modules = sorted(p.stem for p in TRANSFORMS.glob("*.py") if not p.stem.startswith("_"))
    assert sorted(t.name.replace("-", "_") for t in PIPELINE) == modules
    for transform in PIPELINE:
        assert (ROOT / "transforms" / f"{transform.name}.md").is_file(), transform.name
        assert (ROOT / "golden" / transform.name).is_dir(), transform.name
    assert [t.name for t in PIPELINE][: len(ORDER)] == list(ORDER)


DEMO = '''"""A transform made by the registry test: its module is all the code it needs."""

from dockfix.diagnostics import Rule
from dockfix.engine import Transform

NAME = "zz-demo"
SHOUT = Rule("DF991", NAME, "demo-maintainer", "say that MAINTAINER is deprecated")
RULES = (SHOUT,)


def find(tree, context):
    for instr in tree.instructions:
        if instr.name == "MAINTAINER":
            yield SHOUT.note("MAINTAINER is deprecated: use a LABEL", instr.line)


TRANSFORM = Transform(NAME, "a demonstration", find, RULES)
'''
PAGE = """# zz-demo

## Rules

| code | name | what it does | applicability | fixes hadolint |
| --- | --- | --- | --- | --- |
| DF991 | demo-maintainer | say that MAINTAINER is deprecated | display-only | - |
"""


def test_a_new_transform_needs_its_module_and_its_page_only(tmp_path):
    """In a copy of the checkout, one module and one page add a transform: --list shows its rule,
    --explain its page, --select runs it; no registry, catalogue or list is edited."""
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "transforms", tmp_path / "transforms")
    (tmp_path / "src" / "dockfix" / "transforms" / "zz_demo.py").write_text(DEMO)
    (tmp_path / "transforms" / "zz-demo.md").write_text(PAGE)
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nMAINTAINER someone\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src"), "NO_COLOR": "1"}

    def dockfix(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "dockfix", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)
        return done.stdout + done.stderr

    listed = dockfix("--list")
    assert "zz-demo" in listed and "DF991" in listed
    assert listed.index("ci-cache") < listed.index("zz-demo")  # not in ORDER: after its transforms
    assert "say that MAINTAINER is deprecated" in dockfix("--explain", "DF991")
    assert "MAINTAINER is deprecated: use a LABEL" in dockfix("--check", "-v", "--select", "DF991", "Dockerfile")
