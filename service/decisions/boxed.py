"""Compile DMN boxed expressions into objects with ``evaluate(scope)``.

A boxed expression (literal expression, context, invocation, relation, list, function
definition, decision table and the DMN 1.5 conditional, iterators and filter) compiles into one
of the small classes below. They share the interface of a compiled FEEL ``Expression`` so they
nest freely: a context entry may hold a decision table whose cells are FEEL. All FEEL is
compiled here, once, at parse time; ``Compiler`` turns FEEL syntax errors into ``DmnError``
naming the element and the column.
"""
from __future__ import annotations

from typing import Any, Iterable

from lxml import etree

from service.sandbox import current, tick

from .decision_table import DecisionTable
from .document import child, children, describe, local, text_of
from .errors import DmnError
from .feel import (FeelFunction, FeelSyntaxError, ItemScope, NameIndex, Scope,
                   compile_expression, compile_unary_tests, name_index)
from .item_definition import DmnType, TypeRegistry

EXPRESSION_ELEMENTS = frozenset({
    "literalExpression", "decisionTable", "context", "invocation", "relation", "list",
    "functionDefinition", "conditional", "for", "some", "every", "filter",
})


class Compiler:
    """Compile the FEEL and boxed expressions of one model, with locations in errors.

    ``known_names`` are all the names the model defines (decisions, inputs, BKMs, context
    entries, parameters...), so that FEEL recognises names containing spaces or operators;
    they are indexed once here (the builder overlays each element's local names).
    """

    def __init__(self, types: TypeRegistry, known_names: Iterable[str] | NameIndex):
        self.types = types
        self.known_names = name_index(known_names)
        self.owner: etree._Element | None = None  # the DRG element being compiled

    def expression(self, text: str | None, el: etree._Element, what: str,
                   element_id: str | None = None):
        """Compile FEEL ``text`` found in ``el`` (what: where it is, for the error message).

        ``element_id`` names the element at fault when ``el`` has no id (a table cell
        without one is reported by its rule's id).
        """
        if text is None or not text.strip():
            return _CONST_NULL
        try:
            return compile_expression(text, name=what, known_names=self.known_names)
        except FeelSyntaxError as exc:
            raise self._error(exc, el, what, element_id) from exc

    def unary(self, text: str, el: etree._Element, what: str, element_id: str | None = None):
        """Compile FEEL unary tests (a decision table input entry, allowed values)."""
        try:
            return compile_unary_tests(text, name=what, known_names=self.known_names)
        except FeelSyntaxError as exc:
            raise self._error(exc, el, what, element_id) from exc

    def _error(self, exc: FeelSyntaxError, el: etree._Element, what: str,
               fallback_id: str | None) -> DmnError:
        owner = self.owner
        prefix = f"{local(owner)} {owner.get('name')!r}: " if owner is not None else ""
        element_id = el.get("id") or fallback_id or \
            (owner.get("id") if owner is not None else None) or describe(el)
        return DmnError(f"{prefix}{what}: FEEL syntax error at column {exc.column} of "
                        f"{exc.expression!r}: {exc.message}",
                        element_id=element_id, line=el.sourceline)

    def find(self, parent: etree._Element) -> etree._Element | None:
        """Return the boxed expression element directly inside ``parent``, if any."""
        for c in children(parent):
            if local(c) in EXPRESSION_ELEMENTS:
                return c
        return None

    def boxed(self, el: etree._Element | None, name: str | None = None):
        """Compile a boxed expression element (None compiles to a constant null)."""
        if el is None:
            return _CONST_NULL
        kind = local(el)
        where = f"{kind} {el.get('id')}" if el.get("id") else kind
        if kind == "literalExpression":  # text_of refuses another expression language
            return self.expression(text_of(el), el, where)
        if kind == "decisionTable":
            return DecisionTable.compile(el, self, name)
        if kind == "context":
            return self._context(el)
        if kind == "invocation":
            return self._invocation(el, where)
        if kind == "relation":
            names = [c.get("name") for c in children(el, "column")]
            rows = []
            for row in children(el, "row"):
                cells = [self.boxed(c) for c in children(row) if local(c) in EXPRESSION_ELEMENTS]
                if len(cells) != len(names):
                    raise DmnError(f"relation row has {len(cells)} cells for {len(names)} "
                                   "columns", element_id=describe(row), line=row.sourceline)
                rows.append(cells)
            return _Relation(names, rows)
        if kind == "list":
            return _List([self.boxed(c) for c in children(el) if local(c) in EXPRESSION_ELEMENTS])
        if kind == "functionDefinition":
            return self.function_definition(el)
        if kind == "conditional":
            return _Conditional(*(self.boxed(self.find(self._part(el, p)))
                                  for p in ("if", "then", "else")))
        if kind in ("for", "some", "every", "filter"):
            var = el.get("iteratorVariable") or "item"
            source = self.boxed(self.find(self._part(el, "in")))
            body_name = {"for": "return", "some": "satisfies", "every": "satisfies",
                         "filter": "match"}[kind]
            body_el = self._part(el, body_name)
            body = self.boxed(self.find(body_el))
            reads_partial = kind == "for" and any(
                "partial" in (t.text or "") for t in body_el.iter() if isinstance(t.tag, str))
            return _Iteration(kind, var, source, body, reads_partial)
        raise DmnError(f"unsupported expression <{kind}>", element_id=describe(el),
                       line=el.sourceline)

    def _owner_id(self, el: etree._Element) -> str:
        owner = self.owner
        return (owner.get("id") or owner.get("name")) if owner is not None else describe(el)

    @staticmethod
    def _part(el: etree._Element, name: str) -> etree._Element:
        part = child(el, name)
        if part is None:
            raise DmnError(f"<{local(el)}> lacks its <{name}> part", element_id=describe(el),
                           line=el.sourceline)
        return part

    def _context(self, el: etree._Element):
        entries = []
        for entry in children(el, "contextEntry"):
            var = child(entry, "variable")
            expr_el = self.find(entry)
            name = var.get("name") if var is not None else None
            type_ref = var.get("typeRef") if var is not None else None
            if type_ref is None and expr_el is not None:
                type_ref = expr_el.get("typeRef")
            entries.append((name, self.boxed(expr_el, name), self.types.resolve(type_ref)))
        return _Context(entries)

    def _invocation(self, el: etree._Element, where: str):
        callee_el = self.find(el)
        callee = self.boxed(callee_el) if callee_el is not None else _CONST_NULL
        bindings = []
        for binding in children(el, "binding"):
            param = child(binding, "parameter")
            if param is None or not param.get("name"):
                raise DmnError("invocation binding lacks a parameter name",
                               element_id=describe(binding), line=binding.sourceline)
            expr_el = self.find(binding)
            bindings.append((param.get("name"), self.boxed(expr_el) if expr_el is not None
                             else None))
        return _Invocation(callee, bindings, where)

    def function_definition(self, el: etree._Element, name: str | None = None):
        """Compile a ``<functionDefinition>`` or BKM ``<encapsulatedLogic>``."""
        kind = (el.get("kind") or "FEEL").upper()
        params = [(p.get("name"), self.types.resolve(p.get("typeRef")))
                  for p in children(el, "formalParameter")]
        body_el = self.find(el)
        if kind != "FEEL":  # Java and PMML functions would run code outside FEEL
            raise DmnError(f"function definition of kind {kind} is not supported, only FEEL",
                           element_id=describe(el) if el.get("id") else self._owner_id(el),
                           line=el.sourceline)
        body = self.boxed(body_el, name)
        result_type = self.types.resolve(body_el.get("typeRef") if body_el is not None else None)
        return FunctionDefinition(params, body, result_type, name)


