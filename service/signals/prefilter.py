"""Literal tests of rule conditions: which facts a rule could ever use, decided in Python.

Each alias condition of a rule is a conjunction; the terms that compare a field of the fact with
a literal (``{"source": "erp"}``, ``{"$gt": {"on_hand": 0}}``, ``{"$ex": {"qty": 1}}``) can be
decided on the fact alone, before it reaches the engine. The rest (joins to other aliases,
arithmetic, regular expressions, the key join the host adds) are *unknown*. An alias test
answers False only when a literal term is certainly false, so:

- a fact that every alias (positive or ``$not``) of every rule rejects can never take part in a
  match, nor block one; the engine would answer "not handled" and store nothing. The partition
  skips the engine call (about 30 µs of JSON and C per fact) and still records the outcome.
- :class:`ClockNeed` uses the same tests to tell when a key's clock fact could complete a rule
  (see :mod:`.partition`).

Comparisons are decided only between two strings (equality) or two numbers (order); anything
else (a missing field, mixed types, booleans) is unknown, so a mistake here can only cost speed,
never a match. Each test is built once from closures (``could``), because these run several
times per signal; no source text is generated, as the conditions come from analysts' files.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Callable

_ORDER = {"$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge}

Test = Callable[[dict], bool]


def _is_number(value) -> bool:
    return (type(value) is int or type(value) is float) and math.isfinite(value)


def _literal(cond) -> tuple[str, str, object] | None:
    """``(op, field, operand)`` when ``cond`` compares a field with a literal we can decide."""
    op, arg = next(iter(cond.items()))
    if op in _ORDER or op in ("$eq", "$neq"):
        name, operand = next(iter(arg.items()))
    elif not op.startswith("$"):
        name, operand, op = op, arg, "$eq"
    else:
        return None                        # $mt, $imt: not decided here
    if op in ("$eq", "$neq") and isinstance(operand, str):
        return op, name, operand
    if op in _ORDER and _is_number(operand):
        return op, name, operand
    return None                            # references, arithmetic, other literals


def _string_test(name: str, operand: str, equal: bool) -> Test:
    def could(f):
        value = f.get(name)
        return type(value) is not str or (value == operand) is equal
    return could


def _order_test(name: str, compare, operand) -> Test:
    def could(f):
        value = f.get(name)
        return not (type(value) is int or type(value) is float) or compare(value, operand)
    return could


def _any(tests: list[Test]) -> Test:
    def could(f):
        for test in tests:
            if test(f):
                return True
        return False
    return could


def _all(tests: list[Test]) -> Test:
    if len(tests) == 1:
        return tests[0]

    def could(f):
        for test in tests:
            if not test(f):
                return False
        return True
    return could


def _compile(cond) -> Test | None:
    """``fact -> bool`` for the literal part of one condition (True: it could match); None when
    nothing in it can be decided (it could always match).

    Built from closures over the condition's values, never from generated source text: the
    conditions are the analysts' files.
    """
    op, arg = next(iter(cond.items()))
    if op == "$or":
        parts = [_compile(c) for c in arg]
        return None if any(p is None for p in parts) else _any(parts)
    if op == "$and":
        parts = [p for p in (_compile(c) for c in arg) if p is not None]
        return _all(parts) if parts else None
    if op in ("$ex", "$nex"):
        name = next(iter(arg))
        return (lambda f: name in f) if op == "$ex" else (lambda f: name not in f)
    literal = _literal(cond)
    if literal is None:
        return None
    op, name, operand = literal
    if op in ("$eq", "$neq"):
        return _string_test(name, operand, op == "$eq")
    return _order_test(name, _ORDER[op], operand)


def _shape(cond) -> str:
    """A canonical text of the condition's decidable terms: equal shapes are equal tests."""
    op, arg = next(iter(cond.items()))
    if op in ("$or", "$and"):
        return op + "(" + ",".join(_shape(c) for c in arg) + ")"
    if op in ("$ex", "$nex"):
        return f"{op}({next(iter(arg))!r})"
    literal = _literal(cond)
    return "?" if literal is None else repr(literal)


