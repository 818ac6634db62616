"""/api/v1/incidents: failures that wait for a person, and their retry."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..usecases import incidents
from .auth import current
from .context import clock_of, config
from .limits import MAX_ID

blp = Blueprint("incidents", __name__, url_prefix="/api/v1/incidents",
                description="Incidents: a connector or process step that failed after its "
                            "retries; retry once the cause is fixed")


class IncidentQuery(Schema):
    status = fields.String(load_default="open",
                           validate=validate.OneOf(["open", "resolved", "all"]))
    case_id = fields.Integer(validate=validate.Range(1, MAX_ID))
    cursor = fields.String()
    limit = fields.Integer(validate=validate.Range(1, 200))


class IncidentSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    case_type = fields.String()
    case_status = fields.String()
    instance_id = fields.Integer()
    kind = fields.String(metadata={"description": "engine | outbox | timer"})
    element_id = fields.String(allow_none=True, metadata={"description": "The task at fault"})
    message = fields.String()
    status = fields.String(metadata={"description": "open | resolved"})
    job_id = fields.Integer(allow_none=True)
    created_at = fields.String()
    resolved_at = fields.String(allow_none=True)


@blp.route("", methods=["GET"])
@blp.arguments(IncidentQuery, location="query")
def listing(query):
    """Incidents of cases the caller may see, newest first (`status=open` by default)."""
    status = query.pop("status")
    return incidents.listing(current(), status=None if status == "all" else status, **query)


@blp.route("/<int:incident_id>", methods=["GET"])
@blp.response(200, IncidentSchema)
def read(incident_id):
    return incidents.read(current(), incident_id)


@blp.route("/<int:incident_id>/retry", methods=["POST"])
@blp.response(200, IncidentSchema)
def retry(incident_id):
    """Resume after the cause is fixed: rerun the failed task, or re-queue the delivery."""
    cfg = config()
    return incidents.retry(current(), incident_id, config=cfg, **clock_of(cfg))
