"""/api/v1/decisions/{key}/evaluate: evaluate a deployed decision with typed JSON inputs."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from .. import audit, decision_port, definitions
from ..errors import ValidationFailed
from ..store import DecisionRecord, atomic
from .auth import current
from .limits import MAX_ID

# A typed number must fit the FEEL number (IEEE 754 decimal128: 34 digits) and come back out
# as JSON: the exponent bound keeps int(value) small when the record is written.
MAX_EXPONENT = 308


TYPES = ("date", "time", "datetime", "date and time", "duration", "days and time duration",
         "years and months duration", "number")


class EvaluateQuery(Schema):
    version = fields.Integer(validate=validate.Range(1, MAX_ID),
                             metadata={"description": "A version of the DMN definition"})

blp = Blueprint("decisions", __name__, url_prefix="/api/v1/decisions",
                description="Evaluate deployed DMN decisions")


def _typed(name: str, value):
    """JSON has no dates or durations: ``{"type": "date", "value": "2026-01-31"}`` gives one."""
    if isinstance(value, dict) and set(value) == {"type", "value"}:
        kind, raw = value["type"], value["value"]
        if not isinstance(kind, str) or kind not in TYPES:
            raise ValidationFailed(f"input {name!r}: unknown type {kind!r} (one of "
                                   f"{', '.join(TYPES)})", field=name)
        if not isinstance(raw, str) and not (kind == "number" and isinstance(raw, (int, float))
                                             and not isinstance(raw, bool)):
            raise ValidationFailed(f"input {name!r}: {raw!r} is not a valid {kind} (send the "
                                   "value as a string)", field=name)
        try:
            if kind == "date":
                return dt.date.fromisoformat(raw)
            if kind == "time":
                return dt.time.fromisoformat(raw)
            if kind in ("datetime", "date and time"):
                return dt.datetime.fromisoformat(raw)
            if kind in ("duration", "days and time duration", "years and months duration"):
                return _duration(name, kind, raw)
            return _number(name, raw)
        except (ValueError, TypeError, InvalidOperation) as exc:
            raise ValidationFailed(f"input {name!r}: {raw!r} is not a valid {kind}",
                                   field=name) from exc
    return value


def _duration(name: str, kind: str, raw: str):
    from ..decisions.feel import compile_expression
    # The text is a value given to FEEL, never spliced into the expression.
    value = compile_expression("duration(text)").evaluate({"text": raw})
    wanted = {"days and time duration": "DaysTimeDuration",
              "years and months duration": "YearsMonthsDuration"}.get(kind)
    if value is None or (wanted and type(value).__name__ != wanted):
        raise ValueError(f"{raw!r} is not a {kind}")
    return value


def _number(name: str, raw) -> Decimal:
    value = Decimal(str(raw))
    if not value.is_finite() or (value and abs(value.adjusted()) > MAX_EXPONENT):
        raise ValueError(f"{raw!r} is not a finite number within 1e±{MAX_EXPONENT}")
    return value


@blp.route("/<key>/evaluate", methods=["POST"])
@blp.arguments(EvaluateQuery, location="query")
def evaluate(args, key):
    """Evaluate decision `key` (newest version, or `?version=N` of its DMN definition)."""
    who = current()
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("inputs", {}), dict):
        raise ValidationFailed("send {\"inputs\": {...}}", field="inputs")
    inputs = {k: _typed(k, v) for k, v in body.get("inputs", {}).items()}
    row = definitions.decision_definition(key)
    version = args.get("version")
    if version is not None:
        row = definitions.get("dmn", row.key, version)
    outcome = decision_port.evaluate(row, key, inputs)
    rec = outcome.record
    with atomic():
        DecisionRecord.create(kind="decision", definition_key=rec["definition_key"],
                              definition_version=rec["definition_version"], element_id=key,
                              inputs=rec["inputs"], outputs=rec["outputs"],
                              matched_rules=rec["matched_rules"], actor=who.name)
        audit.record("decision.evaluated", actor=who.name, decision=key,
                     definition_key=rec["definition_key"], version=rec["definition_version"],
                     inputs=rec["inputs"], outputs=rec["outputs"],
                     matched_rules=rec["matched_rules"])
    return {"decision": key, "definition_key": rec["definition_key"],
            "version": rec["definition_version"], "outputs": rec["outputs"],
            "matched_rules": rec["matched_rules"], "warnings": rec.get("warnings", [])}
