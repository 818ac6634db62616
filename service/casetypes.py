"""Case types: the JSON file beside a process that declares its data schema and risk scoring.

``bpmn/order_exception.case.json``::

    {"type": "order_exception",
     "schema": {... JSON Schema of the case data ...},
     "scoring": {"model": "escalation_risk", "variable": "escalation_risk",
                 "features": {"order_value": "value", "customer_tier": "customer_tier"}},
     "cancel_groups": ["cs_supervisor"],
     "priority": "routing.priority",
     "requester": "requested_by"}

A process without a case type file accepts any JSON object, and its ``type`` is the process id.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

import jsonschema

from .errors import DefinitionInvalid, ValidationFailed

CASE_TYPE_SUFFIX = ".case.json"
ANY_OBJECT = {"type": "object"}


@dataclass(frozen=True)
class CaseType:
    type: str
    schema: dict = field(default_factory=lambda: dict(ANY_OBJECT))
    scoring: dict | None = None
    cancel_groups: tuple = ("admin",)
    priority: str = "priority"      # dotted path of the case priority in the process data
    requester: str | None = None    # dotted path of the person who asked, for four-eyes

    def priority_of(self, data) -> str | None:
        value = value_at(data, self.priority)
        return value if isinstance(value, str) else None

    def requester_of(self, data) -> str | None:
        value = value_at(data, self.requester) if self.requester else None
        return value if isinstance(value, str) and value else None


def value_at(data, path: str):
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def parse_case_type(filename: str, source: bytes) -> CaseType:
    try:
        doc = json.loads(source)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DefinitionInvalid(f"{filename}: not valid JSON: {exc}", file=filename) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
        raise DefinitionInvalid(f"{filename}: a case type needs a string 'type'", file=filename,
                                element="type")
    schema = doc.get("schema", ANY_OBJECT)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise DefinitionInvalid(f"{filename}: schema is not a valid JSON Schema: {exc.message}",
                                file=filename, element="schema") from exc
    scoring = doc.get("scoring")
    if scoring is not None and (not isinstance(scoring, dict) or "model" not in scoring
                                or not isinstance(scoring.get("features", {}), dict)):
        raise DefinitionInvalid(f"{filename}: scoring needs 'model' and a 'features' mapping",
                                file=filename, element="scoring")
    cancel = doc.get("cancel_groups", ["admin"])
    priority = doc.get("priority", "priority")
    if not isinstance(priority, str) or not priority:
        raise DefinitionInvalid(f"{filename}: priority must be a dotted path into the process "
                                "data", file=filename, element="priority")
    requester = doc.get("requester")
    if requester is not None and (not isinstance(requester, str) or not requester):
        raise DefinitionInvalid(f"{filename}: requester must be a dotted path into the case data",
                                file=filename, element="requester")
    return CaseType(doc["type"], schema, scoring, tuple(cancel), priority, requester)


@lru_cache(maxsize=256)
def _validator(schema_json: str):
    return jsonschema.Draft202012Validator(json.loads(schema_json),
                                           format_checker=jsonschema.FormatChecker())


def validate(schema: dict, data, *, what: str = "data") -> None:
    """Raise ``ValidationFailed`` naming the first field at fault (all errors listed too)."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    listed = []
    for err in errors[:20]:
        path = ".".join(str(p) for p in err.absolute_path)
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else ""
            path = ".".join(filter(None, [path, missing]))
        elif err.validator == "additionalProperties":
            extra = err.message.split("'")[1] if "'" in err.message else ""
            path = ".".join(filter(None, [path, extra]))
        listed.append({"field": path or what, "message": err.message})
    first = listed[0]
    raise ValidationFailed(f"{what}: {first['field']}: {first['message']}", field=first["field"],
                           errors=listed)
