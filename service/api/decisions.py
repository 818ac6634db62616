"""/api/v1/decisions/{key}/evaluate: evaluate a deployed decision with typed JSON inputs."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask import request
from flask_smorest import Blueprint

from .. import audit, decision_port, definitions
from ..errors import ValidationFailed
from ..store import DecisionRecord, atomic
from .auth import current

blp = Blueprint("decisions", __name__, url_prefix="/api/v1/decisions",
                description="Evaluate deployed DMN decisions")


def _typed(name: str, value):
    """JSON has no dates or durations: ``{"type": "date", "value": "2026-01-31"}`` gives one."""
    if isinstance(value, dict) and set(value) == {"type", "value"}:
        kind, raw = value["type"], value["value"]
        try:
            if kind == "date":
                return dt.date.fromisoformat(raw)
            if kind == "time":
                return dt.time.fromisoformat(raw)
            if kind in ("datetime", "date and time"):
                return dt.datetime.fromisoformat(raw)
            if kind in ("duration", "days and time duration", "years and months duration"):
                from ..decisions.feel import compile_expression
                return compile_expression(f'duration("{raw}")').evaluate({})
            if kind == "number":
                return Decimal(str(raw))
        except (ValueError, TypeError, InvalidOperation) as exc:
            raise ValidationFailed(f"input {name!r}: {raw!r} is not a valid {kind}",
                                   field=name) from exc
        raise ValidationFailed(f"input {name!r}: unknown type {kind!r}", field=name)
    return value


@blp.route("/<key>/evaluate", methods=["POST"])
def evaluate(key):
    """Evaluate decision `key` (newest version, or `?version=N` of its DMN definition)."""
    who = current()
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("inputs", {}), dict):
        raise ValidationFailed("send {\"inputs\": {...}}", field="inputs")
    inputs = {k: _typed(k, v) for k, v in body.get("inputs", {}).items()}
    row = definitions.decision_definition(key)
    version = request.args.get("version", type=int)
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
