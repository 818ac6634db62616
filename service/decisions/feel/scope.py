"""Resolve FEEL names through a chain of local frames during one evaluation.

A ``Scope`` is what every compiled closure receives. It carries, besides the names, the two
things an evaluation shares across frames: the list that collects warnings (FEEL turns runtime
faults into null plus a warning, never an exception) and the optional ``type_resolver`` the DMN
layer supplies for item-definition type names used by ``instance of``.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

TypeResolver = Callable[[str], "Callable[[Any], bool] | None"]

MISSING = object()


class Scope(Mapping[str, Any]):
    """Chain a local frame of names onto an optional parent scope.

    Lookups walk from the innermost frame outwards. The frame is used as given (no copy), so
    wrapping the caller's dict costs one object; ``child()`` frames made by contexts, ``for``
    iterators and function calls share the root's warnings list and type resolver.
    """

    __slots__ = ("vars", "parent", "warnings", "type_resolver")

    def __init__(
        self,
        vars: Mapping[str, Any] | None = None,
        parent: Scope | Mapping[str, Any] | None = None,
        *,
        type_resolver: TypeResolver | None = None,
        warnings: list | None = None,
    ):
        self.vars = vars if vars is not None else {}
        if parent is not None and not isinstance(parent, Scope):
            parent = Scope(parent)
        self.parent = parent
        if parent is not None:
            self.warnings = warnings if warnings is not None else parent.warnings
            self.type_resolver = type_resolver or parent.type_resolver
        else:
            self.warnings = warnings if warnings is not None else []
            self.type_resolver = type_resolver

    def child(self, vars: Mapping[str, Any]) -> Scope:
        """Return a scope whose innermost frame is ``vars`` (not copied)."""
        scope = Scope.__new__(Scope)
        scope.vars = vars
        scope.parent = self
        scope.warnings = self.warnings
        scope.type_resolver = self.type_resolver
        return scope

    def lookup(self, name: str) -> Any:
        """Return the value bound to ``name`` or the ``MISSING`` sentinel."""
        scope = self
        while scope is not None:
            value = scope.vars.get(name, MISSING)
            if value is not MISSING:
                return value
            scope = scope.parent
        return MISSING

    def warn(self, message: str) -> None:
        """Record a runtime fault that FEEL turns into null."""
        if len(self.warnings) < 100:  # a bad filter over a big list must not grow unbounded
            self.warnings.append(message)

    def names(self) -> set[str]:
        """Return every name visible from this scope."""
        found: set[str] = set()
        scope = self
        while scope is not None:
            found.update(scope.vars)
            scope = scope.parent
        return found

    def __getitem__(self, name: str) -> Any:
        value = self.lookup(name)
        if value is MISSING:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.lookup(name) is not MISSING


class ItemScope(Scope):
    """The frame a filter gives each item (``item`` and, for a context, its entries).

    A name missing here may be an entry this item lacks, so it is null even when the
    evaluation wants unknown names to be errors (see ``errors.UnknownName``).
    """

    __slots__ = ()


def inside_item(scope: Scope | None) -> bool:
    """Return whether ``scope`` is, or lies within, a filter's item frame."""
    while scope is not None:
        if type(scope) is ItemScope:
            return True
        scope = scope.parent
    return False
