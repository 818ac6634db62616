"""The append-only, hash-chained audit log, anchored by the audit key.

Every row stores ``prev_hash`` and ``hash = sha256(prev_hash + canonical JSON of the row)``,
and, once the service has an audit key (:mod:`.keys`), ``mac = HMAC(key, hash)``; the head
row carries the MAC of ``(seq, hash)``. An append checks the head's MAC first, so a chain
changed outside the service is never extended as if it were ours: the unit of work fails with
``AuditUnavailable`` until an auditor has looked.
Appends lock the single ``audit_head`` row (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN
IMMEDIATE`` already serializes writers), so with many writers the chain has no forks or gaps —
a sequence would hand out numbers outside the transaction and leave gaps on rollback.
Appends must run inside the caller's transaction: the event commits with the change it records.
Nothing updates or deletes audit rows; the database refuses it too (migration 4: triggers, and
on PostgreSQL the privileges revoked).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from peewee import SQL

from ..errors import AuditUnavailable
from ..store import AuditEvent, AuditHead, for_update, joined, utcnow
from ..store import rows as store_rows
from ..store.fields import dumps, json_default
from .keys import AuditKey

_key: AuditKey | None = None


def use_key(key: AuditKey | None) -> None:
    """The key this process MACs and checks the chain with (set once at start)."""
    global _key
    _key = key


def current_key() -> AuditKey | None:
    return _key


def head_mac(key: AuditKey, seq: int, digest: str) -> str:
    return key.mac(f"head:{seq}:{digest}")


@dataclass(frozen=True)
class Event:
    kind: str
    actor: str
    case_id: int | None = None
    instance_id: int | None = None
    detail: dict = field(default_factory=dict)


# json.dumps's own string encoder for ensure_ascii=False (the C one where there is one).
_encode_string = json.encoder.encode_basestring


def canonical(row: dict) -> str:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=json_default)


def _scalar(value) -> str:
    """``canonical`` of a string, an int or None, without a whole ``json.dumps`` call."""
    if value is None:
        return "null"
    if type(value) is str:
        return _encode_string(value)
    if type(value) is int:
        return int.__repr__(value)
    return canonical(value)


def row_hash(prev_hash: str, seq: int, at, actor, case_id, instance_id, kind, detail) -> str:
    return _hash_with_detail_text(prev_hash, seq, at, actor, case_id, instance_id, kind,
                                  canonical(detail))


def _hash_with_detail_text(prev_hash: str, seq: int, at, actor, case_id, instance_id, kind,
                           detail_text: str) -> str:
    """:func:`row_hash` given the canonical text of ``detail``, so an append encodes each
    detail once, for the hash and for the row. The body is, byte for byte, ``canonical`` of
    ``{"seq", "at", "actor", "case_id", "instance_id", "kind", "detail"}`` (keys sorted)."""
    body = (f'{{"actor":{_scalar(actor)},"at":{_scalar(at.isoformat())},'
            f'"case_id":{_scalar(case_id)},"detail":{detail_text},'
            f'"instance_id":{_scalar(instance_id)},"kind":{_scalar(kind)},'
            f'"seq":{_scalar(seq)}}}')
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


# The head is read (and locked) and moved by every unit of work: built once.
_HEAD = store_rows.Prepared(lambda id_: for_update(AuditHead.select().where(AuditHead.id == id_)),
                            1)
_MOVE_HEAD = store_rows.Prepared(
    lambda seq, digest, mac, mac_from, id_: AuditHead.update(
        seq=seq, hash=digest, mac=mac, mac_from=mac_from).where(AuditHead.id == id_),
    -2, "h", "m", -3, 1)


def append(events: Iterable[Event]) -> list[int]:
    """Append events to the chain in the current transaction; returns their sequence numbers."""
    events = list(events)
    if not events:
        return []
    key = _key
    with joined():
        head = _HEAD.first(1)
        if head is None:
            raise AuditUnavailable("the audit chain has no head row: the trail was changed "
                                   "outside the service")
        seq, prev, mac_from = head.seq, head.hash, head.mac_from
        if mac_from is not None:
            if key is None:
                raise AuditUnavailable("this process has no audit key, and the audit chain is "
                                       "MAC'd: set OMNIFLOW_AUDIT_KEY_FILE")
            if head.mac != head_mac(key, seq, prev):
                raise AuditUnavailable("the audit chain's head is not the one this service "
                                       "wrote: the trail was changed outside the service, and "
                                       "nothing is appended to it until an auditor verifies it")
        elif key is not None:
            mac_from = seq + 1          # the first row this key vouches for
        now = utcnow()  # one timestamp per batch
        rows = []
        for ev in events:
            seq += 1
            # The row keeps the detail's own key order (pages show it as given); the hash
            # reads the same JSON in canonical form. Encoded once for each.
            stored = dumps(ev.detail)
            digest = _hash_with_detail_text(prev, seq, now, ev.actor, ev.case_id,
                                            ev.instance_id, ev.kind,
                                            canonical(json.loads(stored)))
            detail = store_rows.Encoded(stored)
            rows.append({"seq": seq, "at": now, "actor": ev.actor, "case_id": ev.case_id,
                         "instance_id": ev.instance_id, "kind": ev.kind, "detail": detail,
                         "prev_hash": prev, "hash": digest,
                         "mac": key.mac(digest) if key is not None else None})
            prev = digest
        # The last writes of a unit of work: on PostgreSQL they go with its COMMIT.
        store_rows.insert_many(AuditEvent, rows, deferred=True)
        _MOVE_HEAD.defer(seq, prev, head_mac(key, seq, prev) if key is not None else None,
                         mac_from, 1)
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
    macs_checked: bool = False


_COLUMNS = (AuditEvent.seq, AuditEvent.at, AuditEvent.actor, AuditEvent.case_id,
            AuditEvent.instance_id, AuditEvent.kind, SQL('"detail" AS "raw_detail"'),
            AuditEvent.prev_hash,
            AuditEvent.hash, AuditEvent.mac)


def verify(*, key: AuditKey | None = None, start: tuple[int, str] | None = None,
           batch: int = 2000) -> Verification:
    """Walk the chain in order and report the first row whose link, hash or MAC does not hold.

    ``key`` checks the MACs too (the service's own verification); without it, links and
    hashes only (an auditor's, who checks the signed checkpoints instead, see
    :mod:`.checkpoints`). ``start=(seq, hash)`` verifies incrementally from a checkpoint
    already verified. Never raises on a damaged trail: a missing head, a row whose detail is
    not JSON, an unreadable row are all findings.
    """
    head = AuditHead.get_or_none(AuditHead.id == 1)
    if head is None:
        return Verification(False, 0, 1, "the head row is missing")
    prev, expected, last = ("0" * 64, 1, 0) if start is None else (start[1], start[0] + 1,
                                                                    start[0])
    if start is not None and start[0] > 0:
        row = AuditEvent.select(AuditEvent.hash).where(AuditEvent.seq == start[0]).first()
        if row is None or row.hash != start[1]:
            return Verification(False, 0, start[0], "the row at the checkpoint is not the one "
                                "the checkpoint signed")
    checking_macs = key is not None and head.mac_from is not None
    checked = 0
    while True:
        rows = list(AuditEvent.select(*_COLUMNS).where(AuditEvent.seq > last)
                    .order_by(AuditEvent.seq).limit(batch).tuples())
        if not rows:
            break
        for seq, at, actor, case_id, instance_id, kind, raw, prev_hash, digest, mac in rows:
            if seq != expected:
                return Verification(False, checked, expected, "sequence gap", checking_macs)
            if prev_hash != prev:
                return Verification(False, checked, seq, "prev_hash does not match the row "
                                    "before", checking_macs)
            try:
                detail = json.loads(raw) if raw is not None else None
                computed = row_hash(prev_hash, seq, at, actor, case_id, instance_id, kind,
                                    detail)
            except (ValueError, TypeError, AttributeError):
                return Verification(False, checked, seq, "the row cannot be read (its detail "
                                    "is not JSON, or a column is damaged)", checking_macs)
            if computed != digest:
                return Verification(False, checked, seq, "hash does not match the row's content",
                                    checking_macs)
            if checking_macs and seq >= head.mac_from and mac != key.mac(digest):
                return Verification(False, checked, seq, "the row's MAC does not match: it was "
                                    "not written by this service", checking_macs)
            prev, expected, checked, last = digest, seq + 1, checked + 1, seq
    if head.seq != last or head.hash != prev:
        return Verification(False, checked, last + 1, "head does not match the last row",
                            checking_macs)
    if checking_macs and head.mac != head_mac(key, head.seq, head.hash):
        return Verification(False, checked, head.seq, "the head's MAC does not match",
                            checking_macs)
    return Verification(True, checked, macs_checked=checking_macs)


__all__ = ["Event", "Verification", "append", "canonical", "current_key", "head_mac", "record",
           "row_hash", "use_key", "verify"]
