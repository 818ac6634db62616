"""``Idempotency-Key``: the same key and body replay the first answer; another body is a 422.

Keys are per caller and per endpoint (``scope``). The key's row is written inside the unit of
work that does the request's work, so two concurrent requests with one key collide on the
unique index: the loser rolls back and replays the winner's answer.
"""
from __future__ import annotations

import hashlib
import json

from .errors import IdempotencyMismatch, ValidationFailed
from .policy import Identity
from .store import Idempotency, to_jsonable

MAX_KEY_LENGTH = 200


def check_key(key: str | None) -> None:
    if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH):
        raise ValidationFailed(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
                               field="Idempotency-Key")


def request_hash(body) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def replay(who: Identity, scope: str, key: str | None, body):
    """The stored ``(status, answer)`` for a repeated key, or ``None`` for a new key."""
    if not key:
        return None
    row = Idempotency.get_or_none(Idempotency.owner == who.name, Idempotency.scope == scope,
                                  Idempotency.key == key)
    if row is None:
        return None
    if row.request_hash != request_hash(body):
        raise IdempotencyMismatch("this Idempotency-Key was used with a different request body",
                                  key=key)
    return row.status_code, row.response


def claim(who: Identity, scope: str, key: str, body) -> Idempotency:
    """Write the key's row first thing in the unit of work (PostgreSQL blocks a concurrent
    second request on the unique index here, before it does any work)."""
    return Idempotency.create(owner=who.name, scope=scope, key=key,
                              request_hash=request_hash(body))


def remember(row: Idempotency, status: int, answer) -> None:
    Idempotency.update(status_code=status, response=to_jsonable(answer)).where(
        Idempotency.id == row.id).execute()
