"""Camunda's error shape under /engine-rest: ``{"type": ..., "message": ..., "code": ...}``.

Existing clients read ``type`` and ``message``; we keep our own status codes where Camunda's
would hide a cause (409 for a concurrent change), and Camunda's where clients rely on them
(400 for input that does not validate, where /api/v1 answers 422). ``field`` and ``element``
travel along when we know them.
"""
from __future__ import annotations

import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

from ...errors import (Conflict, Forbidden, NotFound, OmniflowError, PayloadTooLarge,
                       StaleInstance, Unauthorized, ValidationFailed)
from ..limits import MAX_ID
from .schemas import CamundaError

log = logging.getLogger(__name__)


def documented(blp, texts: dict):
    """``@errors(400, 404)`` for views of ``blp``: declares those answers in the OpenAPI
    document with Camunda's error shape, described by ``texts[code]``."""
    def errors(*codes):
        def decorate(view):
            for code in codes:
                view = blp.alt_response(code, schema=CamundaError, description=texts[code])(view)
            return view
        return decorate
    return errors


def task_id(raw: str, missing: str) -> int:
    """The task id of a ``/{id}`` path segment, or a 404 when it cannot name a row.

    ``missing`` is that 404's wording, a format string given the (shortened) id, so user tasks
    and external tasks each keep their own message."""
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        # Camunda answers an unknown id with 404 too.
        raise NotFound(missing.format(raw[:40]), task=raw[:40])
    return int(raw)


def _type_of(exc: OmniflowError) -> str:
    if isinstance(exc.extra.get("camunda_type"), str):     # the use case knows Camunda's name
        return exc.extra["camunda_type"]
    if isinstance(exc, Unauthorized):
        return "AuthenticationException"
    if isinstance(exc, Forbidden):
        return "AuthorizationException"
    if isinstance(exc, StaleInstance):
        return "OptimisticLockingException"
    if isinstance(exc, (NotFound, PayloadTooLarge)):
        return "InvalidRequestException"
    if isinstance(exc, Conflict):
        return "BadUserRequestException"
    if isinstance(exc, ValidationFailed):
        return "InvalidRequestException"
    if exc.status < 500:
        return "InvalidRequestException"
    return "ProcessEngineException"


def render(status: int, kind: str, message: str, **extra):
    body = {"type": kind, "message": message, "code": 0}
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="omniflow", Bearer'
    return response


def camunda_error(exc: OmniflowError):
    # A body that does not validate is a 400 in Camunda; 422 stays ours under /api/v1.
    status = 400 if exc.status == 422 else exc.status
    extra = {k: exc.extra.get(k) for k in ("field", "element", "file", "line")}
    return render(status, _type_of(exc), exc.detail, **extra)


def http_error(exc: HTTPException):
    data = getattr(exc, "data", None)
    if isinstance(data, dict) and "messages" in data:      # webargs validation
        messages = data["messages"].get("json", data["messages"])
        field = next(iter(messages), None) if isinstance(messages, dict) else None
        text = messages.get(field) if field else messages
        return render(400, "InvalidRequestException", f"{field}: {text}" if field else str(text),
                      field=field)
    status = exc.code or 500
    if status == 413:
        return render(413, "InvalidRequestException", "the request body is too large")
    kind = "InvalidRequestException" if status < 500 else "RestException"
    return render(status, kind, exc.description or exc.name)


def install(blp) -> None:
    """Answer every error raised under ``blp`` in Camunda's shape."""
    blp.register_error_handler(OmniflowError, camunda_error)
    blp.register_error_handler(HTTPException, http_error)

    @blp.errorhandler(Exception)
    def _fallback(exc):
        log.exception("unhandled error under /engine-rest")
        return render(500, "ProcessEngineException",
                      "an unexpected error occurred; it has been logged")
