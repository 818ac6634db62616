"""Read the named properties of FEEL temporal values, durations and ranges (``x.year``)."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from . import temporal
from .scope import MISSING
from .values import DaysTimeDuration, Range, YearsMonthsDuration


def _offset(value):
    tz = value.tzinfo
    if tz is None:
        return None
    offset = value.utcoffset() if isinstance(value, datetime) else temporal.time_offset(value)
    return temporal.from_timedelta(offset) if offset is not None else None


def _zone(value):
    tz = value.tzinfo
    if isinstance(tz, ZoneInfo):
        return tz.key
    return None


_DATE = {
    "year": lambda v: Decimal(v.year), "month": lambda v: Decimal(v.month),
    "day": lambda v: Decimal(v.day), "weekday": lambda v: Decimal(v.isoweekday()),
}
_TIME = {
    "hour": lambda v: Decimal(v.hour), "minute": lambda v: Decimal(v.minute),
    "second": lambda v: Decimal(v.second) + Decimal(v.microsecond).scaleb(-6)
    if v.microsecond else Decimal(v.second),
    "time offset": _offset, "timezone": _zone,
}
_DATE_TIME = {**_DATE, **_TIME}
_DAYS_TIME = {
    "days": lambda v: Decimal(v.days), "hours": lambda v: Decimal(v.hours),
    "minutes": lambda v: Decimal(v.minutes), "seconds": lambda v: v.secs,
}
_YEARS_MONTHS = {"years": lambda v: Decimal(v.years), "months": lambda v: Decimal(v.months)}
_RANGE = {
    "start": lambda v: v.start, "end": lambda v: v.end,
    "start included": lambda v: v.start_included if v.start is not None else False,
    "end included": lambda v: v.end_included if v.end is not None else False,
}


def get_property(value: Any, key: str) -> Any:
    """Return the property ``key`` of ``value`` or ``MISSING`` when it has none."""
    if isinstance(value, datetime):
        table = _DATE_TIME
    elif isinstance(value, date):
        table = _DATE
    elif isinstance(value, time):
        table = _TIME
    elif isinstance(value, DaysTimeDuration):
        table = _DAYS_TIME
    elif isinstance(value, YearsMonthsDuration):
        table = _YEARS_MONTHS
    elif isinstance(value, Range):
        table = _RANGE
    else:
        return MISSING
    getter = table.get(key)
    return MISSING if getter is None else getter(value)
