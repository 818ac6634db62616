"""Represent the FEEL values that Python has no type for: durations, ranges and functions.

Every other FEEL type maps onto a stdlib type (see the package docstring): numbers are
``Decimal`` computed in ``NUMBER_CONTEXT`` (34 digits, half-even, as FEEL's IEEE 754-2008
Decimal128 semantics require), so every arithmetic operation in this package passes the context
explicitly instead of touching the thread's global decimal context.
"""
from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Mapping, Sequence

from service.sandbox import ensure

from .scope import Scope

NUMBER_CONTEXT = decimal.Context(
    prec=34, rounding=decimal.ROUND_HALF_EVEN, Emax=6144, Emin=-6143,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

_ZERO = Decimal(0)


def _seconds_text(seconds: Decimal) -> str:
    text = format(seconds.normalize(NUMBER_CONTEXT), "f")
    return text


@dataclass(frozen=True, order=True)
class DaysTimeDuration:
    """Hold a FEEL ``days and time duration`` as a signed number of seconds.

    Seconds are a ``Decimal`` so fractional seconds survive arithmetic exactly; days, hours and
    minutes are derived (a day is always 86,400 s in FEEL: no calendar, no leap seconds).
    """

    total_seconds: Decimal = _ZERO

    def __post_init__(self):
        if not isinstance(self.total_seconds, Decimal):
            object.__setattr__(self, "total_seconds", Decimal(self.total_seconds))

    def _parts(self) -> tuple[int, int, int, int, Decimal]:
        total = self.total_seconds
        sign = -1 if total < 0 else 1
        total = abs(total)
        whole = int(total)
        fraction = total - whole
        days, rest = divmod(whole, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        return sign, days, hours, minutes, secs + fraction

    @property
    def days(self) -> int:
        sign, days, *_ = self._parts()
        return sign * days

    @property
    def hours(self) -> int:
        sign, _, hours, *_ = self._parts()
        return sign * hours

    @property
    def minutes(self) -> int:
        sign, _, _, minutes, _ = self._parts()
        return sign * minutes

    @property
    def secs(self) -> Decimal:
        sign, *_, secs = self._parts()
        return sign * secs

    def __neg__(self) -> DaysTimeDuration:
        return DaysTimeDuration(-self.total_seconds)

    def __add__(self, other):
        if isinstance(other, DaysTimeDuration):
            return DaysTimeDuration(NUMBER_CONTEXT.add(self.total_seconds, other.total_seconds))
        return NotImplemented

    def __sub__(self, other):
        if isinstance(other, DaysTimeDuration):
            return DaysTimeDuration(NUMBER_CONTEXT.subtract(self.total_seconds, other.total_seconds))
        return NotImplemented

    def __str__(self) -> str:
        sign, days, hours, minutes, secs = self._parts()
        if not (days or hours or minutes or secs):
            return "PT0S"
        text = "-P" if sign < 0 else "P"
        if days:
            text += f"{days}D"
        if hours or minutes or secs:
            text += "T"
            if hours:
                text += f"{hours}H"
            if minutes:
                text += f"{minutes}M"
            if secs:
                text += _seconds_text(secs) + "S"
        return text


@dataclass(frozen=True, order=True)
class YearsMonthsDuration:
    """Hold a FEEL ``years and months duration`` as a signed number of months."""

    total_months: int = 0

    @property
    def years(self) -> int:
        sign = -1 if self.total_months < 0 else 1
        return sign * (abs(self.total_months) // 12)

    @property
    def months(self) -> int:
        sign = -1 if self.total_months < 0 else 1
        return sign * (abs(self.total_months) % 12)

    def __neg__(self) -> YearsMonthsDuration:
        return YearsMonthsDuration(-self.total_months)

    def __add__(self, other):
        if isinstance(other, YearsMonthsDuration):
            return YearsMonthsDuration(self.total_months + other.total_months)
        return NotImplemented

    def __sub__(self, other):
        if isinstance(other, YearsMonthsDuration):
            return YearsMonthsDuration(self.total_months - other.total_months)
        return NotImplemented

    def __str__(self) -> str:
        total = self.total_months
        if total == 0:
            return "P0M"
        years, months = divmod(abs(total), 12)
        text = "-P" if total < 0 else "P"
        if years:
            text += f"{years}Y"
        if months:
            text += f"{months}M"
        return text


@dataclass(frozen=True)
class Range:
    """Hold a FEEL range (interval); a ``None`` endpoint means unbounded on that side.

    ``> 5`` is ``Range(5, None, False, False)``. Membership and the range built-ins use the
    comparison rules of :mod:`.semantics`, so a range of dates or strings works like one of
    numbers.
    """

    start: Any
    end: Any
    start_included: bool = True
    end_included: bool = True
    #: set when a literal like ``[null..10]`` gave a null endpoint (not unbounded): FEEL makes
    #: membership tests on such a range null
    null_endpoint: bool = False
    #: ``"="`` or ``"!="`` for the unary-test ranges ``(=10)`` and ``(!=10)``: membership is
    #: FEEL equality (so lists and contexts work too), and ``(=10)`` equals ``(=10)`` but not
    #: ``[10..10]``. ``(=10)`` has both endpoints 10, included; ``(!=10)`` both excluded.
    operator: str | None = None


class FeelFunction:
    """Make a Python callable invocable from FEEL with positional or named arguments.

    ``params`` names the parameters in order (FEEL named invocation uses them); ``body`` is
    called with the arguments positionally, missing ones as ``None`` (FEEL null). The DMN layer
    wraps business knowledge models and decision services this way. Subclasses for built-ins
    and FEEL-defined functions override :meth:`invoke`, which must not raise for runtime
    faults of FEEL content: it returns ``None`` and appends a warning instead.

    ``param_types`` optionally holds a FEEL type text per parameter (``None`` for any) and
    ``result_type`` the result's; ``instance of function<...>`` reads them. A subclass whose
    parameters are typed checks its arguments in :meth:`invoke` (functions defined in FEEL do).
    """

    __slots__ = ("params", "body", "name", "param_types", "result_type")

    def __init__(
        self,
        params: Sequence[str],
        body: Callable[..., Any],
        *,
        name: str | None = None,
        param_types: Sequence[str | None] | None = None,
        result_type: str | None = None,
    ):
        self.params = list(params)
        self.body = body
        self.name = name
        self.param_types = list(param_types) if param_types else None
        self.result_type = result_type

    def bind(self, args: Sequence[Any], named: Mapping[str, Any] | None) -> list[Any] | None:
        """Return the positional argument list, or ``None`` when the call cannot bind."""
        if named is None:
            if len(args) > len(self.params):
                return None
            return list(args) + [None] * (len(self.params) - len(args))
        if set(named) - set(self.params):
            return None
        return [named.get(p) for p in self.params]

    def invoke(self, args: Sequence[Any], named: Mapping[str, Any] | None, env: Any) -> Any:
        """Call the function from FEEL; ``env`` is the caller's evaluation scope."""
        bound = self.bind(args, named)
        if bound is None:
            env.warn(f"cannot bind arguments to function {self.name or '<anonymous>'}")
            return None
        return self.body(*bound)

    def __call__(self, *args: Any, **named: Any) -> Any:
        """Call from Python (the DMN layer, tests) with FEEL values; warnings are dropped.

        Runs under the budget of :mod:`service.sandbox`; ``BudgetExceeded`` propagates.
        """
        with ensure():
            return self.invoke(args, named or None, Scope({}))

    def __repr__(self) -> str:
        return f"<FEEL function {self.name or 'anonymous'}({', '.join(self.params)})>"

