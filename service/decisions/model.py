"""Parse a DMN model once and evaluate its decisions: the engine's public entry point.

``DecisionModel.parse`` reads the XML safely, registers item definitions, compiles every FEEL
text and boxed expression and wires the requirements graph, so that a bad model fails at deploy
time with the element at fault, and ``evaluate`` only runs precompiled closures.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Mapping

from lxml import etree

from service.sandbox import ensure

from .builder import Builder, Definitions
from .decision_table import DecisionTable
from .document import DEFAULT_MAX_BYTES, load_xml
from .drg import MISSING, Element, Key, Run, put
from .errors import DecisionNotFound, DmnError
from .feel import Scope, to_feel
from .feel.temporal import (TemporalError, parse_date, parse_date_time, parse_duration,
                            parse_time)
from .result import DecisionResult, Trace
from .table_cells import free_names


_FEEL_SCALARS = frozenset({str, bool, Decimal, type(None)})  # already FEEL values
_TEXT_PARSERS = {"date": parse_date, "time": parse_time, "dateTime": parse_date_time,
                 "date and time": parse_date_time, "dayTimeDuration": parse_duration,
                 "days and time duration": parse_duration, "yearMonthDuration": parse_duration,
                 "years and months duration": parse_duration, "duration": parse_duration}


@dataclass(frozen=True)
class DecisionInfo:
    """A decision as listed by :attr:`DecisionModel.decisions`."""

    id: str
    name: str


class DecisionModel:
    """A compiled DMN model (with its imports); immutable and safe to share across threads."""

    def __init__(self, main: Definitions, elements: dict[Key, Element]):
        self._main = main
        self._elements = elements
        self.errors: tuple[DmnError, ...] = ()  # lenient parsing only: what did not compile
        self.strict_names = False  # evaluate()'s default, see there
        self.namespace = main.namespace
        self.name = main.name
        self._by_name: dict[str, Element] = {}
        self._drg_names = {e.name for e in elements.values()}
        for element in elements.values():
            if element.key[0] == main.namespace:
                self._by_name.setdefault(element.name, element)
                self._by_name.setdefault(element.id, element)

    # -- parsing -----------------------------------------------------------------------------
    @classmethod
    def parse(cls, xml_text: str | bytes, *, imports: Iterable[str | bytes] = (),
              max_bytes: int = DEFAULT_MAX_BYTES, strict: bool = True,
              strict_names: bool = False) -> DecisionModel:
        """Parse and compile a DMN 1.1-1.5 document; raise ``DmnError`` naming the element.

        ``imports`` are the texts of other DMN documents this one imports (matched by their
        ``namespace``; an import none of them defines is a ``DmnError``); for the documents of
        one deployment see :func:`service.decisions.parse_documents`. With ``strict=False`` a
        decision or BKM whose logic does not compile evaluates to null with a warning instead
        (its errors are in ``model.errors``): a debugging aid, as other engines report such
        errors per decision; deployments and the TCK runner parse strictly. ``strict_names``
        is the default of :meth:`evaluate`'s option of that name.
        """
        main = load_xml(xml_text, max_bytes=max_bytes)
        pool = [load_xml(text, max_bytes=max_bytes) for text in imports]
        return cls.from_roots(main, pool, strict=strict, strict_names=strict_names)

    @classmethod
    def from_roots(cls, main: etree._Element, pool: Iterable[etree._Element], *,
                   strict: bool = True, strict_names: bool = False) -> DecisionModel:
        """Build the model of one loaded document, its imports found in ``pool`` by namespace.

        Only the documents reachable through ``<import>`` take part; an import that no document
        of the pool defines raises ``DmnError`` naming the import and its namespace. Roots come
        from :func:`load_xml` and are only read, so one pool serves many models.
        """
        main_defs = Definitions(main)
        by_namespace = {}
        for root in pool:
            by_namespace.setdefault(root.get("namespace") or root.get("id") or "", root)
        defs = {main_defs.namespace: main_defs}
        todo = [main_defs]
        while todo:
            d = todo.pop()
            for ns in d.imports:
                if ns in defs:
                    continue
                if ns not in by_namespace:
                    raise d.missing_import(ns)
                defs[ns] = Definitions(by_namespace[ns])
                todo.append(defs[ns])
        elements, errors = Builder(main_defs, defs, strict).build()
        model = cls(main_defs, elements)
        model.errors = errors
        model.strict_names = strict_names
        return model

    # -- queries -----------------------------------------------------------------------------
    @property
    def decisions(self) -> list[DecisionInfo]:
        """List the decisions of the main model (id, name) in document order."""
        return [DecisionInfo(e.id, e.name) for e in self._elements.values()
                if e.kind == "decision" and e.key[0] == self.namespace]

    @property
    def decision_services(self) -> list[DecisionInfo]:
        """List the decision services of the main model (id, name) in document order."""
        return [DecisionInfo(e.id, e.name) for e in self._elements.values()
                if e.kind == "service" and e.key[0] == self.namespace]

    def _find(self, name_or_id: str, kind: str) -> Element:
        element = self._by_name.get(name_or_id)
        if element is None or element.kind != kind:
            for e in self._elements.values():  # imported elements by qualified name
                if e.kind == kind and (e.name == name_or_id or e.id == name_or_id):
                    return e
            raise DecisionNotFound(f"no {'decision service' if kind == 'service' else kind} "
                                   f"named {name_or_id!r} in model {self.name!r}")
        return element

    def inputs_of(self, name_or_id: str) -> list[str]:
        """Return the names of the input data a decision needs, directly or transitively."""
        seen: set[Key] = set()
        found: list[str] = []
        stack = [self._find(name_or_id, "decision").key]
        while stack:
            element = self._elements[stack.pop()]
            if not element.requires and element.kind == "decision":
                # Camunda-style decisions read process variables they do not declare
                found.extend(n for n in _reads(element.expr) if n not in found)
            for key, _, name in element.requires:
                if key in seen:
                    continue
                seen.add(key)
                if self._elements[key].kind == "input":
                    found.append(self._elements[key].name)
                else:
                    stack.append(key)
        return sorted(found)

    def output_names(self, name_or_id: str) -> tuple[str, ...]:
        """The names the output columns of a decision table give themselves (``name="..."``),
        in column order; empty for any other decision. A one-output table's value is the bare
        value, and SpiffWorkflow stores it in the process under this name."""
        expr = self._find(name_or_id, "decision").expr
        if not isinstance(expr, DecisionTable):
            return ()
        return tuple(o.name for o in expr.outputs if o.named)

    # -- evaluation --------------------------------------------------------------------------
    def evaluate(self, name_or_id: str, inputs: Mapping[str, Any] | None = None, *,
                 strict_names: bool | None = None) -> DecisionResult:
        """Evaluate a decision with ``inputs`` keyed by input data (or decision) name.

        With ``strict_names`` (default: the model's, set at parse) a name that no input,
        required decision, BKM or built-in provides raises ``NameNotProvided`` naming the
        decision and the name; without it the name is null with a warning, as FEEL has it.
        Inside a filter over contexts a missing name stays null: it may be an entry that item
        lacks. A declared input data that is not given is null either way.

        A value given for a decision overrides evaluating it. Imported elements are keyed by
        ``"import name.element name"`` or by ``"{namespace}name"``. Runtime faults of the
        content never raise: the value is null and ``result.warnings`` says why. The one
        exception is the resource budget: the evaluation runs under ``service.sandbox``
        (joining the caller's ``bounded`` block, else one with the default limits), and
        ``service.sandbox.BudgetExceeded`` propagates out of here when a loop, a list, a string
        or a regular expression goes beyond it.
        """
        target = self._by_name.get(name_or_id)
        if target is None or target.kind != "decision":
            target = self._find(name_or_id, "decision")
        with ensure():
            values = {k: v if type(v) in _FEEL_SCALARS else to_feel(v)
                      for k, v in (inputs or {}).items()}
            trace = Trace(self.strict_names if strict_names is None else strict_names)
            free = {k: v for k, v in values.items() if k not in self._drg_names}
            run = Run(self._elements, self._lookup(values), trace, free=free)
            value = run.value(target.key)
            return self._result(target, value, run, trace, free)

    def evaluator(self, name_or_id: str, *, typed_text: bool = False):
        """A callable ``inputs -> (value, matched_rules, warnings)`` evaluating one decision many
        times (the what-if replay): :meth:`evaluate`'s semantics with the lookups done once.

        A decision that reads only input data of this model (the usual decision table) is run
        directly on its frame, without walking the requirements graph per call; any other
        decision goes through :meth:`evaluate`. Each call has its own resource budget. With
        ``typed_text`` an input data of a date, time or duration type given as text (a
        recorded input: JSON has no dates) is read as that type's literal first.
        """
        target = self._by_name.get(name_or_id)
        if target is None or target.kind != "decision":
            target = self._find(name_or_id, "decision")
        elements = self._elements
        requires = [(elements[key], prefix, name) for key, prefix, name in target.requires]
        parsers = {e.name: _TEXT_PARSERS[e.type.name] for e in elements.values()
                   if typed_text and e.kind == "input" and e.type.name in _TEXT_PARSERS}
        for column in getattr(target.expr, "columns", ()) if typed_text else ():
            # a Camunda-style table types a variable it reads by its input column
            source = (getattr(column, "source", "") or "").strip()
            kind = getattr(getattr(column, "type", None), "name", None)
            if source.isidentifier() and kind in _TEXT_PARSERS:
                parsers.setdefault(source, _TEXT_PARSERS[kind])

        def retyped(inputs: Mapping[str, Any]) -> Mapping[str, Any]:
            if not parsers:
                return inputs
            out = dict(inputs)
            for name, parse in parsers.items():
                if type(out.get(name)) is str:
                    try:
                        out[name] = parse(out[name])
                    except (TemporalError, ValueError):
                        pass            # left as text: the type check warns and uses null
            return out

        if not all(el.kind == "input" and el.key[0] == self.namespace for el, _, _ in requires):
            def slow(inputs: Mapping[str, Any]):
                result = self.evaluate(target.id, retyped(inputs))
                return result.value, result.matched_rules, result.warnings
            return slow
        strict, drg_names, functions = self.strict_names, self._drg_names, target.functions
        resolver = target.type_resolver
        scalars = _FEEL_SCALARS

        def fast(inputs: Mapping[str, Any]):
            if parsers:
                inputs = retyped(inputs)
            with ensure():
                trace = Trace(strict)
                run = Run(elements, None, trace)
                frame = dict(functions) if functions else {}
                free = None
                for k, v in inputs.items():
                    if k not in drg_names:
                        if free is None:
                            free = {}
                        free[k] = v if type(v) in scalars else to_feel(v)
                for element, prefix, name in requires:
                    given = inputs.get(element.name, MISSING)
                    if given is MISSING:
                        trace.append(f"input {element.name} was not given; null used")
                        value = None
                    else:
                        if type(given) not in scalars:
                            given = to_feel(given)
                        value = element.type.coerce(given, run.warn, element.name)
                    put(frame, prefix, name, value)
                value = run.decide_in(target, Scope(frame, Scope(free) if free else None,
                                                    type_resolver=resolver, warnings=trace))
                return value, trace.matched, trace
        return fast

    def decision_service(self, name_or_id: str, inputs: Mapping[str, Any] | None = None, *,
                         strict_names: bool | None = None) -> DecisionResult:
        """Invoke a decision service with its parameters (input data and input decisions).

        ``result.value`` is the single output decision's value, or a dict of them by name
        when the service has several outputs; ``result.decisions`` has each output too.
        Bounded like :meth:`evaluate`: ``BudgetExceeded`` propagates; ``strict_names`` as there.
        """
        service = self._find(name_or_id, "service")
        with ensure():
            values = {k: to_feel(v) for k, v in (inputs or {}).items()}
            trace = Trace(self.strict_names if strict_names is None else strict_names)
            given = {}
            for key in service.input_data + service.input_decisions:
                element = self._elements[key]
                given[key] = values.get(element.name)
            outputs = service.function.call(given, trace)
        value = next(iter(outputs.values())) if len(outputs) == 1 else outputs
        return DecisionResult(service.name, value, decisions=dict(outputs),
                              matched_rules=dict(trace.matched), inputs=values,
                              warnings=tuple(trace))

    def _lookup(self, values: dict[str, Any]):
        main_ns = self.namespace
        imports = self._main.imports

        def lookup(element: Element):
            if element.kind not in ("input", "decision"):
                return MISSING
            ns = element.key[0]
            if ns == main_ns:
                return values.get(element.name, MISSING)
            found = values.get(f"{{{ns}}}{element.name}", MISSING)
            if found is MISSING and ns in imports:
                prefix = imports[ns]
                found = values.get(f"{prefix}.{element.name}", MISSING)
                if found is MISSING and isinstance(values.get(prefix), dict):
                    found = values[prefix].get(element.name, MISSING)
            if found is MISSING and element.kind == "input":
                found = values.get(element.name, MISSING)
            return found

        return lookup

    def _result(self, target: Element, value: Any, run: Run, trace: Trace,
                free: dict[str, Any]) -> DecisionResult:
        decisions = {}
        inputs = dict(free)
        elements = self._elements
        for key, v in run.values.items():
            kind = elements[key].kind
            if kind == "decision":
                decisions[self._label(elements[key])] = v
            elif kind == "input":
                inputs[self._label(elements[key])] = v
        return DecisionResult(target.name, value, decisions, trace.matched, inputs,
                              tuple(trace))

    def _label(self, element: Element) -> str:
        ns = element.key[0]
        if ns == self.namespace:
            return element.name
        prefix = self._main.imports.get(ns)
        return f"{prefix}.{element.name}" if prefix else element.name


def _reads(expr: Any) -> list[str]:
    """Guess the variables an undeclared-input decision reads (tables and literal FEEL)."""
    if hasattr(expr, "input_names"):
        return expr.input_names()
    text = getattr(expr, "text", None)
    return free_names(text) if isinstance(text, str) else []
