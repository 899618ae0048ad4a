"""The golden harness: every case folder under golden/ is one test.

    golden/<transform>/<case>/Dockerfile            the input
    golden/<transform>/<case>/<context files>       what the transform may read
    golden/<transform>/<case>/expected.Dockerfile   the output (ABSENT: unchanged)
    golden/<transform>/<case>/expected.files/<rel>  context files written
    golden/<transform>/<case>/expected.notes        (optional) the notes, one a line: `line: CODE message`
    golden/<transform>/<case>/expected.fixes        (optional) the fixes, the same way (the lines --check reports)
    golden/<transform>/<case>/case.toml             unsafe = true, pipeline = "full"
    golden/pipeline/<case>/                         always the full pipeline

For each case: the input round-trips; the output is the expected one and
writes exactly the expected files; a second run changes nothing; BuildKit's
parser reads the output as dockfix does; the diff the CLI would print
applies with `git apply` and reproduces the output bytes.

DOCKFIX_UPDATE_GOLDEN=1 rewrites the expectations (review with git diff).
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from dockfix import parse
from dockfix.context import Context
from dockfix.diff import unified_diff
from dockfix.engine import Transform, run_pipeline
from dockfix.transforms import PIPELINE

from .conftest import ROOT
from .oracle_parse import parse_many
from .test_oracle import disagreements

GOLDEN = ROOT / "golden"
UPDATE = os.environ.get("DOCKFIX_UPDATE_GOLDEN") == "1"
NOT_CONTEXT = ("Dockerfile", "expected.Dockerfile", "expected.notes", "expected.fixes", "case.toml")


@dataclass(frozen=True)
class Case:
    id: str
    folder: Path
    transforms: tuple[Transform, ...]
    unsafe: bool

    @property
    def source(self) -> str:
        return _read(self.folder / "Dockerfile")

    def context_files(self) -> dict[str, str]:
        """The build context: every file of the folder but the input and the expectations."""
        out = {}
        for path in sorted(self.folder.rglob("*")):
            rel = path.relative_to(self.folder).as_posix()
            if path.is_file() and rel not in NOT_CONTEXT and not rel.startswith("expected.files/"):
                out[rel] = _read(path)
        return out

    def expected_output(self) -> str:
        path = self.folder / "expected.Dockerfile"
        return _read(path) if path.exists() else self.source

    def expected_files(self) -> dict[str, str]:
        root = self.folder / "expected.files"
        if not root.is_dir():
            return {}
        return {p.relative_to(root).as_posix(): _read(p) for p in sorted(root.rglob("*")) if p.is_file()}


@dataclass(frozen=True)
class Result:
    output: str
    files: dict[str, str]
    notes: str = ""  # one a line, `line: CODE message`, as the user reads them (-v)
    fixes: str = ""  # the same, for the fixes (--check): lines of the user's file, in the order reported


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # exactly as stored: no newline translation


def _transforms(group: str, full: bool) -> tuple[Transform, ...]:
    if full or group == "pipeline":
        return PIPELINE
    module = importlib.import_module(f"dockfix.transforms.{group.replace('-', '_')}")
    return (module.TRANSFORM,)


def load_case(folder: Path, case_id: str) -> Case:
    settings = {}
    if (folder / "case.toml").exists():
        settings = tomllib.loads((folder / "case.toml").read_text(encoding="utf-8"))
    unknown = set(settings) - {"unsafe", "pipeline"}
    assert not unknown, f"{case_id}/case.toml: unknown keys {sorted(unknown)}"
    group = case_id.split("/", 1)[0]
    return Case(case_id, folder, _transforms(group, settings.get("pipeline") == "full"),
                bool(settings.get("unsafe", False)))


def discover(root: Path = GOLDEN) -> list[tuple[str, Path]]:
    return sorted((f.parent.relative_to(root).as_posix(), f.parent) for f in root.glob("*/*/Dockerfile"))


def run_case(case: Case, source: str | None = None, extra: dict[str, str] | None = None) -> Result:
    context = Context(files={**case.context_files(), **(extra or {})})
    outcome = run_pipeline(case.source if source is None else source, context, case.transforms, unsafe=case.unsafe)
    notes = "".join(f"{n.line}: {n.code} {n.message}\n" for n in outcome.notes)
    fixes = "".join(f"{f.line}: {f.code} {f.message}\n" for f in outcome.fixes)
    return Result(outcome.output, {_norm(k): v for k, v in outcome.files.items()}, notes, fixes)


def _norm(rel: str) -> str:
    return rel[2:] if rel.startswith("./") else rel


def emitted_diff(case: Case, result: Result) -> str:
    """The patch `dockfix --diff` prints: the Dockerfile, then each context file written."""
    parts = [unified_diff(case.source, result.output, "Dockerfile")] if result.output != case.source else []
    context = case.context_files()
    for rel, text in sorted(result.files.items()):
        parts.append(unified_diff(context.get(rel), text, rel))
    return "".join(parts)


def update_expectations(case: Case, result: Result) -> None:
    expected = case.folder / "expected.Dockerfile"
    if result.output != case.source:
        expected.write_bytes(result.output.encode("utf-8"))
    elif expected.exists():
        expected.unlink()
    notes = case.folder / "expected.notes"
    if notes.exists():  # a case opts in to checking its notes by having the file
        notes.write_bytes(result.notes.encode("utf-8"))
    fixes = case.folder / "expected.fixes"
    if fixes.exists():  # and its fixes' lines
        fixes.write_bytes(result.fixes.encode("utf-8"))
    files_root = case.folder / "expected.files"
    if files_root.exists():
        shutil.rmtree(files_root)
    for rel, text in result.files.items():
        target = files_root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))


def check_case(case: Case, result: Result, oracle_answer: dict | None, workdir: Path) -> None:
    """Every guarantee the golden harness checks; raises AssertionError naming the failure."""
    source = case.source
    assert parse(source).render() == source, "the input does not round-trip"
    assert result.output == case.expected_output(), (
        "the output differs from expected.Dockerfile" if (case.folder / "expected.Dockerfile").exists()
        else "the input must stay byte-identical (there is no expected.Dockerfile)")
    assert result.files == case.expected_files(), "the context files written differ from expected.files/"
    notes = case.folder / "expected.notes"
    if notes.exists():
        assert result.notes == _read(notes), f"the notes differ from expected.notes:\n{result.notes}"
    fixes = case.folder / "expected.fixes"
    if fixes.exists():
        assert result.fixes == _read(fixes), f"the fixes differ from expected.fixes:\n{result.fixes}"
    assert parse(result.output).render() == result.output

    again = run_case(case, result.output, result.files)
    assert again.output == result.output, "not a fixpoint: a second run changes the Dockerfile"
    assert not again.files, f"not a fixpoint: a second run writes {sorted(again.files)}"

    if oracle_answer is not None:
        problems = disagreements(result.output, oracle_answer)
        assert "error" not in oracle_answer, f"BuildKit's parser rejects the output: {oracle_answer.get('error')}"
        assert not problems, f"BuildKit reads the output differently: {problems}"

    patch = emitted_diff(case, result)
    if not patch:
        return
    _check_patch_applies(case, result, patch, workdir)


def _check_patch_applies(case: Case, result: Result, patch: str, repo: Path) -> None:
    repo.mkdir(parents=True, exist_ok=True)
    git = ["git", "-c", "core.autocrlf=false", "-c", "apply.whitespace=nowarn"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    shutil.copyfile(case.folder / "Dockerfile", repo / "Dockerfile")
    for rel in case.context_files():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(case.folder / rel, repo / rel)
    (repo / "emitted.patch").write_bytes(patch.encode("utf-8"))
    for args in (["apply", "--check"], ["apply"]):
        done = subprocess.run([*git, *args, "emitted.patch"], cwd=repo, capture_output=True, text=True)
        assert done.returncode == 0, f"git {' '.join(args)} refuses the diff: {done.stderr}\n{patch}"
    assert (repo / "Dockerfile").read_bytes() == result.output.encode("utf-8"), "the applied diff differs from the output"
    for rel, text in result.files.items():
        assert (repo / rel).read_bytes() == text.encode("utf-8"), f"the applied diff differs for {rel}"


CASES = discover()


@pytest.fixture(scope="session")
def golden_runs() -> dict[str, Result | BaseException]:
    """Every case run once; the outputs go to BuildKit's parser in one subprocess."""
    runs: dict[str, Result | BaseException] = {}
    for case_id, folder in CASES:
        try:
            runs[case_id] = run_case(load_case(folder, case_id))
        except Exception as err:  # reported by that case's test, not by the fixture
            runs[case_id] = err
    return runs


