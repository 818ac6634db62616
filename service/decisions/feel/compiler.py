"""Turn a FEEL AST into a tree of Python closures, built once per expression.

Every closure takes the evaluation ``Scope`` and returns a FEEL value. Runtime faults become
``None`` plus a warning on the scope, as FEEL requires, so closures never raise for bad data;
the hot paths (number comparisons and arithmetic against constants) test the common types
first and fall back to the general rules of :mod:`.semantics`.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Callable

from service.sandbox import Budget, current, tick

from . import semantics
from .builtins import BUILTINS
from .functions import compile_call, compile_function
from .matching import compile_test
from .properties import get_property
from .errors import UnknownName
from .scope import MISSING, ItemScope, Scope, inside_item
from .semantics import ArithmeticFault, compare, equals
from .temporal import TemporalError, parse_temporal_literal
from .conformance import TypeSyntaxError, conforms, parse_type
from .values import NUMBER_CONTEXT, Range

Closure = Callable[[Scope], Any]

Test = Callable[[Any, Scope], "bool | None"]

_CMP = {
    "<": lambda c: c < 0, "<=": lambda c: c <= 0, ">": lambda c: c > 0, ">=": lambda c: c >= 0,
}


def compile_node(node) -> Closure:
    """Return the closure that evaluates ``node``."""
    return _COMPILERS[node[0]](node)


# -- leaves -------------------------------------------------------------------------------
def _const(node):
    value = node[2]
    return lambda s: value


def _null(node):
    return lambda s: None


def _temporal(node):
    text = node[2]
    try:
        value = parse_temporal_literal(text)
    except TemporalError as exc:
        message = str(exc)

        def bad(s):
            s.warn(message)
            return None
        return bad
    return lambda s: value


def _name(node):
    name = node[2]
    builtin = BUILTINS.get(name)

    def lookup(s):
        scope = s
        while scope is not None:
            value = scope.vars.get(name, MISSING)
            if value is not MISSING:
                return value
            scope = scope.parent
        if builtin is not None:
            return builtin
        if getattr(s.warnings, "strict_names", False) and not inside_item(s):
            raise UnknownName(name)
        s.warn(f"unknown name {name!r}")
        return None
    return lookup


# -- operators ----------------------------------------------------------------------------
def _arith(node):
    op, left, right = node[2], compile_node(node[3]), compile_node(node[4])
    general = semantics.ARITHMETIC[op]
    fast = {"+": NUMBER_CONTEXT.add, "-": NUMBER_CONTEXT.subtract,
            "*": NUMBER_CONTEXT.multiply}.get(op)

    def arith(s):
        a, b = left(s), right(s)
        if fast is not None and type(a) is Decimal and type(b) is Decimal:
            return fast(a, b)
        try:
            result = general(a, b)
        except ArithmeticFault as exc:
            s.warn(f"arithmetic fault in {op}: {exc}")
            return None
        if result is None and not (a is None or b is None):
            s.warn(f"cannot apply {op} to {semantics.kind(a)} and {semantics.kind(b)}")
        return result
    return arith


def _neg(node):
    operand = compile_node(node[2])

    def neg(s):
        value = operand(s)
        result = semantics.negate(value)
        if result is None and value is not None:
            s.warn(f"cannot negate {semantics.kind(value)}")
        return result
    return neg


def _cmp(node):
    op, left, right = node[2], compile_node(node[3]), compile_node(node[4])
    if op == "=":
        return lambda s: equals(left(s), right(s))
    if op == "!=":
        def not_equal(s):
            same = equals(left(s), right(s))
            return None if same is None else not same
        return not_equal
    check = _CMP[op]

    def ordered(s):
        a, b = left(s), right(s)
        if type(a) is Decimal and type(b) is Decimal:
            return check((a > b) - (a < b))
        c = compare(a, b)
        return None if c is None else check(c)
    return ordered


def _and(node):
    left, right = compile_node(node[2]), compile_node(node[3])

    def conjunction(s):
        a = left(s)
        if a is False:
            return False
        b = right(s)
        if b is False:
            return False
        return True if a is True and b is True else None
    return conjunction


def _or(node):
    left, right = compile_node(node[2]), compile_node(node[3])

    def disjunction(s):
        a = left(s)
        if a is True:
            return True
        b = right(s)
        if b is True:
            return True
        return False if a is False and b is False else None
    return disjunction


def _between(node):
    value, low, high = (compile_node(n) for n in node[2:5])

    def between(s):
        v, lo, hi = value(s), low(s), high(s)
        a, b = compare(v, lo), compare(v, hi)
        if a is None or b is None:
            return None
        return a >= 0 and b <= 0
    return between


def _in(node):
    value = compile_node(node[2])
    tests = [compile_test(t, compile_node) for t in node[3]]

    def membership(s):
        v = value(s)
        unknown = False
        for test in tests:
            result = test(v, s)
            if result is True:
                return True
            if result is None:
                unknown = True
        return None if unknown else False
    return membership


def _instance(node):
    value = compile_node(node[2])
    try:
        parsed = parse_type(node[3])
    except TypeSyntaxError:
        parsed = ("name", node[3])

    def instance(s):
        v = value(s)
        if v is None:
            return parsed == ("name", "Null")
        return conforms(v, parsed, s.type_resolver)
    return instance


# -- control flow -------------------------------------------------------------------------
def _if(node):
    condition, then, otherwise = (compile_node(n) for n in node[2:5])
    return lambda s: then(s) if condition(s) is True else otherwise(s)


def _domain(s: Scope, domain: Closure, end: Closure | None, budget: Budget):
    """Return what a ``for`` iterator runs over (an iterable, never built as a whole list for a
    range), or None after a warning. A range longer than the budget's list size is refused."""
    start = domain(s)
    if end is not None:
        stop = end(s)
        if isinstance(start, date) and not isinstance(start, datetime) and isinstance(
                stop, date) and not isinstance(stop, datetime):
            step = 1 if stop >= start else -1
            count = abs((stop - start).days)
            budget.check_size(count + 1, "for range")
            return (start + timedelta(days=step * k) for k in range(count + 1))
        if type(start) is not Decimal or type(stop) is not Decimal:
            s.warn("a for range needs number bounds")
            return None
        a, b = int(start), int(stop)
        budget.check_size(abs(b - a) + 1, "for range")
        step = 1 if b >= a else -1
        return map(Decimal, range(a, b + step, step))
    if isinstance(start, Range):
        if type(start.start) is Decimal and type(start.end) is Decimal:
            a = int(start.start) + (0 if start.start_included else 1)
            b = int(start.end) - (0 if start.end_included else 1)
            if start.start > start.end:
                s.warn("cannot iterate over a descending range")
                return None
            budget.check_size(b - a + 1, "for range")
            return map(Decimal, range(a, b + 1))
        s.warn("cannot iterate over this range")
        return None
    if isinstance(start, list):
        return start
    return [start]


