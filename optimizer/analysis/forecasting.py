"""Forecasts from usage history: four methods, chosen per product by a rolling-origin
backtest, with a P10-P90 band from the backtest's own errors (docs/cli.md, 'forecast').

Methods (each a function of the product's fitted months `y` and the months ahead):

- `seasonal-naive`: last year's same month times the year-on-year growth (the last 12
  months' calls over the 12 before them, kept within ×0.25..×4); needs 24 months;
- `median`: the median of the last 6 months, flat;
- `trend`: a least-squares line through the last 24 months (or all, if fewer);
- `ets`: exponential smoothing (statsmodels' Holt-Winters: additive damped trend, and an
  additive 12-month season from 24 months on; heuristic initial states and a local
  optimiser, deterministic and ~40 ms a fit); statsmodels is imported only here.

A product's months before its first usage are "not launched yet" and are not fitted; its
partial first/last months (as the history reader flags them) are left out of the fit.
Fewer than 24 fitted months: no seasonal model (a note says so).

`auto` backtests every method that applies from the same rolling origins (at most 6, 3
months apart, the most recent last; each forecasts up to 12 months ahead from the months
before the origin only; the earliest has 12 training months for a product with 24 months or
more, else 10, or 4 for a series of fewer than 13 months, which ETS is not tried on) and
keeps the lowest MASE (then MAPE, then the simpler method).
MAPE is the mean of |actual - forecast| / actual over the backtest months whose actual is
not 0 (months of 0 calls are left out: the percentage is undefined there); MASE is the mean
|actual - forecast| divided by the mean absolute month-to-month change of the training
months (the one-step naive forecast's in-sample error), undefined when that is 0.

The band: the 10th and 90th percentiles of actual / forecast over the chosen method's
backtest months (linear interpolation; at least 8 of them, else ×0.75..×1.25 with a note)
multiply the point forecast, which is P50. No random numbers are drawn: the same history
gives the same forecast. Calls are rounded half up to whole calls, never below 0.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from ..domain.months import Month, months_text
from ..domain.records import MAX_CALLS, Forecast, Scenario
from ..exceptions import InputError

METHODS = ("median", "seasonal-naive", "trend", "ets")   # simplest first: the tie-break
CHOICES = ("auto", *METHODS)
SEASON = 12                # months in a season (a year)
MIN_SEASONAL = 24          # fitted months before a seasonal model is used
MEDIAN_WINDOW = 6          # months the trailing median looks at
TREND_WINDOW = 24          # months the linear trend is fitted to
MIN_ETS = 10               # training months before exponential smoothing is tried
MIN_TRAIN = 4              # training months of the earliest backtest origin otherwise
MAX_ORIGINS = 6            # rolling origins of the backtest
ORIGIN_STEP = 3            # months between two origins
LEAD = 12                  # months ahead each origin forecasts (at most)
GROWTH_LIMITS = (0.25, 4.0)
MIN_BAND_ERRORS = 8        # backtest months needed for an empirical band
DEFAULT_BAND = (0.75, 1.25)
QUANTILES = (0.1, 0.9)     # the band: P10 and P90 (the point forecast is P50)
# P10/P50/P90 as three scenarios with Swanson's weights 0.3/0.4/0.3, the usual discrete
# stand-in for a distribution given by those percentiles (its mean is close to the
# distribution's for a normal or mildly skewed one).
SCENARIO_WEIGHTS = (("low", Decimal("0.3")), ("base", Decimal("0.4")),
                    ("high", Decimal("0.3")))
MAX_MONTHS = 120


@dataclass(frozen=True)
class Score:
    """One method's rolling-origin backtest on one product."""

    method: str
    mape: float | None         # percent; None when every backtest month had 0 calls
    mase: float | None         # None when the training months never changed
    months: int                # backtest months compared (origins × months ahead)
    zero_months: int           # of those, months of 0 calls (left out of MAPE)
    ratios: tuple[float, ...]  # actual / forecast where the forecast is > 0 (the band)


@dataclass(frozen=True)
class ProductForecast:
    """One product's forecast: the method used, its backtest error and the band."""

    product: str
    method: str                # one of METHODS, or "none" (no usage in the history)
    mape: float | None
    mase: float | None
    backtest_months: int
    fitted_months: int         # history months the model was fitted to
    band: tuple[float, float]  # the multipliers of P50 that give P10 and P90
    p10: tuple[int, ...]
    p50: tuple[int, ...]
    p90: tuple[int, ...]
    candidates: tuple[Score, ...] = ()   # every method backtested (auto)


