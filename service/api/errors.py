"""problem+json at the API edge: three handlers (ours, werkzeug's, and a logged 500 fallback)."""
from __future__ import annotations

import logging

import peewee
from flask import Flask, g, jsonify
from werkzeug.exceptions import HTTPException

from ..errors import Conflict, OmniflowError
from . import limits, observability

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def problem(body: dict, status: int):
    """The problem+json answer; every one carries the request's id (``request_id``)."""
    body = {**body, "request_id": g.get("request_id") or observability.request_id_from(None)}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    return response


def init_app(app: Flask) -> None:
    # The edge checks of every request live beside its error handlers: both turn what a client
    # sends into problem+json before a view or a driver can fail on it.
    limits.init_app(app)

    @app.errorhandler(OmniflowError)
    def _ours(exc: OmniflowError):
        return problem(exc.to_problem(), exc.status)

    @app.errorhandler(HTTPException)
    def _werkzeug(exc: HTTPException):
        body = {"type": f"/problems/http-{exc.code}", "title": exc.name, "status": exc.code,
                "detail": exc.description}
        data = getattr(exc, "data", None)    # webargs/marshmallow validation messages
        if isinstance(data, dict) and "messages" in data:
            body["type"], body["title"] = "/problems/validation-failed", "Validation failed"
            body["errors"] = data["messages"]
            fields = _first_field(data["messages"])
            if fields:
                body["field"] = fields
                body["detail"] = f"{fields}: {_first_message(data['messages'])}"
        return problem(body, exc.code or 500)

    @app.errorhandler(peewee.IntegrityError)
    def _integrity(exc):
        log.info("integrity conflict", extra={"error": str(exc)})
        return _ours(Conflict("the request conflicts with a concurrent change; retry it"))

    @app.errorhandler(Exception)
    def _fallback(exc: Exception):
        log.exception("unhandled error")
        return problem({"type": "/problems/internal", "title": "Internal error", "status": 500,
                        "detail": "an unexpected error occurred; it has been logged"}, 500)


def _first_field(messages, prefix=""):
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key in ("json", "query", "form", "files", "headers"):
                return _first_field(value, prefix)
            path = f"{prefix}.{key}" if prefix else str(key)
            inner = _first_field(value, path) if isinstance(value, dict) else None
            return inner or path
    return prefix or None


def _first_message(messages):
    while isinstance(messages, dict) and messages:
        messages = next(iter(messages.values()))
    if isinstance(messages, list) and messages:
        return str(messages[0])
    return str(messages)
