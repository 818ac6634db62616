"""Compile decision-table input entries (FEEL unary tests) into fast match predicates.

An entry is ``-`` (anything), a comma list of positive tests (any one matching is a match), or
``not(...)`` of such a list. A null or error result is no match, and ``not`` of an error is no
match either, so a wrongly typed input never fires a rule by accident.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from service.sandbox import BudgetExceeded, ensure

from .compiler import compile_node
from .errors import UnknownName
from .expression import make_scope, name_index
from .matching import compile_test, is_constant_test
from .names import NameIndex
from .parser import parse_unary_tests
from .scope import Scope, TypeResolver

_EMPTY: dict = {}


class UnaryTests:
    """A compiled input entry: ``matches(value, scope)`` answers True or False, never raises."""

    __slots__ = ("text", "name", "is_any", "_tests", "_negated", "_constant")

    def __init__(self, text: str, name: str | None, is_any: bool, tests, negated: bool,
                 constant: bool = False):
        self.text = text
        self.name = name
        self.is_any = is_any
        self._tests = tests
        self._negated = negated
        self._constant = constant  # no test reads the scope: skip building one

    def matches(self, value: Any, scope: Mapping[str, Any] | Scope | None = None, *,
                warnings: list | None = None,
                type_resolver: TypeResolver | None = None) -> bool:
        """Return whether ``value`` satisfies the entry in ``scope``.

        Runs under the budget of :mod:`service.sandbox`; ``BudgetExceeded`` propagates.
        """
        if self.is_any:
            return True
        if self._constant:
            unknown = False
            with ensure():
                try:
                    for test in self._tests:
                        result = test(value, None)
                        if result is True:
                            return not self._negated
                        if result is None:
                            unknown = True
                except (BudgetExceeded, UnknownName):
                    raise
                except Exception:  # e.g. a bad temporal literal: no match, as FEEL null
                    return False
            return False if unknown else self._negated
        s = make_scope(scope if scope is not None else _EMPTY, warnings, type_resolver)
        unknown = False
        with ensure():
            try:
                for test in self._tests:
                    result = test(value, s)
                    if result is True:
                        return not self._negated
                    if result is None:
                        unknown = True
            except (BudgetExceeded, UnknownName):
                raise
            except Exception as exc:  # untrusted content must not crash a table
                s.warn(f"unary test {self.text!r} failed: {exc}")
                return False
        if unknown:
            return False
        return self._negated

    def __repr__(self) -> str:
        return f"UnaryTests({self.text!r})"


def compile_unary_tests(text: str, *, name: str | None = None,
                        known_names: Iterable[str] | NameIndex | None = None) -> UnaryTests:
    """Parse and compile an input entry; raise ``FeelSyntaxError`` when it is not FEEL."""
    parsed = parse_unary_tests(text, name_index(known_names), name)
    if parsed[0] == "any":
        return UnaryTests(text, name, True, (), False)
    tests = tuple(compile_test(t, compile_node) for t in parsed[1])
    constant = all(is_constant_test(t) for t in parsed[1])
    return UnaryTests(text, name, False, tests, parsed[0] == "not", constant)
