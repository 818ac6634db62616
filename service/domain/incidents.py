"""Incident and retry records: what a failure becomes, and resolving it.

Two things can fail after a case was started:

* **an engine run** (an inline connector of a service task raised, a script broke): the instance
  status is ``failed``. :func:`on_failure` schedules a ``job`` of kind ``retry`` with
  exponential backoff while the error is retryable and attempts remain; after the last attempt
  an incident opens (the element at fault, the message) and the case status becomes
  ``incident``.
* **an outbox delivery** or **a timer that cannot fire**: :func:`open_incident` directly.

These functions write in the caller's transaction and add their audit events to the caller's
list; ``usecases.incidents`` answers the API and runs retries.
"""
from __future__ import annotations

import datetime as dt

from ..audit import Event
from ..errors import Conflict
from ..store import Case, Incident, Instance, Job, jobs

ACTOR = "worker"
RETRY_KIND = "retry"
OPEN, RESOLVED = "open", "resolved"
RETRY_ATTEMPTS = 3
RETRY_BACKOFF = jobs.Backoff(base=dt.timedelta(seconds=30))


def open_incident(events: list, *, case_id: int, instance_id: int, kind: str, message: str,
                  now: dt.datetime, element_id: str | None = None,
                  job_id: int | None = None) -> Incident:
    """Open an incident and set the case status (caller's transaction and event list)."""
    row = Incident.create(case=case_id, instance=instance_id, kind=kind, job=job_id,
                          element_id=element_id, message=message[:4000], created_at=now)
    (Case.update(status="incident", updated_at=now)
     .where(Case.id == case_id, Case.status == "open").execute())
    events.append(Event("incident.opened", ACTOR, case_id, instance_id,
                        {"incident": row.id, "incident_kind": kind, "element_id": element_id,
                         "message": message, "job": job_id}))
    return row


def failure_of(inst) -> tuple[str | None, str, bool]:
    """(element at fault, message, retryable) of a failed engine instance."""
    failure = inst.failure
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

    Call it inside the unit of work that saved the failed state. Returns ``"retry"`` or
    ``"incident"``. The retry job for (instance, element) is reused across attempts, so
    ``attempts`` on it counts the failures of that task.
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


def resolve(events: list, incident: Incident, case: Case, *, actor: str, now: dt.datetime,
            **detail) -> None:
    """Mark an open incident resolved; the case is open again when it was its last one."""
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
    events.append(Event("incident.resolved", actor, case.id, incident.instance_id,
                        {"incident": incident.id, "incident_kind": incident.kind,
                         "element_id": incident.element_id, **detail}))


__all__ = ["OPEN", "RESOLVED", "RETRY_KIND", "failure_of", "on_failure", "open_incident",
           "resolve", "retry_key"]
