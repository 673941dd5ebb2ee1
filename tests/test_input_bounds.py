"""Numbers past what packopt takes, and other inputs a randomized run of the command line
found crashing (a traceback, exit 1): each is now one error line naming the file, line and
field, exit status 2, nothing on stdout. Counts are at most 10^15, amounts below 10^15."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli import cli

BIG = "1" + "0" * 27                 # 10^27: past Decimal's 28 digits once priced
HUGE = "9" * 4301                    # past Python's 4,300-digit int conversion

CATALOG = """
[[product]]
id = "id_card"
packs = [ {{ calls = {calls}, price = "{price}" }} ]
tiers = [ {{ rate = "0.15" }} ]
"""


def run(tmp_path, files: dict[str, str], *args):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return CliRunner().invoke(cli, [a.replace("@", str(tmp_path) + "/") for a in args])


def forecast(calls="5000") -> str:
    return f"product,month,calls\nid_card,2027-01,{calls}\n"


CASES = {
    "calls past 10^15": ({"f.csv": forecast(BIG)}, ("bill", "@f.csv"),
                         ["f.csv", "line 2", "'calls'", "too large"]),
    "calls of 4,301 digits": ({"f.csv": forecast(HUGE)}, ("plan", "@f.csv"),
                              ["f.csv", "line 2", "'calls'", "4,301 characters"]),
    "a plan's count": ({"f.csv": forecast(), "p.csv": f"product,month,size,count\n"
                        f"id_card,2027-01,10000,{BIG}\n"},
                       ("bill", "@f.csv", "--plan", "@p.csv"),
                       ["p.csv", "line 2", "'count'", "too large"]),
    "a plan JSON's count": ({"f.csv": forecast(), "p.json": '{"products": [{"product": '
                             '"id_card", "purchases": [{"month": "2027-01", "size": 10000, '
                             f'"count": {HUGE}}}]}}]}}'},
                            ("bill", "@f.csv", "--plan", "@p.json"),
                            ["p.json", "count", "at most 10^15"]),
    "a pack price": ({"f.csv": forecast(), "c.toml": CATALOG.format(calls=1000, price="1e400")},
                     ("catalog", "--catalog", "@c.toml"),
                     ["c.toml", "line 4", "price", "too large"]),
    "a pack size": ({"f.csv": forecast(), "c.toml": CATALOG.format(calls=10 ** 20, price="1")},
                    ("plan", "@f.csv", "--catalog", "@c.toml"),
                    ["c.toml", "line 4", "calls", "too large"]),
    "a budget": ({"f.csv": forecast()}, ("plan", "@f.csv", "--budget", BIG),
                 ["--budget", "too large"]),
    "a negotiated rate": ({"f.csv": "product,month,calls\nvat_invoice,2027-01,2000000\n"},
                          ("bill", "@f.csv", "--negotiated-rate", "vat_invoice=1e30"),
                          ["--negotiated-rate", "below 10^15"]),
    "a scenario's scale": ({"f.csv": forecast(), "s.csv": f"scenario,weight,scale\nlow,1,{BIG}\n"},
                           ("plan", "@f.csv", "--scenarios", "@s.csv"),
                           ["s.csv", "line 2", "'scale'", "too large"]),
    "a history's calls": ({"h.csv": "product,month,calls\n" + "".join(
        f"id_card,2026-{m:02d},5000\n" for m in range(1, 12)) + f"id_card,2026-12,{10 ** 400}\n"},
        ("forecast", "@h.csv"), ["h.csv", "line 13", "'calls'", "too large"]),
    "a header past csv's field limit": ({"f.csv": "product,month,calls" + "x" * 131_072 + "\n"
                                         "id_card,2027-01,5\n"}, ("plan", "@f.csv"),
                                        ["f.csv", "line 1", "malformed CSV"]),
    "a forecast past 9999-12": ({"h.csv": "product,month,calls\n" + "".join(
        f"id_card,9999-{m:02d},{5000 + m}\n" for m in range(1, 13))},
        ("forecast", "@h.csv", "--months", "2"),
        ["h.csv: the history ends in 9999-12, and 2 months after it run past 9999-12",
         "no month follows it"]),
    "a forecast past 9999-12 by some months": ({"h.csv": "product,month,calls\n" + "".join(
        f"id_card,9999-{m:02d},{5000 + m}\n" for m in range(1, 11))},
        ("plan", "--history", "@h.csv", "--horizon", "3"),
        ["h.csv: the history ends in 9999-10", "at most 2 months can follow it"]),
    # (Python's parsers raise RecursionError and ValueError past these: a traceback before)
    "a plan JSON nested 1,000 deep": ({"f.csv": forecast(), "p.json": "[" * 1000 + "]" * 1000},
                                      ("bill", "@f.csv", "--plan", "@p.json"),
                                      ["p.json", "line 1", "nested too deeply"]),
    "a catalog nested 500 deep": ({"c.toml": "currency = 'CNY'\nx = " + "[" * 500 + "]" * 500},
                                  ("catalog", "--catalog", "@c.toml"),
                                  ["c.toml", "line 2", "nested too deeply"]),
    "a catalog's number of 5,000 digits": ({"c.toml": "free_calls_per_month = " + "9" * 5000},
                                           ("catalog", "--catalog", "@c.toml"),
                                           ["c.toml", "line 1", "more than 4,300 digits"]),
    "a config nested 500 deep": ({"k.toml": "x = " + "[" * 500 + "]" * 500},
                                 ("--config", "@k.toml", "catalog"),
                                 ["k.toml", "line 1", "nested too deeply"]),
    "a config's number of 5,000 digits": ({"k.toml": "\ntime_limit = " + "9" * 5000},
                                          ("--config", "@k.toml", "catalog"),
                                          ["k.toml", "line 2", "more than 4,300 digits"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_numbers_past_the_bounds_are_one_error_line(tmp_path, name):
    files, args, words = CASES[name]
    r = run(tmp_path, files, *args)
    assert r.exit_code == 2, (r.stdout, r.stderr, r.exception)
    assert r.stdout == ""
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    for w in words:
        assert w in r.stderr, (w, r.stderr)


def test_counts_and_amounts_at_the_bounds_are_taken(tmp_path):
    """10^15 calls in a month and a budget just below 10^15 are still read (billed)."""
    r = run(tmp_path, {"f.csv": forecast(str(10 ** 15))}, "bill", "@f.csv", "--format", "csv")
    assert r.exit_code == 0, r.stderr
    r = run(tmp_path, {"f.csv": forecast()}, "plan", "@f.csv", "--budget", "9" * 15,
            "--format", "csv")
    assert r.exit_code == 0, r.stderr


def test_control_characters_of_a_cell_are_not_echoed(tmp_path):
    r = run(tmp_path, {"f.csv": 'product,month,calls\nid_card,2027-01,"12\r3"\n'}, "plan",
            "@f.csv")
    assert r.exit_code == 2 and "\r" not in r.stderr and "'12 3'" in r.stderr


@pytest.mark.parametrize("text, words", [
    ("quiet = 2\n", ["'quiet'", "not a valid boolean"]),
    ("[plan]\nmonths = 3\n", ["[plan] key 'months'", "not a valid boolean"]),
    # true or false for a value: `time_limit = true` was a limit of 1 second
    ("[plan]\ntime_limit = true\n", ["[plan] key 'time_limit'", "'true' is not a valid"]),
    ("time_limit = false\n", ["key 'time_limit'", "'false' is not a valid"]),
    ("[plan]\nsolver = true\n", ["[plan] key 'solver'", "'true' is not one of"]),
])
def test_a_number_for_a_yes_no_config_key_is_a_usage_error(tmp_path, text, words):
    r = run(tmp_path, {"f.csv": forecast(), "c.toml": text}, "plan", "@f.csv", "--config",
            "@c.toml")
    assert r.exit_code == 2 and r.stdout == "" and "Traceback" not in r.stderr
    for w in words:
        assert w in r.stderr, r.stderr


def test_a_config_file_with_a_byte_order_mark_is_read(tmp_path):
    (tmp_path / "c.toml").write_bytes(b'\xef\xbb\xbfformat = "json"\n')
    r = run(tmp_path, {"f.csv": forecast()}, "plan", "@f.csv", "--config", "@c.toml")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.lstrip().startswith("{")


def test_the_library_refuses_a_budget_past_the_bound_too():
    """plan() called from a script: an InputError naming the option, not Decimal's
    InvalidOperation from deep in the planner."""
    from decimal import Decimal

    from optimizer import Forecast, InputError, Month, load_catalog, plan
    f = Forecast(Month.parse("2027-01"), 1, (("id_card", (5000,)),))
    with pytest.raises(InputError, match="below 10\\^15"):
        plan(load_catalog(), f, budget=Decimal(BIG))


def test_a_catalogs_problems_in_several_products_are_one_message(tmp_path):
    """Like every other file's: each product's first problem of its own keys, its packs and
    its tiers (it stopped at the first of the file)."""
    text = ('[[product]]\nid = "id_card"\npacks = [ { calls = 1000, price = "-1" } ]\n'
            'tiers = [ { rate = "0.15" } ]\n\n[[product]]\nid = "bank_card"\n'
            'packs = [ { calls = 0, price = "120" } ]\ntiers = [ { rate = "x" } ]\n')
    r = run(tmp_path, {"c.toml": text}, "catalog", "--catalog", "@c.toml")
    assert r.exit_code == 2 and r.stdout == ""
    assert "3 problems" in r.stderr
    for w in ["line 3, field 'product[1].price'", "line 8, field 'product[2].calls'",
              "line 9, field 'product[2].rate'"]:
        assert w in r.stderr, r.stderr


def test_a_forecast_built_by_a_script_is_held_to_the_same_bound():
    """The library's Forecast refuses a month past 10^15 calls (billing it rounded the money
    to Decimal's 28 digits: 10^30 calls came to 5.999...994E+28 CNY)."""
    from optimizer import Forecast, InputError, Month
    with pytest.raises(InputError, match="too large"):
        Forecast(Month.parse("2027-01"), 1, (("id_card", (10 ** 30,)),))
    assert Forecast(Month.parse("2027-01"), 1, (("id_card", (10 ** 15,)),))


