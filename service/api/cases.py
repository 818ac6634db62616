"""/api/v1/cases: submit, list, read, timeline, cancel."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..usecases import cases
from .auth import current
from .context import clock_of, config

blp = Blueprint("cases", __name__, url_prefix="/api/v1/cases",
                description="Cases: submit an exception, follow it, cancel it")


class CaseSubmitSchema(Schema):
    type = fields.String(required=True, validate=validate.Length(1, 200),
                         metadata={"description": "The case type: a deployed process id"})
    data = fields.Dict(load_default=dict, metadata={"description": "Case data (see the case type's schema)"})
    external_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class CaseListQuery(Schema):
    type = fields.String()
    status = fields.String()
    external_ref = fields.String()
    cursor = fields.String()
    limit = fields.Integer(validate=validate.Range(1, 200))


class CancelSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class TaskSummary(Schema):
    id = fields.Integer()
    name = fields.String()
    status = fields.String()
    candidate_groups = fields.List(fields.String())
    assignee = fields.String(allow_none=True)
    due_at = fields.String(allow_none=True)


class CaseSchema(Schema):
    id = fields.Integer()
    type = fields.String()
    status = fields.String()
    priority = fields.String(allow_none=True)
    score = fields.Float(allow_none=True)
    external_ref = fields.String(allow_none=True)
    submitted_by = fields.String()
    data = fields.Dict()
    created_at = fields.String()
    tasks = fields.List(fields.Nested(TaskSummary))


@blp.route("", methods=["POST"])
@blp.arguments(CaseSubmitSchema, location="json")
@blp.response(201, CaseSchema)
def submit(body):
    """Submit a case; the process runs to its first wait state before this answers."""
    cfg = config()
    status, response = cases.submit(current(), body,
                                    idempotency_key=request.headers.get("Idempotency-Key"),
                                    config=cfg, **clock_of(cfg))
    return response, status


@blp.route("", methods=["GET"])
@blp.arguments(CaseListQuery, location="query")
def listing(query):
    """Cases visible to the caller, newest first (keyset pagination with `next`)."""
    return cases.listing(current(), **query)


@blp.route("/<int:case_id>", methods=["GET"])
def read(case_id):
    """A case with its open tasks, decision records and incidents."""
    return cases.view(current(), case_id)


@blp.route("/<int:case_id>/timeline", methods=["GET"])
def timeline(case_id):
    """Every audit event of the case, in order."""
    return cases.timeline(current(), case_id)


@blp.route("/<int:case_id>/cancel", methods=["POST"])
@blp.arguments(CancelSchema, location="json")
def cancel(body, case_id):
    """Cancel a case (reason required; restricted to the case type's cancel groups)."""
    cfg = config()
    return cases.cancel(current(), case_id, body["reason"], config=cfg, **clock_of(cfg))