def _mentions(node, name: str) -> bool:
    """Return whether an AST reads ``name`` anywhere."""
    if isinstance(node, tuple):
        if len(node) > 2 and node[0] == "name" and node[2] == name:
            return True
        return any(_mentions(part, name) for part in node[1:])
    if isinstance(node, list):
        return any(_mentions(part, name) for part in node)
    return False


def _for(node):
    iterators = [(var, compile_node(d), compile_node(e) if e else None)
                 for var, d, e in node[2]]
    body = compile_node(node[3])
    # ``partial`` (the results so far) is a copy, so that returning it cannot make a list that
    # contains itself; only loops that read it pay for the copies.
    reads_partial = _mentions(node[2], "partial") or _mentions(node[3], "partial")

    def loop(s):
        budget = current()
        limit = budget.limits.max_items
        results: list = []
        frame: dict = {}
        scope = s.child(frame)

        def walk(k):
            if k == len(iterators):
                if reads_partial:
                    budget.tick(len(results))
                    frame["partial"] = list(results)
                results.append(body(scope))
                if len(results) > limit:
                    budget.check_size(len(results), "for result")
                return True
            var, domain, end = iterators[k]
            items = _domain(scope, domain, end, budget)
            if items is None:
                return False
            for item in items:
                budget.tick()
                frame[var] = item
                if not walk(k + 1):
                    return False
            return True
        return results if walk(0) else None
    return loop


