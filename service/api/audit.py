"""/api/v1/audit: read the trail and verify the hash chain."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..usecases import audit_trail
from .auth import current
from .context import config
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


class VerifyQuery(Schema):
    incremental = fields.Boolean(load_default=False, metadata={
        "description": "Verify only the rows after the last valid signed checkpoint"})


@blp.route("/verify", methods=["GET"])
@blp.arguments(VerifyQuery, location="query")
def verify(args):
    """Walk the chain (links, hashes, every row's MAC) and the signed checkpoints; report the
    first bad sequence number and why."""
    return audit_trail.verify(current(), config=config(), incremental=args["incremental"])


@blp.route("/checkpoints", methods=["GET"])
def checkpoints():
    """The signed checkpoints and the public key an auditor verifies them with."""
    return audit_trail.signed_checkpoints(current(), config=config())
