"""What `forecast`, `plan --history` and `backtest` show: forecasts with their method,
backtest error and band; the look back's windows; and the CSV files they write.

Pure functions of the analysis results (`analysis/forecasting.py`, `analysis/backtest.py`):
JSON documents, CSV rows and the text parts `text.py` renders. `write_window_files` writes
each backtest window's inputs for `packopt bill`.
"""

from __future__ import annotations

import shlex

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain.months import months_text
from ..domain.records import Forecast, Holding, Plan
from ..exceptions import InputError
from .formats import csv_money, fmt_int, fmt_money, fmt_pct, money, pct
from .text import table, to_csv

if TYPE_CHECKING:   # annotations only: the analysis modules load NumPy and the solver stack
    from ..analysis.backtest import Backtest, Window
    from ..analysis.forecasting import ForecastResult, ProductForecast

BAND_WORDS = ("P50 is the point forecast; P10 and P90 multiply it by the 10th and 90th "
              "percentiles of actual/forecast in the backtest. Scenarios low/base/high = "
              "P10/P50/P90, weights 0.3/0.4/0.3.")


# --------------------------------------------------------------------------- CSV rows

def forecast_rows(f: Forecast) -> list[tuple]:
    """A forecast in the long form `product,month,calls` (what `plan` and `bill` read)."""
    rows: list[tuple] = [("product", "month", "calls")]
    for pid, calls in f.demand:
        rows += [(pid, str(f.month(i)), c) for i, c in enumerate(calls)]
    return rows


def scenario_rows(result: ForecastResult) -> list[tuple]:
    """`scenario,weight,product,month,calls`: the scenarios file `plan --scenarios` reads."""
    rows: list[tuple] = [("scenario", "weight", "product", "month", "calls")]
    for s in result.scenarios():
        rows += [(s.name, str(s.weight), *row) for row in forecast_rows(s.forecast)[1:]]
    return rows


def plan_file_rows(p: Plan, catalog) -> list[tuple]:
    """`product,month,size,count,cost` of a plan (what `bill --plan` reads)."""
    rows: list[tuple] = [("product", "month", "size", "count", "cost")]
    for x in sorted(p.purchases, key=lambda x: (x.product, x.month.ordinal, x.size)):
        price = catalog.product(x.product).pack(x.size).price
        rows.append((x.product, str(x.month), x.size, x.count, csv_money(price * x.count)))
    return rows


def holding_rows(held: tuple[Holding, ...]) -> list[tuple]:
    """`product,expires,calls_left` (what `--holdings` reads)."""
    return [("product", "expires", "calls_left"),
            *((h.product, str(h.expires), h.calls_left) for h in held)]


