"""/api/v1/signals: machine clients send store, order and supplier events; the rules consumer
reads them from the signal log (see ``service.signals``)."""
from __future__ import annotations

import peewee
from flask import current_app, request
from flask_smorest import Blueprint

from .. import idempotency, signals
from ..errors import BadRequest, Forbidden, NotFound
from ..store import Signal, atomic
from ..views import iso
from .auth import current

blp = Blueprint("signals", __name__, url_prefix="/api/v1/signals",
                description="Signals: events in from ERP, OMS, POS and suppliers")


def _may_send(who) -> bool:
    return who.is_client or who.is_admin


@blp.route("", methods=["POST"])
@blp.response(202)
def receive():
    """Store one signal or a JSON array of up to 1,000; a repeated signal id is accepted once.

    Body: ``{"id", "type", "at", "data": {...}}`` or a list of them. Every accepted signal is
    stored before this answers; detection runs asynchronously (each signal's outcome is on
    ``GET /signals/{id}``). Errors name the item index and field (``[3].data.sku``).
    """
    who = current()
    if not _may_send(who):
        raise Forbidden("sending signals needs a machine client (oms, pos, erp) or admin")
    payload = request.get_json(silent=True)
    if payload is None:
        raise BadRequest("the body must be JSON: one signal object or an array of them",
                         field="body")
    key = request.headers.get("Idempotency-Key")
    idempotency.check_key(key)
    stored = idempotency.replay(who, "signals", key, payload)
    if stored:
        return stored[1], stored[0]
    envelopes = signals.parse(payload)
    try:
        with atomic():
            response = signals.store(envelopes, current_app.extensions["omniflow"]).as_response()
            if key:
                idempotency.remember(idempotency.claim(who, "signals", key, payload), 202,
                                     response)
    except peewee.IntegrityError:
        stored = idempotency.replay(who, "signals", key, payload)
        if stored:
            return stored[1], stored[0]
        raise
    return response, 202


@blp.route("/<path:signal_id>", methods=["GET"])
def read(signal_id):
    """One signal with its processing outcome (status pending until the consumer has run)."""
    who = current()
    if not (_may_send(who) or who.is_auditor):
        raise Forbidden("reading signals needs a machine client, auditor or admin")
    row = Signal.get_or_none(Signal.id == signal_id)
    if row is None:
        raise NotFound(f"signal {signal_id!r} not found", signal=signal_id)
    return {"id": row.id, "type": row.type, "at": iso(row.at), "data": row.data,
            "partition": row.partition, "seq": row.seq, "received_at": iso(row.received_at),
            "status": row.status, "outcome": row.outcome, "case_id": row.case_id}
