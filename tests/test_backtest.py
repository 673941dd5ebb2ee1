"""The look back (analysis/backtest.py, `packopt backtest`) and `plan --history`: issue
#12's "Done when" on a 36-month history of five products built here.

Windows never see their own future (poisoning it changes nothing they forecast or plan);
every figure of the look back reproduces with `packopt bill` from the files it writes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from click.testing import CliRunner

from cli import cli
from helpers import SEED, M, plan as make_plan
from history_data import PRODUCTS, as_forecast, csv_text, five_products
from optimizer.analysis import backtest as bt
from optimizer.billing import bill
from optimizer.exceptions import InputError


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def ok(*args):
    r = run(*args)
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    return r


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    path = tmp_path_factory.mktemp("hist") / "usage.csv"
    path.write_text(csv_text(five_products()), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- windows

def test_windows_are_the_past_years_with_a_year_before_them():
    usage = as_forecast(five_products())
    assert bt.window_starts(usage, usage.end) == [M("2025-01"), M("2026-01")]
    short = as_forecast(five_products(30))
    assert bt.window_starts(short, short.end) == [M("2025-07")]
    with pytest.raises(InputError, match="needs 24 complete months"):
        bt.backtest(SEED, as_forecast(five_products(23)))


def _poisoned(demand, month_index: int, factor: int = 10):
    """The history with every month from `month_index` on multiplied by `factor`."""
    return {p: c[:month_index] + [x * factor + 777 for x in c[month_index:]]
            for p, c in demand.items()}


def test_windows_never_see_their_own_future():
    """Poison everything from a window's first month on: the window's forecast and plan must
    not change (they would if the forecast read the window or anything after it)."""
    demand = five_products()
    clean = bt.backtest(SEED, as_forecast(demand))
    for k, w in enumerate(clean.windows):
        dirty = bt.backtest(SEED, as_forecast(_poisoned(demand, w.start - M("2024-01"))))
        d = dirty.windows[k]
        assert d.forecast == w.forecast
        assert d.planned.plan == w.planned.plan
        assert d.thumb_plan == w.thumb_plan          # sized on the year before: also past
        assert d.actual != w.actual                  # the poison did reach the window
    # and the check has teeth: poisoning one month earlier does change the forecast
    first = clean.windows[0]
    dirty = bt.backtest(SEED, as_forecast(_poisoned(demand, first.start - M("2024-01") - 1)))
    assert dirty.windows[0].forecast != first.forecast


def test_figures_are_bills_on_the_actual_usage():
    usage = as_forecast(five_products())
    for w in bt.backtest(SEED, usage).windows:
        assert w.realised == bill(SEED, w.actual, w.planned.plan)
        assert w.postpaid.total_cost == w.realised.postpaid_only_cost
        assert w.hindsight.status == "optimal"
        # the hindsight optimum is a lower bound on every strategy billed on the same usage
        for other in (w.realised, w.postpaid, w.thumb):
            assert w.hindsight.bill.total_cost <= other.total_cost


def test_real_plan_is_replayed_across_windows():
    """What the planner bought: purchases in a window billed there, earlier packs still
    valid carried in as holdings with the balance they had; the windows' costs add up to
    the same months of the whole history's bill."""
    usage = as_forecast(five_products())
    past = make_plan(("id_card", "2024-07", 100000, 3), ("id_card", "2025-07", 1000000, 1),
                     ("general_print", "2025-11", 100000, 2))
    res = bt.backtest(SEED, usage, past_plan=past)
    whole = bill(SEED, usage, past)
    for w in res.windows:
        k = w.start - usage.start
        months = range(k, k + 12)
        expected = sum((pb.months[m].postpaid_cost + pb.months[m].pack_spend
                        for pb in whole.products for m in months), Decimal(0))
        assert w.bought.total_cost == expected
    assert any(h.product == "id_card" for h in res.windows[1].held)   # 2025-07's pack


# --------------------------------------------------------------------------- Done when

