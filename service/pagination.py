"""Keyset pagination: ``{"items": [...], "next": cursor}`` with an opaque cursor."""
from __future__ import annotations

import base64
import json

from .errors import BadRequest

MAX_LIMIT = 200


def encode(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode(cursor: str | None):
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("the cursor is not valid", field="cursor") from exc


def clamp(limit) -> int:
    try:
        value = int(limit) if limit is not None else 50
    except (TypeError, ValueError) as exc:
        raise BadRequest("limit must be a whole number", field="limit") from exc
    if not 1 <= value <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    return value
