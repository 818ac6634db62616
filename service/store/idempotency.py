"""``Idempotency-Key``: the same key and body replay the first answer; another body is a 422.

Keys are per caller (``owner``, a user name) and per endpoint (``scope``). The key's row is
written with the answer inside the unit of work that did the request's work, so two concurrent
requests with one key collide on the unique index: the loser rolls back and replays the
winner's answer.
"""
from __future__ import annotations

import hashlib
import json

import peewee

from ..errors import IdempotencyMismatch, ValidationFailed
from .fields import to_jsonable
from .tables import Idempotency

MAX_KEY_LENGTH = 200


def check_key(key: str | None) -> None:
    if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH):
        raise ValidationFailed(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
                               field="Idempotency-Key")


def request_hash(body) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def replay(owner: str, scope: str, key: str | None, body):
    """The stored ``(status, answer)`` for a repeated key, or ``None`` for a new key."""
    if not key:
        return None
    row = Idempotency.get_or_none(Idempotency.owner == owner, Idempotency.scope == scope,
                                  Idempotency.key == key)
    if row is None:
        return None
    if row.request_hash != request_hash(body):
        raise IdempotencyMismatch("this Idempotency-Key was used with a different request body",
                                  key=key)
    return row.status_code, row.response


def store(owner: str, scope: str, key: str, body, status: int, answer) -> None:
    """Write the key's row with its answer, in the unit of work that produced the answer.

    A concurrent request with the same key collides on the unique index (on PostgreSQL it waits
    for the first to commit) and raises :data:`Collision`; it rolls back and replays.
    """
    Idempotency.create(owner=owner, scope=scope, key=key, request_hash=request_hash(body),
                       status_code=status, response=to_jsonable(answer))


Collision = peewee.IntegrityError