def test_plan_history_prints_plan_methods_errors_and_band(history, tmp_path):
    report, chart = tmp_path / "r.html", tmp_path / "c.png"
    r = ok("plan", "--history", history, "--report", report, "--chart", chart)
    out = r.stdout
    assert "packopt plan: optimal" in out and "Packs to buy" in out
    assert "Forecast 2027-01..2027-12 from" in out
    for pid in PRODUCTS:
        line = next(l for l in out.splitlines() if l.startswith(pid) and "%" in l
                    and re.search(r"\b(median|seasonal-naive|trend|ets)\b", l))
        assert re.search(r"\d+\.\d%\s+\d+\.\d\d", line), line       # MAPE and MASE
    assert "Calls P10" in out and "Calls P90" in out
    assert "Scenarios (the same packs" in out                      # low/base/high
    html = report.read_text(encoding="utf-8")
    assert "<h2>Forecast 2027-01..2027-12</h2>" in html and "forecast P10–P90" in html
    assert chart.stat().st_size > 10000
    assert "not launched yet" in r.stderr


def test_plan_history_json_has_a_forecast_section(history):
    doc = json.loads(ok("plan", "--history", history, "--horizon", "6", "--format",
                        "json").stdout)
    assert doc["horizon"] == {"start": "2027-01", "months": 6}
    f = doc["forecast"]
    assert {p["product"] for p in f["products"]} == set(PRODUCTS)
    assert [s["scenario"] for s in f["scenarios"]] == ["low", "base", "high"]
    assert [s["name"] for s in doc["scenarios"]] == ["low", "base", "high"]
    for p in f["products"]:
        assert [m["p50"] for m in p["months"]] == next(
            [m["calls"] for m in x["months"]] for x in doc["products"]
            if x["product"] == p["product"])


def test_plan_history_refuses_a_forecast_or_scenarios_too(history):
    r = run("plan", history, "--history", history)
    assert r.exit_code == 2 and "not both" in r.stderr and r.stdout == ""
    r = run("plan", "--horizon", "6")
    assert r.exit_code == 2 and "--horizon applies only with --history" in r.stderr


def test_backtest_two_windows_and_every_figure_reproduces_with_bill(history, tmp_path):
    d = tmp_path / "bt"
    text = ok("backtest", history, "--output-dir", d).stdout
    rows = [l for l in text.splitlines() if re.match(r"20\d\d-\d\d\.\.20\d\d-\d\d\s+20", l)]
    assert [r.split()[0] for r in rows] == ["2025-01..2025-12", "2026-01..2026-12"]
    for word in ("Realised", "Hindsight", "Pure", "Rule of"):
        assert word in text
    doc = json.loads(ok("backtest", history, "--format", "json", "--output-dir", d).stdout)
    assert len(doc["windows"]) == 2
    for w in doc["windows"]:
        f = w["files"]
        for name, args in (("realised", ["--plan", f["plan"]]),
                           ("hindsight", ["--plan", f["hindsight"]]),
                           ("rule_of_thumb", ["--plan", f["rule_of_thumb"]]),
                           ("postpaid", [])):
            billed = json.loads(ok("bill", f["actual"], *args, "--format", "json").stdout)
            assert billed["total_cost"] == w[name]["total_cost"], (w["start"], name)
        # the printed table shows the same figures
        row = next(r for r in rows if r.startswith(w["start"]))
        assert f"{w['realised']['total_cost']:,.2f}" in row
        assert f"{w['hindsight']['total_cost']:,.2f}" in row
    assert "packopt bill" in text and str(d) in text


def test_backtest_with_the_real_plan_reproduces_with_bill(history, tmp_path):
    bought = tmp_path / "bought.csv"
    bought.write_text("product,month,size,count\nid_card,2024-07,100000,3\n"
                      "id_card,2025-07,1000000,1\n")
    d = tmp_path / "bt"
    doc = json.loads(ok("backtest", history, "--plan", bought, "--output-dir", d,
                        "--format", "json").stdout)
    for w in doc["windows"]:
        f = w["files"]
        billed = json.loads(ok("bill", f["actual"], "--plan", f["bought"], "--holdings",
                               f["held"], "--format", "json").stdout)
        assert billed["total_cost"] == w["bought"]["total_cost"]
    rows = list(csv.reader(io.StringIO(ok("backtest", history, "--plan", bought,
                                          "--format", "csv").stdout)))
    assert rows[0] == list(bt_header()) and len(rows) == 3 and all(r[6] for r in rows[1:])


def bt_header():
    from optimizer.output.forecasts import BACKTEST_HEADER
    return BACKTEST_HEADER


