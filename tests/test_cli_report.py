"""`--report FILE.html` rendered in a real headless browser, and `--chart FILE.png`.

The browser is Debian's chromium. It is required: without it this test FAILS (CI installs
it in .ci/run; locally `apt-get install chromium`). The page must render (a screenshot of
real size) and the figures in the rendered DOM must equal those of the JSON output.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from test_cli import G6_FORECAST, G6_PLAN, ID_YEAR, WIDE, assert_input_error, ok, run

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is not installed: the HTML report must be checked in a real "
                    "browser (apt-get install -y chromium; .ci/run does it)")
    return path


def browse(html_path: Path, *extra: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                               *extra, html_path.resolve().as_uri()],
                              capture_output=True, text=True, timeout=60)


class Figures(HTMLParser):
    """Collects data-field/data-value pairs, their text, and the purchase rows."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, tuple[str, str]] = {}
        self.purchases: list[dict[str, str]] = []
        self._open: list[tuple[str | None, str | None]] = []
        self._text: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("class") == "purchase":
            self.purchases.append({k[5:]: v for k, v in a.items() if k.startswith("data-")})
        if tag in ("br", "meta", "circle", "line", "rect", "path"):
            return
        field = a.get("data-field")
        self._open.append((field, a.get("data-value")))
        if field:
            self._text[field] = ""

    def handle_endtag(self, tag):
        if tag in ("br", "meta", "circle", "line", "rect", "path") or not self._open:
            return
        field, value = self._open.pop()
        if field and field not in self.fields:
            self.fields[field] = (value, self._text[field].strip())

    def handle_data(self, data):
        for field, _ in self._open:
            if field:
                self._text[field] += data


def money_text(x: float) -> str:
    return f"{x:,.2f}"


def test_html_report_renders_in_chromium_with_the_json_figures(tmp_path):
    report = tmp_path / "plan.html"
    result = ok("plan", "--report", report, "--format", "json")
    data = json.loads(result.stdout)
    html = report.read_text("utf-8")

    # self-contained: no scripts, no external references of any kind
    assert "<script" not in html.lower()
    assert not re.search(r"\b(src|href)\s*=", html, re.I)
    assert "url(" not in html and "@import" not in html
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}

    proc = browse(report, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert "<svg" in dom and "Pack balance against demand" in dom
    page = Figures()
    page.feed(dom)
    for field in ("total_cost", "savings", "pack_cost", "postpaid_cost", "postpaid_only_cost"):
        value, text = page.fields[field]
        assert float(value) == data[field], field
        assert text == money_text(data[field]), field
    assert page.fields["savings_pct"][1] == f"{data['savings_pct']:.1f}%"
    want = [{"product": p["product"], "month": b["month"], "size": str(b["size"]),
             "count": str(b["count"]), "cost": f"{b['cost']:.2f}"}
            for p in data["products"] for b in p["purchases"]]
    assert page.purchases == want
    for p in data["products"]:                 # every purchase shows its cost as a table cell
        for b in p["purchases"]:
            assert money_text(b["cost"]) in dom

    shot = tmp_path / "plan.png"
    proc = browse(report, f"--screenshot={shot}", "--window-size=1100,2000")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 30_000           # a real page, not a blank one


def test_bill_report_and_cashflow(tmp_path):
    report = tmp_path / "bill.html"
    data = json.loads(ok("bill", G6_FORECAST, "--plan", G6_PLAN, "--report", report,
                         "--format", "json", "--cashflow").stdout)
    html = report.read_text("utf-8")
    assert "<h2>Packs bought</h2>" in html and "<h2>Cash flow</h2>" in html
    assert f'data-field="total_cost" data-value="{data["total_cost"]:.2f}"' in html
    assert f'data-field="peak_frozen" data-value="{data["cashflow"]["peak_frozen"]:.2f}"' in html
    assert "Peak frozen 90.00 CNY in 2027-02; largest outflow 120.00 CNY in 2027-01" in html


def test_report_shows_scenarios_and_budget(tmp_path):
    report = tmp_path / "r.html"
    ok("plan", WIDE, "--budget", "1000", "--scenarios", str(Path(__file__).parent / "data" /
                                                           "scenarios_scale.csv"),
       "--report", report)
    html = report.read_text("utf-8")
    assert "<h2>Scenarios</h2>" in html and "<h2>Budget</h2>" in html
    assert "Prepaid cap 1,000.00 CNY (--budget)" in html


def test_report_and_chart_files_that_cannot_be_written(tmp_path):
    missing = tmp_path / "no" / "such" / "dir"
    assert_input_error(run("plan", ID_YEAR, "--report", missing / "r.html"), "r.html",
                       says="cannot write the HTML report")
    assert_input_error(run("plan", ID_YEAR, "--chart", missing / "c.png"), "c.png",
                       says="cannot write the chart")


def test_chart_png(tmp_path):
    chart = tmp_path / "plan.png"
    result = ok("plan", "--chart", chart, "-q")
    assert result.stderr == ""
    data = chart.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    one = tmp_path / "bill.png"
    ok("bill", G6_FORECAST, "--plan", G6_PLAN, "--chart", one)
    assert one.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    none = tmp_path / "none.png"                  # nothing bought: still a (labelled) picture
    ok("bill", G6_FORECAST, "--chart", none)
    assert none.stat().st_size > 1000
