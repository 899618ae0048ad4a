"""The golden harness of the CI rewrites (ci-cache): real workflows and GitLab CI files.

    golden/ci-cache/<case>/repo/...              the repository: its CI files and Dockerfiles
    golden/ci-cache/<case>/expected/<rel>        a CI file as rewritten (ABSENT: it stays byte-identical)
    golden/ci-cache/<case>/case.toml             source (owner/name), commit, what; unsafe = true

For each case: every CI file of the repository is rewritten as expected and
no other; a second run changes nothing; the diff the CLI prints applies with
`git apply`; every output is still valid for its CI: GitHub workflows pass
actionlint with no finding the input did not have (its messages compared
without their positions) and the GitHub workflow schema, GitLab files pass
GitLab's CI schema (check-jsonschema's vendored schemas: offline), wherever the input passes them
(a real file with a duplicate key fails before dockfix touches it).

DOCKFIX_UPDATE_GOLDEN=1 rewrites the expectations (review with git diff).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from dockfix.ci_engine import run_ci
from dockfix.ci_files import GITHUB, DiskRepository, ci_files_of, ci_kind, yaml_check
from dockfix.diagnostics import Fix
from dockfix.diff import unified_diff
from dockfix.transforms import PIPELINE, ci_cache

from .conftest import ROOT

GOLDEN = ROOT / "golden" / "ci-cache"
UPDATE = os.environ.get("DOCKFIX_UPDATE_GOLDEN") == "1"
BIN = Path(sys.executable).parent
SCHEMAS = {"github": "vendor.github-workflows", "gitlab": "vendor.gitlab-ci"}


@dataclass(frozen=True)
class Case:
    id: str
    folder: Path
    unsafe: bool

    @property
    def repo(self) -> Path:
        return self.folder / "repo"

    def ci_files(self) -> list[str]:
        return [p.relative_to(self.repo).as_posix() for p in ci_files_of(self.repo)]

    def source(self, rel: str) -> str:
        return (self.repo / rel).read_bytes().decode("utf-8")

    def expected(self, rel: str) -> str:
        path = self.folder / "expected" / rel
        return path.read_bytes().decode("utf-8") if path.exists() else self.source(rel)


def load(folder: Path) -> Case:
    settings = tomllib.loads((folder / "case.toml").read_text(encoding="utf-8"))
    unknown = set(settings) - {"source", "commit", "what", "unsafe"}
    assert not unknown, f"{folder.name}/case.toml: unknown keys {sorted(unknown)}"
    assert re.fullmatch(r"[\w.-]+/[\w.-]+", settings.get("source", "")), f"{folder.name}: source = owner/name"
    assert re.search(r"\b[0-9a-f]{40}\b", settings.get("commit", "")), f"{folder.name}: the source commit"
    return Case(folder.name, folder, bool(settings.get("unsafe", False)))


CASES = sorted(p.parent for p in GOLDEN.glob("*/case.toml"))


def rewrite(case: Case, rel: str, text: str | None = None):
    kind = ci_kind(case.repo / rel) or GITHUB
    return run_ci(case.source(rel) if text is None else text, kind, DiskRepository(case.repo, None), PIPELINE,
                  case.unsafe, check=yaml_check)


@pytest.fixture(scope="session")
def ci_outputs() -> dict[tuple[str, str], str]:
    """Every CI file of every case, rewritten once (the validators take them all in one go)."""
    return {(folder.name, rel): rewrite(load(folder), rel).output for folder in CASES for rel in load(folder).ci_files()}


def _actionlint(paths: list[Path]) -> dict[Path, Counter[str]]:
    """actionlint's findings per file, as messages without positions (an insertion moves the lines)."""
    where = Path(os.path.commonpath([p.parent for p in paths]))
    done = subprocess.run([str(BIN / "actionlint"), "-format", "{{json .}}", "-shellcheck=", "-pyflakes=",
                           *(str(p.relative_to(where)) for p in paths)], capture_output=True, text=True,
                          timeout=300, cwd=where)
    assert done.returncode in (0, 1), done.stderr
    found: dict[Path, Counter[str]] = {p: Counter() for p in paths}
    for error in json.loads(done.stdout or "[]"):
        found[where / error["filepath"]][f"{error['kind']}: {error['message']}"] += 1
    return found


