"""Column types shared by the tables."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import peewee


def json_default(value):
    """Encode the values our engines produce (decimals, temporals, durations) as JSON."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None                       # JSON has no NaN or Infinity
        if abs(value.adjusted()) > 300:
            return str(value)                 # int() of 1E+999999999 would not finish
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def iso(value):
    """A datetime (or None) as ISO 8601 text, the way every answer and audit detail shows it."""
    return value.isoformat() if value is not None else None


def dumps(value) -> str:
    return json.dumps(value, default=json_default, separators=(",", ":"), ensure_ascii=False)


def to_jsonable(value):
    """The value as plain JSON types (round trip through the encoder)."""
    return json.loads(dumps(value))


class JSONField(peewee.TextField):
    """JSON stored as text, so SQLite and PostgreSQL behave the same."""

    def db_value(self, value):
        return None if value is None else dumps(value)

    def python_value(self, value):
        return None if value is None else json.loads(value)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTimeField(peewee.DateTimeField):
    """Aware UTC datetimes in, aware UTC datetimes out, on both databases.

    Stored as naive UTC text/timestamp: SQLite has no time zone type, and one representation
    keeps due-time comparisons index-friendly on both.
    """
    field_type = "DATETIME"

    def db_value(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value
