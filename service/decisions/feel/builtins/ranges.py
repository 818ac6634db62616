"""FEEL range built-ins (``before``, ``overlaps``, ``includes`` ... and ``range(from)``).

Each takes points or ranges in any combination the specification lists; the formulas follow
DMN 1.4 section 10.3.4.9 literally, with an unbounded endpoint compared as minus or plus
infinity.
"""
from __future__ import annotations

from ..semantics import compare
from ..values import Range
from . import FeelError, builtin

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
    from ..expression import compile_expression
    from ..errors import FeelSyntaxError

    if not isinstance(text, str):
        raise FeelError("from must be a string")
    try:
        expression = compile_expression(text)
    except FeelSyntaxError as exc:
        raise FeelError(f"not a range: {exc.message}") from exc
    if not _literal_range(text):
        raise FeelError(f"not a literal range: {text!r}")
    warnings: list = []
    value = expression.evaluate({}, warnings=warnings)
    if not isinstance(value, Range) or warnings or value.start is None and value.end is None:
        raise FeelError(f"not a range: {text!r}")
    if value.start is not None and value.end is not None and _cmp(value.start, value.end) > 0:
        raise FeelError(f"descending range: {text!r}")
    return value


_CONSTRUCTORS = ("date", "time", "date and time", "duration")


def _literal_range(text: str) -> bool:
    """Allow only literal endpoints (and temporal constructors of literal strings)."""
    from ..expression import name_index
    from ..parser import parse_expression

    node = parse_expression(text, name_index(()))
    if node[0] != "range":
        return False
    for end in node[2:4]:
        if end[0] in ("const", "null", "temporal"):
            continue
        if end[0] == "neg" and end[2][0] == "const":
            continue
        if (end[0] == "call" and end[2][0] == "name" and end[2][2] in _CONSTRUCTORS
                and not end[4] and len(end[3]) == 1 and end[3][0][0] == "const"):
            continue
        return False
    return True
