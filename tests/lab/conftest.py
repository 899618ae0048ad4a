"""Fixtures for the build lab tests: an engine of the lab's own and one lab run
per session, shared by every parametrized test.

The lab takes about twenty minutes per repetition of its builds (24 fixtures; 2 repetitions by
default, DOCKFIX_LAB_REPEAT), so a plain `pytest` skips it unless CI=true,
DOCKFIX_LAB=1 or `-m lab` asks for it. Without an engine the lab tests are
skipped with the reason, except when CI=true, where they fail: CI must prove
the rewrites on real builds.
Environment knobs: DOCKFIX_LAB_FIXTURES (comma-separated fixture names, default
all), DOCKFIX_LAB_REBUILDS=0 (skip the timed rebuilds), DOCKFIX_LAB_REPEAT=N (timed builds
per variant, default lab.__main__.DEFAULT_REPEAT), DOCKFIX_LAB_OUT (where
latest.json/latest.md go; default a temporary folder, the path is printed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lab import __main__ as lab_main
from lab import engine as lab_engine
from lab import fixtures as lab_fixtures
from lab import regression as lab_regression

_SUMMARY: list[str] = []


def selected_fixtures() -> list[lab_fixtures.Fixture]:
    every = lab_fixtures.discover()
    wanted = [n.strip() for n in os.environ.get("DOCKFIX_LAB_FIXTURES", "").split(",") if n.strip()]
    if not wanted:
        return every
    names = {f.name for f in every}
    unknown = sorted(set(wanted) - names)
    if unknown:
        raise pytest.UsageError(f"DOCKFIX_LAB_FIXTURES names unknown fixtures: {', '.join(unknown)}")
    return [f for f in every if f.name in wanted]


def _unavailable(reason: str):
    message = f"no Docker engine for the build lab: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: run `bash .ci/lab-setup` first)", pytrace=False)
    pytest.skip(message)


def _asked_for(config) -> bool:
    if os.environ.get("CI", "").lower() == "true" or os.environ.get("DOCKFIX_LAB") == "1":
        return True
    expr = config.getoption("markexpr", "") or ""
    return "lab" in expr and "not lab" not in expr


@pytest.fixture(scope="session")
def lab_engine_session(request):
    if not _asked_for(request.config):
        pytest.skip("the build lab (real Docker builds, ~15 min per repetition) runs with CI=true, DOCKFIX_LAB=1 "
                    "or `pytest -m lab`")
    try:
        eng = lab_engine.start()
    except lab_engine.EngineUnavailable as e:
        _unavailable(str(e))
    yield eng
    eng.stop()


@pytest.fixture(scope="session")
def lab_run(lab_engine_session, tmp_path_factory):
    """One lab run over the selected fixtures: rows keyed by (fixture, variant)."""
    out = Path(os.environ.get("DOCKFIX_LAB_OUT") or tmp_path_factory.mktemp("lab-results"))
    rebuilds = os.environ.get("DOCKFIX_LAB_REBUILDS", "1") != "0"
    repeat = int(os.environ.get("DOCKFIX_LAB_REPEAT") or lab_main.DEFAULT_REPEAT)
    fxs = selected_fixtures()
    rows, meta = lab_main.run([f.path for f in fxs], rebuilds=rebuilds, out_dir=out,
                              eng=lab_engine_session, repeat=repeat)
    _SUMMARY.append((out / "latest.md").read_text())
    _SUMMARY.append(f"(lab results written to {out})")
    return {(r["fixture"], r["variant"]): r for r in rows}


@pytest.fixture(scope="session")
def lab_regression_run(lab_engine_session, tmp_path_factory):
    """The older dockfix's rewrite of every selected fixture with a [regression] table,
    built and smoke-tested (python -m lab.regression): results keyed by fixture."""
    out = Path(os.environ.get("DOCKFIX_LAB_OUT") or tmp_path_factory.mktemp("lab-regression"))
    fxs = [f for f in selected_fixtures() if f.regression is not None]
    if not fxs:
        return {}
    results, _ = lab_regression.run([f.path for f in fxs], out=out, eng=lab_engine_session)
    _SUMMARY.append((out / "regression.md").read_text())
    return {r.fixture: r for r in results}


def pytest_terminal_summary(terminalreporter):
    if _SUMMARY:
        terminalreporter.section("dockfix build lab")
        for block in _SUMMARY:
            terminalreporter.write_line(block)
