"""Convert plain Python data (JSON-ish inputs) into FEEL values.

Evaluation does not convert its scope on every call (that would cost more than most
expressions); the DMN layer converts inputs once with ``to_feel``.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from .values import NUMBER_CONTEXT


def to_feel(value: Any) -> Any:
    """Return ``value`` with ints/floats made ``Decimal``, recursively in lists, tuples, dicts."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, Decimal)):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None  # FEEL has no NaN or infinity
        return NUMBER_CONTEXT.create_decimal(repr(value))
    if isinstance(value, (list, tuple)):
        return [to_feel(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_feel(v) for k, v in value.items()}
    return value
