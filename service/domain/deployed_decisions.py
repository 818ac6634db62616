"""Deployed DMN, evaluated by our FEEL/DMN engine: the engine's decision port and the API's.

Parsed models are cached per definition row (rows are immutable). Every evaluation returns the
record the caller writes to ``decision_record``: inputs, outputs, matched rules, definition key
and version.
"""
from __future__ import annotations

from functools import lru_cache

from ..decisions import DecisionModel, DecisionNotFound, DmnError, NameNotProvided
from ..engine.ports import DecisionOutcome
from ..errors import NotFound, ValidationFailed
from ..sandbox import BudgetExceeded
from ..store import Definition, to_jsonable
from ..telemetry import DECISION_LATENCY, DECISIONS, timed
from . import definitions


@lru_cache(maxsize=256)
def _model(definition_id: int, source: str, imported: tuple[str, ...]):
    # Strict names: a name no input or required decision provides is an error naming the
    # decision and the name, never a silent null (the TCK runner alone is lenient).
    return DecisionModel.parse(source.encode("utf-8"), imports=imported, strict_names=True)


def model_for(row: Definition):
    """The parsed model of a DMN row, with the exact versions of what it imports."""
    imported = tuple(definitions.get("dmn", ref["key"], ref["version"]).source
                     for ref in (row.meta or {}).get("imports", []))
    return _model(row.id, row.source, imported)


def evaluate(row: Definition, decision: str, inputs: dict) -> DecisionOutcome:
    """Evaluate ``decision`` of DMN definition ``row``; 404 for an unknown decision, 422 when
    the evaluation fails."""
    model = model_for(row)
    outcome = "error"
    try:
        with timed(DECISION_LATENCY, row.key):
            result = model.evaluate(decision, inputs)
        outcome = "ok"
    except NameNotProvided as exc:
        raise ValidationFailed(f"decision {exc.decision!r} reads {exc.name!r}, which no input "
                               "or required decision provides", decision=exc.decision,
                               field=exc.name) from exc
    except DecisionNotFound as exc:
        raise NotFound(f"decision {decision!r} is not in {row.key} v{row.version}",
                       decision=decision) from exc
    except DmnError as exc:
        raise ValidationFailed(f"decision {decision!r} failed: {exc}", decision=decision) from exc
    except BudgetExceeded as exc:
        # The table's own expressions ran too long or built too much (an analyst's FEEL
        # loop, say): an error naming the decision, never a null outcome.
        raise ValidationFailed(f"decision {decision!r} was stopped: {exc.message}",
                               decision=decision, limit=exc.kind) from exc
    finally:
        DECISIONS.labels(row.key, outcome).inc()
    value = to_jsonable(result.value)
    record = {"definition_key": row.key, "definition_version": row.version,
              "decision": decision, "inputs": to_jsonable(_used_inputs(model, decision, inputs)),
              "outputs": value,
              "matched_rules": to_jsonable(result.matched_rules),
              "warnings": [str(w) for w in getattr(result, "warnings", [])][:20]}
    return DecisionOutcome(value, record, outputs=model.output_names(decision))


def _used_inputs(model, decision: str, inputs: dict) -> dict:
    """Record the inputs the decision reads, not the whole process data."""
    try:
        names = model.inputs_of(decision)
    except DmnError:         # a name we cannot resolve: record everything rather than guess
        return inputs
    return {k: inputs.get(k) for k in names} if names else inputs


class DeployedDecisions:
    """The engine's decision port: ``evaluate(decision_ref, inputs)`` on the newest deployed DMN
    that defines the decision, or the version the task's binding names (``caller`` is the
    calling process's definition row, for the ``deployment`` binding). The record names the
    version used and the binding."""

    def __init__(self, caller: Definition | None = None):
        self.caller = caller

    def evaluate(self, decision_ref: str, inputs: dict, binding=None) -> DecisionOutcome:
        wanted = binding.as_dict() if binding is not None else None
        row = definitions.bound_decision(decision_ref, wanted, self.caller)
        outcome = evaluate(row, decision_ref, inputs)
        if wanted is not None:
            outcome.record["binding"] = wanted
        return outcome
