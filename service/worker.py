"""The background worker: timer starts, due timers, retries, outbox deliveries, the rules consumer.

Everything that happens after the request that started a case has returned runs here, in
passes: :meth:`Worker.run_once` does one pass over each kind of due work and returns a tally;
the loop is ``while not stopped: run_once(); sleep``. Tests call ``run_once`` with an injected
clock (``FixedClock``) and move time forward instead of sleeping.

``python server.py worker`` runs the loop in its own process (several of them on PostgreSQL:
every claim uses ``FOR UPDATE SKIP LOCKED``, see :mod:`service.store.jobs` and
:mod:`service.usecases.due_timers`);
``serve`` on SQLite runs it in a daemon thread of the web process (:func:`start_in_process`) so
a new user needs one command. Each unit of work opens and commits its own transaction; the
worker holds no state a second worker would miss.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable

from .config import Config
from .usecases import (audit_trail, due_timers, health, incidents, notifications, outbox,
                       signals, system)
from .usecases.outbox import DEFAULT_BACKOFF, DEFAULT_LEASE, Backoff

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class Tally:
    """What one pass did: counts per kind of work (for logs, tests and the benchmark)."""
    timers: int = 0
    retries: int = 0
    delivered: int = 0
    delivery_failures: int = 0
    signals: int = 0
    notified: int = 0
    started: int = 0            # cases opened by timer start events

    @property
    def total(self) -> int:
        return (self.timers + self.retries + self.delivered + self.delivery_failures
                + self.signals + self.notified + self.started)


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """One worker: claims and runs due work; ``clock`` is injectable for tests and benchmarks."""

    def __init__(self, config: Config, *, clock: Clock = system.utcnow, owner: str | None = None,
                 registry=None, batch: int = 200, backoff: Backoff = DEFAULT_BACKOFF,
                 lease: dt.timedelta = DEFAULT_LEASE):
        self.config = config
        self.clock = clock
        self.owner = owner or default_owner()
        self.registry = registry
        self.batch = batch
        self.backoff = backoff
        self.lease = lease
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._checkpointed_at = float("-inf")
        self._beat_at = float("-inf")

    # -- one pass ------------------------------------------------------------------------

    def run_once(self) -> Tally:
        """Run every kind of due work once (each item in its own unit of work)."""
        system.connect()
        self._beat()
        now = self.clock()
        started = self._timer_starts(now)
        fired = due_timers.fire_due(now, config=self.config, clock=self.clock, limit=self.batch)
        retried = self._retries(now)
        delivered, failed = self._outbox(now)
        signals = self._signals(now)
        notified = self._notifications(now)
        self._checkpoint()
        return Tally(timers=len(fired), retries=retried, delivered=delivered,
                     delivery_failures=failed, signals=signals, notified=notified,
                     started=started)

    def _timer_starts(self, now) -> int:
        try:
            started = due_timers.start_due(now, config=self.config, clock=self.clock,
                                           limit=self.batch)
        except Exception:  # noqa: BLE001 - a broken schedule must not stop the other work
            log.exception("timer starts failed")
            return 0
        return sum(1 for s in started if s.outcome != "taken")

    def _retries(self, now) -> int:
        count = 0
        for job in incidents.claim_retries(owner=self.owner, now=now, limit=self.batch,
                                           lease=self.lease):
            try:
                incidents.run_retry(job, now=now, config=self.config, clock=self.clock)
            except Exception:  # noqa: BLE001 - one broken job must not stop the others
                log.exception("retry job failed", extra={"job": job.id})
            count += 1
        return count

    def _outbox(self, now) -> tuple[int, int]:
        delivered = failed = 0
        for job in outbox.claim(owner=self.owner, now=now, limit=self.batch, lease=self.lease):
            try:
                result = outbox.deliver(job, now=now, registry=self.registry,
                                        backoff=self.backoff, config=self.config)
            except Exception:  # noqa: BLE001 - recording the outcome failed; the lease expires
                log.exception("outbox job failed", extra={"job": job.id})
                failed += 1
                continue
            if result.outcome == "delivered":
                delivered += 1
            else:
                failed += 1
        return delivered, failed

    def _notifications(self, now) -> int:
        """Queue SLA breach notices, then send due notifications (each its own unit)."""
        count = 0
        try:
            notifications.queue_breaches(now, config=self.config)
        except Exception:  # noqa: BLE001 - a notice is not worth stopping timers for
            log.exception("queueing SLA breach notices failed")
        for job in notifications.claim(owner=self.owner, now=now, limit=self.batch,
                                       lease=self.lease):
            try:
                notifications.send(job, now=now, config=self.config, backoff=self.backoff)
            except Exception:  # noqa: BLE001 - recording the outcome failed; the lease expires
                log.exception("notification job failed", extra={"job": job.id})
            count += 1
        return count

    def _signals(self, now) -> int:
        try:
            return signals.run_rules(self.config, owner=self.owner, now=now) or 0
        except Exception:  # noqa: BLE001 - the consumer logs its own; keep timers running
            log.exception("signals consumer failed")
            return 0

    def _beat(self) -> None:
        """Tell readiness this worker is alive (every ``heartbeat_seconds``, wall clock)."""
        moment = time.monotonic()
        if moment - self._beat_at < self.config.heartbeat_seconds:
            return
        self._beat_at = moment
        try:
            health.beat(self.owner)
        except Exception:  # noqa: BLE001 - the pass itself reports database trouble
            log.exception("writing the worker heartbeat failed")

    def _checkpoint(self) -> None:
        """Sign the audit head now and then (a file outside the database, see service/audit)."""
        moment = time.monotonic()
        if moment - self._checkpointed_at < self.config.audit_checkpoint_seconds:
            return
        self._checkpointed_at = moment
        try:
            audit_trail.write_checkpoint(self.config)
        except Exception:  # noqa: BLE001 - a full disk must not stop timers and deliveries
            log.exception("writing an audit checkpoint failed")

    # -- the loop ------------------------------------------------------------------------

    def run_forever(self, interval: float | None = None) -> None:
        """Run passes until :meth:`stop`; a pass that found work is followed by another at once."""
        interval = self.config.worker_interval if interval is None else interval
        log.info("worker started", extra={"owner": self.owner})
        while not self._stop.is_set():
            try:
                tally = self.run_once()
            except Exception:  # noqa: BLE001 - e.g. the database restarting: wait and go on
                log.exception("worker pass failed")
                tally = Tally()
            if tally.total >= self.batch:
                continue
            self._stop.wait(self._pause(interval, tally))
        log.info("worker stopped", extra={"owner": self.owner})

    def _pause(self, interval: float, tally: Tally) -> float:
        """Sleep until the next timer is due, but never longer than ``interval``.

        Waking for the earliest ``next_due_at`` (one index probe) keeps the fire lag at the cost
        of a pass instead of half a poll interval; jobs and signals are still polled. A timer
        already due that the last pass did not fire (another worker holds it) is no reason to
        spin: then the full interval.
        """
        try:
            due = due_timers.next_due()
        except Exception:  # noqa: BLE001 - the pass logs database trouble; just poll
            return interval
        if due is None:
            return interval
        left = (due - self.clock()).total_seconds()
        if left <= 0 and not tally.timers:
            return interval
        return min(interval, max(left, 0.0))

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to stop; when it runs in a thread of ours, wait for its pass to end.

        Waiting matters: a pass left running after ``stop`` would go on using the database and
        the rules engine while the caller tears them down.
        """
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)


def start_in_process(config: Config, *, clock: Clock = system.utcnow) -> Worker:
    """Run the worker in a daemon thread of this process (``serve`` on SQLite)."""
    worker = Worker(config, clock=clock)
    thread = threading.Thread(target=worker.run_forever, name="omniflow-worker", daemon=True)
    worker._thread = thread
    thread.start()
    return worker


__all__ = ["Tally", "Worker", "default_owner", "start_in_process"]
