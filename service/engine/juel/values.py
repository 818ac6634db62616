"""EL values and coercions (EL 2.2, section 1.18): what ``null``, text, numbers and booleans
become when an operator meets them, and the date-time ``dateTime()`` returns.

Python ``int`` stands for Java's Long and ``float`` for Double; a result outside 64 bits or not
finite is an error rather than a silent wrap or an ``Infinity`` the instance state cannot store.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable

__all__ = ["JuelError", "JuelEvaluationError", "DateTimeValue", "OPERATORS", "to_boolean",
           "to_number", "to_long", "to_string", "is_empty", "is_decimal_text", "type_name"]


class JuelError(ValueError):
    """The expression is outside the subset we run (raised at compile time, i.e. deploy)."""


class JuelEvaluationError(ValueError):
    """The expression could not be evaluated against this data (an unknown variable, a coercion
    EL refuses such as ``'abc' == 1``)."""


@dataclass(frozen=True)
class DateTimeValue:
    """What ``dateTime()`` returns (Joda's ``DateTime`` in Camunda): shift it, then ``toDate()``.

    Kept apart from ``datetime`` so that ``plusDays`` can only follow ``dateTime()``, as in
    Camunda; a result that is still a ``DateTimeValue`` is handed out as a ``datetime``."""

    value: datetime

    def shifted(self, unit: str, amount: int) -> "DateTimeValue":
        if unit in ("years", "months"):
            months = amount * (12 if unit == "years" else 1)
            return DateTimeValue(_add_months(self.value, months))
        return DateTimeValue(self.value + timedelta(**{unit: amount}))


def _add_months(value: datetime, months: int) -> datetime:
    index = value.month - 1 + months
    year, month = value.year + index // 12, index % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return value.replace(year=year, month=month, day=min(value.day, last))


def type_name(value: Any) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string", dict: "map",
            list: "list", tuple: "list"}.get(type(value), type(value).__name__)


def to_boolean(value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() == "true"
    raise JuelEvaluationError(f"cannot use a {type_name(value)} ({value!r}) as a boolean")


def to_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, DateTimeValue):
        value = value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return f"{value:.1f}"                  # Java prints 2.0, not 2
    return str(value)


def is_decimal_text(text: str) -> bool:
    return any(c in text for c in ".eE")


def to_number(value: Any) -> int | float:
    """EL's coercion to Long or Double, keeping Python's int/float split."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise JuelEvaluationError(f"cannot use the boolean {to_string(value)} as a number")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text) if is_decimal_text(text) else int(text)
        except ValueError:
            raise JuelEvaluationError(f"cannot use the string {value!r} as a number") from None
    raise JuelEvaluationError(f"cannot use a {type_name(value)} as a number")


def to_long(value: Any) -> int:
    number = to_number(value)
    if isinstance(number, float):
        if not math.isfinite(number):
            raise JuelEvaluationError(f"cannot use {number} as a whole number")
        return int(number)
    return number


def _is_decimal(*values: Any) -> bool:
    return any(isinstance(v, float) or (isinstance(v, str) and is_decimal_text(v)) for v in values)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _arith(fn: Callable[[Any, Any], Any], name: str) -> Callable[[Any, Any], Any]:
    def apply(a, b):
        if a is None and b is None:
            return 0
        x, y = to_number(a), to_number(b)
        if _is_decimal(a, b):
            x, y = float(x), float(y)
        result = fn(x, y)
        if isinstance(result, int) and not -2**63 <= result < 2**63:
            raise JuelEvaluationError(f"{name} overflows a 64-bit number")
        if isinstance(result, float) and not math.isfinite(result):
            raise JuelEvaluationError(f"{name} gives {result}")
        return result
    return apply


def _divide(a: Any, b: Any) -> float:
    if a is None and b is None:
        return 0
    x, y = float(to_number(a)), float(to_number(b))
    if y == 0:
        raise JuelEvaluationError("division by zero")
    return x / y


def _modulo(a: Any, b: Any) -> int | float:
    if a is None and b is None:
        return 0
    x, y = to_number(a), to_number(b)
    if y == 0:
        raise JuelEvaluationError("modulo by zero")
    if _is_decimal(a, b):
        return math.fmod(float(x), float(y))
    return int(math.copysign(abs(x) % abs(y), x))     # Java: the sign of the dividend


def _equals(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if a is None or b is None:
        return False
    if _is_number(a) or _is_number(b):
        if _is_decimal(a, b):
            return float(to_number(a)) == float(to_number(b))
        return to_long(a) == to_long(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return to_boolean(a) == to_boolean(b)
    if isinstance(a, str) or isinstance(b, str):
        return to_string(a) == to_string(b)
    return a == b


def _compare(a: Any, b: Any) -> int | None:
    """-1, 0 or 1; ``None`` when either side is null (every comparison is then false)."""
    if a is None or b is None:
        return None
    if _is_number(a) or _is_number(b):
        x, y = ((float(to_number(a)), float(to_number(b))) if _is_decimal(a, b)
                else (to_long(a), to_long(b)))
    elif isinstance(a, str) and isinstance(b, str):
        x, y = a, b
    elif isinstance(a, (datetime, DateTimeValue)) and isinstance(b, (datetime, DateTimeValue)):
        x = a.value if isinstance(a, DateTimeValue) else a
        y = b.value if isinstance(b, DateTimeValue) else b
    else:
        raise JuelEvaluationError(f"cannot compare a {type_name(a)} with a {type_name(b)}")
    return (x > y) - (x < y)


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (str, list, tuple, dict, set)):
        return len(value) == 0
    return False


def _ordering(test: Callable[[int], bool]) -> Callable[[Any, Any], bool]:
    def apply(a, b):
        result = _compare(a, b)
        return False if result is None else test(result)
    return apply


OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+": _arith(lambda x, y: x + y, "+"),
    "-": _arith(lambda x, y: x - y, "-"),
    "*": _arith(lambda x, y: x * y, "*"),
    "/": _divide,
    "%": _modulo,
    "==": _equals,
    "!=": lambda a, b: not _equals(a, b),
    "<": _ordering(lambda r: r < 0),
    ">": _ordering(lambda r: r > 0),
    "<=": _ordering(lambda r: r <= 0),
    ">=": _ordering(lambda r: r >= 0),
}
