"""`whatif` within a time limit and under caps per month or year.

A level's best plan or a break-even step that the limit stops must be reported as what was
proven (a regret at least so much, a range at least so wide), never as an optimum; the
examined plan, which keeps the same caps, bounds each level's best plan from above.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import optimizer.analysis.whatif as whatif_mod
from optimizer.analysis.whatif import break_even, examine
from optimizer.billing import bill
from optimizer.domain.months import Month
from optimizer.domain.records import Forecast, Plan
from optimizer.io.catalog import load_catalog
from optimizer.solve.planner import plan
from test_cli import DATA, ID_PLAN, ID_YEAR, as_json, assert_input_error, ok, run

START = Month.parse("2027-01")
GROW = str(DATA / "grow24.csv")


def _unproven_after(monkeypatch, proven: int, gap=Decimal("0.01")):
    """whatif's solves: the first `proven` as they are, the rest the same plans reported as
    stopped early within `gap` (their optimum no longer known to be their cost)."""
    real, calls = whatif_mod.optimize, []

    def fake(*args, **kwargs):
        calls.append(1)
        got = real(*args, **kwargs)
        return got if len(calls) <= proven else replace(got, status="feasible", gap=gap)
    monkeypatch.setattr(whatif_mod, "optimize", fake)
    return calls


def test_break_even_stopped_early_reports_only_the_range_proven(monkeypatch):
    cat = load_catalog()
    f = Forecast(START, 12, (("id_card", (25000,) * 12),))
    examined = plan(cat, f).plan
    full = break_even(cat, f, examined)[0]
    assert full.complete and full.low is not None and full.high is not None
    for proven in (0, 1, 3, 9):
        monkeypatch.undo()
        _unproven_after(monkeypatch, proven)
        got = break_even(cat, f, examined)[0]
        assert not got.complete, proven
        if proven == 0:
            assert (got.optimal, got.low, got.high) == (None, None, None)
            continue
        assert got.optimal is True
        # What it reports is proven: the packs are optimal at both ends, inside the range.
        assert full.low <= got.low <= 1 <= got.high <= full.high
        mine = Plan(examined.purchases)
        monkeypatch.undo()
        for x in (got.low, got.high):
            g = f.scaled(x)
            assert bill(cat, g, mine).total_cost == plan(cat, g).bill.total_cost


def test_a_stopped_level_dearer_than_the_examined_plan_takes_the_examined_plan(monkeypatch):
    """The examined plan keeps the level's caps and purchase months, so a level's best plan
    is never worse than it: a solve stopped with a dearer plan (here buying nothing) gives
    way to it, its gap narrowed by the difference; the regret is then 0, never negative."""
    cat = load_catalog()
    f = Forecast(START, 12, (("id_card", (25000,) * 12),))
    real = whatif_mod.optimize

    def nothing_found(c, forecast, **kwargs):
        got = real(c, forecast, **kwargs)
        if forecast is f:                       # the examined plan: as it is
            return got
        pure = bill(c, forecast, Plan(()))
        return replace(got, status="feasible", gap=pure.total_cost, bill=pure)
    monkeypatch.setattr(whatif_mod, "optimize", nothing_found)
    w = examine(cat, f, [Decimal("0.8"), Decimal("1.2")], with_break_even=False)
    for row in w.rows:
        assert row.best == row.fixed and row.regret == 0
        assert row.gap == row.fixed.total_cost       # the bound stays 0
    assert w.status == "optimal" and w.gap == 0


def test_whatif_cli_shows_unproven_levels_and_ranges(monkeypatch):
    _unproven_after(monkeypatch, 2, gap=Decimal("50"))    # the plan and the first level
    out = ok("whatif", ID_YEAR, "--scale", "0.8,1.2,1.5").stdout
    rows = [line for line in out.splitlines() if line.startswith("×")]
    assert rows[0].split()[2] != "≤"
    assert all("≤" in r and "≥" in r for r in rows[1:])
    assert "the time limit stopped that level's solve; its optimum is within 50.00" in out
    assert "undecided" in out and "the time limit stopped the search" in out
    monkeypatch.undo()
    _unproven_after(monkeypatch, 6)     # the levels, ×1 and ×0.1, then no more
    line = [r for r in ok("whatif", ID_YEAR, "--scale", "0.8,1.2,1.5").stdout.splitlines()
            if r.startswith("id_card")][-1]                 # (the break-even row)
    assert line.split()[-4:] == ["≤", "×1.00", "≥", "×1.00"]
    monkeypatch.undo()
    _unproven_after(monkeypatch, 2, gap=Decimal("50"))
    data = as_json("whatif", ID_YEAR, "--scale", "0.8,1.2")
    assert data["plan_status"] == "optimal" and data["plan_gap"] == 0
    assert [(lv["optimal_status"], lv["optimal_gap"]) for lv in data["levels"]] == \
        [("optimal", 0), ("feasible", 50)]
    assert data["break_even"] == [{"product": "id_card", "low": None, "high": None,
                                   "optimal_at_forecast": None, "complete": False}]
    monkeypatch.undo()
    _unproven_after(monkeypatch, 2, gap=Decimal("50"))
    rows = ok("whatif", ID_YEAR, "--scale", "0.8,1.2", "--format", "csv").stdout.splitlines()
    assert [r.split(",")[-2:] for r in rows[1:]] == [["optimal", "0.00"], ["feasible", "50.00"]]
    given = as_json("whatif", ID_YEAR, "--plan", ID_PLAN, "--scale", "1", "--no-break-even")
    assert given["plan_status"] is None and given["plan_gap"] is None


def test_whatif_examined_plan_found_in_the_limit_says_so(monkeypatch):
    _unproven_after(monkeypatch, 0, gap=Decimal("7"))
    r = ok("whatif", ID_YEAR, "--scale", "1", "--no-break-even")
    assert r.stdout.startswith("packopt whatif: the best plan found for the forecast")
    assert "within 7.00 CNY of the optimum" in r.stderr


def test_whatif_time_limit_on_an_integer_program():
    """Whatever the machine's speed: every figure is proven or says by how much it is not."""
    data = as_json("whatif", GROW, "--purchase-months", "any", "--tier-basis", "after-packs",
                   "--monthly-budget", "20000", "--scale", "0.8,1.25", "--time-limit", "0.5",
                   "-q")
    assert data["plan_status"] in ("optimal", "feasible")
    assert (data["plan_status"] == "optimal") == (data["plan_gap"] == 0)
    for lv in data["levels"]:
        assert (lv["optimal_status"] == "optimal") == (lv["optimal_gap"] == 0)
        assert lv["regret"] >= 0 and lv["optimal_gap"] >= 0
    for b in data["break_even"]:
        assert b["complete"] or b["optimal_at_forecast"] is not False
    assert_input_error(run("whatif", ID_YEAR, "--time-limit", "0"), "--time-limit")


