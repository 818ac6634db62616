"""Due timers: fire the timers of instances whose ``next_due_at`` has passed.

Every instance save keeps ``instance.next_due_at`` (indexed) equal to the engine's earliest
pending timer, so finding due work is an index range scan ``next_due_at <= now`` in due order;
nothing loads every instance. Each due instance is one unit of work: load, fire its due timers
(boundary timers, intermediate catches, cycles), save state, inbox, outbox and audit together.

Claiming differs by backend, for the same guarantee (a timer fires once):

* PostgreSQL: the row is selected ``FOR UPDATE SKIP LOCKED`` inside the unit of work, so several
  workers take different instances and never wait on each other.
* SQLite: one writer at a time. The engine runs before the write transaction (keeping the single
  writer free while it computes) and the save's optimistic version check turns a concurrent
  change into a skip; the instance is simply looked at again on the next pass.

On both, the save checks ``version``: a request that moved the instance in between wins, and the
timer is re-evaluated against the new state next pass.

Timer start events (:func:`start_due`) open a case per due time of a deployed schedule
(``domain.timer_starts``): the case is written and the schedule moved to its next due time in
one unit of work, the move a compare-and-set on the due time read (and the rows claimed
``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so each due time opens exactly one case whatever
the number of workers.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from ..domain import timer_starts
from ..errors import OmniflowError, StaleInstance
from ..store import (Case, Definition, Instance, TimerStart, atomic, for_update_skip_locked, iso,
                     is_postgres)
from .cases import open_case
from .unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

ACTOR = "timer"
# An instance whose engine keeps reporting a due time in the past after firing would be picked
# on every pass; it is looked at again after this pause instead (and logged).
STUCK_PAUSE = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class Firing:
    instance_id: int
    outcome: str            # fired | stale | failed | incident
    status: str | None = None


def due_instances(now: dt.datetime, *, after: tuple | None = None):
    """Waiting instances with a timer due at ``now``, in due order.

    ``after`` is the ``(next_due_at, id)`` of the last instance a pass looked at: the pass moves
    forward through the index and never looks at an instance twice (one that stayed due, say
    because a request saved it in between, is taken by the next pass).
    """
    query = (Instance.select()
             .where(Instance.next_due_at <= now, Instance.status == "waiting")
             .order_by(Instance.next_due_at, Instance.id))
    if after is not None:
        due, last_id = after
        # A range on the index column plus a filter (an OR of the two would defeat the index).
        query = query.where(Instance.next_due_at >= due,
                            ~((Instance.next_due_at == due) & (Instance.id <= last_id)))
    return query


def next_due(now: dt.datetime | None = None) -> dt.datetime | None:
    """The earliest pending timer of any waiting instance or timer start schedule (the worker
    sleeps until then)."""
    row = (Instance.select(Instance.next_due_at)
           .where(Instance.next_due_at.is_null(False), Instance.status == "waiting")
           .order_by(Instance.next_due_at).first())
    start = (TimerStart.select(TimerStart.next_due_at)
             .where(TimerStart.next_due_at.is_null(False))
             .order_by(TimerStart.next_due_at).first())
    found = [r.next_due_at for r in (row, start) if r is not None]
    return min(found) if found else None


def fire_due(now: dt.datetime, *, config, clock, limit: int = 200, chunk: int = 20) -> list[Firing]:
    """Fire due timers of up to ``limit`` instances, each in its own unit of work.

    Due rows are read ``chunk`` at a time (one index range read, not one per instance); on
    PostgreSQL a chunk is locked together and each instance is a savepoint inside it, so one
    that fails rolls back alone.
    """
    done: list[Firing] = []
    after = None
    while len(done) < limit:
        size = min(chunk, limit - len(done))
        query = due_instances(now, after=after).limit(size)
        if is_postgres():
            with atomic():
                rows = list(for_update_skip_locked(query))
                for row in rows:
                    done.append(_fire(row, now, config=config, clock=clock))
        else:
            rows = list(query)
            for row in rows:
                done.append(_fire(row, now, config=config, clock=clock))
        if len(rows) < size:
            break
        after = (rows[-1].next_due_at, rows[-1].id)
    return done


def _fire(row: Instance, now, *, config, clock) -> Firing:
    version = row.version           # save() bumps row.version; a rollback does not undo that
    uow = UnitOfWork(ACTOR, config=config, clock=clock)
    try:
        process = uow.load(row)
        process.inst.fire_due_timers(now)
    except Exception as exc:  # noqa: BLE001 - the engine could not run: park it as an incident
        log.exception("firing timers failed", extra={"instance": row.id})
        with uow.writing():
            changed = (Instance.update(status="failed", next_due_at=None)
                       .where(Instance.id == row.id, Instance.version == version).execute())
            if changed:
                uow.open_incident(case_id=row.case_id, instance_id=row.id, kind="timer",
                                  message=f"firing due timers failed: {exc}")
        return Firing(row.id, "incident" if changed else "stale")
    case = Case.get_by_id(row.case_id)
    inst = process.inst
    try:
        with uow.writing():  # a savepoint when the chunk's transaction is open (PostgreSQL)
            uow.save(case, process, row=row)
            after = inst.next_due_at()
            if after is not None and after <= now and inst.status == "waiting":
                log.warning("timer still due after firing", extra={"instance": row.id,
                                                                   "due": after.isoformat()})
                (Instance.update(next_due_at=now + STUCK_PAUSE)
                 .where(Instance.id == row.id).execute())
    except StaleInstance:
        return Firing(row.id, "stale")
    except Exception:  # noqa: BLE001 - one instance that cannot be saved must not stop the rest
        log.exception("saving fired timers failed", extra={"instance": row.id})
        with atomic():
            (Instance.update(next_due_at=now + STUCK_PAUSE)
             .where(Instance.id == row.id, Instance.version == version).execute())
        return Firing(row.id, "failed")
    return Firing(row.id, "fired", inst.status)


class _Taken(Exception):
    """Another worker (or a redeploy) moved the schedule first: roll this start back."""


@dataclass(frozen=True)
class Started:
    key: str
    due: dt.datetime
    outcome: str            # started | taken | refused
    case_id: int | None = None


def start_due(now: dt.datetime, *, config, clock, limit: int = 100, chunk: int = 10) -> list[Started]:
    """Open one case per due time of the timer start schedules due at ``now`` (up to
    ``limit``), oldest first; a schedule several due times behind catches up one case each."""
    done: list[Started] = []
    while len(done) < limit:
        size = min(chunk, limit - len(done))
        query = timer_starts.due(now).limit(size)
        if is_postgres():
            with atomic():
                rows = list(for_update_skip_locked(query))
                done.extend(_start(row, now, config=config, clock=clock) for row in rows)
        else:
            rows = list(query)
            done.extend(_start(row, now, config=config, clock=clock) for row in rows)
        # A schedule that moved stays due while it is behind: read again until nothing is
        # due or every row read was taken by another worker.
        if not rows or all(s.outcome == "taken" for s in done[-len(rows):]):
            break
    return done


def _start(schedule: TimerStart, now, *, config, clock) -> Started:
    due = schedule.next_due_at
    definition = Definition.get_by_id(schedule.definition_id)
    fired = {"timer_start": schedule.element_id, "due": iso(due), "timer": schedule.timer}
    uow = UnitOfWork(ACTOR, config=config, clock=clock)
    try:
        pending = open_case(uow, definition, {}, submitted_by=ACTOR, origin=fired)
    except OmniflowError as exc:
        # The case type refuses a case without data: this due time cannot open one. Say so in
        # the audit trail and go on to the next due time rather than trying forever.
        log.warning("timer start refused", extra={"key": schedule.key, "error": str(exc)})
        try:
            with uow.writing():
                if not timer_starts.moved(schedule, now):
                    raise _Taken()
                uow.record("timer_start.refused", key=schedule.key, version=definition.version,
                           due=iso(due), error=str(exc))
        except _Taken:
            return Started(schedule.key, due, "taken")
        return Started(schedule.key, due, "refused")
    try:
        with uow.writing():
            if not timer_starts.moved(schedule, now):
                raise _Taken()
            opened = pending.write()
    except (_Taken, StaleInstance):
        return Started(schedule.key, due, "taken")
    return Started(schedule.key, due, "started", opened.case.id)


__all__ = ["Firing", "Started", "due_instances", "fire_due", "next_due", "start_due"]
