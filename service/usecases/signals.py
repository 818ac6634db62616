"""Signals: machine clients send store, order and supplier events; detection rules open cases.

Intake stores every accepted signal before it answers (idempotent by signal id, and by
``Idempotency-Key`` for a whole batch); the worker's :func:`run_rules` runs the analysts'
rulesets over the signal log and opens the cases they ask for through the one way to open a
case (:func:`service.usecases.cases.open_case`).
"""
from __future__ import annotations

from .. import signals
from ..errors import BadRequest, Forbidden, NotFound
from ..policy import Identity
from ..store import Signal, iso
from ..telemetry import SIGNALS
from .cases import case_definition, open_case
from .unit_of_work import IdempotentRequest, UnitOfWork

RULES_ACTOR = "rules"


def may_send(who: Identity) -> bool:
    return who.is_client or who.is_admin


def receive(who: Identity, payload, *, idempotency_key: str | None = None,
            config=None) -> tuple[int, dict]:
    """Store one signal or an array of up to 1,000; errors name the item index and field.

    With ``config.signals_url`` the signals are also published to JetStream before the
    transaction commits (see :func:`service.signals.store`)."""
    if not may_send(who):
        raise Forbidden("sending signals needs a machine client (oms, pos, erp) or admin")
    if payload is None:
        raise BadRequest("the body must be JSON: one signal object or an array of them",
                         field="body")
    uow = UnitOfWork(who.name, request=IdempotentRequest(who.name, "signals", idempotency_key,
                                                         payload))
    stored = uow.replayed()
    if stored:
        return stored
    envelopes = signals.parse(payload)
    with uow.writing():
        stored = signals.store(envelopes, config)
        uow.answer(202, stored.as_response())
    accepted = set(stored.accepted)
    for envelope in envelopes:
        if envelope.id in accepted:
            accepted.discard(envelope.id)
            SIGNALS.labels(envelope.type).inc()
    return uow.result


def read(who: Identity, signal_id: str) -> dict:
    """One signal with its processing outcome (pending until the rules consumer has run)."""
    if not (may_send(who) or who.is_auditor):
        raise Forbidden("reading signals needs a machine client, auditor or admin")
    row = Signal.get_or_none(Signal.id == signal_id)
    if row is None:
        raise NotFound(f"signal {signal_id!r} not found", signal=signal_id)
    return {"id": row.id, "type": row.type, "at": iso(row.at), "data": row.data,
            "partition": row.partition, "seq": row.seq, "received_at": iso(row.received_at),
            "status": row.status, "outcome": row.outcome, "case_id": row.case_id}


def run_rules(config, *, owner: str, now=None, limit: int = 20_000) -> int:
    """Run the detection rules over pending signals (the worker calls this every pass)."""

    def open_from_rule(case_type: str, data: dict, ref: str) -> int:
        uow = UnitOfWork(RULES_ACTOR, config=config)
        pending = open_case(uow, case_definition(case_type), data, submitted_by=RULES_ACTOR,
                            external_ref=ref)
        with uow.writing():      # a savepoint inside the consumer's batch transaction
            opened = pending.write()
        return opened.case.id

    return signals.run_pending(open_from_rule, owner=owner, now=now, limit=limit, config=config)


__all__ = ["may_send", "read", "receive", "run_rules"]
