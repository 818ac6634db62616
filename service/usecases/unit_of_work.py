"""One unit of work: what one request, command or job changes, committed together or not at all.

Every use case that changes something opens a :class:`UnitOfWork`. It owns

* **the transaction**: :meth:`writing` is the one ``BEGIN ... COMMIT`` (a savepoint when the
  caller already holds a transaction, as the timer worker does per chunk on PostgreSQL);
* **idempotency**: with an ``Idempotency-Key``, :meth:`replayed` answers a repeated request
  with the first answer; the key's row is written with the answer in the same transaction,
  and when a concurrent request with the same key wins the race, the loser rolls back and
  answers with the winner's answer;
* **the instance save** (:meth:`save`): engine state (optimistic locking), the inbox
  projection, the external tasks waiting for workers (fetchAndLock long polls in this
  process are woken after the commit), message subscriptions, decision records, outbox jobs, the case's status and
  priority, and a retry or an incident when the run failed;
* **audit appends**: every event of the unit is appended to the hash chain once, at the end
  of the transaction, so they commit with the change they record.

The engine runs before :meth:`writing` (see :mod:`service.domain.instances`), so SQLite's one
writer is held only for the writes.
"""
from __future__ import annotations

import datetime as dt
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from .. import audit
from ..audit import Event
from ..config import Config
from ..domain import (definitions, external_tasks, inbox, incidents, instances, notifications,
                      subscriptions)
from ..domain.instances import Process
from ..store.fields import UTCDateTimeField
from ..store import (Case, DecisionRecord, Definition, Instance, Job, atomic, idempotency, rows,
                     to_jsonable, utcnow)

ENGINE_ACTOR = inbox.ENGINE_ACTOR
events_log = logging.getLogger("omniflow.events")
# The engine's per-element events (``engine.*``: a dozen per intake) log here, with the engine's
# own loggers (``OMNIFLOW_ENGINE_LOG``, off by default); the audit trail holds them either way.
engine_events_log = logging.getLogger("omniflow.events.engine")
# Small, telling fields of an audit event's detail copied into its log line (not the data).
LOGGED_DETAIL = ("element_id", "task_id", "type", "status", "model", "version", "decision",
                 "key")

Clock = Callable[[], dt.datetime]

# Most saves of a running case change only its time: built once.
@lru_cache(maxsize=16)
def _case_update(columns: tuple[str, ...]) -> rows.Prepared:
    """The case update of a save that sets ``columns`` (a closed case, a new priority): a few
    shapes, each built once."""
    fields = tuple(getattr(Case, c) for c in columns)
    stand_ins = tuple(rows.STAND_IN_TIME if isinstance(f, UTCDateTimeField) else "x"
                      for f in fields)
    return rows.Prepared(lambda *values: Case.update(**dict(zip(columns, values[:-1]))).where(
        Case.id == values[-1]), *stand_ins, -1, fields=(*fields, None))


_TOUCH_CASE = rows.Prepared(lambda at, case_id: Case.update(updated_at=at).where(Case.id == case_id),
                            rows.STAND_IN_TIME, -1, fields=(Case.updated_at, None))


@dataclass(frozen=True)
class IdempotentRequest:
    """An ``Idempotency-Key`` request: the same owner, scope, key and body replay one answer."""
    owner: str
    scope: str
    key: str | None
    body: Any


@dataclass
class SaveResult:
    row: Instance
    created_tasks: list


