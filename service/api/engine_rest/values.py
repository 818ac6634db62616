"""Camunda's typed variables on the wire: ``{"name": {"value": ..., "type": "String"}}``.

In: each value is checked against its declared type and becomes a plain JSON value the engine
keeps (``Json`` text is parsed; ``Date`` stays ISO text); a value that does not fit its type is
a 400 naming the variable, as Camunda answers. A value without a type (the Python clients send
``{"value": 1}``) keeps its JSON type. ``Bytes``, ``File`` and Java-serialized ``Object`` values
are refused: nothing here can read them.

Out: plain values become the type Camunda would report (``String``, ``Boolean``, ``Integer``,
``Long``, ``Double``, ``Null``, ``Json`` for objects and lists, as JSON text).
"""
from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from ...errors import BadRequest

__all__ = ["MAX_VARIABLE_NAME", "from_camunda", "to_camunda", "typed"]

MAX_VARIABLE_NAME = 200
INT_RANGE = (-2**31, 2**31 - 1)
LONG_RANGE = (-2**63, 2**63 - 1)
SHORT_RANGE = (-2**15, 2**15 - 1)


def _bad(name: str, message: str) -> BadRequest:
    return BadRequest(f"variable {name!r}: {message}", field=f"variables.{name}")


def _integer(name: str, kind: str, value: Any, bounds: tuple[int, int]) -> int:
    if isinstance(value, bool):
        raise _bad(name, f"{value!r} is not a {kind}")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise _bad(name, f"cannot convert {value!r} to {kind}") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise _bad(name, f"{value!r} is not a {kind}")
    if not bounds[0] <= value <= bounds[1]:
        raise _bad(name, f"{value} is out of the {kind} range")
    return value


def _double(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise _bad(name, f"{value!r} is not a Double")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _bad(name, f"cannot convert {value!r} to Double") from None
    if not math.isfinite(number):
        raise _bad(name, "a Double must be finite")
    return int(number) if isinstance(value, int) else number


def _date(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad(name, f"{value!r} is not a Date (send ISO 8601 text)")
    text = value.strip()
    # Camunda's default format ends in +0200; Python wants +02:00 before 3.11's wider parser.
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(name, f"cannot convert {value!r} to Date") from None
    return parsed.isoformat()


def _json(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except (ValueError, RecursionError):
        raise _bad(name, "the Json value is not valid JSON") from None


def _one(name: str, entry: Any) -> Any:
    if not isinstance(entry, dict) or "value" not in entry and entry.get("type") != "Null":
        raise _bad(name, 'send {"value": ..., "type": ...}')
    value, kind = entry.get("value"), entry.get("type")
    if kind is None:
        if isinstance(value, float) and not math.isfinite(value):
            raise _bad(name, "numbers must be finite")
        return value
    if not isinstance(kind, str):
        raise _bad(name, "type must be text")
    kind = kind[:1].upper() + kind[1:]
    if value is None or kind == "Null":
        return None
    if kind == "String":
        if isinstance(value, (dict, list)):
            raise _bad(name, "a String cannot be an object or a list")
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _bad(name, f"cannot convert {value!r} to Boolean")
    if kind == "Integer":
        return _integer(name, "Integer", value, INT_RANGE)
    if kind == "Long":
        return _integer(name, "Long", value, LONG_RANGE)
    if kind == "Short":
        return _integer(name, "Short", value, SHORT_RANGE)
    if kind == "Double":
        return _double(name, value)
    if kind == "Date":
        return _date(name, value)
    if kind == "Json":
        return _json(name, value)
    if kind == "Object":
        info = entry.get("valueInfo") or {}
        if info.get("serializationDataFormat") not in (None, "application/json"):
            raise _bad(name, "only application/json Object values can be read here")
        return _json(name, value)
    raise _bad(name, f"type {kind!r} is not supported (String, Boolean, Integer, Short, Long, "
                     "Double, Date, Json, Object as JSON, Null)")


def from_camunda(variables: Any, *, where: str = "variables") -> dict:
    """``{"name": {"value", "type"}}`` -> ``{"name": plain value}``; 400 naming a bad one."""
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise BadRequest(f"{where} must be an object of typed values", field=where)
    out = {}
    for name, entry in variables.items():
        if not isinstance(name, str) or not name or len(name) > MAX_VARIABLE_NAME:
            raise BadRequest(f"{where}: variable names are 1 to {MAX_VARIABLE_NAME} characters",
                             field=where)
        out[name] = _one(name, entry)
    return out


def typed(value: Any) -> dict:
    """One plain value as Camunda reports it."""
    if value is None:
        return {"type": "Null", "value": None, "valueInfo": {}}
    if isinstance(value, bool):
        return {"type": "Boolean", "value": value, "valueInfo": {}}
    if isinstance(value, int):
        kind = "Integer" if INT_RANGE[0] <= value <= INT_RANGE[1] else "Long"
        if not LONG_RANGE[0] <= value <= LONG_RANGE[1]:
            return {"type": "String", "value": str(value), "valueInfo": {}}
        return {"type": kind, "value": value, "valueInfo": {}}
    if isinstance(value, float):
        return {"type": "Double", "value": value, "valueInfo": {}}
    if isinstance(value, str):
        return {"type": "String", "value": value, "valueInfo": {}}
    if isinstance(value, (dict, list)):
        return {"type": "Json", "value": json.dumps(value, default=str), "valueInfo": {}}
    return {"type": "String", "value": str(value), "valueInfo": {}}


def to_camunda(variables: dict, names=None) -> dict:
    """Plain variables as Camunda's typed map (only ``names`` when given)."""
    wanted = variables if names is None else {n: variables[n] for n in names if n in variables}
    return {name: typed(value) for name, value in wanted.items()}
