"""Tell the expression languages of analysts' BPMN apart and evaluate them.

Modelers write three kinds of expressions and we accept all of them wherever the engine
evaluates one (conditions, parameters, due dates, timers, properties):

* ``=...``     FEEL, as Camunda 8 writes it, evaluated by our own engine ``service.decisions.feel``
* ``${...}``/``#{...}`` anywhere in the text: Camunda 7's EL (JUEL), compiled by ``juel`` into
               closures over the supported subset (``${approved == true}``, ``${!clarified}``,
               ``${dateTime().plusDays(2).toDate()}``, ``Order ${id}``); never Python
* anything else: restricted Python (SpiffWorkflow's convention)

FEEL results are converted to plain Python (``Decimal`` to ``int``/``float``, FEEL durations to
``timedelta``) so that task data stays JSON-serializable and Python scripts can use it.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Mapping

from service.decisions import feel

from .juel import is_juel

__all__ = ["ExpressionError", "classify", "evaluate_feel", "from_feel", "check_feel", "is_expression"]


class ExpressionError(ValueError):
    """An expression could not be compiled or evaluated."""


def classify(text: str) -> tuple[str, str]:
    """Return ``(language, body)``: ``'feel'`` (body without ``=``), ``'juel'`` (the whole text,
    which may mix literal parts and ``${...}``) or ``'python'``."""
    stripped = text.strip()
    if stripped.startswith("="):
        return "feel", stripped[1:].strip()
    if is_juel(stripped):
        return "juel", stripped
    return "python", stripped


def is_expression(text: str | None) -> bool:
    """Whether an attribute value is an expression (FEEL ``=...`` or EL ``${...}``) rather than
    a literal such as a group name or an ISO duration."""
    return bool(text) and (text.strip().startswith("=") or is_juel(text))


@lru_cache(maxsize=2048)
def _compile_feel(body: str):
    try:
        return feel.compile_expression(body)
    except feel.FeelSyntaxError as exc:
        raise ExpressionError(str(exc)) from exc


def check_feel(body: str) -> None:
    """Compile FEEL text, raising :class:`ExpressionError` if it is invalid."""
    _compile_feel(body)


def evaluate_feel(body: str, data: Mapping[str, Any]) -> Any:
    """Evaluate FEEL ``body`` against ``data`` and return a plain Python value.

    FEEL turns runtime faults into ``null`` plus warnings; a ``null`` result with warnings is
    reported as an error here, since a process cannot act sensibly on it.
    """
    expression = _compile_feel(body)
    warnings: list = []
    value = expression.evaluate(feel.to_feel(dict(data)), warnings=warnings)
    if value is None and warnings:
        raise ExpressionError(f"FEEL expression {body!r} failed: {'; '.join(map(str, warnings))}")
    return from_feel(value)


def from_feel(value: Any) -> Any:
    """Convert a FEEL value to plain Python, recursively."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, dict):
        return {k: from_feel(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [from_feel(v) for v in value]
    if type(value).__name__ == "DaysTimeDuration":
        return timedelta(seconds=float(value.total_seconds))
    if type(value).__name__ == "YearsMonthsDuration":
        return feel.format_value(value)  # ISO text, e.g. "P1Y2M": calendar-dependent
    return value
