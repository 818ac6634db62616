"""Incidents: work that failed for good and waits for a person, and the retries before that.

Two things can fail after a case was started:

* **an engine run** (an inline connector of a service task raised, a script broke): the instance
  status is ``failed``. :func:`on_failure` (called from ``instances.save``) schedules a
  ``job`` of kind ``retry`` with exponential backoff while the error is retryable and attempts
  remain; the worker's :func:`run_retry` reloads the instance and asks the engine to run the
  failed task again. After the last attempt an incident opens (status, message, the task at
  fault) and the case status becomes ``incident``.
* **an outbox delivery** (:mod:`service.outbox`): after its last attempt the job is ``failed``
  and an incident of kind ``outbox`` points at it.

:func:`retry` (``POST /incidents/{id}/retry``) resumes either once the cause is fixed: an engine
incident runs the failed task again now, in the request; an outbox incident re-queues its job
with a fresh retry budget. The incident is resolved either way; if the new attempt fails for
good, a new incident opens, so the history of attempts stays readable.
"""
from __future__ import annotations

import datetime as dt
import logging

from . import audit, jobs, pagination
from .audit import Event
from .errors import (Conflict, EngineFailure, Forbidden, NotFound, StaleInstance,
                     ValidationFailed)
from .policy import Identity
from .store import Case, Incident, Instance, Job, atomic, utcnow

log = logging.getLogger(__name__)

ACTOR = "worker"
RETRY_KIND = "retry"
OPEN, RESOLVED = "open", "resolved"
RETRY_ATTEMPTS = 3
RETRY_BACKOFF = jobs.Backoff(base=dt.timedelta(seconds=30))


# -- opening -------------------------------------------------------------------------------

def open_incident(*, case_id: int, instance_id: int, kind: str, message: str,
                  element_id: str | None = None, job_id: int | None = None,
                  now: dt.datetime | None = None) -> Incident:
    """Open an incident and set the case status, in the caller's transaction."""
    now = now or utcnow()
    with atomic():
        row = Incident.create(case=case_id, instance=instance_id, kind=kind, job=job_id,
                              element_id=element_id, message=message[:4000], created_at=now)
        (Case.update(status="incident", updated_at=now)
         .where(Case.id == case_id, Case.status == "open").execute())
        audit.record("incident.opened", actor=ACTOR, case_id=case_id, instance_id=instance_id,
                     incident=row.id, incident_kind=kind, element_id=element_id, message=message,
                     job=job_id)
    return row


def failure_of(inst) -> tuple[str | None, str, bool]:
    """(element at fault, message, retryable) of a failed engine instance."""
    failure = getattr(inst, "failure", None)
    if callable(failure):
        failure = failure()
    extra = getattr(failure, "extra", None) or {}
    element = extra.get("element") or getattr(failure, "element_id", None)
    message = str(getattr(failure, "detail", None) or failure or "engine failure")
    retryable = bool(extra.get("retryable", getattr(failure, "retryable", False)))
    return element, message, retryable


def retry_key(instance_id: int, element_id: str | None) -> str:
    return f"retry:{instance_id}:{element_id or '-'}"


