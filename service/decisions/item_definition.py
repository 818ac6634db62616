"""Check and coerce values against DMN types: built-in FEEL types and item definitions.

Every typed variable of a model (input data, decision, BKM parameter and result, context entry,
decision table output) is coerced on assignment as DMN 1.5 section 10.3.2.9.4 requires: a value
that conforms passes, a singleton list becomes its element where an element is expected, an
element becomes a singleton list where a collection is expected, anything else becomes null with
a warning. Types are resolved once at parse time into small predicate objects, so evaluation
only calls ``conforms``/``coerce``.
"""
from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Callable

from .document import child, children, text_of
from .feel import DaysTimeDuration, FeelFunction, Range, YearsMonthsDuration, is_instance

Warn = Callable[[str], None]


def _is_number(v: Any) -> bool:
    return isinstance(v, Decimal)


def _is_date(v: Any) -> bool:
    return isinstance(v, datetime.date) and not isinstance(v, datetime.datetime)


#: Built-in type names (FEEL and the DMN 1.1 XML Schema spellings) and their fast predicates.
_BUILTIN: dict[str, Callable[[Any], bool]] = {
    "number": _is_number,
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "date": _is_date,
    "time": lambda v: isinstance(v, datetime.time),
    "date and time": lambda v: isinstance(v, datetime.datetime),
    "days and time duration": lambda v: isinstance(v, DaysTimeDuration),
    "years and months duration": lambda v: isinstance(v, YearsMonthsDuration),
    "list": lambda v: isinstance(v, list),
    "context": lambda v: isinstance(v, dict),
    "range": lambda v: isinstance(v, Range),
    "function": lambda v: isinstance(v, FeelFunction) or callable(v),
}
_ALIASES = {
    "dateTime": "date and time",
    "dayTimeDuration": "days and time duration",
    "yearMonthDuration": "years and months duration",
    "decimal": "number", "integer": "number", "double": "number",
}


