"""Authentication for every ``/api/v1`` request, and role guards for views.

Machines (and scripts) send ``Authorization: Bearer <token>``. The pages under ``/ui`` call the
same API with the session cookie their sign-in set (:mod:`service.usecases.sessions`); a request
that changes something must then also carry the session's CSRF token in ``X-CSRF-Token``, which
another site cannot read. A bearer header wins over a cookie.
"""
from __future__ import annotations

from functools import wraps

from flask import Flask, g, request

from ..errors import Forbidden, Unauthorized
from ..usecases import accounts, sessions

PUBLIC = ("/api/v1/openapi.json", "/api/v1/health")
SESSION_COOKIE = "omniflow_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def init_app(app: Flask) -> None:
    @app.before_request
    def _authenticate():
        g.identity = None
        if not request.path.startswith("/api/v1") or request.path in PUBLIC:
            return None
        header = request.headers.get("Authorization", "")
        if not header and request.cookies.get(SESSION_COOKIE):
            g.identity = _from_session()
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("send 'Authorization: Bearer <token>'")
        g.identity = accounts.who_is(token.strip())
        return None


def _from_session():
    session = sessions.session_of(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise Unauthorized("your session has ended; sign in again")
    if request.method not in SAFE_METHODS and not sessions.csrf_ok(
            session, request.headers.get(CSRF_HEADER)):
        raise Forbidden(f"a change from the pages needs the {CSRF_HEADER} header of the session")
    return session.identity


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
