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
from decimal import Decimal
from itertools import chain, repeat

from .formats import money, rate_number


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
    keep: tuple = ()    # columns of lists whose ', '-separated items wrap whole (packs)


@dataclass
class Styled:
    """A line of prose with a Rich style (bold titles, yellow warnings)."""

    text: str
    style: str


def table(columns, rows, *, title=None, total=None, right_from=1, left=(), wrap=(),
          keep=()) -> Table:
    return Table(tuple(columns), rows, title, total, right_from, tuple(left),
                 tuple(wrap) + tuple(keep), tuple(keep))


def _items(line: str) -> list[str]:
    """A list's items, each with its comma ('100,000 × 2,', '1,000,000 × 2')."""
    parts = line.split(", ")
    return [p + "," for p in parts[:-1]] + parts[-1:]


def _flowed(cell: str, width: int) -> str:
    """`cell`'s items on lines of at most `width` cells, none split (Rich would break
    '1,000,000 × 2' after the size where the line's end falls)."""
    return "\n".join(row for line in _lines(cell) for row in _packed(_items(line), width, " "))


def _packed(items: list[str], width: int, sep: str) -> list[str]:
    """`items` joined by `sep` on as few lines of at most `width` cells as go (an item
    longer than a line has one of its own)."""
    from rich.cells import cell_len
    rows, row = [], ""
    for item in items:
        if row and cell_len(row) + cell_len(sep) + cell_len(item) > width:
            rows.append(row)
            row = item
        else:
            row = f"{row}{sep}{item}" if row else item
    return rows + [row]


def total_lines(total) -> list:
    """A table's total: none, one line, or several lines, always as a list of lines."""
    if total is None:
        return []
    return total if total and isinstance(total[0], list) else [total]


GAP = 3      # characters between two columns: padding, the (blank) divider, padding
TIGHT = 2    # ... when a table needs the room: no left padding
READABLE = 20   # a column of free text (reminders, pack lists) is kept at least this wide


def _lines(cell: str) -> list[str]:
    return cell.split("\n")


def wrappable(t: Table, i: int) -> bool:
    """Text columns may wrap between words: those named in `wrap` and the left-aligned ones.
    Right-aligned columns hold figures and never wrap."""
    c = t.columns[i]
    return c in t.wrap or i < t.right_from or c in t.left


def column_widths(t: Table) -> list[tuple[int, int]]:
    """Per column, (natural, minimum) width in terminal cells.

    Natural: the widest line of any cell or of the header. Minimum: a figure is never cut,
    so the widest line of a figure column; a text column and a header may wrap between
    words, so their widest word (and a column of free text stays READABLE wide, or its
    natural width if less, so that a sentence does not become a column of words).
    """
    from rich.cells import cell_len

    def widest(texts, words: bool, items: bool = False) -> int:
        parts = [w for s in texts for line in _lines(s)
                 for w in (_items(line) if items else line.split() if words else [line])]
        return max((cell_len(p) for p in parts), default=0)

    out = []
    for i, head in enumerate(t.columns):
        cells = [r[i] for r in t.rows] + [line[i] for line in total_lines(t.total)]
        natural = max(widest(cells, False), widest([head], False))
        minimum = max(widest(cells, wrappable(t, i), head in t.keep), widest([head], True), 1)
        if i >= t.right_from and wrappable(t, i):
            minimum = max(minimum, min(natural, READABLE))
        out.append((natural, minimum))
    return out


def table_width(widths, gap: int = GAP) -> int:
    return sum(widths) + gap * (len(widths) - 1)


def distribute(measured: list[tuple[int, int]], width: int, gap: int = GAP) -> list[int]:
    """Widths between each column's minimum and natural width that fill `width`: the
    columns closest to their natural width get it first (fewest wrapped headers)."""
    widths = [m for _, m in measured]
    spare = width - table_width(widths, gap)
    for i in sorted(range(len(widths)), key=lambda i: measured[i][0] - measured[i][1]):
        grow = min(measured[i][0] - widths[i], spare)
        widths[i] += grow
        spare -= grow
    return widths


