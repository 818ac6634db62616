"""/api/v1/audit: read the trail and verify the hash chain."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..usecases import audit_trail
from .auth import current
from .limits import MAX_ID

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit",
                description="The append-only, hash-chained audit trail")


class AuditQuery(Schema):
    case = fields.Integer(validate=validate.Range(1, MAX_ID),
                          metadata={"description": "Only this case's events"})
    kind = fields.String(validate=validate.Length(1, 100))
    cursor = fields.String()
    limit = fields.Integer(validate=validate.Range(1, 200))


@blp.route("", methods=["GET"])
@blp.arguments(AuditQuery, location="query")
def listing(args):
    """Events in order. `?case=ID` for one case (anyone who can see the case); all needs auditor."""
    return audit_trail.listing(current(), **args)


@blp.route("/verify", methods=["GET"])
def verify():
    """Walk the whole chain; report the first bad sequence number."""
    return audit_trail.verify(current())
