"""The audit trail: read it (one case's, or all of it for auditors) and verify the chain."""
from __future__ import annotations

from .. import audit
from ..errors import Forbidden
from ..policy import Identity
from ..store import AuditEvent, paging
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


def verify(who: Identity) -> dict:
    """Walk the whole chain; report the first bad sequence number."""
    if not (who.is_auditor or who.is_admin):
        raise Forbidden("verifying the audit trail needs the auditor role")
    result = audit.verify()
    return {"ok": result.ok, "checked": result.checked, "first_bad_seq": result.first_bad_seq,
            "reason": result.reason}


__all__ = ["listing", "verify"]
