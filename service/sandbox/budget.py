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
    """What is left of one evaluation's limits. Not thread-safe: one per thread (contextvar).

    With ``start_clock=False`` the CPU clock starts at the first step, size check or
    :meth:`remaining_seconds` instead of at creation: :class:`ensure` opens such budgets
    around every decision evaluation, most of which never take a step, and reading the thread
    clock is the larger part of opening one. Work before the first step is work that no loop,
    size or regex drives, so it is small.
    """

    __slots__ = ("limits", "deadline", "steps_left", "charged", "_until_check",
                 "_outer_deadline", "_token")

    def __init__(self, limits: Limits, *, deadline: float | None = None,
                 steps_left: int | None = None, start_clock: bool = True):
        self.limits = limits
        self._outer_deadline = deadline
        self.deadline: float | None = None
        self.steps_left = limits.steps if steps_left is None else min(steps_left, limits.steps)
        self.charged = 0.0
        self._until_check = CHECK_EVERY
        if start_clock:
            self.start_clock()
        else:
            self._until_check = 0  # the first step starts the clock

    def start_clock(self) -> float:
        """Start the CPU clock unless it runs already; return the deadline."""
        if self.deadline is None:
            own = time.thread_time() + self.limits.cpu_seconds
            outer = self._outer_deadline
            self.deadline = own if outer is None else min(outer, own)
        return self.deadline

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
        if self.deadline is None:
            self.start_clock()
        elif time.thread_time() > self.deadline:
            raise BudgetExceeded("cpu", f"evaluation exceeded its CPU time limit of "
                                        f"{self.limits.cpu_seconds:g} s")

    def remaining_seconds(self) -> float:
        return max(0.0, self.start_clock() - time.thread_time())

    def __enter__(self) -> Budget:
        """Make this budget the current one (how :func:`ensure` opens a block)."""
        self._token = _current.set(self)
        return self

    def __exit__(self, *exc_info) -> None:
        _current.reset(self._token)

    def charge(self, seconds: float, steps: int = 0) -> None:
        """Count work done for this budget outside this thread's clock (an isolated process)."""
        self.deadline = self.start_clock() - seconds
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


class bounded:
    """Run the block under ``limits``, never beyond an enclosing block's budget.

    ``with bounded(limits) as budget:``. A class rather than a generator-based context manager:
    every decision evaluation opens one, and this costs a third of what ``@contextmanager`` does.
    """

    __slots__ = ("limits", "_outer", "_budget", "_token")

    def __init__(self, limits: Limits = DEFAULT_LIMITS):
        self.limits = limits

    def __enter__(self) -> Budget:
        outer = self._outer = _current.get()
        if outer is None:
            budget = Budget(self.limits)
        else:
            budget = Budget(self.limits, deadline=outer.start_clock(),
                            steps_left=outer.steps_left)
        self._budget = budget
        self._token = _current.set(budget)
        return budget

    def __exit__(self, *exc_info) -> None:
        _current.reset(self._token)
        outer = self._outer
        if outer is not None:
            outer.steps_left = min(outer.steps_left, self._budget.steps_left)
            if self._budget.charged:
                outer.deadline = outer.start_clock() - self._budget.charged
                outer.charged += self._budget.charged


def ensure(limits: Limits = DEFAULT_LIMITS):
    """Open a block with ``limits`` unless one is already open (then join it).

    ``with ensure() as budget:``. Every decision evaluation goes through here, so both cases
    are cheap: joining returns a shared do-nothing context, opening enters a new lazily
    clocked :class:`Budget` directly (one object, no clock read until the first step).
    """
    if _current.get() is not None:
        return _JOIN
    return Budget(limits, start_clock=False)


class _Join:
    """The context :func:`ensure` returns inside an open block: it yields that block's budget."""

    __slots__ = ()

    def __enter__(self) -> Budget:
        return _current.get()

    def __exit__(self, *exc_info) -> None:
        return None


_JOIN = _Join()


def tick(n: int = 1) -> None:
    current().tick(n)


def check_size(n: int, what: str = "value") -> None:
    current().check_size(n, what)
