"""The build lab on real Docker builds: every variant builds and passes its smoke
test, and dockfix's output keeps the original's final image configuration.
Size and speed are reported in the lab's table, never asserted here."""

from __future__ import annotations

import pytest

from lab import measure

from .conftest import selected_fixtures

pytestmark = pytest.mark.lab

FIXTURES = [f.name for f in selected_fixtures()]
REGRESSIONS = [f.name for f in selected_fixtures() if f.regression is not None]


def _row(lab_run, fixture: str, variant: str) -> dict:
    row = lab_run[(fixture, variant)]
    if row["status"] == "not run":
        if variant == "dockfix" and measure.dockfix_command() is None:
            pytest.skip("dockfix CLI is not installed in this environment")
        pytest.skip(row["reason"] or "not run")
    return row


def _explain(row: dict) -> str:
    return f"{row['fixture']} [{row['variant']}]: {row['status']}: {row['reason']}"


@pytest.mark.parametrize("variant", measure.VARIANTS)
@pytest.mark.parametrize("fixture", FIXTURES)
def test_builds_and_passes_smoke_test(lab_run, fixture, variant):
    row = _row(lab_run, fixture, variant)
    assert row["status"] == "ok", _explain(row)


@pytest.mark.parametrize("variant", ("dockfix", "expert"))
@pytest.mark.parametrize("fixture", FIXTURES)
def test_final_image_config_matches_original(lab_run, fixture, variant):
    original = _row(lab_run, fixture, "original")
    row = _row(lab_run, fixture, variant)
    if original["status"] != "ok" or row["status"] != "ok":
        pytest.skip("a build failed: reported by test_builds_and_passes_smoke_test")
    assert row["config_diff"] == [], f"{fixture} [{variant}] changes the image config: {row['config_diff']}"


@pytest.mark.parametrize("variant", measure.VARIANTS)
@pytest.mark.parametrize("fixture", FIXTURES)
def test_rebuilds_still_pass_smoke_test(lab_run, fixture, variant):
    row = _row(lab_run, fixture, variant)
    if row["status"] != "ok":
        pytest.skip("the cold build failed: reported by test_builds_and_passes_smoke_test")
    if not row["smoke_after_changes"]:
        pytest.skip("rebuilds not measured (DOCKFIX_LAB_REBUILDS=0)")
    assert row["smoke_after_changes"] == "ok", f"{fixture} [{variant}]: {row['smoke_after_changes']}"


@pytest.mark.parametrize("fixture", REGRESSIONS)
def test_the_older_rewrite_failed_as_recorded(lab_regression_run, fixture):
    """Know or refuse: the dockfix revision a regression fixture names broke it (at the
    recorded stage, with the recorded line), and today's rewrite passes (the tests above)."""
    res = lab_regression_run[fixture]
    if res.status == "not run":
        pytest.skip(res.reason)
    assert res.status == "failed as recorded", f"{fixture} [dockfix {res.revision}]: {res.status}: {res.reason}"
