"""dockerignore: what goes into the ignore file, what never does (whole cases: golden/dockerignore/)."""

from __future__ import annotations

import re
import subprocess

import pytest
from typer.testing import CliRunner

from dockfix.cli import EXIT_CHANGES, EXIT_CLEAN, app
from dockfix.context import Context
from dockfix.engine import run_pipeline
from dockfix.manifests import IgnoreRules
from dockfix.transforms import dockerignore
from dockfix.transforms.dockerignore import ENTRIES, MARKER, extend

from .conftest import ROOT
from .corpus_context import pipeline_over

COPY_ALL = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
APP = {"requirements.txt": "flask\n", "app.py": ""}
EVERY = [e.pattern for e in ENTRIES]


def _run(text: str, files: dict[str, str], unsafe: bool = False):
    return run_pipeline(text, Context(files=files), (dockerignore.TRANSFORM,), unsafe=unsafe)


def _written(text: str, files: dict[str, str], unsafe: bool = False) -> str | None:
    return _run(text, files, unsafe).files.get(".dockerignore")


def _patterns(ignore: str | None) -> list[str]:
    return [ln for ln in (ignore or "").splitlines() if ln.strip() and not ln.startswith("#")]


# --- the file's text -----------------------------------------------------------------

EXTEND = {
    "new-file": (None, MARKER + "\n.git\n"),
    "after-a-final-newline": ("node_modules\n", "node_modules\n\n" + MARKER + "\n.git\n"),
    "no-final-newline": ("node_modules", "node_modules\n\n" + MARKER + "\n.git\n"),
    "after-a-blank-line": ("node_modules\n\n", "node_modules\n\n" + MARKER + "\n.git\n"),
    "crlf": ("node_modules\r\n", "node_modules\r\n\r\n" + MARKER + "\r\n.git\r\n"),
    "joins-our-block-when-last": ("x\n\n" + MARKER + "\ndist\n", "x\n\n" + MARKER + "\ndist\n.git\n"),
    "new-block-after-user-lines": (MARKER + "\ndist\n# mine\nlogs\n", MARKER + "\ndist\n# mine\nlogs\n\n" + MARKER + "\n.git\n"),
}


@pytest.mark.parametrize("current,expected", EXTEND.values(), ids=EXTEND.keys())
def test_extend_keeps_every_byte_and_appends(current, expected):
    assert extend(current, [".git"]) == expected


def test_creates_the_file_with_every_entry():
    assert _patterns(_written(COPY_ALL, APP)) == EVERY


@pytest.mark.parametrize("existing", [".git/", "/.git", "./.git", ".git\n.git/**", "*\n!app.py\n!requirements.txt"])
def test_a_pattern_the_file_already_covers_is_not_added_again(existing):
    written = _written(COPY_ALL, {**APP, ".dockerignore": existing + "\n"})
    assert ".git" not in _patterns(written)[len(_patterns(existing)):]


def test_root_only_pattern_does_not_cover_nested_caches():
    written = _written(COPY_ALL, {**APP, ".dockerignore": "__pycache__\n"})
    assert "**/__pycache__" in _patterns(written)  # `__pycache__` matches the root folder only


def test_nothing_to_add_writes_nothing():
    complete = "\n".join(EVERY) + "\n"
    outcome = _run(COPY_ALL, {**APP, ".dockerignore": complete})
    assert not outcome.files and not outcome.fixes


# --- never a path the build uses -------------------------------------------------------

KEEPS = {
    "copied-folder": ("COPY build/ /srv/static/\n", {"build/a.css": ""}, "build"),
    "copied-file-inside": ("COPY dist/app-1.0-py3-none-any.whl /tmp/\n", {"dist/app-1.0-py3-none-any.whl": ""}, "dist"),
    "copied-by-wildcard": ("COPY dist/*.whl /tmp/\n", {"dist/app-1.0-py3-none-any.whl": ""}, "dist"),
    "add-source": ("ADD .venv /opt/venv\n", {".venv/bin/python": ""}, ".venv"),
    "bind-mount": ("RUN --mount=type=bind,source=venv,target=/v ls /v\n", {"venv/x": ""}, "venv"),
    "mentioned-by-a-command": ("RUN python -m venv venv\n", {}, "venv"),
    "mentioned-by-cmd": ('CMD ["python", "build/run.py"]\n', {}, "build"),
    "git-runs": ("RUN git describe --tags > VERSION\n", {}, ".git"),
}


