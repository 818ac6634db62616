"""Every request: a request id, one JSON access-log line, and its latency in ``/metrics``.

The request id is the caller's ``X-Request-Id`` when it is a sane token (a proxy's or a
client's, so one id follows a request through several systems), else a new one; it is sent
back in the ``X-Request-Id`` header, carried by every problem+json body (``request_id``) and
by every log line written while the request runs (``service.cli.logs`` reads it from here).
"""
from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from flask import Flask, g, request

from ..telemetry import HTTP_LATENCY

HEADER = "X-Request-Id"
_SANE = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
CURRENT = contextvars.ContextVar("omniflow_request_id", default=None)
access = logging.getLogger("omniflow.access")


def request_id_from(incoming: str | None) -> str:
    """The caller's id when it is a sane token, else a new one."""
    if incoming and _SANE.match(incoming):
        return incoming
    return uuid.uuid4().hex


def current_id() -> str | None:
    return CURRENT.get()


def init_app(app: Flask) -> None:
    """Call first in the factory: the id and the clock must exist before authentication can
    refuse the request."""
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_end)
    app.teardown_request(_forget)


def _begin():
    g.request_id = request_id_from(request.headers.get(HEADER))
    g.started = time.perf_counter()
    CURRENT.set(g.request_id)


def _end(response):
    rid = g.get("request_id") or request_id_from(None)
    response.headers[HEADER] = rid
    started = g.get("started")
    elapsed = time.perf_counter() - started if started is not None else 0.0
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    HTTP_LATENCY.labels(request.method, route, str(response.status_code)).observe(elapsed)
    identity = g.get("identity")
    access.info("request", extra={
        "request_id": rid, "method": request.method, "route": route, "path": request.path,
        "status": response.status_code, "duration_ms": round(elapsed * 1000, 2),
        "user": getattr(identity, "name", None)})
    return response


def _forget(exc):
    CURRENT.set(None)


__all__ = ["CURRENT", "HEADER", "current_id", "init_app", "request_id_from"]
