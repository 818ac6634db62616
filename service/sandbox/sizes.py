"""How long a value's text is, found without writing it, and whether a process may store it.

Writing a value out (``json.dumps``, ``str``, ``repr``) is one C call that no deadline can
interrupt, and a value can be far larger written than in memory: ``b = [a] * 1000`` holds a
thousand references to one list but writes it a thousand times. :func:`text_size` walks the
value instead, counting each shared part as often as the text would repeat it but walking it
once (memoized by identity), and stops as soon as the count passes the limit, so its own cost is
bounded by the limit, not by the value.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from .budget import BudgetExceeded, current

__all__ = ["MAX_DEPTH", "check_storable", "text_size"]

#: Nesting deeper than this is refused: serializers and ``repr`` recurse once per level.
MAX_DEPTH = 64

_SCALAR_TEXT = {bool: 5, type(None): 4, float: 24, dt.date: 12, dt.time: 20, dt.datetime: 34,
                dt.timedelta: 30}
_CONTAINERS = (list, tuple, dict, set, frozenset)


def text_size(value: Any, limit: int, what: str = "value") -> int:
    """Return about how many characters ``value`` takes as JSON or ``repr`` text.

    Strings count their length (escapes can make the real text a few times longer, which is
    still bounded). Raises :class:`BudgetExceeded` (``size``) once the count passes ``limit``
    or the nesting passes :data:`MAX_DEPTH`, and ``ValueError`` for a container that contains
    itself.
    """
    walk = _Walk(limit, what)
    size = walk.size(value, 0)
    if size > limit:
        raise walk.too_big(size)
    return size


class _Walk:
    __slots__ = ("limit", "what", "memo", "budget")

    def __init__(self, limit: int, what: str):
        self.limit = limit
        self.what = what
        self.memo: dict[int, int | None] = {}
        self.budget = current()

    def too_big(self, found: int) -> BudgetExceeded:
        return BudgetExceeded("size", f"{self.what} would be more than {self.limit:,} characters "
                                      f"long written out (at least {found:,})")

    def size(self, value: Any, depth: int) -> int:
        kind = type(value)
        if kind is str:
            return len(value) + 2
        if kind is int:
            return value.bit_length() * 3 // 10 + 2
        if kind in _SCALAR_TEXT:
            return _SCALAR_TEXT[kind]
        if not isinstance(value, _CONTAINERS):
            if isinstance(value, (str, bytes, bytearray)):
                return len(value) + 3
            if isinstance(value, Decimal):
                return len(value.as_tuple().digits) + 8
            return 64
        key = id(value)
        if key in self.memo:
            known = self.memo[key]
            if known is None:
                raise ValueError(f"{self.what} contains itself")
            return known
        if depth >= MAX_DEPTH:
            raise BudgetExceeded("size", f"{self.what} is nested more than {MAX_DEPTH} levels deep")
        count = len(value)
        total = 2 + 2 * count
        if total > self.limit:
            raise self.too_big(total)
        self.budget.tick(count + 1)
        self.memo[key] = None
        items = value.items() if isinstance(value, dict) else ((item,) for item in value)
        for pair in items:
            for part in pair:
                total += self.size(part, depth + 1)
            if total > self.limit:
                raise self.too_big(total)
        self.memo[key] = total
        return total


def _temporal(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"a value of type {type(value).__name__} cannot be stored")


def check_storable(name: str, value: Any, limit: int) -> int:
    """Refuse a variable the instance state cannot hold: larger than ``limit`` characters as
    JSON, nested too deep, or not JSON at all (bytes, sets, NaN, integers past 4,300 digits).
    Returns its JSON length. Raises :class:`BudgetExceeded` for size, ``ValueError`` otherwise.
    """
    text_size(value, limit, f"variable {name!r}")
    try:
        text = json.dumps(value, allow_nan=False, default=_temporal)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"variable {name!r} cannot be stored in the process data: {exc}") from exc
    if len(text) > limit:
        raise BudgetExceeded("size", f"variable {name!r} is {len(text):,} characters as JSON; "
                                     f"the limit is {limit:,}")
    return len(text)
