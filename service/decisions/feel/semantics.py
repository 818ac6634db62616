"""Apply FEEL's equality, ordering and arithmetic rules to values of every type.

Each operation returns ``None`` (FEEL null) when FEEL leaves the result undefined for the
operand types, and raises ``ArithmeticFault`` only for faults the caller turns into a warning
(division by zero, overflow). Python's own ``==`` is not FEEL's: ``1 = true`` is null, not false,
and a date is never equal to a date-time, so nothing here relies on Python equality across types.
"""
from __future__ import annotations

import decimal
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any

from service.sandbox import check_size, tick

from . import temporal
from .datetimes import FarDate, FeelDateTime, FeelTime
from .values import NUMBER_CONTEXT, DaysTimeDuration, FeelFunction, Range, YearsMonthsDuration

C = NUMBER_CONTEXT


class ArithmeticFault(ArithmeticError):
    """A numeric fault FEEL turns into null with a warning."""


def kind(value: Any) -> str:
    """Return FEEL's type name for a value (``number``, ``date and time``, ``list`` ...)."""
    t = type(value)
    found = _KINDS.get(t)
    if found:
        return found
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (Decimal, int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "date and time"
    if isinstance(value, date):
        return "date"
    if isinstance(value, time):
        return "time"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "context"
    if isinstance(value, FeelFunction) or callable(value):
        return "function"
    return "unknown"


_KINDS = {
    Decimal: "number", int: "number", float: "number", bool: "boolean", str: "string",
    date: "date", datetime: "date and time", time: "time", list: "list", dict: "context",
    FarDate: "date", FeelDateTime: "date and time", FeelTime: "time",
    DaysTimeDuration: "days and time duration", YearsMonthsDuration: "years and months duration",
    Range: "range", type(None): "Null",
}


def number(value: Any) -> Decimal:
    return value if type(value) is Decimal else Decimal(str(value))


# -- equality -----------------------------------------------------------------------------
def equals(a: Any, b: Any) -> bool | None:
    """FEEL ``=``: True, False, or None when the operands are not comparable."""
    if a is None or b is None:
        return a is None and b is None
    ka, kb = kind(a), kind(b)
    if ka != kb:
        return None
    if ka == "number":
        return number(a) == number(b)
    if ka == "list":
        if len(a) != len(b):
            return False
        tick(len(a))  # lists may share long sublists: charge each comparison its length
        result: bool | None = True
        for x, y in zip(a, b):
            same = equals(x, y)
            if same is False:
                return False
            if same is None:
                result = None
        return result
    if ka == "context":
        if set(a) != set(b):
            return False
        tick(len(a))
        result = True
        for key in a:
            same = equals(a[key], b[key])
            if same is False:
                return False
            if same is None:
                result = None
        return result
    if ka == "time":
        return temporal.time_key(a) == temporal.time_key(b) and (
            (a.tzinfo is None) == (b.tzinfo is None))
    if ka == "date and time":
        if (a.tzinfo is None) != (b.tzinfo is None):
            return None
        return a == b
    if ka == "range":
        return (a.start_included == b.start_included and a.end_included == b.end_included
                and a.null_endpoint == b.null_endpoint and a.operator == b.operator
                and equals(a.start, b.start) is True and equals(a.end, b.end) is True)
    if ka == "function":
        return a is b
    return a == b


def compare(a: Any, b: Any) -> int | None:
    """Return -1, 0 or 1 for ordered FEEL values of one type, else None."""
    if a is None or b is None:
        return None
    ka = kind(a)
    if ka != kind(b):
        return None
    if ka == "number":
        x, y = number(a), number(b)
    elif ka in ("string", "date", "days and time duration", "years and months duration"):
        x, y = a, b
    elif ka == "date and time":
        if (a.tzinfo is None) != (b.tzinfo is None):
            return None
        x, y = a, b
    elif ka == "time":
        x, y = temporal.time_key(a), temporal.time_key(b)
        if x[0] != y[0]:
            return None
    else:
        return None
    return -1 if x < y else (1 if x > y else 0)


def in_range(value: Any, rng: Range) -> bool | None:
    """Return whether ``value`` lies in ``rng``; None when not comparable."""
    if rng.null_endpoint:
        return None
    if rng.operator is not None:
        same = equals(value, rng.start)
        return same if same is None or rng.operator == "=" else not same
    if rng.start is not None:
        c = compare(value, rng.start)
        if c is None:
            return None
        if c < 0 or (c == 0 and not rng.start_included):
            return False
    if rng.end is not None:
        c = compare(value, rng.end)
        if c is None:
            return None
        if c > 0 or (c == 0 and not rng.end_included):
            return False
    return True


# -- arithmetic ---------------------------------------------------------------------------
def _fault(exc: Exception):
    raise ArithmeticFault(str(exc) or type(exc).__name__) from exc


def add(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    ka, kb = kind(a), kind(b)
    try:
        if ka == "number" and kb == "number":
            return C.add(number(a), number(b))
        if ka == "string" and kb == "string":
            if len(a) + len(b) > 1024:
                check_size(len(a) + len(b), "string")
            return a + b
        if ka == kb and ka in ("days and time duration", "years and months duration"):
            return a + b
        if kb in ("date", "date and time", "time") and ka.endswith("duration"):
            a, b, ka, kb = b, a, kb, ka
        if ka == "date and time" or ka == "date":
            if kb == "days and time duration":
                moved = temporal.as_date_time(a) + temporal.to_timedelta(b)
                return moved.date() if ka == "date" else moved
            if kb == "years and months duration":
                return temporal.add_months(a, b.total_months)
        if ka == "time" and kb == "days and time duration":
            return temporal.add_to_time(a, b)
    except (decimal.DecimalException, OverflowError, ValueError) as exc:
        _fault(exc)
    return None


def subtract(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    ka, kb = kind(a), kind(b)
    try:
        if ka == "number" and kb == "number":
            return C.subtract(number(a), number(b))
        if ka == kb and ka in ("days and time duration", "years and months duration"):
            return a - b
        if ka in ("date", "date and time") and kb in ("date", "date and time"):
            x, y = temporal.as_date_time(a), temporal.as_date_time(b)
            if ka != kb:  # a date meets a zoned date-time as midnight UTC, a local one not at all
                other = y if ka == "date" else x
                if other.tzinfo is None:
                    return None
                x = x if x.tzinfo else x.replace(tzinfo=timezone.utc)
                y = y if y.tzinfo else y.replace(tzinfo=timezone.utc)
            if (x.tzinfo is None) != (y.tzinfo is None):
                return None
            return temporal.from_timedelta(x - y)
        if ka == "time" and kb == "time":
            kx, ky = temporal.time_key(a), temporal.time_key(b)
            if kx[0] != ky[0]:
                return None
            return DaysTimeDuration(kx[1] - ky[1])
        if ka in ("date", "date and time", "time") and kb.endswith("duration"):
            return add(a, -b)
    except (decimal.DecimalException, OverflowError, ValueError) as exc:
        _fault(exc)
    return None


def multiply(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    ka, kb = kind(a), kind(b)
    try:
        if ka == "number" and kb == "number":
            return C.multiply(number(a), number(b))
        if kb.endswith("duration") and ka == "number":
            a, b, ka, kb = b, a, kb, ka
        if ka == "days and time duration" and kb == "number":
            return DaysTimeDuration(C.multiply(a.total_seconds, number(b)))
        if ka == "years and months duration" and kb == "number":
            return YearsMonthsDuration(int(C.multiply(Decimal(a.total_months), number(b))))
    except (decimal.DecimalException, OverflowError, ValueError) as exc:
        _fault(exc)
    return None


def divide(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    ka, kb = kind(a), kind(b)
    try:
        if ka == "number" and kb == "number":
            if number(b) == 0:
                raise ArithmeticFault("division by zero")
            return C.divide(number(a), number(b))
        if ka == "days and time duration" and kb == "number":
            if number(b) == 0:
                raise ArithmeticFault("division by zero")
            return DaysTimeDuration(C.divide(a.total_seconds, number(b)))
        if ka == "years and months duration" and kb == "number":
            if number(b) == 0:
                raise ArithmeticFault("division by zero")
            return YearsMonthsDuration(int(C.divide(Decimal(a.total_months), number(b))))
        if ka == kb == "days and time duration":
            if not b.total_seconds:
                raise ArithmeticFault("division by zero")
            return C.divide(a.total_seconds, b.total_seconds)
        if ka == kb == "years and months duration":
            if not b.total_months:
                raise ArithmeticFault("division by zero")
            return C.divide(Decimal(a.total_months), Decimal(b.total_months))
    except (decimal.DecimalException, OverflowError, ValueError) as exc:
        _fault(exc)
    return None


def power(a: Any, b: Any) -> Any:
    if a is None or b is None or kind(a) != "number" or kind(b) != "number":
        return None
    try:
        x, y = number(a), number(b)
        if y == y.to_integral_value() and abs(y) < 1000000:
            return C.power(x, int(y))
        return C.power(x, y)
    except (decimal.DecimalException, OverflowError, ValueError) as exc:
        _fault(exc)


def negate(a: Any) -> Any:
    if a is None:
        return None
    k = kind(a)
    if k == "number":
        return C.minus(number(a))
    if k.endswith("duration"):
        return -a
    return None


ARITHMETIC = {"+": add, "-": subtract, "*": multiply, "/": divide, "**": power}
