"""Signing in to the pages: passwords into a session cookie, and setting passwords.

API tokens stay for machines (and scripts); people use the pages with a password. A sign-in,
a sign-out and a password change are audited; a failed sign-in is not (the audit chain is not a
place an attacker may fill), the caller only learns "name or password is wrong".
"""
from __future__ import annotations

from ..errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from ..policy import Identity
from ..policy.passwords import set_password as store_password
from ..policy.passwords import verify
from ..policy.sessions import (LIFETIME, Session, close_session, csrf_matches, find_session,
                               open_session)
from ..store import User
from .unit_of_work import UnitOfWork


def sign_in(name: str, password: str) -> tuple[str, Session]:
    """(cookie value, session) for a person's name and password; 401 in words otherwise."""
    user = User.get_or_none(User.name == (name or "").strip())
    if user is not None and user.is_client:
        user = None          # machine clients authenticate with their token, not a password
    uow = UnitOfWork(user.name if user else "anonymous")
    with uow.writing():
        if not verify(user, password):
            raise Unauthorized("the name or the password is wrong")
        token, session = open_session(user)
        uow.record("user.signed_in", user=user.name, via="password")
    return token, session


def session_of(token: str | None) -> Session | None:
    """The live session behind a cookie value, or None."""
    return find_session(token)


def csrf_ok(session: Session, sent: str | None) -> bool:
    return csrf_matches(session, sent)


def sign_out(token: str | None, who: Identity | None) -> None:
    uow = UnitOfWork(who.name if who else "anonymous")
    with uow.writing():
        close_session(token)
        if who is not None:
            uow.record("user.signed_out", user=who.name)


def set_password(who: Identity | None, name: str, password: str, *,
                 current_password: str | None = None) -> dict:
    """Set ``name``'s password. Admins set anyone's; a person changes their own by giving the
    current one; ``who=None`` is the command line (whoever runs it holds the database)."""
    user = User.get_or_none(User.name == name)
    if user is None:
        raise NotFound(f"no user {name!r}", field="name")
    if user.is_client:
        raise ValidationFailed(f"{name!r} is a machine client: it signs in with its token",
                               field="name")
    if who is not None and not who.is_admin:
        if who.name != name:
            raise Forbidden("setting another user's password needs the admin role")
        if not verify(user, current_password or ""):
            raise ValidationFailed("the current password is wrong", field="current_password")
    uow = UnitOfWork(who.name if who else "cli")
    with uow.writing():
        store_password(user, password)
        uow.record("user.password_set", user=name)
    return {"name": name, "password_set": True}


__all__ = ["LIFETIME", "csrf_ok", "session_of", "set_password", "sign_in", "sign_out"]