@dataclass(frozen=True)
class AliasTest:
    """The literal part of one alias condition; ``could(fact)`` is False only when it cannot."""
    rule: str
    alias: str
    negated: bool
    type: str | None          # the type the condition requires, when it requires one
    test: object              # fact -> bool, or None (never decided: always could)
    shape: str                # the condition's literal terms, to merge equal tests

    def could(self, fact) -> bool:
        if self.type is not None and fact.get("type") != self.type:
            return False
        return self.test is None or self.test(fact)


def _required_type(cond) -> str | None:
    terms = cond["$and"] if "$and" in cond else [cond]
    for term in terms:
        if isinstance(term, dict) and len(term) == 1 and isinstance(term.get("type"), str):
            return term["type"]
    return None


def alias_tests(spec) -> list[AliasTest]:
    out = []
    for rule in spec.rules:
        for item in rule.conditions:
            alias, cond = next(iter(item.items()))
            negated = alias.endswith("$not")
            out.append(AliasTest(rule.name, alias[:-4] if negated else alias, negated,
                                 _required_type(cond), _compile(cond), _shape(cond)))
    return out


class Relevance:
    """Whether any alias of a ruleset could use a fact (see the module docstring)."""

    def __init__(self, spec):
        tests = alias_tests(spec)
        self._untyped = any(t.type is None for t in tests)
        self._by_type: dict[str, tuple | None] = {}
        for t in tests:
            if t.type is None:
                continue
            checks = self._by_type.setdefault(t.type, {})
            if checks is not None:
                if t.test is None:           # one undecided alias: the type is always usable
                    self._by_type[t.type] = None
                else:
                    checks.setdefault(t.shape, t.test)
        self._by_type = {k: (None if v is None else tuple(v.values()))
                         for k, v in self._by_type.items()}

    def could_use(self, fact: dict) -> bool:
        if self._untyped:
            return True
        checks = self._by_type.get(fact["type"], ())
        if checks is None:
            return True
        for check in checks:
            if check(fact):
                return True
        return False


class ClockNeed:
    """When a key's clock fact could complete a rule: every other positive alias of some rule
    that can take a clock fact has a live fact of the key that its literal tests accept.

    ``tracked`` are the (merged) alias tests counted per key; ``rules`` lists, per clock rule,
    the indexes into ``tracked`` that must all have a live fact. ``usable`` is False when the
    clock cannot be kept out of the engine at all: a ``$not`` alias could take a clock fact (its
    absence would then count), or an action asserts facts of type ``clock``.
    """

    def __init__(self, spec):
        clock = {"type": "clock"}
        tests = alias_tests(spec)
        self.usable = not any(t.negated and t.could(clock) for t in tests) and not any(
            a.kind == "assert" and a.data.get("type") == "clock"
            for r in spec.rules for a in r.actions)
        self.tracked: list[AliasTest] = []
        index: dict = {}
        self.rules: list[tuple[int, ...]] = []
        for rule in spec.rules:
            mine = [t for t in tests if t.rule == rule.name]
            if not any(not t.negated and t.could(clock) for t in mine):
                continue
            need = set()
            for t in mine:
                if t.negated or t.could(clock):
                    continue
                signature = (t.type, t.shape)
                if signature not in index:
                    index[signature] = len(self.tracked)
                    self.tracked.append(t)
                need.add(index[signature])
            self.rules.append(tuple(sorted(need)))
        self.always = any(not need for need in self.rules)
        # marks() looks only at the tests of the fact's type (and the untyped ones).
        self._untyped = tuple((i, t) for i, t in enumerate(self.tracked) if t.type is None)
        self._by_type: dict[str, tuple] = {}
        for i, t in enumerate(self.tracked):
            if t.type is not None:
                self._by_type[t.type] = self._by_type.get(t.type, ()) + ((i, t.test),)

    def marks(self, fact: dict) -> tuple[int, ...]:
        """The tracked tests this (non-clock) fact could satisfy."""
        out = [i for i, test in self._by_type.get(fact["type"], ())
               if test is None or test(fact)]
        if self._untyped:
            out += [i for i, t in self._untyped if t.could(fact)]
        return tuple(out)

    def needed(self, counts: dict | None, extra: tuple = ()) -> bool:
        if self.always:
            return True
        if not counts and not extra:
            return False
        counts = counts or {}
        for need in self.rules:
            if all(i in counts or i in extra for i in need):
                return True
        return False
