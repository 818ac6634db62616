"""Messages in: correlate a message to the instance waiting for it, and deliver it once.

``POST /api/v1/messages`` carries ``{name, correlation, data, message_id}``. Delivery:

1. **Once per message_id.** The ``message`` row (primary key ``message_id``) commits with the
   instance change it caused and stores the answer; a repeated id replays that answer
   (``duplicate: true``) and moves nothing. The same id with another body is a 422.
2. **Correlation by index** (:mod:`service.domain.subscriptions`): delivery never deserializes
   a waiting workflow to find the right one.
3. **No buffering.** A message no instance waits for is answered ``404`` with a
   ``/problems/no-waiting-instance`` problem and is *not* stored, so the sender may send it again
   later with the same ``message_id``. Buffering with a time to live would hide a sender's
   mistakes (a typo in a po_id would wait silently); the sender's retry is the buffer.
4. **One instance.** Two different instances waiting for the same name and correlation is a
   modelling or data error: ``409`` names them rather than picking one.
5. **Message start events.** When no instance waits, the newest deployed process whose start
   event catches this message name (``definition.meta["message_starts"]``) opens a new case
   (``usecases.cases.open_case``, scoring included), answered ``201``.

Messages a process *throws* to other systems are connector calls through the outbox (see
``usecases/outbox.py``), not this module.
"""
from __future__ import annotations

import hashlib
import json

from ..domain import definitions
from ..domain.subscriptions import correlation_key, waiting_instances
from ..errors import Conflict, Forbidden, IdempotencyMismatch, NoWaitingInstance
from ..policy import Identity
from ..store import Case, Instance, Message, to_jsonable, utcnow
from .cases import open_case
from .unit_of_work import UnitOfWork


def _request_hash(body: dict) -> str:
    canonical = json.dumps(to_jsonable({k: body.get(k) for k in ("name", "correlation", "data")}),
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(message_id: str, body: dict) -> tuple[int, dict] | None:
    row = Message.get_or_none(Message.message_id == message_id)
    if row is None:
        return None
    stored = row.response or {}
    if stored.get("request_hash") not in (None, _request_hash(body)):
        raise IdempotencyMismatch("this message_id was used for a different message",
                                  field="message_id", message_id=message_id)
    answer = dict(stored.get("answer") or {})
    answer["duplicate"] = True
    return 200, answer


def may_send(who: Identity) -> bool:
    """Machine clients (OMS, ERP, the supplier portal...) and admins send messages."""
    return who.is_admin or (who.is_client and not who.is_auditor)


def deliver(who: Identity, body: dict, *, config, clock=utcnow) -> tuple[int, dict]:
    """Deliver one message; returns (HTTP status, answer). See the module docstring."""
    if not may_send(who):
        raise Forbidden("only machine clients and admins send messages")
    name, message_id = body["name"], body["message_id"]
    correlation = dict(body.get("correlation") or {})
    stored = _replay(message_id, body)
    if stored is not None:
        return stored
    candidates = waiting_instances(name, correlation)
    if len(candidates) > 1:
        raise Conflict(f"{len(candidates)} instances wait for message {name!r} with this "
                       "correlation; add correlation values that tell them apart",
                       instances=candidates[:20], message=name)
    uow = UnitOfWork(who.name, config=config, clock=clock,
                     replay=lambda: _replay(message_id, body))
    if not candidates:
        # The same message_id may have been delivered between the replay check and the lookup
        # (it took the only waiting catch): then it is a duplicate, not a stray message.
        stored = _replay(message_id, body)
        if stored is not None:
            return stored
        starting = _message_start(name)
        if starting is None:
            raise NoWaitingInstance(f"no instance waits for message {name!r} with correlation "
                                    f"{correlation_key(correlation)}; it was not stored, send "
                                    "it again when the process waits for it",
                                    message=name, correlation=correlation)
        return _start_case(uow, starting, body)
    return _deliver_to(uow, candidates[0], body)


def _message_row(uow: UnitOfWork, body: dict, instance_id: int, answer: dict) -> None:
    Message.create(message_id=body["message_id"], name=body["name"],
                   correlation=dict(body.get("correlation") or {}),
                   data=dict(body.get("data") or {}), instance=instance_id,
                   received_at=uow.clock(),
                   response={"request_hash": _request_hash(body), "answer": answer})


def _deliver_to(uow: UnitOfWork, instance_id: int, body: dict) -> tuple[int, dict]:
    name, message_id = body["name"], body["message_id"]
    correlation, data = dict(body.get("correlation") or {}), dict(body.get("data") or {})
    row = Instance.get_by_id(instance_id)
    case = Case.get_by_id(row.case_id)
    process = uow.load(row)
    # The engine matches the catch's correlation keys against the payload, so they travel in it.
    process.inst.deliver_message(name, {**data, **correlation})
    answer = {"message_id": message_id, "name": name, "status": "delivered",
              "case_id": case.id, "instance_id": row.id, "duplicate": False}
    with uow.writing():
        _message_row(uow, body, row.id, answer)
        uow.record("message.received", case_id=case.id, instance_id=row.id,
                   message_id=message_id, name=name, correlation=correlation, data=data)
        uow.save(case, process, row=row)
        uow.answer(202, {**answer, "case_status": case.status})
    return uow.result


def _message_start(name: str):
    """The newest deployed process whose start event catches message ``name``, if any."""
    for row in definitions.latest_all("bpmn"):
        if name in ((row.meta or {}).get("message_starts") or []):
            return row
    return None


def _start_case(uow: UnitOfWork, definition, body: dict) -> tuple[int, dict]:
    name, message_id = body["name"], body["message_id"]
    data = {**dict(body.get("data") or {}), **dict(body.get("correlation") or {})}
    # The new instance waits at its message start event; the message then starts it moving.
    pending = open_case(uow, definition, data, submitted_by=uow.actor,
                        origin={"message": name, "message_id": message_id},
                        first_step=lambda inst: inst.deliver_message(name, data))
    with uow.writing():
        opened = pending.write()
        answer = {"message_id": message_id, "name": name, "status": "started",
                  "case_id": opened.case.id, "instance_id": opened.instance_id,
                  "duplicate": False, "case_status": opened.case.status}
        _message_row(uow, body, opened.instance_id, answer)
        uow.answer(201, answer)
    return uow.result


__all__ = ["NoWaitingInstance", "deliver", "may_send"]
