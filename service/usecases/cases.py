"""Cases: open one (from the API, a message start event or a detection rule), read, cancel.

There is one way to open a case, :func:`open_case`: validate the data against the case type,
score it when the case type asks for a model, start the process to its first wait state, and
write the case, its instance, inbox rows, decision and score records and audit events in the
caller's unit of work.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..audit import Event
from ..domain import casetypes, definitions
from ..domain.case_scoring import score_case
from ..errors import Forbidden, NotFound, ValidationFailed
from ..policy import Identity, visible_cases
from ..store import (AuditEvent, Case, DecisionRecord, Definition, Task, paging, rows, utcnow)
from .shapes import case_view, decision_view, incident_summary
from .unit_of_work import IdempotentRequest, UnitOfWork

OPEN_TASK = ("open", "claimed")


@dataclass
class Opened:
    case: Case
    instance_id: int
    tasks: list


def case_definition(case_type: str) -> Definition:
    """The newest process for a case type, or a 422 naming the field."""
    definition = definitions.latest("bpmn", case_type)
    if definition is None:
        raise ValidationFailed(f"unknown case type {case_type!r}: no process with that id is "
                               "deployed", field="type")
    return definition


def open_case(uow: UnitOfWork, definition: Definition, data: dict, *, submitted_by: str,
              external_ref: str | None = None, origin: dict | None = None,
              first_step: Callable | None = None) -> "PendingCase":
    """Validate, score and start a case of ``definition``; write it inside ``uow.writing()``.

    The engine runs here, before the transaction (no lock held); the caller then calls
    :meth:`PendingCase.write` inside ``uow.writing()``. ``origin`` adds detail to the ``case.submitted`` event (the message or
    rule that opened it); ``first_step(inst)`` runs on the new instance before the save (a
    message start event delivers its message).
    """
    ctype = definitions.case_type(definition.key)
    casetypes.validate(ctype.schema, data, what="data")
    variables = dict(data)
    score = score_case(ctype, data, models_dir=uow.config.models_dir) if ctype.scoring else None
    if score is not None:
        variables[score.variable] = score.probability
    # A process whose one start event is a timer starts at once when a case is opened for
    # it (by hand, as Camunda does, or by the worker at a due time): it never waits for its
    # own start timer (the worker's schedule, ``domain.timer_starts``, runs it per due time).
    timer_start = (definition.meta or {}).get("timer_start") or {}
    process = uow.start(definition, variables, initiator=submitted_by,
                        timer_fired=bool(timer_start.get("only")))
    if first_step is not None:
        first_step(process.inst)
    return PendingCase(uow, definition, ctype, data, submitted_by, external_ref, origin, score,
                        process)


class PendingCase:
    """A started, not yet written case: :meth:`write` inside the unit's transaction."""

    def __init__(self, uow, definition, ctype, data, submitted_by, external_ref, origin, score,
                 process):
        self.uow, self.definition, self.ctype, self.data = uow, definition, ctype, data
        self.submitted_by, self.external_ref, self.origin = submitted_by, external_ref, origin
        self.score, self.process = score, process

    def write(self) -> Opened:
        uow, score, now = self.uow, self.score, utcnow()
        values = dict(type=self.definition.key, definition=self.definition.id,
                      external_ref=self.external_ref, submitted_by=self.submitted_by,
                      data=self.data, status="open",
                      priority=self.ctype.priority_of(self.process.inst.data),
                      score=score.probability if score else None, created_at=now, updated_at=now)
        case = Case(id=rows.insert(Case, **values), **values)
        case.definition = self.definition
        uow.events.append(Event("case.submitted", uow.actor, case.id, None,
                                {"type": case.type, "definition_version": self.definition.version,
                                 "external_ref": self.external_ref, "data": self.data,
                                 **(self.origin or {})}))
        if score is not None:
            rows.insert_many(DecisionRecord, [dict(
                case=case.id, kind="score", inputs=score.features,
                outputs={"probability": score.probability}, model_name=score.model,
                model_version=score.version, score=score.probability,
                contributions=score.contributions, shadow=score.shadow,
                actor="scoring", created_at=now)], deferred=True)
            uow.record("case.scored", actor="scoring", case_id=case.id, model=score.model,
                       version=score.version, probability=score.probability,
                       features=score.features, contributions=score.contributions,
                       shadow=score.shadow)
        saved = uow.save(case, self.process, definition=self.definition, new_case=True)
        return Opened(case, saved.row.id, saved.created_tasks)


