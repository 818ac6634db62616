"""FEEL range built-ins (``before``, ``overlaps``, ``includes`` ... and ``range(from)``).

Each takes points or ranges in any combination the specification lists; the formulas follow
DMN 1.4 section 10.3.4.9 literally, with an unbounded endpoint compared as minus or plus
infinity.
"""
from __future__ import annotations

from ..errors import FeelSyntaxError
from ..names import NameIndex
from ..parser import parse_expression
from ..semantics import compare, negate
from ..temporal import TemporalError, parse_temporal_literal
from ..values import Range
from .registry import BUILTINS, FeelError, builtin

_LOW, _HIGH = object(), object()


def _cmp(a, b) -> int:
    if a is b and a in (_LOW, _HIGH):
        return 0
    if a is _LOW or b is _HIGH:
        return -1
    if a is _HIGH or b is _LOW:
        return 1
    c = compare(a, b)
    if c is None:
        raise FeelError("values are not comparable")
    return c


def _start(r: Range):
    return _LOW if r.start is None else r.start


def _end(r: Range):
    return _HIGH if r.end is None else r.end


def _si(r: Range) -> bool:
    return r.start_included and r.start is not None


def _ei(r: Range) -> bool:
    return r.end_included and r.end is not None


def _check(*values):
    for v in values:
        if v is None:
            raise FeelError("argument is null")


def _before(a, b) -> bool:
    _check(a, b)
    ra, rb = isinstance(a, Range), isinstance(b, Range)
    if not ra and not rb:
        return _cmp(a, b) < 0
    if not ra:
        c = _cmp(a, _start(b))
        return c < 0 or (c == 0 and not _si(b))
    if not rb:
        c = _cmp(_end(a), b)
        return c < 0 or (c == 0 and not _ei(a))
    c = _cmp(_end(a), _start(b))
    return c < 0 or (c == 0 and (not _ei(a) or not _si(b)))


@builtin("before", "point1, point2", "point, range", "range, point", "range1, range2")
def before(a, b):
    return _before(a, b)


@builtin("after", "point1, point2", "point, range", "range, point", "range1, range2")
def after(a, b):
    return _before(b, a)


def _ranges(a, b):
    _check(a, b)
    if not isinstance(a, Range) or not isinstance(b, Range):
        raise FeelError("arguments must be ranges")


@builtin("meets", "range1, range2")
def meets(a, b):
    _ranges(a, b)
    return _ei(a) and _si(b) and _cmp(_end(a), _start(b)) == 0


@builtin("met by", "range1, range2")
def met_by(a, b):
    return meets(b, a)


@builtin("overlaps", "range1, range2")
def overlaps(a, b):
    _ranges(a, b)
    c1 = _cmp(_end(a), _start(b))
    c2 = _cmp(_start(a), _end(b))
    return (c1 > 0 or (c1 == 0 and _ei(a) and _si(b))) and (
        c2 < 0 or (c2 == 0 and _si(a) and _ei(b)))


@builtin("overlaps before", "range1, range2")
def overlaps_before(a, b):
    _ranges(a, b)
    c1 = _cmp(_start(a), _start(b))
    c2 = _cmp(_end(a), _start(b))
    c3 = _cmp(_end(a), _end(b))
    return ((c1 < 0 or (c1 == 0 and _si(a) and not _si(b)))
            and (c2 > 0 or (c2 == 0 and _ei(a) and _si(b)))
            and (c3 < 0 or (c3 == 0 and (not _ei(a) or _ei(b)))))


@builtin("overlaps after", "range1, range2")
def overlaps_after(a, b):
    return overlaps_before(b, a)


def _finishes(a, b) -> bool:
    _check(a, b)
    if not isinstance(b, Range):
        raise FeelError("second argument must be a range")
    if not isinstance(a, Range):
        return _ei(b) and _cmp(_end(b), a) == 0
    c = _cmp(_start(a), _start(b))
    return (_ei(a) == _ei(b) and _cmp(_end(a), _end(b)) == 0
            and (c > 0 or (c == 0 and (not _si(a) or _si(b)))))


