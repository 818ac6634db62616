"""Run analysts' Python (script tasks, conditions, parameters) in a restricted evaluator.

Scripts are untrusted input. They are compiled by RestrictedPython, which refuses imports,
names and attributes starting with ``_`` (so no ``__class__``/``__subclasses__`` walks), and
rewrites attribute, item, iteration and in-place operations to go through guards we supply. The
builtins are a short allow-list: no ``open``, ``eval``, ``exec``, ``compile``, ``getattr``,
``type``, ``globals`` or ``__import__``.

A CPU time limit is enforced with ``sys.settrace`` and a per-thread deadline rather than a signal
alarm, because SpiffWorkflow calls the script engine from whichever thread runs the engine (a
Flask request thread, a worker thread) and ``signal.alarm`` only works in the main thread. The
tracer sees Python lines, not C loops, so ``range`` is capped (see ``MAX_RANGE``) to keep a
single builtin call from running for minutes.

Costs: compiled code is cached by source text (LRU), tracing slows scripts by a few microseconds
per executed line, which is negligible for the short scripts processes use.
"""
from __future__ import annotations

import ast
import builtins
import datetime as dt
import json
import operator
import sys
import threading
import time
from functools import lru_cache
from types import CodeType, ModuleType
from typing import Any, Mapping

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import RestrictingNodeTransformer
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)

__all__ = ["Sandbox", "ScriptRejected", "ScriptTimeout", "MAX_RANGE"]

MAX_RANGE = 1_000_000
MAX_INT_BITS = 100_000          # about 30,000 decimal digits
MAX_SEQUENCE = 10_000_000       # items (or characters) a repetition may build


class ScriptRejected(ValueError):
    """The source was refused before running (syntax or a forbidden construct)."""


class ScriptTimeout(RuntimeError):
    """The script used more CPU time than allowed."""


def _limited_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise ValueError(f"range of {len(r)} items exceeds the limit of {MAX_RANGE}")
    return r


def _too_big(message: str) -> ValueError:
    return ValueError(f"{message}; scripts are limited to {MAX_INT_BITS} bits per integer and "
                      f"{MAX_SEQUENCE:,} items per sequence")


def _pow(base: Any, exponent: Any) -> Any:
    """``**`` that refuses integer results too large to compute in reasonable time and memory.

    The CPU deadline cannot interrupt one C-level operation such as ``10**10**10``."""
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        if exponent * abs(base).bit_length() > MAX_INT_BITS:
            raise _too_big("integer power too large")
    return base ** exponent


def _mul(left: Any, right: Any) -> Any:
    """``*`` that refuses huge repetitions (``'a' * 10**10``) and huge integer products."""
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, (str, bytes, list, tuple)) and isinstance(count, int):
            if len(seq) * count > MAX_SEQUENCE:
                raise _too_big("repetition too large")
    if isinstance(left, int) and isinstance(right, int) \
            and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        raise _too_big("integer product too large")
    return left * right


def _lshift(value: Any, shift: Any) -> Any:
    if isinstance(value, int) and isinstance(shift, int) and shift > MAX_INT_BITS:
        raise _too_big("shift too large")
    return value << shift


_GUARDED_OPERATORS = {ast.Pow: "_pow_", ast.Mult: "_mul_", ast.LShift: "_lshift_"}


_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": _mul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": _pow, "<<=": _lshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    fn = _INPLACE.get(op)
    if fn is None:
        raise ScriptRejected(f"operator {op} is not allowed")
    return fn(x, y)


class _NullPrinter:
    """``print`` in a script goes nowhere: scripts talk to the process through its data."""

    def __init__(self, _getattr_: Any = None):
        pass

    def _call_print(self, *args: Any, **kwargs: Any) -> None:
        return None

    def __call__(self) -> str:
        return ""


def _builtins() -> dict:
    allowed = {k: v for k, v in safe_builtins.items()
               if k not in {"__build_class__", "_getattr_", "id", "hash"}}
    for name in ("min", "max", "sum", "sorted", "any", "all", "enumerate", "zip", "list", "dict",
                 "set", "frozenset", "tuple", "reversed", "map", "filter", "abs", "round", "len"):
        allowed[name] = getattr(builtins, name)
    allowed["range"] = _limited_range
    return allowed


