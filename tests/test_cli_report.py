"""`--report FILE.html|FILE.pdf` and `--chart FILE.png`: the report rendered in a real
headless browser, its screenshots at 24 and 60 months, the PDF's text, the chart files.

The browser is Debian's chromium. Without it the browser tests are SKIPPED, with the reason
and how to run them (`apt-get install chromium`, or `bash .ci/run`); in CI (the variable CI
set, as `.ci/run` has it) they FAIL instead, so the browser check cannot silently not run.
Screenshots go to $PACKOPT_SCREENSHOTS when set (to look at them), else a temporary folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from test_cli import (DATA, G6_FORECAST, G6_PLAN, ID_YEAR, WIDE, assert_input_error, ok,
                      run, write)

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--hide-scrollbars"]
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
PNG = b"\x89PNG\r\n\x1a\n"


def required(what: str, how: str):
    """Skip (with how to run it) on a developer's machine; fail in CI."""
    message = f"{what} is not available: {how}"
    if IN_CI:
        pytest.fail(message + " (CI must run this check)")
    pytest.skip(message)


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        required("chromium", "the HTML report is checked in a real headless browser; "
                 "install it with `apt-get install chromium` (or run `bash .ci/run`, which "
                 "does) to run this test")
    return path


def browse(html_path: Path, *extra: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                               *extra, html_path.resolve().as_uri()],
                              capture_output=True, text=True, timeout=120)


def screenshot(html_path: Path, out: Path, size="1280,2400") -> Path:
    proc = browse(html_path, f"--screenshot={out}", f"--window-size={size}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out.read_bytes()[:8] == PNG
    return out


def shots_dir(tmp_path) -> Path:
    where = os.environ.get("PACKOPT_SCREENSHOTS")
    if not where:
        return tmp_path
    Path(where).mkdir(parents=True, exist_ok=True)
    return Path(where)


class Figures(HTMLParser):
    """Collects data-field/data-value pairs, their text, and the purchase rows."""

    VOID = ("br", "meta", "circle", "line", "rect", "path", "use")

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
        if tag in self.VOID:
            return
        field = a.get("data-field")
        self._open.append((field, a.get("data-value")))
        if field:
            self._text[field] = ""

    def handle_startendtag(self, tag, attrs):
        pass                                      # <path .../> and friends: nothing inside

    def handle_endtag(self, tag):
        if tag in self.VOID or not self._open:
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


def assert_self_contained(html: str) -> None:
    """No scripts, and no reference that leaves the page: only '#id' links inside the
    inline SVG (matplotlib's glyphs and clip paths)."""
    assert "<script" not in html.lower()
    refs = re.findall(r"\b(?:src|href)\s*=\s*\"([^\"]*)\"", html, re.I)
    assert refs and all(r.startswith("#") for r in refs), [r for r in refs
                                                          if not r.startswith("#")][:5]
    assert all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", html))
    assert "@import" not in html
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}   # namespaces only
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "ids must be unique across the inline charts"


# --------------------------------------------------------------------------- the page

