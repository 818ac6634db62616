"""Report FEEL text that cannot be parsed.

Runtime faults never raise (FEEL makes them null plus a warning); compiling untrusted text can
fail with ``FeelSyntaxError``, which the DMN layer translates into its own error once (it
derives from ``ValueError`` like the DMN errors beside this package). ``UnknownName`` is raised
only when the caller asked for strict names.
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


class UnknownName(Exception):
    """Stop an evaluation that reads a name nothing binds, when the caller asked for that.

    FEEL makes an unknown name null with a warning; a caller that wants an error instead (the
    DMN layer's strict mode) sets ``strict_names`` on the evaluation's warnings list. Inside a
    filter over contexts a missing name may be an entry that item lacks, so it stays null.
    Evaluators let this through every handler that turns faults into null.
    """

    def __init__(self, name: str):
        super().__init__(f"unknown name {name!r}")
        self.name = name
