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

* a form that is named but whose fields are not in the file (Camunda 7 ``camunda:formKey`` or
  ``formRef``, a Camunda 8 ``zeebe:formDefinition``), or no form at all: a *generic* form
  (:func:`generic_form`) that accepts any variables the person sends, typed as JSON types them,
  within the service's size limits, as Camunda's tasklist does. It is marked
  ``"x-omniflow-form": "generic"`` (with the form key in ``"x-form-key"``) and lists as
  *suggested* fields the variables the process reads right after the task (a gateway's
  conditions, the next task's assignee), so the inbox can offer them; the schema allows others
  (``additionalProperties: true``);
* a Camunda 8 form embedded in the file (``zeebe:userTaskForm``, Camunda Forms JSON): its
  components with a ``key`` become fields (:func:`camunda_forms_schema`).

The schema is what the inbox renders and what the API validates completed data against.
"""
from __future__ import annotations

import json
import math
from typing import Any, Callable

from .expressions import is_expression

__all__ = ["FormError", "GENERIC", "bind", "camunda_form", "camunda_forms_schema", "generic_form",
           "inline_form", "is_generic", "suggest"]

GENERIC = "generic"

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



def generic_form(form_key: str | None = None) -> dict:
    """A form accepting any variables (see the module docstring); fields are suggested later."""
    schema: dict = {"type": "object", "x-omniflow-form": GENERIC, "properties": {},
                    "additionalProperties": True}
    if form_key:
        schema["x-form-key"] = form_key
    return schema


def is_generic(schema: dict) -> bool:
    return schema.get("x-omniflow-form") == GENERIC


def suggest(schema: dict, name: str, json_type: str | None) -> None:
    """Add a suggested field to a generic form (a known type wins over none)."""
    props = schema.setdefault("properties", {})
    field = props.setdefault(name, {"title": name, "x-suggested": True})
    if json_type and "type" not in field:
        field["type"] = json_type


_COMPONENT_TYPES = {
    "textfield": {"type": "string"}, "textarea": {"type": "string"},
    "number": {"type": "number"}, "checkbox": {"type": "boolean"},
    "datetime": {"type": "string"}, "select": {"type": "string"}, "radio": {"type": "string"},
    "checklist": {"type": "array"}, "taglist": {"type": "array"},
}


def camunda_forms_schema(text: str, form_key: str | None = None) -> dict:
    """The JSON Schema of an embedded Camunda Forms document (fields with a ``key``).

    Components we do not know (text, images, buttons) carry no data and are skipped; when no
    field remains the form is generic.
    """
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FormError(f"the embedded Camunda form is not valid JSON: {exc}") from exc
    properties: dict[str, dict] = {}
    required: list[str] = []
    stack = list(doc.get("components", [])) if isinstance(doc, dict) else []
    while stack:
        component = stack.pop(0)
        if not isinstance(component, dict):
            continue
        stack.extend(c for c in component.get("components", []) if isinstance(c, dict))
        key, kind = component.get("key"), component.get("type")
        if not isinstance(key, str) or kind not in _COMPONENT_TYPES:
            continue
        prop = dict(_COMPONENT_TYPES[kind])
        prop["title"] = str(component.get("label") or key)
        values = component.get("values")
        if kind in ("select", "radio") and isinstance(values, list):
            prop["enum"] = [v.get("value") for v in values if isinstance(v, dict)]
        if isinstance(component.get("validate"), dict) and component["validate"].get("required"):
            required.append(key)
        properties[key] = prop
    if not properties:
        return generic_form(form_key)
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema
