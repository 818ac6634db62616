"""Tokenize and parse one EL expression into closures (EL precedence), refusing what we do not run.

A compiled node is a function ``node(ctx) -> value``: compiling builds the closures once, so
evaluation walks no syntax tree and never calls ``eval``. Every node ticks the shared budget.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from service.sandbox import check_size, tick

from .values import (OPERATORS, DateTimeValue, JuelError, JuelEvaluationError, is_decimal_text,
                     is_empty, type_name,
                     to_boolean, to_long, to_number, to_string)

__all__ = ["Context", "Node", "Parser", "literal", "concat"]

#: Camunda beans and functions files call that we do not provide (named in the refusal).
_CAMUNDA_BEANS = frozenset({"execution", "task", "externalTask", "variableScope", "connector",
                            "caseExecution", "authenticatedUserId"})
_FUNCTIONS = ("now", "dateTime")
_DATE_METHODS = {
    "plusYears": ("years", 1), "plusMonths": ("months", 1), "plusWeeks": ("weeks", 1),
    "plusDays": ("days", 1), "plusHours": ("hours", 1), "plusMinutes": ("minutes", 1),
    "plusSeconds": ("seconds", 1), "minusYears": ("years", -1), "minusMonths": ("months", -1),
    "minusWeeks": ("weeks", -1), "minusDays": ("days", -1), "minusHours": ("hours", -1),
    "minusMinutes": ("minutes", -1), "minusSeconds": ("seconds", -1),
}
_KEYWORDS = {"true", "false", "null", "empty", "not", "and", "or", "eq", "ne", "lt", "gt", "le",
             "ge", "div", "mod", "instanceof", "function"}
_WORD_OPS = {"and": "&&", "or": "||", "not": "!", "eq": "==", "ne": "!=", "lt": "<", "gt": ">",
             "le": "<=", "ge": ">=", "div": "/", "mod": "%"}


# -- tokens -------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|->|\+=|[-+*/%!<>?:.,()\[\]=;{}])
""", re.X)


@dataclass(frozen=True)
class _Tok:
    kind: str     # number, string, name, op, end
    text: str
    pos: int


