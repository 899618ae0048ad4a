"""Shared test fixtures. ../shared/corpus holds real Dockerfiles written by other people."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*") if p.is_file() and p.name != "MANIFEST.tsv") if CORPUS.is_dir() else []


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
