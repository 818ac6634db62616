"""/api/v1/signals: machine clients send store, order and supplier events; the rules consumer
reads them from the signal log (see ``service.signals``)."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from ..usecases import signals
from .auth import current
from .context import config

blp = Blueprint("signals", __name__, url_prefix="/api/v1/signals",
                description="Signals: events in from ERP, OMS, POS and suppliers")


@blp.route("", methods=["POST"])
@blp.response(202)
def receive():
    """Store one signal or a JSON array of up to 1,000; a repeated signal id is accepted once.

    Body: ``{"id", "type", "at", "data": {...}}`` or a list of them. Every accepted signal is
    stored before this answers; detection runs asynchronously (each signal's outcome is on
    ``GET /signals/{id}``). Errors name the item index and field (``[3].data.sku``).
    """
    status, answer = signals.receive(current(), request.get_json(silent=True),
                                     idempotency_key=request.headers.get("Idempotency-Key"),
                                     config=config())
    return answer, status


@blp.route("/<path:signal_id>", methods=["GET"])
def read(signal_id):
    """One signal with its processing outcome (status pending until the consumer has run)."""
    return signals.read(current(), signal_id)