def subtable(t: Table, cols: list[int], title: str | None) -> Table:
    """The columns `cols` of `t` (in that order) as a table of their own."""
    def pick(row):
        return [row[i] for i in cols]
    lines = total_lines(t.total)
    total = None if t.total is None else (
        [pick(l) for l in lines] if len(lines) > 1 else pick(lines[0]))
    right_from = next((k for k, i in enumerate(cols) if i >= t.right_from), len(cols))
    return Table(tuple(t.columns[i] for i in cols), [pick(r) for r in t.rows], title, total,
                 right_from, t.left, t.wrap, t.keep)


def split_columns(t: Table, measured, width: int) -> list[list[int]] | None:
    """Column groups, each shown with the key (leading text) columns, that fit `width`:
    the fewest groups, as even in width as can be. None if one column cannot fit."""
    from itertools import combinations

    key = list(range(min(t.right_from, len(t.columns) - 1)))
    if table_width([measured[i][1] for i in key]) > width // 2:
        key = [0]
    rest = [i for i in range(len(t.columns)) if i not in key]

    def fits(group):
        return table_width([measured[i][1] for i in key + group]) <= width
    if not all(fits([i]) for i in rest):
        return None
    for k in range(2, len(rest) + 1):
        best = None
        for cuts in combinations(range(1, len(rest)), k - 1):
            bounds = (0, *cuts, len(rest))
            groups = [rest[a:b] for a, b in zip(bounds, bounds[1:])]
            if all(fits(g) for g in groups):
                widest = max(table_width([measured[i][1] for i in key + g]) for g in groups)
                if best is None or widest < best[0]:
                    best = (widest, groups)
        if best:
            return [key + g for g in best[1]]
    return None


def fit(t: Table, width: int, terminal: bool) -> list:
    """`t` as renderables no wider than `width` where it can be done without cutting a
    figure or a word: the table as it is, then with wrapped headers and text (columns 3,
    then 2 characters apart), then (on a terminal) split into column groups that repeat the
    key columns, then stacked records. Off a terminal a table is never split: it is as wide
    as its data needs."""
    measured = column_widths(t)
    if table_width([n for n, _ in measured]) <= width:
        return titled(t, rich_table(t))
    for gap in (GAP, TIGHT):
        if table_width([m for _, m in measured], gap) <= width:
            return titled(t, rich_table(t, distribute(measured, width, gap), gap))
    if not terminal:
        return titled(t, rich_table(t, [n for n, _ in measured]))
    groups = split_columns(t, measured, width)
    if groups is None:
        return stacked(t, width)
    out = []
    for k, cols in enumerate(groups):
        title = t.title if k == 0 else (f"{t.title} (continued)" if t.title else None)
        sub = subtable(t, cols, title)
        out += ([""] if k else []) + fit(sub, width, terminal)
    return out


def titled(t: Table, rendered) -> list:
    """A table under its title, a bold line of its own that wraps like prose."""
    return ([Styled(t.title, "bold")] if t.title else []) + [rendered]


def stacked(t: Table, width: int | None = None) -> list:
    """One record per row, "Header: value" per line: for terminals too narrow for even
    one figure column beside the key. A list (`keep`) too long for the line goes below
    its header, indented, its items whole on each line."""
    from rich.cells import cell_len
    from rich.text import Text

    heads = [c.replace("\n", " ") for c in t.columns]
    out = [Styled(t.title, "bold")] if t.title else []
    rows = [(r, "") for r in t.rows] + [(line, "bold") for line in total_lines(t.total)]
    for row, style in rows:
        out.append(Text(row[0] or heads[0], style=style or "bold"))
        for column, head, cell in zip(t.columns[1:], heads[1:], row[1:]):
            if not cell:
                continue
            line = f"  {head}: " + cell.replace("\n", "; ")
            if column in t.keep and width and cell_len(line) > width:
                out.append(Text(f"  {head}:", style=style))
                out += [Text("    " + part, style=style)
                        for part in _flowed(cell.replace("\n", ", "), width - 4).split("\n")]
            else:
                out.append(Text(line, style=style))
    return out