@pytest.mark.parametrize("args, words", [
    (("plan", "-q", "--format", "xlsx", "--output", "@same.html", "--report", "@same.html"),
     ["--output: unknown extension '.html'", "use .xlsx"]),
    (("forecast", "@h.csv", "-q", "--output", "@same.csv", "--scenarios", "@./same.csv"),
     ["--output and --scenarios both name"]),
])
def test_two_outputs_naming_one_file_are_refused(tmp_path, args, words):
    """The later write overwrote the first without a word (the report became the workbook,
    the forecast the scenarios): refused before any work, nothing written (a workbook's
    --output must also end in .xlsx now)."""
    history = "product,month,calls\n" + "".join(f"id_card,2026-{m:02d},{5000 + 10 * m}\n"
                                                for m in range(1, 13))
    r = run(tmp_path, {"h.csv": history}, *args)
    assert r.exit_code == 2 and r.stdout == "", r.stderr
    assert all(w in r.stderr for w in words), r.stderr
    assert not (tmp_path / "same.html").exists() and not (tmp_path / "same.csv").exists()


HISTORY_12 = "product,month,calls\n" + "".join(f"id_card,2026-{m:02d},{5000 + 10 * m}\n"
                                               for m in range(1, 13))


@pytest.mark.parametrize("files, args, name, words", [
    ({"h.csv": HISTORY_12}, ("forecast", "@h.csv", "-q", "--output", "@h.csv"), "h.csv",
     ["--output", "HISTORY this command reads"]),
    ({"h.csv": HISTORY_12}, ("forecast", "@h.csv", "-q", "--output", "@f.csv",
                             "--scenarios", "@./h.csv"), "h.csv",
     ["--scenarios", "HISTORY this command reads"]),
    ({}, ("plan", "@book.xlsx", "-q", "--format", "xlsx", "--output", "@book.xlsx"),
     "book.xlsx", ["--output", "FORECAST this command reads"]),
])
def test_an_output_naming_a_file_the_command_reads_is_refused(tmp_path, files, args, name,
                                                              words):
    """`forecast usage.csv --output usage.csv` replaced the history with its forecast, and
    `plan book.xlsx --format xlsx --output book.xlsx` the forecast's workbook, exit 0:
    refused before any work, the input untouched."""
    if name == "book.xlsx":
        import openpyxl
        wb = openpyxl.Workbook()
        for row in ("product", "month", "calls"), ("id_card", "2027-01", 5000):
            wb.active.append(row)
        wb.save(tmp_path / name)
    before = (tmp_path / name).read_bytes() if name not in files else files[name].encode()
    r = run(tmp_path, files, *args)
    assert r.exit_code == 2 and r.stdout == "", r.stderr
    assert all(w in r.stderr for w in words), r.stderr
    assert (tmp_path / name).read_bytes() == before


