"""Hostile repositories: a folder run survives what a cloned repository may hold.

Issue "Hostile repositories", items 4 and 6 (discovery part). A 25-byte
.gitignore that makes a backtracking matcher run for ever; ignore files that
cannot be read (which must never mean "ignore nothing"); folders deeper than
Python's recursion limit; link loops; odd .gitignore lines; and trees too big
to search. Every input is made here, in a temporary folder. Nothing is timed:
work is counted (matcher steps), and the one subprocess has a timeout only as
a guard against a hang.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import dockfix.discover as discover
from dockfix.cli import EXIT_ERROR, app
from dockfix.discover import dockerfiles_under, is_dockerfile_name
from dockfix.fileio import MAX_SIZE, InputError

from .conftest import ROOT

NEEDS_FIX = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\n"
HOSTILE = "*a*a*a*a*a*a*a*a*a*a*a*b"  # 25 bytes with its newline


def make(root: Path, *names: str, text: str = NEEDS_FIX) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def found(folder: Path, **kwargs) -> list[str]:
    return [p.relative_to(folder).as_posix() for p in dockerfiles_under(folder, **kwargs)]


def dockfix(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result


# --- item 4: the pattern blow-up ------------------------------------------------------------

def test_a_pattern_that_backtracks_as_a_regex_does_not_hang_a_folder_run(tmp_path):
    # pathspec compiles the line to a regex that backtracks: 58 s for one 40-letter name, and
    # 60 letters would take years. Here the run must end; the timeout only guards a hang.
    repo = tmp_path / "repo"
    make(repo, "Dockerfile", "a" * 60 + "/Dockerfile", "a" * 59 + "b/Dockerfile")
    (repo / ".gitignore").write_text(HOSTILE + "\n")
    assert len((repo / ".gitignore").read_bytes()) == 25
    done = subprocess.run([sys.executable, "-m", "dockfix", "--check", "repo"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    checked = {line.split(":")[0] for line in done.stdout.splitlines()}
    assert checked == {"repo/Dockerfile", "repo/" + "a" * 60 + "/Dockerfile"}  # the a...ab folder is ignored


@pytest.mark.parametrize("pattern", [HOSTILE, HOSTILE[:-1], "*a?a?a?a?a?b", "?*?*?*?*?*?*?*?*b",
                                     "[ab]*[ab]*[ab]*[ab]*c", "*aaaaaaaaaaaaaaaaaaab*", "**/*a*a*a*/**/*b",
                                     "**/a/**/a/**/a/**/b", "a**/**/**/b", "/*a*a*a*/*a*a*a*b"])
def test_matching_work_grows_with_pattern_times_path_never_exponentially(pattern):
    # Every loop of the matcher is counted in the budget: the count is the work done.
    m = len(pattern)
    for n in (10, 40, 60, 200, 1000):
        texts = ["a" * n, "a" * (n - 1) + "b", ("ab" * n)[:n], "a" * n + "c", ("a/" * n)[:n] + "c", "a/" * n + "b"]
        for text in texts:
            budget = discover.Budget()
            rel = text.encode()
            discover.Pattern(pattern.encode()).matches(rel, rel.rpartition(b"/")[2], False, budget)
            # linear in each: (pattern x path) comparisons, plus compiling the pattern's classes once
            assert budget.steps <= 4 * (m + 1) * (len(rel) + 1) + 64 * (m + 1), (pattern, text[:20], budget.steps)


# --- agreement with git, and with pathspec where pathspec is right ------------------------------

GIT = shutil.which("git")
ATOMS = ["a", "b", "ab", "*", "**", "?", "/", "[ab]", "[!a]", "[a-b]", "Dockerfile", "D*", ".", "\\a", "\\*", " ",
         "\\ ", "[[:alpha:]]", "[]a]", "[", "\\", "\\/", "**/", "/**", "[/]", "[!/]", "[^a]", "[[:foo:]]", "#", "!",
         "a/**/b", "**/a", "a/**", "*a*b", "\\!", "\\#", "[a-\\b]", "***", "a**", "b**/"]
DIRS = ["a", "b", "ab", "ba", "aa", ".h", "a b", "[a]", "*", "!a", "#a"]
FILES = ["Dockerfile", "a.Dockerfile", "b.dockerfile", "Dockerfile.a", "ab.Dockerfile"]

lines = st.builds(lambda neg, atoms, lead, trail: "!" * neg + "/" * lead + "".join(atoms) + "/" * trail,
                  st.booleans(), st.lists(st.sampled_from(ATOMS), min_size=1, max_size=4), st.booleans(),
                  st.booleans())
trees = st.lists(st.builds(lambda dirs, name: "/".join([*dirs, name]), st.lists(st.sampled_from(DIRS), max_size=4),
                           st.sampled_from(FILES)), min_size=1, max_size=8)
ignores = st.dictionaries(st.lists(st.sampled_from(DIRS), max_size=2).map("/".join),
                          st.lists(lines, min_size=1, max_size=4), min_size=1, max_size=3)


def git_keeps(root: Path) -> list[str]:
    home = root.parent / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "XDG_CONFIG_HOME": str(home),
           "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q"], cwd=root, env=env, check=True)
    out = subprocess.run(["git", "ls-files", "-o", "--exclude-standard", "-z"], cwd=root, env=env, check=True,
                         capture_output=True).stdout
    return sorted(p for p in out.decode().split("\0") if p and is_dockerfile_name(p.rpartition("/")[2]))


@pytest.mark.skipif(GIT is None, reason="needs git, the reference")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=trees, ignore_files=ignores)
@example(files=["a/Dockerfile", "a/b/Dockerfile"], ignore_files={"": ["!", "a/**/"]})  # pathspec: a crash, a/ ignored
@example(files=["a/b/Dockerfile"], ignore_files={"": ["a[!a]b"]})  # pathspec: [!a] matched the slash
@example(files=["ab/Dockerfile", "a/Dockerfile"], ignore_files={"": ["a**/Dockerfile"]})  # git's prefix quirk
@example(files=["a/Dockerfile", "b/Dockerfile"], ignore_files={"": ["a\\", "[a-\\b]/", "b\\/Dockerfile"]})
def test_a_search_keeps_what_git_keeps(files, ignore_files):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        for name in files:
            try:
                make(root, name, text="FROM x\n")
            except (FileExistsError, NotADirectoryError):
                pass  # a file where another path wants a folder
        for folder, patterns in ignore_files.items():
            if (root / folder).is_dir():
                (root / folder / ".gitignore").write_text("\n".join(patterns) + "\n")
        assert sorted(found(root, include_hidden=True)) == git_keeps(root), ignore_files


SEGMENTS = ["a", "b", "ab", "*", "?", "a*", "*b", "a?", "*a*", "Dockerfile", "D*", "**"]
NAMES = ["a", "b", "ab", "ba", "aa", "abb", ".a", "Dockerfile"]


@settings(max_examples=300, deadline=None)
@given(segments=st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3), lead=st.booleans(), dir_only=st.booleans(),
       path=st.lists(st.sampled_from(NAMES), min_size=1, max_size=4))
def test_ordinary_patterns_mean_what_they_meant_with_pathspec(segments, lead, dir_only, path):
    # The documented forms (names, *, ?, leading, trailing and inner ** segments, anchoring, /)
    # on file paths. Left out, as pathspec is wrong there (git decides, see the test above):
    # [...] (pathspec lets [!a] match a slash), backslashes and a lone "!" (pathspec raises),
    # a dir-only trailing "/**/" (pathspec ignores the folder's own files), and ** beside
    # other characters or runs of three stars (git's own rules, which pathspec does not follow).
    import pathspec

    line = "/" * lead + "/".join(segments) + "/" * dir_only
    if line.endswith("**/"):
        return
    pattern, budget = discover.Pattern(line.encode()), discover.Budget()
    rels = ["/".join(path[:k]) for k in range(1, len(path) + 1)]
    # git's meaning for a file: the pattern matches it, or one of the folders it is in
    ours = any(pattern.matches(rel.encode(), rel.rpartition("/")[2].encode(), rel != rels[-1], budget) for rel in rels)
    theirs = pathspec.GitIgnoreSpec.from_lines([line]).match_file("/".join(path))
    assert ours == bool(theirs), line


# --- ignore files that cannot be read: an error, never "ignore nothing" ---------------------------

def test_an_ignore_file_over_the_size_cap_is_an_error_and_its_folder_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make(tmp_path, "repo/Dockerfile", "repo/sub/Dockerfile", "repo/sub/deeper/Dockerfile")
    # it ignores the Dockerfiles below it, but is one byte too large to be read
    (tmp_path / "repo/sub/.gitignore").write_text("Dockerfile\n" + "#" * (MAX_SIZE - 11) + "\n")
    assert (tmp_path / "repo/sub/.gitignore").stat().st_size == MAX_SIZE + 1
    result = dockfix("--write", "repo")
    assert result.exit_code == EXIT_ERROR
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith("repo/sub/.gitignore: error: ") and "too large" in errors[0]
    assert errors[0].endswith("; the Dockerfiles below it were not searched, as it may ignore some")
    assert (tmp_path / "repo/sub/Dockerfile").read_text() == NEEDS_FIX  # not written
    assert (tmp_path / "repo/sub/deeper/Dockerfile").read_text() == NEEDS_FIX
    assert (tmp_path / "repo/Dockerfile").read_text() != NEEDS_FIX  # the rest of the run went on


@pytest.mark.parametrize("where", [".gitignore", "sub/.gitignore", ".git/info/exclude"])
@pytest.mark.parametrize("kind", ["fifo", "link loop", "dangling link", "too large"])
def test_an_ignore_file_that_cannot_be_read_is_an_error(tmp_path, kind, where):
    make(tmp_path, "Dockerfile", "sub/Dockerfile")
    (tmp_path / ".git" / "info").mkdir(parents=True)
    path = tmp_path / where
    if kind == "fifo":
        os.mkfifo(path)  # a read would block; it is refused without one
    elif kind == "link loop":
        path.symlink_to(path.name)
    elif kind == "dangling link":
        path.symlink_to("nowhere")
    else:
        path.write_bytes(b"Dockerfile\n" * (MAX_SIZE // 10))
    with pytest.raises(InputError) as caught:
        dockerfiles_under(tmp_path)
    assert caught.value.path == path  # type: ignore[attr-defined]
    assert "the Dockerfiles below it were not searched" in caught.value.message


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_an_ignore_file_without_read_permission_is_an_error(tmp_path):
    make(tmp_path, "Dockerfile", "sub/Dockerfile")
    (tmp_path / "sub/.gitignore").write_text("Dockerfile\n")
    (tmp_path / "sub/.gitignore").chmod(0)
    with pytest.raises(InputError, match="cannot read: Permission denied"):
        dockerfiles_under(tmp_path)


# --- item 6: depth, link loops, folders that cannot be listed ---------------------------------

def make_deep(root: Path, depth: int, name: str = "d") -> None:
    """root/d/d/.../d/Dockerfile, `depth` folders deep; made through descriptors, not long paths."""
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        with open(os.open("Dockerfile", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as handle:
            handle.write(NEEDS_FIX)
    finally:
        os.close(fd)


def remove_deep(root: Path, name: str = "d") -> None:
    """Bottom up, without recursion (shutil.rmtree recurses once per level)."""
    fds = [os.open(root, os.O_RDONLY)]
    try:
        while name in os.listdir(fds[-1]):
            fds.append(os.open(name, os.O_RDONLY, dir_fd=fds[-1]))
        while len(fds) > 1:
            inner = fds.pop()
            for entry in os.listdir(inner):
                os.unlink(entry, dir_fd=inner)
            os.close(inner)
            os.rmdir(name, dir_fd=fds[-1])
    finally:
        for fd in fds:
            os.close(fd)


@pytest.mark.skipif(os.name != "posix", reason="descriptor-relative folders")
def test_a_folder_1100_deep_is_searched(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_deep(tmp_path, 1100)
    try:
        deep = Path(*["d"] * 1100, "Dockerfile")
        assert found(tmp_path) == [deep.as_posix()]
        result = dockfix("--check", ".")
        assert result.exit_code == 1, result.stderr
        assert result.stdout.startswith(deep.as_posix() + ":")
    finally:
        remove_deep(tmp_path)


@pytest.mark.skipif(os.name != "posix", reason="descriptor-relative folders")
def test_a_folder_past_the_path_length_limit_is_one_error_and_the_rest_is_searched(tmp_path, monkeypatch):
    # 17 names of 250 bytes: past Linux's 4,096-byte path limit, so the deepest cannot be listed
    monkeypatch.chdir(tmp_path)
    make(tmp_path, "repo/Dockerfile")
    make_deep(tmp_path / "repo", 17, "n" * 250)
    result = dockfix("--check", "repo")
    assert result.exit_code == EXIT_ERROR
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].endswith("error: cannot list this folder: File name too long; "
                                                   "the Dockerfiles below it were not searched"), errors
    assert result.stdout.startswith("repo/Dockerfile:")


def test_link_loops_beside_a_dockerfile(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make(tmp_path, "repo/Dockerfile", "repo/sub/Dockerfile")
    repo = tmp_path / "repo"
    (repo / "loop").symlink_to("loop")
    (repo / "a").symlink_to("b")
    (repo / "b").symlink_to("a")
    (repo / "Dockerfile.loop").symlink_to("Dockerfile.loop")  # named like a Dockerfile
    (repo / "up").symlink_to(".", target_is_directory=True)  # a loop through a real folder
    (repo / "sub" / ".gitignore").symlink_to(".gitignore")  # an ignore file that is a loop
    assert dockerfiles_under(repo, errors=(errors := [])) == [repo / "Dockerfile"]
    assert [e.path for e in errors] == [repo / "sub" / ".gitignore"]
    result = dockfix("--check", "repo")
    assert result.exit_code == EXIT_ERROR
    # (the run's other line, about repo/Dockerfile itself, is context.py's: not discovery's)
    assert "repo/sub/.gitignore: error: cannot read: Too many levels of symbolic links; the Dockerfiles below it " \
           "were not searched, as it may ignore some" in result.stderr.splitlines()


def test_odd_gitignore_lines_are_read_as_git_reads_them(tmp_path, monkeypatch):
    # pathspec raised on each of these lines, and the run ended in a traceback
    monkeypatch.chdir(tmp_path)
    make(tmp_path, *(f"repo/{d}Dockerfile" for d in ("", "a/", "b/", "c/", "d/", "#c/")))
    (tmp_path / "repo/.gitignore").write_text("!\n\\\n[a-\\b]/\nc\\/Dockerfile\n#c\n\\#c\n")
    result = dockfix("--check", "repo")
    assert result.exit_code == 1, result.stderr
    # as git: "!" and "\" match nothing, [a-\b] is a to b, \/ is a slash, \# a "#"
    assert sorted({line.split(":")[0] for line in result.stdout.splitlines()}) == ["repo/Dockerfile", "repo/d/Dockerfile"]


# --- budgets: a search ends, with one line saying why ----------------------------------------------

def test_a_search_over_the_entry_budget_stops_with_one_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(discover, "MAX_ENTRIES", 50)
    make(tmp_path, "repo/Dockerfile", *(f"repo/f{i}" for i in range(60)))
    result = dockfix("--check", "repo")
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.splitlines() == ["repo: error: search stopped: more than 50 files and folders below it; "
                                          "name the Dockerfiles, or a smaller folder"]
    assert result.stdout == ""


def test_a_search_over_the_matching_budget_stops_with_one_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(discover, "MAX_STEPS", 20_000)
    make(tmp_path, "repo/Dockerfile", *(f"repo/d{i}/Dockerfile" for i in range(50)))
    (tmp_path / "repo/.gitignore").write_text("".join(f"*x*{i}*y*z\n" for i in range(2000)))
    result = dockfix("--check", "repo")
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.splitlines() == ["repo: error: search stopped: its ignore files took over 20,000 steps to "
                                          "apply; name the Dockerfiles, or a smaller folder, or use --no-ignore"]
    assert dockfix("--check", "--no-ignore", "repo").exit_code == 1  # no ignore files: no matching


def test_a_search_over_the_pattern_budget_stops_with_one_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(discover, "MAX_PATTERN_PARTS", 100)
    make(tmp_path, "repo/Dockerfile", *(f"repo/d{i}/Dockerfile" for i in range(3)))
    for i in range(3):
        (tmp_path / f"repo/d{i}/.gitignore").write_text("".join(f"name{k}\n" for k in range(40)))
    result = dockfix("--check", "repo")
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.splitlines() == ["repo: error: search stopped: its ignore files hold more than 100 patterns "
                                          "(or parts of patterns); name the Dockerfiles, or a smaller folder, or use "
                                          "--no-ignore"]


def test_the_repository_checkout_is_searched_within_budget():
    # a real tree, with the project's own .gitignore: far inside every bound
    budget = discover.Budget()
    files = dockerfiles_under(ROOT, budget=budget)
    assert files and budget.entries < discover.MAX_ENTRIES // 100 and budget.steps < discover.MAX_STEPS // 100