def _quantified(node):
    every = node[0] == "every"
    iterators = [(var, compile_node(d)) for var, d, _ in node[2]]
    body = compile_node(node[3])

    def quantifier(s):
        budget = current()
        frame: dict = {}
        scope = s.child(frame)
        outcomes = []

        def walk(k):
            if k == len(iterators):
                outcomes.append(body(scope))
                return
            var, domain = iterators[k]
            items = domain(scope)
            for item in items if isinstance(items, list) else [items]:
                budget.tick()
                frame[var] = item
                walk(k + 1)
        walk(0)
        if every:
            return all(o is True for o in outcomes)
        return any(o is True for o in outcomes)
    return quantifier


# -- structures ---------------------------------------------------------------------------
def _list(node):
    items = [compile_node(n) for n in node[2]]
    return lambda s: [item(s) for item in items]


def _context(node):
    entries = [(key, compile_node(n)) for key, n in node[2]]

    def context(s):
        result: dict = {}
        scope = s.child(result)
        for key, value in entries:
            if key in result:
                s.warn(f"duplicate context key {key!r}")
                return None
            result[key] = value(scope)
        return result
    return context


def _range(node):
    start, end = compile_node(node[2]), compile_node(node[3])
    start_included, end_included = node[4], node[5]

    def make_range(s):
        a, b = start(s), end(s)
        if a is not None and b is not None and compare(a, b) is None:
            s.warn("range endpoints are not comparable")
            return None
        if a is None and b is None:
            s.warn("range endpoints are null")
            return None
        return Range(a, b, start_included, end_included, a is None or b is None)
    return make_range


def _unary_range(node):
    op, operand = node[2], compile_node(node[3])

    def make_range(s):
        v = operand(s)
        if v is None:
            return None
        if op in ("=", "!="):
            return Range(v, v, op == "=", op == "=", operator=op)
        if op in ("<", "<="):
            return Range(None, v, False, op == "<=")
        return Range(v, None, op == ">=", False)
    return make_range


def _filter(node):
    base, condition = compile_node(node[2]), compile_node(node[3])

    def filtering(s):
        value = base(s)
        if value is None:
            return None
        items = value if isinstance(value, list) else [value]
        if not items:
            return []
        budget = current()
        kept = []
        for index, item in enumerate(items):
            budget.tick()
            frame = {"item": item}
            if isinstance(item, dict):
                frame.update(item)
            result = condition(ItemScope(frame, s))
            if index == 0 and type(result) is Decimal:
                return _index(s, items, result)
            if result is True:
                kept.append(item)
        return kept
    return filtering


def _index(s: Scope, items: list, position: Decimal):
    if position != position.to_integral_value():
        s.warn("a list index must be an integer")
        return None
    k = int(position)
    if k > 0 and k <= len(items):
        return items[k - 1]
    if k < 0 and -k <= len(items):
        return items[k]
    s.warn(f"list index {k} out of range")
    return None


def _path(node):
    base, key = compile_node(node[2]), node[3]

    def path(s):
        value = base(s)
        if isinstance(value, list):
            tick(len(value))
            return [_select(s, item, key) for item in value]
        return _select(s, value, key)
    return path


def _select(s: Scope, value: Any, key: str) -> Any:
    if isinstance(value, dict):
        if key in value:
            return value[key]
        s.warn(f"no entry {key!r} in context")
        return None
    if value is None:
        return None
    found = get_property(value, key)
    if found is MISSING:
        s.warn(f"{semantics.kind(value)} has no property {key!r}")
        return None
    return found


def _call(node):
    return compile_call(node, compile_node)


def _function(node):
    return compile_function(node, compile_node)




_COMPILERS = {
    "const": _const, "null": _null, "temporal": _temporal, "name": _name, "arith": _arith,
    "neg": _neg, "cmp": _cmp, "and": _and, "or": _or, "between": _between, "in": _in,
    "instance": _instance, "if": _if, "for": _for, "some": _quantified,
    "every": _quantified, "list": _list, "context": _context, "range": _range,
    "unary-range": _unary_range, "filter": _filter, "path": _path, "call": _call,
    "function": _function,
}
