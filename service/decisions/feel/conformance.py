"""Decide FEEL ``instance of``: parse type texts and test values against them.

Types are parsed once (cached) into tuples: ``("name", n)``, ``("list", T)``,
``("context", ((key, T), ...))``, ``("range", T)``, ``("function", (T, ...), U)``. A name that is
not built in (an item definition such as ``tPerson`` or ``tns.tPerson``) is asked of the
``type_resolver`` the DMN layer puts in the scope: ``resolver(name)`` returns a predicate or
``None`` (unknown type: the test is false).
"""
from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable

from service.sandbox import tick

from .values import DaysTimeDuration, FeelFunction, Range, YearsMonthsDuration

Resolver = Callable[[str], "Callable[[Any], bool] | None"]

_TOKEN = re.compile(r"\s*(->|[<>,:]|[^<>,:\s][^<>,:]*?(?=\s*(?:->|[<>,:]|$)))")


def _is_number(v):
    return isinstance(v, (Decimal, int, float)) and not isinstance(v, bool)


def _is_date(v):
    return isinstance(v, date) and not isinstance(v, datetime)


BUILTIN_TYPES: dict[str, Callable[[Any], bool]] = {
    "number": _is_number,
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "date": _is_date,
    "time": lambda v: isinstance(v, time),
    "date and time": lambda v: isinstance(v, datetime),
    "dateTime": lambda v: isinstance(v, datetime),
    "days and time duration": lambda v: isinstance(v, DaysTimeDuration),
    "dayTimeDuration": lambda v: isinstance(v, DaysTimeDuration),
    "years and months duration": lambda v: isinstance(v, YearsMonthsDuration),
    "yearMonthDuration": lambda v: isinstance(v, YearsMonthsDuration),
    "list": lambda v: isinstance(v, list),
    "context": lambda v: isinstance(v, dict),
    "range": lambda v: isinstance(v, Range),
    "function": lambda v: isinstance(v, FeelFunction),
    "Any": lambda v: v is not None,
    "Null": lambda v: v is None,
}


class TypeSyntaxError(ValueError):
    """A type text that cannot be parsed."""


@lru_cache(maxsize=1024)
def parse_type(text: str):
    """Return the parsed form of a FEEL type text; raise ``TypeSyntaxError``."""
    tokens = [m.group(1).strip() for m in _TOKEN.finditer(text) if m.group(1).strip()]
    if "".join(tokens).replace(" ", "") != text.replace(" ", "").replace("\n", ""):
        raise TypeSyntaxError(f"bad type {text!r}")
    parsed, rest = _parse(tokens, 0)
    if rest != len(tokens):
        raise TypeSyntaxError(f"bad type {text!r}")
    return parsed


def _expect(tokens, i, text):
    if i >= len(tokens) or tokens[i] != text:
        raise TypeSyntaxError(f"expected {text!r} in type")
    return i + 1


def _parse(tokens: list[str], i: int):
    if i >= len(tokens):
        raise TypeSyntaxError("missing type")
    head = tokens[i]
    generic = i + 1 < len(tokens) and tokens[i + 1] == "<"
    if head in ("list", "range") and generic:
        inner, i = _parse(tokens, i + 2)
        return (head, inner), _expect(tokens, i, ">")
    if head == "context" and generic:
        i += 2
        entries = []
        while tokens[i] != ">":
            key = tokens[i]
            i = _expect(tokens, i + 1, ":")
            entry, i = _parse(tokens, i)
            entries.append((key, entry))
            if tokens[i] == ",":
                i += 1
        return ("context", tuple(entries)), i + 1
    if head == "function" and generic:
        i += 2
        params = []
        while tokens[i] != ">":
            param, i = _parse(tokens, i)
            params.append(param)
            if tokens[i] == ",":
                i += 1
        i = _expect(tokens, i + 1, "->")
        result, i = _parse(tokens, i)
        return ("function", tuple(params), result), i
    return ("name", " ".join(head.split())), i + 1


def conforms(value: Any, parsed, resolver: Resolver | None) -> bool:
    """Return whether ``value`` is an instance of the parsed type."""
    tag = parsed[0]
    if tag == "name":
        name = parsed[1]
        check = BUILTIN_TYPES.get(name)
        if check is None and resolver is not None:
            check = resolver(name)
        if check is None and ("." in name or ":" in name):
            local = name.replace(":", ".").rsplit(".", 1)[1]
            check = BUILTIN_TYPES.get(local) or (resolver(local) if resolver else None)
        return bool(check(value)) if check else False
    if tag == "list":
        if isinstance(value, list):
            tick(len(value))
        return isinstance(value, list) and all(
            v is None or conforms(v, parsed[1], resolver) for v in value)
    if tag == "context":
        return isinstance(value, dict) and all(
            key in value and (value[key] is None or conforms(value[key], t, resolver))
            for key, t in parsed[1])
    if tag == "range":
        return isinstance(value, Range) and all(
            v is None or conforms(v, parsed[1], resolver) for v in (value.start, value.end))
    if tag == "function":
        if not isinstance(value, FeelFunction):
            return False
        params, result = parsed[1], parsed[2]
        if getattr(value, "variadic", False):
            return True
        if len(value.params) != len(params):
            return False
        declared = value.param_types or [None] * len(params)
        for wanted, have in zip(params, declared):
            if have is not None and not is_subtype(wanted, parse_type(have)):
                return False
        if value.result_type is not None:
            return is_subtype(parse_type(value.result_type), result)
        return result == ("name", "Any")
    return False


def is_subtype(a, b) -> bool:
    """Return whether every value of parsed type ``a`` is a value of parsed type ``b``."""
    if b == ("name", "Any") or a == b:
        return True
    if a[0] != b[0]:
        return False
    if a[0] in ("list", "range"):
        return is_subtype(a[1], b[1])
    if a[0] == "context":
        have = dict(a[1])
        return all(k in have and is_subtype(have[k], t) for k, t in b[1])
    if a[0] == "function":
        return (len(a[1]) == len(b[1]) and all(is_subtype(y, x) for x, y in zip(a[1], b[1]))
                and is_subtype(a[2], b[2]))
    return False


def is_instance(value: Any, type_text: str, type_resolver: Resolver | None = None) -> bool:
    """FEEL ``value instance of <type_text>``; an unparsable type gives False."""
    try:
        parsed = parse_type(type_text)
    except TypeSyntaxError:
        return False
    if value is None:
        return parsed == ("name", "Null")
    return conforms(value, parsed, type_resolver)
