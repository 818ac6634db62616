"""Tell the expression languages of analysts' BPMN apart and evaluate them.

Modelers write three kinds of expressions and we accept all of them wherever the engine
evaluates one (conditions, parameters, due dates, timers, properties):

* ``=...``     FEEL, as Camunda 8 writes it, evaluated by our own engine ``service.decisions.feel``
* ``${...}``   a Camunda 7 (JUEL) expression; the inside is evaluated as restricted Python, which
               covers what analysts write there (``${amount > 100}``, ``${sla_hours}``)
* anything else: restricted Python (SpiffWorkflow's convention)

FEEL results are converted to plain Python (``Decimal`` to ``int``/``float``, FEEL durations to
``timedelta``) so that task data stays JSON-serializable and Python scripts can use it.
"""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Mapping

from service.decisions import feel

__all__ = ["ExpressionError", "classify", "evaluate_feel", "from_feel", "check_feel"]

_JUEL = re.compile(r"^\s*\$\{(.*)\}\s*$", re.S)


class ExpressionError(ValueError):
    """An expression could not be compiled or evaluated."""


def classify(text: str) -> tuple[str, str]:
    """Return ``(language, body)`` with language ``'feel'`` or ``'python'``."""
    stripped = text.strip()
    if stripped.startswith("="):
        return "feel", stripped[1:].strip()
    match = _JUEL.match(stripped)
    if match:
        return "python", match.group(1).strip()
    return "python", stripped


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
