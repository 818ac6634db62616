"""/api/v1/tasks: the inbox and its actions."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..usecases import tasks
from .auth import current
from .context import clock_of, config

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks",
                description="The inbox: claim, unclaim, delegate and complete human tasks")


class TaskListQuery(Schema):
    case_type = fields.String()
    group = fields.String()
    overdue = fields.Boolean(load_default=False)
    mine = fields.Boolean(load_default=False)
    status = fields.String(validate=validate.OneOf(["open", "claimed", "completed", "cancelled"]))
    cursor = fields.String()
    limit = fields.Integer(validate=validate.Range(1, 200))


class CompleteSchema(Schema):
    data = fields.Dict(load_default=dict,
                       metadata={"description": "Values of the task's form fields, and only those"})


class DelegateSchema(Schema):
    to = fields.String(required=True, validate=validate.Length(1, 120))
    reason = fields.String(load_default=None, allow_none=True)


@blp.route("", methods=["GET"])
@blp.arguments(TaskListQuery, location="query")
def listing(query):
    """Tasks of my groups or assigned to me (all for admins), sorted by due time."""
    return tasks.listing(current(), **query)


@blp.route("/<int:task_id>", methods=["GET"])
def read(task_id):
    """A task with its form and the case context."""
    return tasks.detail(current(), task_id)


@blp.route("/<int:task_id>/claim", methods=["POST"])
def claim(task_id):
    return tasks.claim(current(), task_id)


@blp.route("/<int:task_id>/unclaim", methods=["POST"])
def unclaim(task_id):
    return tasks.unclaim(current(), task_id)


@blp.route("/<int:task_id>/delegate", methods=["POST"])
@blp.arguments(DelegateSchema, location="json")
def delegate(body, task_id):
    return tasks.delegate(current(), task_id, body["to"], body.get("reason"), config=config())


@blp.route("/<int:task_id>/complete", methods=["POST"])
@blp.arguments(CompleteSchema, location="json")
def complete(body, task_id):
    """Complete a task: form-validated, four-eyes and authority checked, audited."""
    cfg = config()
    return tasks.complete(current(), task_id, body["data"], config=cfg, **clock_of(cfg))
