"""Bearer-token authentication for every ``/api/v1`` request, and role guards for views."""
from __future__ import annotations

from functools import wraps

from flask import Flask, g, request

from ..errors import Forbidden, Unauthorized
from ..usecases import accounts

PUBLIC = ("/api/v1/openapi.json", "/api/v1/health")


def init_app(app: Flask) -> None:
    @app.before_request
    def _authenticate():
        g.identity = None
        if not request.path.startswith("/api/v1") or request.path in PUBLIC:
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("send 'Authorization: Bearer <token>'")
        g.identity = accounts.who_is(token.strip())
        return None


def current():
    """The caller's identity (401 when the request carried none)."""
    if g.get("identity") is None:
        raise Unauthorized("authentication required")
    return g.identity


def require(predicate, message: str):
    """Guard a view: ``@require(lambda who: who.is_analyst, "deploying needs the analyst role")``."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not predicate(current()):
                raise Forbidden(message)
            return view(*args, **kwargs)
        return wrapper
    return decorator
