"""Browser sessions: the cookie the pages sign in with, and its CSRF token.

The cookie carries 32 random bytes; the table keeps only their SHA-256 (like API tokens), so a
copy of the database signs nobody in. Each session has its own CSRF token, which the pages send
in the ``X-CSRF-Token`` header (or a form field) with every request that changes something:
another site can make the browser send the cookie, but cannot read the token.
"""
from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

from ..store import User, WebSession, utcnow
from .identity import Identity, hash_token, identity_of

LIFETIME = dt.timedelta(hours=12)


@dataclass(frozen=True)
class Session:
    identity: Identity
    csrf_token: str
    expires_at: dt.datetime


def open_session(user: User, *, now: dt.datetime | None = None) -> tuple[str, Session]:
    """A new session for ``user``: (the cookie value, shown once, and the session)."""
    now = now or utcnow()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + LIFETIME
    WebSession.create(user=user, token_hash=hash_token(token), csrf_token=csrf, created_at=now,
                      expires_at=expires)
    WebSession.delete().where(WebSession.expires_at < now).execute()   # tidy as we go
    return token, Session(identity_of(user), csrf, expires)


def find_session(token: str | None, *, now: dt.datetime | None = None) -> Session | None:
    """The live session behind a cookie value, or None (unknown, expired, user disabled)."""
    if not token:
        return None
    row = (WebSession.select(WebSession, User).join(User)
           .where(WebSession.token_hash == hash_token(token)).first())
    if row is None or row.expires_at <= (now or utcnow()) or not row.user.active:
        return None
    return Session(identity_of(row.user), row.csrf_token, row.expires_at)


def close_session(token: str | None) -> None:
    if token:
        WebSession.delete().where(WebSession.token_hash == hash_token(token)).execute()


def csrf_matches(session: Session, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(session.csrf_token, sent)


__all__ = ["LIFETIME", "Session", "close_session", "csrf_matches", "find_session", "open_session"]
