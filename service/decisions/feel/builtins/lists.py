"""FEEL list built-ins, including the statistics (mean, median, stddev, mode) and ``sort``.

Functions that take "a list or several items" (``min(1, 2)`` and ``min([1, 2])``) accept both;
membership and de-duplication use FEEL equality, not Python's, so ``1 = 1.0`` and no bool is
ever equal to a number.
"""
from __future__ import annotations

from decimal import Decimal
from functools import cmp_to_key

from service.sandbox import check_size, tick

from ..semantics import compare, equals
from ..values import NUMBER_CONTEXT, FeelFunction
from .arguments import integer, items, list_of, number
from .registry import FeelError, builtin

C = NUMBER_CONTEXT


def _contains(values: list, element) -> bool:
    tick(len(values))
    return any(equals(v, element) is True for v in values)


@builtin("list contains", "list, element")
def list_contains(values, element):
    return _contains(list_of(values, "list"), element)


@builtin("count", "list", "c...")
def count(*args):
    return Decimal(len(items(args)))


def _extreme(args, sign):
    values = items(args)
    if not values:
        return None
    best = values[0]
    for v in values[1:]:
        c = compare(v, best)
        if c is None:
            raise FeelError("values are not comparable")
        if c * sign > 0:
            best = v
    if len(values) == 1 and compare(best, best) is None:
        raise FeelError("value is not comparable")
    return best


@builtin("min", "list", "c...")
def minimum(*args):
    return _extreme(args, -1)


@builtin("max", "list", "c...")
def maximum(*args):
    return _extreme(args, 1)


def _numbers(args) -> list[Decimal]:
    return [number(v, "item") for v in items(args)]


@builtin("sum", "list", "n...")
def total(*args):
    values = _numbers(args)
    if not values:
        return None
    result = Decimal(0)
    for v in values:
        result = C.add(result, v)
    return result


@builtin("product", "list", "n...")
def product(*args):
    values = _numbers(args)
    if not values:
        return None
    result = Decimal(1)
    for v in values:
        result = C.multiply(result, v)
    return result


@builtin("mean", "list", "n...")
def mean(*args):
    values = _numbers(args)
    if not values:
        return None
    return C.divide(total(values), Decimal(len(values)))


@builtin("median", "list", "n...")
def median(*args):
    values = sorted(_numbers(args))
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return C.divide(C.add(values[middle - 1], values[middle]), Decimal(2))


@builtin("stddev", "list", "n...")
def stddev(*args):
    values = _numbers(args)
    if len(values) < 2:
        if len(values) == 1 and len(args) == 1 and isinstance(args[0], list):
            return None
        raise FeelError("stddev needs at least two numbers")
    average = mean(values)
    squares = Decimal(0)
    for v in values:
        diff = C.subtract(v, average)
        squares = C.add(squares, C.multiply(diff, diff))
    return C.sqrt(C.divide(squares, Decimal(len(values) - 1)))


@builtin("mode", "list", "n...")
def mode(*args):
    values = _numbers(args)
    counts: dict[Decimal, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    if not counts:
        return []
    top = max(counts.values())
    return sorted(v for v, c in counts.items() if c == top)


def _booleans(args) -> list:
    values = items(args)
    return [v if isinstance(v, bool) else None for v in values] if all(
        v is None or isinstance(v, bool) for v in values) else _bad_booleans()


def _bad_booleans():
    raise FeelError("items must be booleans")


@builtin("all", "list", "b...")
def all_true(*args):
    values = _booleans(args)
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


@builtin("any", "list", "b...")
def any_true(*args):
    values = _booleans(args)
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


@builtin("and", "list", "b...")
def and_all(*args):
    return all_true(*args)


@builtin("or", "list", "b...")
def or_any(*args):
    return any_true(*args)


def _position(values: list, position, what="position") -> int:
    k = integer(position, what)
    if k == 0 or abs(k) > len(values):
        raise FeelError(f"{what} {k} out of range")
    return k - 1 if k > 0 else len(values) + k


@builtin("sublist", "list, start position, length?")
def sublist(values, start, length=None):
    values = list_of(values, "list")
    begin = _position(values, start, "start position")
    if length is None:
        return values[begin:]
    count = integer(length, "length")
    if count < 0 or begin + count > len(values):
        raise FeelError("length out of range")
    return values[begin:begin + count]


@builtin("append", "list, item...")
def append(values, *more):
    values = list_of(values, "list")
    check_size(len(values) + len(more), "list")
    return values + list(more)


@builtin("concatenate", "list...")
def concatenate(*lists):
    lists = [list_of(values, "list") for values in lists]
    check_size(sum(map(len, lists)), "list")
    result = []
    for values in lists:
        result.extend(values)
    return result


@builtin("insert before", "list, position, newItem")
def insert_before(values, position, new_item):
    values = list_of(values, "list")
    index = _position(values, position)
    return values[:index] + [new_item] + values[index:]


@builtin("remove", "list, position")
def remove(values, position):
    values = list_of(values, "list")
    index = _position(values, position)
    return values[:index] + values[index + 1:]


@builtin("reverse", "list")
def reverse(values):
    return list(reversed(list_of(values, "list")))


@builtin("index of", "list, match")
def index_of(values, match):
    values = list_of(values, "list")
    return [Decimal(i + 1) for i, v in enumerate(values) if equals(v, match) is True]


@builtin("union", "list...")
def union(*lists):
    result: list = []
    for values in lists:
        for v in list_of(values, "list"):
            if not _contains(result, v):
                result.append(v)
    return result


@builtin("distinct values", "list")
def distinct_values(values):
    result: list = []
    for v in list_of(values, "list"):
        if not _contains(result, v):
            result.append(v)
    return result


def _flatten(values, out):
    for v in values:
        if isinstance(v, list):
            # a list may hold the same long list many times: check before copying it again
            check_size(len(out) + len(v), "list")
            _flatten(v, out)
        else:
            out.append(v)
    return out


@builtin("flatten", "list")
def flatten(values):
    return _flatten(list_of(values, "list"), [])


@builtin("sort", "list, precedes?", scope=True)
def sort(env, values, precedes=None):
    values = list_of(values, "list")
    if precedes is None:
        def order(a, b):
            c = compare(a, b)
            if c is None:
                raise FeelError("items are not comparable")
            return c
    else:
        if not isinstance(precedes, FeelFunction):
            raise FeelError("precedes must be a function")

        def order(a, b):
            if precedes.invoke([a, b], None, env) is True:
                return -1
            if precedes.invoke([b, a], None, env) is True:
                return 1
            return 0
    tick(len(values) * max(1, len(values).bit_length()))
    return sorted(values, key=cmp_to_key(order))


@builtin("list replace", "list, position, newItem", scope=True)
def list_replace(env, values, position, new_item):
    values = list_of(values, "list")
    if isinstance(position, FeelFunction):
        return list_replace_match(env, values, position, new_item)
    index = _position(values, int(number(position, "position")))
    return values[:index] + [new_item] + values[index + 1:]


@builtin("list replace", "list, match, newItem", scope=True)
def list_replace_match(env, values, match, new_item):
    values = list_of(values, "list")
    if not isinstance(match, FeelFunction) or (
            not getattr(match, "variadic", False) and len(match.params) != 2):
        raise FeelError("match must be a function of two parameters")
    result = []
    for v in values:
        outcome = match.invoke([v, new_item], None, env)
        if not isinstance(outcome, bool):
            raise FeelError("match must return a boolean")
        result.append(new_item if outcome else v)
    return result


@builtin("is empty", "list")
def is_empty(values):
    return not list_of(values, "list")

