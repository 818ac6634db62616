"""The job queue: due work in the ``job`` table, claimed by workers with a lease.

A worker claims due jobs in one short transaction: the rows are selected by the indexed
``(status, due_at)`` pair with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (so several workers
never take the same row; on SQLite ``BEGIN IMMEDIATE`` serializes the claim), stamped with
``locked_by`` / ``locked_until`` and ``attempts + 1``, and committed. The work itself (an outbox
delivery talks to another system) then runs *outside* any transaction, so SQLite's single writer
is never held across a network call, and the outcome is written in a second short transaction
that only succeeds while the claim is still ours.

A worker that dies mid-job leaves a lease that expires; the job is then claimed again. That is
at-least-once delivery, which is why every outbox entry carries an idempotency key that the
receiving system de-duplicates on: together they make a crash neither lose a call nor act twice.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from .db import atomic, for_update_skip_locked
from .tables import Job

PENDING, DONE, FAILED = "pending", "done", "failed"


@dataclass(frozen=True)
class Backoff:
    """Exponential retry delays: ``base * factor ** (attempt - 1)``, capped at ``cap``.

    Deterministic (no jitter) so tests can move a clock to the exact next attempt; the spread
    that jitter would give comes from jobs failing at different times anyway.
    """
    base: dt.timedelta = dt.timedelta(seconds=10)
    factor: float = 2.0
    cap: dt.timedelta = dt.timedelta(hours=1)

    def delay(self, attempt: int) -> dt.timedelta:
        seconds = self.base.total_seconds() * self.factor ** max(attempt - 1, 0)
        return min(dt.timedelta(seconds=seconds), self.cap)


DEFAULT_BACKOFF = Backoff()
DEFAULT_LEASE = dt.timedelta(minutes=2)


def due(kinds: Iterable[str], now: dt.datetime):
    """Pending jobs of these kinds that are due and not leased by a live worker."""
    return (Job.select()
            .where(Job.status == PENDING, Job.due_at <= now, Job.kind.in_(list(kinds)),
                   Job.locked_until.is_null(True) | (Job.locked_until <= now))
            .order_by(Job.due_at, Job.id))


def claim(kinds: Iterable[str], *, owner: str, now: dt.datetime, limit: int = 20,
          lease: dt.timedelta = DEFAULT_LEASE) -> list[Job]:
    """Lease up to ``limit`` due jobs to ``owner``; each claim counts as one attempt.

    An idle pass only reads: the write transaction (on SQLite, the database's one write lock)
    opens when something is due.
    """
    kinds = list(kinds)
    if not due(kinds, now).exists():
        return []
    with atomic():
        rows = list(for_update_skip_locked(due(kinds, now).limit(limit)))
        if not rows:
            return []
        ids = [r.id for r in rows]
        until = now + lease
        (Job.update(locked_by=owner, locked_until=until, attempts=Job.attempts + 1)
         .where(Job.id.in_(ids)).execute())
    for r in rows:
        r.locked_by, r.locked_until, r.attempts = owner, until, r.attempts + 1
    return rows


def _ours(job: Job):
    return (Job.id == job.id) & (Job.locked_by == job.locked_by) & (Job.status == PENDING)


def finish(job: Job, *, now: dt.datetime, **changes) -> bool:
    """Mark a claimed job done (in the caller's transaction); False if the lease was lost."""
    return (Job.update(status=DONE, done_at=now, locked_by=None, locked_until=None, **changes)
            .where(_ours(job)).execute()) == 1


def reschedule(job: Job, *, now: dt.datetime, error: str,
               backoff: Backoff = DEFAULT_BACKOFF) -> dt.datetime | None:
    """Put a failed attempt back in the queue after its backoff; None if the lease was lost."""
    at = now + backoff.delay(job.attempts)
    changed = (Job.update(due_at=at, locked_by=None, locked_until=None, last_error=error[:4000])
               .where(_ours(job)).execute())
    return at if changed == 1 else None


def give_up(job: Job, *, now: dt.datetime, error: str) -> bool:
    """Mark a job failed for good (its last attempt, or an error no retry can fix)."""
    return (Job.update(status=FAILED, done_at=now, locked_by=None, locked_until=None,
                       last_error=error[:4000])
            .where(_ours(job)).execute()) == 1


def release(job: Job) -> None:
    """Hand a claimed job back untouched (the attempt does not count)."""
    (Job.update(locked_by=None, locked_until=None, attempts=Job.attempts - 1)
     .where(_ours(job)).execute())


def requeue(job_id: int, *, now: dt.datetime) -> bool:
    """Make a failed job pending again with a fresh retry budget (an incident's retry)."""
    with atomic():
        return (Job.update(status=PENDING, due_at=now, attempts=0, done_at=None,
                           locked_by=None, locked_until=None)
                .where(Job.id == job_id).execute()) == 1


def has_more(kinds: Iterable[str], now: dt.datetime) -> bool:
    return due(kinds, now).exists()


__all__ = ["Backoff", "DEFAULT_BACKOFF", "DEFAULT_LEASE", "DONE", "FAILED", "PENDING", "claim",
           "due", "finish", "give_up", "has_more", "release", "requeue", "reschedule"]
