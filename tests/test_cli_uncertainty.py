"""`plan --scenarios/--objective/--budget/--monthly-budget` and `packopt whatif`, end to end.

The library is tested against exhaustive search in test_uncertainty.py; here the command
line must carry its answers faithfully (JSON fields, table lines, CSV), keep the documented
fields unchanged, and turn every bad value or file into one line on stderr with exit 2.
"""

from __future__ import annotations

import json

import pytest

from test_cli import (DATA, ID_PLAN, ID_YEAR, WIDE, as_csv, as_json, assert_input_error, ok,
                      run, write)

SCALE = str(DATA / "scenarios_scale.csv")
FULL = str(DATA / "scenarios_full.csv")
CONTRACT_FIELDS = ("status", "tier_basis", "horizon", "total_cost", "pack_cost", "postpaid_cost",
               "postpaid_only_cost", "savings", "warnings", "products")


# --------------------------------------------------------------------------- scenarios

def test_plan_with_scale_scenarios_reports_each_scenario():
    data = as_json("plan", ID_YEAR, "--scenarios", SCALE)
    plain = as_json("plan", ID_YEAR)
    assert set(CONTRACT_FIELDS) <= set(data)
    assert data["objective"] == "expected"
    names = [s["name"] for s in data["scenarios"]]
    assert names == ["low", "base", "high"]
    for s in data["scenarios"]:
        assert set(s) == {"name", "weight", "total_cost", "pack_cost", "postpaid_cost",
                          "waste_calls", "postpaid_share", "carry_over_value", "net_cost",
                          "regret"}
        assert s["total_cost"] == round(s["pack_cost"] + s["postpaid_cost"], 2)
        assert s["pack_cost"] == data["pack_cost"]          # packs are decided once
        assert s["regret"] >= 0
        assert s["postpaid_share"] == round(s["postpaid_cost"] / s["total_cost"], 4)
    w = {s["name"]: s["weight"] for s in data["scenarios"]}
    assert w == {"low": 1.0, "base": 2.0, "high": 1.0}
    expected = sum(s["weight"] * s["total_cost"] for s in data["scenarios"]) / 4
    assert data["expected_cost"] == pytest.approx(expected, abs=0.01)
    assert data["worst_cost"] == max(s["total_cost"] for s in data["scenarios"])
    # the base scenario is the forecast: the documented fields bill the plan on it
    base = data["scenarios"][1]
    assert data["total_cost"] == base["total_cost"]
    # the ordinary plan is optimal for the base forecast alone
    assert data["total_cost"] >= plain["total_cost"]


def test_one_scenario_at_scale_one_is_the_ordinary_plan(tmp_path):
    one = write(tmp_path, "one.csv", "scenario,weight,scale\nonly,3,1\n")
    data = as_json("plan", WIDE, "--scenarios", one)
    plain = as_json("plan", WIDE)
    assert data["total_cost"] == plain["total_cost"] == data["expected_cost"]
    assert [p["purchases"] for p in data["products"]] == [p["purchases"] for p in plain["products"]]
    assert data["scenarios"][0]["regret"] == 0.0


def test_full_form_scenarios_and_worst_case():
    exp = as_json("plan", ID_YEAR, "--scenarios", FULL)
    worst = as_json("plan", ID_YEAR, "--scenarios", FULL, "--objective", "worst-case")
    assert worst["objective"] == "worst-case"
    assert worst["worst_cost"] <= exp["worst_cost"]
    assert exp["expected_cost"] <= worst["expected_cost"]
    assert [s["weight"] for s in exp["scenarios"]] == [0.25, 0.75]


def test_worst_case_of_one_forecast_is_its_plan_and_says_so():
    """Accepted silently before: a user who forgot --scenarios could not tell that nothing
    was hedged."""
    r = ok("plan", ID_YEAR, "--objective", "worst-case", "--format", "json")
    assert json.loads(r.stdout)["total_cost"] == as_json("plan", ID_YEAR)["total_cost"]
    assert "--objective worst-case without --scenarios" in r.stderr
    assert "without --scenarios" not in ok("plan", ID_YEAR, "--scenarios", SCALE,
                                          "--objective", "worst-case").stderr


