"""Fast paths for the commonest decision table cells, decided once at compile time.

Most cells of real tables are literals (``"gold"``, ``42``, ``true``), plain numeric
comparisons (``< 100``, ``[1..10)``) and input expressions that are just a name. Recognising
them here lets a table answer a literal column with one dictionary lookup and a numeric cell
with two ``Decimal`` comparisons instead of running the general FEEL evaluator. Every cell is
still compiled by FEEL as well, so syntax errors are reported the same way; these shortcuts
only ever return what FEEL would for the same value.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from decimal import Decimal
from typing import Any

from .feel import BUILTINS, MISSING

_STRING = r'"[^"\\]*"'
_NUMBER = r"-?\d+(?:\.\d+)?"
_LITERAL = rf"(?:{_STRING}|{_NUMBER}|true|false)"
_LITERAL_LIST = re.compile(rf"\s*{_LITERAL}(?:\s*,\s*{_LITERAL})*\s*")
_LITERAL_ITEM = re.compile(rf"\s*({_LITERAL})\s*(?:,|$)")


def _literal_value(token: str) -> Any:
    if token.startswith('"'):
        return token[1:-1]
    if token == "true":
        return True
    if token == "false":
        return False
    return Decimal(token)


def index_key(value: Any) -> tuple | None:
    """Return the index key of a value; None for values literal cells cannot equal by hash."""
    t = type(value)
    if t is str:
        return ("s", value)
    if t is Decimal:
        return ("n", value) if value.is_finite() else None
    if t is bool:
        return ("b", value)
    return None


_COMPARISON = re.compile(rf"\s*(<=|>=|<|>)\s*({_NUMBER})\s*")
_INTERVAL = re.compile(rf"\s*([\[(\]])\s*({_NUMBER})\s*\.\.\s*({_NUMBER})\s*([\])\[])\s*")


class NumericTest:
    """A cell that is a plain numeric comparison or interval (``< 5``, ``[1..10)``).

    These are most cells of real tables; testing a ``Decimal`` against two bounds directly is
    several times faster than the general FEEL unary test. Anything that is not a number does
    not match, exactly as FEEL's comparison would yield null (no match) for it.
    """

    __slots__ = ("low", "low_incl", "high", "high_incl")

    def __init__(self, low, low_incl, high, high_incl):
        self.low, self.low_incl, self.high, self.high_incl = low, low_incl, high, high_incl

    @classmethod
    def parse(cls, text: str) -> NumericTest | None:
        """Return the test for a plain numeric comparison or interval cell, else None."""
        m = _COMPARISON.fullmatch(text)
        if m:
            op, n = m.group(1), Decimal(m.group(2))
            if op[0] == "<":
                return cls(None, False, n, op == "<=")
            return cls(n, op == ">=", None, False)
        m = _INTERVAL.fullmatch(text)
        if m:
            return cls(Decimal(m.group(2)), m.group(1) == "[", Decimal(m.group(3)),
                       m.group(4) == "]")
        return None

    def matches(self, value: Any, scope=None) -> bool:
        if type(value) is not Decimal or value.is_nan():
            return False
        low, high = self.low, self.high
        if low is not None and (value < low if self.low_incl else value <= low):
            return False
        if high is not None and (value > high if self.high_incl else value >= high):
            return False
        return True



class IntervalIndex:
    """Answer all numeric cells of a column with one binary search.

    The cell bounds cut the number line into points and the open segments between them; on
    each of these slots the set of matching cells is constant, and each cell covers a run of
    consecutive slots. One sweep over the slots builds the masks, in time slots x mask width
    rather than slots x cells. A mask is as wide as the table is long, so for a huge table
    with many distinct bounds only every ``step``-th slot's mask is kept (about ``MAX_BITS``
    bits per column in all): a lookup starts at the kept mask below it and applies the cells
    that start or end in the few slots up to its own.
    """

    __slots__ = ("points", "masks", "step", "changes", "cell_masks")

    MAX_BITS = 16 * 1024 * 1024  # 2 MB of masks per column

    def __init__(self, points: list[Decimal], masks: list[int], step: int,
                 changes: dict[int, list[int]], cell_masks: list[int]):
        self.points = points
        self.masks = masks  # the mask of slots 0, step, 2*step ...
        self.step = step
        self.changes = changes  # slot -> cells whose run starts there or ended just before
        self.cell_masks = cell_masks

    @classmethod
    def build(cls, tests: list[tuple[NumericTest, int]]) -> IntervalIndex:
        points = sorted({b for t, _ in tests for b in (t.low, t.high) if b is not None})
        slot_of = {p: 2 * i + 1 for i, p in enumerate(points)}
        last = 2 * len(points)  # slot 2i: before points[i]; 2i + 1: at it; last: after all
        changes: dict[int, list[int]] = {}
        cell_masks = []
        for test, bits in tests:
            first = 0 if test.low is None else slot_of[test.low] + (0 if test.low_incl else 1)
            final = last if test.high is None else slot_of[test.high] - (0 if test.high_incl
                                                                          else 1)
            if first > final:
                continue
            changes.setdefault(first, []).append(len(cell_masks))
            changes.setdefault(final + 1, []).append(len(cell_masks))
            cell_masks.append(bits)
        # One cell per rule: the cells' bits are disjoint, so xor adds a cell's rules where its
        # run starts and removes them where it ends.
        width = mask = 0
        for slot in range(last + 1):
            for cell in changes.get(slot, ()):
                mask ^= cell_masks[cell]
            width += mask.bit_length()
        step = max(1, -(-width // cls.MAX_BITS))
        masks = []
        mask = 0
        for slot in range(last + 1):
            for cell in changes.get(slot, ()):
                mask ^= cell_masks[cell]
            if slot % step == 0:
                masks.append(mask)
        return cls(points, masks, step, changes if step > 1 else {}, cell_masks)

    def lookup(self, value: Decimal) -> int:
        """Return the mask of cells matching a non-NaN ``Decimal``."""
        points = self.points
        i = bisect_left(points, value)
        slot = 2 * i + 1 if i < len(points) and points[i] == value else 2 * i
        step = self.step
        if step == 1:
            return self.masks[slot]
        kept, extra = divmod(slot, step)
        mask = self.masks[kept]
        changes, cell_masks = self.changes, self.cell_masks
        for between in range(slot - extra + 1, slot + 1):
            for cell in changes.get(between, ()):
                mask ^= cell_masks[cell]
        return mask


def literal_values(text: str) -> list[Any] | None:
    """Return the literal values of a cell like ``"a", "b"`` or ``42``, else None."""
    if not _LITERAL_LIST.fullmatch(text):
        return None
    return [_literal_value(m.group(1)) for m in _LITERAL_ITEM.finditer(text)]


def split_top_level(text: str) -> list[str]:
    """Split an inputValues/outputValues list on commas outside strings and brackets."""
    parts, depth, quote, start = [], 0, False, 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


_SIMPLE_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*")
_KEYWORDS = frozenset({"true", "false", "null", "not", "and", "or", "in", "if", "then", "else",
                       "for", "some", "every", "return", "satisfies", "between", "instance",
                       "of", "function", "external"})


class NameRef:
    """An input expression that is just a name (``reason``): a direct scope lookup.

    The FEEL expression is still compiled (so syntax is checked) and is used whenever the
    name is not in scope, so a built-in function name or an unknown name behaves exactly as
    FEEL has it; this only skips the general evaluator for the commonest input expression.
    """

    __slots__ = ("name", "fallback")

    def __init__(self, name: str, fallback):
        self.name = name
        self.fallback = fallback

    @classmethod
    def parse(cls, text: str | None, fallback) -> NameRef | None:
        """Return a lookup for an input expression that is one plain name, else None."""
        m = _SIMPLE_NAME.fullmatch(text or "")
        if m and m.group(1) not in _KEYWORDS:
            return cls(m.group(1), fallback)
        return None

    def evaluate(self, scope) -> Any:
        value = scope.lookup(self.name)
        if value is MISSING:
            return self.fallback.evaluate(scope)
        return value


_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
_IDENTIFIER = re.compile(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)(?!\w)(\s*\()?")
_TEMPORAL = frozenset({"date", "time", "duration"})
_MULTI_WORD_BUILTINS = sorted((n for n in BUILTINS if " " in n), key=len, reverse=True)


def free_names(text: str) -> list[str]:
    """Guess the variables an input expression reads: plain identifiers, not functions.

    Used only to list the inputs of Camunda-style tables, which read process variables
    without declaring input data (``abs(atp_gap) * unit_cost`` reads atp_gap and unit_cost).
    Names with spaces are not recognised; such models declare their input data anyway.
    """
    text = _STRING_LITERAL.sub(" ", text)
    for builtin in _MULTI_WORD_BUILTINS:  # "string length(s)" calls a function named so
        if builtin in text:
            text = re.sub(re.escape(builtin) + r"\s*\(", "(", text)
    found: list[str] = []
    for m in _IDENTIFIER.finditer(text):
        name, call = m.group(1), m.group(2)
        if call or name in _KEYWORDS or name in _TEMPORAL or name in found:
            continue
        found.append(name)
    return found
