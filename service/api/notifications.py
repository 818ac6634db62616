"""/api/v1/users/me/notifications: my email address and the notifications I opted out of."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..usecases import notifications
from .auth import current

KINDS = ["task_assigned", "escalated", "sla_breached"]

blp = Blueprint("notifications", __name__, url_prefix="/api/v1/users/me/notifications",
                description="Notifications by email and webhook: task assigned to me or my "
                            "group, escalated, SLA breached; per-user opt-out")


class Preferences(Schema):
    email = fields.String(load_default=None, allow_none=True, validate=validate.Length(3, 320),
                          metadata={"description": "Where email notifications go (none: no email)"})
    muted = fields.List(fields.String(validate=validate.OneOf(KINDS)), load_default=list,
                        metadata={"description": "Kinds I opted out of, on every channel"})


class PreferencesAnswer(Preferences):
    kinds = fields.List(fields.String(), metadata={"description": "Every kind there is"})


class NotificationProblem(Schema):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    field = fields.String()


@blp.route("", methods=["GET"])
@blp.response(200, PreferencesAnswer)
@blp.alt_response(401, schema=NotificationProblem, description="No valid bearer token")
def read():
    """My notification preferences."""
    return notifications.preferences(current())


@blp.route("", methods=["PUT"])
@blp.arguments(Preferences, location="json")
@blp.response(200, PreferencesAnswer)
@blp.alt_response(401, schema=NotificationProblem, description="No valid bearer token")
@blp.alt_response(422, schema=NotificationProblem, description="A bad address or an unknown kind (names "
                                                   "the field)")
def update(body):
    """Set my email address and the kinds I opted out of (audited)."""
    return notifications.set_preferences(current(), email=body.get("email"),
                                         muted=body["muted"])