def test_scenario_table_lines():
    out = ok("plan", ID_YEAR, "--scenarios", SCALE).stdout
    assert "Scenarios (the same packs; postpaid follows each)" in out
    data = as_json("plan", ID_YEAR, "--scenarios", SCALE)
    for s in data["scenarios"]:
        assert f"{s['total_cost']:,.2f}" in out
    assert f"expected {data['expected_cost']:,.2f} CNY, worst {data['worst_cost']:,.2f} CNY" \
        in out
    assert "Worst" in out and "Regret" in out and "Postpaid" in out


def test_plain_plan_json_has_no_uncertainty_fields():
    data = as_json("plan", ID_YEAR)
    assert "scenarios" not in data and "budget_value" not in data


@pytest.mark.parametrize("text, line, field, says", [
    ("scenario,weight,scale\na,0,1\n", 2, "weight", "must be positive"),
    ("scenario,weight,scale\na,-1,1\n", 2, "weight", "weight must be positive, not -1$"),
    ("scenario,weight,scale\na,1,-0.5\n", 2, "scale", "scale must be positive, not -0.5$"),
    ("scenario,weight,scale\na,1,0\n", 2, "scale", "must be positive"),
    # (a workbook's formula never calculated: it said "not a plain decimal number")
    ("scenario,weight,scale\na,=A1/2,1\n", 2, "weight", "'=A1/2' is a formula with no saved"),
    ("scenario,prob,scale\na,1,1\n", 1, "prob", "header must be"),
    ("scenario,weight,scale\na,1,1,red\n", 2, "row", "expected 3 fields"),
    ("scenario,weight,scale\n", 2, "scenario", "no scenarios"),
    ("", 1, "header", "empty"),
    ("scenario,weight,product,month,calls\na,1,id_card,2027-01,25000\n"
     "a,1,id_card,2027-02,25000\n", 2, "month", "covers 2027-01..2027-02 but the forecast"),
    ("scenario,weight,product,month,calls\na,1,idcard,2027-01,25000\n", 2, "product",
     "did you mean 'id_card'"),
])
def test_bad_scenario_files(tmp_path, text, line, field, says):
    path = write(tmp_path, "sc.csv", text)
    assert_input_error(run("plan", ID_YEAR, "--scenarios", path), "sc.csv", line=line,
                       field=field, says=says)


def test_a_scenario_of_other_months_is_blamed_on_its_first_row(tmp_path):
    rows = ["scenario,weight,product,month,calls"] + \
        [f"{name},1,id_card,2027-{m:02d},100" for name in "ab" for m in range(1, 13)]
    path = write(tmp_path, "sc.csv", "\n".join(rows[:-1]) + "\n")     # b lacks 2027-12
    assert_input_error(run("plan", ID_YEAR, "--scenarios", path), "sc.csv", line=14,
                       field="month", says="scenario 'b', whose rows start here, covers "
                                           "2027-01..2027-11 but the forecast covers")


def test_a_scenario_row_past_the_forecasts_months_is_named_at_its_line(tmp_path):
    """One row of scenario b in 2028-01, past ID_YEAR's 2027: the message blamed b's first
    row for a month 'missing' over 2027-01..2028-01."""
    rows = ["scenario,weight,product,month,calls"] + \
        [f"{name},1,id_card,2027-{m:02d},100" for name in "ab" for m in range(1, 13)] + \
        ["b,1,id_card,2028-01,100"]
    path = write(tmp_path, "sc.csv", "\n".join(rows) + "\n")
    assert_input_error(run("plan", ID_YEAR, "--scenarios", path), "sc.csv", line=26,
                       field="month", says="scenario 'b' gives 2028-01, outside the "
                                           "forecast's months \\(2027-01 to 2027-12\\)")