def test_whatif_under_a_monthly_or_yearly_budget():
    capped = as_json("plan", GROW, "--purchase-months", "any", "--monthly-budget", "15000")
    data = as_json("whatif", GROW, "--purchase-months", "any", "--monthly-budget", "15000",
                   "--scale", "0.8,1.25", "--no-break-even")
    assert data["plan"] == [dict(product=p["product"], **b) for p in capped["products"]
                            for b in p["purchases"]]
    for lv in data["levels"]:
        spent: dict = {}
        for b in lv["optimal_purchases"]:
            spent[b["month"]] = spent.get(b["month"], 0) + b["cost"]
        assert max(spent.values(), default=0) <= 15000 and lv["regret"] >= 0
    yearly = as_json("whatif", GROW, "--purchase-months", "any", "--yearly-budget", "30000",
                     "--scale", "1", "--no-break-even")
    for lv in yearly["levels"]:
        years = [sum(b["cost"] for b in lv["optimal_purchases"] if b["month"][:4] == y)
                 for y in ("2027", "2028")]
        assert max(years) <= 30000 and lv["regret"] == 0


def test_whatif_refuses_a_plan_above_a_monthly_or_yearly_budget():
    for flag, says in (("--monthly-budget", "15,000.00 on packs in 2027-01, above the monthly "
                                            "budget of 1,000.00"),
                       ("--yearly-budget", "15,000.00 on packs in 2027-01..2027-12, above the "
                                           "yearly budget of 1,000.00")):
        r = run("whatif", ID_YEAR, "--plan", ID_PLAN, flag, "1000", "--scale", "1")
        assert_input_error(r, flag, says=says)
        ok("whatif", ID_YEAR, "--plan", ID_PLAN, flag, "15000", "--scale", "1",
           "--no-break-even")


def test_whatif_levels_of_ten_and_more_are_written_out():
    """`--scale 10` was labelled ×1E+1 (Decimal's normalize())."""
    data = as_json("whatif", ID_YEAR, "--scale", "10,100,0.50", "--no-break-even")
    assert [(lv["label"], lv["scale"]) for lv in data["levels"]] == \
        [("×10", 10.0), ("×100", 100.0), ("×0.5", 0.5)]


def test_a_scale_past_any_bill_names_the_scale_and_an_empty_one_is_refused(tmp_path):
    """A scale taking a month past 10^15 calls was blamed on a forecast cell holding
    20,000; `--scale ""` fell back to the default levels."""
    r = run("whatif", ID_YEAR, "--scale", "100000000000000")
    assert_input_error(r, "--scale", says="scale 100000000000000 takes id_card's calls in "
                                          "2027-01 past 10\\^15")
    sc = tmp_path / "sc.csv"
    sc.write_text("scenario,weight,scale\nok,1,2\nhuge,1,100000000000000\n")
    for command in ("plan", "whatif"):
        assert_input_error(run(command, ID_YEAR, "--scenarios", sc), "sc.csv", line=3,
                           field="scale")
    assert_input_error(run("whatif", ID_YEAR, "--scale", ""), "--scale", says="not ''")


def test_break_even_packs_of_a_dated_plan_are_summed_per_size():
    """A plan buying in several months listed each purchase ("100,000 × 1, 100,000 × 4,
    100,000 × 3, ..."): per size, the packs together and over how many months."""
    out = ok("whatif", GROW, "--purchase-months", "any", "--scale", "1", "-q").stdout
    rows = {line.split()[0]: line for line in out.splitlines()[-4:]}
    assert "10,000 × 4 (2 months), 100,000 × 6 (2 months)" in rows["bank_card"]
    assert "10,000 × 6, 100,000 × 3, 1,000,000 × 1 " in rows["id_card"]


def test_a_level_past_the_exact_limit_blames_the_scale_not_the_file():
    """×9·10^9 of a year of id_card keeps each month within 10^15 calls, but its postpaid
    cost passes 2^53 money units: the message named the forecast's file and its 'calls'."""
    r = run("whatif", ID_YEAR, "--scale", "9000000000", "--no-break-even")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("Error: --scale: at ×9000000000: id_card: a postpaid cost")
    assert str(ID_YEAR) not in r.stderr
