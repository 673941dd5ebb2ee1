"""The text formats: tables and prose rendered with Rich (`--format table`), Markdown
(`--format markdown`), and the JSON and CSV text of the plain data (`--format json|csv`).

A text result is a list of parts: strings (lines of prose), `Styled` lines and `Table`s,
built by `views.py`. Nothing here writes to the terminal: `format_result` returns the text.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass


@dataclass
class Table:
    """A table to be rendered with Rich or as Markdown: strings, first columns left."""

    columns: tuple
    rows: list
    title: str | None = None
    total: list | None = None          # one line, or a list of lines
    right_from: int = 1
    left: tuple = ()
    wrap: tuple = ()


@dataclass
class Styled:
    """A line of prose with a Rich style (bold titles, yellow warnings)."""

    text: str
    style: str


def table(columns, rows, *, title=None, total=None, right_from=1, left=(), wrap=()) -> Table:
    return Table(tuple(columns), rows, title, total, right_from, tuple(left), tuple(wrap))


def total_lines(total) -> list:
    """A table's total: none, one line, or several lines, always as a list of lines."""
    if total is None:
        return []
    return total if total and isinstance(total[0], list) else [total]


def rich_table(t: Table):
    """A Rich table: first column(s) left, numbers right, optional bold total lines.

    Columns do not wrap, except those named in `wrap` (free text such as purchase lists).
    """
    from rich import box
    from rich.table import Table as RichTable

    rt = RichTable(box=box.SIMPLE_HEAD, title=t.title, title_justify="left", title_style="bold",
                   show_edge=False, pad_edge=False)
    for i, c in enumerate(t.columns):
        right = i >= t.right_from and c not in t.left
        rt.add_column(c, justify="right" if right else "left", no_wrap=c not in t.wrap)
    for r in t.rows:
        rt.add_row(*r)
    if t.total is not None:
        rt.add_section()
        for line in total_lines(t.total):
            rt.add_row(*line, style="bold")
    return rt


def render(parts, *, width: int, terminal: bool = False, no_color: bool = False) -> str:
    """Parts (strings, Styled, Table) to text with Rich, `width` columns wide.

    Colour only for a `terminal`, and no styles at all (not even bold) with `no_color`.
    """
    from rich.console import Console
    from rich.text import Text

    console = Console(file=io.StringIO(), force_terminal=terminal and not no_color,
                      color_system=None if no_color else "auto", width=width,
                      highlight=False, emoji=False, legacy_windows=False)
    with console.capture() as cap:
        for part in parts:
            if isinstance(part, Table):
                console.print(rich_table(part))
            else:
                # lines of prose stay whole (soft wrap); tables fit the width
                text = Text(part.text, style=part.style) if isinstance(part, Styled) else part
                console.print(text, soft_wrap=True)
    text = cap.get()
    if console.color_system is None:    # Rich pads lines to the table width: trim them
        text = "".join(line.rstrip() + "\n" for line in text.splitlines())
    return text


def markdown_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", "<br>")


def markdown_table(columns, rows, *, total=None, right_from: int = 1, left=()) -> list[str]:
    """A GitHub-flavoured pipe table (lines); a total line (or lines) in bold."""
    head = [c.replace("\n", " ") for c in columns]
    align = ["---:" if i >= right_from and c not in left else ":---"
             for i, c in enumerate(columns)]
    lines = ["| " + " | ".join(markdown_cell(h) for h in head) + " |",
             "| " + " | ".join(align) + " |"]
    for r in rows:
        lines.append("| " + " | ".join(markdown_cell(c) for c in r) + " |")
    for t in total_lines(total):
        lines.append("| " + " | ".join(f"**{markdown_cell(c)}**" if c else "" for c in t) + " |")
    return lines


def markdown(parts) -> str:
    """Parts as Markdown: prose paragraphs, bold titles, GitHub pipe tables."""
    blocks: list[str] = []
    for part in parts:
        if isinstance(part, Table):
            lines = [f"**{part.title}**", ""] if part.title else []
            lines += markdown_table(part.columns, part.rows, total=part.total,
                                    right_from=part.right_from, left=part.left)
            blocks.append("\n".join(lines))
        elif isinstance(part, Styled):
            blocks.append(f"**{part.text}**")
        elif part:
            blocks.append("  \n".join(part.splitlines()))
    return "\n\n".join(blocks) + "\n"


def to_json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def to_csv(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def format_result(fmt: str, content, *, width: int, terminal: bool = False,
                  no_color: bool = False, excel_bom: bool = False) -> str:
    """A command's result as text: `content` is what `views.py` built for `fmt` (a JSON
    document, CSV rows, or parts for a table or Markdown)."""
    if fmt == "json":
        return to_json(content)
    if fmt == "csv":
        return ("\ufeff" if excel_bom else "") + to_csv(content)
    if fmt == "markdown":
        return markdown(content)
    return render(content, width=width, terminal=terminal, no_color=no_color)
