"""What operations leads measure (DOMAIN.md), for ``GET /kpis`` and the dashboard.

Every figure is computed from the records the service keeps anyway (cases, the inbox, the audit
trail's decision and score records), over a window of days ending now:

* cycle time p50/p90 by case type: ``closed_at - created_at`` of cases completed in the window;
* SLA attainment: human tasks with a due time, completed in the window or still open and
  overdue; met means completed by the due time;
* auto-resolution rate: completed cases of the window that never created a human task;
* escalations: tasks created by an SLA escalation (``escalation`` property) in the window, and
  the share of the window's cases that had one;
* open tasks by candidate group and age band, now;
* model drift: the population stability of each active risk model (the same report as
  ``GET /models/{name}/drift``; it writes an alert once per window, not once per read).

The percentiles are computed in Python over at most :data:`MAX_ROWS` closed cases per type
(the newest); the counts are SQL aggregates.
"""
from __future__ import annotations

import datetime as dt

import peewee as pw

from ..errors import Conflict, Forbidden
from ..policy import Identity
from ..store import Case, Task, TaskCandidate, utcnow
from . import models

MAX_ROWS = 20_000
AGE_BANDS = [("under 1 h", 1), ("1-8 h", 8), ("8-24 h", 24), ("1-3 d", 72), ("over 3 d", None)]


def require_reader(who: Identity) -> None:
    if who.is_client and not who.is_admin:
        raise Forbidden("KPIs are for people; machine clients have no dashboard")


def kpis(who: Identity, *, days: int = 30, case_type: str | None = None, config,
         now: dt.datetime | None = None) -> dict:
    require_reader(who)
    now = now or utcnow()
    since = now - dt.timedelta(days=days)
    types = _case_types(since, case_type)
    return {"window": {"days": days, "since": since.isoformat(), "until": now.isoformat(),
                       "case_type": case_type},
            "cycle_time": [_cycle_time(t, since) for t in types],
            "sla": [_sla(t, since, now) for t in types],
            "auto_resolution": [_auto_resolution(t, since) for t in types],
            "escalations": [_escalations(t, since) for t in types],
            "open_tasks": _open_tasks(now, case_type),
            "model_drift": _drift(config)}


def _case_types(since, only):
    if only:
        return [only]
    rows = (Case.select(Case.type).where(Case.created_at >= since).distinct()
            .order_by(Case.type))
    return [r.type for r in rows]


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    rank = q * (len(values) - 1)      # linear interpolation between closest ranks
    low = int(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _cycle_time(case_type, since) -> dict:
    rows = (Case.select(Case.created_at, Case.closed_at)
            .where(Case.type == case_type, Case.status == "completed",
                   Case.closed_at >= since)
            .order_by(Case.closed_at.desc()).limit(MAX_ROWS))
    hours = [(r.closed_at - r.created_at).total_seconds() / 3600 for r in rows if r.closed_at]
    return {"case_type": case_type, "closed": len(hours),
            "p50_hours": _hours(_percentile(hours, 0.5)),
            "p90_hours": _hours(_percentile(hours, 0.9))}


def _sla(case_type, since, now) -> dict:
    due = Task.select().where(Task.case_type == case_type, Task.due_at.is_null(False))
    met = due.where(Task.status == "completed", Task.completed_at >= since,
                    Task.completed_at <= Task.due_at).count()
    late = due.where(Task.status == "completed", Task.completed_at >= since,
                     Task.completed_at > Task.due_at).count()
    overdue = due.where(Task.status.in_(("open", "claimed")), Task.due_at < now).count()
    missed = late + overdue
    total = met + missed
    return {"case_type": case_type, "met": met, "missed": missed, "open_overdue": overdue,
            "attainment": round(met / total, 4) if total else None}


def _auto_resolution(case_type, since) -> dict:
    closed = Case.select(Case.id).where(Case.type == case_type, Case.status == "completed",
                                        Case.closed_at >= since)
    total = closed.count()
    with_people = closed.where(pw.fn.EXISTS(Task.select(Task.id).where(Task.case == Case.id)))
    manual = with_people.count()
    return {"case_type": case_type, "closed": total, "automatic": total - manual,
            "rate": round((total - manual) / total, 4) if total else None}


def _escalations(case_type, since) -> dict:
    tasks = [t for t in Task.select(Task.case, Task.properties).where(
        Task.case_type == case_type, Task.created_at >= since)
        if _truthy((t.properties or {}).get("escalation"))]
    opened = Case.select().where(Case.type == case_type, Case.created_at >= since).count()
    cases = len({t.case_id for t in tasks})
    return {"case_type": case_type, "escalations": len(tasks), "cases_escalated": cases,
            "cases_opened": opened, "rate": round(cases / opened, 4) if opened else None}


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return bool(value)


def _open_tasks(now, case_type) -> list[dict]:
    query = (Task.select(TaskCandidate.name, Task.created_at).join(TaskCandidate)
             .where(Task.status.in_(("open", "claimed")), TaskCandidate.kind == "group"))
    if case_type:
        query = query.where(Task.case_type == case_type)
    groups: dict[str, dict] = {}
    for row in query.tuples():
        name, created = row
        age = (now - created).total_seconds() / 3600
        band = next(label for label, limit in AGE_BANDS if limit is None or age < limit)
        bands = groups.setdefault(name, {label: 0 for label, _ in AGE_BANDS})
        bands[band] += 1
    return [{"group": g, "total": sum(b.values()), "by_age": b}
            for g, b in sorted(groups.items())]


def _drift(config) -> list[dict]:
    out = []
    for item in models.listing(config.models_dir)["items"]:
        name = item.get("name")
        try:
            report = models.drift(name, config.models_dir)
        except Conflict:
            continue          # no active version: nothing in service to drift
        worst = max(report["features"].values(), default=None) if report["features"] else None
        out.append({"model": name, "version": report["version"], "rows": report["rows"],
                    "enough_data": report["enough_data"], "score_psi": report["score"],
                    "worst_feature_psi": worst, "threshold": report["threshold"],
                    "alerts": report["alerts"]})
    return out


__all__ = ["AGE_BANDS", "kpis", "require_reader"]
