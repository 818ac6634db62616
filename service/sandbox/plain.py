"""Plain scripts and expressions: the part of Python that runs in-process, bounded without a tracer.

Most of what analysts write is plain: ``amount = refund_amount``, ``approved and amount > 100``,
a ``try``/``except NameError`` around a variable a signal may not carry, arithmetic. Plain code
has no loops, comprehensions, functions, lambdas, attribute access or string formatting and
calls only a few builtins, so it runs at most as many operations as it has nodes. The guards
here make each operation cheap: on scalars (numbers, strings, dates) results are size-checked;
on containers only shallow work is done (``len``, an item or a slice, ``x in items``, ``sum``,
``min``, ``max`` of a flat list). That is what lets plain code skip the tracer and the isolated
process, which is most of the cost of a script.

An operation that meets anything else at run time (two containers compared, ``str`` of a list,
a tuple used as a key: their cost depends on how the values share parts, not on their size in
memory) raises :class:`Isolate`. It is not an ``Exception``, and plain code may only catch named
``Exception`` classes, so the script cannot swallow it; the sandbox then runs the whole source
again in the isolated process. Plain code changes nothing before it finishes (it can only bind
names), so running it again is safe.
"""
from __future__ import annotations

import ast
import builtins
import datetime as dt
import operator
from typing import Any

from .budget import BudgetExceeded, check_size
from .restricted import (GUARDS, MAX_NDIGITS, Policy, guard_call, guard_lshift, guard_mul,
                         guard_pow)

__all__ = ["BUILTINS", "GUARDS_PLAIN", "Isolate", "PlainPolicy", "is_plain"]


class Isolate(BaseException):
    """Raised by a plain guard for an operation it cannot bound: run the source isolated."""


_NUMBERS = frozenset({int, float, bool})
_TEMPORAL = frozenset({dt.date, dt.datetime, dt.time, dt.timedelta})
_SCALARS = _NUMBERS | _TEMPORAL | {str, type(None)}
_KEYS = _SCALARS | {slice}

_ARITHMETIC = {
    "Add": operator.add, "Sub": operator.sub, "Mult": guard_mul, "Div": operator.truediv,
    "FloorDiv": operator.floordiv, "Mod": operator.mod, "Pow": guard_pow,
    "LShift": guard_lshift, "RShift": operator.rshift, "BitOr": operator.or_,
    "BitXor": operator.xor, "BitAnd": operator.and_,
}
_INPLACE = {"+=": "Add", "-=": "Sub", "*=": "Mult", "/=": "Div", "//=": "FloorDiv", "%=": "Mod",
            "**=": "Pow", "<<=": "LShift", ">>=": "RShift", "|=": "BitOr", "^=": "BitXor",
            "&=": "BitAnd"}
_COMPARE = {
    "Eq": operator.eq, "NotEq": operator.ne, "Lt": operator.lt, "LtE": operator.le,
    "Gt": operator.gt, "GtE": operator.ge, "Is": operator.is_, "IsNot": operator.is_not,
    "In": lambda a, b: a in b, "NotIn": lambda a, b: a not in b,
}


def _binop(op: str, left: Any, right: Any) -> Any:
    kinds = type(left), type(right)
    if kinds[0] in _NUMBERS and kinds[1] in _NUMBERS:
        return _ARITHMETIC[op](left, right)
    if (kinds[0] in _TEMPORAL or kinds[1] in _TEMPORAL) \
            and kinds[0] in _TEMPORAL | _NUMBERS and kinds[1] in _TEMPORAL | _NUMBERS:
        return _ARITHMETIC[op](left, right)
    if op == "Add" and kinds == (str, str):
        check_size(len(left) + len(right), "string")
        return left + right
    if op == "Mult" and kinds in ((str, int), (int, str)):
        return guard_mul(left, right)
    raise Isolate


def _inplacevar(op: str, left: Any, right: Any) -> Any:
    return _binop(_INPLACE[op], left, right)


def _compare(op: str, left: Any, right: Any) -> Any:
    # With one scalar side, ``==``/``<`` answer at once and ``in`` scans the container once.
    if type(left) in _SCALARS or type(right) in _SCALARS or op in ("Is", "IsNot"):
        return _COMPARE[op](left, right)
    raise Isolate


def _getitem(container: Any, key: Any) -> Any:
    if type(key) not in _KEYS:
        raise Isolate            # hashing a tuple walks all of it, shared parts every time
    return container[key]


