"""Regular expressions from analysts' content (FEEL ``matches``, case-type schemas), bounded.

Python's ``re`` backtracks without limit: ``^(a+)+$`` against thirty ``a`` and a ``!`` runs for
minutes inside one C call that no tracer or deadline can interrupt. The ``regex`` package takes
a ``timeout`` and stops matching when it passes; the timeout is what remains of the current
:mod:`budget`, capped at ``MAX_MATCH_SECONDS`` per match.
"""
from __future__ import annotations

from functools import lru_cache

import regex as _regex

from .budget import BudgetExceeded, current

__all__ = ["compile", "search", "match", "fullmatch", "sub", "split", "escape", "MAX_PATTERN",
           "MAX_MATCH_SECONDS", "PatternError", "DOTALL", "IGNORECASE", "MULTILINE"]

MAX_PATTERN = 10_000
MAX_MATCH_SECONDS = 0.5

PatternError = _regex.error
DOTALL, IGNORECASE, MULTILINE = _regex.DOTALL, _regex.IGNORECASE, _regex.MULTILINE
escape = _regex.escape


@lru_cache(maxsize=1024)
def compile(pattern: str, flags: int = 0):  # noqa: A001 - mirrors re.compile
    """Compile ``pattern`` (V0 syntax, as ``re``); raises :data:`PatternError` when invalid."""
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"pattern longer than {MAX_PATTERN:,} characters")
    return _regex.compile(pattern, flags)


def _timeout() -> float:
    return max(0.001, min(MAX_MATCH_SECONDS, current().remaining_seconds()))


def _bounded(method, compiled, *args, **kwargs):
    try:
        return method(*args, **kwargs, timeout=_timeout())
    except TimeoutError as exc:
        raise BudgetExceeded("cpu", f"regular expression {compiled.pattern[:80]!r} took too "
                                    "long to match (catastrophic backtracking?)") from exc


def search(compiled, text: str):
    return _bounded(compiled.search, compiled, text)


def match(compiled, text: str):
    return _bounded(compiled.match, compiled, text)


def fullmatch(compiled, text: str):
    return _bounded(compiled.fullmatch, compiled, text)


def sub(compiled, replacement, text: str, count: int = 0):
    """Replace matches; the result may not grow past the budget's string size.

    ``replacement`` is a template (``\\1``, ``\\g<name>``) or a function of the match. Each
    replacement is measured as it is made, so ``"a" * 10**6`` with a long replacement text is
    refused before it is built, not after.
    """
    budget = current()
    limit = budget.limits.max_string
    expand = replacement if callable(replacement) else (lambda m: m.expand(replacement))
    size = len(text)

    def bounded_expand(m):
        nonlocal size
        out = expand(m)
        size += len(out) - (m.end() - m.start())
        if size > limit:
            raise BudgetExceeded("size", f"replacing {compiled.pattern[:80]!r} makes a string "
                                         f"longer than {limit:,} characters")
        return out

    return _bounded(compiled.sub, compiled, bounded_expand, text, count)


def split(compiled, text: str, maxsplit: int = 0):
    return _bounded(compiled.split, compiled, text, maxsplit=maxsplit)