@pytest.mark.parametrize("args, name", [
    (("bill", "@f.csv", "--plan", ""), "--plan"),
    (("plan", "@f.csv", "--holdings", ""), "--holdings"),
    (("plan", "@f.csv", "--report", ""), "--report"),
    (("plan", "@f.csv", "--catalog", ""), "--catalog"),
    (("plan", ""), "FORECAST"),
    (("forecast", "@f.csv", "--output", ""), "--output"),
])
def test_an_empty_file_name_is_a_usage_error(tmp_path, args, name):
    """`bill F --plan "$UNSET"` billed pure postpaid with exit 0; other options dropped the
    empty name without a word or said "Is a directory"."""
    r = run(tmp_path, {"f.csv": forecast()}, *args)
    assert r.exit_code == 2 and r.stdout == "", r.stderr
    assert f"{name} is an empty file name" in r.stderr, r.stderr


@pytest.mark.parametrize("args, name, optional", [
    (("bill", ""), "FORECAST", False),
    (("forecast", ""), "HISTORY", False),
    (("backtest", ""), "HISTORY", False),
    (("plan", ""), "FORECAST", True),          # (the bundled example without it)
    (("whatif", ""), "FORECAST", True),
    (("bill", "@f.csv", "--plan", ""), "--plan", True),
])
def test_an_empty_file_name_is_left_out_only_where_the_command_can_do_without(
        tmp_path, args, name, optional):
    """`bill ""` said "give a file, or leave FORECAST out", which bill cannot do."""
    r = run(tmp_path, {"f.csv": forecast()}, *args)
    assert r.exit_code == 2 and r.stdout == "", r.stderr
    assert r.stderr.splitlines()[0].startswith(
        f"Error: {name} is an empty file name: give a file"
        + (f", or leave {name} out" if optional else " (see")), r.stderr