def on_failure(case: Case, row: Instance, inst, *, now: dt.datetime, events: list,
               max_attempts: int = RETRY_ATTEMPTS, backoff: jobs.Backoff = RETRY_BACKOFF) -> str:
    """Decide what a failed engine run becomes: a scheduled retry or an incident.

    Call it inside the unit of work that saved the failed state (``instances.save``). Returns
    ``"retry"`` or ``"incident"``. The retry job for (instance, element) is reused across
    attempts, so ``attempts`` on it counts the failures of that task.
    """
    element, message, retryable = failure_of(inst)
    key = retry_key(row.id, element)
    job = Job.get_or_none(Job.idempotency_key == key)
    attempts = (job.attempts if job is not None and job.status == jobs.PENDING else 0)
    if retryable and attempts < max_attempts - 1:
        due = now + backoff.delay(attempts + 1)
        if job is None:
            Job.insert(kind=RETRY_KIND, instance=row.id, case=case.id, due_at=due,
                       payload={"element_id": element, "error": message},
                       idempotency_key=key, max_attempts=max_attempts, last_error=message,
                       created_at=now).execute()
        else:
            (Job.update(status=jobs.PENDING, due_at=due, done_at=None, last_error=message,
                        locked_by=None, locked_until=None,
                        attempts=attempts, max_attempts=max_attempts,
                        payload={"element_id": element, "error": message})
             .where(Job.id == job.id).execute())
        events.append(Event("engine.retry_scheduled", ACTOR, case.id, row.id,
                            {"element_id": element, "error": message, "attempt": attempts + 1,
                             "max_attempts": max_attempts, "next_attempt_at": due}))
        return "retry"
    if job is not None:
        (Job.update(status=jobs.FAILED, done_at=now, last_error=message, locked_by=None,
                    locked_until=None).where(Job.id == job.id).execute())
    incident = Incident.create(case=case.id, instance=row.id, kind="engine", element_id=element,
                               message=message[:4000], created_at=now,
                               job=job.id if job is not None else None)
    Case.update(status="incident", updated_at=now).where(Case.id == case.id).execute()
    case.status = "incident"
    events.append(Event("incident.opened", ACTOR, case.id, row.id,
                        {"incident": incident.id, "incident_kind": "engine", "element_id": element,
                         "message": message, "attempts": attempts + 1}))
    return "incident"


# -- reading -------------------------------------------------------------------------------

