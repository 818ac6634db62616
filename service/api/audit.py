"""/api/v1/audit: read the trail and verify the hash chain."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from .. import audit, cases, pagination
from ..errors import Forbidden
from ..store import AuditEvent
from .auth import current
from .limits import MAX_ID, Cursor

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit",
                description="The append-only, hash-chained audit trail")


class AuditQuery(Schema):
    case = fields.Integer(validate=validate.Range(1, MAX_ID),
                          metadata={"description": "Only this case's events"})
    kind = fields.String(validate=validate.Length(1, 100))
    cursor = fields.String(validate=Cursor(pagination.ID))
    limit = fields.Integer(validate=validate.Range(1, pagination.MAX_LIMIT))


@blp.route("", methods=["GET"])
@blp.arguments(AuditQuery, location="query")
def listing(args):
    """Events in order. `?case=ID` for one case (anyone who can see the case); all needs auditor."""
    who = current()
    case_id = args.get("case")
    limit = pagination.clamp(args.get("limit"))
    after = pagination.decode(args.get("cursor"), pagination.ID) or 0
    query = AuditEvent.select().where(AuditEvent.seq > int(after))
    if case_id is not None:
        cases.get(who, case_id)              # 404 unless visible
        query = query.where(AuditEvent.case_id == case_id)
    elif not (who.is_auditor or who.is_admin):
        raise Forbidden("reading the whole audit trail needs the auditor role")
    if args.get("kind"):
        query = query.where(AuditEvent.kind == args["kind"])
    rows = list(query.order_by(AuditEvent.seq).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor,
                       "case_id": e.case_id, "instance_id": e.instance_id, "kind": e.kind,
                       "detail": e.detail, "prev_hash": e.prev_hash, "hash": e.hash}
                      for e in rows],
            "next": pagination.encode(rows[-1].seq) if more else None}


@blp.route("/verify", methods=["GET"])
def verify():
    """Walk the whole chain; report the first bad sequence number."""
    who = current()
    if not (who.is_auditor or who.is_admin):
        raise Forbidden("verifying the audit trail needs the auditor role")
    result = audit.verify()
    return {"ok": result.ok, "checked": result.checked, "first_bad_seq": result.first_bad_seq,
            "reason": result.reason}
