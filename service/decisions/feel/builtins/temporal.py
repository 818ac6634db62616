"""FEEL date, time and duration built-ins: constructors, calendar queries and ``is``.

Constructors accept either the ISO text form or the component numbers, as the specification's
overloads list; text that is not exactly ISO 8601 (as FEEL restricts it) gives null.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from decimal import Decimal

from .. import datetimes
from .. import temporal as tv
from ..semantics import equals, kind
from ..values import DaysTimeDuration, YearsMonthsDuration
from .arguments import date_value, integer, number, string
from .registry import FeelError, builtin

_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]


def _parse(parser, text):
    try:
        return parser(string(text, "from"))
    except tv.TemporalError as exc:
        raise FeelError(str(exc)) from exc


@builtin("date", "from", "year, month, day")
def make_date(*args):
    if len(args) == 1:
        value = args[0]
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        return _parse(tv.parse_date, value)
    year, month, day = (integer(a, n) for a, n in zip(args, ("year", "month", "day")))
    try:
        return datetimes.make_date(year, month, day)
    except ValueError as exc:
        raise FeelError(str(exc)) from exc


@builtin("date and time", "from", "date, time")
def make_date_time(*args):
    if len(args) == 1:
        value = args[0]
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return tv.as_date_time(value)
        return _parse(tv.parse_date_time, value)
    day, moment = args
    if not isinstance(day, date) or not isinstance(moment, time) or isinstance(moment, datetime):
        raise FeelError("date and time(date, time) needs a date and a time")
    return datetimes.make_date_time(day.year, day.month, day.day, moment.hour, moment.minute,
                                    moment.second, moment.microsecond, moment.tzinfo,
                                    nanos=datetimes.nanos_of(moment))


@builtin("time", "from", "hour, minute, second, offset?")
def make_time(*args):
    if len(args) == 1:
        value = args[0]
        if isinstance(value, datetime):
            return value.timetz()
        if isinstance(value, date):
            return time(0, 0, 0, tzinfo=timezone.utc)
        if isinstance(value, time):
            return value
        return _parse(tv.parse_time, value)
    hour, minute = integer(args[0], "hour"), integer(args[1], "minute")
    second = number(args[2], "second")
    whole = int(second)
    micro, nanos = divmod(int((second - whole) * 1_000_000_000), 1000)
    tz = None
    if len(args) > 3 and args[3] is not None:
        offset = args[3]
        if not isinstance(offset, DaysTimeDuration):
            raise FeelError("offset must be a days and time duration")
        try:
            tz = timezone(tv.to_timedelta(offset))
        except ValueError as exc:
            raise FeelError(str(exc)) from exc
    try:
        return datetimes.make_time(hour, minute, whole, micro, tz, nanos=nanos)
    except ValueError as exc:
        raise FeelError(str(exc)) from exc


@builtin("duration", "from")
def make_duration(text):
    return _parse(tv.parse_duration, text)


@builtin("years and months duration", "from, to")
def years_and_months(start, end):
    if not isinstance(start, date) or not isinstance(end, date):
        raise FeelError("from and to must be dates")
    # whole months between the calendar dates: the time of day does not count
    a = start.date() if isinstance(start, datetime) else start
    b = end.date() if isinstance(end, datetime) else end
    return YearsMonthsDuration(tv.months_between(b, a))


@builtin("now", "")
def now():
    return datetime.now(timezone.utc)


@builtin("today", "")
def today():
    return date.today()


@builtin("day of year", "date")
def day_of_year(value):
    return Decimal(date_value(value, "date").timetuple().tm_yday)


@builtin("day of week", "date")
def day_of_week(value):
    return _DAYS[date_value(value, "date").weekday()]


@builtin("month of year", "date")
def month_of_year(value):
    return _MONTHS[date_value(value, "date").month - 1]


@builtin("week of year", "date")
def week_of_year(value):
    return Decimal(date_value(value, "date").isocalendar()[1])


@builtin("is", "value1?, value2?")
def same(a=None, b=None):
    if kind(a) != kind(b):
        return False
    if isinstance(a, (datetime, time)):
        if a.tzinfo != b.tzinfo and not (
                a.tzinfo is not None and b.tzinfo is not None
                and tv.format_offset(a.tzinfo, a) == tv.format_offset(b.tzinfo, b)):
            return False
    return equals(a, b) is True