@pytest.fixture(scope="session")
def golden_oracle(golden_runs) -> dict[str, dict]:
    ok = {k: v for k, v in golden_runs.items() if isinstance(v, Result)}
    answers = parse_many([r.output for r in ok.values()]) if ok else []
    return dict(zip(ok, answers))


def test_there_are_golden_cases():
    assert len(CASES) >= 8


@pytest.mark.parametrize("case_id, folder", CASES, ids=[c for c, _ in CASES])
def test_golden(case_id, folder, golden_runs, golden_oracle, tmp_path):
    case = load_case(folder, case_id)
    result = golden_runs[case_id]
    if isinstance(result, BaseException):
        raise result
    if UPDATE:
        update_expectations(case, result)
    check_case(case, result, golden_oracle[case_id], tmp_path / "repo")


# The harness itself must fail when an expectation is wrong.

def _temp_case(tmp_path: Path, files: dict[str, str], transforms: tuple[Transform, ...] | None = None) -> Case:
    folder = tmp_path / "apt" / "meta"
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(text.encode("utf-8"))
    case = load_case(folder, "apt/meta")
    return case if transforms is None else Case(case.id, folder, transforms, case.unsafe)


INSTALL = "FROM python:3.12\nRUN apt-get update && apt-get install -y curl\n"
CLEANED = "FROM python:3.12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"


