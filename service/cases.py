"""Cases: intake (validate, score, start the process), reading, the timeline and cancellation.

Intake is one unit of work: the idempotency row, the case, the instance, its inbox rows, the
decision records and the audit events commit together or not at all.
"""
from __future__ import annotations

import peewee

from . import casetypes, definitions, idempotency, instances, pagination, risk
from .audit import Event
from .errors import Forbidden, NotFound, ValidationFailed
from .policy import Identity
from .store import (AuditEvent, Case, DecisionRecord, Definition, Task, TaskCandidate, atomic,
                    rows, utcnow)
from .views import case_view

def submit(who: Identity, body: dict, *, idempotency_key: str | None = None, config) -> tuple[int, dict]:
    """Create a case and run its process to the first wait state. Returns (status, response)."""
    if who.is_auditor and not who.is_admin:
        raise Forbidden("auditors cannot submit cases")
    idempotency.check_key(idempotency_key)
    stored = idempotency.replay(who, "cases", idempotency_key, body)
    if stored:
        return stored
    case_type = body["type"]
    data = body.get("data") or {}
    external_ref = body.get("external_ref")
    definition = definitions.latest("bpmn", case_type)
    if definition is None:
        raise ValidationFailed(f"unknown case type {case_type!r}: no process with that id is "
                               "deployed", field="type")
    ctype = definitions.case_type(case_type)
    casetypes.validate(ctype.schema, data, what="data")

    variables = dict(data)
    score = risk.score_case(ctype, data, models_dir=config.models_dir) if ctype.scoring else None
    if score is not None:
        variables[score.variable] = score.probability
    inst, run = instances.start(definition, variables,
                                script_cpu_seconds=config.script_cpu_seconds)
    try:
        with atomic():
            claimed = idempotency.claim(who, "cases", idempotency_key, body) \
                if idempotency_key else None
            now = utcnow()
            values = dict(type=case_type, definition=definition.id, external_ref=external_ref,
                          submitted_by=who.name, data=data, status="open",
                          priority=ctype.priority_of(inst.data),
                          score=score.probability if score else None,
                          created_at=now, updated_at=now)
            case = Case(id=rows.insert(Case, **values), **values)
            case.definition = definition
            events = [Event("case.submitted", who.name, case.id, None,
                            {"type": case_type, "definition_version": definition.version,
                             "external_ref": external_ref, "data": data})]
            if score is not None:
                rows.insert(DecisionRecord, case=case.id, kind="score", inputs=score.features,
                            outputs={"probability": score.probability},
                            model_name=score.model, model_version=score.version,
                            score=score.probability, contributions=score.contributions,
                            shadow=score.shadow, actor="scoring", created_at=now)
                events.append(Event("case.scored", "scoring", case.id, None,
                                    {"model": score.model, "version": score.version,
                                     "probability": score.probability,
                                     "features": score.features,
                                     "contributions": score.contributions,
                                     "shadow": score.shadow}))
            row = instances.save(case, inst, run, actor=who.name, definition=definition,
                                 extra_events=events, new_case=True)
            response = case_view(case, tasks=row.created_tasks)
            if claimed is not None:
                idempotency.remember(claimed, 201, response)
    except peewee.IntegrityError:
        # A concurrent request with the same key committed first: answer what it answered.
        stored = idempotency.replay(who, "cases", idempotency_key, body)
        if stored:
            return stored
        raise
    return 201, response


def _open_tasks(case: Case):
    return list(Task.select().where(Task.case == case, Task.status.in_(("open", "claimed")))
                .order_by(Task.id))


def visible_cases(who: Identity):
    # The definition is joined so views show its version without a query per case.
    query = Case.select(Case, Definition).join(Definition, peewee.JOIN.LEFT_OUTER)
    if who.is_admin or who.is_auditor:
        return query
    mine = Case.submitted_by == who.name
    via_tasks = Case.id.in_(
        Task.select(Task.case).join(TaskCandidate).where(
            ((TaskCandidate.kind == "group") & TaskCandidate.name.in_(list(who.groups) or [""]))
            | ((TaskCandidate.kind == "user") & (TaskCandidate.name == who.name))))
    touched = Case.id.in_(Task.select(Task.case).where(
        (Task.completed_by == who.name) | (Task.claimed_by == who.name)))
    return query.where(mine | via_tasks | touched)


def get(who: Identity, case_id: int) -> Case:
    case = visible_cases(who).where(Case.id == case_id).first()
    if case is None:
        raise NotFound(f"case {case_id} not found", case=case_id)
    return case


def view(who: Identity, case_id: int) -> dict:
    case = get(who, case_id)
    out = case_view(case, tasks=_open_tasks(case))
    out["decisions"] = [_decision_view(d) for d in
                        DecisionRecord.select().where(DecisionRecord.case == case)
                        .order_by(DecisionRecord.id)]
    out["incidents"] = [{"id": i.id, "element_id": i.element_id, "message": i.message,
                         "status": i.status} for i in case.incidents]
    return out


def _decision_view(d: DecisionRecord) -> dict:
    return {"id": d.id, "kind": d.kind, "definition_key": d.definition_key,
            "definition_version": d.definition_version, "inputs": d.inputs,
            "outputs": d.outputs, "matched_rules": d.matched_rules, "model": d.model_name,
            "model_version": d.model_version, "score": d.score,
            "contributions": d.contributions, "created_at": d.created_at.isoformat()}


def listing(who: Identity, *, type=None, status=None, external_ref=None, cursor=None,
            limit=None) -> dict:
    limit = pagination.clamp(limit)
    query = visible_cases(who)
    if type:
        query = query.where(Case.type == type)
    if status:
        query = query.where(Case.status == status)
    if external_ref:
        query = query.where(Case.external_ref == external_ref)
    after = pagination.decode(cursor)
    if after is not None:
        query = query.where(Case.id < int(after))
    rows = list(query.order_by(Case.id.desc()).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [case_view(c) for c in rows],
            "next": pagination.encode(rows[-1].id) if more else None}


def timeline(who: Identity, case_id: int) -> dict:
    case = get(who, case_id)
    events = AuditEvent.select().where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)
    return {"items": [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "kind": e.kind,
                       "detail": e.detail} for e in events], "next": None}


def cancel(who: Identity, case_id: int, reason: str, *, config) -> dict:
    if not reason or not reason.strip():
        raise ValidationFailed("a cancellation needs a reason", field="reason")
    case = get(who, case_id)
    ctype = definitions.case_type(case.type)
    if not (who.is_admin or who.groups & set(ctype.cancel_groups)):
        raise Forbidden(f"cancelling a {case.type} case needs one of the groups "
                        f"{', '.join(ctype.cancel_groups)}")
    if case.status not in ("open", "incident"):
        raise ValidationFailed(f"case {case.id} is {case.status} and cannot be cancelled",
                               field="status")
    row = case.instances.first()
    inst, run = instances.load(row, script_cpu_seconds=config.script_cpu_seconds)
    inst.cancel()
    now = utcnow()
    with atomic():
        cancelled = Event("case.cancelled", who.name, case.id, row.id,
                          {"reason": reason, "before": {"status": case.status},
                           "after": {"status": "cancelled"}})
        instances.save(case, inst, run, actor=who.name, row=row, extra_events=[cancelled])
        Case.update(status="cancelled", cancel_reason=reason, closed_at=now, updated_at=now).where(
            Case.id == case.id).execute()
        Task.update(status="cancelled").where(Task.case == case,
                                              Task.status.in_(("open", "claimed"))).execute()
    return view(who, case.id)
