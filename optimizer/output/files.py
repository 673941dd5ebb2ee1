"""Output files beside a command's result: the report (`--report FILE.html` or
`FILE.pdf`) and the chart (`--chart FILE.png` or `FILE.svg`). The format follows the
file's extension; any other extension, and a file that cannot be written, is an InputError
naming it."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import PurePath

from ..billing import Bill
from ..exceptions import InputError, PackoptError

REPORT_FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf"}
CHART_FORMATS = {".png": "png", ".svg": "svg"}
WORKBOOK_FORMATS = {".xlsx": "xlsx"}


def file_format(path: str, formats: dict[str, str], option: str) -> str:
    """The format of the file at `path` by its extension, or an InputError naming the ones
    accepted."""
    ext = PurePath(path).suffix.lower()
    if ext not in formats:
        known = sorted(formats)
        accepted = ", ".join(known[:-1]) + " or " + known[-1] if len(known) > 1 else known[0]
        got = f"unknown extension '{ext}'" if ext else "no extension"
        raise InputError(f"{got} in '{path}'; use {accepted}", source=option)
    return formats[ext]


def check_paths(report_path: str | None = None, chart_path: str | None = None,
                workbook_path: str | None = None) -> None:
    """Refuse a report, chart or workbook file of a format not written, before any work is
    done (a workbook written to `plan.csv` is no CSV)."""
    if workbook_path:
        file_format(workbook_path, WORKBOOK_FORMATS, "--output")
    if report_path:
        file_format(report_path, REPORT_FORMATS, "--report")
    if chart_path:
        file_format(chart_path, CHART_FORMATS, "--chart")


# Extensions of formats other than CSV: a CSV file named so opens as nothing (Excel
# refuses an .xlsx holding CSV text).
NOT_CSV = (".xlsx", ".xlsm", ".xls", ".json", ".html", ".htm", ".pdf", ".png", ".svg", ".toml")


def check_csv_paths(**paths: str | None) -> None:
    """Refuse a CSV output (flag name with '_' for '-': path) named as another format."""
    for flag, path in paths.items():
        ext = PurePath(path or "").suffix.lower()
        if ext in NOT_CSV:
            raise InputError(f"'{path}' is named as {ext} but is written as CSV; name it "
                             f".csv", source="--" + flag.replace("_", "-"))


def distinct_paths(reads: dict[str, str | None] | None = None, **paths: str | None) -> None:
    """Refuse two output options naming one file (flag name with '_' for '-': path), which
    the later write would overwrite without a word, and an output naming a file the command
    reads (`reads`: what it is called, such as HISTORY or --plan: its path), which the
    write destroyed ("forecast usage.csv --output usage.csv" replaced the history)."""
    from ..io.text import split_sheet

    def key(path: str) -> str:
        return os.path.normcase(os.path.realpath(path))
    read = {key(split_sheet(str(path))[0]): name for name, path in (reads or {}).items()
            if path}
    seen: dict[str, str] = {}
    for flag, path in paths.items():
        if not path:
            continue
        at = key(path)
        name = "--" + flag.replace("_", "-")
        if at in read:
            raise InputError(f"{path} is the {read[at]} this command reads: give the "
                             f"output its own file", source=name)
        if at in seen:
            raise InputError(f"{seen[at]} and {name} both name {path}: give each its own "
                             f"file", source=name)
        seen[at] = name


def _write(path: str, write, what: str) -> None:
    try:
        write(path)
    except OSError as e:
        raise InputError(f"cannot write the {what} ({e.strerror or e})", source=path) from None


def write_together(files) -> None:
    """Write (path, write(path), what) files all or none: each to a new file beside its
    path, renamed into place once every one is written. A run that failed at its second
    file (a folder that does not exist) left its first, replacing any file of that name.
    A symbolic link is written through (the file it names is replaced, the link stays), an
    existing file keeps its permissions (a private report stays private), and a pipe or a
    device (`/dev/stdout`, a FIFO) is written into, its content staged in the temporary
    folder: renamed onto, it had become a regular file."""
    parts: list[tuple[str, str, bool]] = []
    try:
        for path, write, what in files:
            special = os.path.exists(path) and not os.path.isfile(path)
            target = path if special else os.path.realpath(path)
            folder = tempfile.gettempdir() if special else os.path.dirname(target)
            part = os.path.join(folder, f".{os.path.basename(target)}.{os.getpid()}.part")
            try:     # (made by os.open, so the file gets the umask's mode, as open() gives)
                os.close(os.open(part, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
                parts.append((part, target, special))
                write(part)
            except OSError as e:
                raise InputError(f"cannot write the {what} ({e.strerror or e})",
                                 source=path) from None
        for part, target, special in parts:
            if special:
                _write(target, lambda p, part=part: _copy_into(part, p), "file")
                continue
            with contextlib.suppress(OSError):     # (a new file: the umask's mode)
                os.chmod(part, stat.S_IMODE(os.stat(target).st_mode))
            _write(target, lambda p, part=part: os.replace(part, p), "file")
    finally:
        for part, _, _ in parts:
            if os.path.exists(part):
                os.unlink(part)


def _copy_into(part: str, path: str) -> None:
    with open(part, "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)


def write_pdf(html: str, path: str) -> None:
    """Print the report's HTML to PDF with WeasyPrint (A4 landscape, `html.CSS`)."""
    try:
        import weasyprint
    except (ImportError, OSError) as e:    # not installed, or its Pango library missing
        raise PackoptError(f"--report FILE.pdf needs WeasyPrint and the Pango library ({e}); "
                           f"install packopt with `pip install -e .` (on Debian, Pango comes "
                           f"with `apt-get install libpango-1.0-0`), or write --report "
                           f"FILE.html and print it from a browser") from None
    weasyprint.HTML(string=html).write_pdf(path)


