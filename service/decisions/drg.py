"""The decision requirements graph: its elements and one evaluation over them.

A DRG element (input data, decision, business knowledge model, decision service) is identified
by ``(namespace, id)`` so that imported models live in the same graph. An element sees only
what it requires: its information requirements (values) and knowledge requirements (functions),
under their own names, or under ``import name.element name`` for imported ones. ``Run`` evaluates
decisions on demand in dependency order and memoises each value for the rest of the run.

A required decision of the same model is also visible the way Camunda binds it, so that models
drawn for Camunda 7 and 8 run unchanged (``Element.aliases``): under its ``<variable>`` name,
or its id when it has none (Camunda 8: the decision's result name); and, for a decision table,
under each output column's name (Camunda 7: a single output binds its value, a list for the
multiple-hit policies; several outputs bind each column's value, or list of values). The DMN
names always win over these aliases, and an earlier requirement's alias over a later one's.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from service.sandbox import BudgetExceeded

from .errors import NameNotProvided
from .feel import FeelFunction, Scope, UnknownName
from .item_definition import DmnType

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (namespace, id)
MISSING = object()


@dataclass(eq=False)
class Element:
    """One DRG element. Which fields matter depends on ``kind``.

    Mutable because the builder fills it in stages (requirements, then code, then functions);
    nothing changes it once ``DecisionModel.parse`` returns.

    ``requires`` are (key, import prefix or None, name) of the information requirements,
    ``knowledge`` the same for BKMs and decision services; ``functions`` is the frame of
    knowledge requirements, fixed at parse time. Services list their outputs, encapsulated
    decisions, input decisions and input data.
    """

    kind: str                      # "input" | "decision" | "bkm" | "service"
    key: Key
    name: str
    type: DmnType
    line: int | None = None
    expr: Any = None               # decisions: the compiled boxed expression
    function: FeelFunction | None = None   # BKMs and services
    requires: list[tuple[Key, str | None, str]] = field(default_factory=list)
    knowledge: list[tuple[Key, str | None, str]] = field(default_factory=list)
    functions: dict[str, Any] = field(default_factory=dict)
    type_resolver: Any = None
    outputs: list[Key] = field(default_factory=list)
    encapsulated: list[Key] = field(default_factory=list)
    input_decisions: list[Key] = field(default_factory=list)
    input_data: list[Key] = field(default_factory=list)
    result_names: tuple[str, ...] = ()   # decisions: other names of the whole value
    output_names: tuple[str, ...] = ()   # decision tables: the output columns' names

    @property
    def id(self) -> str:
        """Return the element's id within its own model."""
        return self.key[1]

    def aliases(self, value: Any) -> list[tuple[str, Any]]:
        """Return the Camunda names a required decision's ``value`` is also visible under."""
        found = [(name, value) for name in self.result_names]
        outputs = self.output_names
        if len(outputs) == 1:
            found.append((outputs[0], value))
        elif outputs:
            for output in outputs:
                if isinstance(value, dict):
                    found.append((output, value.get(output)))
                elif isinstance(value, list):
                    found.append((output, [row.get(output) for row in value
                                           if isinstance(row, dict)]))
                else:
                    found.append((output, None))
        return [(name, v) for name, v in found if name != self.name]


def put(frame: dict[str, Any], prefix: str | None, name: str, value: Any) -> None:
    """Bind ``name`` in ``frame``; imported names go under their import's context too."""
    if prefix is None:
        frame[name] = value
        return
    nested = frame.get(prefix)
    # copied, never mutated in place: an evaluation's frame starts as a shallow copy of the
    # parse-time functions frame, whose nested import contexts are shared by every run
    nested = dict(nested) if isinstance(nested, dict) else {}
    nested[name] = value
    frame[prefix] = nested
    frame[f"{prefix}.{name}"] = value


