"""What the database says about the service's work right now, for ``/metrics``.

Read at scrape time (so every HTTP process and every worker reports the same figures): cases
opened and closed by type, open tasks by candidate group and age band, SLA breaches, the job
queue's depth and lag (timers included), open incidents and the audit chain's length. A few
grouped, indexed counts; nothing here changes anything.
"""
from __future__ import annotations

import datetime as dt

import peewee as pw

from ..store import AuditHead, Case, Incident, Instance, Job, Task, TaskCandidate, utcnow
from .kpis import AGE_BANDS

OPEN_TASK = ("open", "claimed")


def snapshot(now: dt.datetime | None = None) -> dict:
    now = now or utcnow()
    return {"cases_opened": _cases_opened(), "cases_closed": _cases_closed(),
            "open_tasks": _open_tasks(now), "sla_breaches": _sla_breaches(now),
            "jobs": _jobs(now), "open_incidents": _incidents(),
            "audit_chain_length": _audit_length()}


def _cases_opened() -> dict:
    return {kind: n for kind, n in Case.select(Case.type, pw.fn.COUNT(Case.id))
            .group_by(Case.type).tuples()}


def _cases_closed() -> dict:
    """``{(type, status): n}`` for closed cases (completed or cancelled)."""
    return {(kind, status): n for kind, status, n in
            Case.select(Case.type, Case.status, pw.fn.COUNT(Case.id))
            .where(Case.closed_at.is_null(False)).group_by(Case.type, Case.status).tuples()}


def _open_tasks(now) -> dict:
    """``{(group, age band): n}`` over the open tasks' candidate groups."""
    out: dict[tuple[str, str], int] = {}
    query = (Task.select(TaskCandidate.name, Task.created_at).join(TaskCandidate)
             .where(Task.status.in_(OPEN_TASK), TaskCandidate.kind == "group").tuples())
    for group, created in query:
        age = (now - created).total_seconds() / 3600
        band = next(label for label, limit in AGE_BANDS if limit is None or age < limit)
        out[(group, band)] = out.get((group, band), 0) + 1
    return out


def _sla_breaches(now) -> dict:
    """``{(case type, state): n}``: tasks open past their due time (``open``), and tasks
    completed after it (``completed``)."""
    out: dict[tuple[str, str], int] = {}
    overdue = (Task.select(Task.case_type, pw.fn.COUNT(Task.id))
               .where(Task.status.in_(OPEN_TASK), Task.due_at < now).group_by(Task.case_type))
    for kind, n in overdue.tuples():
        out[(kind, "open")] = n
    late = (Task.select(Task.case_type, pw.fn.COUNT(Task.id))
            .where(Task.status == "completed", Task.due_at.is_null(False),
                   Task.completed_at > Task.due_at).group_by(Task.case_type))
    for kind, n in late.tuples():
        out[(kind, "completed")] = n
    return out


def _jobs(now) -> dict:
    """``{kind: (pending, due, lag seconds)}``: pending jobs, those due now, and how long the
    oldest due one has waited; waiting timers count as kind ``timer``."""
    out = {}
    for kind, pending in (Job.select(Job.kind, pw.fn.COUNT(Job.id))
                          .where(Job.status == "pending").group_by(Job.kind).tuples()):
        out[kind] = [pending, 0, 0.0]
    due_jobs = (Job.select(Job.kind, pw.fn.COUNT(Job.id), pw.fn.MIN(Job.due_at))
                .where(Job.status == "pending", Job.due_at <= now).group_by(Job.kind).tuples())
    for kind, due, oldest in due_jobs:
        out.setdefault(kind, [due, 0, 0.0])[1:] = [due, _age(now, oldest)]
    timers = (Instance.select(pw.fn.COUNT(Instance.id)).where(Instance.next_due_at.is_null(False))
              .scalar() or 0)
    due_timers = (Instance.select(pw.fn.COUNT(Instance.id), pw.fn.MIN(Instance.next_due_at))
                  .where(Instance.next_due_at <= now).tuples().first())
    if timers or (due_timers and due_timers[0]):
        out["timer"] = [timers, due_timers[0] or 0, _age(now, due_timers[1])]
    return {kind: tuple(v) for kind, v in out.items()}


def _age(now, moment) -> float:
    if moment is None:
        return 0.0
    # MIN() comes back raw: text on SQLite, a naive UTC datetime on PostgreSQL.
    moment = Job.due_at.python_value(moment)
    return max((now - moment).total_seconds(), 0.0)


def _incidents() -> dict:
    return {kind: n for kind, n in Incident.select(Incident.kind, pw.fn.COUNT(Incident.id))
            .where(Incident.status == "open").group_by(Incident.kind).tuples()}


def _audit_length() -> int:
    head = AuditHead.get_or_none(AuditHead.id == 1)
    return int(head.seq) if head else 0


__all__ = ["snapshot"]
