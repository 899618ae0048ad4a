"""Shared test fixtures. ../shared/corpus holds real Dockerfiles written by other people."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"


def corpus_files(folder: Path = CORPUS) -> list[Path]:
    """The Dockerfiles of a corpus folder: the files its MANIFEST.tsv names (its README.md and the
    manifest are not Dockerfiles); a folder without a manifest gives its files but *.md and *.tsv."""
    if not folder.is_dir():
        return []
    manifest = folder / "MANIFEST.tsv"
    if manifest.is_file():
        rows = manifest.read_text(encoding="utf-8").splitlines()[1:]
        return sorted(folder / row.split("\t", 1)[0] for row in rows if row.strip())
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix not in (".md", ".tsv"))


@pytest.fixture(scope="session")
def corpus() -> list[Path]:
    """Every corpus Dockerfile; a clear skip (or failure in CI) when ../shared is missing."""
    files = corpus_files()
    if not files:
        message = f"the shared corpus is missing: expected Dockerfiles in {CORPUS} (../shared/corpus beside the checkout)"
        if os.environ.get("CI") or os.environ.get("DOCKFIX_REQUIRE_SHARED"):
            pytest.fail(message)
        pytest.skip(message)
    return files


def read_exact(path: Path) -> str:
    """A file's text exactly as stored: no newline translation."""
    return path.read_bytes().decode("utf-8")
