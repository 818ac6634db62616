"""RestrictedPython for analysts' scripts: what they may name and call, and how it runs.

Scripts are untrusted. RestrictedPython compiles them to code that refuses names and attributes
starting with ``_`` (no ``__class__``/``__subclasses__`` walks) and sends attribute, item,
iteration and in-place operations through guards we supply; our policy refuses imports too. The
builtins are a short allow-list: no ``open``, ``eval``, ``exec``, ``compile``, ``getattr``,
``type``, ``globals`` or ``__import__``.

This module is shared by both ways a script runs (see :mod:`.python`): in-process for plain code
(:mod:`.plain`) and in the isolated process for everything else (:mod:`.child`). The size guards
here (``**``, ``*``, ``+``, ``<<``, ``pow``, ``range``, ``round``, ``repr`` of containers) give a clear message for the common bombs; what they miss is still stopped, by the
isolated process's CPU and memory limits.

A script cannot stop the tracer by catching the budget's exception: once the budget is spent the
tracer raises again on every line, and :func:`run_traced` reports the overrun even if the script
swallowed every raise.
"""
from __future__ import annotations

import ast
import builtins
import operator
import sys
from functools import lru_cache
from types import CodeType, ModuleType
from typing import Any, Mapping

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.transformer import RestrictingNodeTransformer

from .budget import Budget, BudgetExceeded, check_size, current
from .sizes import check_storable, text_size

__all__ = ["BUILTINS", "GUARDS", "MAX_INT_BITS", "MAX_MESSAGE", "MAX_RANGE", "Policy",
           "ScriptError", "ScriptRejected", "check_variables", "compile_source", "describe",
           "guard_call", "guard_lshift", "guard_mul", "guard_pow", "run_traced", "scope_for",
           "variables"]

MAX_RANGE = 1_000_000
MAX_INT_BITS = 100_000          # about 30,000 decimal digits: arithmetic on it takes milliseconds
MAX_NDIGITS = 1_000             # round(x, -n) computes 10**n
MAX_MESSAGE = 500               # characters of an analyst's exception message we keep


class ScriptRejected(ValueError):
    """The source was refused before running (syntax or a forbidden construct), or what it left
    behind cannot be stored."""


class ScriptError(Exception):
    """The analyst's code raised; ``type_name`` is the exception's class, the text its message."""

    def __init__(self, type_name: str, message: str):
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name
        self.message = message


def describe(exc: BaseException) -> str:
    """The message of an analyst's exception, never longer than :data:`MAX_MESSAGE` and never
    built by writing out a huge argument (``raise ValueError(big_list)``)."""
    try:
        for arg in exc.args:
            text_size(arg, 10 * MAX_MESSAGE)
        text = str(exc)
    except (BudgetExceeded, ValueError, RecursionError):
        return "(message too large to show)"
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "..."


# -- size guards --------------------------------------------------------------------------

def _too_big(message: str) -> BudgetExceeded:
    return BudgetExceeded("size", f"{message}; scripts are limited to {MAX_INT_BITS:,} bits per "
                                  "integer")


def guard_pow(base: Any, exponent: Any) -> Any:
    """``**`` refusing integer results too large to compute: one C call that no deadline stops."""
    if type(base) in (int, bool) and type(exponent) in (int, bool) and exponent > 0 \
            and abs(base) > 1 and exponent * abs(base).bit_length() > MAX_INT_BITS:
        raise _too_big("integer power too large")
    return base ** exponent


def _pow_builtin(base: Any, exponent: Any, mod: Any = None) -> Any:
    if mod is None:
        return guard_pow(base, exponent)
    return pow(base, exponent, mod)      # modular: as many steps as the exponent has bits


def _sequence_size(value: Any, count: int) -> None:
    what = "string" if isinstance(value, (str, bytes)) else type(value).__name__
    check_size(len(value) * count, what)


def guard_mul(left: Any, right: Any) -> Any:
    """``*`` refusing huge repetitions (``'a' * 10**10``) and huge integer products."""
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, (str, bytes, list, tuple)) and type(count) is int:
            _sequence_size(seq, count)
    if type(left) is int and type(right) is int \
            and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        raise _too_big("integer product too large")
    return left * right


def _add(left: Any, right: Any) -> Any:
    """``+`` refusing a concatenation past the size limits (``s = s + s`` doubles each time)."""
    if isinstance(left, (str, bytes, list, tuple)) and isinstance(right, (str, bytes, list, tuple)):
        _sequence_size(left, 1)
        check_size(len(left) + len(right),
                   "string" if isinstance(left, (str, bytes)) else type(left).__name__)
    return left + right


def guard_lshift(value: Any, shift: Any) -> Any:
    if type(value) is int and type(shift) is int and value and \
            value.bit_length() + shift > MAX_INT_BITS:
        raise _too_big("shift too large")
    return value << shift


def _range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise BudgetExceeded("size", f"range of {len(r):,} items exceeds the limit of {MAX_RANGE:,}")
    return r


def _round(number: Any, ndigits: Any = None) -> Any:
    if ndigits is None:
        return round(number)
    if type(ndigits) is int and abs(ndigits) > MAX_NDIGITS:
        raise BudgetExceeded("size", f"round() to {ndigits:,} digits exceeds the limit of "
                                     f"{MAX_NDIGITS:,}")
    return round(number, ndigits)


