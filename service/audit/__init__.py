"""The append-only, hash-chained audit log.

Every row stores ``prev_hash`` and ``hash = sha256(prev_hash + canonical JSON of the row)``.
Appends lock the single ``audit_head`` row (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN
IMMEDIATE`` already serializes writers), so with many writers the chain has no forks or gaps —
a sequence would hand out numbers outside the transaction and leave gaps on rollback.
Appends must run inside the caller's transaction: the event commits with the change it records.
Nothing updates or deletes audit rows.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..store import AuditEvent, AuditHead, database, for_update, joined, to_jsonable, utcnow
from ..store import rows as store_rows
from ..store.fields import json_default


@dataclass(frozen=True)
class Event:
    kind: str
    actor: str
    case_id: int | None = None
    instance_id: int | None = None
    detail: dict = field(default_factory=dict)


def canonical(row: dict) -> str:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=json_default)


def row_hash(prev_hash: str, seq: int, at, actor, case_id, instance_id, kind, detail) -> str:
    body = canonical({"seq": seq, "at": at.isoformat(), "actor": actor, "case_id": case_id,
                      "instance_id": instance_id, "kind": kind, "detail": detail})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def append(events: Iterable[Event]) -> list[int]:
    """Append events to the chain in the current transaction; returns their sequence numbers."""
    events = list(events)
    if not events:
        return []
    with joined():
        head = for_update(AuditHead.select().where(AuditHead.id == 1)).get()
        seq, prev = head.seq, head.hash
        now = utcnow()  # one timestamp per batch
        rows = []
        for ev in events:
            seq += 1
            detail = to_jsonable(ev.detail)
            digest = row_hash(prev, seq, now, ev.actor, ev.case_id, ev.instance_id, ev.kind, detail)
            rows.append({"seq": seq, "at": now, "actor": ev.actor, "case_id": ev.case_id,
                         "instance_id": ev.instance_id, "kind": ev.kind, "detail": detail,
                         "prev_hash": prev, "hash": digest})
            prev = digest
        store_rows.insert_many(AuditEvent, rows)
        AuditHead.update(seq=seq, hash=prev).where(AuditHead.id == 1).execute()
    return [r["seq"] for r in rows]


def record(kind: str, *, actor: str, case_id=None, instance_id=None, **detail: Any) -> int:
    """Append one event (see :func:`append`)."""
    return append([Event(kind, actor, case_id, instance_id, detail)])[0]


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


def verify(batch: int = 2000) -> Verification:
    """Walk the chain in order and report the first row whose link or hash does not hold."""
    prev, expected_seq, checked = "0" * 64, 1, 0
    last = 0
    while True:
        rows = list(AuditEvent.select().where(AuditEvent.seq > last)
                    .order_by(AuditEvent.seq).limit(batch))
        if not rows:
            break
        for r in rows:
            if r.seq != expected_seq:
                return Verification(False, checked, expected_seq, "sequence gap")
            if r.prev_hash != prev:
                return Verification(False, checked, r.seq, "prev_hash does not match the row before")
            digest = row_hash(r.prev_hash, r.seq, r.at, r.actor, r.case_id, r.instance_id,
                              r.kind, r.detail)
            if digest != r.hash:
                return Verification(False, checked, r.seq, "hash does not match the row's content")
            prev, expected_seq, checked, last = r.hash, r.seq + 1, checked + 1, r.seq
    head = AuditHead.get_by_id(1)
    if head.seq != last or head.hash != prev:
        return Verification(False, checked, last + 1, "head does not match the last row")
    return Verification(True, checked)


__all__ = ["Event", "append", "record", "verify", "Verification", "database"]
