"""Forecasting from usage history (analysis/forecasting.py) and the `forecast` command.

Known patterns are forecast within a stated error of their true continuation; forecasts
are reproducible; leading zeros, partial months and short histories are handled as
documented; the files `forecast` writes are read back by `plan`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cli as cli_module
from cli import cli
from optimizer.analysis import forecasting as fc
from optimizer.io.forecast import parse_forecast
from optimizer.io.scenarios import parse_scenarios
from helpers import SEED
from history_data import as_forecast, csv_text, five_products, flat, growing, seasonal

ROOT = Path(__file__).parent.parent


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def ok(*args):
    r = run(*args)
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    return r


def series(f, n: int, noise: float = 0.02, seed: int = 1) -> list[int]:
    """f(0..n-1) with a deterministic ± `noise` wobble (seeded)."""
    import random
    rng = random.Random(seed)
    return [int(round(f(i) * (1 + rng.uniform(-noise, noise)))) for i in range(n)]


def mape(forecast, truth) -> float:
    return sum(abs(f - t) / t for f, t in zip(forecast, truth)) / len(truth) * 100


# --------------------------------------------------------------------------- known patterns

@pytest.mark.parametrize("f, n, limit", [
    (flat, 36, 4.0),            # flat: within 4 % of the level
    (growing, 36, 4.0),         # linear growth: within 4 % of the line
    (seasonal, 36, 8.0),        # yearly season on growth: within 8 %
    (flat, 12, 4.0),            # and from one year of history
    (growing, 12, 6.0),
])
def test_known_patterns_forecast_within_stated_error(f, n, limit):
    usage = as_forecast({"id_card": series(f, n)})
    r = fc.forecast_usage(usage, 12)
    truth = [f(i) for i in range(n, n + 12)]
    assert mape(r.base.calls("id_card"), truth) < limit, r.products[0]


def test_seasonal_series_gets_a_seasonal_method_and_a_flat_one_does_not_need_it():
    r = fc.forecast_usage(as_forecast({"general_print": series(seasonal, 36),
                                       "bank_card": series(flat, 36)}), 12)
    assert r.product("general_print").method in ("seasonal-naive", "ets")
    # the seasonal method beats the non-seasonal ones in the backtest, by far
    scores = {s.method: s.mase for s in r.product("general_print").candidates}
    assert scores["seasonal-naive"] < 0.5 * min(scores["median"], scores["trend"])


@pytest.mark.parametrize("method", fc.METHODS)
def test_each_method_forecasts_a_flat_series_within_5_percent(method):
    usage = as_forecast({"bank_card": series(flat, 36)})
    r = fc.forecast_usage(usage, 12, method=method)
    assert r.product("bank_card").method == method
    assert mape(r.base.calls("bank_card"), [8000] * 12) < 5


def test_seasonal_naive_repeats_last_year_times_growth():
    y = [100 * (m + 1) for m in range(12)] + [110 * (m + 1) for m in range(12)]
    out = fc.point_forecast("seasonal-naive", y, 14)
    assert [fc.whole_calls(v) for v in out[:12]] == [121 * (m + 1) for m in range(12)]
    assert fc.whole_calls(out[12]) == round(110 * 1.1 ** 2)      # two years ahead


# --------------------------------------------------------------------------- rules

def test_reproducible():
    usage = as_forecast(five_products())
    a, b = fc.forecast_usage(usage, 12), fc.forecast_usage(usage, 12)
    assert a == b


def test_fewer_than_24_months_no_seasonal_model_and_a_note():
    r = fc.forecast_usage(as_forecast({"general_print": series(seasonal, 20)}), 12)
    p = r.product("general_print")
    assert "seasonal-naive" not in {s.method for s in p.candidates}
    assert any("fewer than 24" in n and "no seasonal model" in n for n in r.notes)
    r = fc.forecast_usage(as_forecast({"general_print": series(seasonal, 20)}), 12,
                          method="seasonal-naive")
    assert r.product("general_print").method == "median"
    assert any("seasonal-naive needs 24 months" in n for n in r.notes)


def test_leading_zeros_are_before_launch_not_demand():
    demand = five_products()
    r = fc.forecast_usage(as_forecast(demand), 12)
    p = r.product("license_plate")
    assert p.fitted_months == 8
    assert any("license_plate: no calls before 2026-05 (not launched yet)" in n
               for n in r.notes)
    # had the zeros counted as demand, the median of the last 6 months or a line through
    # 36 months would sit far below the launched product's level
    assert min(p.p50) > demand["license_plate"][-1] * 0.8


def test_partial_months_are_left_out_of_the_fit():
    demand = five_products()
    usage = as_forecast(demand)
    cut = as_forecast({p: c[:-1] for p, c in demand.items()})
    poisoned = as_forecast({p: c[:-1] + [7] for p, c in demand.items()})
    last = usage.end
    r = fc.forecast_usage(poisoned, 12, partial=tuple((p, last) for p in demand))
    ref = fc.forecast_usage(cut, 13)
    for p in demand:
        assert r.base.calls(p) == ref.base.calls(p)[1:]
    assert r.base.start == last + 1
    assert any("partial last month left out" in n for n in r.notes)



def test_a_history_of_partial_months_only_is_fitted_to_them():
    """Six weeks of daily rows, 10 March to 20 April: both months partial. Both were left
    out of the fit, and the product forecast 0 with the note "no usage in the history"
    (42,000 calls in the file); a plan on it bought nothing."""
    usage = as_forecast({"id_card": [22000, 20000]})
    r = fc.forecast_usage(usage, 3, partial=(("id_card", usage.start),
                                             ("id_card", usage.end)))
    assert r.base.calls("id_card") == (21000,) * 3
    assert r.product("id_card").method != "none"
    assert any("every month with usage is partial" in n for n in r.notes)
    assert not any("no usage" in n for n in r.notes)

def test_no_usage_forecasts_zero():
    r = fc.forecast_usage(as_forecast({"id_card": [0] * 30}), 6)
    assert r.base.calls("id_card") == (0,) * 6 and r.product("id_card").method == "none"


@pytest.mark.parametrize("x, whole", [(2.5, 3), (3.5, 4), (2.49, 2), (-4.0, 0),
                                      (float("nan"), 0), (0.5, 1)])
def test_whole_calls_round_half_up_never_negative(x, whole):
    assert fc.whole_calls(x) == whole


def test_mape_leaves_out_zero_months_and_mase_scales_by_naive_change():
    y = [10, 0] * 10
    s = fc.backtest_method("median", y, [16], lead=4)    # forecast median(6) = 5
    assert (s.months, s.zero_months) == (4, 2)
    assert s.mape == pytest.approx(50.0)                  # |10-5|/10 on the two 10s
    assert s.mase == pytest.approx(5 / 10)                # mean |e| 5 / mean |diff| 10
    assert fc.backtest_method("median", [0] * 20, [16], lead=4).mape is None


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 50000), min_size=1, max_size=30),
       st.sampled_from(fc.CHOICES), st.integers(1, 15))
def test_forecast_is_whole_nonnegative_calls_in_order(calls, method, months):
    r = fc.forecast_usage(as_forecast({"id_card": calls}), months, method=method)
    p = r.product("id_card")
    for lo, mid, hi in zip(p.p10, p.p50, p.p90):
        assert type(mid) is int and 0 <= lo <= mid <= hi
    assert len(p.p50) == months == r.base.months


def test_scenarios_are_p10_p50_p90_with_weights():
    r = fc.forecast_usage(as_forecast(five_products()), 12)
    s = r.scenarios()
    assert [(x.name, x.weight) for x in s] == [("low", Decimal("0.3")),
                                               ("base", Decimal("0.4")),
                                               ("high", Decimal("0.3"))]
    assert [x.forecast for x in s] == [r.low, r.base, r.high]


def test_bad_months_and_method_are_input_errors():
    usage = as_forecast({"id_card": [1, 2, 3]})
    with pytest.raises(fc.InputError):
        fc.forecast_usage(usage, 0)
    with pytest.raises(fc.InputError):
        fc.forecast_usage(usage, 3, method="prophet")


def test_cli_methods_are_the_library_methods():
    assert set(cli_module.FORECAST_METHODS) == set(fc.CHOICES)


# --------------------------------------------------------------------------- the command

@pytest.fixture
def history(tmp_path):
    path = tmp_path / "usage.csv"
    path.write_text(csv_text(five_products()), encoding="utf-8")
    return path


def test_forecast_refuses_pricing_options_typed_for_it(history):
    """`forecast --tier-basis after-packs --negotiated-rate id_card=0.04` ran as without
    them (a forecast prices nothing); set for every command in the environment they are
    let be."""
    for args in (["--tier-basis", "after-packs"], ["--negotiated-rate", "id_card=0.04"]):
        r = run("forecast", history, "--months", "1", *args)
        assert r.exit_code == 2 and r.stdout == ""
        assert f"{args[0]} price plans and bills; a forecast prices nothing" in r.stderr
    r = CliRunner(env={"PACKOPT_TIER_BASIS": "after-packs"}).invoke(
        cli, ["forecast", str(history), "--months", "1"])
    assert r.exit_code == 0 and r.stdout == ok("forecast", history, "--months", "1").stdout


@pytest.mark.parametrize("months, says", [(1, "1 month from 2027-01"),
                                           (2, "2 months from 2027-01")])
def test_a_count_of_months_is_singular_for_one(history, months, says):
    """`forecast --months 1` said "1 months from 2027-01"."""
    out = ok("forecast", history, "--months", months, "--format", "table").stdout
    assert out.splitlines()[0] == f"packopt forecast: {history}, {says}"


def test_a_catalogs_one_month_validity_is_one_month(tmp_path):
    """The catalog's header and the notes that name its validity, as above."""
    cat = tmp_path / "one.toml"
    cat.write_text('currency = "CNY"\nvalidity_months = 1\n\n[[product]]\nid = "id_card"\n'
                   'packs = [ { calls = 1000, price = "90" } ]\n'
                   'tiers = [ { up_to = 10000, rate = "0.12" }, { rate = "0.08" } ]\n')
    assert " · packs valid 1 month · " in ok("catalog", "--catalog", cat).stdout
    from optimizer.domain.months import months_text
    assert [months_text(n) for n in (0, 1, 2, 12)] == \
        ["0 months", "1 month", "2 months", "12 months"]