def rich_table(t: Table, widths: list[int] | None = None, gap: int = GAP):
    """A Rich table: first column(s) left, numbers right, optional bold total lines (the
    title is a line of its own: `titled`).

    Without `widths`, columns do not wrap, except those named in `wrap` (free text such as
    purchase lists). With `widths` (from `fit`), each column has that width, which is never
    narrower than a figure in it: headers and text wrap between words.
    """
    from rich import box
    from rich.table import Table as RichTable

    rt = RichTable(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                   padding=(0, 1) if gap == GAP else (0, 1, 0, 0))
    for i, c in enumerate(t.columns):
        right = i >= t.right_from and c not in t.left
        if widths is None:
            rt.add_column(c, justify="right" if right else "left", no_wrap=c not in t.wrap)
        else:
            rt.add_column(c, justify="right" if right else "left", width=widths[i],
                          overflow="fold")
    for r in t.rows:
        rt.add_row(*r if widths is None else (
            _flowed(c, widths[i]) if t.columns[i] in t.keep else c for i, c in enumerate(r)))
    if t.total is not None:
        rt.add_section()
        for line in total_lines(t.total):
            rt.add_row(*line, style="bold")
    return rt


def render(parts, *, width: int, terminal: bool = False, no_color: bool = False) -> str:
    """Parts (strings, Styled, Table) to text with Rich, `width` columns wide.

    Every figure and header is printed whole (`fit`). On a `terminal` prose wraps between
    words at `width`, so the terminal never splits a number; off a terminal lines of prose
    stay whole and tables are as wide as their data needs (at least `width`). Colour only
    for a `terminal`, and no styles at all (not even bold) with `no_color`.
    """
    from rich.console import Console
    from rich.text import Text

    console = Console(file=io.StringIO(), force_terminal=terminal and not no_color,
                      color_system=None if no_color else "auto", width=width,
                      highlight=False, emoji=False, legacy_windows=False)
    if not terminal:     # room for a table wider than `width`
        widest = max([table_width([m for _, m in column_widths(p)])
                      for p in parts if isinstance(p, Table)] + [width])
        console.width = widest
    with console.capture() as cap:
        for part in parts:
            items = fit(part, width if terminal else console.width, terminal) \
                if isinstance(part, Table) else [part]
            for item in items:
                if isinstance(item, Styled):
                    item = Text(item.text, style=item.style)
                if isinstance(item, str):
                    item = Text(_at_separators(item, width) if terminal else item)
                # off a terminal prose stays whole (soft wrap); on one it wraps between words
                console.print(item, soft_wrap=not terminal and isinstance(item, Text))
    text = cap.get()
    if console.color_system is None:    # Rich pads lines to the table width: trim them
        text = "".join(line.rstrip() + "\n" for line in text.splitlines())
    return text


SEPARATOR = " · "


def _at_separators(text: str, width: int) -> str:
    """`text` with each line longer than `width` broken between its " · " items rather
    than inside one (a heading's "packs bought at the start of any month" was cut after
    "packs" at 80 columns); an item longer than a line is left to wrap between words."""
    return "\n".join(row for line in text.split("\n")
                     for row in _packed(line.split(SEPARATOR), width, SEPARATOR))


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
    """`json.dumps(data, ensure_ascii=False, indent=2)` and a newline, character for
    character, but fast on big documents: the standard library indents in pure Python, so
    this walks the containers itself and hands every flat one (no non-empty container
    inside) to the C encoder, its separators carrying the indentation."""
    out: list[str] = []
    _dump(data, "", out)
    out.append("\n")
    return "".join(out)


class _Chunks:
    """What `_dump` appends to, handed on to `write` about every `size` characters."""

    def __init__(self, write, size: int):
        self.write, self.size, self.parts, self.length = write, size, [], 0

    def append(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)
        if self.length >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.write("".join(self.parts))
            self.parts, self.length = [], 0


def write_json(data, write, size: int = 1 << 20) -> None:
    """`to_json(data)` handed to `write` in pieces of about `size` characters, so that a
    big document (a bill of 5,000 products: 50 MB) is never held whole, nor encoded whole."""
    chunks = _Chunks(write, size)
    _dump(data, "", chunks)
    chunks.append("\n")
    chunks.flush()


_SCALAR_TYPES = frozenset((str, int, float, bool, type(None)))
_CONTAINERS = frozenset((dict, list, tuple))
_FLAT_TYPES = _SCALAR_TYPES | _CONTAINERS
_DICT = frozenset((dict,))


def _flat_dicts(items) -> bool:
    """Every item a non-empty dict of scalars and empty containers."""
    if not all(items):
        return False
    values = list(chain.from_iterable(map(dict.values, items)))
    kinds = set(map(type, values))
    return kinds <= _SCALAR_TYPES or (kinds <= _FLAT_TYPES and not any(
        [x for x in values if type(x) in _CONTAINERS]))