def _flat(values: Any) -> bool:
    return isinstance(values, (list, tuple, dict, set, frozenset, str)) and \
        set(map(type, values)) <= _SCALARS


def _call(func: Any, *args: Any) -> Any:
    if func is len or func is isinstance:
        return func(*args)
    if func in (min, max):
        if (len(args) == 1 and _flat(args[0])) or (len(args) > 1 and _all_scalar(args)):
            return func(*args)
        raise Isolate
    if func is sum:
        if len(args) == 1 and _flat(args[0]):
            return sum(args[0])
        raise Isolate
    if not _all_scalar(args):
        raise Isolate
    if func is round and len(args) == 2 and type(args[1]) is int and abs(args[1]) > MAX_NDIGITS:
        raise BudgetExceeded("size", f"round() to {args[1]:,} digits exceeds the limit of "
                                     f"{MAX_NDIGITS:,}")
    return func(*args)


def _all_scalar(values: tuple) -> bool:
    return all(type(value) in _SCALARS for value in values)


_CALLABLE = {"abs": abs, "round": round, "int": int, "float": float, "str": str, "bool": bool,
             "len": len, "min": min, "max": max, "sum": sum, "isinstance": isinstance}
_TYPES = {"list": list, "dict": dict, "tuple": tuple, "set": set}
_EXCEPTIONS = {name: getattr(builtins, name)
               for name in ("Exception", "ArithmeticError", "LookupError", "NameError",
                            "KeyError", "IndexError", "ValueError", "TypeError",
                            "ZeroDivisionError", "AttributeError", "OverflowError")}
BUILTINS = {**_CALLABLE, **_TYPES, **_EXCEPTIONS, "slice": slice,
            "True": True, "False": False, "None": None}
GUARDS_PLAIN = {**GUARDS, "_binop_": _binop, "_compare_": _compare, "_call_": _call,
                "_getitem_": _getitem, "_inplacevar_": _inplacevar}

_RESERVED = frozenset(BUILTINS)

_ALLOWED = (
    ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.Try,
    ast.ExceptHandler, ast.Pass, ast.Name, ast.Constant, ast.BoolOp, ast.UnaryOp, ast.BinOp,
    ast.Compare, ast.IfExp, ast.Call, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Subscript,
    ast.Slice, ast.Load, ast.Store, ast.boolop, ast.unaryop, ast.operator, ast.cmpop,
)


def is_plain(tree: ast.AST) -> bool:
    """Whether parsed source stays within plain code (see the module docstring)."""
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED) or isinstance(node, ast.MatMult):
            return False
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id in _RESERVED:
            return False
        if isinstance(node, ast.Assign) and not all(isinstance(t, ast.Name) for t in node.targets):
            return False
        if isinstance(node, ast.AugAssign) and not isinstance(node.target, ast.Name):
            return False
        if isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load):
            return False
        if isinstance(node, ast.Compare) and len(node.ops) != 1:
            return False
        if isinstance(node, ast.Call) and (
                not isinstance(node.func, ast.Name) or node.func.id not in _CALLABLE
                or node.keywords or any(isinstance(a, ast.Starred) for a in node.args)):
            return False
        if isinstance(node, (ast.List, ast.Tuple)) and any(isinstance(e, ast.Starred) for e in node.elts):
            return False
        if isinstance(node, ast.Set) and not all(isinstance(e, ast.Constant) for e in node.elts):
            return False
        if isinstance(node, ast.Dict) and not all(isinstance(k, ast.Constant) for k in node.keys):
            return False
        if isinstance(node, ast.ExceptHandler) and not _named_exceptions(node):
            return False
    return True


def _named_exceptions(handler: ast.ExceptHandler) -> bool:
    if handler.name is not None and handler.name in _RESERVED:
        return False
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return all(isinstance(t, ast.Name) and t.id in _EXCEPTIONS for t in types)


class PlainPolicy(Policy):
    """The restricted policy, with every operator, comparison and call through the plain guards."""

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        return guard_call("_binop_", [ast.Constant(type(node.op).__name__), node.left, node.right],
                          node)

    def visit_Compare(self, node):
        node = self.node_contents_visit(node)
        return guard_call("_compare_", [ast.Constant(type(node.ops[0]).__name__), node.left,
                                        node.comparators[0]], node)

    def visit_Call(self, node):
        node = super().visit_Call(node)
        return guard_call("_call_", [node.func, *node.args], node)
