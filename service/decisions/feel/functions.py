"""Compile FEEL function definitions and invocations, and run functions defined in FEEL.

A FEEL function closes over the scope it was defined in (so a context entry can call itself
recursively through that context), but reports warnings to the evaluation that invoked it.
``external`` functions (Java or PMML) are refused by the parser: FEEL here is untrusted input.
"""
from __future__ import annotations

from typing import Any, Callable

from service.sandbox import BudgetExceeded, tick

from . import semantics
from .errors import UnknownName
from .scope import Scope
from .conformance import conforms, parse_type
from .values import FeelFunction

Closure = Callable[[Scope], Any]


def compile_call(node, compile_node) -> Closure:
    """Return the closure of an invocation node."""
    callee, positional, named = node[2], node[3], node[4]
    target = compile_node(callee)
    args = [compile_node(n) for n in positional]
    named_args = [(k, compile_node(n)) for k, n in named] if named else None

    def call(s):
        fn = target(s)
        if not isinstance(fn, FeelFunction):  # plain Python callables are never invoked
            s.warn(f"{semantics.kind(fn)} is not a function")
            return None
        values = [a(s) for a in args]
        by_name = {k: a(s) for k, a in named_args} if named_args is not None else None
        tick()
        try:
            return fn.invoke(values, by_name, s)
        except (RecursionError, BudgetExceeded, UnknownName):
            raise
        except Exception as exc:  # a fault in a Python-side function is FEEL null
            s.warn(f"function {fn.name or '<anonymous>'} failed: {exc}")
            return None
    return call


class UserFunction(FeelFunction):
    """A function defined in FEEL text, closing over the scope it was defined in."""

    __slots__ = ("closure", "scope")

    def __init__(self, params, param_types, closure: Closure, scope: Scope):
        super().__init__(params, None, param_types=param_types)
        self.closure = closure
        self.scope = scope

    def invoke(self, args, named, env):
        tick()  # also when a built-in such as sort() calls it, not only FEEL's call syntax
        bound = self.bind(args, named)
        if bound is None:
            env.warn("cannot bind arguments to a FEEL function")
            return None
        if self.param_types:
            for value, type_text in zip(bound, self.param_types):
                if type_text and value is not None and not conforms(
                        value, parse_type(type_text), env.type_resolver):
                    env.warn(f"argument does not conform to type {type_text}")
                    return None
        frame = dict(zip(self.params, bound))
        scope = Scope(frame, self.scope, warnings=env.warnings,
                      type_resolver=env.type_resolver)
        return self.closure(scope)


def compile_function(node, compile_node) -> Closure:
    """Return the closure that builds a ``UserFunction`` when the definition is evaluated."""
    params = [p for p, _ in node[2]]
    types = [t for _, t in node[2]]
    body = compile_node(node[3])
    has_types = any(types)
    return lambda s: UserFunction(params, types if has_types else None, body, s)