def test_harness_accepts_a_correct_case(tmp_path):
    case = _temp_case(tmp_path, {"Dockerfile": INSTALL, "expected.Dockerfile": CLEANED})
    check_case(case, run_case(case), parse_many([CLEANED])[0], tmp_path / "repo")


@pytest.mark.parametrize("files, message", [
    ({"Dockerfile": INSTALL, "expected.Dockerfile": CLEANED.replace("curl", "wget")}, "differs from expected"),
    ({"Dockerfile": INSTALL}, "byte-identical"),
    ({"Dockerfile": INSTALL, "expected.Dockerfile": CLEANED, "expected.files/.dockerignore": ".git\n"},
     "context files written"),
    ({"Dockerfile": INSTALL, "expected.Dockerfile": CLEANED, "expected.notes": "2: DF102 a note it does not give\n"},
     "notes differ"),
    ({"Dockerfile": INSTALL, "expected.Dockerfile": CLEANED, "expected.fixes": "1: DF101 a line it does not report\n"},
     "fixes differ"),
], ids=["wrong-output", "missing-expectation", "missing-written-file", "wrong-notes", "wrong-fix-lines"])
def test_harness_fails_on_a_wrong_expectation(tmp_path, files, message):
    case = _temp_case(tmp_path, files)
    with pytest.raises(AssertionError, match=message):
        check_case(case, run_case(case), None, tmp_path / "repo")


def test_harness_fails_when_a_second_run_changes_the_output(tmp_path):
    # A result that claims "unchanged" although the pipeline rewrites the input:
    # the expectation matches, only the second run can notice.
    case = _temp_case(tmp_path, {"Dockerfile": INSTALL})
    with pytest.raises(AssertionError, match="fixpoint"):
        check_case(case, Result(INSTALL, {}), None, tmp_path / "repo")


def test_harness_fails_when_the_diff_does_not_reproduce_the_output(tmp_path, monkeypatch):
    case = _temp_case(tmp_path, {"Dockerfile": INSTALL, "expected.Dockerfile": CLEANED})
    result = run_case(case)
    monkeypatch.setattr(sys.modules[__name__], "unified_diff",
                        lambda old, new, path, real=unified_diff: real(old, new.replace("curl", "wget"), path))
    with pytest.raises(AssertionError, match="applied diff differs"):
        check_case(case, result, None, tmp_path / "repo")


def test_no_golden_file_is_ignored_by_git():
    """A context file that .gitignore hides passes here and fails on a clean clone."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    found = subprocess.run(["git", "ls-files", "--others", "--ignored", "--exclude-standard", "golden"],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == [], "git ignores these golden files; a clean clone would not have them"
