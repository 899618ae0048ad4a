"""A missed time target within the measured spread of the two rows says so (lab/report.py)."""

from __future__ import annotations

from lab import report
from lab.measure import VariantResult


def _vr(variant, cold, dep=None, code=None, reruns=None):
    r = VariantResult(fixture="demo", variant=variant, status="ok", size_bytes=int(1e8),
                      cold_samples=list(cold), dep_samples=list(dep or []), code_samples=list(code or []),
                      code_reruns=reruns, changed=True if variant == "dockfix" else None)
    return r.settle()


def _targets(results):
    return report.fixture_targets(report.summarize(results))[0]


def test_a_miss_smaller_than_the_spread_is_marked_and_still_counted():
    # cold: dockfix 1.02 vs 1.00 (a 0.02 s miss), spreads 0.3 and 0.1: within the spread
    results = [_vr("original", [1.0, 1.1], dep=[1.0, 1.5]), _vr("dockfix", [1.02, 1.32], dep=[1.6, 1.7])]
    t = _targets(results)
    assert t["cold"] is False and t["within_spread"] == ["cold"]  # dep: 0.6 s miss > spreads 0.5, 0.1
    counts = report.targets(report.summarize(results))
    assert counts["cold"] == [0, 1] and counts["within_spread"]["cold"] == 1
    md = report.markdown(report.summarize(results), {"repeat": 2})
    assert "| demo | – – | 1.02× ✗ (within spread) | 1.60× ✗ | – – | – – |" in md
    assert "cold build ≤ 1.0× the original's: 0 of 1 (1 of the misses within the spread)" in md
    assert "dependency-change rebuild ≤ the original's: 0 of 1," in md  # no noise note on dep


def test_a_met_target_or_a_single_sample_is_never_marked():
    met = [_vr("original", [1.0, 2.0]), _vr("dockfix", [0.9, 3.0])]
    assert _targets(met)["within_spread"] == []
    once = [_vr("original", [1.0]), _vr("dockfix", [1.05, 9.0])]  # the original has no spread
    assert _targets(once)["cold"] is False and _targets(once)["within_spread"] == []
    assert "✗ (within spread)" not in report.markdown(report.summarize(once), {})


def test_the_expert_target_scales_the_experts_spread_by_its_limit():
    # dep vs expert: limit 1.2 x 1.0 = 1.2; dockfix 1.3 misses by 0.1.
    base = [_vr("original", [5.0, 5.0], dep=[9.0, 9.0])]
    narrow = base + [_vr("dockfix", [1.0, 1.0], dep=[1.3, 1.35]), _vr("expert", [1.0, 1.0], dep=[1.0, 1.05])]
    assert _targets(narrow)["dep_vs_expert"] is False and _targets(narrow)["within_spread"] == []
    # the expert's spread 0.1, scaled by 1.2, is 0.12 > the 0.1 miss
    wide = base + [_vr("dockfix", [1.0, 1.0], dep=[1.3, 1.35]), _vr("expert", [1.0, 1.0], dep=[1.0, 1.1])]
    assert _targets(wide)["within_spread"] == ["dep_vs_expert"]


def test_within_spread_compares_the_minimums():
    row, base = {"cold_samples": [2.0, 2.5]}, {"cold_samples": [1.8, 1.9]}
    assert report.within_spread(row, base, "cold", 1.0)  # 0.2 s miss, spread 0.5
    assert not report.within_spread({"cold_samples": [2.0, 2.1]}, base, "cold", 1.0)  # spreads 0.1, 0.1
    assert not report.within_spread({"cold_samples": [1.7, 2.5]}, base, "cold", 1.0)  # not a miss
    assert not report.within_spread(row, {}, "cold", 1.0)