def _unquote(text: str) -> str:
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] in "'\"\\":
            out.append(body[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _tokens(source: str) -> list[_Tok]:
    out, pos = [], 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise JuelError(f"unexpected character {source[pos]!r} at position {pos + 1}")
        kind = match.lastgroup
        if kind != "ws":
            out.append(_Tok(kind, match.group(), pos))
        pos = match.end()
    out.append(_Tok("end", "", pos))
    return out


# -- compiled nodes -----------------------------------------------------------------------------
# A node is a function ``node(ctx) -> value``; ``ctx`` is an Context. Compiling builds closures
# once, so evaluation walks no syntax tree and never calls eval.

Node = Callable[["Context"], Any]


class Context:
    __slots__ = ("variables", "now")

    def __init__(self, variables: Mapping[str, Any], now: Callable[[], datetime]):
        self.variables = variables
        self.now = now


def literal(value: Any) -> Node:
    def node(ctx):
        tick()
        return value
    return node


def _identifier(name: str) -> Node:
    def node(ctx):
        tick()
        try:
            return ctx.variables[name]
        except KeyError:
            raise JuelEvaluationError(f"cannot resolve identifier {name!r}: no process "
                                      "variable has that name") from None
    return node


def _property(target: Node, key: Node, label: str) -> Node:
    def node(ctx):
        tick()
        base = target(ctx)
        if base is None:
            return None                        # EL: a property of null is null
        name = key(ctx)
        if isinstance(base, Mapping):
            return base.get(name) if not isinstance(name, (dict, list)) else None
        if isinstance(base, (list, tuple)):
            index = to_long(name)
            return base[index] if 0 <= index < len(base) else None
        raise JuelEvaluationError(f"cannot read property {label} of a {type_name(base)}")
    return node


def _call_function(name: str) -> Node:
    if name == "now":
        def node(ctx):
            tick()
            return ctx.now()
    else:
        def node(ctx):
            tick()
            return DateTimeValue(ctx.now())
    return node


def _date_method(target: Node, method: str, argument: Node | None) -> Node:
    if method == "toDate":
        def node(ctx):
            tick()
            return target(ctx).value
        return node
    unit, sign = _DATE_METHODS[method]

    def shift(ctx):
        tick()
        amount = to_long(argument(ctx))
        if abs(amount) > 1_000_000:
            raise JuelEvaluationError(f"{method}({amount}) is out of range")
        try:
            return target(ctx).shifted(unit, sign * amount)
        except (OverflowError, ValueError) as exc:
            raise JuelEvaluationError(f"{method}({amount}): {exc}") from exc
    return shift


def _unary(op: str, operand: Node) -> Node:
    if op == "!":
        def node(ctx):
            tick()
            return not to_boolean(operand(ctx))
    elif op == "empty":
        def node(ctx):
            tick()
            return is_empty(operand(ctx))
    else:
        def node(ctx):
            tick()
            return -to_number(operand(ctx))
    return node


def _logical(op: str, left: Node, right: Node) -> Node:
    # Short-circuit, as EL does: the right side of ``a && b`` is not evaluated when a is false.
    if op == "&&":
        def node(ctx):
            tick()
            return to_boolean(left(ctx)) and to_boolean(right(ctx))
    else:
        def node(ctx):
            tick()
            return to_boolean(left(ctx)) or to_boolean(right(ctx))
    return node


def _binary(op: str, left: Node, right: Node) -> Node:
    fn = OPERATORS[op]

    def node(ctx):
        tick()
        return fn(left(ctx), right(ctx))
    return node


def _choice(condition: Node, yes: Node, no: Node) -> Node:
    def node(ctx):
        tick()
        return yes(ctx) if to_boolean(condition(ctx)) else no(ctx)
    return node


def concat(parts: list[Node]) -> Node:
    def node(ctx):
        tick()
        text = "".join(to_string(part(ctx)) for part in parts)
        check_size(len(text), "string")
        return text
    return node


# -- parser (EL precedence, lowest first: ?:, ||, &&, == !=, < > <= >=, + -, * / %, unary) ----------

class Parser:
    def __init__(self, source: str):
        self.source = source
        self.toks = _tokens(source)
        self.i = 0
        self.names: set[str] = set()

    # helpers
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def op(self) -> str | None:
        tok = self.peek()
        if tok.kind == "op":
            return tok.text
        if tok.kind == "name" and tok.text in _WORD_OPS:
            return _WORD_OPS[tok.text]
        if tok.kind == "name" and tok.text == "empty":
            return "empty"
        return None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            found = tok.text or "the end"
            raise JuelError(f"expected {text!r} at position {tok.pos + 1}, found {found!r}")

    def parse(self) -> Node:
        node = self.expression()
        tok = self.peek()
        if tok.kind != "end":
            raise self.refuse(tok)
        return node

    def refuse(self, tok: _Tok) -> JuelError:
        if tok.kind == "end":
            return JuelError("the expression ends too early")
        if tok.text in ("=", "+=", ";", "->", "{", "}"):
            return JuelError(f"{tok.text!r} (assignment, lambdas, sets) is not supported")
        if tok.kind == "name" and tok.text in ("instanceof", "function"):
            return JuelError(f"{tok.text!r} is not supported")
        return JuelError(f"unexpected {tok.text!r} at position {tok.pos + 1}")

    # grammar
    def expression(self) -> Node:
        condition = self.binary(0)
        if self.op() == "?":
            self.take()
            yes = self.expression()
            self.expect(":")
            no = self.expression()
            return _choice(condition, yes, no)
        return condition

    _LEVELS = (("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%"))

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.op() in self._LEVELS[level]:
            op = self.op()
            self.take()
            right = self.binary(level + 1)
            left = _logical(op, left, right) if op in ("&&", "||") else _binary(op, left, right)
        return left

    def unary(self) -> Node:
        op = self.op()
        if op in ("!", "-", "empty"):
            self.take()
            return _unary(op, self.unary())
        return self.value()

    def value(self) -> Node:
        node, label, is_date = self.primary()
        while True:
            tok = self.peek()
            if tok.text == ".":
                self.take()
                name = self.take()
                if name.kind != "name":
                    raise JuelError(f"expected a property name after '.' at position {name.pos + 1}")
                if self.peek().text == "(":
                    node, is_date = self.method(node, name.text, label, is_date), True
                    label = f"{label}.{name.text}()"
                    continue
                if is_date:
                    raise JuelError(f"{label} has no property {name.text!r}")
                node = _property(node, literal(name.text), f"{name.text!r}")
                label = f"{label}.{name.text}"
            elif tok.text == "[":
                self.take()
                key = self.expression()
                self.expect("]")
                if is_date:
                    raise JuelError(f"{label} cannot be indexed")
                node = _property(node, key, f"[...] of {label}")
                label = f"{label}[...]"
            else:
                return node

    def method(self, target: Node, name: str, label: str, is_date: bool) -> Node:
        if not is_date or label.endswith(".toDate()"):
            raise JuelError(f"method call {label}.{name}(...) is not supported: only dateTime() "
                            "with plusDays/plusHours/.../toDate() is")
        if name != "toDate" and name not in _DATE_METHODS:
            raise JuelError(f"dateTime() has no supported method {name!r} (use plusYears, "
                            "plusMonths, plusWeeks, plusDays, plusHours, plusMinutes, "
                            "plusSeconds, their minus forms, or toDate)")
        args = self.arguments()
        if name == "toDate":
            if args:
                raise JuelError("toDate() takes no arguments")
            return _date_method(target, name, None)
        if len(args) != 1:
            raise JuelError(f"{name}() takes one argument")
        return _date_method(target, name, args[0])

    def arguments(self) -> list[Node]:
        self.expect("(")
        args: list[Node] = []
        if self.peek().text != ")":
            args.append(self.expression())
            while self.peek().text == ",":
                self.take()
                args.append(self.expression())
        self.expect(")")
        return args

    def primary(self) -> tuple[Node, str, bool]:
        tok = self.take()
        if tok.kind == "number":
            text = tok.text
            value = float(text) if is_decimal_text(text) else int(text)
            if isinstance(value, int) and value.bit_length() > 63:
                raise JuelError(f"number {text} is too large")
            return literal(value), text, False
        if tok.kind == "string":
            return literal(_unquote(tok.text)), tok.text, False
        if tok.text == "(":
            node = self.expression()
            self.expect(")")
            return node, "(...)", False
        if tok.kind == "name":
            name = tok.text
            if name in ("true", "false"):
                return literal(name == "true"), name, False
            if name == "null":
                return literal(None), name, False
            if name in _KEYWORDS:
                raise self.refuse(tok)
            if self.peek().text == "(" or (self.peek().text == ":" and self._namespaced()):
                return self.function(name)
            if name in _CAMUNDA_BEANS:
                raise JuelError(f"Camunda's {name!r} object is not available; read process "
                                "variables by name")
            self.names.add(name)
            return _identifier(name), name, False
        raise self.refuse(tok)

    def _namespaced(self) -> bool:
        # ``fn:name(...)``: an EL function with a prefix; refused like other functions.
        nxt = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
        return nxt is not None and nxt.kind == "name" and \
            self.i + 2 < len(self.toks) and self.toks[self.i + 2].text == "("

    def function(self, name: str) -> tuple[Node, str, bool]:
        if self.peek().text == ":":
            self.take()
            name = f"{name}:{self.take().text}"
        if name not in _FUNCTIONS:
            raise JuelError(f"function {name}() is not supported (only now() and dateTime())")
        if self.arguments():
            raise JuelError(f"{name}() takes no arguments")
        return _call_function(name), f"{name}()", name == "dateTime"
