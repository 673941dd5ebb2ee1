"""Every error packopt raises. Only cli.py turns them into messages and exit codes."""

from __future__ import annotations


class PackoptError(Exception):
    """Base class of every packopt error."""

    exit_code = 1      # the command line's exit status: 1 for solver and engine failures


class InputError(PackoptError):
    """A file or option the user gave is malformed; names the file, line and field."""

    exit_code = 2

    def __init__(self, message: str, *, source: str | None = None,
                 line: int | None = None, field: str | None = None):
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(str(self.source))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class InfeasibleError(PackoptError):
    """The options admit no plan at all (e.g. a budget that cannot be met)."""

    exit_code = 2


class SolverError(PackoptError):
    """The solver failed or stopped without any plan."""


class BillingMismatchError(PackoptError):
    """The solver's objective disagrees with the billing engine: a bug, never hidden."""