def test_forecast_csv_is_a_forecast_plan_reads(history):
    r = ok("forecast", history, "--months", "12")
    f = parse_forecast(r.stdout, SEED, "stdout")
    assert (str(f.start), f.months) == ("2027-01", 12)
    assert sorted(f.products()) == sorted(five_products())
    # the method and backtest error of each product on stderr, not in the CSV
    for pid in five_products():
        assert any(line.startswith(f"packopt: {pid}: ") and "MAPE" in line and "MASE" in line
                   for line in r.stderr.splitlines()), r.stderr


def test_forecast_files_and_table(history, tmp_path):
    out, scen = tmp_path / "f.csv", tmp_path / "s.csv"
    r = ok("forecast", history, "--output", out, "--scenarios", scen)
    assert "Backtest" in r.stdout and "Calls P90" in r.stdout       # the table on stdout
    f = parse_forecast(out.read_text(), SEED, "f.csv")
    scenarios = parse_scenarios(scen.read_text(), SEED, f, "s.csv")
    assert [s.name for s in scenarios] == ["low", "base", "high"]
    assert scenarios[1].forecast.demand == f.demand
    plan = json.loads(ok("plan", out, "--scenarios", scen, "--format", "json").stdout)
    assert plan["status"] == "optimal"


def test_forecast_json(history):
    doc = json.loads(ok("forecast", history, "--months", "6", "--format", "json").stdout)
    assert doc["horizon"] == {"start": "2027-01", "months": 6}
    p = {x["product"]: x for x in doc["products"]}
    assert p["license_plate"]["fitted_months"] == 8
    for x in doc["products"]:
        assert {"method", "mape", "mase", "band", "months", "candidates"} <= set(x)
        assert all(m["p10"] <= m["p50"] <= m["p90"] for m in x["months"])


