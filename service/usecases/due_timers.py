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
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from ..errors import StaleInstance
from ..store import Case, Instance, atomic, for_update_skip_locked, is_postgres
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
    """The earliest pending timer of any waiting instance (the worker sleeps until then)."""
    row = (Instance.select(Instance.next_due_at)
           .where(Instance.next_due_at.is_null(False), Instance.status == "waiting")
           .order_by(Instance.next_due_at).first())
    return row.next_due_at if row else None


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


__all__ = ["Firing", "due_instances", "fire_due", "next_due"]