@pytest.mark.parametrize("line,files,pattern", KEEPS.values(), ids=KEEPS.keys())
def test_never_excludes_what_the_build_uses(line, files, pattern):
    outcome = _run(COPY_ALL + line, {**APP, **files})
    assert pattern not in _patterns(outcome.files.get(".dockerignore"))
    assert any(n.message.startswith(f"{pattern} not added") for n in outcome.notes)


def test_a_package_named_like_a_build_output_stays():
    outcome = _run(COPY_ALL, {**APP, "build/__init__.py": "", "build/steps.py": ""})
    assert "build" not in _patterns(outcome.files[".dockerignore"]) and "dist" in _patterns(outcome.files[".dockerignore"])
    assert any(n.message == "build not added: it is a Python package of the project, not a build output"
               for n in outcome.notes)


def test_version_from_git_tags_keeps_git():
    pyproject = "[build-system]\nrequires = ['hatchling', 'hatch-vcs']\n[tool.hatch.version]\nsource = 'vcs'\n"
    assert ".git" not in _patterns(_written(COPY_ALL, {**APP, "pyproject.toml": pyproject}))


def test_another_dockerfile_sharing_the_ignore_file_counts():
    files = {**APP, "Dockerfile.docs": "FROM python:3.12\nCOPY build/html /srv\n", "build/html/index.html": ""}
    assert "build" not in _patterns(_written(COPY_ALL, files))
    files["Dockerfile.docs.dockerignore"] = "*\n"  # it has its own ignore file: ours may exclude build
    assert "build" in _patterns(_written(COPY_ALL, files))


def test_a_path_the_file_re_includes_is_left_to_it():
    written = _written(COPY_ALL, {**APP, ".dockerignore": "*.whl\n!dist/keep.whl\n", "dist/keep.whl": ""})
    assert "dist" not in _patterns(written)


def test_the_own_ignore_file_of_the_dockerfile_wins():
    outcome = _run(COPY_ALL, {**APP, "Dockerfile.dockerignore": "x\n", ".dockerignore": "y\n"})
    assert set(outcome.files) == {"Dockerfile.dockerignore"}


def test_dotenv_is_unsafe_and_comes_alone():
    safe = _run(COPY_ALL, {**APP, ".env": "A=1\n"})
    assert "**/.env" not in _patterns(safe.files[".dockerignore"])
    unsafe = _run(COPY_ALL, {**APP, ".env": "A=1\n"}, unsafe=True)
    assert _patterns(unsafe.files[".dockerignore"])[-1] == "**/.env"
    env_fix = [f for f in unsafe.fixes if ".env" in f.message]
    assert len(env_fix) == 1 and not env_fix[0].safe


@pytest.mark.parametrize("text,files,why", [
    ("FROM python:3.12\nARG SRC=.\nCOPY $SRC /app\n", APP, "is a variable"),
    ("FROM python:3.12\nCOPY backend/ /app\n", {"README.md": ""}, "the build context is elsewhere"),
    ("FROM python:3.12\nCOPY . /app\n", {}, "no build context beside the Dockerfile"),
    ("FROM python:3.12\nCOPY . /app\n", {"README.md": ""}, "no Python project beside the Dockerfile"),
    ("FROM node:20\nCOPY . .\nRUN npm ci\n", {"package.json": "{}"}, "not a Python image"),
], ids=["variable-source", "context-elsewhere", "empty-context", "no-python-project", "not-python"])
def test_left_alone_with_a_reason(text, files, why):
    outcome = _run(text, files, unsafe=True)
    assert not outcome.files and outcome.output == text
    assert any(why in n.message for n in outcome.notes), [n.message for n in outcome.notes]


def test_the_page_example_is_what_the_transform_does():
    page = (ROOT / "transforms" / "dockerignore.md").read_text(encoding="utf-8")
    dockerfile = re.search(r"```dockerfile\n(.*?)```", page, re.DOTALL).group(1)
    ignore = re.search(r"```text\n(.*?)```", page, re.DOTALL).group(1)
    outcome = _run(dockerfile, APP)
    assert outcome.output == dockerfile and outcome.files == {".dockerignore": ignore}


# --- the command line ------------------------------------------------------------------

