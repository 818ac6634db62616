"""Run analysts' Python (script tasks, conditions, parameters) bounded in time and memory.

Every script and expression is compiled by RestrictedPython (:mod:`.restricted`: what it may
name and call) and then runs one of two ways, both under the current budget (:mod:`.budget`;
the engine opens one per operation, so all the scripts of a run share one CPU limit):

* **plain** code (:mod:`.plain`: no loops, functions, attribute access or formatting; scalar
  operations and shallow container operations only) runs in the calling thread. It runs at most
  as many operations as it has nodes and each one is size-checked, so it needs neither a tracer
  nor a process switch. Most of what processes contain (``amount = refund_amount``, a ``try``
  around a missing variable, a comparison) is plain.
* everything else runs in an **isolated process** (:mod:`.isolation`, :mod:`.child`) under a
  tracer, a CPU timer and an address-space limit. One C call can do unbounded work
  (``pow(10, 10**8)``, ``'a'.ljust(10**9)``, ``str`` of a list that holds another list a million
  times): no tracer sees inside it and no check in Python can foresee every such call, but a
  process can be stopped and its memory capped. A round trip costs tens of microseconds
  (``bench/sandbox.py``).

What a script leaves behind becomes process data only if each variable it set is at most
``max_variable_chars`` characters as JSON and all of them together at most ``max_data_chars``,
so one script cannot fill the instance state; the failure names the variable.

Errors: :class:`ScriptRejected` (refused: syntax, a forbidden construct, an unstorable result),
:class:`ScriptError` (the script raised; same type name and message from both ways of running),
:class:`~service.sandbox.budget.BudgetExceeded` (``cpu``, ``steps``, ``size`` or ``memory``).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType
from typing import Any, Mapping

from . import isolation
from .budget import BudgetExceeded, Limits, ensure
from .plain import BUILTINS as PLAIN_BUILTINS
from .plain import GUARDS_PLAIN, Isolate, PlainPolicy, is_plain
from .restricted import (ScriptError, ScriptRejected, check_variables, compile_source, describe,
                         scope_for, variables)

__all__ = ["MAX_DATA_CHARS", "MAX_VARIABLE_CHARS", "Sandbox", "ScriptError", "ScriptRejected"]

MAX_VARIABLE_CHARS = 1_000_000
MAX_DATA_CHARS = 4_000_000
_UNSET = object()


@dataclass(frozen=True)
class _Compiled:
    plain: CodeType | None       # the plain-guarded code, or None: this source runs isolated


@lru_cache(maxsize=2048)
def _compile(source: str, mode: str) -> _Compiled:
    compile_source(source, mode)          # refuses what no way of running may run
    plain = None
    if is_plain(ast.parse(source, mode=mode)):
        plain = compile_source(source, mode, PlainPolicy)
    return _Compiled(plain)


class Sandbox:
    """Evaluate expressions and execute scripts against a data mapping (thread-safe)."""

    def __init__(self, cpu_seconds: float = 1.0, *, max_variable_chars: int = MAX_VARIABLE_CHARS,
                 max_data_chars: int = MAX_DATA_CHARS):
        self.limits = Limits(cpu_seconds=cpu_seconds)
        self.max_variable_chars = max_variable_chars
        self.max_data_chars = max_data_chars

    def evaluate(self, expression: str, data: Mapping[str, Any]) -> Any:
        """Return the value of ``expression`` with ``data`` as its variables."""
        source = expression.strip()
        with ensure(self.limits):
            compiled = _compile(source, "eval")
            if compiled.plain is not None:
                try:
                    return _run_plain(compiled.plain, data)
                except Isolate:
                    pass
            return isolation.run("eval", source, data, max_variable=self.max_data_chars,
                                 max_data=self.max_data_chars)

    def execute(self, script: str, data: dict) -> None:
        """Run ``script``; the names it leaves behind (except functions) become ``data``."""
        with ensure(self.limits):
            compiled = _compile(script, "exec")
            result = None
            if compiled.plain is not None:
                scope = scope_for(data, PLAIN_BUILTINS, GUARDS_PLAIN)
                try:
                    _run_plain(compiled.plain, scope=scope)
                    result = variables(scope, GUARDS_PLAIN)
                except Isolate:
                    pass
                else:
                    # Plain code cannot change a value in place: only rebound names are new.
                    check_variables({k: v for k, v in result.items() if data.get(k, _UNSET) is not v},
                                    self.max_variable_chars, self.max_data_chars)
            if result is None:
                changes = isolation.run("exec", script, data,
                                        max_variable=self.max_variable_chars,
                                        max_data=self.max_data_chars)
                result = {k: v for k, v in data.items() if k not in changes["deleted"]}
                result.update(changes["set"])
        data.clear()
        data.update(result)

    @staticmethod
    def check(source: str, mode: str = "exec") -> None:
        """Compile ``source`` without running it; raise :class:`ScriptRejected` if refused."""
        _compile(source.strip() if mode == "eval" else source, mode)

    @staticmethod
    def runs_in_process(source: str, mode: str = "exec") -> bool:
        """Whether ``source`` is plain code, run in the calling thread (until an operation on
        containers sends it to the isolated process)."""
        return _compile(source.strip() if mode == "eval" else source, mode).plain is not None


def _run_plain(code: CodeType, data: Mapping[str, Any] | None = None, *,
               scope: dict | None = None) -> Any:
    if scope is None:
        scope = scope_for(data, PLAIN_BUILTINS, GUARDS_PLAIN)
    try:
        # Compiled by RestrictedPython, run in a guarded scope under a budget.
        return eval(code, scope)  # nosec B307
    except (ScriptRejected, BudgetExceeded):
        raise
    except Exception as exc:  # the analyst's code raised
        raise ScriptError(type(exc).__name__, describe(exc)) from exc
