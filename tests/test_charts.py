"""The pictures (optimizer/output/chart.py), drawn once with matplotlib for the report's
inline SVG and the --chart PNG: no text touches another at 12, 24 and 60 months (measured
with matplotlib's own renderer), month labels are thinned, labels write counts and money as
numbers, and the PNG carries money."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from optimizer import load_catalog, plan, read_forecast
from optimizer.io.forecast import example_forecast
from optimizer.output import chart
from optimizer.output.formats import fmt_money

DATA = Path(__file__).parent / "data"
SEED = load_catalog()


def planned(which: str):
    if which == "12":
        return plan(SEED, example_forecast(SEED)).bill
    path = DATA / ("grow24.csv" if which == "24" else "season60.csv")
    return plan(SEED, read_forecast(path, SEED), purchase_months="any").bill


@pytest.fixture(scope="module", params=["12", "24", "60"])
def bill(request):
    return planned(request.param)


def texts(fig):
    """(text, box) of every text shown, and the optional labels hidden by `settle`."""
    shown = chart.text_boxes(fig)
    hidden = [t for t in fig.findobj(lambda a: getattr(a, chart.OPTIONAL, False))
              if not t.get_visible()]
    return shown, hidden


def assert_apart(fig):
    """No two texts overlap (a pixel of slack), none is hidden, all lie inside the figure."""
    shown, hidden = texts(fig)
    assert hidden == [], [t.get_text() for t in hidden]
    boxes = [(t.get_text(), b) for t, b in shown]
    page = fig.bbox
    for k, (text, a) in enumerate(boxes):
        assert a.x0 >= page.x0 - 1 and a.x1 <= page.x1 + 1, text
        assert a.y0 >= page.y0 - 1 and a.y1 <= page.y1 + 1, text
        for other, b in boxes[k + 1:]:
            assert not (a.x0 < b.x1 - 1 and b.x0 < a.x1 - 1 and
                        a.y0 < b.y1 - 1 and b.y0 < a.y1 - 1), (text, other)
    return [t for t, _ in boxes]


def test_the_png_figure_keeps_its_labels_apart(bill):
    fig = chart.chart_figure(bill, title="Purchase plan for a test, 2027-01 – 2031-12")
    words = assert_apart(fig)
    for pb in bill.products:                      # money on the PNG: every product's cost
        assert any(w.startswith(fmt_money(pb.total_cost)) for w in words), pb.product


def test_each_report_picture_keeps_its_labels_apart(bill):
    assert_apart(chart.cost_figure(bill))
    for pb in bill.products:
        if pb.lots:
            words = assert_apart(chart.month_figure(pb))
            months = [w for w in words if re.fullmatch(r"\d{4}-\d\d", w)]
            assert 3 <= len(months) <= 13, months          # thinned on long horizons
            steps = {int(b[:4]) * 12 + int(b[5:]) - int(a[:4]) * 12 - int(a[5:])
                     for a, b in zip(months, months[1:])}
            assert len(steps) == 1 and steps <= {1, 2, 3, 6, 12}, months


def test_labels_write_calls_as_numbers():
    b = planned("12")
    words = assert_apart(chart.month_figure(b.product("id_card")))
    assert "▲ 300,000 calls bought" in words
    assert "12,000 calls expire" in words
    assert "● below 15%" in words               # the product's balance, not one pack's notice
    assert not any(re.search(r"\d(k|M)\b", w) for w in words)      # no 40.364k


def test_events_are_the_products_not_the_packs():
    """general_print's first pack purchase runs out in 2027-02 while 1.9 M calls remain:
    the seller's notice stays in the month table, the chart marks no event there."""
    from optimizer.output.data import product_events
    pb = planned("12").product("general_print")
    assert pb.months[1].reminders                              # the seller's notice
    events = product_events(pb)
    assert events[1] is None
    assert events.index("low") == 10                           # 231,000 of 2,200,000 left


def test_svg_for_the_page_is_inline_and_unique():
    b = planned("12")
    cost, months = chart.report_svgs(b, 20)
    assert cost.startswith("<svg") and 'class="chart"' in cost and 'role="img"' in cost
    assert "<?xml" not in cost and "<metadata" not in cost
    ids = [i for s in [cost] + [m for _, m in months] for i in re.findall(r'id="([^"]+)"', s)]
    assert len(ids) == len(set(ids))
    for s in [cost] + [m for _, m in months]:
        for ref in re.findall(r'href="#([^"]+)"', s):
            assert f'id="{ref}"' in s                          # every link stays in its chart
