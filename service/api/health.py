"""``/healthz`` (the process answers) and ``/readyz`` (it can do its work), for load balancers
and orchestrators; public, outside ``/api/v1``, and in the OpenAPI document."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..usecases import health
from .context import config

blp = Blueprint("health", __name__, url_prefix="", description="Liveness and readiness")


class LiveSchema(Schema):
    status = fields.String(metadata={"description": "Always `ok` when the process answers"})


class CheckSchema(Schema):
    ok = fields.Boolean(required=True)
    detail = fields.String(metadata={"description": "Why the check failed"})
    version = fields.Integer(metadata={"description": "migrations: the schema's version"})
    expected = fields.Integer(metadata={"description": "migrations: the version this code needs"})
    last_seen_seconds_ago = fields.Float(metadata={"description": "worker: the newest heartbeat"})
    stale_after_seconds = fields.Float()
    loaded = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "models: name -> active version loaded"})
    missing = fields.Dict(keys=fields.String(), values=fields.String(),
                          metadata={"description": "models: name -> why it is not loaded"})


class ChecksSchema(Schema):
    database = fields.Nested(CheckSchema)
    migrations = fields.Nested(CheckSchema)
    worker = fields.Nested(CheckSchema)
    models = fields.Nested(CheckSchema)


class ReadySchema(Schema):
    status = fields.String(metadata={"description": "`ready` or `not ready`"})
    checks = fields.Nested(ChecksSchema)


@blp.route("/healthz", methods=["GET"])
@blp.response(200, LiveSchema)
def healthz():
    """Liveness: the process answers (no database access)."""
    return health.liveness()


@blp.route("/readyz", methods=["GET"])
@blp.response(200, ReadySchema, description="Ready: every check passed")
@blp.alt_response(503, schema=ReadySchema, description="Not ready: the failed checks say why")
def readyz():
    """Readiness: the database answers, its schema is current, a background worker ran a pass
    recently and the active risk models are loaded. 503 names the failed checks."""
    ready, body = health.readiness(config())
    return body, (200 if ready else 503)
