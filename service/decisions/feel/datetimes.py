"""FEEL dates and times beyond Python's: years outside 1..9999, and nanoseconds.

FEEL dates run from year -999,999,999 to 999,999,999 and its times to the nanosecond; Python's
``date``/``datetime`` stop at years 1 and 9999 and at the microsecond. Values within Python's
range stay plain ``date``/``datetime``/``time``. The others are the subclasses below, so that
every ``isinstance`` test and every stdlib method that does not build a new value still works:

* ``FarDate``/``FeelDateTime`` hold a far year as the same day 400·k years away, in 2000..2399
  (the Gregorian calendar, weekdays included, repeats every 400 years: 146,097 days), and
  report the real ``year``. Arithmetic, ``replace``, ``date()``, comparisons and ``isoformat``
  are overridden to use the real year; the stdlib versions would rebuild from the held one.
* ``FeelDateTime``/``FeelTime`` also carry ``nanos``, the digits past the microsecond (0..999),
  kept through construction and formatting; arithmetic works on microseconds, as Python's does.

Build values with :func:`make_date`, :func:`make_date_time` and :func:`make_time`, which return
a plain value whenever one can hold it.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

CYCLE_YEARS = 400
CYCLE_DAYS = 146_097
_HELD_FROM = 2000                 # far years are held in 2000..2399
MAX_YEAR = 999_999_999            # FEEL's range of years


def _split(year: int) -> tuple[int, int]:
    """Return (held year, 400-year cycles) for a real year."""
    if 1 <= year <= 9999:
        return year, 0
    if abs(year) > MAX_YEAR:
        raise ValueError(f"year {year} is out of range")
    cycles = (year - _HELD_FROM) // CYCLE_YEARS
    return year - CYCLE_YEARS * cycles, cycles


def format_year(year: int) -> str:
    """Return a year as ISO 8601 writes it: at least four digits, a sign before negatives."""
    return f"-{-year:04d}" if year < 0 else f"{year:04d}"


def _days(value: date) -> int:
    """Days since day 1 of year 1 (negative before it), for plain and far dates alike."""
    plain = date.toordinal(value)
    return plain + CYCLE_DAYS * getattr(value, "cycles", 0)


def make_date(year: int, month: int, day: int) -> date:
    """Return the date, plain when Python can hold it; ``ValueError`` when it is invalid."""
    if 1 <= year <= 9999:
        return date(year, month, day)
    return FarDate(year, month, day)


def make_date_time(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
                   second: int = 0, microsecond: int = 0, tzinfo=None, *,
                   nanos: int = 0) -> datetime:
    """Return the date and time, plain when Python can hold it (and ``nanos`` is 0)."""
    if 1 <= year <= 9999 and not nanos:
        return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=tzinfo)
    return FeelDateTime(year, month, day, hour, minute, second, microsecond, tzinfo,
                        nanos=nanos)


def make_time(hour: int, minute: int, second: int, microsecond: int = 0, tzinfo=None, *,
              nanos: int = 0) -> time:
    """Return the time, plain unless it has ``nanos``."""
    if not nanos:
        return time(hour, minute, second, microsecond, tzinfo=tzinfo)
    return FeelTime(hour, minute, second, microsecond, tzinfo, nanos=nanos)


def nanos_of(value) -> int:
    """Return the nanoseconds past the microsecond of a time or date and time (0 if none)."""
    return getattr(value, "nanos", 0)


class FarDate(date):
    """A date whose year is outside 1..9999 (see the module docstring)."""

    __slots__ = ("cycles",)

    def __new__(cls, year: int, month: int, day: int):
        held, cycles = _split(year)
        self = date.__new__(cls, held, month, day)
        self.cycles = cycles
        return self

    @property
    def year(self) -> int:
        return date.year.__get__(self) + CYCLE_YEARS * self.cycles

    def _held(self) -> date:
        return date(date.year.__get__(self), self.month, self.day)

    def replace(self, year=None, month=None, day=None):
        return make_date(self.year if year is None else year, month or self.month,
                         day or self.day)

    def __add__(self, other):
        if not isinstance(other, timedelta):
            return NotImplemented
        moved = self._held() + other
        return make_date(moved.year + CYCLE_YEARS * self.cycles, moved.month, moved.day)

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, timedelta):
            return self + -other
        if isinstance(other, date) and not isinstance(other, datetime):
            return timedelta(days=_days(self) - _days(other))
        return NotImplemented

    def __rsub__(self, other):
        if isinstance(other, date) and not isinstance(other, datetime):
            return timedelta(days=_days(other) - _days(self))
        return NotImplemented

    def _key(self, other):
        if isinstance(other, datetime) or not isinstance(other, date):
            return None
        return _days(self), _days(other)

    def __eq__(self, other):
        keys = self._key(other)
        return NotImplemented if keys is None else keys[0] == keys[1]

    def __ne__(self, other):
        keys = self._key(other)
        return NotImplemented if keys is None else keys[0] != keys[1]

    def __lt__(self, other):
        keys = self._key(other)
        return NotImplemented if keys is None else keys[0] < keys[1]

    def __le__(self, other):
        keys = self._key(other)
        return NotImplemented if keys is None else keys[0] <= keys[1]

    def __gt__(self, other):
        keys = self._key(other)
        return NotImplemented if keys is None else keys[0] > keys[1]

    def __ge__(self, other):
        keys = self._key(other)
        return NotImplemented if keys is None else keys[0] >= keys[1]

    def __hash__(self):
        return hash(_days(self))

    def isoformat(self) -> str:
        return f"{format_year(self.year)}-{self.month:02d}-{self.day:02d}"

    __str__ = isoformat

    def __repr__(self) -> str:
        return f"FarDate({self.year}, {self.month}, {self.day})"


class FeelDateTime(datetime):
    """A date and time with a far year or nanoseconds (see the module docstring)."""

    __slots__ = ("cycles", "nanos")

    def __new__(cls, year: int, month: int, day: int, hour: int = 0, minute: int = 0,
                second: int = 0, microsecond: int = 0, tzinfo=None, *, nanos: int = 0):
        held, cycles = _split(year)
        self = datetime.__new__(cls, held, month, day, hour, minute, second, microsecond,
                                tzinfo)
        self.cycles = cycles
        self.nanos = nanos
        return self

    @property
    def year(self) -> int:
        return datetime.year.__get__(self) + CYCLE_YEARS * self.cycles

    def _held(self) -> datetime:
        return datetime(datetime.year.__get__(self), self.month, self.day, self.hour,
                        self.minute, self.second, self.microsecond, tzinfo=self.tzinfo)

    def _rebuild(self, held: datetime, cycles: int, nanos: int) -> datetime:
        return make_date_time(held.year + CYCLE_YEARS * cycles, held.month, held.day,
                              held.hour, held.minute, held.second, held.microsecond,
                              held.tzinfo, nanos=nanos)

    def date(self) -> date:
        return make_date(self.year, self.month, self.day)

    def timetz(self) -> time:
        return make_time(self.hour, self.minute, self.second, self.microsecond, self.tzinfo,
                         nanos=self.nanos)

    def time(self) -> time:
        return make_time(self.hour, self.minute, self.second, self.microsecond,
                         nanos=self.nanos)

    def replace(self, year=None, month=None, day=None, hour=None, minute=None, second=None,
                microsecond=None, tzinfo=True, *, nanos=None):
        def pick(given, current):
            return current if given is None else given
        return make_date_time(pick(year, self.year), pick(month, self.month),
                              pick(day, self.day), pick(hour, self.hour),
                              pick(minute, self.minute), pick(second, self.second),
                              pick(microsecond, self.microsecond),
                              self.tzinfo if tzinfo is True else tzinfo,
                              nanos=pick(nanos, self.nanos))

    def __add__(self, other):
        if not isinstance(other, timedelta):
            return NotImplemented
        return self._rebuild(self._held() + other, self.cycles, self.nanos)

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, timedelta):
            return self + -other
        if isinstance(other, datetime):
            other_held = other._held() if isinstance(other, FeelDateTime) else other
            shift = self.cycles - getattr(other, "cycles", 0)
            return self._held() - other_held + timedelta(days=CYCLE_DAYS * shift)
        return NotImplemented

    def __rsub__(self, other):
        if isinstance(other, datetime):
            return -(self - other)
        return NotImplemented

    def _key(self, other):
        """Return comparable keys of self and other, or None when they do not compare."""
        if not isinstance(other, datetime):
            return None
        if (self.tzinfo is None) != (other.tzinfo is None):
            return None
        return _instant(self), _instant(other)

    def __eq__(self, other):
        keys = self._key(other)
        if keys is None:
            return False if isinstance(other, datetime) else NotImplemented
        return keys[0] == keys[1]

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __lt__(self, other):
        keys = self._key(other)
        return NotImplemented if keys is None else keys[0] < keys[1]

    def __le__(self, other):
        keys = self._key(other)
        return NotImplemented if keys is None else keys[0] <= keys[1]

    def __gt__(self, other):
        keys = self._key(other)
        return NotImplemented if keys is None else keys[0] > keys[1]

    def __ge__(self, other):
        keys = self._key(other)
        return NotImplemented if keys is None else keys[0] >= keys[1]

    def __hash__(self):
        return hash(_instant(self))

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return format_year(self.year) + self._held().isoformat(sep, timespec)[4:]

    def __str__(self) -> str:
        return self.isoformat(" ")

    def __repr__(self) -> str:
        return f"FeelDateTime({self.isoformat()!r}, nanos={self.nanos})"


def _instant(value: datetime) -> tuple[int, int, int]:
    """Return (seconds, microseconds, nanoseconds) since year 1, in UTC when zoned."""
    days = datetime.toordinal(value) + CYCLE_DAYS * getattr(value, "cycles", 0)
    seconds = days * 86_400 + value.hour * 3600 + value.minute * 60 + value.second
    offset = value.utcoffset()
    if offset is not None:
        seconds -= int(offset.total_seconds())
    return seconds, value.microsecond, nanos_of(value)


class FeelTime(time):
    """A time with nanoseconds past the microsecond (see the module docstring)."""

    __slots__ = ("nanos",)

    def __new__(cls, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0,
                tzinfo=None, *, nanos: int = 0):
        self = time.__new__(cls, hour, minute, second, microsecond, tzinfo)
        self.nanos = nanos
        return self

    def replace(self, hour=None, minute=None, second=None, microsecond=None, tzinfo=True, *,
                nanos=None):
        def pick(given, current):
            return current if given is None else given
        return make_time(pick(hour, self.hour), pick(minute, self.minute),
                         pick(second, self.second), pick(microsecond, self.microsecond),
                         self.tzinfo if tzinfo is True else tzinfo,
                         nanos=pick(nanos, self.nanos))

    def __repr__(self) -> str:
        return f"FeelTime({self.isoformat()!r}, nanos={self.nanos})"
