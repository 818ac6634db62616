"""Assemble the decision requirements graph of a model and its imports, compiled once.

The builder registers item definitions (and imported ones under their import name), creates
one ``Element`` per DRG element, resolves every requirement ``href`` (failing with the element
at fault), compiles all FEEL and boxed expressions, binds knowledge requirements and refuses
cycles. Strict mode raises the first ``DmnError``; lenient mode (the TCK runner) records it and
nulls just the decision or BKM concerned.
"""
from __future__ import annotations

from lxml import etree

from .boxed import Broken, Compiler, DmnFunction, FunctionDefinition
from .decision_table import DecisionTable
from .document import child, children, describe, href_id, local
from .drg import Element, Key, ServiceFunction, put
from .errors import DmnError
from .feel import Scope, name_index
from .item_definition import TypeRegistry, declare_item_definitions

DRG_KINDS = {"inputData": "input", "decision": "decision", "businessKnowledgeModel": "bkm",
             "decisionService": "service"}


class Definitions:
    """One ``<definitions>`` document: its namespace, imports and type registry.

    Only DMN models can be imported (``importType`` a DMN namespace, or none given): an XML
    Schema or PMML import is refused here, naming the import, as nothing could evaluate it.
    """

    def __init__(self, root: etree._Element):
        self.root = root
        self.namespace = root.get("namespace") or root.get("id") or ""
        self.name = root.get("name") or self.namespace
        self.imports: dict[str, str] = {}  # namespace -> import name (prefix)
        self.import_elements: dict[str, etree._Element] = {}
        for imp in children(root, "import"):
            kind = imp.get("importType") or ""
            if kind and "DMN" not in kind.upper():
                raise DmnError(f"import {imp.get('name') or imp.get('namespace')!r} has "
                               f"importType {kind!r}; only DMN models can be imported",
                               element_id=describe(imp), line=imp.sourceline)
            if imp.get("namespace"):
                self.imports[imp.get("namespace")] = imp.get("name") or ""
                self.import_elements[imp.get("namespace")] = imp
        self.types = TypeRegistry()
        self.compiler: Compiler | None = None  # set by the builder

    def missing_import(self, namespace: str) -> DmnError:
        """Return the error for an import of ``namespace`` that no given document defines."""
        imp = self.import_elements[namespace]
        return DmnError(f"model {self.name!r} imports {imp.get('name') or '(unnamed)'!r} from "
                        f"namespace {namespace!r}, which none of the DMN documents given "
                        "defines", element_id=describe(imp), line=imp.sourceline)


