"""Compile the JUEL subset Camunda 7 files use, once, at deploy; evaluate it without ``eval``.

Camunda 7 writes ``${...}`` (and ``#{...}``) Unified EL expressions in conditions, assignees,
candidate users and groups, due dates, input/output mappings, collections and timers. We accept
the part of EL that reads process data and refuse the rest at deploy, naming the expression:

* identifiers (process variables) and properties: ``a.b``, ``a["b"]``, ``a[0]``;
* literals: ``true``, ``false``, ``null``, integers, decimals, ``'text'`` and ``"text"``;
* operators, with EL precedence and EL's coercions: ``! not && and || or == eq != ne < lt > gt
  <= le >= ge empty + - * / div % mod ?:`` and parentheses;
* the date built-ins Camunda files use: ``now()`` (a date-time) and ``dateTime()`` followed by
  ``plusYears/Months/Weeks/Days/Hours/Minutes/Seconds`` (or ``minus...``) and ``toDate()``;
* composite text: ``"Order ${id} (${region})"`` concatenates, as EL does.

Everything else (other functions such as ``S()`` or ``currentUser()``, method calls on
variables, ``execution``/``task`` beans, lambdas, assignment) raises :class:`JuelError` from
:func:`compile_juel`, so the deployment is refused with the expression, not the first instance.

Evaluation follows the EL 2.2 coercion rules (section 1.8 and 1.18): ``null`` is ``0`` in
arithmetic and ``false`` as a boolean, a string meets a number as a number, ``==`` between a
number and a non-numeric string is an error, ``/`` is always a decimal division. An identifier
that is not a process variable is an error (Camunda: "Cannot resolve identifier"), never a silent
``null``. Each evaluated node ticks the shared budget (``service.sandbox``) and built strings are
size-checked, so an expression is bounded like every other evaluation of analysts' text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable, Mapping

from service.sandbox import ensure

from .syntax import Context, Node, Parser, concat, literal
from .values import DateTimeValue, JuelError, JuelEvaluationError

__all__ = ["JuelError", "JuelEvaluationError", "Juel", "compile_juel", "is_juel", "DateTimeValue"]

MAX_EXPRESSION_CHARS = 4_000


# -- composite text -----------------------------------------------------------------------------

_OPEN = re.compile(r"(?<!\\)[$#]\{")


def is_juel(text: str | None) -> bool:
    """Whether ``text`` holds an EL ``${...}`` or ``#{...}`` part."""
    return bool(text) and _OPEN.search(text) is not None


def _split(text: str) -> list[tuple[str, str]]:
    """Cut composite text into ``('text', ...)`` and ``('el', ...)`` parts."""
    parts: list[tuple[str, str]] = []
    pos = 0
    while True:
        match = _OPEN.search(text, pos)
        if match is None:
            break
        if match.start() > pos:
            parts.append(("text", text[pos:match.start()]))
        end = _closing(text, match.end())
        parts.append(("el", text[match.end():end]))
        pos = end + 1
    if pos < len(text):
        parts.append(("text", text[pos:]))
    return [(kind, body.replace("\\${", "${").replace("\\#{", "#{") if kind == "text" else body)
            for kind, body in parts]


def _closing(text: str, start: int) -> int:
    quote, i, depth = None, start, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise JuelError("an expression opened with ${ or #{ is not closed with }")


@dataclass(frozen=True, eq=False)
class Juel:
    """A compiled expression: evaluate it as often as needed, it holds no state of a run."""

    text: str
    names: frozenset[str]
    _node: Node

    def evaluate(self, variables: Mapping[str, Any], *,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> Any:
        """Return the value against ``variables``; ``now`` is the runtime's clock.

        Raises :class:`JuelEvaluationError` when the data does not fit the expression, and
        ``service.sandbox.BudgetExceeded`` when the evaluation runs over its budget.
        """
        with ensure():
            value = self._node(Context(variables, now))
        return value.value if isinstance(value, DateTimeValue) else value


@lru_cache(maxsize=4096)
def compile_juel(text: str) -> Juel:
    """Compile EL text (one ``${...}``, or text mixing literal parts and expressions).

    Raises :class:`JuelError` naming what is outside the supported subset.
    """
    if len(text) > MAX_EXPRESSION_CHARS:
        raise JuelError(f"expression is {len(text)} characters; the limit is {MAX_EXPRESSION_CHARS}")
    stripped = text.strip()
    parts = _split(stripped)
    if not any(kind == "el" for kind, _ in parts):
        raise JuelError("no ${...} or #{...} expression in the text")
    names: set[str] = set()
    nodes: list[Node] = []
    for kind, body in parts:
        if kind == "text":
            nodes.append(literal(body))
            continue
        if not body.strip():
            raise JuelError("empty expression ${}")
        parser = Parser(body)
        try:
            nodes.append(parser.parse())
        except JuelError as exc:
            raise JuelError(f"{exc} in ${{{body.strip()}}}") from None
        names |= parser.names
    node = nodes[0] if len(nodes) == 1 else concat(nodes)
    return Juel(text=stripped, names=frozenset(names), _node=node)