class _ConstNull:
    def evaluate(self, scope) -> Any:
        return None


_CONST_NULL = _ConstNull()


class Broken:
    """Stand in for an expression that did not compile, in lenient parsing only."""

    def __init__(self, error: DmnError):
        self.error = error

    def evaluate(self, scope) -> Any:
        scope.warn(f"not evaluated, the model is invalid here: {self.error}")
        return None


class _Context:
    __slots__ = ("entries",)

    def __init__(self, entries: list[tuple[str | None, Any, DmnType]]):
        self.entries = entries

    def evaluate(self, scope) -> Any:
        frame: dict[str, Any] = {}
        inner = scope.child(frame)
        for name, expr, dmn_type in self.entries:
            value = expr.evaluate(inner)
            if not dmn_type.is_any:
                value = dmn_type.coerce(value, inner.warn, f"context entry {name or 'result'}")
            if name is None:
                return value
            frame[name] = value
        return dict(frame)


class _Relation:
    __slots__ = ("names", "rows")

    def __init__(self, names, rows):
        self.names = names
        self.rows = rows

    def evaluate(self, scope) -> Any:
        return [{n: c.evaluate(scope) for n, c in zip(self.names, row)} for row in self.rows]


class _List:
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items

    def evaluate(self, scope) -> Any:
        return [i.evaluate(scope) for i in self.items]


