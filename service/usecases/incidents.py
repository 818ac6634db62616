"""Incidents: list them, read one, and resume what one stopped once its cause is fixed.

Incidents open when a failure is final (see :mod:`service.domain.incidents`): an engine run
that failed its last retry, an outbox delivery that failed its last attempt, a timer that could
not fire, an external task its worker failed with no retries left. :func:`retry`
(``POST /incidents/{id}/retry``) resumes any: an engine incident runs the failed task again
now, in the request; an outbox incident re-queues its job with a fresh retry budget; an
external-task incident offers the task to workers again with one retry. The incident is
resolved either way; if the new attempt fails for good, a new incident opens, so the history
of attempts stays readable.

:func:`run_retry` is the worker's half: it reruns the failed task of a due ``retry`` job.
"""
from __future__ import annotations

import datetime as dt

from ..domain import definitions
from ..domain.incidents import ACTOR, OPEN, RESOLVED, RETRY_KIND, resolve
from ..errors import Conflict, EngineFailure, Forbidden, NotFound, StaleInstance
from ..policy import Identity, visible_incidents
from ..store import Case, Incident, Instance, Job, jobs, paging, utcnow

EXTERNAL = "external"     # an external task failed by its worker with no retries left
from . import external_tasks
from .shapes import incident_view
from .unit_of_work import UnitOfWork


def _get(who: Identity, incident_id: int) -> Incident:
    row = visible_incidents(who).where(Incident.id == incident_id).first()
    if row is None:
        raise NotFound(f"incident {incident_id} not found", incident=incident_id)
    return row


def read(who: Identity, incident_id: int) -> dict:
    return incident_view(_get(who, incident_id))


def listing(who: Identity, *, status: str | None = OPEN, case_id: int | None = None,
            cursor: str | None = None, limit: int | None = None) -> dict:
    """Incidents the caller may see, newest first (keyset pagination)."""
    query = visible_incidents(who)
    if status:
        query = query.where(Incident.status == status)
    if case_id is not None:
        query = query.where(Incident.case == case_id)
    return paging.by_id(query, Incident.id, cursor=cursor, limit=limit, render=incident_view)


def _may_retry(who: Identity, case: Case) -> bool:
    if who.is_admin:
        return True
    if who.is_auditor:
        return False
    return bool(who.groups & set(definitions.case_type(case.type).cancel_groups))


def retry(who: Identity, incident_id: int, *, config, clock=utcnow) -> dict:
    """Resume what an incident stopped, after its cause was fixed (see the module docstring)."""
    incident = _get(who, incident_id)
    case = Case.get_by_id(incident.case_id)
    if not _may_retry(who, case):
        raise Forbidden(f"{who.name} may not retry incidents of {case.type} cases")
    if incident.status != OPEN:
        raise Conflict(f"incident {incident.id} is {incident.status}", incident=incident.id,
                       status=incident.status)
    uow = UnitOfWork(who.name, config=config, clock=clock)
    now = clock()
    if incident.kind == EXTERNAL:
        # A worker failed the external task with no retries left: offer it to workers again.
        with uow.writing():
            resolve(uow.events, incident, case, actor=who.name, now=now, action="retries_set")
            external_tasks.retry_incident(uow, instance_id=incident.instance_id,
                                          element_id=incident.element_id, now=now)
    elif incident.kind == "outbox" and incident.job_id is not None:
        with uow.writing():
            resolve(uow.events, incident, case, actor=who.name, now=now, action="requeued",
                    job=incident.job_id)
            jobs.requeue(incident.job_id, now=now)
    else:
        _rerun(uow, incident, case, now)
    return incident_view(Incident.get_by_id(incident.id))


def _rerun(uow: UnitOfWork, incident: Incident, case: Case, now) -> None:
    """Run the failed engine task again now; the save records what happened next."""
    row = Instance.get_by_id(incident.instance_id)
    try:
        process = uow.load(row)
    except EngineFailure as exc:
        # The cause is not fixed (the state cannot be read): the incident stays open.
        raise Conflict(f"incident {incident.id} cannot be retried yet: {exc.detail}",
                       incident=incident.id) from exc
    inst = process.inst
    if inst.status == "failed":
        inst.retry()
        resumed = True
    else:
        inst.fire_due_timers(now)
        resumed = False
    with uow.writing():
        resolve(uow.events, incident, case, actor=uow.actor, now=now, action="rerun",
                resumed=resumed)
        if incident.job_id is not None:
            # A fresh retry budget if this run fails again (on_failure restarts a done job).
            (Job.update(status=jobs.DONE, done_at=now)
             .where(Job.id == incident.job_id, Job.kind == RETRY_KIND).execute())
        uow.save(case, process, row=row)


def claim_retries(*, owner: str, now: dt.datetime, limit: int, lease: dt.timedelta):
    """Lease up to ``limit`` due retry jobs to ``owner``."""
    return jobs.claim([RETRY_KIND], owner=owner, now=now, limit=limit, lease=lease)


def run_retry(job: Job, *, now: dt.datetime, config, clock) -> str:
    """Rerun the failed task of a claimed retry job (the worker's half of ``on_failure``)."""
    uow = UnitOfWork(ACTOR, config=config, clock=clock)
    row = Instance.get_or_none(Instance.id == job.instance_id)
    if row is None or row.status != "failed":
        with uow.writing():
            jobs.finish(job, now=now)
        return "skipped"
    case = Case.get_by_id(row.case_id)
    process = uow.load(row)
    inst = process.inst
    if inst.status != "failed":          # the row said failed, the state does not: nothing to do
        with uow.writing():
            jobs.finish(job, now=now)
        return "skipped"
    inst.retry()
    try:
        with uow.writing():
            uow.record("engine.retried", case_id=case.id, instance_id=row.id,
                       element_id=(job.payload or {}).get("element_id"), attempt=job.attempts)
            # Still pending and ours while saving: if the task fails again, on_failure (inside
            # save) re-arms this same job, found by its key, with the next attempt's due time.
            uow.save(case, process, row=row)
            if inst.status != "failed":
                jobs.finish(job, now=now)
    except StaleInstance:
        with UnitOfWork(ACTOR).writing():
            jobs.release(job)
        return "stale"
    return inst.status


__all__ = ["OPEN", "RESOLVED", "claim_retries", "listing", "read", "retry", "run_retry"]