def _repr(value: Any) -> str:
    """``repr`` refusing a container whose text would pass the budget's string limit
    (``repr([a] * 10**6)`` writes ``a`` a million times). ``str`` stays the type scripts test
    with ``isinstance``; its text is bounded by the isolated process's memory limit."""
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        text_size(value, current().limits.max_string, "text")
    return repr(value)


_OPERATOR_GUARDS = {ast.Pow: "_pow_", ast.Mult: "_mul_", ast.LShift: "_lshift_", ast.Add: "_add_"}

_INPLACE = {
    "+=": _add, "-=": operator.isub, "*=": guard_mul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": guard_pow, "<<=": guard_lshift,
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
                 "set", "frozenset", "tuple", "reversed", "map", "filter", "abs", "len"):
        allowed[name] = getattr(builtins, name)
    allowed.update(range=_range, pow=_pow_builtin, round=_round, repr=_repr)
    return allowed


BUILTINS = _builtins()
GUARDS = {
    "_getattr_": safer_getattr,
    "_getitem_": operator.getitem,
    "_getiter_": iter,
    "_write_": full_write_guard,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_inplacevar_": _inplacevar,
    "_apply_": lambda f, *a, **kw: f(*a, **kw),
    "_print_": _NullPrinter,
    "_pow_": guard_pow,
    "_mul_": guard_mul,
    "_add_": _add,
    "_lshift_": guard_lshift,
}


class Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus: no imports at all (it only guards ``__import__``), and
    ``**``, ``*``, ``+``, ``<<`` through the size guards above."""

    operator_guards = _OPERATOR_GUARDS

    def visit_Import(self, node):
        self.error(node, "imports are not allowed in scripts")
        return node

    visit_ImportFrom = visit_Import

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        name = self.operator_guards.get(type(node.op))
        if name is None:
            return node
        return guard_call(name, [node.left, node.right], node)


def guard_call(name: str, args: list, where: ast.AST) -> ast.Call:
    """A call of guard ``name`` with ``args``, placed where ``where`` was in the source."""
    func = ast.copy_location(ast.Name(id=name, ctx=ast.Load()), where)
    return ast.fix_missing_locations(ast.copy_location(ast.Call(func=func, args=args, keywords=[]),
                                                       where))


@lru_cache(maxsize=2048)
def compile_source(source: str, mode: str, policy: type[Policy] = Policy) -> CodeType:
    """Compile ``source`` (``exec`` or ``eval``) under ``policy``; raise :class:`ScriptRejected`."""
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        result = compiler(source, filename="<script>", policy=policy)
    except SyntaxError as exc:  # RestrictedPython re-raises some syntax errors directly
        raise ScriptRejected(f"syntax error: {exc.msg} (line {exc.lineno})") from exc
    if result.errors:
        raise ScriptRejected("; ".join(result.errors))
    return result.code


def scope_for(data: Mapping[str, Any], builtins_: dict = BUILTINS, guards: dict = GUARDS) -> dict:
    scope = dict(data)
    scope.update(guards)
    scope["__builtins__"] = builtins_
    return scope


def variables(scope: dict, guards: dict) -> dict:
    """The variables a script left behind in ``scope`` (not its functions or our guards)."""
    return {k: v for k, v in scope.items()
            if k not in guards and k != "__builtins__"
            and not callable(v) and not isinstance(v, ModuleType)}


def check_variables(values: Mapping[str, Any], max_variable: int, max_data: int) -> None:
    """Refuse variables a process cannot store: one past ``max_variable`` characters as JSON,
    all together past ``max_data``, or one with no JSON form."""
    total = 0
    for name, value in values.items():
        try:
            total += check_storable(name, value, max_variable)
        except ValueError as exc:
            raise ScriptRejected(str(exc)) from exc
        if total > max_data:
            raise BudgetExceeded("size", f"the process data would be more than {max_data:,} "
                                         f"characters (at variable {name!r})")


class _Tracer:
    """Charge the budget for every traced line and opcode; stop the thread once it is spent.

    Opcode events are switched on for every traced frame because a one-line loop
    (``while True: pass``) produces no line events at all.
    """

    CHECK_EVERY = 256

    def __init__(self, budget: Budget):
        self.budget = budget
        self.count = 0
        self.spent: BudgetExceeded | None = None

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "call":
            frame.f_trace_opcodes = True
        if self.spent is not None:
            raise self.spent
        self.count += 1
        if self.count >= self.CHECK_EVERY:
            self.count = 0
            try:
                self.budget.tick(self.CHECK_EVERY)
                self.budget.check_time()
            except BudgetExceeded as exc:
                self.spent = exc
                raise
        return self


def run_traced(code: CodeType, scope: dict, budget: Budget) -> Any:
    """Run ``code`` in ``scope`` under ``budget``, Python line by line; C calls are not seen."""
    tracer = _Tracer(budget)
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        # Compiled by RestrictedPython, run in a guarded scope under a budget.
        value = eval(code, scope)  # nosec B307
    except BaseException:
        if tracer.spent is not None:
            raise tracer.spent from None
        raise
    finally:
        sys.settrace(previous)
    if tracer.spent is not None:
        raise tracer.spent
    budget.tick(tracer.count)
    return value
