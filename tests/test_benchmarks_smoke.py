"""The benchmark suite in smoke mode (smallest sizes, one repeat), so it cannot rot.

Runs the real runner through its Python entry point, as `python -m benchmarks --smoke`
does, and checks that every run was verified: each optimal cost equals its re-billed
cost and all methods agree to the fen on every instance.
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
    assert {"example", "mixed-12m", "mixed-24m", "after-packs"} <= families
    methods = {r["method"] for r in rows}
    assert {"ours-highs", "ours-cbc", "baseline-highs", "exhaustive"} <= methods
    for r in rows:
        # smoke instances are small: every method finishes and is verified
        assert r["status"] == "optimal", (r["instance"], r["method"], r["status"], r["note"])
        assert r["verified"] == "yes", (r["instance"], r["method"], r["verified"])
        assert r["billed"] == r["objective"] or float(r["billed"]) == float(r["objective"])
    by_instance: dict[str, set] = {}
    for r in rows:
        by_instance.setdefault(r["instance"], set()).add(r["billed"])
    assert all(len(costs) == 1 for costs in by_instance.values()), by_instance
    assert report["e2e"] and not report["e2e"]["problems"]
    assert "| instance |" in md.read_text()
