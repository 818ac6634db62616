"""Write FEEL values as text, the way FEEL's ``string()`` built-in does.

Numbers print in plain notation without exponent and without trailing zeros; strings inside
lists and contexts are quoted so ``string(["a"])`` reads back as FEEL.
"""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from service.sandbox import tick

from . import temporal
from .values import NUMBER_CONTEXT, DaysTimeDuration, FeelFunction, Range, YearsMonthsDuration


def format_number(value: Decimal) -> str:
    if value == 0:
        return "0"
    text = format(value.normalize(NUMBER_CONTEXT), "f")
    return text


def format_value(value: Any, nested: bool = False) -> str:
    """Return FEEL ``string(value)``; ``nested`` quotes strings (inside lists/contexts)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if nested:
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return value
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, (int, float)):
        return format_number(Decimal(str(value)))
    if isinstance(value, datetime):
        return temporal.format_date_time(value)
    if isinstance(value, date):
        return temporal.format_date(value)
    if isinstance(value, time):
        return temporal.format_time(value)
    if isinstance(value, (DaysTimeDuration, YearsMonthsDuration)):
        return str(value)
    if isinstance(value, Range):
        if value.operator is not None:
            return f"{value.operator}{format_value(value.start, True)}"
        left = "[" if value.start_included else "("
        right = "]" if value.end_included else ")"
        if value.start is None:
            return ("<= " if value.end_included else "< ") + format_value(value.end, True)
        if value.end is None:
            return (">= " if value.start_included else "> ") + format_value(value.start, True)
        return f"{left}{format_value(value.start, True)}..{format_value(value.end, True)}{right}"
    if isinstance(value, (list, tuple)):
        tick(len(value))  # a list may hold one long list many times: charge every copy
        return "[" + ", ".join(format_value(v, True) for v in value) + "]"
    if isinstance(value, dict):
        tick(len(value))
        return "{" + ", ".join(
            f"{k}: {format_value(v, True)}" for k, v in value.items()) + "}"
    if isinstance(value, FeelFunction):
        return repr(value)
    return str(value)
