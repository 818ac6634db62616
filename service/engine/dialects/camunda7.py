"""Read what a Camunda 7 element says (``camunda:`` attributes and extension elements).

Values follow Camunda: text with ``${...}`` is an EL expression, other text is a constant
(:class:`~service.engine.io_mapping.Literal`), an empty parameter is ``null``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..expressions import is_expression
from ..io_mapping import IoMapping, Literal, Parameter, Variable
from . import CAMUNDA_NS, NSMAP, ModelError

__all__ = ["CallMappings", "attr", "call_mappings", "collection", "connector_id",
           "external_topic", "form_key", "io_mapping", "listener_notes", "properties"]

_C = "{" + CAMUNDA_NS + "}"


def attr(node: Any, name: str) -> str | None:
    """A ``camunda:`` attribute, stripped; ``None`` when absent or blank."""
    value = node.get(_C + name)
    return value.strip() if value and value.strip() else None


def _ext(node: Any, path: str) -> list:
    return node.xpath(f"./bpmn:extensionElements/{path}", namespaces=NSMAP)


def properties(node: Any) -> dict[str, str]:
    """``camunda:properties`` of an element (name -> value)."""
    return {p.get("name"): p.get("value", "") for p in _ext(node, "camunda:properties/camunda:property")
            if p.get("name")}


def _value(node: Any) -> Any:
    """The value of a parameter, list item or map entry: its text, or its one child element."""
    children = [c for c in node if isinstance(c.tag, str)]
    if not children:
        text = (node.text or "").strip()
        if not text:
            return Literal(None)
        return text if is_expression(text) else Literal(text)
    return _element(children[0], node)


def _element(child: Any, owner: Any) -> Any:
    if child.tag == _C + "list":
        return [_element(item, child) if item.tag != _C + "value" else _value(item)
                for item in child if isinstance(item.tag, str)]
    if child.tag == _C + "map":
        out = {}
        for entry in child:
            if entry.tag == _C + "entry":
                key = entry.get("key")
                if key is None or is_expression(key):
                    raise ModelError(f"a camunda:map key must be a constant, not {key!r}", entry)
                out[key] = _value(entry)
        return out
    if child.tag == _C + "value":
        return _value(child)
    if child.tag == _C + "script":
        raise ModelError(f"a camunda:script ({child.get('scriptFormat') or 'no format'}) as the "
                         f"value of {owner.get('name') or owner.get('key') or 'a parameter'!r} is "
                         "not supported; use an expression", child)
    raise ModelError(f"unsupported content {child.tag} in {owner.get('name')!r}", child)


def io_mapping(node: Any) -> IoMapping:
    """The element's own ``camunda:inputOutput`` (not a ``camunda:connector``'s)."""
    inputs = tuple(Parameter(p.get("name"), _value(p))
                   for p in _ext(node, "camunda:inputOutput/camunda:inputParameter"))
    outputs = tuple(Parameter(p.get("name"), _value(p))
                    for p in _ext(node, "camunda:inputOutput/camunda:outputParameter"))
    for parameter in (*inputs, *outputs):
        if not parameter.target:
            raise ModelError("an input/output parameter has no name", node)
    return IoMapping(inputs, outputs)


def connector_id(node: Any) -> tuple[str | None, IoMapping]:
    """``camunda:connector``: its id and its own input/output parameters."""
    found = _ext(node, "camunda:connector")
    if not found:
        return None, IoMapping()
    connector = found[0]
    ident = connector.find(_C + "connectorId")
    name = (ident.text or "").strip() if ident is not None else ""
    inputs = tuple(Parameter(p.get("name"), _value(p)) for p in
                   connector.xpath("./camunda:inputOutput/camunda:inputParameter", namespaces=NSMAP))
    outputs = tuple(Parameter(p.get("name"), _value(p)) for p in
                    connector.xpath("./camunda:inputOutput/camunda:outputParameter", namespaces=NSMAP))
    return name or None, IoMapping(inputs, outputs)


def external_topic(node: Any) -> str | None:
    """The topic of an external service task (``camunda:type="external"``), or None."""
    if attr(node, "type") not in ("external", "external-worker"):
        return None
    return attr(node, "topic") or ""


@dataclass(frozen=True)
class CallMappings:
    """``camunda:in``/``camunda:out`` of a call activity. Camunda passes nothing but what is
    mapped (``variables="all"`` passes everything)."""

    inputs: tuple[Parameter, ...] = ()
    all_in: bool = False
    outputs: tuple[Parameter, ...] = ()
    all_out: bool = False


def _mapping(node: Any) -> Parameter | None:
    target = node.get("target")
    if node.get("source"):
        return Parameter(target or node.get("source"), Variable(node.get("source")))
    if node.get("sourceExpression"):
        if not target:
            raise ModelError("a camunda:in/out with sourceExpression needs a target", node)
        return Parameter(target, node.get("sourceExpression"))
    return None


def call_mappings(node: Any) -> CallMappings | None:
    """The call activity's mappings, or None when it has none (then everything is passed, the
    convention of bpmn.io and SpiffWorkflow models)."""
    ins, outs = _ext(node, "camunda:in"), _ext(node, "camunda:out")
    if not ins and not outs:
        return None
    inputs = tuple(p for p in (_mapping(n) for n in ins) if p is not None)
    outputs = tuple(p for p in (_mapping(n) for n in outs) if p is not None)
    return CallMappings(inputs, any(n.get("variables") == "all" for n in ins),
                        outputs, any(n.get("variables") == "all" for n in outs))


def collection(node: Any) -> tuple[str | None, str | None]:
    """``camunda:collection`` and ``camunda:elementVariable`` of multi-instance characteristics."""
    return attr(node, "collection"), attr(node, "elementVariable")


def form_key(node: Any) -> str | None:
    """The form a Camunda 7 task or start event names without listing fields (formKey/formRef)."""
    return attr(node, "formKey") or attr(node, "formRef")


def listener_notes(node: Any) -> list[str]:
    """Execution and task listeners we do not run (Camunda runs Java or scripts there)."""
    notes = []
    for kind in ("executionListener", "taskListener"):
        for listener in _ext(node, f"camunda:{kind}"):
            script = listener.find(_C + "script")
            how = (f"a {script.get('scriptFormat') or ''} script" if script is not None
                   else listener.get("class") or listener.get("expression")
                   or listener.get("delegateExpression") or "a listener")
            notes.append(f"camunda:{kind} on '{listener.get('event') or ''}' ({how}) is not run")
    return notes