_BUILTINS = _builtins()
_GUARDS = {
    "_getattr_": safer_getattr,
    "_getitem_": operator.getitem,
    "_getiter_": iter,
    "_write_": full_write_guard,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_inplacevar_": _inplacevar,
    "_apply_": lambda f, *a, **kw: f(*a, **kw),
    "_print_": _NullPrinter,
    "_pow_": _pow,
    "_mul_": _mul,
    "_lshift_": _lshift,
}


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus: no imports at all (it only guards ``__import__``)."""

    def visit_Import(self, node):
        self.error(node, "imports are not allowed in scripts")
        return node

    visit_ImportFrom = visit_Import

    def visit_BinOp(self, node):
        """Route ``**``, ``*`` and ``<<`` through size guards (see :func:`_pow`)."""
        node = self.node_contents_visit(node)
        name = _GUARDED_OPERATORS.get(type(node.op))
        if name is None:
            return node
        func = ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node)
        call = ast.Call(func=func, args=[node.left, node.right], keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))


@lru_cache(maxsize=2048)
def _compile(source: str, mode: str) -> CodeType:
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        result = compiler(source, filename="<script>", policy=_Policy)
    except SyntaxError as exc:  # RestrictedPython re-raises some syntax errors directly
        raise ScriptRejected(f"syntax error: {exc.msg} (line {exc.lineno})") from exc
    if result.errors:
        raise ScriptRejected("; ".join(result.errors))
    return result.code


class _Deadline:
    """A tracer that aborts the traced thread's frames once its CPU budget is spent.

    Opcode events are switched on for every traced frame because a one-line loop
    (``while True: pass``) produces no line events at all; the clock is read only every
    ``_CHECK_EVERY`` events to keep the overhead low.
    """

    _CHECK_EVERY = 256

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.limit = time.thread_time() + seconds
        self.count = 0

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "call":
            frame.f_trace_opcodes = True
        self.count += 1
        if self.count % self._CHECK_EVERY == 0 or event == "call":
            if time.thread_time() > self.limit:
                raise ScriptTimeout(f"script exceeded its CPU time limit of {self.seconds:g} s")
        return self


def _check_storable(values: dict) -> None:
    """Refuse values the instance state cannot hold (bytes, NaN, sets, enormous integers), at
    the script that made them rather than later, when the state is saved."""
    for name, value in values.items():
        try:
            json.dumps(value, allow_nan=False, default=_temporal)
        except (TypeError, ValueError) as exc:
            raise ScriptRejected(f"variable {name!r} cannot be stored in the process data: "
                                 f"{exc}") from exc


def _temporal(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class Sandbox:
    """Evaluate expressions and execute scripts against a data mapping, under a CPU limit."""

    def __init__(self, cpu_seconds: float = 1.0):
        self.cpu_seconds = cpu_seconds
        self._local = threading.local()

    def evaluate(self, expression: str, data: Mapping[str, Any]) -> Any:
        """Return the value of ``expression`` with ``data`` as its variables."""
        code = _compile(expression.strip(), "eval")
        scope = self._scope(data)
        return self._run(code, scope)

    def execute(self, script: str, data: dict) -> None:
        """Run ``script``; the names it leaves behind (except functions) become ``data``."""
        code = _compile(script, "exec")
        scope = self._scope(data)
        self._run(code, scope)
        result = {k: v for k, v in scope.items()
                  if k not in _GUARDS and k != "__builtins__"
                  and not callable(v) and not isinstance(v, ModuleType)}
        _check_storable(result)
        data.clear()
        data.update(result)

    @staticmethod
    def check(source: str, mode: str = "exec") -> None:
        """Compile ``source`` without running it; raise :class:`ScriptRejected` if refused."""
        _compile(source.strip() if mode == "eval" else source, mode)

    def _scope(self, data: Mapping[str, Any]) -> dict:
        scope = dict(data)
        scope.update(_GUARDS)
        scope["__builtins__"] = _BUILTINS
        return scope

    def _run(self, code: CodeType, scope: dict) -> Any:
        # Nested calls (a condition evaluated inside a script's callback) keep the outer deadline.
        if getattr(self._local, "active", False):
            return eval(code, scope)  # noqa: S307 - restricted bytecode, guarded scope
        previous = sys.gettrace()
        self._local.active = True
        sys.settrace(_Deadline(self.cpu_seconds))
        try:
            return eval(code, scope)  # noqa: S307 - restricted bytecode, guarded scope
        finally:
            sys.settrace(previous)
            self._local.active = False