class UnitOfWork:
    """See the module docstring. Not reusable: one per operation."""

    def __init__(self, actor: str, *, config: Config | None = None, clock: Clock = utcnow,
                 request: IdempotentRequest | None = None,
                 replay: Callable[[], tuple[int, Any] | None] | None = None):
        self.actor = actor
        self.config = config
        self.clock = clock
        self.request = request if request is not None and request.key else None
        if self.request is not None:
            idempotency.check_key(self.request.key)
        # How to answer when a unique key of this unit (an Idempotency-Key, a message id)
        # turns out to have been committed by a concurrent unit: the stored first answer.
        self._replay = replay or self._replay_request
        self.events: list[Event] = []
        self.result: tuple[int, Any] | None = None
        # External tasks this unit makes available: long polls are woken after the commit.
        self.new_external_work = 0

    # -- reading -------------------------------------------------------------------------

    def _replay_request(self):
        r = self.request
        return idempotency.replay(r.owner, r.scope, r.key, r.body) if r else None

    def replayed(self) -> tuple[int, Any] | None:
        """The stored ``(status, answer)`` when this request was answered before."""
        return self._replay_request()

    def start(self, definition: Definition, variables: dict, *, initiator: str | None = None,
              timer_fired: bool = False) -> Process:
        """Run a new instance of ``definition`` to its first wait state, in memory."""
        return instances.start(definition, variables, clock=self.clock,
                               script_cpu_seconds=self.config.script_cpu_seconds,
                               initiator=initiator, timer_fired=timer_fired)

    def load(self, row: Instance, *, definition: Definition | None = None) -> Process:
        """Rebuild the engine instance of ``row`` (raises ``EngineFailure`` if unreadable)."""
        return instances.load(row, clock=self.clock, definition=definition,
                              script_cpu_seconds=self.config.script_cpu_seconds)

    # -- writing -------------------------------------------------------------------------

    @contextmanager
    def writing(self):
        """The transaction (:meth:`_transaction`); once it has committed, fetchAndLock long
        polls of this process are woken when the unit made external tasks available (after a
        replayed collision they wake for nothing, and look again)."""
        try:
            with self._transaction():
                yield self
        finally:
            work, self.new_external_work = self.new_external_work, 0
        if work:
            external_tasks.announce()

    @contextmanager
    def _transaction(self):
        """The transaction. On a unique-key collision with a concurrent unit that committed
        the same request first, the block is rolled back and :attr:`result` holds that unit's
        answer instead."""
        try:
            with atomic():
                yield self
                if self.request is not None and self.result is not None:
                    # Claimed last, with the answer: a concurrent request with the same key
                    # collides here (on PostgreSQL it waits until the first commits), rolls
                    # back its work and answers with the first one's answer.
                    r = self.request
                    idempotency.store(r.owner, r.scope, r.key, r.body, *self.result)
                audit.append(self.events)
        except idempotency.Collision:
            self.events = []
            stored = self._replay()
            if stored is None:
                raise
            self.result = stored
        except BaseException:
            self.events = []
            raise
        else:
            for event in self.events:     # one log line per audit event written
                logger = engine_events_log if event.kind.startswith("engine.") else events_log
                if not logger.isEnabledFor(logging.INFO):
                    continue
                logger.info(event.kind, extra={
                    "event": event.kind, "actor": event.actor, "case_id": event.case_id,
                    "instance_id": event.instance_id,
                    **{k: event.detail[k] for k in LOGGED_DETAIL if k in event.detail}})

    def answer(self, status: int, body: Any) -> None:
        """The unit's answer; remembered for the Idempotency-Key when there is one."""
        self.result = (status, body)

    def record(self, kind: str, *, case_id: int | None = None, instance_id: int | None = None,
               actor: str | None = None, **detail: Any) -> None:
        """Add an audit event; it is appended with the others when the transaction ends."""
        self.events.append(Event(kind, actor or self.actor, case_id, instance_id, detail))

    def save(self, case: Case, process: Process, *, row: Instance | None = None,
             definition: Definition | None = None, new_case: bool = False) -> SaveResult:
        """Write an engine instance and everything its run produced (inside :meth:`writing`).

        ``row`` is the instance row the caller loaded (``None`` creates one for
        ``definition``). Raises ``StaleInstance`` when another unit saved it first.
        """
        now = utcnow()
        inst = process.inst
        saved = instances.save_state(case, inst, row=row, definition=definition, now=now)
        row, events = saved.row, self.events
        for ev in inst.drain_events():
            detail = {"element_id": ev.element_id, "element_name": ev.element_name}
            detail.update(ev.detail or {})
            events.append(Event(f"engine.{ev.kind}", ENGINE_ACTOR, case.id, row.id, detail))
        created = inbox.project(case, row, inst, now, events, fresh=saved.fresh)
        notifications.tasks_created(created, now=now, config=self.config)
        no_rows = saved.fresh or process.had_no_rows
        self.new_external_work += external_tasks.project(case, row, inst, now, events,
                                                         fresh=no_rows)
        if not no_rows or inst.waiting_messages():
            subscriptions.sync(row, inst)
        if process.decisions:
            rows.insert_many(DecisionRecord, [
                {"case": case.id, "instance": row.id, "kind": "decision",
                 "element_id": rec.get("element_id") or rec.get("decision"),
                 "definition_key": rec["definition_key"],
                 "definition_version": rec["definition_version"], "inputs": rec["inputs"],
                 "outputs": rec["outputs"], "matched_rules": rec["matched_rules"],
                 "shadow": rec.get("shadow"),
                 "actor": ENGINE_ACTOR, "created_at": now} for rec in process.decisions],
                deferred=True)
            process.decisions = []
        if process.outbox:
            rows.insert_many(Job, [
                {"kind": "outbox", "instance": row.id, "case": case.id, "due_at": now,
                 "payload": to_jsonable(item), "idempotency_key": item["idempotency_key"]}
                for item in process.outbox], deferred=True, ignore_conflicts=True)
            process.outbox = []
        case_update = {}
        if inst.status == "completed" and case.status in ("open", "incident"):
            case_update.update(status="completed", closed_at=now)
            events.append(Event("case.completed", ENGINE_ACTOR, case.id, row.id, {}))
        elif inst.status == "failed":
            # A retry with backoff while attempts remain, then an incident (sets case status).
            incidents.on_failure(case, row, inst, now=now, events=events)
        priority = definitions.case_type(case.type).priority_of(inst.data)
        if priority and priority != case.priority:
            case_update["priority"] = priority
        if case_update or not new_case:
            case_update["updated_at"] = now
            if len(case_update) == 1:
                _TOUCH_CASE.defer(now, case.id)
            else:
                _case_update(tuple(case_update)).defer(*case_update.values(), case.id)
            for key, value in case_update.items():
                setattr(case, key, value)
        return SaveResult(row, created)

    def open_incident(self, *, case_id: int, instance_id: int, kind: str, message: str,
                      element_id: str | None = None, job_id: int | None = None):
        """Open an incident in this unit (see :func:`service.domain.incidents.open_incident`)."""
        return incidents.open_incident(self.events, case_id=case_id, instance_id=instance_id,
                                       kind=kind, message=message, now=self.clock(),
                                       element_id=element_id, job_id=job_id)


__all__ = ["IdempotentRequest", "SaveResult", "UnitOfWork"]