@pytest.mark.parametrize("args, written", [
    (("forecast", "@h.csv", "-q", "--output", "@f.csv", "--scenarios", "@nodir/s.csv"),
     "f.csv"),
    (("plan", "@h.csv", "-q", "--report", "@r.html", "--chart", "@nodir/c.png"), "r.html"),
    (("plan", "@h.csv", "-q", "--format", "xlsx", "--output", "@nodir/b.xlsx", "--chart",
      "@c.png"), "c.png"),
])
def test_a_run_failing_at_its_second_file_leaves_neither(tmp_path, args, written):
    """The first file was written and stayed although the run failed (exit 2), replacing
    any file of that name."""
    (tmp_path / written).write_text("before")
    r = run(tmp_path, {"h.csv": HISTORY_12}, *args)
    assert r.exit_code == 2 and r.stdout == "", r.stderr
    assert "nodir" in r.stderr
    assert (tmp_path / written).read_text() == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["h.csv", written])


def test_the_forecast_files_start_with_the_excel_bom_too(tmp_path):
    """--excel-bom marked only the copy on stdout, not the files a planner opens in Excel."""
    r = run(tmp_path, {"h.csv": HISTORY_12}, "forecast", "@h.csv", "-q", "--excel-bom",
            "--output", "@f.csv", "--scenarios", "@s.csv")
    assert r.exit_code == 0, r.stderr
    for name, head in (("f.csv", "product"), ("s.csv", "scenario")):
        assert (tmp_path / name).read_bytes().startswith(b"\xef\xbb\xbf" + head.encode())
    r = run(tmp_path, {"h.csv": HISTORY_12}, "forecast", "@h.csv", "-q", "--output",
            "@g.csv")
    assert (tmp_path / "g.csv").read_bytes().startswith(b"product")


def test_default_demand_levels_past_the_bound_are_left_out_with_a_note(tmp_path):
    """whatif without --scale: the default levels that would take a month past 10^15 calls
    are left out, said on stderr; it blamed a --scale nobody gave and stopped."""
    cheap = CATALOG.format(calls=1000, price="0.001").replace('"0.15"', '"0.000001"')
    r = run(tmp_path, {"f.csv": forecast(str(7 * 10 ** 14)), "c.toml": cheap}, "whatif",
            "@f.csv", "--catalog", "@c.toml", "--no-break-even", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert "--scale" not in r.stderr
    assert "default demand level ×1.5 left out" in r.stderr, r.stderr
    import json
    levels = [row["label"] for row in json.loads(r.stdout)["levels"]]
    assert levels == ["×0.5", "×0.8", "×1", "×1.2"], levels


@pytest.mark.parametrize("value, hint", [("５０００", "(digits 0-9, not full-width ones)"),
                                         ("5,000", "(no thousands separators)"),
                                         ("lots", "such as 20000 or 1500.50, not 'lots'")])
def test_a_budget_in_full_width_digits_is_told_so(tmp_path, value, hint):
    """It said "(no thousands separators)": Python's \\d matches full-width digits."""
    r = run(tmp_path, {"f.csv": forecast()}, "plan", "@f.csv", "--budget", value)
    assert r.exit_code == 2 and r.stderr.rstrip().endswith(hint) or hint in r.stderr, r.stderr
    assert ("thousands" in r.stderr) == (value == "5,000")


def test_scenario_weights_of_many_decimals_are_blamed_on_the_scenarios_file(tmp_path):
    """Weights 0.30000000000000004 (a float's noise) count as whole numbers summing past
    10^16, and the cost passed 2^53: the message named the forecast's file and 'calls'."""
    files = {"f.csv": "product,month,calls\nid_card,2027-01,500000\n",
             "s.csv": "scenario,weight,scale\nlow,0.30000000000000004,0.7\nbase,0.7,1\n"}
    r = run(tmp_path, files, "plan", "@f.csv", "--scenarios", "@s.csv")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith(f"Error: {tmp_path}/s.csv, field 'weight': id_card:"), r.stderr
    assert "fewer decimals in the weights lower it" in r.stderr
