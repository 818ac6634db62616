"""Build a JSON Schema for a user task's form from what the modeler wrote.

Two sources, read at parse time:

* Camunda's generated forms: ``camunda:formData/camunda:formField`` with ``id``, ``label``,
  ``type`` (string, long, boolean, date, enum with ``camunda:value`` options), ``defaultValue``
  and ``camunda:validation/camunda:constraint`` (``required``, ``min``, ``max``, ``minlength``,
  ``maxlength``, ``readonly``);
* a JSON Schema written inline in a ``spiffworkflow:property`` or ``camunda:property`` named
  ``formJsonSchema`` (SpiffWorkflow's own editor keeps schemas in separate files, named by
  ``formJsonSchemaFilename``; that name is passed through in the task's properties).

The schema is what the inbox renders and what the API validates completed data against.
"""
from __future__ import annotations

import json
from typing import Any

__all__ = ["FormError", "camunda_form", "inline_form"]

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
                prop[key] = _number(config or "", constraint)
            elif name in ("minlength", "maxlength"):
                prop["minLength" if name == "minlength" else "maxLength"] = int(_number(config or "", constraint))
            else:
                raise FormError(f"form field {field_id!r} has unsupported constraint {name!r}", constraint)
        properties[field_id] = prop
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def inline_form(text: str) -> dict:
    """Parse a JSON Schema written inline in a ``formJsonSchema`` property."""
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormError(f"formJsonSchema is not valid JSON: {exc.msg} (column {exc.colno})") from exc
    if not isinstance(schema, dict):
        raise FormError("formJsonSchema must be a JSON object")
    return schema

