"""Locks on external tasks: fetchAndLock, extend, unlock and failures, in the database.

A worker locks tasks in one short transaction: open rows of its topics that are available
(``available_at <= now``: a failure's retryTimeout has passed) and not locked by a live lock
are selected ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (on SQLite ``BEGIN IMMEDIATE`` serializes
the claim) and stamped with the worker and the lock's expiry. So two workers never hold one
task, a worker that dies lets its lock expire and another takes the task, and a restart loses
nothing: the rows are the truth. Every later call of a worker (complete, failure, bpmnError,
extendLock) checks that the lock is still its own (:func:`held`).
"""
from __future__ import annotations

import datetime as dt

from ..errors import BadRequest, Conflict, NotFound
from . import rows
from .db import atomic, for_update_skip_locked
from .tables import Case, ExternalTask, Instance

OPEN, INCIDENT = "open", "incident"


def available(topics, now: dt.datetime):
    """Open tasks of these topics a worker may lock now."""
    return (ExternalTask.select()
            .where(ExternalTask.status == OPEN, ExternalTask.topic.in_(list(topics)),
                   ExternalTask.available_at <= now,
                   ExternalTask.lock_expires_at.is_null(True)
                   | (ExternalTask.lock_expires_at <= now)))


def fetch_and_lock(topics: dict[str, int], *, worker_id: str, max_tasks: int,
                   now: dt.datetime, use_priority: bool = False,
                   checked: bool = False) -> list[ExternalTask]:
    """Lock up to ``max_tasks`` tasks of ``topics`` (topic -> lock duration in ms).

    An idle call only reads; the write transaction opens when something is available
    (``checked``: the caller has just seen that something is).
    """
    if max_tasks <= 0 or not topics or not (checked or available(topics, now).exists()):
        return []
    order = ([ExternalTask.priority.desc()] if use_priority else []) + [ExternalTask.id]
    with atomic():
        rows = list(for_update_skip_locked(available(topics, now).order_by(*order)
                                           .limit(max_tasks)))
        for row in rows:
            until = now + dt.timedelta(milliseconds=topics[row.topic])
            (ExternalTask.update(worker_id=worker_id, lock_expires_at=until)
             .where(ExternalTask.id == row.id).execute())
            row.worker_id, row.lock_expires_at = worker_id, until
    return rows


_WITH_CONTEXT = rows.Prepared(
    lambda task_id: (ExternalTask.select(ExternalTask, Instance, Case)
                     .join(Instance).switch(ExternalTask).join(Case)
                     .where(ExternalTask.id == task_id)), 0)


def get(task_id: int) -> ExternalTask:
    """The task, with its instance (and engine state) and case loaded."""
    row = _WITH_CONTEXT.first(task_id)
    if row is None:
        raise NotFound(f"external task {task_id} not found", task=task_id)
    return row


def _violation(message: str, task_id: int) -> BadRequest:
    # Camunda answers a lock violation with 400 BadUserRequestException.
    return BadRequest(message, task=task_id, field="workerId",
                      camunda_type="BadUserRequestException")


def held(task_id: int, worker_id: str, now: dt.datetime) -> ExternalTask:
    """The task if ``worker_id`` holds a live lock on it; else the error Camunda answers: 404
    for a task that is finished (Camunda deletes it), 400 for a lock the worker does not hold
    (another worker's, none, or expired) or a task whose retries are spent."""
    return check_held(get(task_id), worker_id, now)


def check_held(row: ExternalTask, worker_id: str, now: dt.datetime) -> ExternalTask:
    """:func:`held` for a row already loaded."""
    task_id = row.id
    if row.status not in (OPEN, INCIDENT):
        raise NotFound(f"external task {task_id} does not exist any more (it is {row.status})",
                       task=task_id)
    if row.status == INCIDENT:
        raise _violation(f"external task {task_id} has no retries left (an incident is open); "
                         "it must be retried first", task_id)
    if row.worker_id != worker_id:
        holder = f"it is locked by worker {row.worker_id!r}" if row.worker_id else \
            "it is not locked"
        raise _violation(f"external task {task_id} cannot be handled by worker {worker_id!r}: "
                         f"{holder}", task_id)
    if row.lock_expires_at is None or row.lock_expires_at <= now:
        raise _violation(f"the lock of worker {worker_id!r} on external task {task_id} has "
                         "expired; fetch and lock it again", task_id)
    return row


def _guard(row: ExternalTask):
    """Only while the row is still as the caller checked it (its lock, its status)."""
    return ((ExternalTask.id == row.id) & (ExternalTask.status == OPEN)
            & (ExternalTask.worker_id == row.worker_id)
            & (ExternalTask.lock_expires_at == row.lock_expires_at))


def extend(row: ExternalTask, *, new_duration_ms: int, now: dt.datetime) -> None:
    until = now + dt.timedelta(milliseconds=new_duration_ms)
    if ExternalTask.update(lock_expires_at=until).where(_guard(row)).execute() != 1:
        raise Conflict(f"external task {row.id} changed meanwhile", task=row.id)


def unlock(task_id: int) -> None:
    """Release the lock, whoever holds it (an operator's call)."""
    row = get(task_id)
    if row.status != OPEN:
        raise Conflict(f"external task {task_id} is {row.status}", task=task_id)
    (ExternalTask.update(worker_id=None, lock_expires_at=None)
     .where(ExternalTask.id == task_id, ExternalTask.status == OPEN).execute())


def fail(row: ExternalTask, *, retries: int, retry_timeout_ms: int, message: str | None,
         details: str | None, now: dt.datetime) -> None:
    """A worker's failure: retries left and when the task is available again; unlocked."""
    changes = dict(retries=retries, error_message=(message or "")[:4000] or None,
                   error_details=(details or "")[:100_000] or None, worker_id=None,
                   lock_expires_at=None,
                   available_at=now + dt.timedelta(milliseconds=max(retry_timeout_ms, 0)))
    if retries <= 0:
        changes["status"] = INCIDENT
    if ExternalTask.update(**changes).where(_guard(row)).execute() != 1:
        raise Conflict(f"external task {row.id} changed meanwhile", task=row.id)


def reopen(task_id: int, *, retries: int, now: dt.datetime) -> ExternalTask:
    """An incident's task offered to workers again with ``retries`` (Camunda: set retries)."""
    changed = (ExternalTask.update(status=OPEN, retries=retries, available_at=now,
                                   worker_id=None, lock_expires_at=None)
               .where(ExternalTask.id == task_id, ExternalTask.status == INCIDENT).execute())
    if changed != 1:
        raise Conflict(f"external task {task_id} has no incident to retry", task=task_id)
    return get(task_id)


def close(row: ExternalTask, *, now: dt.datetime, status: str = "done") -> None:
    """The task is finished (completed or its BPMN error handled) while the lock is held."""
    if ExternalTask.update(status=status, done_at=now, worker_id=None,
                           lock_expires_at=None).where(_guard(row)).execute() != 1:
        raise Conflict(f"external task {row.id} was handled by another request", task=row.id)


__all__ = ["INCIDENT", "OPEN", "available", "close", "extend", "fail", "fetch_and_lock", "get",
           "check_held", "held", "reopen", "unlock"]
