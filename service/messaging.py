"""Messages in: correlate a message to the instance waiting for it, and deliver it once.

``POST /api/v1/messages`` carries ``{name, correlation, data, message_id}``. Delivery:

1. **Once per message_id.** The ``message`` row (primary key ``message_id``) commits with the
   instance change it caused and stores the answer; a repeated id replays that answer
   (``duplicate: true``) and moves nothing. The same id with another body is a 422.
2. **Correlation by index.** Every save of an instance projects what it waits for into
   ``message_subscription`` (:func:`sync_subscriptions`): the message name and the canonical JSON
   of the catch's correlation values. A catch matches a message of its name whose correlation
   holds every one of the catch's keys with an equal value (the engine's rule, see
   ``service/engine/messages.py``), so delivery looks up the canonical keys of every subset of
   the message's correlation (a handful: a correlation has one to three keys) and never
   deserializes a waiting workflow to find the right one.
3. **No buffering.** A message no instance waits for is answered ``404`` with a
   ``/problems/no-waiting-instance`` problem and is *not* stored, so the sender may send it again
   later with the same ``message_id``. Buffering with a time to live would hide a sender's
   mistakes (a typo in a po_id would wait silently); the sender's retry is the buffer.
4. **One instance.** Two different instances waiting for the same name and correlation is a
   modelling or data error: ``409`` names them rather than picking one.
5. **Message start events.** When no instance waits, the newest deployed process whose start
   event catches this message name (``definition.meta["message_starts"]``, see
   ``service/engine/REQUESTS.md``) starts a new case, answered ``201``.

Messages a process *throws* to other systems are connector calls through the outbox (see
``service/outbox.py``), not this module.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import logging
import peewee

from . import audit
from .audit import Event
from .errors import Conflict, Forbidden, IdempotencyMismatch, NoWaitingInstance, ValidationFailed
from .policy import Identity
from .store import (Case, Instance, Message, MessageSubscription, atomic, to_jsonable, utcnow)

log = logging.getLogger(__name__)

MAX_CORRELATION_KEYS = 6


# -- the projection ------------------------------------------------------------------------

def _normal(value):
    """Values compared the way the engine compares them: 2 == 2.0, text stays text."""
    value = to_jsonable(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def correlation_key(correlation: dict) -> str:
    """The canonical text of a correlation dict (sorted keys, normalized numbers)."""
    return json.dumps({str(k): _normal(v) for k, v in (correlation or {}).items()},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _stored_key(correlation: dict) -> str:
    """The indexed column value: the canonical text, hashed when it would not fit the column."""
    text = correlation_key(correlation)
    return text if len(text) <= 400 else "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _waiting(inst) -> list[tuple[str, dict, str | None]]:
    out = []
    for waiting in inst.waiting_messages():
        name, correlation = tuple(waiting)
        out.append((name, dict(correlation or {}), getattr(waiting, "element_id", None)))
    return out


def sync_subscriptions(row: Instance, inst) -> None:
    """Make ``message_subscription`` match what the instance waits for (caller's transaction).

    ``instances.save`` calls it with every state it writes; it is cheap when nothing changed.
    """
    wanted = {}
    if getattr(inst, "status", None) not in ("completed", "cancelled"):
        for name, correlation, element in _waiting(inst):
            wanted[(name, _stored_key(correlation), element)] = correlation
    with atomic():
        have = {(s.name, s.correlation_key, s.element_id): s.id
                for s in MessageSubscription.select().where(MessageSubscription.instance == row.id)}
        gone = [sid for key, sid in have.items() if key not in wanted]
        if gone:
            MessageSubscription.delete().where(MessageSubscription.id.in_(gone)).execute()
        new = [{"instance": row.id, "name": name, "correlation_key": key, "element_id": element,
                "correlation": to_jsonable(wanted[(name, key, element)])}
               for (name, key, element) in wanted if (name, key, element) not in have]
        if new:
            MessageSubscription.insert_many(new).execute()


def _candidate_keys(correlation: dict) -> list[str]:
    keys = sorted(correlation)
    if len(keys) > MAX_CORRELATION_KEYS:
        raise ValidationFailed(f"a correlation has at most {MAX_CORRELATION_KEYS} keys",
                               field="correlation")
    out = []
    for size in range(len(keys) + 1):
        for subset in itertools.combinations(keys, size):
            out.append(_stored_key({k: correlation[k] for k in subset}))
    return out


def waiting_instances(name: str, correlation: dict) -> list[int]:
    """Ids of instances with a catch for ``name`` that this correlation satisfies."""
    query = (MessageSubscription.select(MessageSubscription.instance).distinct()
             .join(Instance)
             .where(MessageSubscription.name == name,
                    MessageSubscription.correlation_key.in_(_candidate_keys(correlation)),
                    Instance.status == "waiting")
             .order_by(MessageSubscription.instance))
    return [s.instance_id for s in query]


# -- delivery ------------------------------------------------------------------------------

def _request_hash(body: dict) -> str:
    canonical = json.dumps(to_jsonable({k: body.get(k) for k in ("name", "correlation", "data")}),
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(message_id: str, body: dict) -> dict | None:
    row = Message.get_or_none(Message.message_id == message_id)
    if row is None:
        return None
    stored = row.response or {}
    if stored.get("request_hash") not in (None, _request_hash(body)):
        raise IdempotencyMismatch("this message_id was used for a different message",
                                  field="message_id", message_id=message_id)
    answer = dict(stored.get("answer") or {})
    answer["duplicate"] = True
    return answer


def may_send(who: Identity) -> bool:
    """Machine clients (OMS, ERP, the supplier portal...) and admins send messages."""
    return who.is_admin or (who.is_client and not who.is_auditor)


def deliver(who: Identity, body: dict, *, config, clock=utcnow) -> tuple[int, dict]:
    """Deliver one message; returns (HTTP status, answer). See the module docstring."""
    if not may_send(who):
        raise Forbidden("only machine clients and admins send messages")
    name, message_id = body["name"], body["message_id"]
    correlation = dict(body.get("correlation") or {})
    data = dict(body.get("data") or {})
    stored = _replay(message_id, body)
    if stored is not None:
        return 200, stored
    candidates = waiting_instances(name, correlation)
    if len(candidates) > 1:
        raise Conflict(f"{len(candidates)} instances wait for message {name!r} with this "
                       "correlation; add correlation values that tell them apart",
                       instances=candidates[:20], message=name)
    if not candidates:
        # The same message_id may have been delivered between the replay check and the lookup
        # (it took the only waiting catch): then it is a duplicate, not a stray message.
        stored = _replay(message_id, body)
        if stored is not None:
            return 200, stored
        started = _start_by_message(who, body, config=config, clock=clock)
        if started is not None:
            return started
        raise NoWaitingInstance(f"no instance waits for message {name!r} with correlation "
                                f"{correlation_key(correlation)}; it was not stored, send it "
                                "again when the process waits for it",
                                message=name, correlation=correlation)
    return _deliver_to(who, candidates[0], body, name, message_id, correlation, data,
                       config=config, clock=clock)


def _deliver_to(who, instance_id, body, name, message_id, correlation, data, *, config, clock):
    from . import instances       # instances.save imports this module
    row = Instance.get_by_id(instance_id)
    case = Case.get_by_id(row.case_id)
    inst, run = instances.load(row, clock=clock, script_cpu_seconds=config.script_cpu_seconds)
    # The engine matches the catch's correlation keys against the payload, so they travel in it.
    payload = {**data, **correlation}
    inst.deliver_message(name, payload)
    answer = {"message_id": message_id, "name": name, "status": "delivered",
              "case_id": case.id, "instance_id": row.id, "duplicate": False}
    received = Event("message.received", who.name, case.id, row.id,
                     {"message_id": message_id, "name": name, "correlation": correlation,
                      "data": data})
    try:
        with atomic():
            Message.create(message_id=message_id, name=name, correlation=correlation, data=data,
                           instance=row.id, received_at=clock(),
                           response={"request_hash": _request_hash(body), "answer": answer})
            instances.save(case, inst, run, actor=who.name, row=row, extra_events=[received])
    except peewee.IntegrityError:
        # The same message_id committed concurrently: answer what that delivery answered.
        stored = _replay(message_id, body)
        if stored is not None:
            return 200, stored
        raise
    answer["case_status"] = Case.get_by_id(case.id).status
    return 202, answer


def _start_by_message(who, body, *, config, clock):
    """Start a case from a message start event, when a deployed process has one for the name."""
    from . import definitions
    name = body["name"]
    for row in definitions.latest_all("bpmn"):
        starts = (row.meta or {}).get("message_starts") or []
        if name in starts:
            return _start_case(who, row, body, config=config, clock=clock)
    return None


def _start_case(who, definition, body, *, config, clock):
    name, message_id = body["name"], body["message_id"]
    correlation = dict(body.get("correlation") or {})
    data = {**dict(body.get("data") or {}), **correlation}
    from . import casetypes, definitions, instances
    casetypes.validate(definitions.case_type(definition.key).schema, data, what="data")
    # The new instance waits at its message start event; the message then starts it moving.
    inst, run = instances.start(definition, {}, clock=clock,
                                script_cpu_seconds=config.script_cpu_seconds)
    inst.deliver_message(name, data)
    try:
        with atomic():
            case = Case.create(type=definition.key, definition=definition, submitted_by=who.name,
                               data=to_jsonable(data), external_ref=None)
            submitted = Event("case.submitted", who.name, case.id, None,
                              {"type": definition.key, "definition_version": definition.version,
                               "message": name, "message_id": message_id})
            audit.append([submitted])
            row = instances.save(case, inst, run, actor=who.name, definition=definition)
            answer = {"message_id": message_id, "name": name, "status": "started",
                      "case_id": case.id, "instance_id": row.id, "duplicate": False,
                      "case_status": case.status}
            Message.create(message_id=message_id, name=name, correlation=correlation,
                           data=dict(body.get("data") or {}), instance=row.id,
                           received_at=clock(),
                           response={"request_hash": _request_hash(body), "answer": answer})
    except peewee.IntegrityError:
        stored = _replay(message_id, body)
        if stored is not None:
            return 200, stored
        raise
    return 201, answer


__all__ = ["NoWaitingInstance", "correlation_key", "deliver", "may_send", "sync_subscriptions",
           "waiting_instances"]