def write_csv(path: str | Path, rows) -> None:
    try:
        Path(path).write_text(to_csv(rows), encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot write the file ({e.strerror or e})", source=str(path)) \
            from None


# --------------------------------------------------------------------------- forecast

def _num(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


def method_line(p: ProductForecast) -> str:
    """'general_print: ets, backtest MAPE 2.7%, MASE 0.18 (22 months)'."""
    if p.method == "none":
        return f"{p.product}: no usage in the history, forecast 0"
    if not p.backtest_months:
        return (f"{p.product}: {p.method}, not backtested ({p.fitted_months} month"
                f"{'' if p.fitted_months == 1 else 's'} of history)")
    return (f"{p.product}: {p.method}, backtest MAPE {fmt_pct(p.mape)}, MASE "
            f"{'—' if p.mase is None else f'{p.mase:.2f}'} ({months_text(p.backtest_months)})")


def forecast_dict(result: ForecastResult, history: str | None = None) -> dict[str, Any]:
    """The forecast as JSON: per product the method, backtest error, band and months."""
    out: dict[str, Any] = {
        "history": {"source": history, "start": str(result.history_start),
                    "end": str(result.history_end),
                    "months": result.history_end - result.history_start + 1},
        "horizon": {"start": str(result.base.start), "months": result.base.months},
        "method": result.method,
        "scenarios": [{"scenario": s.name, "weight": float(s.weight), "quantile": q}
                      for s, q in zip(result.scenarios(), ("p10", "p50", "p90"))],
        "products": [],
        "notes": list(result.notes),
    }
    if history is None:
        del out["history"]["source"]
    for p in result.products:
        out["products"].append({
            "product": p.product, "method": p.method,
            "mape": _num(p.mape), "mase": _num(p.mase, 4),
            "backtest_months": p.backtest_months, "fitted_months": p.fitted_months,
            "band": {"p10": round(p.band[0], 4), "p90": round(p.band[1], 4)},
            "calls": {"p10": sum(p.p10), "p50": sum(p.p50), "p90": sum(p.p90)},
            "candidates": [{"method": s.method, "mape": _num(s.mape), "mase": _num(s.mase, 4),
                            "backtest_months": s.months} for s in p.candidates],
            "months": [{"month": str(result.base.month(i)), "p10": a, "p50": b, "p90": c}
                       for i, (a, b, c) in enumerate(zip(p.p10, p.p50, p.p90))],
        })
    return out


FORECAST_COLUMNS = ("Product", "Method", "Backtest\nMAPE", "Backtest\nMASE",
                    "Months\nfitted", "Calls P10", "Calls P50", "Calls P90")


def forecast_cells(result: ForecastResult) -> tuple[list[list[str]], list[str]]:
    rows = [[p.product, p.method, fmt_pct(p.mape),
             "—" if p.mase is None else f"{p.mase:.2f}", str(p.fitted_months),
             fmt_int(sum(p.p10)), fmt_int(sum(p.p50)), fmt_int(sum(p.p90))]
            for p in result.products]
    total = ["Total", "", "", "", "", *(fmt_int(sum(sum(getattr(p, q)) for p in
                                                    result.products))
                                       for q in ("p10", "p50", "p90"))]
    return rows, total


def forecast_parts(result: ForecastResult, history: str) -> list:
    """The forecast table (horizon totals per product) and what its columns mean."""
    rows, total = forecast_cells(result)
    b = result.base
    return [table(FORECAST_COLUMNS, rows, total=total, right_from=2,
                  title=f"Forecast {b.start}..{b.end} from {history} "
                        f"({result.history_start}..{result.history_end})"),
            "Method chosen per product by rolling-origin backtest (lowest MASE) unless "
            "--method names one; MAPE leaves out months of 0 calls. " + BAND_WORDS]


def forecast_view(fmt: str, result: ForecastResult, history: str):
    """`packopt forecast`: CSV is the forecast itself (P50, long form)."""
    if fmt == "json":
        return forecast_dict(result, history)
    if fmt == "csv":
        return forecast_rows(result.base)
    parts = [f"packopt forecast: {history}, {months_text(result.base.months)} from "
             f"{result.base.start}", *forecast_parts(result, history)]
    month_rows = [[str(b_m), *(f"{fmt_int(p.p50[i])} ({fmt_int(p.p10[i])}–{fmt_int(p.p90[i])})"
                               for p in result.products)]
                  for i, b_m in enumerate(result.base.month(i) for i in
                                          range(result.base.months))]
    parts += ["", table(("Month", *(p.product for p in result.products)), month_rows,
                        title="Month by month: P50 (P10–P90)")]
    return parts


def band_of(result: ForecastResult | None) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    """Product -> (P10, P90) months, for the chart's band."""
    if result is None:
        return {}
    return {p.product: (p.p10, p.p90) for p in result.products}


# --------------------------------------------------------------------------- backtest

BACKTEST_COLUMNS = ("Window", "Forecast\nfrom", "Realised\n(packopt)", "Hindsight\noptimum",
                    "Pure\npostpaid", "Rule of\nthumb", "Saving vs\npostpaid",
                    "Above\nhindsight")
FILE_NAMES = {"actual": "actual.csv", "forecast": "forecast.csv", "plan": "plan.csv",
              "hindsight": "hindsight.csv", "rule_of_thumb": "rule-of-thumb.csv",
              "bought": "bought.csv", "held": "held.csv"}


def _strategies(w: Window) -> list[tuple[str, Any]]:
    named = [("realised", w.realised), ("hindsight", w.hindsight.bill),
             ("postpaid", w.postpaid), ("rule_of_thumb", w.thumb)]
    if w.bought is not None:
        named.append(("bought", w.bought))
    return named


def backtest_cells(bt: Backtest) -> tuple[list[list[str]], list[str]]:
    real = any(w.bought is not None for w in bt.windows)
    rows = []
    for w in bt.windows:
        f = w.forecast
        row = [f"{w.start}..{w.end}", f"{f.history_start}..{f.history_end}",
               fmt_money(w.realised.total_cost), fmt_money(w.hindsight.bill.total_cost),
               fmt_money(w.postpaid.total_cost), fmt_money(w.thumb.total_cost)]
        if real:
            row.append(fmt_money(w.bought.total_cost))
        row += [fmt_money(w.postpaid.total_cost - w.realised.total_cost),
                fmt_money(w.realised.total_cost - w.hindsight.bill.total_cost)]
        rows.append(row)

    def tot(get):
        return fmt_money(sum((get(w) for w in bt.windows), start=0))

    total = ["Total", "", tot(lambda w: w.realised.total_cost),
             tot(lambda w: w.hindsight.bill.total_cost), tot(lambda w: w.postpaid.total_cost),
             tot(lambda w: w.thumb.total_cost)]
    if real:
        total.append(tot(lambda w: w.bought.total_cost))
    total += [tot(lambda w: w.postpaid.total_cost - w.realised.total_cost),
              tot(lambda w: w.realised.total_cost - w.hindsight.bill.total_cost)]
    return rows, total


def backtest_columns(bt: Backtest) -> tuple[str, ...]:
    if any(w.bought is not None for w in bt.windows):
        return (*BACKTEST_COLUMNS[:6], "What you\nbought", *BACKTEST_COLUMNS[6:])
    return BACKTEST_COLUMNS


ACCURACY_COLUMNS = ("Product", "Method", "Forecast\ncalls (P50)", "Actual\ncalls", "Error",
                    "Within\nP10–P90")


def accuracy_cells(w: Window) -> list[list[str]]:
    rows = []
    for p in w.forecast.products:
        actual = sum(w.actual.calls(p.product))
        inside = sum(p.p10) <= actual <= sum(p.p90)
        rows.append([p.product, p.method, fmt_int(sum(p.p50)), fmt_int(actual),
                     fmt_pct(pct(sum(p.p50) - actual, actual)), "yes" if inside else "no"])
    return rows


def backtest_dict(bt: Backtest, history: str, files: dict | None = None) -> dict[str, Any]:
    from .data import purchase_list

    windows = []
    for w in bt.windows:
        d: dict[str, Any] = {
            "start": str(w.start), "end": str(w.end),
            "forecast_from": {"start": str(w.forecast.history_start),
                              "end": str(w.forecast.history_end)},
        }
        for name, b in _strategies(w):
            d[name] = {"total_cost": money(b.total_cost), "pack_cost": money(b.pack_cost),
                       "postpaid_cost": money(b.postpaid_cost), "waste_calls": b.waste_calls,
                       "purchases": purchase_list(b)}
        d["saving_vs_postpaid"] = money(w.postpaid.total_cost - w.realised.total_cost)
        d["above_hindsight"] = money(w.realised.total_cost - w.hindsight.bill.total_cost)
        d["forecast"] = forecast_dict(w.forecast)
        if files:
            d["files"] = files.get(str(w.start), {})
        windows.append(d)
    return {"history": {"source": history, "start": str(bt.history_start),
                        "end": str(bt.history_end)},
            "method": bt.method, "windows": windows, "notes": list(bt.notes)}


BACKTEST_HEADER = ("window_start", "window_end", "realised", "hindsight", "postpaid",
                   "rule_of_thumb", "bought")


def backtest_rows(bt: Backtest) -> list[tuple]:
    rows: list[tuple] = [BACKTEST_HEADER]
    for w in bt.windows:
        rows.append((str(w.start), str(w.end), csv_money(w.realised.total_cost),
                     csv_money(w.hindsight.bill.total_cost), csv_money(w.postpaid.total_cost),
                     csv_money(w.thumb.total_cost),
                     "" if w.bought is None else csv_money(w.bought.total_cost)))
    return rows


def backtest_view(fmt: str, bt: Backtest, history: str, files: dict | None = None,
                  bill_flags: str = ""):
    """`packopt backtest`: the windows side by side, each window's forecast against what
    happened, and how to reproduce every figure with `packopt bill`."""
    if fmt == "json":
        return backtest_dict(bt, history, files)
    if fmt == "csv":
        return backtest_rows(bt)
    n = len(bt.windows)
    rows, total = backtest_cells(bt)
    c = bt.windows[0].realised.currency
    parts = [f"packopt backtest: {history} ({bt.history_start}..{bt.history_end}), "
             f"{n} window{'s' if n != 1 else ''} of 12 months, each forecast from the "
             f"months before it only · money in {c}",
             table(backtest_columns(bt), rows, total=total, right_from=2,
                   title="Each window billed on what actually happened"),
             "Realised: packopt's plan, made from the forecast (low/base/high, expected "
             "cost), billed on the actual usage. Hindsight optimum: the plan optimal for the "
             "actual usage. Rule of thumb: the cheapest packs covering the 12 months before "
             "the window (after the free quota), bought at its start. Above hindsight: what "
             "not knowing the future cost."]
    for w in bt.windows:
        parts += ["", table(ACCURACY_COLUMNS, accuracy_cells(w), right_from=2,
                            title=f"{w.start}..{w.end}: forecast against actual")]
    parts += [""] + reproduce_lines(bt, files, bill_flags)
    return parts


def reproduce_lines(bt: Backtest, files: dict | None, bill_flags: str = "") -> list:
    if not files:
        return ["Every figure is `packopt bill` of a plan on the window's actual usage: add "
                "--output-dir DIR to write each window's usage and plans as CSV files."]
    flags = f" {bill_flags}" if bill_flags else ""
    q = shlex.quote        # (commands to paste: a folder "b t" was two words)
    out = ["Reproduce each figure with packopt bill:"]
    for w in bt.windows:
        f = files[str(w.start)]
        out.append(f"  {w.start}..{w.end}:")
        for name in ("plan", "hindsight", "rule_of_thumb"):
            out.append(f"    packopt bill {q(str(f['actual']))} --plan {q(str(f[name]))}{flags}")
        out.append(f"    packopt bill {q(str(f['actual']))}{flags}      # pure postpaid")
        if "bought" in f:
            out.append(f"    packopt bill {q(str(f['actual']))} --plan {q(str(f['bought']))} "
                       f"--holdings {q(str(f['held']))}{flags}")
    return out


def write_window_files(directory: str | Path, bt: Backtest, catalog) -> dict[str, dict]:
    """Write each window's actual usage, forecast and plans (and the real purchases and
    holdings) as CSV files in `directory`; window start -> name -> path."""
    from ..analysis.backtest import window_files

    d = Path(directory)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot make the directory ({e.strerror or e})",
                         source=str(directory)) from None
    out: dict[str, dict] = {}
    for w in bt.windows:
        paths = {}
        for name, content in window_files(w).items():
            path = d / f"{w.start}-{FILE_NAMES[name]}"
            rows = (forecast_rows(content) if isinstance(content, Forecast) else
                    plan_file_rows(content, catalog) if isinstance(content, Plan) else
                    holding_rows(content))
            write_csv(path, rows)
            paths[name] = str(path)
        out[str(w.start)] = paths
    return out


def write_forecast_files(result: ForecastResult, output: str | None = None,
                         scenarios: str | None = None, *, bom: bool = False) -> None:
    """`forecast --output FILE` (the P50 forecast) and `--scenarios FILE` (low/base/high),
    both or neither; with `bom` (--excel-bom) each starts with a UTF-8 byte-order mark."""
    from .files import write_together

    def csv_file(rows):
        def write(path):
            Path(path).write_text(("\ufeff" if bom else "") + to_csv(rows), encoding="utf-8")
        return write
    write_together([(path, csv_file(rows), "file") for path, rows in (
        (output, forecast_rows(result.base) if output else None),
        (scenarios, scenario_rows(result) if scenarios else None)) if path])