def test_a_scenarios_missing_month_is_told_with_its_bad_cells(tmp_path):
    """Scenario a lacks 2027-05 and gives -7 calls in 2027-09: only the -7 was told, the
    missing month a run later."""
    rows = ["scenario,weight,product,month,calls"] + \
        [f"a,1,id_card,2027-{m:02d},{-7 if m == 9 else 100}" for m in range(1, 13) if m != 5]
    path = write(tmp_path, "sc.csv", "\n".join(rows) + "\n")
    r = run("plan", ID_YEAR, "--scenarios", path)
    assert r.exit_code == 2 and "2 problems" in r.stderr, r.stderr
    assert "no calls given for id_card in 2027-05" in r.stderr and "'-7'" in r.stderr


def test_scenarios_with_other_products(tmp_path):
    rows = ["scenario,weight,product,month,calls"] + \
        [f"a,1,bank_card,2027-{m:02d},100" for m in range(1, 13)]
    path = write(tmp_path, "sc.csv", "\n".join(rows) + "\n")
    assert_input_error(run("plan", ID_YEAR, "--scenarios", path), "sc.csv", line=2,
                       field="product", says="missing id_card")


def test_missing_scenario_file(tmp_path):
    result = run("plan", ID_YEAR, "--scenarios", tmp_path / "nope.csv")
    assert_input_error(result, "nope.csv")


# --------------------------------------------------------------------------- budgets

def test_budget_caps_prepaid_spend_and_shows_its_value():
    plain = as_json("plan", WIDE)
    data = as_json("plan", WIDE, "--budget", "1000")
    assert data["pack_cost"] <= 1000 < plain["pack_cost"]
    assert data["budget"] == 1000.0 and data["monthly_budget"] is None
    v = data["budget_value"]
    assert v["cap"] == 1000.0 and v["cap_option"] == "--budget" and v["binding"] is True
    assert v["spend"] == data["pack_cost"]
    assert v["no_cap"] == {"cost": plain["total_cost"], "spend": plain["pack_cost"],
                           "saving": round(data["total_cost"] - plain["total_cost"], 2)}
    raised = as_json("plan", WIDE, "--budget", "2000")
    assert v["raised_cap"] == 2000.0 and v["raised_cost"] == raised["total_cost"]
    assert v["saving_per_step"] == round(data["total_cost"] - raised["total_cost"], 2) >= 0
    out = ok("plan", WIDE, "--budget", "1000").stdout
    assert "Prepaid cap 1,000.00 CNY (--budget)" in out
    assert (f"With no cap: cost {plain['total_cost']:,.2f} CNY, spend "
            f"{plain['pack_cost']:,.2f} CNY, saving {v['no_cap']['saving']:,.2f} CNY more.") in out
    assert f"Value of raising the cap: {v['saving_per_step']:,.2f} CNY saved per 1,000.00 CNY" \
        in out


def test_zero_budget_is_pure_postpaid_and_a_large_one_changes_nothing():
    zero = as_json("plan", WIDE, "--budget", "0")
    assert zero["pack_cost"] == 0.0 and zero["total_cost"] == zero["postpaid_only_cost"]
    plain = as_json("plan", WIDE)
    big = as_json("plan", WIDE, "--budget", str(plain["pack_cost"]))
    assert big["total_cost"] == plain["total_cost"]
    assert big["budget_value"]["binding"] is False
    assert "The cap does not bind" in ok("plan", WIDE, "--budget", "1000000").stdout


@pytest.mark.parametrize("flag", ["--budget", "--monthly-budget", "--yearly-budget"])
def test_a_cap_keeps_its_json_fields_when_its_value_is_left_out(flag, monkeypatch):
    """The value of raising a cap can be left out (not proven in the time left); the cap's
    fields stay, with `budget_value` null, so a script reads the same document."""
    from optimizer.analysis import budget
    monkeypatch.setattr(budget, "budget_value", lambda *a, **k: None)
    data = as_json("plan", ID_YEAR, "--purchase-months", "any", flag, "5000")
    key = flag[2:].replace("-", "_")
    assert data[key] == 5000.0 and data["budget_value"] is None
    assert data["objective"] == "expected" and data["scenarios"] == []