_encoders: dict[str, object] = {}       # indentation -> C encoder of a flat container


def _flat_encoder(indent: str):
    enc = _encoders.get(indent)
    if enc is None:
        c_make = getattr(json.encoder, "c_make_encoder", None)
        if c_make is None:                     # no C accelerator: the library's encoder
            enc = json.JSONEncoder(ensure_ascii=False, separators=(",\n" + indent, ": ")).encode
        else:
            raw = c_make(None, _no_default, json.encoder.encode_basestring, None, ": ",
                         ",\n" + indent, False, False, True)
            enc = lambda value: "".join(raw(value, 0))     # noqa: E731
        _encoders[indent] = enc
    return enc


def _no_default(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# A month of a bill as `data.month_dict` writes it (keys in its order), for `_months`: the
# common case (no reminders, no cohorts, a rate) as one %-format; the others via `_dump`.
_MONTH_KEYS = ("month", "calls", "free", "pack", "postpaid", "postpaid_cost", "tier_volume",
               "rate", "rate_published", "pack_spend", "balance", "waste", "reminders",
               "cohorts")
_MONTH_FORMATS = ("%s", "%d", "%d", "%d", "%d", "%r", "%d", "%r", "%s", "%r", "%d", "%d",
                  "[]", "[]")
# What a month of a product with no lots (nothing bought or held) always has.
_NO_LOTS = {"pack": "0", "pack_spend": "0.0", "balance": "0", "waste": "0"}
_month_templates: dict[tuple[str, bool], str] = {}
_CENT = Decimal("0.01")


def _month_template(indent: str, no_lots: bool = False) -> str:
    """The text of a month at `indent` (the list's items one level deeper); `no_lots`:
    with the fields of _NO_LOTS written in."""
    tmpl = _month_templates.get((indent, no_lots))
    if tmpl is None:
        item, field = indent + "  ", indent + "    "
        tmpl = item + "{\n" + ",\n".join(
            f'{field}"{key}": {_NO_LOTS.get(key, fmt) if no_lots else fmt}'
            for key, fmt in zip(_MONTH_KEYS, _MONTH_FORMATS)) + "\n" + item + "}"
        _month_templates[indent, no_lots] = tmpl
    return tmpl


def _money(x) -> float:
    """An amount as month_dict writes it: formats.money, 0.0 for zero."""
    if not x:
        return 0.0
    return float(x.quantize(_CENT)) + 0.0 if type(x) is Decimal else money(x)


def _months(value, indent: str, out: list) -> None:
    """A product's months (`data.Months`) as `_dump` would write `value.dicts()`."""
    columns = getattr(value.pb, "columns", None)
    if columns is not None and columns.calls and _postpaid_columns(columns, value, indent,
                                                                   out):
        return
    if not value.pb.months:
        out.append("[]")
        return
    item = indent + "  "
    parts = []
    encode = _encode_key
    fmoney = _money
    plain = value.without_lots()
    if plain is not None:
        # Nothing bought or held (most products of a big bill): 8 fields to fill, not 12.
        short = _month_template(indent, True)
        for label, mb in plain:
            rate = mb.rate
            if rate is None or mb.pack or mb.pack_spend or mb.balance or mb.waste \
                    or mb.reminders:
                break
            parts.append(short % (encode(label), mb.calls, mb.free, mb.postpaid,
                                  fmoney(mb.postpaid_cost), mb.tier_volume, float(rate) + 0.0,
                                  "true" if mb.rate_published else "false"))
        else:
            out.append("[\n" + ",\n".join(parts) + "\n" + indent + "]")
            return
        parts = []          # a month unlike that: every month the general way below
    tmpl = _month_template(indent)
    for label, mb, reminders, cohorts in value.rows():
        rate = mb.rate
        if reminders or cohorts or rate is None:
            d = {"month": label, "calls": mb.calls, "free": mb.free, "pack": mb.pack,
                 "postpaid": mb.postpaid,
                 "postpaid_cost": fmoney(mb.postpaid_cost),
                 "tier_volume": mb.tier_volume, "rate": rate_number(rate),
                 "rate_published": mb.rate_published,
                 "pack_spend": fmoney(mb.pack_spend),
                 "balance": mb.balance, "waste": mb.waste, "reminders": reminders,
                 "cohorts": cohorts}
            piece: list = [item]
            _dump(d, item, piece)
            parts.append("".join(piece))
            continue
        parts.append(tmpl % (encode(label), mb.calls, mb.free, mb.pack, mb.postpaid,
                             fmoney(mb.postpaid_cost), mb.tier_volume, float(rate) + 0.0,
                             "true" if mb.rate_published else "false", fmoney(mb.pack_spend),
                             mb.balance, mb.waste))
    out.append("[\n" + ",\n".join(parts) + "\n" + indent + "]")


_product_templates: dict[tuple, str] = {}
_BOOLS = {True: "true", False: "false"}
_quantize = Decimal.quantize


_RATE_TEXT: dict[int, str] = {}       # id of a rate -> the rate as the JSON writes it
_RATE_KEPT: dict[int, Decimal] = {}   # ... and the rate, kept alive so its id is its own


def _postpaid_columns(columns, value, indent: str, out: list) -> bool:
    """The months of a product with nothing bought or held, written from its columns
    (`billing.PostpaidMonths`) with one %-format for the product (the months' labels
    written into it, rates formatted once per rate): the text `_months` writes from the
    records. False (nothing written) where a month would not fit it."""
    n = len(columns.calls)
    key = (indent, value.bill.start, value.bill.months)
    tmpl = _product_templates.get(key)
    if tmpl is None:
        labels = value.labels()
        month = _month_template(indent, True).replace('"rate": %r', '"rate": %s')
        tmpl = _product_templates[key] = "[\n" + ",\n".join(
            month.replace('"month": %s', '"month": ' + _encode_key(label).replace("%", "%%"))
            for label in labels) + "\n" + indent + "]"
        if len(labels) != n:
            _product_templates[key] = tmpl = ""
    if not tmpl or None in columns.rates or n != value.bill.months:
        return False
    try:
        # The rates are the catalog's tier rates, the same few objects for every product.
        rates = list(map(_RATE_TEXT.__getitem__, map(id, columns.rates)))
    except KeyError:
        if len(_RATE_TEXT) >= 4096:
            _RATE_TEXT.clear()
            _RATE_KEPT.clear()
        for r in columns.rates:
            if r.is_signed():
                return False    # (a fee of -0 would be written -0.0; `_money` writes 0.0)
            _RATE_TEXT[id(r)] = repr(float(r) + 0.0)
            _RATE_KEPT[id(r)] = r
        rates = list(map(_RATE_TEXT.__getitem__, map(id, columns.rates)))
    fc = columns.free_calls
    # A fee as `_money` writes it: rounded to the fen, as a float (0 is 0.0 either way).
    fees = map(float, map(_quantize, columns.fees, repeat(_CENT)))
    out.append(tmpl % tuple(chain.from_iterable(zip(
        columns.calls, [d if d < fc else fc for d in columns.calls],
        columns.postpaid, fees, columns.calls,
        rates, map(_BOOLS.__getitem__, columns.published)))))
    return True


_dict_templates: dict[tuple, tuple | None] = {}
_LITERAL = {None: "null", True: "true", False: "false"}
_INFINITY = float("inf")


def _float_text(x: float) -> str:
    """A float as json writes it (allow_nan)."""
    if x != x:
        return "NaN"
    if x == _INFINITY:
        return "Infinity"
    if x == -_INFINITY:
        return "-Infinity"
    return float.__repr__(x)


class _NotFlat(Exception):
    """A container that is not empty: the dict goes `_dump`'s general way."""


def _empty_text(x) -> str:
    if x:
        raise _NotFlat
    return "{}" if type(x) is dict else "[]"


def _dict_template(value: dict, indent: str):
    """(template, converters) of a dict of this shape (keys, and each value's type) at
    `indent`, or None where `_dump`'s general way is needed (keys not all strings): one
    %-format per dict instead of walking it (a bill has 5,000 product dicts)."""
    key = (indent, tuple(value), tuple(map(type, value.values())))
    hit = _dict_templates.get(key, False)
    if hit is not False:
        return hit
    if len(_dict_templates) >= 1024:
        _dict_templates.clear()
    if not all(type(k) is str for k in value):
        _dict_templates[key] = None
        return None
    inner = indent + "  "
    items, convs = [], []
    for k, tx in zip(value, key[2]):
        if tx is str:
            conv = _encode_key
        elif tx is int:
            conv = int.__repr__
        elif tx is float:
            conv = _float_text
        elif tx is bool or tx is type(None):
            conv = _LITERAL.__getitem__
        elif tx in _CONTAINERS:
            conv = _empty_text
        elif hasattr(tx, "rows") and hasattr(tx, "dicts"):     # a product's months

            def conv(x, inner=inner):
                piece: list = []
                _months(x, inner, piece)
                return "".join(piece)
        else:
            _dict_templates[key] = None
            return None
        items.append(_encode_key(k).replace("%", "%%") + ": %s")
        convs.append(conv)
    hit = _dict_templates[key] = (
        "{\n" + inner + (",\n" + inner).join(items) + "\n" + indent + "}", tuple(convs))
    return hit


def _dump(value, indent: str, out: list) -> None:
    t = type(value)
    if t is not dict and t is not list and hasattr(value, "rows") and hasattr(value, "dicts"):
        _months(value, indent, out)
        return
    if t is dict and value:
        shape = _dict_template(value, indent)
        if shape is not None:
            tmpl, convs = shape
            try:
                out.append(tmpl % tuple([c(x) for c, x in zip(convs, value.values())]))
                return
            except _NotFlat:
                pass
    if t is dict:
        items = value.values()
    elif t is list or t is tuple:
        items = value
    elif t in _SCALAR_TYPES:
        out.append(_flat_encoder("")(value))
        return
    else:
        # Anything unusual: the library (which also raises what it raises).
        out.append(json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + indent))
        return
    if not value:
        out.append("{}" if t is dict else "[]")
        return
    inner = indent + "  "
    kinds = set(map(type, items))
    if kinds <= _SCALAR_TYPES or (kinds <= _FLAT_TYPES and not any(
            [x for x in items if type(x) in _CONTAINERS])):
        # Flat (scalars and empty containers): one C-encoder call, the item separator
        # carries the newline and indentation.
        text = _flat_encoder(inner)(value)
        out.append(text[0] + "\n" + inner + text[1:-1] + "\n" + indent + text[-1])
        return
    if t is not dict and kinds == _DICT and _flat_dicts(value):
        # Flat non-empty dicts (a bill's months): one C-encoder call for them all, with the
        # dicts' indentation; raw newlines never occur inside JSON strings, so "},\n" + ind
        # + "{" only occurs between two of them, where the list's indentation goes instead.
        deeper = inner + "  "
        text = _flat_encoder(deeper)(value)
        text = text[2:-2].replace("},\n" + deeper + "{",
                                  "\n" + inner + "},\n" + inner + "{\n" + deeper)
        out.append("[\n" + inner + "{\n" + deeper + text + "\n" + inner + "}\n" + indent + "]")
        return
    if t is dict and not all(type(k) is str for k in value):
        # Keys json converts (numbers, None): the library does it.
        out.append(json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + indent))
        return
    # Mixed: runs of flat items go to the C encoder together, containers recurse.
    enc = _flat_encoder(inner)
    sep = ",\n" + inner
    out.append("{\n" + inner if t is dict else "[\n" + inner)
    first = True
    run: dict | list = {} if t is dict else []
    for item in (value.items() if t is dict else value):
        x = item[1] if t is dict else item
        tx = type(x)
        if tx in _SCALAR_TYPES or (tx in _CONTAINERS and not x):
            if t is dict:
                run[item[0]] = x
            else:
                run.append(x)
            continue
        if run:
            out.append(("" if first else sep) + enc(run)[1:-1])
            first = False
            run = {} if t is dict else []
        if not first:
            out.append(sep)
        first = False
        if t is dict:
            out.append(_encode_key(item[0]) + ": ")
        _dump(x, inner, out)
    if run:
        out.append(("" if first else sep) + enc(run)[1:-1])
    out.append("\n" + indent + ("}" if t is dict else "]"))


_encode_key = json.encoder.encode_basestring


def to_csv(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def write_result(write, fmt: str, content, **options) -> None:
    """`write(format_result(fmt, content, **options))`, JSON in pieces (`write_json`)."""
    if fmt == "json":
        write_json(content, write)
    else:
        write(format_result(fmt, content, **options))


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
