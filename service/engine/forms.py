"""Build a JSON Schema for a user task's form from what the modeler wrote.

Two sources, read at parse time:

* Camunda's generated forms: ``camunda:formData/camunda:formField`` with ``id``, ``label``,
  ``type`` (string, long, boolean, date, enum with ``camunda:value`` options), ``defaultValue``
  and ``camunda:validation/camunda:constraint`` (``required``, ``min``, ``max``, ``minlength``,
  ``maxlength``, ``readonly``). A ``min``/``max`` of a number field may be an expression
  (``config="${value}"``: a refund no larger than the order): it is kept as
  ``x-minimum-expression``/``x-maximum-expression`` and evaluated against the task's data when
  the task is shown (:func:`bind`), so the stored form carries the concrete bound;
* a JSON Schema written inline in a ``spiffworkflow:property`` or ``camunda:property`` named
  ``formJsonSchema`` (SpiffWorkflow's own editor keeps schemas in separate files, named by
  ``formJsonSchemaFilename``; that name is passed through in the task's properties).

The schema is what the inbox renders and what the API validates completed data against.
"""
from __future__ import annotations

import json
import math
from typing import Any, Callable

from .expressions import is_expression

__all__ = ["FormError", "bind", "camunda_form", "inline_form"]

# No form accepts a whole number JSON cannot carry exactly (1e30 "is" an integer to JSON
# Schema): an absurd amount is refused with a reason rather than stored rounded.
MAX_SAFE_INTEGER = 2**53 - 1

_TYPES = {
    "string": {"type": "string"},
    "long": {"type": "integer"},
    "integer": {"type": "integer"},
    "double": {"type": "number"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "enum": {"type": "string"},
}


class FormError(ValueError):
    """A form definition that cannot be turned into a schema; ``element`` names the field."""

    def __init__(self, message: str, node: Any = None):
        super().__init__(message)
        self.node = node


def _number(text: str, node: Any) -> int | float:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError as exc:
            raise FormError(f"constraint value {text!r} is not a number", node) from exc


def _default(schema_type: str, text: str) -> Any:
    if schema_type == "integer":
        return int(text)
    if schema_type == "number":
        return float(text)
    if schema_type == "boolean":
        return text.strip().lower() == "true"
    return text


def camunda_form(task_node: Any, nsmap: dict) -> dict:
    """Return the JSON Schema of a task's ``camunda:formData`` (``{}`` when it has none)."""
    fields = task_node.xpath("./bpmn:extensionElements/camunda:formData/camunda:formField",
                             namespaces=nsmap)
    if not fields:
        return {}
    camunda = "{" + nsmap["camunda"] + "}"
    properties: dict[str, dict] = {}
    required: list[str] = []
    for node in fields:
        field_id = node.get("id")
        if not field_id:
            raise FormError("a form field has no id", node)
        field_type = node.get("type") or "string"
        if field_type not in _TYPES:
            raise FormError(f"form field {field_id!r} has unsupported type {field_type!r}", node)
        prop = dict(_TYPES[field_type])
        prop["title"] = node.get("label") or field_id
        if field_type == "enum":
            options = [(v.get("id"), v.get("name") or v.get("id"))
                       for v in node if v.tag == f"{camunda}value"]
            prop["enum"] = [key for key, _ in options]
            prop["x-enumNames"] = [label for _, label in options]
        if node.get("defaultValue") is not None:
            try:
                prop["default"] = _default(prop["type"], node.get("defaultValue"))
            except ValueError as exc:
                raise FormError(f"form field {field_id!r} has a bad default value", node) from exc
        for constraint in node.xpath("./camunda:validation/camunda:constraint", namespaces=nsmap):
            name, config = constraint.get("name"), constraint.get("config")
            if name == "required":
                required.append(field_id)
            elif name == "readonly":
                prop["readOnly"] = True
            elif name in ("min", "max"):
                key = "minimum" if name == "min" else "maximum"
                if prop["type"] == "string" and prop.get("format") != "date":
                    key = "minLength" if name == "min" else "maxLength"
                if is_expression(config) and key in ("minimum", "maximum"):
                    prop[f"x-{key}-expression"] = config.strip()
                else:
                    prop[key] = _number(config or "", constraint)
            elif name in ("minlength", "maxlength"):
                prop["minLength" if name == "minlength" else "maxLength"] = int(_number(config or "", constraint))
            else:
                raise FormError(f"form field {field_id!r} has unsupported constraint {name!r}", constraint)
        if prop["type"] == "integer":
            prop.setdefault("minimum", -MAX_SAFE_INTEGER)
            prop.setdefault("maximum", MAX_SAFE_INTEGER)
        properties[field_id] = prop
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def bind(form: dict, evaluate: Callable[[str], Any]) -> dict:
    """The form with its expression bounds evaluated (``evaluate(text)`` against the task's
    data); ``form`` itself is not changed. A bound that cannot be computed refuses every value
    of its field with a reason, rather than leaving the field unbounded."""
    properties = form.get("properties") if isinstance(form, dict) else None
    if not properties or not any(k.endswith("-expression") for p in properties.values()
                                 for k in p):
        return form
    bound = dict(form, properties={})
    for name, prop in properties.items():
        prop = dict(prop)
        for key in ("minimum", "maximum"):
            text = prop.pop(f"x-{key}-expression", None)
            if text is None:
                continue
            try:
                value = evaluate(text)
                value = float(value) if value is not None and not isinstance(value, bool) else None
            except (TypeError, ValueError, ArithmeticError):
                value = None
            if value is None or not math.isfinite(value):
                prop["not"] = {}
                prop["description"] = (f"cannot be accepted now: its {key} ({text}) could not "
                                       "be computed from the case")
                continue
            prop[key] = int(value) if value.is_integer() else value
        bound["properties"][name] = prop
    return bound


def inline_form(text: str) -> dict:
    """Parse a JSON Schema written inline in a ``formJsonSchema`` property."""
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormError(f"formJsonSchema is not valid JSON: {exc.msg} (column {exc.colno})") from exc
    if not isinstance(schema, dict):
        raise FormError("formJsonSchema must be a JSON object")
    return schema

