"""Who calls /engine-rest: a bearer token, or Basic auth with the user name and its token.

Camunda workers and tools are configured with either (``auth_bearer`` or ``auth_basic`` in the
Python clients, a token or user/password in Camunda Modeler); both resolve to the same identity
as our own API, so permissions and audit are the same.
"""
from __future__ import annotations

import base64
import binascii

from flask import g, request

from ...errors import Unauthorized
from ...usecases import accounts

PUBLIC = ("/engine-rest/version",)


def authenticate() -> None:
    """``before_request`` of every /engine-rest blueprint."""
    g.identity = None
    if request.path in PUBLIC:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme == "bearer" and credentials:
        g.identity = accounts.who_is(credentials)
        return
    if scheme == "basic" and credentials:
        try:
            user, _, token = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("Basic credentials are not valid base64 of user:token") from None
        who = accounts.who_is(token)
        if who.name != user:
            raise Unauthorized("the user name does not match the token")
        g.identity = who
        return
    raise Unauthorized("send 'Authorization: Bearer <token>' or Basic auth with your user name "
                       "and token")


def current():
    if g.get("identity") is None:
        raise Unauthorized("authentication required")
    return g.identity
