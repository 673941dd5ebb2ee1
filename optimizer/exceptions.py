"""Every error packopt raises. Only cli.py turns them into messages and exit codes."""

from __future__ import annotations


class PackoptError(Exception):
    """Base class of every packopt error."""

    exit_code = 1      # the command line's exit status: 1 for solver and engine failures


class InputError(PackoptError):
    """A file or option the user gave is malformed; names the file, line and field.

    One error may carry several `problems` (every bad cell of a file, each an InputError of
    its own); `str()` is then one line listing the first `SHOWN` of them and a count of the
    rest. `line` and `field` are those of the first problem. `hint` is advice that applies
    to every problem of its kind (how to fix it in Excel, say): a combined message gives
    each different hint once, at the end.
    """

    exit_code = 2
    SHOWN = 20          # problems listed in one message; the rest are counted

    def __init__(self, message: str, *, source: str | None = None,
                 line: int | None = None, field: str | None = None,
                 hint: str | None = None, problems: tuple["InputError", ...] = ()):
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        self.hint = hint
        self.problems = tuple(problems) or (self,)
        super().__init__(str(self))

    @classmethod
    def collected(cls, problems) -> "InputError":
        """One error for all of `problems` (at least one): the problem itself if alone."""
        problems = tuple(q for p in problems for q in p.problems)
        if len(problems) == 1:
            return problems[0]
        first = problems[0]
        shown = problems[:cls.SHOWN]
        same = all(p.source == first.source for p in problems)
        items = [p._located(with_source=not same) for p in shown]
        if len(problems) > len(shown):
            items.append(f"and {len(problems) - len(shown)} more")
        message = f"{len(problems)} problems: " + "; ".join(items)
        hints = list(dict.fromkeys(p.hint for p in shown if p.hint))
        return cls(message, source=first.source if same else None, line=first.line,
                   field=first.field, hint=" ".join(hints) or None, problems=problems)

    def _where(self, with_source: bool = True) -> str:
        where = []
        if self.source and with_source:
            where.append(str(self.source))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field '{_shown_field(str(self.field))}'")
        return ", ".join(where)

    def _located(self, with_source: bool = True) -> str:
        """The message after where it is, without the hint."""
        where = self._where(with_source)
        return f"{where}: {self.message}" if where else self.message

    def __str__(self) -> str:
        if len(self.problems) > 1:      # the message already lists where each problem is
            text = f"{self.source}: {self.message}" if self.source else self.message
        else:
            text = self._located()
        if not self.hint:
            return text
        return f"{text}{'' if text.endswith(('.', '?', '!')) else '.'} {self.hint}"


FIELD_SHOWN = 60        # characters of a field's name a message shows at most


def _shown_field(field: str) -> str:
    """A field's name as a message shows a cell (`io.text.shown`: invisible characters
    escaped, a long one cut): a header cell's second BOM or zero-width space made "field
    'product': header must be product,...", and one of 5,000 characters was echoed whole."""
    from .io.text import shown      # (only when a message is written: io imports this module)
    return shown(field, FIELD_SHOWN)


class InfeasibleError(PackoptError):
    """The options admit no plan at all (e.g. a budget that cannot be met)."""

    exit_code = 2


class SolverError(PackoptError):
    """The solver failed or stopped without any plan."""


class BillingMismatchError(PackoptError):
    """The solver's objective disagrees with the billing engine: a bug, never hidden."""