@builtin("finishes", "point, range", "range1, range2")
def finishes(a, b):
    return _finishes(a, b)


@builtin("finished by", "range, point", "range1, range2")
def finished_by(a, b):
    return _finishes(b, a)


def _includes(a, b) -> bool:
    _check(a, b)
    if not isinstance(a, Range):
        raise FeelError("first argument must be a range")
    if not isinstance(b, Range):
        cs, ce = _cmp(_start(a), b), _cmp(_end(a), b)
        return (cs < 0 and ce > 0) or (cs == 0 and _si(a)) or (ce == 0 and _ei(a))
    c1 = _cmp(_start(a), _start(b))
    c2 = _cmp(_end(a), _end(b))
    return ((c1 < 0 or (c1 == 0 and (_si(a) or not _si(b))))
            and (c2 > 0 or (c2 == 0 and (_ei(a) or not _ei(b)))))


@builtin("includes", "range, point", "range1, range2")
def includes(a, b):
    return _includes(a, b)


@builtin("during", "point, range", "range1, range2")
def during(a, b):
    return _includes(b, a)


def _starts(a, b) -> bool:
    _check(a, b)
    if not isinstance(b, Range):
        raise FeelError("second argument must be a range")
    if not isinstance(a, Range):
        return _si(b) and _cmp(_start(b), a) == 0
    c = _cmp(_end(a), _end(b))
    return (_cmp(_start(a), _start(b)) == 0 and _si(a) == _si(b)
            and (c < 0 or (c == 0 and (not _ei(a) or _ei(b)))))


@builtin("starts", "point, range", "range1, range2")
def starts(a, b):
    return _starts(a, b)


@builtin("started by", "range, point", "range1, range2")
def started_by(a, b):
    return _starts(b, a)


@builtin("coincides", "point1, point2", "range1, range2")
def coincides(a, b):
    _check(a, b)
    if isinstance(a, Range) != isinstance(b, Range):
        raise FeelError("arguments must both be points or both be ranges")
    if not isinstance(a, Range):
        return _cmp(a, b) == 0
    return (_cmp(_start(a), _start(b)) == 0 and _si(a) == _si(b)
            and _cmp(_end(a), _end(b)) == 0 and _ei(a) == _ei(b))


@builtin("range", "from")
def make_range(text):
    if not isinstance(text, str):
        raise FeelError("from must be a string")
    try:
        node = parse_expression(text, _ENDPOINT_NAMES)
    except FeelSyntaxError as exc:
        raise FeelError(f"not a range: {exc.message}") from exc
    if node[0] != "range":
        raise FeelError(f"not a literal range: {text!r}")
    start, end = _endpoint(node[2], text), _endpoint(node[3], text)
    if start is None and end is None:
        raise FeelError(f"not a range: {text!r}")
    if start is not None and end is not None:
        order = compare(start, end)
        if order is None:
            raise FeelError(f"range endpoints are not comparable: {text!r}")
        if order > 0:
            raise FeelError(f"descending range: {text!r}")
    return Range(start, end, node[4], node[5], start is None or end is None)


# ``range()`` takes literal endpoints only (and temporal constructors of literal strings), so
# it reads them off the syntax tree itself rather than running the FEEL compiler.
_CONSTRUCTORS = ("date", "time", "date and time", "duration")
_ENDPOINT_NAMES = NameIndex(_CONSTRUCTORS)


def _endpoint(node, text: str):
    kind = node[0]
    if kind == "const":
        return node[2]
    if kind == "null":
        return None
    if kind == "neg" and node[2][0] == "const":
        value = negate(node[2][2])
        if value is not None:
            return value
    elif kind == "temporal":
        try:
            return parse_temporal_literal(node[2])
        except TemporalError as exc:
            raise FeelError(f"not a range: {exc}") from exc
    elif (kind == "call" and node[2][0] == "name" and node[2][2] in _CONSTRUCTORS
          and not node[4] and len(node[3]) == 1 and node[3][0][0] == "const"):
        value = BUILTINS[node[2][2]](node[3][0][2])
        if value is not None:
            return value
    raise FeelError(f"not a literal range: {text!r}")
