"""Check built-in arguments against the types the specification requires.

Every check raises ``FeelError`` (null plus a warning) instead of guessing: FEEL prefers a null
result to a silently coerced one.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ..semantics import kind
from .registry import FeelError


def _single(value: Any) -> Any:
    """FEEL passes a singleton list where one item is wanted as that item."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def number(value: Any, what: str = "argument") -> Decimal:
    if type(value) is Decimal:
        return value
    value = _single(value)
    if type(value) is Decimal:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    raise FeelError(f"{what} must be a number, not {kind(value)}")


def integer(value: Any, what: str = "argument") -> int:
    n = number(value, what)
    if n != n.to_integral_value():
        raise FeelError(f"{what} must be an integer, not {n}")
    return int(n)


def string(value: Any, what: str = "argument") -> str:
    if isinstance(value, str):
        return value
    value = _single(value)
    if isinstance(value, str):
        return value
    raise FeelError(f"{what} must be a string, not {kind(value)}")


def boolean(value: Any, what: str = "argument") -> bool:
    if isinstance(value, bool):
        return value
    raise FeelError(f"{what} must be a boolean, not {kind(value)}")


def list_of(value: Any, what: str = "argument") -> list:
    """Return a list argument; FEEL passes a single non-null value as a singleton list."""
    if isinstance(value, list):
        return value
    if value is not None:
        return [value]
    raise FeelError(f"{what} must be a list, not {kind(value)}")


def date_value(value: Any, what: str = "argument") -> date:
    if isinstance(value, date):
        return value
    raise FeelError(f"{what} must be a date, not {kind(value)}")


def items(args: tuple, what: str = "list") -> list:
    """Return the items of a ``f(list)`` or ``f(c1, c2, ...)`` call."""
    if len(args) == 1:
        if isinstance(args[0], list):
            return args[0]
        if args[0] is None:
            raise FeelError(f"{what} is null")
        return [args[0]]
    if not args:
        raise FeelError(f"{what} is empty")
    return list(args)