def test_compare_left_out_is_null_in_json(monkeypatch):
    """--compare with no time left for it: `comparison` is null, not missing."""
    from optimizer.analysis import compare as compare_mod
    monkeypatch.setattr(compare_mod, "compare", lambda *a, **k: None)
    data = as_json("plan", ID_YEAR, "--compare")
    assert "comparison" in data and data["comparison"] is None
    assert "comparison" not in as_json("plan", ID_YEAR)


def test_monthly_budget_in_any_month_mode():
    data = as_json("plan", ID_YEAR, "--purchase-months", "any", "--monthly-budget", "5000")
    assert data["monthly_budget"] == 5000.0
    spend = {}
    for p in data["products"]:
        for b in p["purchases"]:
            spend[b["month"]] = spend.get(b["month"], 0) + b["cost"]
    assert all(v <= 5000 for v in spend.values())
    assert data["budget_value"]["cap_option"] == "--monthly-budget"


def test_budget_round_trips_through_bill(tmp_path):
    out = ok("plan", WIDE, "--budget", "1000", "--format", "csv").stdout
    plan = write(tmp_path, "plan.csv", out)
    assert as_json("bill", WIDE, "--plan", plan)["total_cost"] == \
        as_json("plan", WIDE, "--budget", "1000")["total_cost"]


@pytest.mark.parametrize("flag", ["--budget", "--monthly-budget"])
@pytest.mark.parametrize("value, says", [
    ("lots", "not 'lots'"), ("-5", "not '-5'"), ("20,000", "no thousands separators"),
    ("nan", "not 'nan'"), ("", "not ''"),
])
def test_bad_budget_values_name_the_flag(flag, value, says):
    assert_input_error(run("plan", ID_YEAR, flag, value), flag, says=says)


# --------------------------------------------------------------------------- whatif

def test_whatif_json_on_a_forecast():
    data = as_json("whatif", WIDE, "--scale", "0.5,1,2")
    assert data["status"] == "whatif"
    assert [l["label"] for l in data["levels"]] == ["×0.5", "×1", "×2"]
    assert [l["scale"] for l in data["levels"]] == [0.5, 1.0, 2.0]
    plain = as_json("plan", WIDE)
    one = data["levels"][1]
    assert one["total_cost"] == one["optimal_cost"] == plain["total_cost"]
    assert one["regret"] == 0.0
    for l in data["levels"]:
        assert l["regret"] == round(l["total_cost"] - l["optimal_cost"], 2) >= 0
    assert data["plan"] == [dict(product=p["product"], **b) for p in plain["products"]
                            for b in p["purchases"]]
    products = [b["product"] for b in data["break_even"]]
    assert products == ["id_card", "bank_card", "vat_invoice"]
    for b in data["break_even"]:
        assert b["low"] is None or b["low"] <= 1
        assert b["high"] is None or b["high"] >= 1


def test_whatif_levels_reproduce_with_bill(tmp_path):
    """Each level's 'this plan' cost is what `bill` says for the plan on scaled demand."""
    data = as_json("whatif", ID_YEAR, "--plan", ID_PLAN, "--scale", "0.8", "--no-break-even")
    assert "break_even" not in data
    scaled = write(tmp_path, "f.csv", "product,month,calls\n" + "".join(
        f"id_card,2027-{m:02d},20000\n" for m in range(1, 13)))
    assert as_json("bill", scaled, "--plan", ID_PLAN)["total_cost"] == \
        data["levels"][0]["total_cost"]
    assert as_json("plan", scaled)["total_cost"] == data["levels"][0]["optimal_cost"]


def test_whatif_scenarios_as_levels():
    data = as_json("whatif", ID_YEAR, "--scenarios", FULL, "--no-break-even")
    assert [(l["label"], l["scenario"], l["scale"]) for l in data["levels"]] == \
        [("quiet", "quiet", None), ("busy", "busy", None)]


