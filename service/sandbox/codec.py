"""What crosses the pipe to the isolated script process: length-prefixed JSON messages.

JSON, not pickle: a reply is read by the service process, and unpickling lets whoever wrote the
bytes run code in the reader; a sandbox escape in the isolated process must not reach further.
Values keep the types process data has beyond JSON (dates, times, durations, decimals) as tagged
objects; tuples and sets arrive as lists.
"""
from __future__ import annotations

import datetime as dt
import json
import struct
from decimal import Decimal
from typing import Any

__all__ = ["HEADER", "decode", "encode", "frame", "length"]

HEADER = 4
_TAG = "\u0000of"
_LENGTH = struct.Struct(">I")


def _tagged(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, dt.time):
        return {_TAG: "time", "v": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {_TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, Decimal):
        return {_TAG: "decimal", "v": str(value)}
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"a value of type {type(value).__name__} cannot be passed to or from a script")


_FROM_TAG = {
    "datetime": dt.datetime.fromisoformat, "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat, "timedelta": lambda v: dt.timedelta(*v), "decimal": Decimal,
}


def _untagged(obj: dict) -> Any:
    kind = obj.get(_TAG)
    if kind not in _FROM_TAG or len(obj) != 2:
        return obj
    return _FROM_TAG[kind](obj["v"])


def encode(value: Any) -> bytes:
    """JSON bytes of ``value``; ``TypeError`` for what has no JSON form."""
    return json.dumps(value, default=_tagged, separators=(",", ":")).encode()


def decode(data: bytes) -> Any:
    return json.loads(data, object_hook=_untagged)


def frame(payload: bytes) -> bytes:
    """``payload`` with its length in front, as one message on the pipe."""
    return _LENGTH.pack(len(payload)) + payload


def length(header: bytes) -> int:
    return _LENGTH.unpack(header)[0]
