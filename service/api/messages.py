"""/api/v1/messages: deliver a message to the process instance waiting for it."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..usecases import messages
from .auth import current
from .context import clock_of, config

blp = Blueprint("messages", __name__, url_prefix="/api/v1/messages",
                description="Messages from other systems to waiting processes (a supplier's "
                            "confirmation, a payment result), delivered once per message_id")


class MessageSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 200),
                         metadata={"description": "The BPMN message name the process waits for"})
    message_id = fields.String(required=True, validate=validate.Length(1, 200),
                               metadata={"description": "The sender's id: a repeated id is "
                                                        "delivered once"})
    correlation = fields.Dict(keys=fields.String(validate=validate.Length(1, 100)),
                              load_default=dict,
                              metadata={"description": "Values that pick the waiting instance, "
                                                       "e.g. {\"po_id\": \"PO-1\"}"})
    data = fields.Dict(load_default=dict,
                       metadata={"description": "The message payload, given to the process"})


class MessageAnswer(Schema):
    message_id = fields.String()
    name = fields.String()
    status = fields.String(metadata={"description": "delivered | started"})
    case_id = fields.Integer()
    instance_id = fields.Integer()
    case_status = fields.String()
    duplicate = fields.Boolean(metadata={"description": "true when this message_id was "
                                                        "delivered before (nothing moved)"})


@blp.route("", methods=["POST"])
@blp.arguments(MessageSchema, location="json")
@blp.response(202, MessageAnswer)
@blp.alt_response(200, schema=MessageAnswer, description="A repeated message_id: the first answer")
@blp.alt_response(201, schema=MessageAnswer, description="A message start event started a case")
@blp.alt_response(404, description="No instance waits for this message (it is not stored)")
@blp.alt_response(409, description="Several instances match the correlation, or the instance "
                                   "moved concurrently (send again)")
def deliver(body):
    """Deliver a message; 404 problem when no instance waits for it (no buffering)."""
    cfg = config()
    status, answer = messages.deliver(current(), body, config=cfg, **clock_of(cfg))
    return answer, status
