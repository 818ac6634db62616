"""The problem+json body (RFC 9457) as an OpenAPI schema, and a decorator that documents a
view's error answers with it, so the contract says what a client really gets."""
from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields

PROBLEM = "application/problem+json"

DESCRIPTIONS = {
    400: "The request is malformed",
    401: "No valid bearer token or session",
    403: "Not allowed for the caller's role (or a change without the session's CSRF token)",
    404: "Not found, or not visible to the caller",
    409: "Conflicts with the current state",
    413: "Too large",
    422: "Invalid input; `field`, `file` or `element` names what is at fault",
}


class ProblemSchema(Schema):
    """Other members may appear (RFC 9457 extensions): ``known``, ``limit``, ``model``..."""

    class Meta:
        unknown = INCLUDE
    type = fields.String(metadata={"description": "Stable identifier, e.g. /problems/not-found"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String(metadata={"description": "What went wrong, in words"})
    field = fields.String(metadata={"description": "The request field at fault"})
    element = fields.String(metadata={"description": "The BPMN/DMN element at fault"})
    file = fields.String(metadata={"description": "The file at fault"})
    line = fields.Integer(metadata={"description": "The line at fault in that file"})
    errors = fields.Dict(metadata={"description": "Validation messages by field"})
    context = fields.Dict(metadata={"description": "The state of the object at fault"})
    request_id = fields.String(metadata={"description": "The request's id (also the "
                                                        "X-Request-Id header), for the logs"})


def documented_errors(blp, *codes: int, **descriptions: str):
    """``@documented_errors(blp, 401, 404)``: add problem+json answers to a view's document.
    A keyword ``e404="..."`` replaces the default description of that status."""
    def decorator(view):
        for code in reversed(codes):
            text = descriptions.get(f"e{code}", DESCRIPTIONS[code])
            view = blp.alt_response(code, schema=ProblemSchema, description=text,
                                    content_type=PROBLEM)(view)
        return view
    return decorator


__all__ = ["PROBLEM", "ProblemSchema", "documented_errors"]