def test_whatif_table_markdown_and_csv():
    out = ok("whatif", WIDE, "--scale", "0.5,1").stdout
    assert out.startswith("packopt whatif: the optimal plan for the forecast, billed under 2 "
                          "demand levels\n")
    for text in ("The plan examined", "Under each demand level", "This plan", "Optimal",
                 "Regret", "Break-even", "postpaid only"):
        assert text in out
    md = ok("whatif", WIDE, "--scale", "0.5,1", "--format", "markdown").stdout
    assert "| Demand | This plan cost | Optimal cost | Regret |" in md
    assert "| ×0.5 |" in md
    rows = as_csv("whatif", WIDE, "--scale", "0.5,1")
    assert rows[0] == ["level", "scale", "total_cost", "pack_cost", "postpaid_cost",
                       "waste_calls", "optimal_cost", "optimal_pack_cost", "regret",
                       "optimal_status", "optimal_gap"]
    assert [r[0] for r in rows[1:]] == ["×0.5", "×1"]
    rows = as_csv("whatif", WIDE, "--scale", "1", "--break-even")
    assert rows[0] == ["product", "low", "high", "optimal_at_forecast", "complete"]
    assert len(rows) == 4 and all(r[4] == "true" for r in rows[1:])


def test_whatif_default_scales_on_the_bundled_example():
    result = ok("whatif", "--no-break-even", "--format", "json")
    assert "bundled example forecast" in result.stderr
    data = json.loads(result.stdout)
    assert [l["label"] for l in data["levels"]] == ["×0.5", "×0.8", "×1", "×1.2", "×1.5"]
    assert ok("whatif", "--no-break-even", "-q", "--format", "json").stderr == ""


@pytest.mark.parametrize("value, says", [
    ("0", "not '0'"), ("-1", "not '-1'"), ("a,b", "not 'a'"), ("1,,2", "not ''"),
    ("1.2.3", "not '1.2.3'"), ("1e6", r"not '1e6' \(write it out, without an exponent\)"),
    ("0.5,2E-1", r"not '2E-1' \(write it out"),
])
def test_whatif_bad_scales(value, says):
    result = run("whatif", WIDE, "--scale", value)
    assert_input_error(result, "--scale", says=says)
    assert value.startswith(("1e", "0.5,2E")) or "exponent" not in result.stderr


def test_whatif_bad_plan_and_scenarios(tmp_path):
    bad = write(tmp_path, "p.csv", "product,month,size,count\nid_card,2027-01,123,1\n")
    assert_input_error(run("whatif", ID_YEAR, "--plan", bad), "p.csv", line=2, field="size")
    sc = write(tmp_path, "sc.csv", "scenario,weight,scale\na,x,1\n")
    assert_input_error(run("whatif", ID_YEAR, "--scenarios", sc), "sc.csv", line=2,
                       field="weight")


def test_whatif_of_a_dated_plan_compares_it_with_plans_that_may_buy_any_month(tmp_path):
    """A plan that buys after the first month (from `plan --purchase-months any`) was set
    beside start-only optima, dearer than itself: a regret of -51,400 CNY at ×1. Its
    levels' best plans now buy in any month too, so its regret at ×1 is 0 and none is
    negative; `--purchase-months start` still asks for the old comparison."""
    forecast = str(DATA / "grow24.csv")
    dated = tmp_path / "plan.csv"
    dated.write_text(ok("plan", forecast, "--purchase-months", "any", "--format", "csv",
                        "-q").stdout)
    assert any(line.split(",")[1] != "2027-01" for line in dated.read_text().splitlines()[1:])
    levels = as_json("whatif", forecast, "--plan", dated, "--scale", "0.8,1,1.25",
                     "--no-break-even", "-q")["levels"]
    assert all(lv["regret"] >= 0 for lv in levels)
    assert [lv["regret"] for lv in levels if lv["scale"] == 1.0] == [0.0]
    start = as_json("whatif", forecast, "--plan", dated, "--scale", "1", "--no-break-even",
                    "-q", "--purchase-months", "start")["levels"][0]
    assert start["regret"] < 0


