"""Compile a FEEL expression once and evaluate it many times.

The parse and compile cost is paid in ``compile_expression``; ``Expression.evaluate`` only runs
the closure tree. The built-in names are indexed once per process, and a caller's known names
once per :func:`name_index` call; each compile parses with an overlay of that index, so names
an expression introduces (context keys, parameters) never leak into another.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping

from service.sandbox import BudgetExceeded, ensure

from .builtins import BUILTINS
from .compiler import compile_node
from .errors import UnknownName
from .names import NameIndex
from .parser import parse_expression
from .scope import Scope, TypeResolver

log = logging.getLogger(__name__)

_BUILTIN_NAMES = NameIndex(BUILTINS)


def name_index(known_names: Iterable[str] | NameIndex | None) -> NameIndex:
    """Return an index of the built-in names plus ``known_names``, for one compile or many.

    Given an index (from an earlier call), return an overlay of it: compiling with the result
    adds nothing to the index given, so one index serves a whole model's expressions.
    """
    if isinstance(known_names, NameIndex):
        return known_names.overlay()
    index = _BUILTIN_NAMES.overlay()
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
        """Return the FEEL value of the expression in ``scope``; faults give None + warning.

        Runs under the budget of :mod:`service.sandbox` (joining the caller's block, else
        opening one with the default limits): ``BudgetExceeded`` propagates, never a null.
        """
        s = make_scope(scope, warnings, type_resolver)
        with ensure():
            try:
                return self._closure(s)
            except (BudgetExceeded, UnknownName):
                raise
            except RecursionError:
                s.warn(f"expression {self.name or self.text!r} recursed too deeply")
            except Exception as exc:  # never let untrusted content crash the caller
                log.debug("FEEL evaluation fault", exc_info=True)
                s.warn(f"evaluation of {self.name or self.text!r} failed: {exc}")
        return None

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def compile_expression(text: str, *, name: str | None = None,
                       known_names: Iterable[str] | NameIndex | None = None) -> Expression:
    """Parse and compile FEEL ``text``; raise ``FeelSyntaxError`` when it is not FEEL."""
    ast = parse_expression(text, name_index(known_names), name)
    return Expression(text, name, compile_node(ast))