def builtin_name(type_ref: str) -> str | None:
    """Return the canonical built-in type name of ``type_ref`` or None if it is not built in."""
    name = type_ref.strip()
    for prefix in ("feel:", "FEEL:", "xsd:"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    name = _ALIASES.get(name, name)
    if name in _BUILTIN or name == "Any":
        return name
    return None


class DmnType:
    """One resolved type: a predicate for conformance plus coercion on assignment.

    ``name`` is what errors and warnings show. ``element`` (for collections) is the type each
    item must conform to. Subclasses below describe the kinds of item definitions.
    """

    is_any = False
    is_collection = False

    def __init__(self, name: str):
        self.name = name

    def conforms(self, value: Any, constrained: bool = True) -> bool:
        """Return whether ``value`` is of this type (with ``constrained``, also its allowed
        values: FEEL ``instance of`` ignores them, assignment checks them)."""
        raise NotImplementedError

    def coerce(self, value: Any, warn: Warn | None = None, what: str = "value") -> Any:
        """Return ``value`` converted to this type, or None (with a warning) when it cannot be."""
        if value is None or self.is_any:
            return value
        if self.conforms(value):
            return value
        if isinstance(value, list) and len(value) == 1 and not self.is_collection:
            if self.conforms(value[0]):
                return value[0]
        if self.is_collection and not isinstance(value, list) and self.element_conforms(value):
            return [value]
        if warn is not None:
            warn(f"{what}: value {_short(value)} does not conform to type {self.name}; null used")
        return None

    def element_conforms(self, value: Any) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<DmnType {self.name}>"


class AnyType(DmnType):
    """No type (``Any`` or an unknown name): everything conforms, nothing is coerced."""

    is_any = True

    def conforms(self, value: Any, constrained: bool = True) -> bool:
        return True


ANY = AnyType("Any")


class BuiltinType(DmnType):
    """A built-in FEEL type checked by a plain ``isinstance`` predicate."""

    def __init__(self, name: str):
        super().__init__(name)
        self._test = _BUILTIN[name]

    def conforms(self, value: Any, constrained: bool = True) -> bool:
        return value is None or self._test(value)


class FeelTypeText(DmnType):
    """A type given as FEEL type text (``list<number>``, ``context<a: string>``)."""

    def __init__(self, name: str, resolver):
        super().__init__(name)
        self._resolver = resolver
        self.is_collection = name.replace(" ", "").startswith("list<")

    def conforms(self, value: Any, constrained: bool = True) -> bool:
        return value is None or bool(is_instance(value, self.name, self._resolver))

    def element_conforms(self, value: Any) -> bool:
        inner = self.name.strip()[5:-1]
        return bool(is_instance(value, inner, self._resolver))


class ItemDefinitionType(DmnType):
    """An item definition: a base type or components, maybe a collection, maybe constrained.

    ``base`` and ``components`` are filled in after all item definitions of the model are known
    (they may refer to each other in any order). ``is_list`` is the definition's own
    ``isCollection``; a definition whose base type is a collection is a collection too.
    """

    def __init__(self, name: str, *, is_list: bool = False, allowed=None):
        super().__init__(name)
        self.is_list = is_list
        self.base: DmnType | None = None
        self.components: dict[str, DmnType] | None = None
        self.allowed = allowed  # UnaryTests on the value (on each element of a list)

    @property
    def is_collection(self) -> bool:  # type: ignore[override]
        return self.is_list or (self.base is not None and self.base.is_collection)

    def _single(self, value: Any, constrained: bool = True) -> bool:
        if self.components is not None:
            if not isinstance(value, dict):
                return False
            for key, ctype in self.components.items():
                if key not in value or not ctype.conforms(value[key], constrained):
                    return False
        elif self.base is not None and not self.base.conforms(value, constrained):
            return False
        if constrained and self.allowed is not None and not self.allowed.matches(value, None):
            return False
        return True

    def element_conforms(self, value: Any) -> bool:
        if value is None:
            return True
        if self.is_list:
            return self._single(value)
        if self.base is not None and self.base.is_collection:
            return self.base.element_conforms(value)
        return False

    def conforms(self, value: Any, constrained: bool = True) -> bool:
        if value is None:
            return True
        if self.is_list:
            if not isinstance(value, list):
                return False
            return all(v is None or self._single(v, constrained) for v in value)
        return self._single(value, constrained)


class TypeRegistry:
    """Resolve type names of one model (and its imports) to :class:`DmnType` objects."""

    def __init__(self):
        self.types: dict[str, DmnType] = {}
        self._cache: dict[str, DmnType] = {}

    def add(self, name: str, dmn_type: DmnType) -> None:
        """Register ``dmn_type`` under ``name`` (an item definition, maybe import-qualified)."""
        self.types[name] = dmn_type

    def resolve(self, type_ref: str | None) -> DmnType:
        """Return the type for ``type_ref``; unknown names resolve to Any (no check)."""
        if not type_ref:
            return ANY
        found = self._cache.get(type_ref)
        if found is not None:
            return found
        found = self._lookup(type_ref)
        self._cache[type_ref] = found
        return found

    def _lookup(self, type_ref: str) -> DmnType:
        name = type_ref.strip()
        if name in self.types:
            return self.types[name]
        builtin = builtin_name(name)
        if builtin == "Any":
            return ANY
        if builtin is not None:
            return BuiltinType(builtin)
        # Namespace prefixes (tns:Person) name a local type; dotted import names (model.tX)
        # are registered under their qualified name by the model.
        if ":" in name:
            short = name.split(":", 1)[1]
            if short in self.types:
                return self.types[short]
        if "<" in name:
            return FeelTypeText(name, self.predicate)
        return ANY

    def predicate(self, name: str) -> Callable[[Any], bool] | None:
        """Serve as FEEL's ``type_resolver``: a predicate for a custom type name, or None."""
        t = self.types.get(name)
        if t is None and ":" in name:
            t = self.types.get(name.split(":", 1)[1])
        if t is None:
            return None
        return lambda value: value is not None and t.conforms(value, False)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def declare_item_definitions(elements, registry: TypeRegistry, compiler_unary):
    """Register the ``<itemDefinition>`` names of one model; return a function that completes
    their bodies.

    Two phases, because item definitions refer to each other (and to imported types, which
    the builder aliases as ``import name.type name`` in between) in any order.
    ``compiler_unary(text, el, what)`` compiles allowed values with error locations.
    """
    pending = []

    def declare(el, name):
        allowed_text = text_of(child(el, "allowedValues"))
        constraint_text = text_of(child(el, "typeConstraint"))
        allowed = compiler_unary(allowed_text, el, f"allowed values of {name}") \
            if allowed_text and allowed_text.strip() not in ("", "-") else None
        element_allowed = compiler_unary(constraint_text, el, f"type constraint of {name}") \
            if constraint_text and constraint_text.strip() not in ("", "-") else None
        t = ItemDefinitionType(name, is_list=el.get("isCollection") == "true",
                               allowed=allowed if allowed is not None else element_allowed)
        pending.append((el, t))
        return t

    for el in elements:
        if el.get("name"):
            registry.add(el.get("name"), declare(el, el.get("name")))

    def complete() -> None:
        i = 0
        while i < len(pending):  # components add nested anonymous types as we go
            el, t = pending[i]
            i += 1
            comps = children(el, "itemComponent")
            if comps:
                t.components = {c.get("name"): declare(c, f"{t.name}.{c.get('name')}")
                                for c in comps}
            elif child(el, "functionItem") is not None:
                t.base = BuiltinType("function")
            else:
                ref = _type_ref_of(el)
                if ref:
                    base = registry.resolve(ref)
                    t.base = ANY if base is t else base

    return complete


def _type_ref_of(el) -> str | None:
    """Return a typeRef given as attribute (DMN 1.2+) or as child element (DMN 1.1)."""
    ref = el.get("typeRef")
    if ref is None:
        ref_el = child(el, "typeRef")
        if ref_el is not None:
            ref = (ref_el.text or "").strip()
    return ref