def test_backtest_too_short_is_exit_2(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text(csv_text(five_products(20)))
    r = run("backtest", path)
    assert r.exit_code == 2 and r.stdout == "" and "needs 24 complete months" in r.stderr


def test_a_real_plan_outside_the_history_is_said_to_be_outside_the_history(history, tmp_path):
    """The history's range was called "the forecast horizon"; backtest has no forecast."""
    bought = tmp_path / "bought.csv"
    bought.write_text("product,month,size,count\nid_card,2027-01,100000,1\n"
                      "vehicle_license,2025-01,1000,1\n")
    r = run("backtest", history, "--plan", bought)
    assert r.exit_code == 2 and r.stdout == "" and len(r.stderr.splitlines()) == 1, r.stderr
    assert ("line 2, field 'month': purchase month 2027-01 is outside the history "
            "2024-01..2026-12;") in r.stderr
    assert f"line 3, field 'product': vehicle_license is not in the history {history}" \
        in r.stderr
    assert "forecast" not in r.stderr


def test_a_partial_first_month_is_not_a_complete_month(tmp_path):
    """Daily rows from 2024-12-20 to 2026-11-30: 23 complete months, refused as 23 monthly
    rows are (the partial first month counted as complete, and one window ran)."""
    from datetime import date, timedelta
    day, rows = date(2024, 12, 20), ["product,date,calls"]
    while day <= date(2026, 11, 30):
        rows.append(f"id_card,{day},{1000 + day.day}")
        day += timedelta(days=1)
    path = tmp_path / "daily.csv"
    path.write_text("\n".join(rows) + "\n")
    r = run("backtest", path)
    assert r.exit_code == 2 and r.stdout == "", r.stderr
    assert r.stderr.splitlines() == [       # (alone: not after the reader's notes)
        f"Error: {path}, field 'month': the history covers 24 months (2024-12..2026-11), "
        f"23 of them complete (2025-01..2026-11); a backtest needs 24 complete months: 12 "
        f"before a 12-month window"]
    demand = five_products(24)
    usage = as_forecast(demand)
    with pytest.raises(InputError, match="23 of them complete"):
        bt.backtest(SEED, usage, partial=tuple((p, usage.start) for p in demand))
    # with one month more, one window, its year before all complete months
    usage = as_forecast(five_products(25))
    res = bt.backtest(SEED, usage, partial=tuple((p, usage.start) for p in demand))
    assert [str(w.start) for w in res.windows] == ["2025-02"]


def test_a_partial_last_month_is_in_no_window():
    demand = five_products(37)
    usage = as_forecast(demand)
    res = bt.backtest(SEED, usage, partial=tuple((p, usage.end) for p in demand))
    assert [str(w.start) for w in res.windows] == ["2025-01", "2026-01"]
    assert res.windows[-1].end == usage.end + (-1)
    assert any("2027-01 is a partial month" in n for n in res.notes)


def test_plan_history_says_where_the_scenarios_came_from_when_refused(history):
    r = run("plan", "--history", history, "--purchase-months", "any")
    if r.exit_code == 0:          # the planner takes scenarios in any month: nothing to say
        return
    assert r.exit_code == 2 and r.stdout == ""
    assert "--history plans on the forecast's low/base/high scenarios" in r.stderr


def test_a_note_that_holds_in_every_window_is_said_once():
    demand = five_products()
    silent = next(iter(demand))
    demand = {**demand, silent: [0] * len(demand[silent])}      # no usage at all
    res = bt.backtest(SEED, as_forecast(demand))
    said = [n for n in res.notes if f"{silent}: no usage" in n]
    assert said == [f"windows 2025-01, 2026-01: {silent}: no usage in the history; forecast 0"]
    assert len(res.notes) == len(set(res.notes))


def test_backtest_reproduce_commands_are_quoted_for_the_shell(history, tmp_path):
    """A folder with a space gave `packopt bill b t/2026-07-actual.csv`, which fails when
    pasted; each command, split as a shell would, names the written files."""
    import shlex
    from pathlib import Path
    d = tmp_path / "b t"
    catalog = tmp_path / "my catalog.toml"
    catalog.write_text((Path(__file__).parent.parent / "optimizer" / "data" /
                        "seed_catalog.toml").read_text(encoding="utf-8"), encoding="utf-8")
    text = ok("backtest", history, "--output-dir", d, "--catalog", catalog).stdout
    commands = [shlex.split(line) for line in text.splitlines()
                if line.strip().startswith("packopt bill")]
    assert commands
    for words in commands:
        files = [w for w in words if w.endswith(".csv")]
        assert files and all(Path(w).exists() for w in files), words
        assert words[words.index("--catalog") + 1] == str(catalog)