def submit(who: Identity, body: dict, *, idempotency_key: str | None = None, config,
           clock=utcnow) -> tuple[int, dict]:
    """``POST /cases``: open a case and run its process to the first wait state."""
    if who.is_auditor and not who.is_admin:
        raise Forbidden("auditors cannot submit cases")
    uow = UnitOfWork(who.name, config=config, clock=clock,
                     request=IdempotentRequest(who.name, "cases", idempotency_key, body))
    stored = uow.replayed()
    if stored:
        return stored
    pending = open_case(uow, case_definition(body["type"]), body.get("data") or {},
                        submitted_by=who.name, external_ref=body.get("external_ref"))
    with uow.writing():
        opened = pending.write()
        uow.answer(201, case_view(opened.case, tasks=opened.tasks))
    return uow.result


def _get(who: Identity, case_id: int) -> Case:
    case = visible_cases(who).where(Case.id == case_id).first()
    if case is None:
        raise NotFound(f"case {case_id} not found", case=case_id)
    return case


def require_visible(who: Identity, case_id: int) -> Case:
    """The case, or 404 unless ``who`` may see case ``case_id``."""
    return _get(who, case_id)


def _open_tasks(case: Case) -> list[Task]:
    return list(Task.select().where(Task.case == case, Task.status.in_(OPEN_TASK))
                .order_by(Task.id))


def view(who: Identity, case_id: int) -> dict:
    return _render(_get(who, case_id))


def _render(case: Case) -> dict:
    out = case_view(case, tasks=_open_tasks(case))
    out["decisions"] = [decision_view(d) for d in
                        DecisionRecord.select().where(DecisionRecord.case == case)
                        .order_by(DecisionRecord.id)]
    out["incidents"] = [incident_summary(i) for i in case.incidents]
    return out


def listing(who: Identity, *, type=None, status=None, external_ref=None, cursor=None,
            limit=None) -> dict:
    query = visible_cases(who)
    if type:
        query = query.where(Case.type == type)
    if status:
        query = query.where(Case.status == status)
    if external_ref:
        query = query.where(Case.external_ref == external_ref)
    return paging.by_id(query, Case.id, cursor=cursor, limit=limit, render=case_view)


def timeline(who: Identity, case_id: int) -> dict:
    case = _get(who, case_id)
    events = AuditEvent.select().where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)
    return {"items": [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "kind": e.kind,
                       "detail": e.detail} for e in events], "next": None}


def cancel(who: Identity, case_id: int, reason: str, *, config, clock=utcnow) -> dict:
    if not reason or not reason.strip():
        raise ValidationFailed("a cancellation needs a reason", field="reason")
    case = _get(who, case_id)
    ctype = definitions.case_type(case.type)
    if not (who.is_admin or who.groups & set(ctype.cancel_groups)):
        raise Forbidden(f"cancelling a {case.type} case needs one of the groups "
                        f"{', '.join(ctype.cancel_groups)}")
    if case.status not in ("open", "incident"):
        raise ValidationFailed(f"case {case.id} is {case.status} and cannot be cancelled",
                               field="status")
    uow = UnitOfWork(who.name, config=config, clock=clock)
    row = case.instances.first()
    process = uow.load(row)
    process.inst.cancel()
    now = utcnow()
    with uow.writing():
        uow.record("case.cancelled", case_id=case.id, instance_id=row.id, reason=reason,
                   before={"status": case.status}, after={"status": "cancelled"})
        uow.save(case, process, row=row)
        Case.update(status="cancelled", cancel_reason=reason, closed_at=now, updated_at=now).where(
            Case.id == case.id).execute()
    # Answered without a second visibility check: cancelling withdrew the tasks through which
    # the caller could see the case, and they were allowed to see it when they cancelled it.
    return _render(Case.select(Case, Definition).join(Definition).where(Case.id == case.id).get())


__all__ = ["Opened", "PendingCase", "cancel", "case_definition", "listing", "open_case", "require_visible",
           "submit", "timeline", "view"]