@pytest.fixture(scope="session")
def validated(ci_outputs, tmp_path_factory) -> dict[tuple[str, str], str]:
    """Why each (case, file) output is not valid for its CI ('' when it is)."""
    root = tmp_path_factory.mktemp("ci-validate")
    problems: dict[tuple[str, str], str] = {}
    written: dict[str, list[tuple[tuple[str, str], Path, Path]]] = {"github": [], "gitlab": []}
    for (case_id, rel), output in ci_outputs.items():
        kind = ci_kind(Path(rel)) or GITHUB
        before = root / case_id / "in" / rel
        after = root / case_id / "out" / rel
        for path, text in ((before, load(GOLDEN / case_id).source(rel)), (after, output)):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
        written[kind].append(((case_id, rel), before, after))
        problems[(case_id, rel)] = ""
    if written["github"]:
        lint = _actionlint([p for _, before, after in written["github"] for p in (before, after)])
        for key, before, after in written["github"]:
            new = lint[after] - lint[before]
            if new:
                problems[key] += f"actionlint finds what the input did not have: {sorted(new)}; "
    for kind, entries in written.items():
        if not entries:
            continue
        both = [p for _, before, after in entries for p in (before, after)]
        done = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", SCHEMAS[kind], "-o", "json",
                               *map(str, both)], capture_output=True, text=True, timeout=300)
        report = json.loads(done.stdout or "{}")
        failing = {e.get("filename", ""): e.get("message", str(e))
                   for e in [*report.get("errors", []), *report.get("parse_errors", [])]}
        for key, before, after in entries:  # an input that fails already (a duplicate key) must fail no worse
            if str(after) in failing and str(before) not in failing:
                problems[key] += f"{SCHEMAS[kind]} schema: {failing[str(after)]}; "
    return problems


def test_there_are_golden_ci_cases():
    assert len(CASES) >= 12
    kinds = {ci_kind(Path(rel)) for folder in CASES for rel in load(folder).ci_files()}
    assert kinds == {"github", "gitlab"}


@pytest.mark.parametrize("folder", CASES, ids=[c.name for c in CASES])
def test_golden_ci(folder, ci_outputs, validated, tmp_path):
    case = load(folder)
    files = case.ci_files()
    assert files, "the case's repository holds no CI file"
    if UPDATE:
        shutil.rmtree(folder / "expected", ignore_errors=True)
    for rel in files:
        output = ci_outputs[(case.id, rel)]
        if UPDATE and output != case.source(rel):
            (folder / "expected" / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / "expected" / rel).write_bytes(output.encode("utf-8"))
        assert output == case.expected(rel), f"{rel}: the output differs from expected/{rel}" if (
            folder / "expected" / rel).exists() else f"{rel} must stay byte-identical (no expected/{rel})"
        again = rewrite(case, rel, output)
        assert again.output == output and not again.fixes, f"{rel}: not a fixpoint"
        assert not validated[(case.id, rel)], f"{rel}: {validated[(case.id, rel)]}"
        if output != case.source(rel):
            _check_patch(case, rel, output, tmp_path / "repo")
    strays = [p.relative_to(folder / "expected").as_posix() for p in (folder / "expected").rglob("*")
              if p.is_file() and p.relative_to(folder / "expected").as_posix() not in files] \
        if (folder / "expected").is_dir() else []
    assert not strays, f"expected/ holds files the repository does not: {strays}"


def _check_patch(case: Case, rel: str, output: str, repo: Path) -> None:
    git = ["git", "-c", "core.autocrlf=false", "-c", "apply.whitespace=nowarn"]
    repo.mkdir(parents=True, exist_ok=True)
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(case.repo / rel, repo / rel)
    (repo / "emitted.patch").write_bytes(unified_diff(case.source(rel), output, rel).encode("utf-8"))
    done = subprocess.run([*git, "apply", "emitted.patch"], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, f"git apply refuses the diff of {rel}: {done.stderr}"
    assert (repo / rel).read_bytes() == output.encode("utf-8"), f"{rel}: the applied diff differs from the output"


def test_the_golden_ci_cases_use_every_rule_of_ci_cache():
    seen: set[str] = set()
    for folder in CASES:
        case = load(folder)
        for rel in case.ci_files():
            outcome = rewrite(case, rel)
            for item in [*outcome.fixes, *outcome.notes]:
                assert item.code in {r.code for r in ci_cache.RULES}, (case.id, item)
                if isinstance(item, Fix):
                    seen.add(item.code)
    assert seen == {r.code for r in ci_cache.RULES}, sorted({r.code for r in ci_cache.RULES} - seen)


def test_the_validators_fail_on_a_broken_workflow(tmp_path):
    """A harness that cannot fail proves nothing: a cache key at the wrong level is caught."""
    good = ("on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - uses: docker/build-push-action@v7\n        with:\n          context: .\n")
    bad = good + "        cache-from: type=gha\n"  # a key of the step, not of with:
    (tmp_path / "good.yml").write_text(good)
    (tmp_path / "bad.yml").write_text(bad)
    lint = _actionlint([tmp_path / "good.yml", tmp_path / "bad.yml"])
    assert not lint[tmp_path / "good.yml"] and lint[tmp_path / "bad.yml"]
    done = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", SCHEMAS["github"],
                           str(tmp_path / "bad.yml")], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