def test_diff_shows_the_ignore_file_as_a_second_file_that_git_applies(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text(COPY_ALL)
    for rel, text in APP.items():
        (tmp_path / rel).write_text(text)
    result = CliRunner().invoke(app, ["--diff", "--select", "lockfile-first,dockerignore", "Dockerfile"])
    assert result.exit_code == EXIT_CHANGES
    files = re.findall(r"^diff --git a/(\S+) b/", result.stdout, re.MULTILINE)
    assert files == ["Dockerfile", ".dockerignore"]  # one patch, the Dockerfile first
    assert "new file mode 100644\n--- /dev/null\n+++ b/.dockerignore\n" in result.stdout
    assert not (tmp_path / ".dockerignore").exists()  # --diff writes nothing
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "fix.patch").write_text(result.stdout)
    done = subprocess.run(["git", "apply", "fix.patch"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert _patterns((tmp_path / ".dockerignore").read_text()) == EVERY
    assert "COPY requirements.txt ./\n" in (tmp_path / "Dockerfile").read_text()
    again = CliRunner().invoke(app, ["--diff", "--select", "lockfile-first,dockerignore", "Dockerfile"])
    assert (again.exit_code, again.stdout) == (EXIT_CLEAN, "")


@pytest.mark.parametrize("name", ["dockerignore", "lockfile-first"])
def test_explain_prints_the_page(name):
    result = CliRunner().invoke(app, ["--explain", name])
    assert result.exit_code == EXIT_CLEAN and result.stdout.startswith(f"# {name}\n")
    for heading in ("What it does", "Why it matters", "Example", "Safety", "Limits"):
        assert f"\n## {heading}\n" in result.stdout


def test_write_extends_an_existing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text(COPY_ALL)
    (tmp_path / ".dockerignore").write_text("# mine\n.git\n")
    (tmp_path / "app.py").write_text("")
    result = CliRunner().invoke(app, ["--write", "--select", "dockerignore", "Dockerfile"])
    assert result.exit_code == EXIT_CHANGES
    written = (tmp_path / ".dockerignore").read_text()
    assert written.startswith("# mine\n.git\n\n" + MARKER + "\n**/__pycache__\n")
    assert written.count(".git\n") == 1


# --- the corpus ------------------------------------------------------------------------

def test_corpus_ignore_files_never_exclude_a_copied_path(corpus):
    """Every corpus file with a made-up context (what it copies plus the usual manifests):
    the ignore file the whole pipeline writes excludes none of those files."""
    written = 0
    for run in pipeline_over(tuple(corpus)):
        ignore = run.outcome.files.get(".dockerignore")
        if ignore is None:
            continue
        written += 1
        rules = IgnoreRules.parse(ignore)
        assert not [p for p in run.files if rules.excludes(p)], run.name
    assert written >= 50


def test_no_note_about_an_entry_it_added_itself_in_an_earlier_round():
    # Round 1 adds `venv`; the split then writes /opt/venv into the Dockerfile. The
    # second look must not say "venv not added: an instruction mentions it".
    from dockfix.transforms import PIPELINE

    text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n"
    context = Context(files={"requirements.txt": "flask==3.0.3\n", "app.py": "print('hi')\n"})
    outcome = run_pipeline(text, context, PIPELINE, unsafe=True)
    assert "/opt/venv" in outcome.output and "venv\n" in outcome.files[".dockerignore"]
    assert not [n.message for n in outcome.notes if n.transform == "dockerignore"]


def test_dotenv_is_kept_when_the_app_loads_one():
    """The corpus review's 'unsure' (wagtail bakerydemo, rishat): settings call load_dotenv() and
    the whole context is copied: the image may rely on the .env the build copies."""
    text = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n"
    files = {"requirements.txt": "flask\n", "app.py": "print(1)\n",
             "config/settings.py": "from dotenv import load_dotenv\nload_dotenv()\n"}
    outcome = run_pipeline(text, Context(files=files), (dockerignore.TRANSFORM,), unsafe=True)
    assert "**/.env" not in outcome.files.get(".dockerignore", "")
    assert any("config/settings.py loads a .env" in n.message for n in outcome.notes)
    del files["config/settings.py"]
    outcome = run_pipeline(text, Context(files=files), (dockerignore.TRANSFORM,), unsafe=True)
    assert "**/.env" in outcome.files[".dockerignore"]
