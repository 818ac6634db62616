"""Evaluating a deployed decision on request: typed JSON inputs in, a decision record out."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from ..decisions.feel import compile_expression
from ..domain import definitions, shadow_decisions
from ..domain.deployed_decisions import evaluate as evaluate_deployed
from ..errors import Forbidden, ValidationFailed
from ..policy import Identity
from ..store import DecisionRecord
from .unit_of_work import UnitOfWork

# A typed number must fit the FEEL number (IEEE 754 decimal128: 34 digits) and come back out
# as JSON: the exponent bound keeps int(value) small when the record is written.
MAX_EXPONENT = 308

TYPES = ("date", "time", "datetime", "date and time", "duration", "days and time duration",
         "years and months duration", "number")


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


def evaluate(who: Identity, key: str, raw_inputs: dict, *, version: int | None = None) -> dict:
    """Evaluate decision ``key`` (newest DMN that defines it, or ``version`` of that DMN)."""
    if who.is_auditor and not who.is_admin:
        raise Forbidden("auditors read decisions; evaluating one writes a decision record")
    if not isinstance(raw_inputs, dict):
        raise ValidationFailed("send {\"inputs\": {...}}", field="inputs")
    inputs = {k: _typed(k, v) for k, v in raw_inputs.items()}
    row = definitions.decision_definition(key)
    if version is not None:
        row = definitions.get("dmn", row.key, version)
    rec = evaluate_deployed(row, key, inputs).record
    shadow = shadow_decisions.evaluate(row.key, key, inputs)
    uow = UnitOfWork(who.name)
    with uow.writing():
        DecisionRecord.create(kind="decision", definition_key=rec["definition_key"],
                              definition_version=rec["definition_version"], element_id=key,
                              inputs=rec["inputs"], outputs=rec["outputs"],
                              matched_rules=rec["matched_rules"], shadow=shadow,
                              actor=who.name)
        uow.record("decision.evaluated", decision=key, definition_key=rec["definition_key"],
                   version=rec["definition_version"], inputs=rec["inputs"],
                   outputs=rec["outputs"], matched_rules=rec["matched_rules"])
    return {"decision": key, "definition_key": rec["definition_key"],
            "version": rec["definition_version"], "outputs": rec["outputs"],
            "matched_rules": rec["matched_rules"], "warnings": rec.get("warnings", [])}


__all__ = ["TYPES", "evaluate"]