def incident_view(row: Incident) -> dict:
    case = row.case
    return {"id": row.id, "case_id": row.case_id, "case_type": case.type,
            "case_status": case.status, "instance_id": row.instance_id, "kind": row.kind,
            "element_id": row.element_id, "message": row.message, "status": row.status,
            "job_id": row.job_id,
            "created_at": row.created_at.isoformat() if row.created_at else None,
            "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None}


def _visible(who: Identity):
    from .cases import visible_cases
    query = Incident.select(Incident, Case).join(Case)
    if who.is_admin or who.is_auditor:
        return query
    return query.where(Incident.case.in_(visible_cases(who).select(Case.id)))


def get(who: Identity, incident_id: int) -> Incident:
    row = _visible(who).where(Incident.id == incident_id).first()
    if row is None:
        raise NotFound(f"incident {incident_id} not found", incident=incident_id)
    return row


def listing(who: Identity, *, status: str | None = OPEN, case_id: int | None = None,
            cursor: str | None = None, limit: int | None = None) -> dict:
    """Incidents the caller may see, newest first (keyset pagination)."""
    limit = pagination.clamp(limit)
    query = _visible(who)
    if status:
        query = query.where(Incident.status == status)
    if case_id is not None:
        query = query.where(Incident.case == case_id)
    after = pagination.decode(cursor)
    if after is not None:
        try:
            query = query.where(Incident.id < int(after))
        except (TypeError, ValueError) as exc:
            raise ValidationFailed("cursor is not valid", field="cursor") from exc
    rows = list(query.order_by(Incident.id.desc()).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [incident_view(r) for r in rows],
            "next": pagination.encode(rows[-1].id) if more else None}


# -- resolving -----------------------------------------------------------------------------

def _may_retry(who: Identity, case: Case) -> bool:
    if who.is_admin:
        return True
    if who.is_auditor:
        return False
    from . import definitions
    return bool(who.groups & set(definitions.case_type(case.type).cancel_groups))


def retry(who: Identity, incident_id: int, *, config, clock=utcnow) -> dict:
    """Resume what an incident stopped, after its cause was fixed (see the module docstring)."""
    incident = get(who, incident_id)
    case = Case.get_by_id(incident.case_id)
    if not _may_retry(who, case):
        raise Forbidden(f"{who.name} may not retry incidents of {case.type} cases")
    if incident.status != OPEN:
        raise Conflict(f"incident {incident.id} is {incident.status}", incident=incident.id,
                       status=incident.status)
    now = clock()
    if incident.kind == "outbox" and incident.job_id is not None:
        with atomic():
            _resolve(who, incident, case, now, action="requeued", job=incident.job_id)
            jobs.requeue(incident.job_id, now=now)
    else:
        _rerun(who, incident, case, now, config=config, clock=clock)
    return incident_view(Incident.get_by_id(incident.id))


def _resolve(who: Identity, incident: Incident, case: Case, now, **detail) -> None:
    changed = (Incident.update(status=RESOLVED, resolved_at=now)
               .where(Incident.id == incident.id, Incident.status == OPEN).execute())
    if changed != 1:
        raise Conflict(f"incident {incident.id} was resolved by another request",
                       incident=incident.id)
    others = (Incident.select().where(Incident.case == case.id, Incident.status == OPEN,
                                      Incident.id != incident.id).exists())
    if case.status == "incident" and not others:
        Case.update(status="open", updated_at=now).where(Case.id == case.id).execute()
        case.status = "open"
    audit.record("incident.resolved", actor=who.name, case_id=case.id,
                 instance_id=incident.instance_id, incident=incident.id,
                 incident_kind=incident.kind,
                 element_id=incident.element_id, **detail)


def _rerun(who: Identity, incident: Incident, case: Case, now, *, config, clock) -> None:
    """Run the failed engine task again now; the save records what happened next."""
    from . import instances
    row = Instance.get_by_id(incident.instance_id)
    try:
        inst, run = instances.load(row, clock=clock,
                                   script_cpu_seconds=config.script_cpu_seconds)
    except EngineFailure as exc:
        # The cause is not fixed (the state cannot be read): the incident stays open.
        raise Conflict(f"incident {incident.id} cannot be retried yet: {exc.detail}",
                       incident=incident.id) from exc
    resumed = _engine_retry(inst, now)
    with atomic():
        _resolve(who, incident, case, now, action="rerun", resumed=resumed)
        if incident.job_id is not None:
            # A fresh retry budget if this run fails again (on_failure restarts a done job).
            (Job.update(status=jobs.DONE, done_at=now)
             .where(Job.id == incident.job_id, Job.kind == RETRY_KIND).execute())
        instances.save(case, inst, run, actor=who.name, row=row)


def _engine_retry(inst, now) -> bool:
    """Ask the engine to run its failed task again; False when nothing was failed."""
    if getattr(inst, "status", None) != "failed":
        if hasattr(inst, "fire_due_timers"):
            inst.fire_due_timers(now)
        return False
    inst.retry()
    return True


def run_retry(job: Job, *, now: dt.datetime, config, clock) -> str:
    """The worker's half of :func:`on_failure`: rerun the failed task of a claimed retry job."""
    from . import instances
    row = Instance.get_or_none(Instance.id == job.instance_id)
    if row is None or row.status != "failed":
        with atomic():
            jobs.finish(job, now=now)
        return "skipped"
    case = Case.get_by_id(row.case_id)
    inst, run = instances.load(row, clock=clock, script_cpu_seconds=config.script_cpu_seconds)
    if inst.status != "failed":          # the row said failed, the state does not: nothing to do
        with atomic():
            jobs.finish(job, now=now)
        return "skipped"
    inst.retry()
    try:
        with atomic():
            audit.record("engine.retried", actor=ACTOR, case_id=case.id, instance_id=row.id,
                         element_id=(job.payload or {}).get("element_id"), attempt=job.attempts)
            # Still pending and ours while saving: if the task fails again, on_failure (inside
            # save) re-arms this same job, found by its key, with the next attempt's due time.
            instances.save(case, inst, run, actor=ACTOR, row=row)
            if inst.status != "failed":
                jobs.finish(job, now=now)
    except StaleInstance:
        with atomic():
            jobs.release(job)
        return "stale"
    return inst.status


__all__ = ["OPEN", "RESOLVED", "RETRY_KIND", "get", "incident_view", "listing", "on_failure",
           "open_incident", "retry", "retry_key", "run_retry"]
