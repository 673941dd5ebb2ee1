"""The benchmark suite in smoke mode (smallest sizes, one repeat), so it cannot rot.

Runs the real runner through its Python entry point, as `python -m benchmarks --smoke`
does, and checks that every run was verified: each optimal cost equals its re-billed
cost and all methods that prove an optimum agree to the fen on every instance. The other
modes (any month, scenarios, budget) run ours-* only; the rest are n/a there.
"""

from __future__ import annotations

import json

from benchmarks.cli import main


def test_smoke_run_verifies_every_row(tmp_path):
    out = tmp_path / "smoke.json"
    md = tmp_path / "smoke.md"
    code = main(["--smoke", "--quiet", "--json", str(out), "--markdown", str(md)])
    report = json.loads(out.read_text())
    assert report["failures"] == [], report["failures"]
    assert code == 0
    rows = report["rows"]
    families = {r["family"] for r in rows}
    assert {"example", "mixed-12m", "mixed-24m", "after-packs", "any-12m", "any-24m",
            "any-36m", "scenarios-12m", "budget-12m"} <= families
    methods = {r["method"] for r in rows}
    assert {"ours-highs", "ours-cbc", "baseline-highs", "exhaustive"} <= methods
    modes = {"any-12m", "any-24m", "any-36m", "scenarios-12m", "budget-12m"}
    for r in rows:
        if r["family"] in modes and not r["method"].startswith("ours-") \
                or r["family"] in modes and r["method"].startswith("ours-joint"):
            # the baselines, ours-joint and exhaustive solve start mode only: n/a, not failed
            assert r["status"] == "skipped" and r["note"].startswith("n/a"), r
            continue
        if r["family"] == "any-24m" and r["status"] == "feasible":
            # a 5 s smoke limit: CBC stops with a plan and an open gap, honestly reported
            assert r["verified"] == "not optimal (bound consistent)", r
            assert r["billed"] is not None and r["gap"] not in (None, "0"), r
            continue
        # smoke instances are small: every method finishes and is verified
        assert r["status"] == "optimal", (r["instance"], r["method"], r["status"], r["note"])
        assert r["verified"] == "yes", (r["instance"], r["method"], r["verified"])
        assert r["billed"] == r["objective"] or float(r["billed"]) == float(r["objective"])
    by_instance: dict[str, set] = {}
    for r in rows:
        if r["status"] == "optimal":
            by_instance.setdefault(r["instance"], set()).add(r["billed"])
    assert all(len(costs) == 1 for costs in by_instance.values()), by_instance
    # every mode has at least one proven optimum, and highs and cbc agree wherever both do
    for fam in modes:
        assert any(r["family"] == fam and r["status"] == "optimal" for r in rows), fam
    scen = next(r for r in rows if r["family"] == "scenarios-12m" and r["method"] == "ours-highs")
    assert scen["instance"].endswith("x5sc") and "weighted_sum" in scen["extra"]
    budget = next(r for r in rows if r["family"] == "budget-12m" and r["method"] == "ours-highs")
    assert float(budget["extra"]["pack_spend"]) <= float(budget["extra"]["budget"])
    runs = [r for r in report["runs"] if r["plan"]]
    assert runs and all(len(row) == 4 for r in runs for row in r["plan"])  # month included
    assert report["e2e"] and not report["e2e"]["problems"]
    assert "| instance |" in md.read_text()