@dataclass(frozen=True)
class ForecastResult:
    """Forecasts of every product of a history: P10, P50 (base) and P90 as forecasts."""

    history_start: Month
    history_end: Month
    method: str                # as asked: "auto" or one method for every product
    low: Forecast
    base: Forecast
    high: Forecast
    products: tuple[ProductForecast, ...]
    notes: tuple[str, ...]

    def scenarios(self) -> tuple[Scenario, ...]:
        """low/base/high (P10/P50/P90) with the weights of SCENARIO_WEIGHTS."""
        return tuple(Scenario(name, w, f) for (name, w), f in
                     zip(SCENARIO_WEIGHTS, (self.low, self.base, self.high)))

    def product(self, pid: str) -> ProductForecast:
        return next(p for p in self.products if p.product == pid)


class _Unfit(Exception):
    """A method could not be fitted to a series (too short, or statsmodels failed)."""


# --------------------------------------------------------------------------- the methods

def _seasonal_naive(y: np.ndarray, steps: int) -> np.ndarray:
    """Last year's month times the growth; without growth (×1) from 12 to 23 months (only
    backtest origins of a product with 24 months or more are that short)."""
    if len(y) < SEASON:
        raise _Unfit
    last, before = y[-SEASON:].sum(), y[-2 * SEASON:-SEASON].sum()
    g = (min(max(last / before, GROWTH_LIMITS[0]), GROWTH_LIMITS[1])
         if len(y) >= 2 * SEASON and before > 0 else 1.0)
    n = len(y)
    return np.array([y[n - SEASON + k % SEASON] * g ** (k // SEASON + 1)
                     for k in range(steps)], dtype=float)


def _median(y: np.ndarray, steps: int) -> np.ndarray:
    return np.full(steps, float(np.median(y[-MEDIAN_WINDOW:])))


def _trend(y: np.ndarray, steps: int) -> np.ndarray:
    w = y[-TREND_WINDOW:]
    if len(w) < 2:
        return np.full(steps, float(w[-1]))
    t = np.arange(len(w), dtype=float)
    slope, intercept = np.polyfit(t, w, 1)
    return intercept + slope * np.arange(len(w), len(w) + steps, dtype=float)


def _ets(y: np.ndarray, steps: int) -> np.ndarray:
    if len(y) < MIN_ETS:
        raise _Unfit
    if np.ptp(y) == 0:              # a constant series: the smoother's answer, without it
        return np.full(steps, float(y[-1]))
    seasonal = len(y) >= MIN_SEASONAL
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")      # convergence notes; pandas' deprecations
        from statsmodels.tsa.holtwinters import ExponentialSmoothing   # only on this path

        model = ExponentialSmoothing(y, trend="add", damped_trend=True,
                                     seasonal="add" if seasonal else None,
                                     seasonal_periods=SEASON if seasonal else None,
                                     initialization_method="heuristic")
        out = np.asarray(model.fit(use_brute=False).forecast(steps), dtype=float)
    if not np.all(np.isfinite(out)):
        raise _Unfit
    return out


_FIT = {"seasonal-naive": _seasonal_naive, "median": _median, "trend": _trend, "ets": _ets}


def point_forecast(method: str, y, steps: int) -> np.ndarray:
    """`method`'s forecast of the `steps` months after the series `y` (floats)."""
    return _FIT[method](np.asarray(y, dtype=float), steps)


def whole_calls(x: float) -> int:
    """A forecast value as whole calls: rounded half up, never below 0."""
    return int(math.floor(x + 0.5)) if math.isfinite(x) and x > 0 else 0


# --------------------------------------------------------------------------- backtest

def origins(n: int, min_train: int) -> list[int]:
    """The rolling origins for a series of `n` months: the index of each backtest's first
    forecast month (its training months are all before it), oldest first."""
    return sorted(range(n - 1, min_train - 1, -ORIGIN_STEP))[-MAX_ORIGINS:]


def backtest_method(method: str, y, points: list[int], lead: int = LEAD) -> Score | None:
    """`method` forecast from each origin in `points` over up to `lead` months, scored
    against what followed; None if it cannot be fitted from some origin."""
    y = np.asarray(y, dtype=float)
    pct, scaled, ratios, count, zeros = [], [], [], 0, 0
    for o in points:
        train, test = y[:o], y[o:o + lead]
        try:
            f = point_forecast(method, train, len(test))
        except _Unfit:
            return None
        scale = float(np.mean(np.abs(np.diff(train)))) if len(train) > 1 else 0.0
        for a, p in zip(test, f):
            p = float(whole_calls(p))
            count += 1
            if a > 0:
                pct.append(abs(a - p) / a * 100)
            else:
                zeros += 1
            if scale > 0:
                scaled.append(abs(a - p) / scale)
            if p > 0:
                ratios.append(a / p)
    if not count:
        return None
    return Score(method, float(np.mean(pct)) if pct else None,
                 float(np.mean(scaled)) if scaled else None, count, zeros, tuple(ratios))


def _rank(s: Score) -> tuple:
    inf = float("inf")
    return (inf if s.mase is None else round(s.mase, 9), inf if s.mape is None
            else round(s.mape, 9), METHODS.index(s.method))


def _band(score: Score | None) -> tuple[tuple[float, float], bool]:
    """The multipliers (P10, P90) of P50; and whether they came from the backtest."""
    if score is None or len(score.ratios) < MIN_BAND_ERRORS:
        return DEFAULT_BAND, False
    lo, hi = np.quantile(np.array(score.ratios), QUANTILES)
    return (min(max(float(lo), 0.0), 1.0), max(float(hi), 1.0)), True


# --------------------------------------------------------------------------- per product

def _fitted_span(calls, partial_idx: set[int]) -> tuple[int, int] | None:
    """[lo, hi) of the months to fit: from the first month with calls (earlier months are
    before launch), without partial months at either end, unless no other month has calls
    (then every month from the first with calls: a forecast of 0 would be no reading of
    them); None with no usage at all."""
    first = next((i for i, c in enumerate(calls) if c > 0), None)
    if first is None:
        return None
    lo, hi = first, len(calls)
    while lo < hi and lo in partial_idx:
        lo += 1
    while hi > lo and hi - 1 in partial_idx:
        hi -= 1
    return (lo, hi) if hi > lo else (first, len(calls))


def _min_train(method: str, n: int) -> int:
    """Training months of the earliest backtest origin for `method` on `n` months: a
    year for the seasonal models (a product with 24 months or more; ETS is fitted without
    its season, seasonal-naive without growth, at origins before 24), else 10 for ETS when
    the series leaves room, else 4."""
    if n >= MIN_SEASONAL and method in ("seasonal-naive", "ets"):
        return SEASON
    if method == "ets" and n >= MIN_ETS + ORIGIN_STEP:
        return MIN_ETS
    return MIN_TRAIN


def _choose(method: str, y: np.ndarray, lead: int, pid: str, notes: list[str]
            ) -> tuple[str, Score | None, tuple[Score, ...]]:
    """The method for one product's fitted months `y`, its backtest score and (auto) the
    scores of every method tried."""
    n = len(y)
    if method == "auto":
        seasonal = n >= MIN_SEASONAL
        min_train = _min_train("seasonal-naive" if seasonal else "ets", n)
        tried = [m for m in METHODS if (m != "seasonal-naive" or seasonal)
                 and (m != "ets" or min_train >= MIN_ETS)]
        points = origins(n, min_train)
        scores = tuple(s for s in (backtest_method(m, y, points, lead) for m in tried)
                       if s is not None)
        if not scores:
            notes.append(f"{pid}: {months_text(n)} of history: too few to "
                         f"backtest; the trailing median is used")
            return "median", None, ()
        best = min(scores, key=_rank)
        return best.method, best, scores
    chosen = method
    if method == "seasonal-naive" and n < MIN_SEASONAL:
        chosen = "median"
        notes.append(f"{pid}: seasonal-naive needs 24 months of history, it has {n}; the "
                     f"trailing median is used instead")
    elif method == "ets" and n < MIN_ETS:
        chosen = "median"
        notes.append(f"{pid}: ets needs {MIN_ETS} months of history, it has {n}; the "
                     f"trailing median is used instead")
    min_train = _min_train(chosen, n)
    score = backtest_method(chosen, y, origins(n, min_train), lead)
    return chosen, score, ()


def _forecast_product(pid: str, calls, start: Month, partial_idx: set[int], months: int,
                      method: str, notes: list[str]) -> ProductForecast:
    span = _fitted_span(calls, partial_idx)
    if span is None:
        notes.append(f"{pid}: no usage in the history; forecast 0")
        zeros = (0,) * months
        return ProductForecast(pid, "none", None, None, 0, 0, (1.0, 1.0), zeros, zeros,
                               zeros)
    lo, hi = span
    y = np.asarray(calls[lo:hi], dtype=float)
    if all(i in partial_idx for i in range(lo, hi)):
        notes.append(f"{pid}: every month with usage is partial "
                     f"({', '.join(str(start + i) for i in range(lo, hi))}); fitted to them as "
                     f"they are, which understates whole months")
    elif lo > 0 and all(c == 0 for c in calls[:lo]):
        notes.append(f"{pid}: no calls before {start + lo} (not launched yet); fitted to "
                     f"its {months_text(hi - lo)} from then")
    elif lo > 0:
        notes.append(f"{pid}: partial first month left out of the fit")
    if hi < len(calls):
        notes.append(f"{pid}: partial last month left out of the fit")
    if len(y) < MIN_SEASONAL and method in ("auto", "ets"):
        notes.append(f"{pid}: {len(y)} month{'s' if len(y) != 1 else ''} of history "
                     f"(fewer than 24): no seasonal model")
    chosen, score, tried = _choose(method, y, min(months, LEAD), pid, notes)
    band, measured = _band(score)
    if not measured:
        notes.append(f"{pid}: fewer than {MIN_BAND_ERRORS} backtest months; band "
                     f"×{band[0]}..×{band[1]} of the forecast")
    ahead = len(calls) - hi + months          # the fit ends before any partial last month
    try:
        point = point_forecast(chosen, y, ahead)[-months:]
    except _Unfit:                            # statsmodels failed on the full series
        notes.append(f"{pid}: {chosen} could not be fitted; the trailing median is used")
        chosen, point = "median", point_forecast("median", y, ahead)[-months:]
    levels = [[whole_calls(v * b) for v in point] for b in (band[0], 1.0, band[1])]
    if max(levels[2]) > MAX_CALLS:
        # (a history near the bound: its forecast, or the band above it, passed it and
        # was refused as if a cell of the file were too large)
        which = "forecast" if max(levels[1]) > MAX_CALLS else "P90 band"
        notes.append(f"{pid}: the {which} passes 10^15 calls a month, the most packopt "
                     f"takes, and is held at 10^15")
        levels = [[min(v, MAX_CALLS) for v in level] for level in levels]
    p10, p50, p90 = (tuple(level) for level in levels)
    return ProductForecast(
        pid, chosen, score.mape if score else None, score.mase if score else None,
        score.months if score else 0, len(y), band, p10, p50, p90, tried)


def forecast_usage(usage: Forecast, months: int, *, method: str = "auto",
                   partial: tuple[tuple[str, Month], ...] = ()) -> ForecastResult:
    """Forecast the `months` months after the history `usage` (a Forecast over past months),
    per product by `method` ("auto": chosen by backtest). `partial` lists the (product,
    month) pairs whose month is incomplete: they are not fitted."""
    if method not in CHOICES:
        raise InputError(f"--method must be one of {', '.join(CHOICES)}, not '{method}'",
                         field="method")
    if type(months) is not int or not 1 <= months <= MAX_MONTHS:
        raise InputError(f"--months must be a whole number of months from 1 to {MAX_MONTHS}, "
                         f"not {months}", field="months")
    room = Month.of(9999, 12) - usage.end
    if months > room:
        # The history's last month is at fault more often than the months asked for (a
        # year typed 9999), so the message names the history and what it allows; in words
        # that fit `forecast --months` and `plan --history --horizon` alike.
        allows = (f"at most {room} month{'s' if room > 1 else ''} can follow it" if room
                  else "no month follows it (a mistyped year?)")
        raise InputError(f"the history ends in {usage.end}, and {months_text(months)} after "
                         f"it {'runs' if months == 1 else 'run'} past 9999-12, the last month "
                         f"packopt reads: {allows}",
                         source=usage.source)
    notes: list[str] = []
    products = []
    for pid, calls in usage.demand:
        idx = {usage.index(m) for p, m in partial if p == pid}
        products.append(_forecast_product(pid, calls, usage.start, idx, months, method,
                                          notes))
    start = usage.end + 1
    src = f"forecast from {usage.source}"

    def series(attr):
        return Forecast(start, months, tuple((p.product, getattr(p, attr))
                                             for p in products), src)

    return ForecastResult(usage.start, usage.end, method, series("p10"), series("p50"),
                          series("p90"), tuple(products), tuple(notes))


def forecast_history(history, months: int, *, method: str = "auto") -> ForecastResult:
    """`forecast_usage` of a `History` (io/history.py): its usage and partial months."""
    return forecast_usage(history.usage, months, method=method, partial=history.partial)


def history_before(usage: Forecast, month: Month) -> Forecast:
    """The history `usage` up to (not including) `month`: what was known before it."""
    n = month - usage.start
    if n < 1:
        raise InputError(f"no history before {month}", source=usage.source, field="month")
    return Forecast(usage.start, n, tuple((pid, calls[:n]) for pid, calls in usage.demand),
                    usage.source)
