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

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import lru_cache

import jsonschema
from jsonschema.exceptions import ValidationError

from ..errors import DefinitionInvalid, ValidationFailed
from ..sandbox import BudgetExceeded, regex

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


def _no_constants(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _remote_ref(schema) -> str | None:
    """The first ``$ref`` that leaves the document: it could never be resolved offline."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("$ref", "$dynamicRef") and isinstance(value, str) \
                        and not value.startswith("#"):
                    return value
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return None


MAX_INTEGER_DIGITS = 18       # past 1e18 a JSON number in analysts' content is a mistake


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ValueError(f"the number {text[:24]}... is too large")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:24]} is too large")
    return value


def load_json(filename: str, source: bytes):
    """Parse an analyst's JSON file strictly: no NaN or Infinity, numbers a float can hold,
    no pathological nesting."""
    try:
        return json.loads(source, parse_constant=_no_constants, parse_int=_bounded_int,
                          parse_float=_finite_float)
    except RecursionError as exc:
        raise DefinitionInvalid(f"{filename}: nested too deeply", file=filename) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise DefinitionInvalid(f"{filename}: not valid JSON: {exc}", file=filename) from exc


def parse_case_type(filename: str, source: bytes) -> CaseType:
    doc = load_json(filename, source)
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
        raise DefinitionInvalid(f"{filename}: a case type needs a string 'type'", file=filename,
                                element="type")
    schema = doc.get("schema", ANY_OBJECT)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise DefinitionInvalid(f"{filename}: schema is not a valid JSON Schema: {exc.message}",
                                file=filename, element="schema") from exc
    remote = _remote_ref(schema)
    if remote is not None:
        raise DefinitionInvalid(f"{filename}: schema refers to {remote!r}; only references "
                                "within the schema ('#...') are allowed", file=filename,
                                element="schema")
    scoring = doc.get("scoring")
    if scoring is not None and (not isinstance(scoring, dict)
                                or not isinstance(scoring.get("model"), str)
                                or not scoring["model"]
                                or not isinstance(scoring.get("features", {}), dict)):
        raise DefinitionInvalid(f"{filename}: scoring needs 'model' and a 'features' mapping",
                                file=filename, element="scoring")
    cancel = doc.get("cancel_groups", ["admin"])
    if not isinstance(cancel, list) or not all(isinstance(g, str) and g for g in cancel):
        raise DefinitionInvalid(f"{filename}: cancel_groups must be a list of group names",
                                file=filename, element="cancel_groups")
    priority = doc.get("priority", "priority")
    if not isinstance(priority, str) or not priority:
        raise DefinitionInvalid(f"{filename}: priority must be a dotted path into the process "
                                "data", file=filename, element="priority")
    requester = doc.get("requester")
    if requester is not None and (not isinstance(requester, str) or not requester):
        raise DefinitionInvalid(f"{filename}: requester must be a dotted path into the case data",
                                file=filename, element="requester")
    return CaseType(doc["type"], schema, scoring, tuple(cancel), priority, requester)


FORMATS = jsonschema.FormatChecker()


# jsonschema checks "date-time" only with an optional package installed; without it any string
# passed, and a case stored "garbage" where the process expects a time. This needs nothing and
# accepts what the engine's date parsing does (ISO 8601, a zone optional: signals send local
# times).
@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value) -> bool:
    if isinstance(value, str):
        dt.datetime.fromisoformat(value)
    return True


def _search(pattern: str, text: str):
    """``re.search`` as JSON Schema means it, through the bounded regex engine: an analyst's
    pattern such as ``^(a+)+$`` cannot hold a request for minutes."""
    try:
        return regex.search(regex.compile(pattern), text)
    except regex.PatternError as exc:
        raise ValidationError(f"pattern {pattern!r} is not a valid regular expression: {exc}")
    except BudgetExceeded as exc:
        raise ValidationError(f"pattern {pattern!r} took too long to match ({exc.message})")


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string"):
        try:
            if not _search(pattern, instance):
                yield ValidationError(f"{instance!r} does not match {pattern!r}")
        except ValidationError as error:
            yield error


def _pattern_properties(validator, patterns, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            try:
                matched = _search(pattern, key)
            except ValidationError as error:
                yield error
                return
            if matched:
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


# The reference validator with its two regex keywords bounded; everything else unchanged.
BoundedValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    {"pattern": _pattern, "patternProperties": _pattern_properties})


@lru_cache(maxsize=256)
def _validator(schema_json: str):
    return BoundedValidator(json.loads(schema_json), format_checker=FORMATS)


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
