"""Signing in and out of the pages, and the session a page request carries.

Sign-in is a plain HTML form (it works without JavaScript). Its own CSRF defence is a
double-submit token: the form page sets a random value in a SameSite=Strict, HttpOnly cookie
and in a hidden field, and the POST must carry both, equal. After sign-in the session cookie
(HttpOnly, SameSite=Strict, Secure over HTTPS) carries the session; its CSRF token is in each
page for the scripts (``X-CSRF-Token``) and in the sign-out form.
"""
from __future__ import annotations

import hmac
import secrets
from functools import wraps
from urllib.parse import quote, urlsplit

from flask import current_app, redirect, render_template, request

from ..api.auth import SESSION_COOKIE
from ..errors import Unauthorized, ValidationFailed
from ..usecases import sessions
from .blueprint import bp, secured

SIGNIN_COOKIE = "omniflow_signin"
HOME = "/ui/inbox"


def _cookie(response, name, value, *, max_age):
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="Strict",
                        secure=request.is_secure, path="/")


def current_session():
    return sessions.session_of(request.cookies.get(SESSION_COOKIE))


def signed_in(view):
    """A page for signed-in people; others go to the sign-in form and come back after it."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        session = current_session()
        if session is None:
            return redirect(f"/ui/sign-in?next={quote(request.full_path.rstrip('?'))}")
        return view(session, *args, **kwargs)
    return wrapper


def _safe_next(target: str | None) -> str:
    """Only a path of this site (no scheme, no host, no '//'): no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return HOME
    parts = urlsplit(target)
    return HOME if parts.scheme or parts.netloc or "\\" in target else target


def _form(error: str | None = None, name: str = "", status: int = 200):
    token = secrets.token_urlsafe(24)
    html = render_template("sign_in.html", title="Sign in", error=error, name=name,
                           signin_token=token, next=_safe_next(request.values.get("next")))
    response = secured(current_app.make_response((html, status)))
    _cookie(response, SIGNIN_COOKIE, token, max_age=3600)
    return response


@bp.get("/ui/sign-in")
def sign_in_form():
    if current_session() is not None:
        return redirect(_safe_next(request.args.get("next")))
    return _form()


@bp.post("/ui/sign-in")
def sign_in():
    sent, expected = request.form.get("signin_token", ""), request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not hmac.compare_digest(sent, expected):
        return _form("The sign-in form expired; please try again.", status=400)
    name = request.form.get("name", "")
    try:
        token, _ = sessions.sign_in(name, request.form.get("password", ""))
    except (Unauthorized, ValidationFailed):
        return _form("That name and password do not match.", name=name, status=401)
    response = redirect(_safe_next(request.form.get("next")), code=303)
    _cookie(response, SESSION_COOKIE, token, max_age=int(sessions.LIFETIME.total_seconds()))
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    return response


@bp.post("/ui/sign-out")
def sign_out():
    session = current_session()
    if session is not None and sessions.csrf_ok(session, request.form.get("csrf_token")):
        sessions.sign_out(request.cookies.get(SESSION_COOKIE), session.identity)
    response = redirect("/ui/sign-in", code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