def write_extras(b: Bill, *, command: str, forecast: str, catalog=None, plan: str | None = None,
                 carry_over: str = "zero", report_path: str | None = None,
                 chart_path: str | None = None, result=None, budget_value=None,
                 comparison=None, forecast_result=None, also=()) -> None:
    """Write the report and/or the chart of bill `b` (and of the plan `result`, if any):
    what `command` made of the `forecast` file (and `plan` file) with `catalog`. With
    `forecast_result` (`plan --history`) the forecast and its P10-P90 band are shown.
    `also`: other (path, write, what) files written together with them (all or none)."""
    check_paths(report_path, chart_path)
    if not report_path and not chart_path:
        write_together(also)
        return                  # the common case: no files, nothing more to load
    from .. import __version__
    from .forecasts import band_of
    from .html import About

    band = band_of(forecast_result)
    about = About(command, forecast, catalog, plan, carry_over, version=__version__)
    files = []
    if report_path:
        from .html import render_html
        html = render_html(b, about, result=result, budget_value=budget_value,
                           comparison=comparison, forecast=forecast_result)
        if file_format(report_path, REPORT_FORMATS, "--report") == "pdf":
            files.append((report_path, lambda p: write_pdf(html, p), "PDF report"))
        else:
            def save(p):
                with open(p, "w", encoding="utf-8") as fh:
                    fh.write(html)
            files.append((report_path, save, "HTML report"))
    if chart_path:
        try:
            from .chart import month_chart
        except ImportError as e:   # matplotlib missing: an installation problem, say so
            raise PackoptError(f"--chart needs matplotlib ({e}); install packopt with "
                               f"`pip install -e .` or `pip install matplotlib`") from None
        fmt = file_format(chart_path, CHART_FORMATS, "--chart")
        files.append((chart_path, lambda p: month_chart(b, p, title=about.title(b), fmt=fmt,
                                                        band=band), "chart"))
    write_together(files + list(also))
