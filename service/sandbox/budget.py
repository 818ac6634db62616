"""The resource budget every evaluation of analysts' code runs under: CPU, steps and size.

Analysts' scripts, FEEL expressions, decision tables and regular expressions are untrusted. One
budget bounds them all, so a FEEL ``for`` loop inside a decision called from a script task
inside a timer firing is limited once, by the outermost unit of work, rather than by three
separate limits that multiply.

Use::

    with bounded(Limits(cpu_seconds=1.0)):
        ...evaluate...                 # evaluators call tick() and check_size()

Inside, :func:`tick` counts steps (loop iterations, list elements built, function calls) and
reads the thread's CPU clock every ``CHECK_EVERY`` steps; :func:`check_size` refuses a value
about to be built that is larger than the limits. Both raise :class:`BudgetExceeded`, which
evaluators must let through (never turn it into a FEEL ``null``). Every evaluator's entry point
opens :func:`ensure` (a block with the default limits, unless one is already open), so code
evaluated outside a unit of work (a test, the TCK runner) is bounded too.

Nested blocks never extend the outer budget: the inner one ends at the earlier deadline and the
smaller step count. The CPU clock is per thread (``time.thread_time``), because requests and the
worker run the engine on different threads of one process.

This package imports nothing of ours: the engine and the decisions package both use it.
"""
from __future__ import annotations

import contextvars
import time
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["BudgetExceeded", "Budget", "Limits", "DEFAULT_LIMITS", "bounded", "ensure",
           "current", "tick", "check_size"]

CHECK_EVERY = 1024


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float = 1.0
    steps: int = 5_000_000           # loop iterations and built elements per unit of work
    max_items: int = 1_000_000       # elements in one list, context or range built
    max_string: int = 1_000_000      # characters in one string built


DEFAULT_LIMITS = Limits()


class BudgetExceeded(RuntimeError):
    """Analysts' code used more than its budget; ``kind`` is ``cpu``, ``steps``, ``size`` or
    ``memory`` (the isolated script process's address-space limit)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


class Budget:
    """What is left of one evaluation's limits. Not thread-safe: one per thread (contextvar)."""

    __slots__ = ("limits", "deadline", "steps_left", "charged", "_until_check")

    def __init__(self, limits: Limits, *, deadline: float | None = None,
                 steps_left: int | None = None):
        self.limits = limits
        own_deadline = time.thread_time() + limits.cpu_seconds
        self.deadline = own_deadline if deadline is None else min(deadline, own_deadline)
        self.steps_left = limits.steps if steps_left is None else min(steps_left, limits.steps)
        self.charged = 0.0
        self._until_check = CHECK_EVERY

    def tick(self, n: int = 1) -> None:
        self.steps_left -= n
        if self.steps_left < 0:
            raise BudgetExceeded("steps", f"evaluation exceeded its step limit of "
                                          f"{self.limits.steps:,}")
        self._until_check -= n
        if self._until_check <= 0:
            self._until_check = CHECK_EVERY
            self.check_time()

    def check_time(self) -> None:
        if time.thread_time() > self.deadline:
            raise BudgetExceeded("cpu", f"evaluation exceeded its CPU time limit of "
                                        f"{self.limits.cpu_seconds:g} s")

    def remaining_seconds(self) -> float:
        return max(0.0, self.deadline - time.thread_time())

    def charge(self, seconds: float, steps: int = 0) -> None:
        """Count work done for this budget outside this thread's clock (an isolated process)."""
        self.deadline -= seconds
        self.charged += seconds
        if steps:
            self.tick(steps)
        self.check_time()

    def check_size(self, n: int, what: str = "value") -> None:
        """Refuse building a collection of ``n`` items (or a string of ``n`` characters)."""
        limit = self.limits.max_string if what == "string" else self.limits.max_items
        if n > limit:
            raise BudgetExceeded("size", f"{what} of {n:,} exceeds the limit of {limit:,}")
        self.tick(max(1, n // 64))


_current: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("omniflow_budget",
                                                                         default=None)


def current() -> Budget:
    """The budget in force. Outside any block a fresh default budget, which bounds only the one
    call it is given to: evaluators open :func:`ensure` so that a whole evaluation shares one."""
    budget = _current.get()
    return budget if budget is not None else Budget(DEFAULT_LIMITS)


@contextmanager
def bounded(limits: Limits = DEFAULT_LIMITS):
    """Run the block under ``limits``, never beyond an enclosing block's budget."""
    outer = _current.get()
    if outer is None:
        budget = Budget(limits)
    else:
        budget = Budget(limits, deadline=outer.deadline, steps_left=outer.steps_left)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)
        if outer is not None:
            outer.steps_left = min(outer.steps_left, budget.steps_left)
            outer.deadline -= budget.charged
            outer.charged += budget.charged


@contextmanager
def ensure(limits: Limits = DEFAULT_LIMITS):
    """Open a block with ``limits`` unless one is already open (then join it)."""
    budget = _current.get()
    if budget is not None:
        yield budget
        return
    with bounded(limits) as budget:
        yield budget


def tick(n: int = 1) -> None:
    current().tick(n)


def check_size(n: int, what: str = "value") -> None:
    current().check_size(n, what)
