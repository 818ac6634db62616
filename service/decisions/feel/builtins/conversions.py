"""FEEL conversion and boolean built-ins: ``number``, ``string``, ``not``, ``is defined``."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ..formatting import format_value
from .arguments import string
from .registry import FeelError, builtin

_NUMBER_CHARS = set("0123456789+-.eE")


@builtin("number", "from, grouping separator?, decimal separator?")
def to_number(text, grouping=None, decimal_sep=None):
    text = string(text, "from")
    if grouping is not None and grouping not in (" ", ",", "."):
        raise FeelError("grouping separator must be space, comma or period")
    if decimal_sep is not None and decimal_sep not in (",", "."):
        raise FeelError("decimal separator must be comma or period")
    if grouping is not None and grouping == decimal_sep:
        raise FeelError("grouping and decimal separators must differ")
    if grouping:
        text = text.replace(grouping, "")
    if decimal_sep:
        text = text.replace(decimal_sep, ".")
    if not text or set(text) - _NUMBER_CHARS:
        raise FeelError("not a number")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise FeelError("not a number") from exc


@builtin("string", "from")
def to_string(value):
    if value is None:
        return None
    return format_value(value)


@builtin("not", "negand")
def negation(value):
    return (not value) if isinstance(value, bool) else None