def test_html_report_renders_in_chromium_with_the_json_figures(tmp_path):
    report = tmp_path / "plan.html"
    result = ok("plan", "--report", report, "--format", "json")
    data = json.loads(result.stdout)
    html = report.read_text("utf-8")
    assert_self_contained(html)

    proc = browse(report, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert dom.count('<svg') >= 2 and "Pack balance against demand" in dom
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

    shot = screenshot(report, shots_dir(tmp_path) / "report_12.png", "1100,2000")
    assert shot.stat().st_size > 30_000           # a real page, not a blank one


def test_report_explains_itself(tmp_path):
    """Title in words, date, catalog and assumptions, the saving first (issue: a planner
    pastes it into a budget request as it is)."""
    report = tmp_path / "r.html"
    ok("plan", ID_YEAR, "--report", report)
    html = report.read_text("utf-8")
    assert_self_contained(html)
    assert "<h1>Purchase plan for id_card_year.csv, 2027-01 – 2027-12</h1>" in html
    assert re.search(r"Made on \d{4}-\d\d-\d\d by packopt", html)
    lead = html.index('class="lead"')
    assert lead < html.index("<h2>")               # the saving comes before any section
    assert "Buying these packs saves <b>13,800.00 CNY</b>" in html[lead:lead + 300]
    assert "built-in seed catalog" in html
    assert "all calls of the month (free and pack-covered calls included) set its tier" in html
    assert "priced at the last published rate (0.06 per call). No month reaches it" in html
    assert "valued at zero in the total cost" in html
    assert "12,000 prepaid calls expire unused" in html
    # the seller's per-pack notices stay in the month table, worded as packs, not dates
    assert "100,000 × 3 (bought 2027-01) below 15%" in html


def test_report_names_the_comparison_that_reaches_the_unpublished_rate(tmp_path):
    """The plan's packs keep its postpaid below the top tier, but pure postpaid passes it:
    the report's warning said the saving rests on the unpublished rate while its words on
    prices said "No month reaches it"."""
    f = tmp_path / "big.csv"
    f.write_text("product,month,calls\nlicense_plate,2027-01,1500000\n"
                 "license_plate,2027-02,200000\n")
    report = tmp_path / "r.html"
    ok("plan", f, "--report", report)
    html = report.read_text("utf-8")
    assert "No month reaches it" not in html
    assert ("Reached by pure postpaid for license_plate, the comparison the saving is "
            "measured against") in html


def test_report_states_the_negotiated_rates_its_figures_rest_on(tmp_path):
    """`--negotiated-rate license_plate=0.04` priced 59,960.00 CNY of the bill, and the
    report's prices and assumptions never said so."""
    f = tmp_path / "big2.csv"
    f.write_text("product,month,calls\nlicense_plate,2027-01,1500000\n"
                 "id_card,2027-01,2000000\n")
    report = tmp_path / "r.html"
    ok("bill", f, "--negotiated-rate", "license_plate=0.04", "--report", report)
    html = report.read_text("utf-8")
    assert "priced at the negotiated rate per call given (--negotiated-rate): license_plate " \
        "0.04" in html
    ok("bill", f, "--negotiated-rate", "license_plate=0.04", "--negotiated-rate",
       "id_card=0.03", "--report", report)
    assert "every tier reached has a price (published or negotiated); above its top " \
        "published tier, volume is priced at the negotiated rate per call given " \
        "(--negotiated-rate): id_card 0.03, license_plate 0.04" in report.read_text("utf-8")


def test_report_of_long_horizons_in_the_browser(tmp_path):
    """24 and 60 months: the pages render, their month axes are thinned (checked on the
    figures in test_charts.py); screenshots to look at."""
    out = shots_dir(tmp_path)
    for name, forecast in (("24", DATA / "grow24.csv"), ("60", DATA / "season60.csv")):
        report = tmp_path / f"r{name}.html"
        ok("plan", forecast, "--purchase-months", "any", "--report", report,
           "--chart", out / f"chart_{name}.png", "-q")
        html = report.read_text("utf-8")
        assert_self_contained(html)
        assert html.count('class="chart"') == 1 + html.count("<h3>")
        shot = screenshot(report, out / f"report_{name}.png")
        assert shot.stat().st_size > 50_000
        assert (out / f"chart_{name}.png").read_bytes()[:8] == PNG


def test_chinese_names_render_in_the_browser(tmp_path):
    """The report's font stack finds glyphs for the catalog's Chinese names: drawn one to a
    box, the five characters of 身份证识别 give five different pictures (a missing font
    gives the same empty box five times)."""
    from PIL import Image, ImageChops

    from optimizer.output.html import CSS

    chromium()
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    if not fonts.stdout.strip():
        required("a font with Chinese glyphs", "install one with `apt-get install "
                 "fonts-noto-cjk` (or run `bash .ci/run`, which does) to run this test")
    family = re.search(r"font-family: ([^;]+);", CSS).group(1)
    boxes = "".join(f'<span style="display:inline-block;width:80px;height:80px">{c}</span>'
                    for c in "身份证识别")
    page = write(tmp_path, "glyphs.html",
                 f'<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
                 f'<body style="margin:0;background:#fff"><div style="font-family:{family};'
                 f'font-size:56px;line-height:80px;white-space:nowrap">{boxes}</div></body>'
                 f'</html>')
    shot = screenshot(Path(page), tmp_path / "glyphs.png", "400,80")
    image = Image.open(shot).convert("L")
    cells = [image.crop((80 * k, 0, 80 * k + 80, 80)) for k in range(5)]
    for cell in cells:                                    # each box has ink in it
        assert cell.getextrema()[0] < 128
    for a in range(5):
        for b in range(a + 1, 5):
            assert ImageChops.difference(cells[a], cells[b]).getbbox() is not None, (
                "identical glyph boxes: no font with Chinese glyphs (apt-get install "
                "fonts-noto-cjk; .ci/run does)")


# --------------------------------------------------------------------------- PDF

def pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def test_pdf_report_is_a_real_pdf_with_the_total(tmp_path):
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as e:
        required("WeasyPrint", f"{e}; `pip install -e .` installs it (it needs the Pango "
                               f"library: apt-get install libpango-1.0-0)")
    report = tmp_path / "plan.pdf"
    data = json.loads(ok("plan", ID_YEAR, "--report", report, "--format", "json").stdout)
    assert report.read_bytes()[:5] == b"%PDF-"
    text = pdf_text(report)
    assert money_text(data["total_cost"]) in text            # 15,000.00
    assert "Purchase plan for id_card_year.csv" in text
    bill_pdf = tmp_path / "bill.pdf"
    ok("bill", G6_FORECAST, "--plan", G6_PLAN, "--report", bill_pdf)
    assert "195.00" in pdf_text(bill_pdf)


@pytest.mark.parametrize("name, says", [
    ("r.docx", r"--report: unknown extension '\.docx' in '.*r\.docx'; use \.htm, \.html or "
               r"\.pdf"),
    ("report", r"--report: no extension in '.*report'; use \.htm, \.html or \.pdf"),
])
def test_report_extension_must_be_known(tmp_path, name, says):
    result = run("plan", ID_YEAR, "--report", tmp_path / name)
    assert_input_error(result, name, says=says)
    assert not (tmp_path / name).exists()


def test_chart_extension_must_be_known(tmp_path):
    assert_input_error(run("bill", G6_FORECAST, "--chart", tmp_path / "c.jpg"), "c.jpg",
                       says=r"--chart: unknown extension '\.jpg'.*use \.png or \.svg")
    ok("bill", G6_FORECAST, "--plan", G6_PLAN, "--chart", tmp_path / "c.svg")
    assert (tmp_path / "c.svg").read_text("utf-8").lstrip().startswith("<?xml")


# --------------------------------------------------------------------------- other reports

def test_bill_report_and_cashflow(tmp_path):
    report = tmp_path / "bill.html"
    data = json.loads(ok("bill", G6_FORECAST, "--plan", G6_PLAN, "--report", report,
                         "--format", "json", "--cashflow").stdout)
    html = report.read_text("utf-8")
    assert "<h1>Bill of golden6_plan.csv against golden6_forecast.csv, 2027-01</h1>" in html
    assert "<h2>Packs bought</h2>" in html and "<h2>Cash flow</h2>" in html
    assert f'data-field="total_cost" data-value="{data["total_cost"]:.2f}"' in html
    assert f'data-field="peak_frozen" data-value="{data["cashflow"]["peak_frozen"]:.2f}"' in html
    assert "Peak frozen 90.00 CNY in 2027-02; largest outflow 120.00 CNY in 2027-01" in html


def test_bill_compare_report(tmp_path):
    report = tmp_path / "bill.html"
    ok("bill", ID_YEAR, "--plan", DATA / "id_card_plan.csv", "--compare", "--report", report)
    html = report.read_text("utf-8")
    assert "<h2>Beside the optimal plan</h2>" in html
    assert "equals the optimal plan&#x27;s (15,000.00 CNY" in html


def test_report_shows_scenarios_and_budget(tmp_path):
    report = tmp_path / "r.html"
    ok("plan", WIDE, "--budget", "1000", "--scenarios", str(DATA / "scenarios_scale.csv"),
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
    assert data[:8] == PNG and len(data) > 50_000
    one = tmp_path / "bill.png"
    ok("bill", G6_FORECAST, "--plan", G6_PLAN, "--chart", one)
    assert one.read_bytes()[:8] == PNG
    none = tmp_path / "none.png"                  # nothing bought: still a (labelled) picture
    ok("bill", G6_FORECAST, "--chart", none)
    assert none.stat().st_size > 1000
