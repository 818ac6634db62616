"""Report FEEL text that cannot be parsed.

Runtime faults never raise (FEEL makes them null plus a warning); only compiling untrusted text
can fail, with the one exception below, which the DMN layer translates into its own error once.
It derives from ``ValueError`` like the DMN errors beside this package.
"""
from __future__ import annotations


class FeelSyntaxError(ValueError):
    """Reject FEEL text, naming the expression and the 1-based column at fault."""

    def __init__(self, message: str, *, expression: str, column: int, name: str | None = None):
        self.message = message
        self.expression = expression
        self.column = column
        self.name = name
        label = f"{name!r} " if name else ""
        super().__init__(
            f"FEEL syntax error in expression {label}{expression!r} at column {column}: {message}"
        )