class Builder:
    """Build the graph of a model and its imports: types, elements, requirements, code."""

    def __init__(self, main: Definitions, defs: dict[str, Definitions], strict: bool):
        self.main = main
        self.strict = strict
        self.errors: list[DmnError] = []
        self.defs = defs
        self.elements: dict[Key, Element] = {}
        self.sources: dict[Key, tuple[Definitions, etree._Element]] = {}
        self._names_seen: dict[str, str] = {}

    def build(self) -> tuple[dict[Key, Element], tuple[DmnError, ...]]:
        """Register types, create elements, wire requirements, compile, check for cycles."""
        names = self.names = name_index(self._known_names())
        for d in self.defs.values():
            d.compiler = Compiler(d.types, names)
        completions = [declare_item_definitions(children(d.root, "itemDefinition"), d.types,
                                                d.compiler.unary) for d in self.defs.values()]
        for d in self.defs.values():  # imported types under "import name.type name"
            for ns, prefix in d.imports.items():
                if ns in self.defs and prefix:
                    for tname, t in list(self.defs[ns].types.types.items()):
                        d.types.add(f"{prefix}.{tname}", t)
        for complete in completions:
            complete()
        for d in self.defs.values():
            for el in children(d.root):
                kind = DRG_KINDS.get(local(el))
                if kind is None:
                    continue
                ident = el.get("id") or el.get("name")
                if not el.get("name"):
                    raise DmnError(f"<{local(el)}> has no name", element_id=ident,
                                   line=el.sourceline)
                key = (d.namespace, ident)
                if self.strict and d is self.main:
                    self._check_unique(el)
                var = child(el, "variable")
                type_ref = var.get("typeRef") if var is not None else None
                self.elements[key] = Element(kind, key, el.get("name"),
                                             d.types.resolve(type_ref), line=el.sourceline,
                                             type_resolver=d.types.predicate)
                self.sources[key] = (d, el)
        for key, element in self.elements.items():
            self._wire(element)
        for key, element in self.elements.items():
            self._compile(element)
        self._bind_functions()
        self._check_cycles()
        return self.elements, tuple(self.errors)

    def _check_unique(self, el: etree._Element) -> None:
        """Refuse a second DRG element with the same name: FEEL could not tell them apart."""
        name = el.get("name")
        seen = self._names_seen
        if name in seen:
            raise DmnError(f"two DRG elements are named {name!r} (the other is "
                           f"{seen[name]!r})", element_id=el.get("id") or name,
                           line=el.sourceline)
        seen[name] = el.get("id") or name

    def _known_names(self) -> frozenset[str]:
        """Return the names every expression may use: DRG elements, imports, type parts.

        Names local to one element (context entries, parameters, iterator variables) are
        added per element in ``_compile``, so that a BKM parameter called ``Person.Gender``
        does not turn the path ``Person.Gender`` of a decision into one unknown name.
        """
        names: set[str] = set()
        for d in self.defs.values():
            names.update(p for p in d.imports.values() if p)
            for el in d.root.iter():
                if not isinstance(el.tag, str) or el.getparent() is None:
                    continue
                kind = local(el)
                if kind in DRG_KINDS or kind in ("itemDefinition", "itemComponent"):
                    if el.get("name"):
                        names.add(el.get("name"))
                elif kind in ("variable", "output") and el.get("name") and \
                        local(el.getparent()) in ("decision", "decisionTable"):
                    names.add(el.get("name"))  # Camunda's names for a required decision
        return frozenset(names)

    @staticmethod
    def _local_names(el: etree._Element) -> set[str]:
        names = set()
        for sub in el.iter():
            # a binding's <parameter> names the callee's parameter, not a name in scope here
            if isinstance(sub.tag, str) and local(sub) != "parameter":
                for attr in ("name", "iteratorVariable"):
                    if sub.get(attr):
                        names.add(sub.get(attr))
        return names

    def _ref(self, d: Definitions, holder: etree._Element, ref_el: etree._Element,
             kinds: tuple[str, ...]) -> tuple[Key, str | None, str]:
        ns, ident = href_id(ref_el.get("href") or "")
        ns = ns or d.namespace
        key = (ns, ident)
        element = self.elements.get(key)
        if element is None or element.kind not in kinds:
            raise DmnError(f"<{local(ref_el)}> of {describe(holder)} refers to "
                           f"{ref_el.get('href')!r}, which is not a "
                           f"{' or '.join(kinds)} of this model", element_id=describe(holder),
                           line=ref_el.sourceline)
        prefix = None if ns == d.namespace else (d.imports.get(ns) or None)
        return key, prefix, element.name

    def _wire(self, element: Element) -> None:
        d, el = self.sources[element.key]
        for req in children(el, "informationRequirement"):
            for r in children(req):
                if local(r) in ("requiredDecision", "requiredInput"):
                    element.requires.append(self._ref(d, el, r, ("decision", "input")))
        for req in children(el, "knowledgeRequirement"):
            for r in children(req, "requiredKnowledge"):
                element.knowledge.append(self._ref(d, el, r, ("bkm", "service")))
        if element.kind == "service":
            for part, target in (("outputDecision", element.outputs),
                                 ("encapsulatedDecision", element.encapsulated),
                                 ("inputDecision", element.input_decisions),
                                 ("inputData", element.input_data)):
                for r in children(el, part):
                    kinds = ("input",) if part == "inputData" else ("decision",)
                    target.append(self._ref(d, el, r, kinds)[0])

    def _compile(self, element: Element) -> None:
        d, el = self.sources[element.key]
        d.compiler.owner = el
        d.compiler.known_names = self.names.overlay()
        for name in self._local_names(el):
            d.compiler.known_names.add(name)
        try:
            self._compile_logic(element, d, el)
        except DmnError as exc:
            if self.strict:
                raise
            self.errors.append(exc)
            if element.kind == "decision":
                element.expr = Broken(exc)
            elif element.kind == "bkm":
                element.function = DmnFunction(_broken_definition(element, exc), Scope({}))
        finally:
            d.compiler.owner = None

    def _compile_logic(self, element: Element, d: Definitions, el: etree._Element) -> None:
        if element.kind == "decision":
            expr_el = d.compiler.find(el)
            element.expr = d.compiler.boxed(expr_el, element.name)
            if element.type.is_any and expr_el is not None and expr_el.get("typeRef"):
                element.type = d.types.resolve(expr_el.get("typeRef"))
            element.result_names, element.output_names = _camunda_names(el, element.expr)
        elif element.kind == "bkm":
            logic = child(el, "encapsulatedLogic")
            if logic is None:
                raise DmnError("business knowledge model has no encapsulatedLogic",
                               element_id=describe(el), line=el.sourceline)
            definition = d.compiler.function_definition(logic, element.name)
            element.function = DmnFunction(definition, Scope(element.functions,
                                                             type_resolver=d.types.predicate))
        elif element.kind == "service":
            element.function = ServiceFunction(element, self.elements)

    def _bind_functions(self) -> None:
        """Bind knowledge requirements (functions fixed at parse time) into each frame."""
        for element in self.elements.values():
            for key, prefix, name in element.knowledge:
                put(element.functions, prefix, name, self.elements[key].function)

    def _check_cycles(self) -> None:
        state: dict[Key, int] = {}

        def visit(key: Key) -> None:
            state[key] = 1
            for dep, _, _ in self.elements[key].requires:
                if state.get(dep) == 1:
                    element = self.elements[key]
                    raise DmnError(f"decision requirements form a cycle through "
                                   f"{element.name!r}", element_id=element.id,
                                   line=element.line)
                if dep not in state:
                    visit(dep)
            state[key] = 2

        for key in self.elements:
            if key not in state:
                visit(key)


def _broken_definition(element: Element, error: DmnError) -> FunctionDefinition:
    return FunctionDefinition([], Broken(error), element.type, element.name)


def _camunda_names(el: etree._Element, expr) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the names Camunda gives a decision's value besides its DMN name (see ``drg``).

    Camunda 8 names the value by the decision's ``<variable>``, else its id; Camunda 7 by the
    variable (literal expressions) and by a decision table's output columns.
    """
    var = child(el, "variable")
    whole = (var.get("name"),) if var is not None and var.get("name") else (el.get("id"),)
    outputs = tuple(o.name for o in expr.outputs) if isinstance(expr, DecisionTable) else ()
    return tuple(n for n in whole if n), outputs
