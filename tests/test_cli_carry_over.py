"""--carry-over-value and the cohort view of any-month plans, through the command line."""

from __future__ import annotations

import json
from decimal import Decimal

from click.testing import CliRunner

from cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def as_json(*args):
    r = run(*args, "--format", "json")
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    return json.loads(r.stdout)


def forecast(tmp_path, calls, product="id_card"):
    f = tmp_path / "f.csv"
    f.write_text("product,month,calls\n" + "".join(
        f"{product},{2027 + m // 12}-{m % 12 + 1:02d},{c}\n" for m, c in enumerate(calls)))
    return f


def money(x) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"))


def test_prorata_plan_minimises_cost_less_carry_over(tmp_path):
    """Demand jumps in the last months: with prorata the leftover of a big late pack is
    credited, and the plan's net cost is no worse than the zero-valued plan's net cost."""
    f = forecast(tmp_path, [5000] * 4 + [300000, 320000])
    zero = as_json("plan", f, "--purchase-months", "any")
    pro = as_json("plan", f, "--purchase-months", "any", "--carry-over-value", "prorata")
    for d in (zero, pro):
        assert d["status"] == "optimal"
        assert money(d["net_cost"]) == money(d["total_cost"]) - money(d["carry_over_value"])
        p = d["products"][0]
        assert money(p["net_cost"]) == money(p["total_cost"]) - money(p["carry_over_value"])
    assert (zero["carry_over_valuation"], pro["carry_over_valuation"]) == ("zero", "prorata")
    assert money(pro["net_cost"]) <= money(zero["net_cost"])
    assert money(zero["total_cost"]) <= money(pro["total_cost"])
    # bill of the prorata plan reproduces both figures.
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(pro))
    billed = as_json("bill", f, "--plan", plan, "--carry-over-value", "prorata")
    assert (billed["total_cost"], billed["net_cost"], billed["carry_over_value"]) == \
        (pro["total_cost"], pro["net_cost"], pro["carry_over_value"])


def test_prorata_in_start_mode_and_table_line(tmp_path):
    f = forecast(tmp_path, [5000, 5000, 60000])
    r = run("plan", f, "--carry-over-value", "prorata")
    assert r.exit_code == 0, r.stderr
    assert "Carry-over at the end:" in r.stdout and "cost net of it" in r.stdout
    d = as_json("plan", f, "--carry-over-value", "prorata")
    assert d["status"] == "optimal" and d["purchase_months"] == "start"
    assert {p["month"] for p in d["products"][0]["purchases"]} <= {"2027-01"}


def test_prorata_wording_says_minimised_only_for_a_plan_packopt_made(tmp_path):
    """`bill` replays the user's plan, which nothing minimised: its line and report said
    "the plan minimises the cost less this value" as `plan`'s do."""
    f = forecast(tmp_path, [1000, 1000])
    plan = tmp_path / "plan.csv"
    plan.write_text("product,month,size,count\nid_card,2027-02,100000,1\n")
    report = tmp_path / "bill.html"
    r = run("bill", f, "--plan", plan, "--carry-over-value", "prorata", "--report", report)
    assert r.exit_code == 0, r.stderr
    assert ("worth 4,583.33 CNY prorata (credited in the net cost, not in the total); cost "
            "net of it 416.67 CNY.") in r.stdout
    assert "minimises" not in r.stdout and "minimises" not in report.read_text()
    assert "credited in the net cost" in report.read_text()
    report = tmp_path / "plan.html"
    r = run("plan", f, "--carry-over-value", "prorata", "--report", report)
    assert r.exit_code == 0, r.stderr
    assert "(the plan minimises the cost less this value)" in r.stdout
    assert "credited against the cost the plan minimises" in report.read_text()


def test_prorata_with_after_packs_and_budgets_plans(tmp_path):
    """Refused before this round; now the integer programs price the credit per row."""
    f = forecast(tmp_path, [5000, 5000, 60000])
    for extra in (["--tier-basis", "after-packs"], ["--budget", "100"],
                  ["--monthly-budget", "1000", "--purchase-months", "any"]):
        d = as_json("plan", f, "--carry-over-value", "prorata", *extra)
        assert d["status"] == "optimal", extra
        assert d["net_cost"] == round(d["total_cost"] - d["carry_over_value"], 2)


def test_prorata_under_after_packs_in_any_month_is_the_exact_search(tmp_path):
    """No integer program: the after-packs search prices the lot in use at the end with
    its credit; `bill` of the plan reproduces the cost, the credit and the net."""
    f = forecast(tmp_path, [18000, 22000, 30000, 41000, 0, 52000, 61000, 75000, 90000,
                            110000, 130000, 160000, 190000, 230000])
    args = ("--purchase-months", "any", "--tier-basis", "after-packs")
    pro = as_json("plan", f, *args, "--carry-over-value", "prorata")
    zero = as_json("plan", f, *args)
    assert pro["status"] == "optimal" and pro["method"] == zero["method"] == "exact after-packs search"
    assert money(pro["net_cost"]) <= money(zero["net_cost"])
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(pro))
    billed = as_json("bill", f, "--plan", plan, "--tier-basis", "after-packs",
                     "--carry-over-value", "prorata")
    assert (billed["total_cost"], billed["net_cost"], billed["carry_over_value"]) == \
        (pro["total_cost"], pro["net_cost"], pro["carry_over_value"])


def test_months_show_each_cohorts_balance(tmp_path):
    """A top-up while balance remains: two cohorts alive at once, each with its balance."""
    calls = [40000] * 18
    f = forecast(tmp_path, calls)
    d = as_json("plan", f, "--purchase-months", "any")
    months = d["products"][0]["months"]
    bought = sorted({p["month"] for p in d["products"][0]["purchases"]})
    assert len(bought) >= 2
    for m in months:
        assert sum(c["balance"] for c in m["cohorts"]) == m["balance"]
        for c in m["cohorts"]:
            assert c["bought"] <= m["month"] <= c["expires"]
    r = run("plan", f, "--purchase-months", "any", "--months")
    assert r.exit_code == 0
    assert "exact dynamic program" in r.stdout


def test_readme_any_month_example():
    """The README's any-month example: 83,000.00 against 134,400.00 bought at the start."""
    from pathlib import Path
    f = Path(__file__).parent / "data" / "grow24.csv"
    d = as_json("plan", f, "--purchase-months", "any", "--compare")
    cost = {s["strategy"]: s["total_cost"] for s in d["comparison"]["strategies"]}
    assert (d["status"], cost["optimal"], cost["optimal_start"]) == ("optimal", 83000.0, 134400.0)
    assert d["method"] == "exact dynamic program"
    assert {p["month"] for p in d["products"][0]["purchases"]} == {"2027-01", "2028-01"}
