"""/api/v1/decisions/{key}/evaluate: evaluate a deployed decision with typed JSON inputs."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..errors import ValidationFailed
from ..usecases import decisions
from .auth import current
from .limits import MAX_ID


class EvaluateQuery(Schema):
    version = fields.Integer(validate=validate.Range(1, MAX_ID),
                             metadata={"description": "A version of the DMN definition"})


blp = Blueprint("decisions", __name__, url_prefix="/api/v1/decisions",
                description="Evaluate deployed DMN decisions")


@blp.route("/<key>/evaluate", methods=["POST"])
@blp.arguments(EvaluateQuery, location="query")
def evaluate(args, key):
    """Evaluate decision `key` (newest version, or `?version=N` of its DMN definition).

    JSON has no dates or durations: `{"type": "date", "value": "2026-01-31"}` gives one (also
    `time`, `datetime`, `duration`, `number`).
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("send {\"inputs\": {...}}", field="inputs")
    return decisions.evaluate(current(), key, body.get("inputs", {}), version=args.get("version"))
