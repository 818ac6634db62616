"""The schedules of timer start events: when each deployed timer-start process next opens a case.

A process whose start event is a timer (``<timeCycle>R3/PT1H</timeCycle>``, a ``timeDate``, a
``timeDuration``) gets one :class:`~service.store.TimerStart` row per process key when a version
of it is deployed; a later version replaces the row (its own timer, counted from its deploy),
a version without a timer start removes it. The worker starts one case per due time
(``usecases.due_timers.start_due``) and moves the row to the next due time in the same
transaction, by compare-and-set on the due time it read: of two workers that read the same due
time, one starts the case and the other's unit rolls back, so each due time opens exactly one
case (on PostgreSQL the rows are also claimed ``FOR UPDATE SKIP LOCKED``).

Stored timers are absolute, so the next due time follows from the last one alone: a cycle
without a start date (``R3/PT1H``, counted from the deploy, as Camunda does) is stored with its
first due time as its start (``R3/<first>/PT1H``); a duration (once, that long after the
deploy) becomes the date it falls due. Times come from ``service.engine.next_start``.
"""
from __future__ import annotations

import datetime as dt

from ..engine import next_start
from ..store import Definition, TimerStart

__all__ = ["absolute", "check", "due", "following", "forget", "moved", "replace"]


def _parts(text: str) -> list[str]:
    return text.strip().upper().replace("--", "/").split("/")


def absolute(text: str, kind: str, now: dt.datetime) -> tuple[str, str, dt.datetime | None]:
    """``(timer, kind, first due time or None)`` of a timer start deployed at ``now``, with a
    relative timer made absolute (see the module docstring). Raises ``ValueError`` for a timer
    that is not an ISO 8601 date, duration or repeating interval (an expression, say)."""
    text = (text or "").strip()
    try:
        first = next_start(text, kind, now)
    except (ValueError, TypeError, OverflowError, AttributeError) as exc:
        raise ValueError(f"{text!r} is not an ISO 8601 date, duration or repeating interval "
                         f"({exc}); a timer start needs one") from exc
    if kind == "timeDuration":
        return first.isoformat(), "timeDate", first
    if kind == "timeCycle":
        parts = _parts(text)
        if len(parts) == 2 and parts[1].startswith("P") and first is not None:
            return f"{parts[0]}/{first.isoformat()}/{parts[1]}", kind, first
    return text, kind, first


def check(text: str, kind: str) -> None:
    """Raise ``ValueError`` unless a timer start can be scheduled (see :func:`absolute`)."""
    absolute(text, kind, dt.datetime.now(dt.timezone.utc))


def replace(row: Definition, now: dt.datetime) -> dict | None:
    """Schedule the timer start of a newly deployed version ``row`` (inside the deploy's
    transaction), replacing the schedule of the key's earlier version; a version without a
    timer start ends it. Returns what was scheduled, for the audit trail, or None."""
    spec = (row.meta or {}).get("timer_start")
    if not spec:
        forget(row.key)
        return None
    timer, kind, first = absolute(spec["timer"], spec["kind"], now)
    values = dict(definition=row.id, element_id=spec.get("element"), kind=kind, timer=timer,
                  next_due_at=first, fired=0, updated_at=now)
    changed = TimerStart.update(**values).where(TimerStart.key == row.key).execute()
    if not changed:
        TimerStart.insert(key=row.key, **values).execute()
    return {"key": row.key, "version": row.version, "timer": timer, "timer_kind": kind,
            "next_due_at": first.isoformat() if first else None}


def forget(key: str) -> None:
    TimerStart.delete().where(TimerStart.key == key).execute()


def due(now: dt.datetime):
    """Schedules due at ``now``, oldest due time first (an index range on ``next_due_at``)."""
    return (TimerStart.select().where(TimerStart.next_due_at <= now)
            .order_by(TimerStart.next_due_at, TimerStart.id))


def following(schedule: TimerStart) -> dt.datetime | None:
    """The due time after the one ``schedule`` holds (None: that was the last)."""
    return next_start(schedule.timer, schedule.kind, schedule.next_due_at)


def moved(schedule: TimerStart, now: dt.datetime) -> bool:
    """Move ``schedule`` past the due time it was read with (compare-and-set): True when this
    unit did it, False when another worker or a redeploy changed the row first."""
    changed = (TimerStart.update(next_due_at=following(schedule), fired=TimerStart.fired + 1,
                                 updated_at=now)
               .where(TimerStart.id == schedule.id,
                      TimerStart.next_due_at == schedule.next_due_at,
                      TimerStart.definition == schedule.definition_id)
               .execute())
    return changed == 1