G24_PLAN = ("product,month,size,count,cost\n"
            "id_card,2027-01,10000,6,4800.00\nid_card,2027-01,100000,3,15000.00\n"
            "id_card,2028-01,1000000,1,30000.00\nbank_card,2027-01,10000,2,1600.00\n"
            "bank_card,2027-01,100000,3,15000.00\nbank_card,2028-01,10000,2,1600.00\n"
            "bank_card,2028-01,100000,3,15000.00\n")


def test_whatif_says_when_its_optima_buy_only_at_the_start_and_the_plan_later(tmp_path):
    """`--purchase-months start` on a plan buying in 2027-01 and 2028-01 printed an
    "Optimal cost" dearer than the plan (134,400.00 against 83,000.00 at ×1) and a regret of
    -51,400.00 with no word that its optima buy only at the start; JSON had no such field."""
    forecast, plan = str(DATA / "grow24.csv"), write(tmp_path, "g24.csv", G24_PLAN)
    args = ("whatif", forecast, "--plan", plan, "--scale", "1", "--no-break-even")
    out = ok(*args, "--purchase-months", "start").stdout
    assert ("Optimal here is the best plan buying only in the first month (--purchase-months "
            "start), while this plan buys later too: it can cost more than this plan, a "
            "negative regret.") in out.replace("\n", " ")
    data = as_json(*args, "--purchase-months", "start")
    assert data["purchase_months"] == "start" and data["levels"][0]["regret"] == -51400.0
    # Its default optima may buy in any month as it does, the bundled example's only at
    # the start as its optimal plan does: no note for either.
    assert as_json(*args)["purchase_months"] == "any"
    assert "Optimal here" not in ok(*args).stdout
    assert as_json("whatif", "--scale", "1", "--no-break-even")["purchase_months"] == "start"
    assert "Optimal here" not in ok(*args[:2], "--scale", "1", "--purchase-months", "start"
                                    ).stdout
    # CSV has no place for it: stderr says it (the table and JSON carry it)
    r = ok(*args, "--purchase-months", "start", "--format", "csv")
    assert "best plans buying only in the first month" in " ".join(r.stderr.split())
    assert "buying only" not in ok(*args, "--format", "csv").stderr


def test_whatif_of_a_plan_above_its_budget_is_refused():
    """Beside plans that keep the cap, a plan spending 15,000 against --budget 1000 showed
    a regret of -13,600 CNY."""
    r = run("whatif", ID_YEAR, "--plan", ID_PLAN, "--budget", "1000", "--scale", "1",
            "--no-break-even")
    assert r.exit_code == 2 and r.stdout == ""
    assert "--budget" in r.stderr and "spends 15,000.00" in r.stderr
    ok("whatif", ID_YEAR, "--plan", ID_PLAN, "--budget", "15000", "--scale", "1",
       "--no-break-even")


def test_break_even_of_packs_not_optimal_at_the_forecast_says_so(tmp_path):
    """A plan of one's own whose packs are not optimal at ×1 got "stays optimal from ×1.00
    to ×1.00" (the search took ×1 as optimal): now no range, and the flag in JSON and CSV."""
    mine = tmp_path / "mine.csv"
    mine.write_text("product,month,size,count\nid_card,2027-01,1000,1\n")
    out = as_json("whatif", ID_YEAR, "--plan", mine, "--scale", "1")
    assert out["break_even"] == [{"product": "id_card", "low": None, "high": None,
                                  "optimal_at_forecast": False, "complete": True}]
    assert "not at ×1" in ok("whatif", ID_YEAR, "--plan", mine, "--scale", "1").stdout
    rows = ok("whatif", ID_YEAR, "--plan", mine, "--format", "csv", "--break-even").stdout
    assert rows.splitlines()[1] == "id_card,,,false,true"
    best = as_json("whatif", ID_YEAR, "--plan", ID_PLAN, "--scale", "1")["break_even"][0]
    assert best["optimal_at_forecast"] is True and best["low"] is not None
