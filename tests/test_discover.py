"""Which Dockerfiles a folder means: .gitignore honoured, hidden and vendored folders and links skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockfix.discover import dockerfiles_under, is_dockerfile_name

TEXT = "FROM python:3.12-slim\n"


def make(root: Path, *names: str, text: str = TEXT) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def found(folder: Path, **kwargs) -> list[str]:
    return [p.relative_to(folder).as_posix() for p in dockerfiles_under(folder, **kwargs)]


def test_names_that_count_as_dockerfiles():
    for name in ("Dockerfile", "Dockerfile.dev", "api.Dockerfile", "x.dockerfile", "Containerfile"):
        assert is_dockerfile_name(name)
    for name in ("Dockerfile.orig", "Dockerfile.rej", "dockerfile.md", "README", "Dockerfile.dockfix"):
        assert not is_dockerfile_name(name)


def test_gitignore_at_the_top_with_negation_and_folder_patterns(tmp_path):
    make(tmp_path, "Dockerfile", "build/Dockerfile", "out/Dockerfile", "out/keep/Dockerfile", "gen.Dockerfile",
         "src/build/Dockerfile")
    make(tmp_path, ".gitignore", text="build/\n/out/*\n!/out/keep/\n*.Dockerfile\n")
    assert found(tmp_path) == ["Dockerfile", "out/keep/Dockerfile"]
    assert found(tmp_path, use_ignore=False) == ["Dockerfile", "gen.Dockerfile", "build/Dockerfile",
                                                 "out/Dockerfile", "out/keep/Dockerfile", "src/build/Dockerfile"]


def test_a_nested_gitignore_applies_below_its_folder_only_and_can_unignore(tmp_path):
    make(tmp_path, "a/Dockerfile.dev", "a/Dockerfile", "b/Dockerfile.dev", "c/Dockerfile.dev")
    make(tmp_path, "a/.gitignore", text="Dockerfile.dev\n")
    make(tmp_path, ".gitignore", text="*.dev\n")
    make(tmp_path, "c/.gitignore", text="!Dockerfile.dev\n")
    assert found(tmp_path) == ["a/Dockerfile", "c/Dockerfile.dev"]


def test_rules_of_the_enclosing_repository_apply_to_a_subfolder(tmp_path):
    (tmp_path / ".git" / "info").mkdir(parents=True)
    make(tmp_path, ".gitignore", text="svc/generated/\n")
    make(tmp_path, ".git/info/exclude", text="local.Dockerfile\n")
    make(tmp_path, "svc/Dockerfile", "svc/generated/Dockerfile", "svc/local.Dockerfile")
    assert found(tmp_path / "svc") == ["Dockerfile"]
    assert found(tmp_path) == ["svc/Dockerfile"]


def test_a_nested_repository_does_not_inherit_the_outer_rules(tmp_path):
    # Many repositories cloned side by side below one folder: each has its own rules.
    make(tmp_path, ".gitignore", text="Dockerfile.ci\n")
    (tmp_path / "inner" / ".git").mkdir(parents=True)
    make(tmp_path, "Dockerfile.ci", "inner/Dockerfile.ci")
    assert found(tmp_path) == ["inner/Dockerfile.ci"]


def test_hidden_and_vendored_folders_are_skipped_unless_asked(tmp_path):
    make(tmp_path, "Dockerfile", ".devcontainer/Dockerfile", "node_modules/x/Dockerfile", "vendor/y/Dockerfile",
         ".git/Dockerfile")
    assert found(tmp_path) == ["Dockerfile"]
    assert found(tmp_path, include_hidden=True) == ["Dockerfile", ".devcontainer/Dockerfile",
                                                    "node_modules/x/Dockerfile", "vendor/y/Dockerfile"]


def test_links_are_not_followed_out_of_the_tree(tmp_path):
    outside = tmp_path / "outside"
    make(outside, "Dockerfile", "deep/Dockerfile")
    tree = tmp_path / "tree"
    make(tree, "Dockerfile")
    (tree / "linked-folder").symlink_to(outside, target_is_directory=True)
    (tree / "sub").mkdir()
    (tree / "sub" / "Dockerfile").symlink_to(outside / "Dockerfile")
    assert found(tree) == ["Dockerfile"]
    assert found(tree, include_hidden=True, use_ignore=False) == ["Dockerfile"]


def test_results_are_sorted_and_stable(tmp_path):
    names = ["z/Dockerfile", "a/b/Dockerfile", "a/Dockerfile", "m.Dockerfile", "Dockerfile"]
    make(tmp_path, *names)
    assert found(tmp_path) == ["Dockerfile", "m.Dockerfile", "a/Dockerfile", "a/b/Dockerfile", "z/Dockerfile"]


def test_an_unreadable_gitignore_is_no_reason_to_fail(tmp_path):
    make(tmp_path, "Dockerfile")
    (tmp_path / ".gitignore").mkdir()  # not a file at all
    assert found(tmp_path) == ["Dockerfile"]


@pytest.mark.skipif(os.name != "posix", reason="relative cwd paths")
def test_relative_folder_gives_relative_paths(tmp_path, monkeypatch):
    make(tmp_path, "repo/Dockerfile", "repo/ignored/Dockerfile")
    make(tmp_path, "repo/.gitignore", text="ignored\n")
    monkeypatch.chdir(tmp_path)
    assert dockerfiles_under(Path("repo")) == [Path("repo/Dockerfile")]


def test_buildkit_ignore_file_beside_a_dockerfile_is_not_a_dockerfile(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")
    (tmp_path / "Dockerfile.dockerignore").write_text(".git\n")
    assert [p.name for p in dockerfiles_under(tmp_path)] == ["Dockerfile"]
