"""Compile a FEEL expression once and evaluate it many times.

The parse and compile cost is paid in ``compile_expression``; ``Expression.evaluate`` only runs
the closure tree. The built-in names are indexed once per process and copied for each compile,
so names that an expression introduces (context keys, parameters) never leak into another.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping

from .builtins import BUILTINS
from .compiler import compile_node
from .names import NameIndex
from .parser import parse_expression
from .scope import Scope, TypeResolver

log = logging.getLogger(__name__)

_BUILTIN_NAMES = NameIndex(BUILTINS)


def name_index(known_names: Iterable[str] | None) -> NameIndex:
    """Return a fresh index of the built-in names plus ``known_names``."""
    index = _BUILTIN_NAMES.copy()
    for name in known_names or ():
        index.add(name)
    return index


def make_scope(scope: Mapping[str, Any] | Scope | None, warnings: list | None,
               type_resolver: TypeResolver | None) -> Scope:
    """Wrap the caller's mapping (no copy) or reuse its Scope, applying the overrides."""
    if isinstance(scope, Scope):
        if warnings is None and type_resolver is None:
            return scope
        return Scope({}, scope, warnings=warnings, type_resolver=type_resolver)
    return Scope(scope if scope is not None else {}, warnings=warnings,
                 type_resolver=type_resolver)


class Expression:
    """A compiled FEEL expression: ``text``, optional ``name``, and ``evaluate()``."""

    __slots__ = ("text", "name", "_closure")

    def __init__(self, text: str, name: str | None, closure):
        self.text = text
        self.name = name
        self._closure = closure

    def evaluate(self, scope: Mapping[str, Any] | Scope | None = None, *,
                 warnings: list | None = None,
                 type_resolver: TypeResolver | None = None) -> Any:
        """Return the FEEL value of the expression in ``scope``; faults give None + warning."""
        s = make_scope(scope, warnings, type_resolver)
        try:
            return self._closure(s)
        except RecursionError:
            s.warn(f"expression {self.name or self.text!r} recursed too deeply")
        except Exception as exc:  # never let untrusted content crash the caller
            log.debug("FEEL evaluation fault", exc_info=True)
            s.warn(f"evaluation of {self.name or self.text!r} failed: {exc}")
        return None

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def compile_expression(text: str, *, name: str | None = None,
                       known_names: Iterable[str] | None = None) -> Expression:
    """Parse and compile FEEL ``text``; raise ``FeelSyntaxError`` when it is not FEEL."""
    ast = parse_expression(text, name_index(known_names), name)
    return Expression(text, name, compile_node(ast))
