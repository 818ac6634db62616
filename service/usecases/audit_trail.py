"""The audit trail: read it (one case's, or all of it for auditors), verify it, sign
checkpoints of it.

Verification has two sides (see ``service/audit``): the service checks links, hashes and
every row's MAC with its audit key; an auditor checks links and hashes and the signed
checkpoints with the public key alone (``server.py audit verify --public-key ...``).
"""
from __future__ import annotations

from pathlib import Path

from .. import audit
from ..audit import checkpoints
from ..errors import Forbidden, NotFound
from ..policy import Identity
from ..store import AuditEvent, AuditHead, paging, utcnow
from .cases import require_visible


def _event(e: AuditEvent) -> dict:
    return {"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "case_id": e.case_id,
            "instance_id": e.instance_id, "kind": e.kind, "detail": e.detail,
            "prev_hash": e.prev_hash, "hash": e.hash}


def listing(who: Identity, *, case: int | None = None, kind: str | None = None,
            cursor: str | None = None, limit: int | None = None) -> dict:
    """Events in order. One case's for anyone who can see it; all of them needs auditor."""
    query = AuditEvent.select()
    if case is not None:
        require_visible(who, case)
        query = query.where(AuditEvent.case_id == case)
    elif not (who.is_auditor or who.is_admin):
        raise Forbidden("reading the whole audit trail needs the auditor role")
    if kind:
        query = query.where(AuditEvent.kind == kind)
    return paging.by_id(query, AuditEvent.seq, cursor=cursor, limit=limit, render=_event,
                        newest_first=False)


def _require_auditor(who: Identity, doing: str) -> None:
    if not (who.is_auditor or who.is_admin):
        raise Forbidden(f"{doing} needs the auditor role")


def _hash_at(seq: int) -> str | None:
    row = AuditEvent.select(AuditEvent.hash).where(AuditEvent.seq == seq).first()
    return row.hash if row else None


def check(*, public_pem: str | None, checkpoint_file: str | None, key=None,
          incremental: bool = False) -> dict:
    """Verify the chain (with MACs when ``key`` is given) and the signed checkpoints in
    ``checkpoint_file`` with ``public_pem``; ``incremental`` starts at the last checkpoint."""
    try:
        signed = checkpoints.read(checkpoint_file) if checkpoint_file else []
    except ValueError as exc:
        return {"ok": False, "checked": 0, "first_bad_seq": None, "reason": str(exc),
                "macs_checked": False, "checkpoints": None}
    report = (checkpoints.verify(signed, public_pem, _hash_at)
              if public_pem and signed else None)
    start = None
    if incremental and report is not None and report.ok and signed:
        start = (signed[-1].seq, signed[-1].hash)
    chain = audit.verify(key=key, start=start)
    ok = chain.ok and (report is None or report.ok)
    first_bad = chain.first_bad_seq if not chain.ok else (
        report.first_bad_seq if report is not None and not report.ok else None)
    reason = chain.reason if not chain.ok else (
        report.reason if report is not None and not report.ok else None)
    return {"ok": ok, "checked": chain.checked, "first_bad_seq": first_bad, "reason": reason,
            "macs_checked": chain.macs_checked, "from_seq": start[0] if start else None,
            "checkpoints": None if report is None else {
                "ok": report.ok, "checked": report.checked, "last_seq": report.last_seq}}


def verify(who: Identity, *, config, incremental: bool = False) -> dict:
    """The service's verification: links, hashes, every row's MAC, and its signed checkpoints
    (``incremental``: only the rows after the last valid checkpoint)."""
    _require_auditor(who, "verifying the audit trail")
    key = audit.current_key()
    return check(public_pem=key.public_pem() if key else None,
                 checkpoint_file=config.audit_checkpoint_file, key=key,
                 incremental=incremental)


def signed_checkpoints(who: Identity, *, config) -> dict:
    """The signed checkpoints and the public key to check them with (copy both elsewhere)."""
    _require_auditor(who, "reading the audit checkpoints")
    key = audit.current_key()
    if key is None:
        raise NotFound("this service has no audit key")
    items = [vars(c) for c in checkpoints.read(config.audit_checkpoint_file)]
    return {"public_key": key.public_pem(), "key_id": key.key_id, "items": items, "next": None}


def write_checkpoint(config) -> checkpoints.Checkpoint | None:
    """Sign the head now if it moved since the last checkpoint (the worker and the CLI)."""
    key = audit.current_key()
    if key is None:
        return None
    head = AuditHead.get_or_none(AuditHead.id == 1)
    if head is None or head.seq == 0:
        return None
    if head.mac_from is not None and head.mac != audit.head_mac(key, head.seq, head.hash):
        return None           # never sign a head this service did not write
    path = Path(config.audit_checkpoint_file)
    previous = checkpoints.last(path)
    if previous is not None and previous.seq == head.seq:
        return None
    checkpoint = checkpoints.sign(key, head.seq, head.hash, utcnow().isoformat())
    checkpoints.append(path, checkpoint)
    return checkpoint


__all__ = ["check", "listing", "signed_checkpoints", "verify", "write_checkpoint"]