def test_forecast_is_reproducible_through_the_cli(history):
    a = ok("forecast", history, "--format", "json").stdout
    assert a == ok("forecast", history, "--format", "json").stdout


def test_forecast_bad_history_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("product,month,calls\nid_card,2026-01,-5\n")
    r = run("forecast", bad)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "bad.csv" in r.stderr


def test_statsmodels_stays_out_of_other_commands(history):
    """Only the ETS path imports statsmodels: `plan` and `forecast --method median` don't."""
    for args in (["plan", "--format", "json"],
                 ["forecast", str(history), "--method", "median"]):
        proc = subprocess.run([sys.executable, "-X", "importtime", "cli.py", *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()
                    if line.startswith("import time:")]
        assert imported and not [m for m in imported if m.startswith("statsmodels")]


def test_options_meaning_other_things_elsewhere_are_not_set_by_their_keys(history, tmp_path):
    """PACKOPT_SCENARIOS or a config `scenarios` key names plan's scenarios INPUT: forecast
    must not write over it (nor take plan's month-view flag as a number of months)."""
    precious = tmp_path / "scenarios.csv"
    precious.write_text("keep me")
    cfg = tmp_path / "packopt.toml"
    cfg.write_text(f'months = true\nscenarios = "{precious.as_posix()}"\n')
    r = CliRunner(env={"PACKOPT_SCENARIOS": str(precious), "PACKOPT_MONTHS": "1"}).invoke(
        cli, ["forecast", str(history), "--method", "median", "--config", str(cfg)])
    assert r.exit_code == 0, r.stderr
    assert precious.read_text() == "keep me"
    assert len(r.stdout.splitlines()) == 1 + 5 * 12
    # its own variable and its own config table do set them
    cfg.write_text('[forecast]\nmonths = 2\n')
    r = CliRunner(env={"PACKOPT_FORECAST_SCENARIOS": str(tmp_path / "s.csv")}).invoke(
        cli, ["forecast", str(history), "--method", "median", "--config", str(cfg)])
    assert r.exit_code == 0, r.stderr
    assert len(r.stdout.splitlines()) == 1 + 5 * 2
    assert (tmp_path / "s.csv").read_text().startswith("scenario,weight,product")


def test_json_notes_tell_the_usage_no_product_took(tmp_path):
    """SPEC: unmapped usage is reported, never dropped silently. It was said on stderr
    only (gone with -q); `forecast`, `plan --history` and `backtest` JSON had no word of
    it."""
    path = tmp_path / "usage.csv"
    path.write_text(csv_text(five_products()) + "bank_crad,2025-03,700\n")
    told = "1 label maps to no catalog product (700 calls not counted): 'bank_crad'"
    for args, notes in ((("forecast", path, "--months", "3"), lambda d: d["notes"]),
                        (("plan", "--history", path), lambda d: d["forecast"]["notes"]),
                        (("backtest", path), lambda d: d["notes"])):
        data = json.loads(ok(*args, "--format", "json", "--quiet").stdout)
        assert any(told in n for n in notes(data)), args


@pytest.mark.parametrize("calls, method, held", [
    ([9 * 10 ** 14] * 12, "median", "P90 band"),
    ([10 ** 15 - (11 - i) * 10 ** 12 for i in range(12)], "trend", "forecast"),
])
def test_a_forecast_past_the_bound_is_held_at_it_with_a_note(calls, method, held):
    """A flat history of 9·10^14 calls a month: its P90 band (×1.25) passed 10^15 and the
    forecast was refused as a file's cell too large ('field id_card 2028-01'). A rising
    history at the bound: its forecast itself passes it."""
    out = fc.forecast_usage(as_forecast({"id_card": calls}), 3, method=method)
    assert max(out.high.calls("id_card")) == 10 ** 15
    assert out.base.calls("id_card")[0] == min(calls[-1] + (calls[-1] - calls[-2]), 10 ** 15)
    assert any(f"the {held} passes 10^15" in n for n in out.notes), out.notes


@pytest.mark.parametrize("flag, name", [("--output", "f.xlsx"), ("--scenarios", "s.json"),
                                        ("--output", "F.XLS")])
def test_a_csv_output_named_as_another_format_is_refused(tmp_path, flag, name):
    """CSV text was written to f.xlsx, which Excel then would not open."""
    history = tmp_path / "h.csv"
    history.write_text(csv_text({"id_card": [8000] * 12}))
    target = tmp_path / name
    r = run("forecast", history, flag, target)
    assert r.exit_code == 2 and r.stdout == "" and not target.exists()
    assert f"{flag}: '{target}' is named as" in r.stderr and "name it .csv" in r.stderr