class _Conditional:
    __slots__ = ("test", "then", "otherwise")

    def __init__(self, test, then, otherwise):
        self.test, self.then, self.otherwise = test, then, otherwise

    def evaluate(self, scope) -> Any:
        test = self.test.evaluate(scope)
        if test is True:
            return self.then.evaluate(scope)
        if test is False or test is None:
            return self.otherwise.evaluate(scope)
        scope.warn(f"conditional: the condition is {test!r}, not a boolean; null used")
        return None


class _Iteration:
    """The DMN 1.5 boxed ``for``, ``some``, ``every`` and ``filter``."""

    __slots__ = ("kind", "var", "source", "body", "reads_partial")

    def __init__(self, kind, var, source, body, reads_partial: bool):
        self.kind, self.var, self.source, self.body = kind, var, source, body
        self.reads_partial = reads_partial

    def evaluate(self, scope) -> Any:
        items = self.source.evaluate(scope)
        if items is None:
            return None
        if not isinstance(items, list):
            items = [items]  # FEEL treats a single value as a singleton list here
        kind = self.kind
        budget = current()
        if kind == "for":
            out = []
            frame: dict[str, Any] = {}
            inner = scope.child(frame)
            for item in items:
                budget.tick()
                if self.reads_partial:  # a copy, so that no list ever contains itself
                    budget.tick(len(out))
                    frame["partial"] = list(out)
                frame[self.var] = item
                out.append(self.body.evaluate(inner))
            return out
        if kind == "filter":
            out = []
            for item in items:
                budget.tick()
                frame = dict(item) if isinstance(item, dict) else {}
                frame["item"] = item
                keep = self.body.evaluate(ItemScope(frame, scope))
                if keep is True:
                    out.append(item)
                elif keep is not False and keep is not None:
                    scope.warn(f"filter: the match is {keep!r}, not a boolean; null used")
                    return None
            return out
        results = []
        for item in items:
            budget.tick()
            result = self.body.evaluate(scope.child({self.var: item}))
            if result is not True and result is not False and result is not None:
                scope.warn(f"{kind}: the condition is {result!r}, not a boolean; null used")
                return None
            results.append(result)
        if kind == "some":
            if any(r is True for r in results):
                return True
            return False if all(r is False for r in results) else None
        if any(r is False for r in results):
            return False
        return True if all(r is True for r in results) else None


class _Invocation:
    __slots__ = ("callee", "bindings", "where")

    def __init__(self, callee, bindings, where):
        self.callee, self.bindings, self.where = callee, bindings, where

    def evaluate(self, scope) -> Any:
        fn = self.callee.evaluate(scope)
        if not isinstance(fn, FeelFunction):
            scope.warn(f"{self.where}: the invoked name is not a function; null used")
            return None
        named = {p: (e.evaluate(scope) if e is not None else None) for p, e in self.bindings}
        return fn.invoke([], named, scope)


class FunctionDefinition:
    """A FEEL-kind function definition: evaluates to a closure over the defining scope."""

    __slots__ = ("params", "body", "result_type", "name")

    def __init__(self, params, body, result_type, name):
        self.params, self.body, self.result_type, self.name = params, body, result_type, name

    def evaluate(self, scope) -> Any:
        return DmnFunction(self, scope)


class DmnFunction(FeelFunction):
    """A boxed function (function definition or BKM) callable from FEEL and from Python.

    Arguments are coerced to the parameter types (a non-conforming argument makes the call
    null, with a warning); the body runs in a frame over the closure scope but reports
    warnings to the caller's evaluation.
    """

    __slots__ = ("definition", "closure")

    def __init__(self, definition: FunctionDefinition, closure):
        super().__init__([p for p, _ in definition.params], None, name=definition.name)
        self.definition = definition
        self.closure = closure

    def invoke(self, args, named, env) -> Any:
        tick()
        bound = self.bind(args, named)
        label = self.name or "function"
        if bound is None:
            env.warn(f"cannot bind arguments to {label}")
            return None
        frame = {}
        for (pname, ptype), value in zip(self.definition.params, bound):
            if value is not None and not ptype.is_any:
                coerced = ptype.coerce(value, env.warn, f"{label} parameter {pname}")
                if coerced is None:
                    return None
                value = coerced
            frame[pname] = value
        closure = self.closure
        if isinstance(closure, Scope):
            inner = Scope(frame, closure, warnings=env.warnings)
        else:
            inner = Scope(frame, Scope(closure or {}), warnings=env.warnings)
        result = self.definition.body.evaluate(inner)
        rtype = self.definition.result_type
        if result is not None and not rtype.is_any:
            result = rtype.coerce(result, env.warn, f"{label} result")
        return result
