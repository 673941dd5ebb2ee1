"""Output files beside a command's result: the HTML report (`--report`) and the PNG chart
(`--chart`). A file that cannot be written is an InputError naming it."""

from __future__ import annotations

from ..billing import Bill
from ..exceptions import InputError, PackoptError


def _write(path: str, write, what: str) -> None:
    try:
        write(path)
    except OSError as e:
        raise InputError(f"cannot write the {what} ({e.strerror or e})", source=path) from None


def write_extras(b: Bill, *, report_path: str | None = None, chart_path: str | None = None,
                 title: str, result=None, budget_value=None) -> None:
    """Write the report and/or the chart of bill `b` (and of the plan `result`, if any)."""
    if report_path:
        from .html import render_html
        html = render_html(b, title=title, result=result, budget_value=budget_value)

        def save(p):
            with open(p, "w", encoding="utf-8") as fh:
                fh.write(html)
        _write(report_path, save, "HTML report")
    if chart_path:
        try:
            from .chart import month_chart
        except ImportError as e:   # matplotlib missing: an installation problem, say so
            raise PackoptError(f"--chart needs matplotlib ({e}); install packopt with "
                               f"`pip install -e .` or `pip install matplotlib`") from None
        _write(chart_path, lambda p: month_chart(b, p, title=title), "chart")
