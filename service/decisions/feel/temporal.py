"""Read, write and do arithmetic on FEEL dates, times, date-times and durations.

FEEL keeps two kinds of time zone apart: an offset (``+01:00``, ``Z``) and an IANA zone id
(``@Europe/Paris``). Offsets become ``datetime.timezone``, zone ids ``zoneinfo.ZoneInfo``; the
formatter prints each the way it was written. Years outside Python's 1..9999 and fractions
finer than a microsecond are held by the value types of :mod:`.datetimes`.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from .datetimes import format_year, make_date, make_date_time, make_time, nanos_of
from .values import NUMBER_CONTEXT, DaysTimeDuration, YearsMonthsDuration

_DATE = re.compile(r"(-?\d{4,9})-(\d\d)-(\d\d)")
_TIME = re.compile(
    r"(\d\d):(\d\d):(\d\d)(\.\d+)?(?:(Z|z)|([+-])(\d\d):(\d\d)(?::(\d\d))?|@([A-Za-z0-9_+\-/]+))?"
)
_DURATION = re.compile(
    r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d*)?)S)?)?"
)
_ZONES: dict[str, ZoneInfo] = {}


class TemporalError(ValueError):
    """Raised inside this package for text that is not a valid temporal literal."""


def zone(name: str):
    """Return the tzinfo for an IANA zone id, caching it (ZoneInfo loads a file)."""
    if name in ("UTC", "Z"):
        return ZoneInfo("UTC")
    found = _ZONES.get(name)
    if found is None:
        try:
            found = ZoneInfo(name)
        except (ValueError, KeyError, OSError) as exc:
            raise TemporalError(f"unknown time zone {name!r}") from exc
        _ZONES[name] = found
    return found


def parse_date(text: str) -> date:
    match = _DATE.fullmatch(text)
    if not match:
        raise TemporalError(f"not a date: {text!r}")
    year, month, day = (int(g) for g in match.groups())
    if match.group(1).lstrip("-").startswith("0") and len(match.group(1).lstrip("-")) > 4:
        raise TemporalError(f"not a date: {text!r}")
    try:
        return make_date(year, month, day)
    except ValueError as exc:
        raise TemporalError(f"not a date: {text!r} ({exc})") from exc


def _tz(match) -> object:
    if match.group(5):
        return timezone.utc
    if match.group(6):
        sign = -1 if match.group(6) == "-" else 1
        hours, minutes = int(match.group(7)), int(match.group(8))
        seconds = int(match.group(9) or 0)
        if hours > 18 or minutes > 59:
            raise TemporalError("bad time offset")
        return timezone(sign * timedelta(hours=hours, minutes=minutes, seconds=seconds))
    if match.group(10):
        return zone(match.group(10))
    return None


def _time_parts(match) -> tuple[int, int, int, int, int]:
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3))
    fraction = match.group(4)
    digits = (fraction[1:] + "000000000")[:9] if fraction else "0"
    micro, nanos = divmod(int(digits), 1000)
    if hour > 23 or minute > 59 or second > 59:
        raise TemporalError("time out of range")
    return hour, minute, second, micro, nanos


def parse_time(text: str) -> time:
    match = _TIME.fullmatch(text)
    if not match:
        raise TemporalError(f"not a time: {text!r}")
    hour, minute, second, micro, nanos = _time_parts(match)
    return make_time(hour, minute, second, micro, _tz(match), nanos=nanos)


def parse_date_time(text: str) -> datetime:
    if "T" not in text:
        day = parse_date(text)
        return make_date_time(day.year, day.month, day.day)
    day_text, time_text = text.split("T", 1)
    day = parse_date(day_text)
    match = _TIME.fullmatch(time_text)
    if not match:
        raise TemporalError(f"not a date and time: {text!r}")
    if time_text.startswith("24:00:00") and not match.group(4):
        base = make_date_time(day.year, day.month, day.day, tzinfo=_tz(match))
        return base + timedelta(days=1)
    hour, minute, second, micro, nanos = _time_parts(match)
    try:
        return make_date_time(day.year, day.month, day.day, hour, minute, second, micro,
                              _tz(match), nanos=nanos)
    except (ValueError, OverflowError) as exc:
        raise TemporalError(f"not a date and time: {text!r} ({exc})") from exc


def parse_duration(text: str):
    """Return a ``YearsMonthsDuration`` or ``DaysTimeDuration`` for ISO 8601 text."""
    match = _DURATION.fullmatch(text)
    if not match or text.endswith("T") or text in ("P", "-P"):
        raise TemporalError(f"not a duration: {text!r}")
    sign = -1 if match.group(1) else 1
    years, months, days, hours, minutes = (int(g) if g else 0 for g in match.groups()[1:6])
    seconds = Decimal(match.group(7)) if match.group(7) else Decimal(0)
    has_ym = match.group(2) is not None or match.group(3) is not None
    has_dt = any(match.group(k) is not None for k in (4, 5, 6, 7))
    if has_ym and not has_dt:
        return YearsMonthsDuration(sign * (years * 12 + months))
    if has_ym:  # a mixed duration keeps its days and time part, as most engines do
        raise TemporalError(f"duration mixes years/months and days/time: {text!r}")
    total = Decimal(days * 86400 + hours * 3600 + minutes * 60) + seconds
    return DaysTimeDuration(total if sign > 0 else -total)


def parse_temporal_literal(text: str):
    """Return the value of an ``@"..."`` literal: date, time, date-time or duration."""
    for parser in (parse_date, parse_date_time, parse_time, parse_duration):
        try:
            return parser(text)
        except TemporalError:
            continue
    raise TemporalError(f"not a temporal literal: {text!r}")


# -- formatting ---------------------------------------------------------------------------
def _fraction(micro: int, nanos: int = 0) -> str:
    if nanos:
        return "." + f"{micro:06d}{nanos:03d}".rstrip("0")
    return ("." + f"{micro:06d}".rstrip("0")) if micro else ""


def format_offset(tz, value) -> str:
    if tz is None:
        return ""
    if isinstance(tz, ZoneInfo):
        return "@" + tz.key
    offset = tz.utcoffset(None)
    if not offset:
        return "Z"
    total = int(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    total = abs(total)
    text = f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}"
    return text + (f":{total % 60:02d}" if total % 60 else "")


def format_time(value: time) -> str:
    return (f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
            f"{_fraction(value.microsecond, nanos_of(value))}"
            f"{format_offset(value.tzinfo, value)}")


def format_date(value: date) -> str:
    return f"{format_year(value.year)}-{value.month:02d}-{value.day:02d}"


def format_date_time(value: datetime) -> str:
    return f"{format_date(value)}T{format_time(value.timetz())}"


# -- arithmetic ---------------------------------------------------------------------------
def to_timedelta(duration: DaysTimeDuration) -> timedelta:
    seconds = duration.total_seconds
    whole = int(seconds)
    micro = int((seconds - whole) * 1000000)
    return timedelta(seconds=whole, microseconds=micro)


def from_timedelta(delta: timedelta) -> DaysTimeDuration:
    micro = (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds
    return DaysTimeDuration(Decimal(micro).scaleb(-6, NUMBER_CONTEXT).normalize(NUMBER_CONTEXT))


def add_months(value, months: int):
    """Shift a date or date-time by calendar months, clamping the day to the month's end."""
    total = value.year * 12 + (value.month - 1) + months
    year, month = divmod(total, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    if isinstance(value, datetime):
        return make_date_time(year, month + 1, day, value.hour, value.minute, value.second,
                              value.microsecond, value.tzinfo, nanos=nanos_of(value))
    return make_date(year, month + 1, day)


def months_between(later, earlier) -> int:
    """Whole months from ``earlier`` to ``later`` (negative when ``later`` is before)."""
    if later < earlier:
        return -months_between(earlier, later)
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    if add_months(earlier, months) > later:
        months -= 1
    return months


def as_date_time(value) -> datetime:
    """Promote a date to a date-time at midnight (UTC-less) for mixed arithmetic."""
    if isinstance(value, datetime):
        return value
    return make_date_time(value.year, value.month, value.day)


def time_seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def time_offset(value: time):
    """Return the UTC offset of a time as a timedelta, or None when it has none."""
    tz = value.tzinfo
    if tz is None:
        return None
    if isinstance(tz, ZoneInfo):
        return tz.utcoffset(datetime(2000, 1, 1))  # a zone id alone has no date: use any
    return tz.utcoffset(None)


def time_key(value: time) -> tuple[bool, Decimal]:
    """Return (has zone, seconds since midnight UTC) for ordering times."""
    seconds = Decimal(time_seconds(value)) + Decimal(
        value.microsecond * 1000 + nanos_of(value)).scaleb(-9)
    offset = time_offset(value)
    if offset is None:
        return False, seconds
    return True, (seconds - Decimal(int(offset.total_seconds()))) % 86400


def add_to_time(value: time, duration: DaysTimeDuration) -> time:
    base = datetime(2000, 1, 1, value.hour, value.minute, value.second, value.microsecond)
    moved = base + to_timedelta(duration)
    return moved.time().replace(tzinfo=value.tzinfo)
