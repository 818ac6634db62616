"""FEEL numeric built-ins: rounding with a scale, modulo, roots, logarithms and parity.

All rounding goes through ``Decimal.quantize`` with the rounding mode the specification names;
the scale is limited to FEEL's range (-6111..6176) so a hostile scale cannot exhaust memory.
"""
from __future__ import annotations

import decimal
from decimal import Decimal

from ..values import NUMBER_CONTEXT, DaysTimeDuration, YearsMonthsDuration
from .arguments import number
from .registry import FeelError, builtin

C = NUMBER_CONTEXT


_ABSENT = object()


def _round(n, scale, mode) -> Decimal:
    n = number(n, "n")
    scale = 0 if scale is _ABSENT else int(number(scale, "scale"))
    if not -6111 <= scale <= 6176:
        raise FeelError("scale out of range")
    exponent = Decimal(1).scaleb(-scale)
    context = decimal.Context(prec=max(34, n.adjusted() + scale + 2), rounding=mode)
    result = n.quantize(exponent, rounding=mode, context=context)
    return C.plus(result) if result.adjusted() < 34 else result


@builtin("decimal", "n, scale")
def to_decimal(n, scale):
    return _round(n, scale, decimal.ROUND_HALF_EVEN)


@builtin("floor", "n, scale?")
def floor(n, scale=_ABSENT):
    return _round(n, scale, decimal.ROUND_FLOOR)


@builtin("ceiling", "n, scale?")
def ceiling(n, scale=_ABSENT):
    return _round(n, scale, decimal.ROUND_CEILING)


@builtin("round up", "n, scale?")
def round_up(n, scale=_ABSENT):
    return _round(n, scale, decimal.ROUND_UP)


@builtin("round down", "n, scale?")
def round_down(n, scale=_ABSENT):
    return _round(n, scale, decimal.ROUND_DOWN)


@builtin("round half up", "n, scale?")
def round_half_up(n, scale=_ABSENT):
    return _round(n, scale, decimal.ROUND_HALF_UP)


@builtin("round half down", "n, scale?")
def round_half_down(n, scale=_ABSENT):
    return _round(n, scale, decimal.ROUND_HALF_DOWN)


@builtin("abs", "n")
def absolute(n):
    if isinstance(n, (DaysTimeDuration, YearsMonthsDuration)):
        return -n if (n < type(n)()) else n
    return C.abs(number(n, "n"))


@builtin("modulo", "dividend, divisor")
def modulo(dividend, divisor):
    a, b = number(dividend, "dividend"), number(divisor, "divisor")
    if b == 0:
        raise FeelError("division by zero")
    quotient = C.divide(a, b).to_integral_value(rounding=decimal.ROUND_FLOOR)
    return C.subtract(a, C.multiply(b, quotient))


@builtin("sqrt", "number")
def sqrt(n):
    n = number(n, "number")
    if n < 0:
        raise FeelError("square root of a negative number")
    return C.sqrt(n)


@builtin("log", "number")
def log(n):
    n = number(n, "number")
    if n <= 0:
        raise FeelError("logarithm of a number that is not positive")
    return C.ln(n)


@builtin("exp", "number")
def exp(n):
    return C.exp(number(n, "number"))


@builtin("odd", "number")
def odd(n):
    n = number(n, "number")
    if n != n.to_integral_value():
        return False
    return int(n) % 2 == 1


@builtin("even", "number")
def even(n):
    n = number(n, "number")
    if n != n.to_integral_value():
        return False
    return int(n) % 2 == 0
