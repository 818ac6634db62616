"""Shadow decisions: a candidate table evaluated beside the live one, recorded, never acted on.

An analyst sets a candidate DMN file as the shadow of a deployed DMN definition: it is stored as
a definition of kind ``dmn_shadow`` under the same key (immutable versions like every
definition; removing the shadow stores an empty version). While one is set, every live
evaluation of a decision of that key (a business rule task, ``POST /decisions/{key}/evaluate``)
also evaluates the shadow on the same inputs and writes its outcome in the decision record's
``shadow`` column; the process and the caller only ever see the live outcome. The shadow runs in
a small nested budget (a tenth of the operation's) and its faults are recorded, never raised,
so a runaway shadow cannot fail a case. :func:`report` compares the two over the records.
"""
from __future__ import annotations

from ..decisions import DmnError
from ..errors import OmniflowError
from ..sandbox import BudgetExceeded, Limits, bounded
from ..store import DecisionRecord, Definition, paging, to_jsonable
from . import definitions
from .decision_replay import Filters, Tally, rule_ids, plain
from .deployed_decisions import model_for

KIND = "dmn_shadow"
SHADOW_LIMITS = Limits(cpu_seconds=0.1, steps=500_000)


def active(key: str) -> Definition | None:
    """The shadow of DMN definition ``key`` now, or None (none set, or removed)."""
    row = definitions.latest_known(KIND, key)
    if row is None or not (row.meta or {}).get("active"):
        return None
    return row


def evaluate(key: str, decision: str, inputs: dict) -> dict | None:
    """The shadow's outcome for one live evaluation (``None`` when no shadow is set): its
    version, outputs and matched rules, or the error that stopped it."""
    row = active(key)
    if row is None:
        return None
    out = {"version": row.version}
    try:
        with bounded(SHADOW_LIMITS):
            result = model_for(row).evaluate(decision, inputs)
        out["outputs"] = plain(result.value)
        out["matched_rules"] = to_jsonable(result.matched_rules)
    except (OmniflowError, DmnError, BudgetExceeded) as exc:
        out["error"] = str(getattr(exc, "detail", None) or exc)[:500]
    return out


def report(key: str, filters: Filters) -> dict:
    """Live against shadow over the records that carry a shadow outcome, newest first."""
    R = DecisionRecord
    query = R.select(R.id, R.case, R.outputs, R.matched_rules, R.shadow).where(
        (R.kind == "decision") & (R.definition_key == key) & R.shadow.is_null(False))
    if filters.since is not None:
        query = query.where(R.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(R.created_at < filters.until)
    tally, versions, errors = Tally(key), {}, {}
    for chunk in paging.chunks(query.tuples(), R.id, size=2000, limit=filters.limit):
        for record_id, case_id, outputs, matched, shadow in chunk:
            if not isinstance(shadow, dict):
                continue
            versions[shadow.get("version")] = versions.get(shadow.get("version"), 0) + 1
            if "error" in shadow:
                tally.failed += 1
                errors[shadow["error"]] = errors.get(shadow["error"], 0) + 1
                continue
            tally.add(record_id, case_id, outputs, shadow.get("outputs"), rule_ids(matched),
                      rule_ids(shadow.get("matched_rules")))
    answer = tally.to_json()
    answer["compared"] = answer.pop("replayed")
    answer["differed"] = answer.pop("changed")
    answer["differed_share"] = answer.pop("changed_share")
    answer["warnings"] = [{"message": m, "count": c} for m, c in
                          sorted(errors.items(), key=lambda kv: -kv[1])[:20]]
    shadow = active(key)
    answer.update({"key": key, "shadow": {"version": shadow.version} if shadow else None,
                   "shadow_versions": {str(v): n for v, n in versions.items()}})
    return answer


__all__ = ["KIND", "active", "evaluate", "report"]