class Run:
    """Evaluate elements of one graph for one set of inputs, each at most once.

    ``lookup(element)`` finds a caller-supplied value for an input data or decision (MISSING
    when none). A decision service runs closed (``service_inputs`` given): values come only
    from its parameters, and its input decisions are never evaluated, even when not given.
    """

    def __init__(self, elements: dict[Key, Element], lookup, trace, *,
                 service_inputs: frozenset[Key] | None = None,
                 free: dict[str, Any] | None = None):
        self.elements = elements
        # Inputs that name no DRG element: Camunda-style tables refer to process variables
        # without declaring input data, so these stay visible under every decision's frame.
        self.free = Scope(free) if free else None
        self.lookup = lookup
        self.trace = trace
        self.closed = service_inputs is not None
        self.service_inputs = service_inputs or frozenset()
        self.values: dict[Key, Any] = {}
        self._active: set[Key] = set()

    def warn(self, message: str) -> None:
        if len(self.trace) < 100:
            self.trace.append(message)

    def value(self, key: Key) -> Any:
        """Return the element's value: given by the caller, evaluated, or its function."""
        if key in self.values:
            return self.values[key]
        element = self.elements[key]
        given = self.lookup(element)
        if given is not MISSING:
            value = element.type.coerce(given, self.warn, f"{element.name}")
        elif element.kind == "input" or key in self.service_inputs:
            if not self.closed:
                self.warn(f"input {element.name} was not given; null used")
            value = None
        elif element.kind == "decision":
            value = self._decide(element)
        else:
            value = element.function
        self.values[key] = value
        return value

    def _decide(self, element: Element) -> Any:
        if element.key in self._active:
            self.warn(f"decision {element.name} depends on itself; null used")
            return None
        self._active.add(element.key)
        try:
            frame = dict(element.functions)
            values = [(key, prefix, name, self.value(key)) for key, prefix, name in
                      element.requires]
            for key, prefix, name, value in values:
                required = self.elements[key]
                if prefix is None and required.kind == "decision":
                    for alias, aliased in required.aliases(value):
                        frame.setdefault(alias, aliased)
            for key, prefix, name, value in values:
                put(frame, prefix, name, value)
            scope = Scope(frame, self.free, type_resolver=element.type_resolver,
                          warnings=self.trace)
            return self.decide_in(element, scope)
        finally:
            self._active.discard(element.key)

    def decide_in(self, element: Element, scope: Scope) -> Any:
        """Evaluate a decision's logic in ``scope`` (its frame built): faults of the content
        become null with a warning, the budget and unknown names fail the evaluation."""
        try:
            value = element.expr.evaluate(scope)
        except (BudgetExceeded, NameNotProvided):
            raise  # the whole evaluation fails: the caller reports it, never a null
        except UnknownName as exc:
            raise NameNotProvided(element.name, element.id, exc.name) from None
        except RecursionError:
            self.warn(f"decision {element.name} recursed too deeply; null used")
            return None
        except Exception as exc:  # untrusted content must never crash the caller
            log.warning("decision evaluation fault", exc_info=True,
                        extra={"decision": element.name})
            self.warn(f"decision {element.name} failed: {exc}; null used")
            return None
        if value is not None and not element.type.is_any:
            value = element.type.coerce(value, self.warn, f"decision {element.name}")
        return value


class ServiceFunction(FeelFunction):
    """A decision service as a FEEL function: parameters are its input data, then decisions.

    Each call runs the service's output decisions in a closed run whose only values are the
    arguments; the value is the output decision's value, or a context of them when several.
    """

    __slots__ = ("service", "elements")

    def __init__(self, service: Element, elements: dict[Key, Element]):
        params = [elements[k].name for k in service.input_data + service.input_decisions]
        super().__init__(params, None, name=service.name)
        self.service = service
        self.elements = elements

    def invoke(self, args, named, env) -> Any:
        """Call from FEEL: every parameter must be given and conform, else the call is null."""
        name = self.service.name
        if named is None and len(args) != len(self.params) or \
                named is not None and set(named) != set(self.params):
            env.warn(f"decision service {name} takes {len(self.params)} arguments; null used")
            return None
        bound = self.bind(args, named)
        keys = self.service.input_data + self.service.input_decisions
        for key, value in zip(keys, bound):
            element = self.elements[key]
            if value is not None and element.type.coerce(value) is None:
                env.warn(f"decision service {name}: argument {element.name} does not conform "
                         f"to {element.type.name}; null used")
                return None
        outputs = self.call(dict(zip(keys, bound)), env.warnings)
        if len(outputs) == 1:
            return next(iter(outputs.values()))
        return outputs

    def call(self, given: dict[Key, Any], trace) -> dict[str, Any]:
        """Run the service with parameter values by element key; return outputs by name.

        When the service's own variable is typed, its value (the single output, or the
        context of outputs) must conform to it, or every output is null.
        """
        run = Run(self.elements, lambda e: given.get(e.key, MISSING), trace,
                  service_inputs=frozenset(self.service.input_decisions))
        outputs = {self.elements[k].name: run.value(k) for k in self.service.outputs}
        stype = self.service.type
        if not stype.is_any:
            whole = next(iter(outputs.values())) if len(outputs) == 1 and \
                getattr(stype, "components", None) is None else outputs
            if whole is not None and stype.coerce(whole, run.warn,
                                                  f"decision service {self.service.name}") is None:
                outputs = {k: None for k in outputs}
        return outputs
