"""Compile FEEL positive unary tests: how an input value matches ``< 5``, ``[1..9]``, ``"a"``.

Used by decision-table input entries and by the ``in`` operator. A test is a closure
``test(value, scope) -> True/False/None``. Tests whose operand has no names are computed once at
compile time and specialised for the common types, which keeps a table entry like ``< 100`` or
``"gold"`` well under a microsecond.

The expression compiler is passed in (``compile_node``), as it is to :mod:`.functions`: the
compiler uses these tests for ``in``, so this module cannot import it.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from service.sandbox import tick

from .scope import Scope
from .semantics import compare, equals, in_range
from .values import Range

Test = Callable[[Any, Scope], "bool | None"]

_CMP = {
    "<": lambda c: c < 0, "<=": lambda c: c <= 0, ">": lambda c: c > 0, ">=": lambda c: c >= 0,
}


def uses_input(node) -> bool:
    """Return whether an AST mentions ``?`` (the input of a unary test)."""
    if isinstance(node, tuple):
        if node and node[0] == "name" and node[2] == "?":
            return True
        return any(uses_input(part) for part in node[1:])
    if isinstance(node, list):
        return any(uses_input(part) for part in node)
    return False


def compile_test(node, compile_node: Callable[[Any], Callable[[Scope], Any]]) -> Test:
    """Return ``test(value, scope) -> True/False/None`` for one positive unary test."""
    if node[0] == "test-cmp":
        op, operand = node[2], node[3]
        rhs = compile_node(operand)
        if op == "=":
            return lambda v, s: equals(v, rhs(s))
        if op == "!=":
            def different(v, s):
                same = equals(v, rhs(s))
                return None if same is None else not same
            return different
        check = _CMP[op]
        if operand[0] == "const" and type(operand[2]) is Decimal:
            c = operand[2]

            def against_number(v, s):
                if type(v) is Decimal:
                    return check((v > c) - (v < c))
                r = compare(v, c)
                return None if r is None else check(r)
            return against_number

        def against(v, s):
            r = compare(v, rhs(s))
            return None if r is None else check(r)
        return against
    expr = node[2]
    if is_constant(expr):
        return _constant_test(compile_node(expr)(Scope({})))
    evaluate = compile_node(expr)
    with_input = uses_input(expr)

    def test(v, s):
        if with_input:
            result = evaluate(s.child({"?": v}))
            if type(result) is bool:
                return result
        else:
            result = evaluate(s)
        return match_value(v, result)
    return test


_FOLDABLE = frozenset({"const", "null", "temporal", "list", "range", "neg", "unary-range"})


def is_constant(node) -> bool:
    """Return whether an AST has no names or calls, so its value can be computed once."""
    if isinstance(node, tuple) and len(node) > 1 and isinstance(node[0], str) and isinstance(
            node[1], int):
        if node[0] not in _FOLDABLE:
            return False
        return all(is_constant(part) for part in node[2:])
    if isinstance(node, list):
        return all(is_constant(part) for part in node)
    return True


def is_constant_test(node) -> bool:
    """Return whether a positive unary test needs no scope to be evaluated."""
    return is_constant(node[3] if node[0] == "test-cmp" else node[2])


def _constant_test(c: Any) -> Test:
    """Specialise the test against a value known at compile time (the common table entry)."""
    if type(c) is str:
        return lambda v, s: v == c if type(v) is str else equals(v, c)
    if type(c) is Decimal:
        return lambda v, s: v == c if type(v) is Decimal else equals(v, c)
    if isinstance(c, Range) and type(c.start) is Decimal and type(c.end) is Decimal and (
            not c.null_endpoint) and c.operator != "!=":
        lo, hi, lo_in, hi_in = c.start, c.end, c.start_included, c.end_included

        def in_number_range(v, s):
            if type(v) is Decimal:
                return (lo < v or lo_in and lo == v) and (v < hi or hi_in and v == hi)
            return in_range(v, c)
        return in_number_range
    return lambda v, s: match_value(v, c)


def match_value(v: Any, result: Any) -> bool | None:
    """Apply a unary test's value to the input: list membership, range, boolean or equality."""
    if isinstance(result, list):
        tick(len(result))
        for item in result:
            if isinstance(item, Range):
                if in_range(v, item) is True:
                    return True
            elif equals(v, item) is True:
                return True
        return equals(v, result) is True
    if isinstance(result, Range):
        return in_range(v, result)
    if type(result) is bool and type(v) is not bool:
        return result
    return equals(v, result)
