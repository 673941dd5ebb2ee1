"""The instance library (benchmarks/export.py) and its committed reference set
(benchmarks/reference/): exported again it is the same, its MPS files solve with HiGHS to
the manifest's optima, and packopt reads its inputs to the same optima."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks import export
from cli import cli

REF = Path(__file__).parent.parent / "benchmarks" / "reference"
# Small enough to export and solve in seconds: each kind of instance (start month / any
# month, total / after-packs, one joint model / one model per product).
SMALL = ("mixed-12m-3x6-s2027", "after-packs-3x6-s2027", "any-12m-3x6-s2027",
         "any-after-24m-3x12-s2027", "mixed-12m-100x12-s2027")


def manifest() -> dict:
    return json.loads((REF / export.MANIFEST).read_text(encoding="utf-8"))


def entries(names=SMALL) -> list[dict]:
    by_name = {e["name"]: e for e in manifest()["instances"]}
    return [by_name[n] for n in names]


def mps_text(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def test_the_reference_set_is_the_documented_one():
    m = manifest()
    assert m["format"] == export.FORMAT
    got = [(e["family"], e["size"], e["months"], e["split"]) for e in m["instances"]]
    assert got == list(export.REFERENCE)
    assert 15 <= len(got) <= 25
    kinds = {(e["purchase_months"], e["tier_basis"]) for e in m["instances"]}
    assert kinds == {("start", "total"), ("start", "after-packs"), ("any", "total"),
                     ("any", "after-packs")}
    size = sum(f.stat().st_size for f in REF.rglob("*") if f.is_file())
    assert size < 6_000_000                   # a few MB at most
    for e in m["instances"]:
        for f in e["mps"]:                    # every listed file is there, as described
            assert hashlib.sha256(mps_text(REF / f["file"])).hexdigest() == f["sha256"]


@pytest.mark.parametrize("name", SMALL)
def test_exporting_again_gives_the_same_files_and_optima(tmp_path, name):
    (want,) = entries((name,))
    spec = (want["family"], want["size"], want["months"], want["seed"], want["split"])
    skips = {k: v for k, v in export.REFERENCE_SKIP.items()
             if k == (want["family"], want["size"], want["months"])}
    got = export.export([spec], tmp_path, skips=skips)["instances"][0]
    assert got == want
    for f in ("forecast.csv", "catalog.toml"):
        assert (tmp_path / name / f).read_bytes() == (REF / name / f).read_bytes()
    for m in want["mps"]:
        assert mps_text(tmp_path / m["file"]) == mps_text(REF / m["file"])


def test_exported_mps_files_solve_with_highs_to_the_manifest_optimum():
    joint = SMALL[:3]            # any-after-24m-3x12: ~10 s of HiGHS, left to --check
    results = export.check(REF, time_limit=60, names=set(joint))
    assert {r["instance"] for r in results} == set(joint)
    assert {r["formulation"] for r in results} == {"ours", "baseline"}
    bad = [f"{r['file']}: {r['problem']}" for r in results if not r["ok"]]
    assert not bad


def test_per_product_mps_files_solve_to_their_products_optimum():
    (e,) = entries(("mixed-12m-100x12-s2027",))
    assert e["split"] == "product"
    for form in ("ours", "baseline"):
        files = [m for m in e["mps"] if m["formulation"] == form][:3]
        for m in files:
            r = export.solve_mps(REF / m["file"], 60)
            assert r["optimal"], m["file"]
            assert round(r["objective"]) + m["offset_fen"] == \
                e["optimum"]["product_fen"][m["product"]]


def test_the_optimum_plus_offset_is_what_the_file_minimises():
    """The offset is not decoration: without it the files' optima are not the costs."""
    for e in entries():
        for m in e["mps"]:
            want = e["optimum"]["total_fen"] if m["product"] == "all" else \
                e["optimum"]["product_fen"][m["product"]]
            assert m["objective_fen"] + m["offset_fen"] == want
        assert sum(e["optimum"]["product_fen"].values()) == e["optimum"]["total_fen"]
        assert Decimal(e["optimum"]["total_cny"]) * 100 == e["optimum"]["total_fen"]


@pytest.mark.parametrize("name", ["after-packs-3x6-s2027", "any-12m-3x6-s2027"])
def test_packopt_plans_the_exported_inputs_to_the_manifest_optimum(name):
    (e,) = entries((name,))
    args = ["plan", str(REF / e["forecast"]), "--catalog", str(REF / e["catalog"]),
            "--format", "json"]
    if e["purchase_months"] == "any":
        args += ["--purchase-months", "any"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["status"] == "optimal"
    assert Decimal(data["total_cost"]) == Decimal(e["optimum"]["total_cny"])


def test_start_mode_optima_are_proved_twice_where_small():
    for e in entries():
        if e["purchase_months"] == "start" and e["size"] <= 9:
            assert any(p.startswith("exhaustive search") for p in e["optimum"]["proved_by"])


def test_check_reports_a_wrong_optimum(tmp_path):
    spec = ("mixed-12m", 3, 6, 2027, "joint")
    export.export([spec], tmp_path)
    path = tmp_path / export.MANIFEST
    m = json.loads(path.read_text())
    m["instances"][0]["optimum"]["total_fen"] += 1
    path.write_text(json.dumps(m))
    results = export.check(tmp_path)
    assert results and not any(r["ok"] for r in results)
    assert all("the manifest says" in r["problem"] for r in results)


def test_months_other_than_the_familys_need_a_mixed_family():
    inst = export.make_instance("any-24m", 3, 6)
    assert inst.months == 6 and inst.plan_options == {"purchase_months": "any"}
    with pytest.raises(SystemExit):
        export.make_instance("example", 9, 6)


def test_the_command_checks_a_manifest():
    """`python -m benchmarks export --check` (the hook in benchmarks/__main__.py)."""
    r = subprocess.run([sys.executable, "-m", "benchmarks", "export", "--check", str(REF),
                        "--only", "mixed-12m-3x6-s2027"], cwd=REF.parent.parent,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "2 of 2 MPS files solved by HiGHS to the manifest's optimum" in r.stdout
